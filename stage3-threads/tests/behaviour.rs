//! What the thread-per-connection stage shows: it serves clients together, as
//! stage 3 does, at the price of an operating-system thread per client.

// Only the thread count's test (Linux) starts a server of its own.
#[cfg(target_os = "linux")]
use harness::{Server, client};

const BIN: &str = env!("CARGO_BIN_EXE_stage3-threads");

// Clients served together: two, while both stay open, and a hundred at once.
harness::serves_clients_together_tests!(BIN, &[]);

// A mebibyte of random bytes reaches stderr unchanged, the end of each
// connection is logged with its byte count and reason, and a client that
// resets does not take the server down.
harness::copy_to_stderr_tests!(BIN, &[]);

/// The cost, counted: a hundred clients connected, a hundred more threads.
/// (Stage 3 serves the same hundred on the runtime's few threads.)
#[cfg(target_os = "linux")]
#[test]
fn each_client_gets_a_thread_of_its_own() {
    let server = Server::start(BIN);
    let before = server.threads();
    let clients = client::crowd_that_says_hi(&server, 100);
    let during = server.threads();
    assert!(
        during >= before + 100,
        "{before} threads before, {during} with 100 clients"
    );
    drop(clients);
}

// The checks `workshop check` judges a learner's stage 3 by, observed from
// outside as any server shows them: this stage passes them.
harness::stage_checks!(3, BIN, &[], std::time::Duration::ZERO);
