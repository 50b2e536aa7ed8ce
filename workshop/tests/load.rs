//! `workshop load` against real stages on this machine: each mode reports
//! what it saw, and stops by itself.

use std::time::Duration;

use harness::Server;
use harness::command::run;

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
    assert!(
        out.contains("RSS ") && out.contains("KiB per connection"),
        "{out}"
    );
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
    let stage = workshop::stages::find(&["stage3-concurrent".to_string()])
        .unwrap()
        .remove(0);
    let server = Server::start(&stage.path.to_string_lossy());
    let addr = server.addr().to_string();
    let pid = server.pid().to_string();
    let out = load(&[
        "--addr", &addr, "--pid", &pid, "churn", "-n", "50", "-c", "8",
    ]);
    assert!(out.contains("completed 50 in "), "{out}");
    assert!(out.contains(&format!("server (pid {pid}): RSS ")), "{out}");
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
