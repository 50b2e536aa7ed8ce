//! What stage 3 shows: with one task per connection, clients are served
//! together. Every client's bytes reach stderr while the others stay open.

use std::io::Write;

use harness::{Server, client};

const BIN: &str = env!("CARGO_BIN_EXE_stage3-concurrent");

/// The scenario stage 2 fails: the second client is printed while the first
/// is still connected, and the first goes on being served after that.
#[test]
fn serves_two_clients_together() {
    let server = Server::start(BIN);
    let mut first = server.connect();
    first.write_all(b"first: hello\n").unwrap();
    server.wait_for("first: hello\n");

    let mut second = server.connect();
    second.write_all(b"second: hello\n").unwrap();
    server.wait_for("second: hello\n");

    first.write_all(b"first: still here\n").unwrap();
    server.wait_for("first: still here\n");
    assert!(client::is_open(&first) && client::is_open(&second));
    assert!(!server.stderr_text().contains("finished"));
}

/// A hundred clients connect and each says one line; all hundred lines
/// appear while all hundred connections are open.
#[test]
fn serves_a_hundred_clients_at_once() {
    let server = Server::start(BIN);
    let mut clients: Vec<_> = (0..100).map(|_| server.connect()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("client {i:03} says hi\n").as_bytes())
            .unwrap();
    }
    for i in 0..100 {
        server.wait_for(format!("client {i:03} says hi\n"));
    }
    assert!(clients.iter().all(client::is_open));
    assert!(!server.stderr_text().contains("finished"));

    drop(clients);
    server.wait_for_count("the client closed the connection", 100);
}

// What stages 2 to 4 share: a mebibyte of random bytes reaches stderr
// unchanged, the end of each connection is logged with its byte count and
// reason, and a client that resets does not take the server down.
harness::copy_to_stderr_tests!(BIN, &[]);

/// Out of file descriptors, stage 3 does what Go's `log.Fatal` does: it logs
/// the accept error and exits. (Stage 5's test of the same scenario shows it
/// pausing and recovering instead.)
#[cfg(unix)]
#[test]
fn out_of_file_descriptors_it_exits_like_go_log_fatal() {
    let mut server = Server::builder(BIN).open_file_limit(64).start();
    // More clients than 64 descriptors can hold; some may be refused or reset
    // once the server has gone, which is the point.
    let _crowd: Vec<_> = (0..80)
        .filter_map(|_| std::net::TcpStream::connect(server.addr()).ok())
        .collect();
    let status = server.wait_for_exit();
    assert_eq!(status.code(), Some(1), "{status}");
    server.wait_for("accept failed: Too many open files");
}
