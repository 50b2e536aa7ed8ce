//! `workshop client` against a real stage on port 0: the scripted modes send
//! what they say, and the client reports when the server hangs up.

use std::time::Duration;

use harness::Server;
use harness::command::run;
use harness::workshop::{a_port_nobody_listens_on, a_server_that_never_reads, finish};

mod support;
use support::{stage, stage3};

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop");

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
    let server = stage3();
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

/// `--count 2 --every 1h` is one pause of an hour, within the bound: it
/// is taken, and the client waits until stage 4's deadline closes it.
#[test]
fn a_script_whose_pauses_total_an_hour_is_taken() {
    let server = Server::start_with_args(&stage("stage4-timeouts"), &["--timeout", "300ms"]);
    let addr = server.addr().to_string();
    let out = client(
        &[
            "--addr", &addr, "--send", "x", "--count", "2", "--every", "1h",
        ],
        "",
    );
    assert!(out.contains("sent: x (1/2)\n"), "{out}");
    assert!(
        out.contains("the server closed the connection (end of stream)"),
        "{out}"
    );
    assert!(!out.contains("(2/2)"), "{out}");
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
    let server = stage3();
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
    let nobody = a_port_nobody_listens_on();
    let free = nobody.addr;
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

/// A `workshop client` whose standard input the test writes, a piece at a
/// time; killed when dropped.
struct Typing {
    /// `None` once it has exited.
    child: Option<std::process::Child>,
    stdin: Option<std::process::ChildStdin>,
}

impl Typing {
    fn start(args: &[&str]) -> Typing {
        let mut child = std::process::Command::new(WORKSHOP)
            .arg("client")
            .args(args)
            .stdin(std::process::Stdio::piped())
            // Its few lines fit the pipe; its end says the client exited.
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Typing {
            stdin: child.stdin.take(),
            child: Some(child),
        }
    }

    fn type_in(&mut self, bytes: &[u8]) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Ends the input, as Ctrl-D does, and waits for the client to exit.
    fn end_input(&mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let child = self.child.take().unwrap();
        finish(child, harness::PATIENCE).status
    }
}

impl Drop for Typing {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Bytes that are not UTF-8 are sent as they are, as `nc` sends them.
#[test]
fn input_that_is_not_utf8_reaches_the_server_byte_for_byte() {
    let server = stage3();
    let addr = server.addr().to_string();
    let bytes = b"\xff\xfe\x00 not UTF-8 \x80\n".to_vec();
    let output = assert_cmd::Command::new(WORKSHOP)
        .args(["client", "--addr", &addr])
        .write_stdin(bytes.clone())
        .timeout(Duration::from_secs(30))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("end of input; closed the connection"), "{out}");
    server.wait_for(&bytes);
}

/// What is typed goes out as it is read, without waiting for the line to
/// end (an input with no newline at all, such as /dev/zero, is sent, not
/// gathered in memory), and `--name` still starts every line.
#[test]
fn typed_bytes_go_out_as_they_are_read_with_the_name_before_each_line() {
    let server = stage3();
    let addr = server.addr().to_string();
    let mut client = Typing::start(&["--addr", &addr, "--name", "N"]);
    client.type_in(b"half");
    server.wait_for("N: half");
    client.type_in(b" a line\nnext\nla");
    client.type_in(b"st\n");
    assert!(client.end_input().success());
    server.wait_for("N: half a line\nN: next\nN: last\n");
}

/// Against a server that takes nothing, the client stops reading its
/// input once the connection's buffers are full: an endless input costs
/// it no memory. What it takes is its input pipe, one 8 KiB piece, and
/// the connection's buffers, a few MiB on loopback: the test offers 16 MiB.
#[test]
fn input_is_read_only_as_fast_as_the_server_takes_it() {
    const OFFERED: usize = 16 << 20;
    let server = a_server_that_never_reads();
    let addr = server.addr.to_string();
    let mut client = Typing::start(&["--addr", &addr]);
    let mut stdin = client.stdin.take().unwrap();
    // Each piece the client takes is a signal on this channel; its end,
    // that the client took all 16 MiB.
    let (took, taken) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Write;
        let piece = vec![0u8; 64 * 1024];
        let mut total = 0;
        while total < OFFERED && stdin.write_all(&piece).is_ok() {
            total += piece.len();
            let _ = took.send(total);
        }
    });
    // No signal says that the client will never read again: that it has
    // taken nothing for a second, with the server taking nothing, does.
    let mut total = 0;
    while let Ok(now) = taken.recv_timeout(Duration::from_secs(1)) {
        total = now;
    }
    assert!(
        total < OFFERED,
        "the client read all {total} bytes offered while the server took almost none"
    );
}

/// `--send` to a server that never reads gives up on a line it cannot send
/// within `--write-timeout`, in one line and exit status 1, rather than
/// waiting for ever.
#[test]
fn a_scripted_client_the_server_never_reads_gives_up_after_the_write_timeout() {
    let server = a_server_that_never_reads();
    let addr = server.addr.to_string();
    let text = "x".repeat(16 * 1024);
    let ran = run(
        WORKSHOP,
        &[
            "client",
            "--addr",
            &addr,
            "--send",
            &text,
            "--every",
            "0s",
            "--count",
            "100000",
            "--write-timeout",
            "200ms",
        ],
        "",
        1,
        Duration::from_secs(30),
    );
    let stderr = ran.stderr;
    assert!(
        stderr.starts_with("error: could not send line ")
            && stderr.contains(" within 200ms: the server is not reading"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// A stdout nobody reads any more (`workshop client | head -1` once `head`
/// has its line) ends the client in one line and exit status 1, where
/// `println!` would panic with a backtrace.
#[test]
fn a_closed_stdout_is_one_line_and_exit_1_not_a_panic() {
    let server = stage3();
    let addr = server.addr().to_string();
    let mut child = std::process::Command::new(WORKSHOP)
        .args(["client", "--addr", &addr, "--send", "hi", "--count", "1"])
        .env_remove("RUST_BACKTRACE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let finished = finish(child, harness::PATIENCE);
    let stderr = finished.stderr;
    assert_eq!(finished.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot write to standard output: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    server.wait_for("hi (1/1)\n");
}

/// Out of file descriptors, the client says so in the course's words,
/// with the limit, as `load` and the stages do: not `Too many open files
/// (os error 24)`. The limit is the lowest under which tokio's runtime
/// starts, which leaves the client none for its socket.
#[cfg(unix)]
#[test]
fn out_of_file_descriptors_the_client_says_so_with_the_limit() {
    let nobody = a_port_nobody_listens_on();
    let addr = nobody.addr.to_string();
    for limit in 4..=32 {
        let ran = harness::workshop::run_with_open_file_limit(
            WORKSHOP,
            &["client", "--addr", &addr, "--send", "hi", "--count", "1"],
            limit,
            limit,
            1,
        );
        if ran.stderr.contains("cannot start tokio's runtime") {
            continue;
        }
        assert_eq!(
            ran.stderr,
            format!(
                "error: cannot connect to {addr}: ran out of file descriptors (ulimit -n {limit})\n"
            )
        );
        return;
    }
    panic!("tokio's runtime never started under 32 open files");
}
