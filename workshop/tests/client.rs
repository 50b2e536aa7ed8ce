//! `workshop client` against a real stage on port 0: the scripted modes send
//! what they say, and the client reports when the server hangs up.

use std::time::Duration;

use harness::Server;
use harness::command::run;

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

/// A stage's binary, found (and built if needed) as `workshop` finds it.
fn stage(name: &str) -> String {
    let stage = workshop::stages::find(&[name.to_string()])
        .unwrap()
        .remove(0);
    stage.path.to_string_lossy().into_owned()
}

/// Runs `workshop client` with `args` and `stdin`; returns its stdout.
fn client(args: &[&str], stdin: &str) -> String {
    let ran = run(
        WORKSHOP,
        &[&["client"][..], args].concat(),
        stdin,
        0,
        Duration::from_secs(30),
    );
    ran.stdout
}

#[test]
fn scripted_client_sends_named_lines_at_an_interval() {
    let server = Server::start(&stage("stage3-concurrent"));
    let addr = server.addr().to_string();
    let out = client(
        &[
            "--addr", &addr, "--name", "A", "--send", "hello", "--every", "50ms", "--count", "3",
        ],
        "",
    );
    assert!(out.contains("sent: A: hello (3/3)"), "{out}");
    assert!(out.contains("sent 3 lines; closed the connection"), "{out}");
    server.wait_for("A: hello (1/3)\nA: hello (2/3)\nA: hello (3/3)\n");
}

#[test]
fn idle_client_reports_that_stage4_closed_it_after_the_deadline() {
    let server = Server::start_with_args(&stage("stage4-timeouts"), &["--timeout", "300ms"]);
    let addr = server.addr().to_string();
    let out = client(&["--addr", &addr, "--idle", "10s"], "");
    assert!(out.contains("saying nothing for 10s"), "{out}");
    let closed = out
        .lines()
        .find(|line| line.starts_with("the server closed the connection"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(closed.ends_with("having sent nothing"), "{closed}");
    // "... after 0.30s, having sent nothing": not before the deadline, and
    // well before the ten seconds the client would have waited.
    let after: f64 = closed
        .split("after ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.3..3.0).contains(&after), "{closed}");
}

#[test]
fn interactive_client_sends_typed_lines_until_end_of_input() {
    let server = Server::start(&stage("stage3-concurrent"));
    let addr = server.addr().to_string();
    let out = client(
        &["--addr", &addr, "--name", "B"],
        "first line\nsecond line\n",
    );
    assert!(out.contains("end of input; closed the connection"), "{out}");
    server.wait_for("B: first line\nB: second line\n");
}

#[test]
fn a_server_that_is_not_there_is_one_line_and_exit_1() {
    // A port held by a socket that never listens: nothing can take it
    // meanwhile, and connecting to it is refused.
    let holder = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    holder
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let free = holder.local_addr().unwrap().as_socket().unwrap();
    let ran = run(
        WORKSHOP,
        &["client", "--addr", &free.to_string()],
        "",
        1,
        Duration::from_secs(30),
    );
    let stderr = ran.stderr;
    assert!(
        stderr.starts_with(&format!("error: cannot connect to {free}: ")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
