//! `workshop compare` against the real stage binaries: the report says stage 2
//! is serial and stage 3 concurrent because it watched them be so, and these
//! tests would fail if a stage behaved otherwise or the tool said otherwise.

use std::io::Write;
use std::time::Duration;

use harness::command::run;

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

/// Runs `workshop compare` with `args` and returns its report (stdout).
fn compare(args: &[&str]) -> String {
    let ran = run(
        WORKSHOP,
        &[&["compare"][..], args].concat(),
        "",
        0,
        Duration::from_secs(120),
    );
    ran.stdout
}

/// The row of `stage` in the first Markdown table after `heading`.
fn row<'a>(report: &'a str, heading: &str, stage: &str) -> &'a str {
    let from = report
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in:\n{report}"));
    report[from..]
        .lines()
        .find(|line| line.starts_with(&format!("| `{stage}` |")))
        .unwrap_or_else(|| panic!("no row for {stage} in:\n{report}"))
}

/// What `stage` did in the timed scenarios, as the verdicts table says.
fn verdicts<'a>(report: &'a str, stage: &str) -> &'a str {
    row(report, "| stage | two clients |", stage)
}

/// The crowd figures of `stage`: served, in, unserved, failed, closed, ...
fn crowd(report: &str, stage: &str) -> Vec<String> {
    let row = row(report, "**a crowd of", stage);
    row.split('|')
        .skip(2)
        .map(|cell| cell.trim().to_string())
        .collect()
}

#[test]
fn compare_shows_stage2_serial_and_stage3_concurrent() {
    let args =
        "--stages stage1,stage2,stage3-concurrent --timeout 300ms --crowd 20 --format markdown";
    let report = compare(&args.split(' ').collect::<Vec<_>>());

    let stage1 = verdicts(&report, "stage1-listener");
    let stage2 = verdicts(&report, "stage2-accept-loop");
    let stage3 = verdicts(&report, "stage3-concurrent");
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

    // The crowd: stage 1 closes everyone, stage 2 serves its first client
    // and no other, stage 3 serves them all.
    let stage1 = crowd(&report, "stage1-listener");
    assert_eq!(
        [&stage1[0], &stage1[2], &stage1[4]],
        ["0 of 20", "20", "20"],
        "{report}"
    );
    let stage2 = crowd(&report, "stage2-accept-loop");
    assert_eq!(
        [&stage2[0], &stage2[1], &stage2[2]],
        ["1 of 20", "-", "19"],
        "{report}"
    );
    let stage3 = crowd(&report, "stage3-concurrent");
    assert_eq!([&stage3[0], &stage3[2]], ["20 of 20", "0"], "{report}");
    assert_ne!(stage3[1], "-", "how long serving took: {report}");

    for timeline in ["two clients", "an idle client", "a talking client"] {
        assert!(
            report.contains(&format!("**Timeline: {timeline}**")),
            "{report}"
        );
    }
}

#[test]
fn compare_shows_stage4_close_the_idle_client_and_keep_the_talking_one() {
    let args =
        "--stages stage3-concurrent,stage4-timeouts --timeout 300ms --crowd 10 --format markdown";
    let report = compare(&args.split(' ').collect::<Vec<_>>());
    let stage3 = verdicts(&report, "stage3-concurrent");
    let stage4 = verdicts(&report, "stage4-timeouts");

    assert!(
        stage3.contains("still open after 0.60s of silence"),
        "{stage3}"
    );
    // "closed after 0.30s of silence": not before the deadline, not long after.
    let after: f64 = stage4
        .split("closed after ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.3..0.6).contains(&after), "{stage4}");
    for row in [stage3, stage4] {
        assert!(row.contains("kept open for"), "{row}");
        assert!(row.contains("12 of 12 lines printed"), "{row}");
    }
}

/// A learner's exercise runs through the same scenarios beside the stage it
/// leads to, as the book says (`--stages stage3,exercise3`: `stage3` is
/// the course's stage 3, not its lessons): each has its row, and exercise 3
/// as it comes is stage 2's serial server. An exercise the learner has
/// written is left out, as the exercises' own tests leave it out.
#[test]
fn compare_runs_an_exercise_beside_the_stage_it_leads_to() {
    let exercise = workshop::exercises::ALL
        .iter()
        .find(|exercise| exercise.name == "exercise3-concurrent")
        .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    if !exercise.is_its_starter(root).unwrap() {
        // Straight to stderr, which libtest does not hold back from a test that passes.
        let note = "left out: exercise3-concurrent's files are not the starter";
        let _ = writeln!(std::io::stderr(), "{note}");
        return;
    }
    let args = "--stages stage3,exercise3 --timeout 100ms --crowd 1 --format markdown";
    let report = compare(&args.split(' ').collect::<Vec<_>>());

    let stage3 = verdicts(&report, "stage3-concurrent");
    let exercise3 = verdicts(&report, "exercise3-concurrent");
    assert!(
        stage3.contains("concurrent: B printed while A was still connected"),
        "{stage3}"
    );
    assert!(
        exercise3.contains("serial: B printed only after A left"),
        "{exercise3}"
    );
    for stage in ["stage3-concurrent", "exercise3-concurrent"] {
        assert_eq!(crowd(&report, stage)[0], "1 of 1", "{report}");
    }
}

/// In the text report's first timeline, stage 2's B waits to be accepted
/// (dots) until A has left, while stage 3 accepts B as it connects.
#[test]
fn the_text_timeline_shows_stage2_accept_b_only_after_a_left() {
    let notes = std::env::temp_dir().join(format!("workshop-notes-{}.md", std::process::id()));
    let notes_arg = notes.to_string_lossy().into_owned();
    let args = [
        "--stages",
        "stage2,stage3-concurrent",
        "--timeout",
        "300ms",
        "--crowd",
        "5",
        "--markdown-to",
    ];
    let report = compare(&[&args[..], &[notes_arg.as_str()]].concat());
    // The same run, also as Markdown for notes.
    let markdown = std::fs::read_to_string(&notes).unwrap();
    std::fs::remove_file(&notes).unwrap();
    assert!(
        markdown.contains("| `stage2-accept-loop` | serial: B printed only after A left"),
        "{markdown}"
    );
    let timeline = &report[report
        .find("timeline: two clients")
        .expect("a two-clients timeline")..];
    let rows: Vec<&str> = timeline.lines().skip(1).take(6).collect();
    assert_eq!(rows[0].trim(), "stage2-accept-loop");
    assert_eq!(rows[3].trim(), "stage3-concurrent");
    let marks = |row: &str| {
        row.trim_start()
            .split_once("  ")
            .map(|(_, marks)| marks.to_string())
            .unwrap()
    };
    let (stage2_a, stage2_b, stage3_b) = (marks(rows[1]), marks(rows[2]), marks(rows[5]));

    let a_left = stage2_a.find('|').expect("A leaves");
    let b_accepted = stage2_b.find('-').expect("B is accepted");
    assert!(
        stage2_b.trim_start().starts_with('.'),
        "B waits to be accepted:\n{timeline}"
    );
    assert!(
        b_accepted >= a_left,
        "B accepted only once A left:\n{timeline}"
    );
    // Stage 3 accepts B at once: within a column or two of the drawing, and
    // long before A leaves.
    let stage3_a = marks(rows[4]);
    let stage3_b_accepted = stage3_b.find(['-', '#']).expect("B is accepted");
    let stage3_b_connected = stage3_b.find(|mark| mark != ' ').unwrap();
    assert!(
        stage3_b_accepted <= stage3_b_connected + 2,
        "stage 3 accepts B at once:\n{timeline}"
    );
    assert!(
        stage3_b_accepted < stage3_a.find('|').unwrap(),
        "{timeline}"
    );
    for row in [&stage2_a, &stage2_b, &stage3_b] {
        assert!(row.contains('#') && row.contains('|'), "{timeline}");
    }
}

#[test]
fn an_unknown_stage_is_refused_with_the_list_of_stages() {
    let ran = run(
        WORKSHOP,
        &["compare", "--stages", "stage9"],
        "",
        1,
        Duration::from_secs(120),
    );
    let stderr = ran.stderr;
    assert!(
        stderr.contains("error: no stage is named \"stage9\"; the stages are: stage1-listener, "),
        "{stderr}"
    );
}

/// A Markdown file that cannot be written is refused at once, in one line,
/// before a single stage is built or run, not after the whole comparison.
#[test]
fn a_markdown_file_that_cannot_be_written_is_refused_before_the_run() {
    let nowhere = std::env::temp_dir()
        .join(format!("workshop-no-such-folder-{}", std::process::id()))
        .join("notes.md");
    let ran = run(
        WORKSHOP,
        &["compare", "--markdown-to", nowhere.to_str().unwrap()],
        "",
        1,
        Duration::from_secs(30),
    );
    let stderr = ran.stderr;
    assert!(
        stderr.starts_with(&format!("error: cannot write {}: ", nowhere.display())),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
}

/// A comparison stopped with Ctrl-C leaves no notes file where there was
/// none: the Markdown is written once the run is done, not before.
#[cfg(unix)]
#[test]
fn an_interrupted_compare_leaves_no_notes_file_behind() {
    let notes = std::env::temp_dir().join(format!(
        "workshop-interrupted-notes-{}.md",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&notes);
    let mut command = std::process::Command::new(WORKSHOP);
    command
        .args(["compare", "--stages", "stage3-concurrent", "--markdown-to"])
        .arg(&notes);
    let mut compare = harness::workshop::Running::start(command);
    compare.wait_for_line("workshop: comparing stage3-concurrent", 1);
    compare.interrupt();
    assert!(!notes.exists(), "{} was left behind", notes.display());
}

/// A crowd the open-file limit cannot hold is refused at once, in one
/// line that says what it needs and what the limit is, before a single
/// stage is built or run.
#[cfg(unix)]
#[test]
fn a_crowd_larger_than_the_open_file_limit_is_refused_before_the_run() {
    let ran = harness::workshop::run_with_open_file_limit(
        WORKSHOP,
        &["compare", "--crowd", "1000"],
        256,
        256,
        1,
    );
    assert_eq!(
        ran.stderr.lines().collect::<Vec<_>>(),
        [
            "error: a crowd of 1000 needs about 1064 open files, and this process may open 256 (ulimit -n): ask for a smaller --crowd, or raise the hard limit (ulimit -Hn)"
        ]
    );
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
}
