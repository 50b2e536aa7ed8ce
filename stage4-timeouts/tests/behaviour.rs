//! What stage 4 shows: a read deadline, started anew with every read, closes
//! a client that stays silent and never one that keeps talking.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use harness::{Server, client};

const BIN: &str = env!("CARGO_BIN_EXE_stage4-timeouts");

/// A short deadline, so the tests see it pass several times in a second.
const DEADLINE: &[&str] = &["--timeout", "300ms"];

/// A client that connects and says nothing is disconnected once the deadline
/// passes, not before, and the server logs why.
#[test]
fn closes_an_idle_client_after_a_300ms_deadline() {
    let server = Server::start_with_args(BIN, DEADLINE);
    // Timed from before `connect`: the server's deadline starts later, when
    // it accepts, so the connection cannot end sooner than 300 ms from here.
    let connecting = Instant::now();
    let mut idle = server.connect();
    let peer = idle.local_addr().unwrap();
    client::wait_until_closed_by_server(&mut idle);
    let open_for = connecting.elapsed();
    assert!(
        open_for >= Duration::from_millis(300),
        "closed after {open_for:?}, before the deadline"
    );
    server.wait_for(format!("{peer} finished after 0 bytes: silent for 300ms"));
}

/// A client that says something every 100 ms outlives many 300 ms deadlines:
/// each read starts a new one. A silent client connected at the same time is
/// closed meanwhile.
#[test]
fn keeps_a_client_that_talks_every_100ms_for_several_deadlines() {
    let server = Server::start_with_args(BIN, DEADLINE);
    let mut talker = server.connect();
    let talker_peer = talker.local_addr().unwrap();
    let silent = server.connect();
    let silent_peer = silent.local_addr().unwrap();

    // Fifteen lines, 100 ms apart: 1.5 s, five deadlines' worth. The sleep
    // paces the client as a person typing would; it synchronises nothing.
    // Waiting for each line adds to the 100 ms, which still leaves the server
    // some 200 ms of slack per deadline, plenty even on a loaded machine.
    for i in 0..15 {
        let line = format!("tick {i:02}\n");
        talker.write_all(line.as_bytes()).unwrap();
        server.wait_for(&line);
        thread::sleep(Duration::from_millis(100));
    }
    server.wait_for(format!(
        "{silent_peer} finished after 0 bytes: silent for 300ms"
    ));
    assert!(client::is_open(&talker), "the talking client was closed");
    assert!(
        !server
            .stderr_text()
            .contains(&format!("{talker_peer} finished"))
    );

    drop(talker);
    server.wait_for(format!(
        "{talker_peer} finished after 120 bytes: the client closed the connection"
    ));
}

/// A stderr that nobody reads (a paused terminal, a full pipe) holds back
/// the client whose bytes cannot be written yet, not the server: a silent
/// client is still closed on time. Once stderr moves again, every byte the
/// first client sent arrives.
#[test]
fn a_stuck_stderr_holds_back_the_talker_but_still_closes_silent_clients() {
    // More than the pipe, the server's queue and both sockets' kernel buffers
    // can hold together, so the talker must wait.
    let sent = kernel_socket_buffers_at_most() + (8 << 20);
    let server = Server::start_with_args(BIN, DEADLINE);
    server.pause_stderr();
    let mut talker = server.connect();
    let talker_peer = talker.local_addr().unwrap();
    let sending = thread::spawn(move || talker.write_all(&vec![b'x'; sent]));

    let mut silent = server.connect();
    let silent_peer = silent.local_addr().unwrap();
    client::wait_until_closed_by_server(&mut silent);
    assert!(
        !sending.is_finished(),
        "the talker sent all {sent} bytes while nobody read stderr: nothing held it back"
    );

    server.resume_stderr();
    sending
        .join()
        .unwrap()
        .expect("the talker's bytes were all taken");
    server.wait_for_len(sent);
    server.wait_for(format!(
        "{talker_peer} finished after {sent} bytes: the client closed the connection"
    ));
    server.wait_for(format!(
        "{silent_peer} finished after 0 bytes: silent for 300ms"
    ));
}

/// The most a receiving and a sending socket may buffer on this machine (the
/// largest `tcp_rmem` and `tcp_wmem`), or 40 MiB where Linux does not say.
fn kernel_socket_buffers_at_most() -> usize {
    let largest = |name: &str| -> Option<usize> {
        let text = std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}")).ok()?;
        text.split_whitespace().last()?.parse().ok()
    };
    match (largest("tcp_rmem"), largest("tcp_wmem")) {
        (Some(receiving), Some(sending)) => receiving + sending,
        _ => 40 << 20,
    }
}

// What stages 2 to 4 share: a mebibyte of random bytes reaches stderr
// unchanged, the end of each connection is logged with its byte count and
// reason, and a client that resets does not take the server down.
harness::copy_to_stderr_tests!(BIN, &[]);

// Still served together: two clients while both stay open, a hundred at once.
harness::serves_clients_together_tests!(BIN, &[]);

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
