//! The listen queue: the connections the kernel has completed for a server
//! that has not accepted them yet. `TcpListener::bind` asks for a queue of
//! [`BIND_ASKS_FOR`]; Go, `stage3-listen-queue` and stage 5 ask for the
//! longest the system allows. Read here with `ss`, and shown by stopping the
//! server (SIGSTOP, as if it were busy elsewhere) during a burst of clients.

use crate::Server;

/// The queue `TcpListener::bind` (tokio's, through mio, and std's) asks for.
pub const BIND_ASKS_FOR: u32 = 128;

/// The longest queue the system allows, where Linux says
/// (`net.core.somaxconn`).
pub fn system_maximum() -> Option<u32> {
    let text = std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok()?;
    text.trim().parse().ok()
}

/// The length of the server's listen queue, where `ss` can tell (Linux): for
/// a listening socket, `ss` shows it as Send-Q.
pub fn length(server: &Server) -> Option<u32> {
    let filter = format!("sport = :{}", server.addr().port());
    let output = std::process::Command::new("ss")
        .args(["-Hltn", &filter])
        .output()
        .ok()?;
    let listing = String::from_utf8_lossy(&output.stdout).into_owned();
    if listing.trim().is_empty() {
        return None;
    }
    let queue = listing
        .split_whitespace()
        .nth(2)
        .and_then(|field| field.parse().ok());
    Some(queue.unwrap_or_else(|| panic!("no listening socket in `ss {filter}`: {listing:?}")))
}

/// Asserts the server's listen queue is `expected` long, where `ss` can tell.
pub fn assert_length(bin: &str, expected: u32) {
    let server = Server::start(bin);
    match length(&server) {
        Some(queue) => assert_eq!(queue, expected, "the listen queue's length"),
        None => eprintln!(
            "skipped: `ss` is missing here, or cannot see the sockets, to read the queue's length"
        ),
    }
}

/// Stops the server (SIGSTOP: it accepts no one until it is continued) and
/// connects clients one after another, for as long as the kernel completes
/// each handshake at once, up to `tries`. Returns how many it completed:
/// the clients the listen queue held. A client the full queue turns away
/// is not refused: its handshake is dropped, and it would try again a second
/// later. Linux only: it watches `/proc` for the server to stop.
#[cfg(target_os = "linux")]
pub fn clients_queued_while_stopped(server: &Server, tries: usize) -> usize {
    use std::net::TcpStream;
    use std::time::Duration;

    server.stop();
    let mut queued: Vec<TcpStream> = Vec::new();
    while queued.len() < tries {
        // Well under the second after which a dropped handshake is retried.
        match TcpStream::connect_timeout(&server.addr(), Duration::from_millis(700)) {
            Ok(client) => queued.push(client),
            Err(err) if err.kind() == std::io::ErrorKind::TimedOut => break,
            Err(err) => panic!("connecting to a stopped server: {err}"),
        }
    }
    server.resume();
    queued.len()
}

/// With the queue `TcpListener::bind` asks for, a stopped server's queue
/// holds 128 clients, and one more (Linux keeps one more than asked for);
/// the next client's handshake is dropped. Linux only.
#[cfg(target_os = "linux")]
pub fn a_stopped_server_queues_only_129_clients(bin: &str) {
    let server = Server::start(bin);
    let queued = clients_queued_while_stopped(&server, 500);
    assert_eq!(
        queued,
        BIND_ASKS_FOR as usize + 1,
        "clients the queue held while the server was stopped"
    );
}

/// With the longest queue the system allows, a stopped server's queue holds
/// a burst of 500 clients. Linux only, with `net.core.somaxconn` of 500 or more.
#[cfg(target_os = "linux")]
pub fn a_stopped_server_queues_a_burst_of_500_clients(bin: &str) {
    const BURST: usize = 500;
    if system_maximum().is_none_or(|longest| (longest as usize) < BURST) {
        eprintln!("skipped: this system allows no listen queue of {BURST}");
        return;
    }
    let server = Server::start(bin);
    let queued = clients_queued_while_stopped(&server, BURST);
    assert_eq!(
        queued, BURST,
        "clients the queue held while the server was stopped"
    );
}
