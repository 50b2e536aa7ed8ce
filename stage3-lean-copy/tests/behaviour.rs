//! What the lean-copy lesson shows: stage 3's behaviour, with a copy that
//! reads only once the socket is readable. Its memory, the point of the
//! lesson, is measured by `workshop bench`, not asserted here.

use std::io::Write;

use harness::Server;

const BIN: &str = env!("CARGO_BIN_EXE_stage3-lean-copy");

// Clients served together: two, while both stay open, and a hundred at once.
harness::serves_clients_together_tests!(BIN, &[]);

// What stages 2 to 4 share: a mebibyte of random bytes reaches stderr
// unchanged, the end of each connection is logged with its byte count and
// reason, and a client that resets does not take the server down.
harness::copy_to_stderr_tests!(BIN, &[]);

/// A client that sends a byte at a time, each after the server printed the
/// one before, wakes its task once per byte: each wake-up reads what is
/// there, and nothing is lost or repeated.
#[test]
fn a_client_sending_a_byte_at_a_time_is_copied_byte_for_byte() {
    let server = Server::start(BIN);
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    let sent = b"~one~byte~at~a~time~\n";
    for (i, byte) in sent.iter().enumerate() {
        client.write_all(&[*byte]).unwrap();
        server.wait_for(&sent[..=i]);
    }
    drop(client);
    server.wait_for(format!(
        "{peer} finished after {} bytes: the client closed the connection",
        sent.len()
    ));
}

// The checks `workshop check` judges a learner's stage 3 by, observed from
// outside as any server shows them: this stage passes them.
harness::stage_checks!(3, BIN, &[], std::time::Duration::ZERO);
