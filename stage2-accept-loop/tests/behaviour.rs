//! What stage 2 shows: serving a client inside the accept loop serves clients
//! one at a time. A second client connects, but what it sends reaches stderr
//! only after the first client has gone.

use std::io::Write;

use harness::{Server, client};

const BIN: &str = env!("CARGO_BIN_EXE_stage2-accept-loop");

/// The kernel completes the second client's connection and keeps its bytes,
/// but the server is busy copying the first client and does not even accept
/// the second until the first disconnects.
#[test]
fn second_client_waits_until_first_disconnects() {
    let server = Server::start(BIN);
    let mut first = server.connect();
    let first_peer = first.local_addr().unwrap();
    first.write_all(b"first: hello\n").unwrap();
    server.wait_for("first: hello\n");

    // `connect` and `write_all` succeed: the kernel accepted the connection.
    let mut second = server.connect();
    let second_peer = second.local_addr().unwrap();
    second.write_all(b"second: hello\n").unwrap();

    // The first client is still being served...
    first.write_all(b"first: still here\n").unwrap();
    server.wait_for("first: still here\n");
    // ...and the second has not been accepted, let alone printed.
    let stderr = server.stderr_text();
    assert!(
        !stderr.contains("second: hello") && !stderr.contains(&format!("{second_peer} connected")),
        "the second client was served while the first was still open:\n{stderr}"
    );

    drop(first);
    let first_finished = server.wait_for(format!("{first_peer} finished"));
    let second_connected = server.wait_for(format!("{second_peer} connected"));
    let second_printed = server.wait_for("second: hello\n");
    assert!(first_finished < second_connected && second_connected < second_printed);
    assert!(client::is_open(&second));
}

// What stages 2 to 4 share: a mebibyte of random bytes reaches stderr
// unchanged, the end of each connection is logged with its byte count and
// reason, and a client that resets does not take the server down.
harness::copy_to_stderr_tests!(BIN, &[]);

// The checks `workshop check` judges a learner's stage 2 by, observed from
// outside as any server shows them: this stage passes them.
harness::stage_checks!(2, BIN, &[], std::time::Duration::ZERO);
