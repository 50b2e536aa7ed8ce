//! What the `tokio::io::stderr()` lesson shows: stage 4's behaviour while
//! stderr keeps up, and what a stuck stderr does to it, where stage 4 goes on.

use harness::{Server, client};

const BIN: &str = env!("CARGO_BIN_EXE_stage4-tokio-stderr");

/// A short deadline, so the tests see it pass several times in a second.
const DEADLINE: &[&str] = &["--timeout", "300ms"];

#[cfg(target_os = "linux")]
use std::thread;

// While stderr keeps up, it behaves as stage 4 does: a mebibyte of random
// bytes reaches stderr unchanged (the `flush` keeps the log line behind
// them), the end of each connection is logged with its byte count and
// reason, and a client that resets does not take the server down.
harness::copy_to_stderr_tests!(BIN, &[]);

// Still served together: two clients while both stay open, a hundred at once.
harness::serves_clients_together_tests!(BIN, &[]);

/// Stage 4's deadline, while stderr keeps up.
#[test]
fn closes_an_idle_client_after_a_300ms_deadline() {
    let server = Server::start_with_args(BIN, DEADLINE);
    let mut idle = server.connect();
    let peer = idle.local_addr().unwrap();
    client::wait_until_closed_by_server(&mut idle);
    server.wait_for(format!("{peer} finished after 0 bytes: silent for 300ms"));
}

/// Says a test needs Linux to say where threads sleep, and it does not here.
#[cfg(target_os = "linux")]
fn skipped() {
    eprintln!("skipped: this kernel does not say where threads sleep (wchan)");
}

/// A client that fills the stderr nobody reads: its bytes wait in a thread
/// of tokio's blocking pool, stuck in a `write`, for as long as stderr does.
/// Returns it still sending once that write is stuck (the pipe is full, or
/// has less room than the 128 bytes the write wanted to add), or `None`
/// where Linux does not say.
#[cfg(target_os = "linux")]
fn fill_the_paused_stderr(server: &Server) -> Option<thread::JoinHandle<()>> {
    use std::io::Write;

    server.pause_stderr();
    let mut talker = server.connect();
    let sending = thread::spawn(move || {
        // More than any stderr pipe holds (stage 4's asks for 1 MiB).
        let _ = talker.write_all(&vec![b'x'; 8 << 20]);
    });
    server.wait_until_stuck_writing_stderr().then_some(sending)
}

/// With stderr stuck, every talking client holds a thread of tokio's
/// blocking pool, stuck in its `write`. (Stage 4 queues their bytes instead,
/// and runs the same 4 threads, talking clients or not.) The log is off but
/// for the `listening on` line: its lines would block the server sooner, as
/// the next test shows.
#[cfg(target_os = "linux")]
#[test]
fn with_stderr_stuck_every_talking_client_holds_a_thread() {
    use std::io::Write;
    use std::net::TcpStream;

    let server = Server::builder(BIN)
        .args(["--timeout", "1m"])
        .env("RUST_LOG", harness::ONLY_THE_LISTENING_LINE)
        .start();
    let before = server.threads();
    let Some(sending) = fill_the_paused_stderr(&server) else {
        return skipped();
    };
    let talkers: Vec<TcpStream> = (0..20)
        .map(|i| {
            let mut talker = server.connect();
            talker
                .write_all(format!("talker {i}\n").as_bytes())
                .unwrap();
            talker
        })
        .collect();
    // Each talker's write, and the one filling stderr, stuck in a thread:
    // one in the pipe's `write`, the others waiting for their turn at it.
    let started = std::time::Instant::now();
    while server.threads() < before + talkers.len() + 1 {
        assert!(
            started.elapsed() < harness::PATIENCE,
            "{before} threads before stderr was stuck, {} with 21 talkers stuck",
            server.threads()
        );
        thread::yield_now();
    }
    server.resume_stderr();
    sending.join().unwrap();
    for i in 0..20 {
        server.wait_for(format!("talker {i}\n"));
    }
}

/// With stderr stuck, silent clients are not closed on time: every log line
/// now blocks a thread of the runtime in its `write`. The line saying a
/// client connected stops the accept loop; the line saying a silent client
/// is done comes before its socket is dropped. (In the less than 128 bytes
/// of room the pipe may have, one of those lines may still fit; not two.)
/// Once stderr moves, both clients are closed. Stage 4 closes them on time
/// while stderr is stuck.
#[cfg(target_os = "linux")]
#[test]
fn with_stderr_stuck_silent_clients_outlive_their_deadline() {
    use std::net::TcpStream;
    use std::time::Duration;

    let server = Server::start_with_args(BIN, DEADLINE);
    let Some(sending) = fill_the_paused_stderr(&server) else {
        return skipped();
    };
    let silent: Vec<TcpStream> = (0..2).map(|_| server.connect()).collect();

    // Three deadlines long: a window to look in, not a wait for an event.
    thread::sleep(Duration::from_millis(3 * 300));
    assert!(
        silent.iter().all(client::is_open),
        "a silent client was closed while stderr was stuck"
    );

    server.resume_stderr();
    sending.join().unwrap();
    for mut client in silent {
        let peer = client.local_addr().unwrap();
        client::wait_until_closed_by_server(&mut client);
        server.wait_for(format!("{peer} finished after 0 bytes: silent for 300ms"));
    }
}

/// A duration that does not parse is refused with one line naming the flag.
#[test]
fn unusable_timeouts_exit_1_with_one_line_saying_why() {
    harness::interface::unusable_timeouts_exit_1_with_one_line_saying_why(BIN);
}

// The checks `workshop check` judges a learner's stage 4 by, observed from
// outside as any server shows them: this stage passes them.
harness::stage_checks!(
    4,
    BIN,
    &["--timeout", "300ms"],
    std::time::Duration::from_millis(300)
);
