//! What stage 1 shows: the accept loop takes one connection after another and
//! keeps running, and each accepted socket is closed as soon as it is dropped.

use harness::{Server, client};

const BIN: &str = env!("CARGO_BIN_EXE_stage1-listener");

/// The accept loop goes round once per client, for as long as clients come.
#[test]
fn accepts_a_hundred_connections_in_a_row_and_keeps_running() {
    let mut server = Server::start(BIN);
    for _ in 0..100 {
        let mut client = server.connect();
        let peer = client.local_addr().unwrap();
        server.wait_for(format!("{peer} connected"));
        client::wait_until_closed_by_server(&mut client);
    }
    server.wait_for_count(" connected", 100);
    assert!(server.is_running());
}

/// Go's version never closes what it accepts; here the socket is dropped at
/// the end of the loop's iteration, and the client sees the connection close.
#[test]
fn an_accepted_connection_is_closed_when_its_socket_is_dropped() {
    let server = Server::start(BIN);
    let mut client = server.connect();
    client::wait_until_closed_by_server(&mut client);
    let peer = client.local_addr().unwrap();
    server.wait_for(format!(
        "{peer} connected; dropping the socket closes the connection"
    ));
}

// The checks `workshop check` judges a learner's stage 1 by, observed from
// outside as any server shows them: this stage passes them.
harness::stage_checks!(1, BIN, &[], std::time::Duration::ZERO);
