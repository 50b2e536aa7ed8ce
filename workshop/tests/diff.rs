//! `workshop diff` shows a learner the lesson between two stages as the
//! book promises: the lines of code that changed, with the comments beside
//! them, and none of the changes to comments alone (the doc comments at the
//! top differ between every two stages). It reads the sources only: nothing
//! is built, so each answer is quick.

use std::time::Duration;

use harness::command::run;

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

/// Runs `workshop diff` with `args`, expecting exit status `code`, and
/// returns its stdout and stderr.
fn diff(args: &[&str], code: i32) -> (String, String) {
    let ran = run(
        WORKSHOP,
        &[&["diff"][..], args].concat(),
        "",
        code,
        Duration::from_secs(30),
    );
    (ran.stdout, ran.stderr)
}

/// The hunks of a unified diff: from each `@@` line to the next.
fn hunks(diff: &str) -> Vec<Vec<&str>> {
    let mut hunks: Vec<Vec<&str>> = Vec::new();
    for line in diff.lines() {
        if line.starts_with("@@") {
            hunks.push(Vec::new());
        } else if line.starts_with("--- ") || line.starts_with("+++ ") {
            continue;
        } else if let Some(hunk) = hunks.last_mut() {
            hunk.push(line);
        }
    }
    hunks
}

/// Whether a changed line (`+` or `-`) is code: not a comment, not blank.
fn is_code(line: &str) -> bool {
    let text = line[1..].trim_start();
    (line.starts_with('+') || line.starts_with('-')) && !text.is_empty() && !text.starts_with("//")
}

#[test]
fn stage2_to_stage3_shows_the_await_becoming_a_spawn_and_no_change_to_comments_only() {
    let (out, _) = diff(&["stage2", "stage3"], 0);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(
            "From stage2-accept-loop to stage3-concurrent (changes to comments only left out: "
        ),
        "{out}"
    );
    assert!(
        out.contains("\n--- stage2-accept-loop/src/main.rs\n+++ stage3-concurrent/src/main.rs\n"),
        "{out}"
    );
    assert!(
        out.contains("\n-        serve_connection(socket, peer).await;\n")
            && out.contains("\n+        tokio::spawn(serve_connection(socket, peer));\n"),
        "{out}"
    );
    // The comments beside the changed line show with it.
    assert!(
        out.contains("\n+        // Go: go serviceConn(conn)."),
        "{out}"
    );
    // The crate's doc comment (`//! # Stage 2: ...`) differs, but only in
    // comments: left out, as every hunk made only of comments is.
    assert!(!out.contains("//! # Stage"), "{out}");
    let hunks = hunks(&out);
    assert!(!hunks.is_empty(), "{out}");
    for hunk in hunks {
        assert!(
            hunk.iter().any(|line| is_code(line)),
            "a hunk changes only comments:\n{}",
            hunk.join("\n")
        );
    }
}

#[test]
fn stage4_to_stage5_shows_stage5s_new_files_whole() {
    let (out, _) = diff(&["stage4", "stage5"], 0);
    assert!(
        out.contains("\n--- stage4-timeouts/src/accept.rs (no such file)\n+++ stage5-production/src/accept.rs\n@@ -0,0 +1,"),
        "{out}"
    );
    assert!(
        out.contains("\n+++ stage5-production/src/main.rs\n"),
        "{out}"
    );
}

#[test]
fn an_exercise_is_diffed_against_a_stage_by_its_short_name() {
    let (out, _) = diff(&["exercise3", "stage3"], 0);
    // What the learner's exercise holds today is theirs: only the names.
    assert!(
        out.starts_with("From exercise3-concurrent to stage3-concurrent")
            || out.starts_with(
                "No difference in code between exercise3-concurrent and stage3-concurrent"
            ),
        "{out}"
    );
}

#[test]
fn a_stage_against_itself_says_there_is_no_difference() {
    let (out, _) = diff(&["stage3", "stage3-concurrent"], 0);
    assert_eq!(
        out,
        "No difference in code between stage3-concurrent and stage3-concurrent.\n"
    );
}

#[test]
fn an_unknown_stage_is_one_line_naming_the_stages() {
    let (out, err) = diff(&["stage2", "stage9"], 1);
    assert_eq!(out, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: no stage is named \"stage9\"; the stages are: stage1-listener, "),
        "{err}"
    );
}
