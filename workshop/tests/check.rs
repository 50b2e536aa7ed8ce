//! `workshop check` judges a server by a stage's checks: the stages pass
//! their own, a serial server fails stage 3's quickly and says why, and Go's
//! programs pass stages 3 and 4 where `go` is installed.

mod support;

use std::io::Write;
use std::time::Duration;

use harness::command::{Ran, run};

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

/// A check answers within 10 seconds, also when the server is wrong.
const ANSWERS_WITHIN: Duration = Duration::from_secs(10);

/// Runs `workshop` with `args`, which must end with exit status `code`
/// within [`ANSWERS_WITHIN`].
fn workshop(args: &[&str], code: i32) -> Ran {
    run(WORKSHOP, args, "", code, ANSWERS_WITHIN)
}

/// Stage 2 serves one client at a time: judged by stage 3's checks, it
/// fails `serves clients together`, and the report says what the server
/// did and what that means, in a learner's words, within 10 seconds.
#[test]
fn a_serial_server_fails_stage_3_within_10_seconds_saying_why() {
    let stage2 = support::stage("stage2-accept-loop");
    let ran = workshop(&["check", "--bin", &stage2, "--stage", "3"], 1);
    let report = ran.stdout;
    assert!(
        report.contains("passed  copies what a client sends to stderr"),
        "{report}"
    );
    assert!(
        report.contains("FAILED  serves clients together"),
        "{report}"
    );
    assert!(
        report.contains(r#"what happened: waited for "B: hello\n" on stderr"#),
        "{report}"
    );
    assert!(
        report.contains("what it means: B's bytes did not appear while A was connected: your accept loop waits for each client"),
        "{report}"
    );
    assert!(
        ran.stderr.contains("error: 1 of stage 3's checks failed"),
        "{}",
        ran.stderr
    );
}

/// Stage 1 copies nothing: judged as stage 3, both checks fail, and the
/// second is not said to be about serving clients together, which it
/// could not see: it says to make the copying pass first.
#[test]
fn a_server_that_copies_nothing_is_told_to_copy_first() {
    let stage1 = support::stage("stage1-listener");
    let ran = workshop(&["check", "--bin", &stage1, "--stage", "3"], 1);
    let report = ran.stdout;
    let together = report
        .split("FAILED  serves clients together")
        .nth(1)
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        together.contains(
            "what it means: a client's bytes never reached stderr, and this check needs them to"
        ) && !together.contains("your accept loop waits for each client"),
        "{report}"
    );
}

/// Stage 3 serves clients together: judged as stage 2, which serves them
/// one at a time, it fails, and says so.
#[test]
fn a_concurrent_server_fails_stage_2() {
    let stage3 = support::stage("stage3-concurrent");
    let ran = workshop(&["check", "--bin", &stage3, "--stage", "2"], 1);
    assert!(
        ran.stdout.contains("FAILED  serves one client at a time"),
        "{}",
        ran.stdout
    );
}

/// A server with no read deadline, judged as stage 4 with Go's 5 s
/// deadline, is told within 10 seconds: the checks run all at once.
#[test]
fn a_server_without_a_deadline_is_told_within_10_seconds() {
    let stage3 = support::stage("stage3-concurrent");
    let ran = workshop(
        &[
            "check",
            "--bin",
            &stage3,
            "--stage",
            "4",
            "--deadline",
            "5s",
        ],
        1,
    );
    assert!(
        ran.stdout.contains("FAILED  closes a silent client"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("passed  keeps a client that talks"),
        "{}",
        ran.stdout
    );
}

/// A program that is no server (it exits at once), or no program at all,
/// is told so in one line, once, not as a failure of every check.
#[cfg(unix)]
#[test]
fn a_program_that_is_no_server_is_told_so_in_one_line() {
    for (bin, says) in [
        (
            "/bin/true",
            "/bin/true does not start a server: waited for the server to listen on 127.0.0.1:",
        ),
        ("./no-such-server", "./no-such-server is not a program"),
    ] {
        let ran = workshop(&["check", "--bin", bin, "--stage", "3"], 1);
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
        assert!(
            ran.stderr.starts_with(&format!("error: {says}")),
            "{}",
            ran.stderr
        );
        assert!(!ran.stdout.contains("FAILED"), "{}", ran.stdout);
    }
}

/// A server that listens on a port of its own choosing, not the one
/// `--addr` gives it, is told where it said it listens, in one line.
#[cfg(unix)] // the server here is a line of `sh`
#[test]
fn a_server_on_a_fixed_port_is_told_to_listen_on_the_one_it_is_given() {
    let ran = workshop(
        &[
            "check",
            "--bin",
            "/bin/sh",
            "--stage",
            "3",
            "--server-arg=-c",
            "--server-arg=echo 'INFO listening on 127.0.0.1:9123' >&2; exec sleep 30",
        ],
        1,
    );
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "; it said it listens on 127.0.0.1:9123: listen on the address it is given with --addr"
        ),
        "{}",
        ran.stderr
    );
}

/// A read deadline for a stage that has none, or one so long that the
/// checks would take minutes, is a mistake, said in one line, not silently
/// ignored or waited out.
#[test]
fn a_deadline_that_does_not_fit_is_refused_in_one_line() {
    for (stage, deadline, says) in [
        (
            "3",
            "1s",
            "stage 3 has no read deadline: --deadline is for stages 4 and 5",
        ),
        (
            "4",
            "2h",
            "--deadline is at most 10s, as the checks wait for a few",
        ),
    ] {
        let ran = workshop(
            &[
                "check",
                "--bin",
                "/no/server",
                "--stage",
                stage,
                "--deadline",
                deadline,
            ],
            1,
        );
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
        assert!(
            ran.stderr.starts_with(&format!("error: {says}")),
            "{}",
            ran.stderr
        );
    }
}

/// Each stage passes its own checks, run by `workshop check --bin` as a
/// learner would run them on a server of their own.
#[test]
fn every_stage_passes_its_own_checks() {
    for (stage, name) in [
        ("1", "stage1-listener"),
        ("2", "stage2-accept-loop"),
        ("3", "stage3-concurrent"),
    ] {
        let bin = support::stage(name);
        let ran = workshop(&["check", "--bin", &bin, "--stage", stage], 0);
        assert!(!ran.stdout.contains("FAILED"), "{name}:\n{}", ran.stdout);
    }
    let stage4 = support::stage("stage4-timeouts");
    let args = [
        "check",
        "--bin",
        &stage4,
        "--stage",
        "4",
        "--deadline",
        "300ms",
        "--server-arg=--timeout=300ms",
    ];
    let ran = workshop(&args, 0);
    assert!(
        ran.stdout.contains("passed  keeps a client that talks"),
        "{}",
        ran.stdout
    );
    let stage5 = support::stage("stage5-production");
    let args = [
        "check",
        "--bin",
        &stage5,
        "--stage",
        "5",
        "--deadline",
        "300ms",
        "--server-arg=--timeout=300ms",
    ];
    let ran = workshop(&args, 0);
    assert!(
        ran.stdout
            .contains("passed  with max connections 2 a third client waits its turn"),
        "{}",
        ran.stdout
    );
}

/// The Go tutorial's stages 3 and 4 pass the checks of stages 3 and 4 (Go's
/// deadline is 5 s): the checks judge behaviour, not our log lines.
#[test]
fn the_go_tutorials_programs_pass_the_checks_of_stages_3_and_4() {
    let Some(built) = go_seed() else {
        // Past libtest's capture, so that a run without go says so.
        let skipped = "skipped: no `go` on this machine (Debian: apt-get install golang)";
        let _ = writeln!(std::io::stderr(), "{skipped}");
        return;
    };
    for stage in ["3", "4"] {
        let bin = built.join(format!("stage{stage}"));
        let bin = bin.to_string_lossy();
        let ran = run(
            WORKSHOP,
            &["check", "--bin", &bin, "--stage", stage, "--deadline", "5s"],
            "",
            0,
            Duration::from_secs(60),
        );
        assert!(
            !ran.stdout.contains("FAILED"),
            "go's stage {stage}:\n{}",
            ran.stdout
        );
    }
}

/// The Go seed's programs, built into this test's folder, if `go` is here.
fn go_seed() -> Option<std::path::PathBuf> {
    let has_go = std::process::Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_go {
        return None;
    }
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-seed");
    std::fs::create_dir_all(&out).unwrap();
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../go-seed");
    let built = std::process::Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg("./...")
        .current_dir(seed)
        .status()
        .unwrap();
    assert!(built.success(), "go build: {built}");
    Some(out)
}
