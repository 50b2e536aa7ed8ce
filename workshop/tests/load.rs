//! `workshop load` against real stages on this machine: each mode reports
//! what it saw, and stops by itself.

use std::time::Duration;

use harness::command::run;
use harness::workshop::{a_port_nobody_listens_on, a_server_that_never_reads};

mod support;
use support::stage3;

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

/// Runs `workshop load` with `args`; returns its report (stdout).
fn load(args: &[&str]) -> String {
    let ran = run(
        WORKSHOP,
        &[&["load"][..], args].concat(),
        "",
        0,
        Duration::from_secs(60),
    );
    ran.stdout
}

#[test]
fn hold_keeps_every_connection_open_and_reports_the_server_memory() {
    let out = load(&[
        "--stage",
        "stage3-concurrent",
        "hold",
        "-n",
        "50",
        "--hold",
        "200ms",
    ]);
    assert!(out.contains("established 50 in "), "{out}");
    assert!(out.contains("failed: none"), "{out}");
    assert!(
        out.contains("closed by the server before the end: 0"),
        "{out}"
    );
    assert_reports_memory(&out, "KiB per connection");
}

/// Linux tells a process's memory in /proc; elsewhere the report says it
/// does not know it, and why.
fn assert_reports_memory(out: &str, with: &str) {
    match cfg!(target_os = "linux") {
        true => assert!(out.contains("RSS ") && out.contains(with), "{out}"),
        false => assert!(
            out.contains(
                "memory and threads unknown (read from /proc/PID/status, which only Linux has)"
            ),
            "{out}"
        ),
    }
}

#[test]
fn hold_sees_stage4_close_connections_that_stay_silent() {
    let out = load(&[
        "--stage",
        "stage4-timeouts",
        "--stage-arg=--timeout=100ms",
        "hold",
        "-n",
        "20",
        "--hold",
        "500ms",
    ]);
    assert!(out.contains("established 20 in "), "{out}");
    assert!(
        out.contains("closed by the server before the end: 20"),
        "{out}"
    );
}

#[test]
fn flood_sends_every_byte_and_reports_throughput() {
    let out = load(&[
        "--stage",
        "stage3-concurrent",
        "flood",
        "-c",
        "4",
        "-b",
        "1MiB",
    ]);
    assert!(out.contains("sent 4.0 MiB in "), "{out}");
    assert!(out.contains(" MB/s; failed: none"), "{out}");
}

#[test]
fn churn_completes_every_connection_and_reports_the_rate() {
    let out = load(&[
        "--stage",
        "stage3-concurrent",
        "churn",
        "-n",
        "200",
        "-c",
        "16",
    ]);
    assert!(out.contains("completed 200 in "), "{out}");
    assert!(out.contains(" connections/s; failed: none"), "{out}");
}

#[test]
fn a_server_started_elsewhere_is_watched_through_its_pid() {
    let server = stage3();
    let addr = server.addr().to_string();
    let pid = server.pid().to_string();
    let out = load(&[
        "--addr", &addr, "--pid", &pid, "churn", "-n", "50", "-c", "8",
    ]);
    assert!(out.contains("completed 50 in "), "{out}");
    assert_reports_memory(&out, &format!("server (pid {pid}): RSS "));
    server.wait_for_count("the client closed the connection", 50);
}

#[test]
fn a_hold_longer_than_the_limit_is_refused_before_any_connection() {
    let ran = run(
        WORKSHOP,
        &["load", "--limit", "1s", "hold", "--hold", "5s"],
        "",
        1,
        Duration::from_secs(30),
    );
    let stderr = ran.stderr;
    assert!(
        stderr.contains("--hold 5s leaves no time for the rest within --limit 1s"),
        "{stderr}"
    );
}

#[test]
fn load_refuses_a_target_that_is_not_on_this_machine() {
    // 192.0.2.1 is reserved for documentation: nothing is sent to it.
    let ran = run(
        WORKSHOP,
        &["load", "--addr", "192.0.2.1:9000", "hold", "-n", "1"],
        "",
        1,
        Duration::from_secs(30),
    );
    let stderr = ran.stderr;
    assert!(
        stderr.contains("192.0.2.1:9000 is not on this machine"),
        "{stderr}"
    );
}

/// The one line of stderr that says what went wrong (progress lines come
/// before it): the last, and the only one that starts with `error:`.
fn the_error(stderr: &str) -> &str {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    errors[0]
}

/// Runs `workshop` with `args` under a limit on open files of `soft`, and
/// of `hard` for raising it to; asserts that it exits with `code`.
#[cfg(unix)]
fn run_with_open_file_limit(
    args: &[&str],
    soft: u64,
    hard: u64,
    code: i32,
) -> harness::command::Ran {
    harness::workshop::run_with_open_file_limit(WORKSHOP, args, soft, hard, code)
}

/// A desktop's soft limit of open files is far below its hard limit: the
/// workshop raises its own to the hard one, and the stage it starts
/// inherits it, so a hold of 300 under `ulimit -Sn 64` gets all 300.
#[cfg(unix)]
#[test]
fn under_a_low_soft_limit_a_hold_still_gets_every_connection() {
    let ran = run_with_open_file_limit(
        &[
            "load",
            "--stage",
            "stage3-concurrent",
            "hold",
            "-n",
            "300",
            "--hold",
            "10ms",
        ],
        64,
        1024,
        0,
    );
    let out = ran.stdout;
    assert!(out.contains("established 300 in "), "{out}{}", ran.stderr);
    assert!(out.contains("failed: none"), "{out}");
}

/// When even the hard limit is too low, the report says the workshop ran
/// out of file descriptors, and under what limit, and the run exits 1.
#[cfg(unix)]
#[test]
fn out_of_file_descriptors_a_hold_says_so_and_exits_1() {
    let server = stage3();
    let addr = server.addr().to_string();
    let ran = run_with_open_file_limit(
        &[
            "load", "--addr", &addr, "hold", "-n", "300", "--hold", "10ms",
        ],
        64,
        64,
        1,
    );
    let (out, stderr) = (ran.stdout, ran.stderr);
    assert!(
        out.contains(" ran out of file descriptors (ulimit -n 64)"),
        "{out}"
    );
    assert!(!out.contains("uncategorized"), "{out}");
    assert!(
        the_error(&stderr).starts_with("error: ran out of file descriptors (ulimit -n 64)"),
        "{stderr}"
    );
}

/// A hold against a port nobody listens on established nothing: the report
/// says every connection was refused, and the exit status is 1, not 0.
#[test]
fn a_hold_with_nothing_listening_exits_1() {
    let nobody = a_port_nobody_listens_on();
    let free = nobody.addr;
    let ran = run(
        WORKSHOP,
        &[
            "load",
            "--addr",
            &free.to_string(),
            "hold",
            "-n",
            "5",
            "--hold",
            "10ms",
        ],
        "",
        1,
        Duration::from_secs(30),
    );
    assert!(
        ran.stdout.starts_with(&format!(
            "hold: 5 connections to {free}, none established\n  established 0 in "
        )),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("failed: 5 connection refused"),
        "{}",
        ran.stdout
    );
    assert!(
        the_error(&ran.stderr).starts_with("error: not one of the 5 connections succeeded"),
        "{}",
        ran.stderr
    );
}

/// When `--limit` stops a run, the report still shows what it did until
/// then, and the exit status says the run was stopped. Here each mode
/// loads a server that never accepts nor reads: a few connections get
/// through the handshake (how many depends on the moment each arrives),
/// their writes stall, and no more get through.
#[test]
fn every_mode_stopped_by_the_limit_prints_its_figures_so_far_and_exits_1() {
    // This test's own process stands for the server's memory: a run that
    // was stopped gives no memory per connection.
    let pid = std::process::id().to_string();
    for (mode, first_line, figures) in [
        (
            &["flood", "-c", "2", "-b", "64MiB"][..],
            "flood: 2 clients sending 64.0 MiB each (128.0 MiB in all) to ",
            &["; 0 of 2 clients done; failed: none\n"][..],
        ),
        (
            &["hold", "-n", "20", "--hold", "0s"],
            "hold: 20 connections to ",
            &["; failed: none; ", " still connecting\n"],
        ),
        (
            // Four at a time: the connections that wait for their turn
            // are told apart from those the limit cut short.
            &["churn", "-n", "20", "-c", "4"],
            "churn: 20 connect/send/close to ",
            &[
                "; failed: none; ",
                " still connecting or sending, ",
                " not started\n",
            ],
        ),
    ] {
        let server = a_server_that_never_reads();
        let addr = server.addr.to_string();
        let load = ["--addr", &addr, "--pid", &pid, "--limit", "300ms"];
        let ran = run(
            WORKSHOP,
            &[&["load"][..], &load, mode].concat(),
            "",
            1,
            Duration::from_secs(30),
        );
        let out = ran.stdout;
        let first = out.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("{first_line}{addr}"))
                && first.contains(", stopped by --limit after "),
            "{out}"
        );
        for figure in figures {
            assert!(out.contains(figure), "{mode:?}: {out}");
        }
        assert_reports_memory(&out, &format!("server (pid {pid}): RSS "));
        assert!(!out.contains("per connection"), "{out}");
        assert!(
            the_error(&ran.stderr).starts_with("error: stopped by --limit 300ms"),
            "{}",
            ran.stderr
        );
    }
}

/// The limit is raised before tokio's runtime starts: under a soft limit
/// of 6, too few for the runtime's own descriptors, the load still runs.
#[cfg(unix)]
#[test]
fn a_soft_limit_too_low_for_the_runtime_is_raised_before_it_starts() {
    let server = stage3();
    let addr = server.addr().to_string();
    let ran = run_with_open_file_limit(
        &["load", "--addr", &addr, "churn", "-n", "5", "-c", "1"],
        6,
        1024,
        0,
    );
    assert!(ran.stdout.contains("completed 5 in "), "{}", ran.stdout);
}

/// With a hard limit too low for tokio's runtime, the workshop says so in
/// one line and exits 1, where tokio would panic.
#[cfg(unix)]
#[test]
fn with_too_few_files_for_its_runtime_it_says_so_in_one_line() {
    let ran = run_with_open_file_limit(&["load", "hold", "-n", "1"], 6, 6, 1);
    let stderr = ran.stderr;
    assert!(
        stderr.starts_with(
            "error: cannot start tokio's runtime: ran out of file descriptors (ulimit -n 6)"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// A stderr nobody reads any more (`workshop load ... 2>&1 | head`, once
/// `head` has left) or on a full disk (`2>/dev/full`) loses what the
/// workshop says there, and nothing else: the report still comes on
/// stdout, and the exit status is the load's own, 0 for a load carried
/// out and 1 for one refused, where `eprintln!` panics and exits 101.
#[test]
fn a_stderr_that_cannot_be_written_loses_its_lines_not_the_load() {
    use std::process::{Command, Stdio};
    let load = |args: &[&str], stderr: Option<std::fs::File>| {
        let mut command = Command::new(WORKSHOP);
        command
            .arg("load")
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        match stderr {
            Some(file) => command.stderr(file),
            None => command.stderr(Stdio::piped()),
        };
        let mut child = command.spawn().unwrap();
        // A pipe whose reading end is closed: every write to it fails.
        drop(child.stderr.take());
        harness::workshop::finish(child, Duration::from_secs(60))
    };
    let mut stderrs = vec![None];
    if cfg!(target_os = "linux") {
        let full = || std::fs::OpenOptions::new().write(true).open("/dev/full");
        stderrs.push(Some(full().unwrap()));
    }
    for stderr in stderrs {
        let full = stderr.is_some();
        let churn = [
            "--stage",
            "stage3-concurrent",
            "churn",
            "-n",
            "5",
            "-c",
            "1",
        ];
        let ran = load(&churn, stderr);
        assert_eq!(ran.status.code(), Some(0), "full: {full}; {}", ran.stdout);
        assert!(ran.stdout.contains("completed 5 in "), "{}", ran.stdout);
    }
    // 192.0.2.1 is reserved for documentation: nothing is sent to it.
    let ran = load(&["--addr", "192.0.2.1:9000", "hold", "-n", "1"], None);
    assert_eq!(ran.status.code(), Some(1), "{}", ran.stdout);
}

/// A `--stage-arg` the stage refuses is one line too: the stage's own
/// first line, not all it said.
#[test]
fn a_stage_arg_the_stage_refuses_is_one_line_and_exit_1() {
    let ran = run(
        WORKSHOP,
        &[
            "load",
            "--stage",
            "stage4-timeouts",
            "--stage-arg=--timeout=soon",
            "hold",
            "-n",
            "1",
        ],
        "",
        1,
        Duration::from_secs(60),
    );
    assert!(
        the_error(&ran.stderr).starts_with(
            "error: stage4-timeouts did not start: invalid value 'soon' for '--timeout <DURATION>'"
        ),
        "{}",
        ran.stderr
    );
}

/// Ended with `kill` (SIGTERM), the workshop ends the stage it started
/// before it goes, and exits with the status a shell gives SIGTERM: on
/// macOS nothing else would end the stage.
#[cfg(unix)]
#[test]
fn ended_with_sigterm_it_ends_the_stage_it_started() {
    let mut command = std::process::Command::new(WORKSHOP);
    command.args([
        "load",
        "--stage",
        "stage3-concurrent",
        "hold",
        "-n",
        "5",
        "--hold",
        "30s",
    ]);
    let mut load = harness::workshop::Running::start(command);
    load.wait_for_line("workshop: started stage3-concurrent (pid ", 1);
    let addr: std::net::SocketAddr = load
        .said()
        .split(") on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {:?}", load.said()));
    let status = load.end_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(143), "{status}");
    // Its listener closed with it: connecting is refused.
    let deadline = std::time::Instant::now() + harness::PATIENCE;
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the stage still listens on {addr} after the workshop ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
