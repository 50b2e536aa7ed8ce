//! `workshop bench --smoke`, the bench's own check in CI: a few seconds of
//! tiny loads that go through every measurement and every output. Its
//! figures mean nothing (CI machines are shared); that they appear does.
//! The bench reads its figures from Linux's /proc: elsewhere it refuses at
//! once, and the tests that measure are Linux's; those that read saved
//! results run everywhere.

use std::time::Duration;

use harness::command::run;

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

#[cfg(target_os = "linux")]
#[test]
fn a_smoke_run_measures_every_scenario_and_writes_table_results_and_chart() {
    let out = std::env::temp_dir().join(format!("workshop-bench-smoke-{}", std::process::id()));
    let ran = run(
        WORKSHOP,
        &[
            "bench",
            "--smoke",
            "--only",
            "stage3-concurrent,stage4-timeouts",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        0,
        Duration::from_secs(120),
    );
    let table = &ran.stdout;
    assert!(
        table.starts_with("| measurement | stage3-concurrent | stage4-timeouts |"),
        "{table}"
    );
    for row in [
        "| memory per idle connection, 20 held |",
        "| memory per idle connection, 200 held |",
        "| throughput, 16 clients, stderr to pipe |",
        "| accept rate, 64 connecting at a time |",
    ] {
        assert!(table.contains(row), "no {row:?} in:\n{table}");
    }
    assert!(!table.contains("failed"), "{table}");

    let results = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    assert!(!out.join("results.jsonl.partial").exists());
    let lines: Vec<&str> = results.lines().collect();
    // 2 servers, 8 scenarios: 2 holds, 4 throughputs, 2 accept rates.
    assert_eq!(lines.len(), 16, "{results}");
    assert!(
        lines.iter().all(|line| line.contains(r#""value":"#)),
        "{results}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("table.md")).unwrap(),
        *table
    );
    let svg = std::fs::read_to_string(out.join("memory.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("stage4-timeouts"),
        "{svg}"
    );

    // What it wrote reads back, and against itself every figure is 1.00×.
    let results = out.join("results.jsonl");
    let results = results.to_str().unwrap();
    let again = run(
        WORKSHOP,
        &["bench", "--results", results, "--baseline", results],
        "",
        0,
        Duration::from_secs(10),
    );
    assert!(again.stdout.starts_with(table.as_str()), "{}", again.stdout);
    let changes = &again.stdout[table.len()..];
    let rows: Vec<&str> = changes
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| measurement"))
        .filter(|line| !line.starts_with("| ---"))
        .collect();
    assert_eq!(rows.len(), 8, "{changes}");
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").skip(1).collect();
        assert_eq!(cells.len(), 2, "{row}");
        assert!(
            cells.iter().all(|cell| cell.trim().starts_with("1.00× (")),
            "{row}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// A folder for `name`'s results, with the results of a previous run in
/// it; emptied first.
#[cfg(target_os = "linux")]
fn previous_results(name: &str) -> std::path::PathBuf {
    let out = std::env::temp_dir().join(format!("workshop-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    for file in ["results.jsonl", "table.md", "memory.svg"] {
        std::fs::write(out.join(file), format!("the last run's {file}\n")).unwrap();
    }
    out
}

/// Asserts that `out` holds the previous run's files, and only those,
/// untouched; then removes it.
#[cfg(target_os = "linux")]
fn still_the_previous_results(out: &std::path::Path) {
    let mut files: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["memory.svg", "results.jsonl", "table.md"]);
    for file in files {
        let text = std::fs::read_to_string(out.join(&file)).unwrap();
        assert_eq!(text, format!("the last run's {file}\n"));
    }
    std::fs::remove_dir_all(out).unwrap();
}

/// An `--out` that cannot be written is said at once, in one line: before
/// the servers are built and measured, not after.
#[cfg(target_os = "linux")]
#[test]
fn an_out_folder_that_cannot_be_written_is_refused_at_once() {
    // A folder inside a plain file cannot be made, even by root.
    let file = std::env::temp_dir().join(format!("workshop-bench-file-{}", std::process::id()));
    std::fs::write(&file, "").unwrap();
    let out = file.join("bench");
    let ran = run(
        WORKSHOP,
        &["bench", "--smoke", "--out", out.to_str().unwrap()],
        "",
        1,
        Duration::from_secs(30),
    );
    std::fs::remove_file(&file).unwrap();
    assert!(
        ran.stderr
            .starts_with(&format!("error: cannot create {}: ", out.display())),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
}

/// A mistyped `--only` is refused, and leaves the last run's results as
/// they were, and what an interrupted bench measured too: it neither
/// empties nor removes `results.jsonl.partial`, and leaves no file of its
/// own.
#[cfg(target_os = "linux")]
#[test]
fn a_mistyped_only_keeps_the_previous_results_and_what_an_interrupted_bench_measured() {
    let out = previous_results("mistyped-after-interrupted");
    let partial = out.join("results.jsonl.partial");
    let measured = "{\"round\":1,\"server\":\"stage3-concurrent\"}\n";
    std::fs::write(&partial, measured).unwrap();
    let ran = run(
        WORKSHOP,
        &[
            "bench",
            "--smoke",
            "--only",
            "stage9",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        1,
        Duration::from_secs(60),
    );
    assert!(
        ran.stderr.contains("no stage is named \"stage9\""),
        "{}",
        ran.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&partial).ok().as_deref(),
        Some(measured)
    );
    std::fs::remove_file(partial).unwrap();
    still_the_previous_results(&out);
}

/// A bench stopped half-way (Ctrl-C) leaves the last complete run's
/// results as they were, and what it measured in `results.jsonl.partial`.
#[cfg(target_os = "linux")]
#[test]
fn an_interrupted_bench_keeps_the_previous_results_and_what_it_measured() {
    let out = previous_results("interrupted");
    let mut command = std::process::Command::new(WORKSHOP);
    // A second run that lasts (8 GiB to send): a smoke run's is over in a
    // blink, and could finish the bench before the interrupt lands.
    command.args(["bench", "--only", "stage3-concurrent", "--repeats", "1"]);
    command.args(["--held", "10", "--bytes", "8GiB", "--out"]);
    command.arg(&out);
    let mut bench = harness::workshop::Running::start(command);
    // The second run starts once the first one's result is written.
    bench.wait_for_line("workshop: round 1/1: ", 2);
    bench.interrupt();
    let partial = out.join("results.jsonl.partial");
    let measured = std::fs::read_to_string(&partial).unwrap();
    assert_eq!(measured.lines().count(), 1, "{measured}");
    assert!(measured.contains(r#""scenario":"hold""#), "{measured}");
    std::fs::remove_file(partial).unwrap();
    still_the_previous_results(&out);
}

/// A file of its own for `name`, in the system's temporary folder.
fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("workshop-bench-{name}-{}", std::process::id()))
}

/// A `--baseline` that is not a bench's results is one line, at once: read
/// before anything is built or measured, and before the output folder is
/// made. (On every system: the bench reads it before it asks for Linux.)
#[test]
fn a_baseline_that_is_no_results_is_refused_before_anything_is_measured() {
    let baseline = scratch("not-results.jsonl");
    std::fs::write(
        &baseline,
        "{\"round\":1,\"server\":\"stage3-concurrent\"}\n",
    )
    .unwrap();
    let out = scratch("never-made");
    let ran = run(
        WORKSHOP,
        &[
            "bench",
            "--baseline",
            baseline.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        1,
        Duration::from_secs(10),
    );
    std::fs::remove_file(&baseline).unwrap();
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert_eq!(
        ran.stderr.trim_end(),
        format!(
            "error: {}, line 1, column 40: not a result of workshop bench: missing field `scenario`",
            baseline.display()
        )
    );
    assert!(!out.exists());
}

/// `--results` shows a saved run without measuring, and with `--baseline`
/// what changed since another: this run's median over the baseline's.
#[test]
fn a_saved_run_is_shown_against_a_baseline_without_measuring() {
    let line = |round: u32, value: f64| {
        format!(
            "{{\"round\":{round},\"server\":\"stage3-concurrent\",\"scenario\":\"hold\",\"connections\":1000,\"value\":{value},\"rss_kib_before\":3384,\"rss_kib\":12644,\"threads_before\":4,\"threads\":4,\"closed_by_the_server\":0,\"lost_in_the_listen_queue\":0}}\n"
        )
    };
    let (new, old) = (scratch("new.jsonl"), scratch("old.jsonl"));
    std::fs::write(&new, line(1, 9.0) + &line(2, 11.0) + &line(3, 10.0)).unwrap();
    std::fs::write(&old, line(1, 8.0)).unwrap();
    let ran = run(
        WORKSHOP,
        &[
            "bench",
            "--results",
            new.to_str().unwrap(),
            "--baseline",
            old.to_str().unwrap(),
        ],
        "",
        0,
        Duration::from_secs(10),
    );
    std::fs::remove_file(&new).unwrap();
    std::fs::remove_file(&old).unwrap();
    let row = "| memory per idle connection, 1000 held |";
    assert!(
        ran.stdout
            .contains(&format!("{row} 10.0 KiB (9.0–11.0), 4 threads |\n")),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains(&format!("{row} 1.25× (8.0 KiB → 10.0 KiB) |\n")),
        "{}",
        ran.stdout
    );
}

/// Off Linux the bench says, in one line and at once, that it needs Linux.
#[cfg(not(target_os = "linux"))]
#[test]
fn off_linux_the_bench_refuses_at_once_saying_it_needs_linux() {
    let ran = run(
        WORKSHOP,
        &["bench", "--smoke"],
        "",
        1,
        Duration::from_secs(10),
    );
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(
        ran.stderr.starts_with("error: workshop bench reads"),
        "{}",
        ran.stderr
    );
}

/// Go's stage 3 (since Go 1.21, `io.Copy` splices socket to stderr, which
/// `/proc/PID/io` does not count) is timed into /dev/null as every server
/// is: built with the `go` that `WORKSHOP_TEST_GO` names (CI names a Go
/// 1.21 or newer, which splices), or else the one on the PATH. With neither,
/// the test says it skipped, but fails under CI (`CI` set), where a skip
/// would hide that the splicing Go went unmeasured.
#[cfg(target_os = "linux")]
#[test]
fn go_stage3_s_throughput_is_measured_whatever_go_copies_with() {
    let go = std::env::var("WORKSHOP_TEST_GO").unwrap_or_else(|_| "go".to_string());
    // `go1.23.5`: the bench names its programs by the release, `go1.23-stage3`.
    let version = std::process::Command::new(&go)
        .args(["env", "GOVERSION"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    let Some(version) = version else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must measure Go's stage 3: no `{go}` runs (WORKSHOP_TEST_GO names the go to use)"
        );
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipped: no `{go}` runs");
        return;
    };
    let release: Vec<&str> = version.split('.').take(2).collect();
    let go_stage3 = format!("{}-stage3", release.join("."));
    let out = std::env::temp_dir().join(format!("workshop-bench-go-{}", std::process::id()));
    let ran = run(
        WORKSHOP,
        &[
            "bench",
            "--smoke",
            "--only",
            &go_stage3,
            "--go",
            &go,
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        0,
        Duration::from_secs(120),
    );
    for sink in ["/dev/null", "pipe"] {
        for clients in [1, 16] {
            let row = format!("| throughput, {clients} clients, stderr to {sink} | ");
            let line = ran
                .stdout
                .lines()
                .find(|line| line.starts_with(&row))
                .unwrap_or_else(|| panic!("no {row:?} row:\n{}", ran.stdout));
            assert!(line.ends_with("B/s |"), "not a rate: {line}");
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// `--go PATH` names a Go to build the seed with; one that does not run is
/// one line, before anything is measured.
#[cfg(target_os = "linux")]
#[test]
fn a_go_that_does_not_run_is_told_in_one_line() {
    let out = scratch("no-go");
    let ran = run(
        WORKSHOP,
        &[
            "bench",
            "--smoke",
            "--only",
            "go",
            "--go",
            "/nonexistent/go",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        1,
        Duration::from_secs(10),
    );
    let _ = std::fs::remove_dir_all(&out);
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert_eq!(
        ran.stderr.trim(),
        "error: /nonexistent/go is not a `go` that runs (go env GOVERSION failed)"
    );
}

/// Two `--go` of one release would be named alike, the second's programs
/// built over the first's: refused in one line, before anything is built.
#[cfg(target_os = "linux")]
#[test]
fn the_same_go_release_given_twice_is_refused_in_one_line() {
    let folder = scratch("two-gos");
    std::fs::create_dir_all(&folder).unwrap();
    let (first, second) = (folder.join("go1.23.1"), folder.join("go1.23.5"));
    // Written by a shell, not by this process: a file this process holds
    // open for writing while another test forks cannot be run (ETXTBSY).
    for go in [&first, &second] {
        let version = go.file_name().unwrap().to_str().unwrap();
        let script = format!("printf '#!/bin/sh\\necho {version}\\n' > \"$0\" && chmod +x \"$0\"");
        let made = std::process::Command::new("sh")
            .args(["-c", &script])
            .arg(go)
            .status()
            .unwrap();
        assert!(made.success());
    }
    let out = folder.join("out");
    let ran = run(
        WORKSHOP,
        &[
            "bench",
            "--smoke",
            "--only",
            "go",
            "--go",
            first.to_str().unwrap(),
            "--go",
            second.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        1,
        Duration::from_secs(10),
    );
    std::fs::remove_dir_all(&folder).unwrap();
    assert_eq!(
        ran.stderr.trim(),
        format!(
            "error: --go {} and --go {} are both go1.23: give each Go release once",
            first.display(),
            second.display()
        )
    );
}
