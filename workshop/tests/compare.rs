//! `workshop compare` against the real stage binaries: the table says stage 2
//! is serial and stage 3 concurrent because it watched them be so, and these
//! tests would fail if a stage behaved otherwise or the tool said otherwise.

use assert_cmd::Command;
use std::time::Duration;

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

/// Runs `workshop compare` with `args` and returns its report (stdout).
fn compare(args: &[&str]) -> String {
    let output = Command::new(WORKSHOP)
        .arg("compare")
        .args(args)
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(output.stdout).unwrap()
}

/// The Markdown table row of `stage`.
fn row<'a>(report: &'a str, stage: &str) -> &'a str {
    report
        .lines()
        .find(|line| line.starts_with(&format!("| `{stage}` |")))
        .unwrap_or_else(|| panic!("no row for {stage} in:\n{report}"))
}

#[test]
fn compare_shows_stage2_serial_and_stage3_concurrent() {
    let report = compare(&[
        "--stages",
        "stage1,stage2,stage3",
        "--timeout",
        "300ms",
        "--crowd",
        "20",
        "--format",
        "markdown",
    ]);
    let stage1 = row(&report, "stage1-listener");
    let stage2 = row(&report, "stage2-accept-loop");
    let stage3 = row(&report, "stage3-concurrent");

    assert!(
        stage1.contains("closes each connection at once; prints nothing"),
        "{stage1}"
    );
    assert!(
        stage2.contains("serial: B printed only after A left"),
        "{stage2}"
    );
    assert!(
        stage3.contains("concurrent: B printed while A was still connected"),
        "{stage3}"
    );

    // The crowd: stage 2 serves its first client and no other.
    assert!(
        stage1.contains("0 of 20 served: each closed at once"),
        "{stage1}"
    );
    assert!(
        stage2.contains("1 of 20 served; 19 more connected but were not served"),
        "{stage2}"
    );
    assert!(stage3.contains("20 of 20 served in "), "{stage3}");

    for timeline in ["two clients", "an idle client", "a talking client"] {
        assert!(
            report.contains(&format!("**Timeline: {timeline}**")),
            "{report}"
        );
    }
}

#[test]
fn compare_shows_stage4_close_the_idle_client_and_keep_the_talking_one() {
    let report = compare(&[
        "--stages",
        "stage3,stage4",
        "--timeout",
        "300ms",
        "--crowd",
        "10",
        "--format",
        "markdown",
    ]);
    let stage3 = row(&report, "stage3-concurrent");
    let stage4 = row(&report, "stage4-timeouts");

    assert!(
        stage3.contains("still open after 0.60s of silence"),
        "{stage3}"
    );
    assert!(stage4.contains("closed after 0.3"), "{stage4}");
    for row in [stage3, stage4] {
        assert!(row.contains("kept open for"), "{row}");
        assert!(row.contains("12 of 12 lines printed"), "{row}");
    }
}

#[test]
fn the_text_report_draws_a_timeline_per_stage() {
    let report = compare(&[
        "--stages",
        "stage2,stage3",
        "--timeout",
        "300ms",
        "--crowd",
        "5",
    ]);
    let timeline = &report[report
        .find("timeline: two clients")
        .expect("a two-clients timeline")..];
    let rows: Vec<&str> = timeline.lines().skip(1).take(6).collect();
    assert_eq!(rows[0].trim(), "stage2-accept-loop");
    assert_eq!(rows[3].trim(), "stage3-concurrent");
    // Each client row holds marks of the server printing and of leaving.
    for client in [rows[1], rows[2], rows[4], rows[5]] {
        assert!(client.contains('#') && client.contains('|'), "{timeline}");
    }
}

#[test]
fn an_unknown_stage_is_refused_with_the_list_of_stages() {
    let output = Command::new(WORKSHOP)
        .args(["compare", "--stages", "stage9"])
        .timeout(Duration::from_secs(120))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("error: no stage is named \"stage9\"; the stages are: stage1-listener, "),
        "{stderr}"
    );
}
