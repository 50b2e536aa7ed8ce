//! The load layer: generating load on a server on this machine: connections
//! held open, clients that send a given number of bytes, and connections
//! made and closed, and a crowd that connects and stays, each bounded in
//! count and by a deadline. `workshop load`, `workshop bench` and `workshop
//! compare`'s crowd drive a server with these.

mod connect;
mod gather;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use connect::connect;
pub(crate) use connect::fresh_sources;
pub(crate) use gather::Gathered;
use gather::{Turns, gather};

/// Opens `connections` silent connections, at most 256 handshakes at a
/// time, until `deadline`; returns them with how the others failed.
pub(crate) async fn open(
    addr: SocketAddr,
    connections: usize,
    deadline: tokio::time::Instant,
) -> Gathered<TcpStream> {
    let mut pending = tokio::task::JoinSet::new();
    let turns = Turns::new(256);
    for index in 0..connections {
        let turns = Arc::clone(&turns);
        pending.spawn(async move {
            let _turn = turns.take().await;
            connect(addr, index).await
        });
    }
    gather(pending, &turns, "hold: connecting", connections, deadline).await
}

/// `clients` clients that each connect, say a line (`crowd 00042`) and stay
/// connected, `at_once` connecting at a time, each given `patience` to be
/// answered, until `deadline`; shown as `what`. A server that stops
/// accepting fills its listen queue, and the clients past it are never
/// answered: once a whole wave of them has timed out, the rest are not
/// tried, and fail so.
pub(crate) async fn crowd(
    addr: SocketAddr,
    clients: usize,
    at_once: usize,
    patience: Duration,
    what: &str,
    deadline: tokio::time::Instant,
) -> Gathered<TcpStream> {
    let turns = Turns::new(at_once);
    let timed_out = Arc::new(AtomicUsize::new(0));
    let mut joining = tokio::task::JoinSet::new();
    for index in 0..clients {
        let turns = Arc::clone(&turns);
        let timed_out = Arc::clone(&timed_out);
        joining.spawn(async move {
            let _turn = turns.take().await;
            if timed_out.load(Ordering::Relaxed) >= at_once {
                return Err(std::io::Error::other(
                    "not tried: a whole wave before it had no answer",
                ));
            }
            let Ok(connected) = tokio::time::timeout(patience, connect(addr, index)).await else {
                timed_out.fetch_add(1, Ordering::Relaxed);
                return Err(ErrorKind::TimedOut.into());
            };
            let mut stream = connected?;
            stream
                .write_all(format!("crowd {index:05}\n").as_bytes())
                .await?;
            Ok(stream)
        });
    }
    gather(joining, &turns, what, clients, deadline).await
}

/// What every flood client sends, 64 KiB at a time: one buffer that all
/// clients share (one each cost 640 MiB with 10,000 clients).
static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// What a flood did: bytes written, clients done and how the others failed.
pub(crate) struct Sent {
    /// Bytes the clients handed to the system, each write counted as it
    /// returned: what went out, also from clients the deadline stopped.
    pub(crate) bytes: u64,
    /// The clients that finished, by their own addresses.
    pub(crate) clients: Gathered<SocketAddr>,
}

/// `clients` clients each send `bytes` and close their side. With
/// `wait_for_close`, each then waits for the server to close in turn, which
/// it does once it has read everything (the seed's Go stage 3 never does).
/// Stops at `deadline`, whatever is left.
pub(crate) async fn send(
    addr: SocketAddr,
    clients: usize,
    bytes: u64,
    wait_for_close: bool,
    deadline: tokio::time::Instant,
) -> Sent {
    let written = Arc::new(AtomicU64::new(0));
    let mut senders = tokio::task::JoinSet::new();
    // Every client at once.
    let turns = Turns::new(clients);
    for index in 0..clients {
        let written = Arc::clone(&written);
        let turns = Arc::clone(&turns);
        senders.spawn(async move {
            let _turn = turns.take().await;
            let mut stream = connect(addr, index).await?;
            let mut left = bytes;
            // `write`, not `write_all`: what a write the deadline stops
            // has sent of its chunk is counted too.
            while left > 0 {
                let n = left.min(CHUNK.len() as u64) as usize;
                let sent = match stream.write(&CHUNK[..n]).await? {
                    0 => return Err(std::io::ErrorKind::WriteZero.into()),
                    sent => sent as u64,
                };
                written.fetch_add(sent, Ordering::Relaxed);
                left -= sent;
            }
            stream.shutdown().await?;
            if wait_for_close {
                let _ = stream.read(&mut [0u8; 1]).await;
            }
            stream.local_addr()
        });
    }
    let clients = gather(senders, &turns, "flood: clients done", clients, deadline).await;
    Sent {
        bytes: written.load(Ordering::Relaxed),
        clients,
    }
}

/// Connects, sends a line and closes, `connections` times, `concurrency` at a
/// time. Returns how long each handshake took, and how the others failed.
pub(crate) async fn connect_send_close(
    addr: SocketAddr,
    connections: usize,
    concurrency: usize,
    deadline: tokio::time::Instant,
) -> Gathered<Duration> {
    let turns = Turns::new(concurrency);
    let mut workers = tokio::task::JoinSet::new();
    for index in 0..connections {
        let turns = Arc::clone(&turns);
        workers.spawn(async move {
            let _turn = turns.take().await;
            let connecting = Instant::now();
            let mut stream = connect(addr, index).await?;
            let connect_time = connecting.elapsed();
            stream
                .write_all(format!("churn {index}\n").as_bytes())
                .await?;
            std::io::Result::Ok(connect_time)
        });
    }
    gather(workers, &turns, "churn", connections, deadline).await
}

/// Whether the server has closed `stream`, as far as the runtime has seen,
/// without waiting: the end of the stream or an error is waiting to be read.
/// (No stage writes to its clients, so there are no bytes to lose here.)
pub fn already_closed(stream: &TcpStream) -> bool {
    match stream.try_read(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => err.kind() != ErrorKind::WouldBlock,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    /// A flood the deadline stops counts every byte its clients handed
    /// over, the part of a chunk a write had sent included: what the
    /// server receives, to the byte.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_flood_stopped_half_way_counts_every_byte_that_went_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // A server that reads slowly, until the client is gone.
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1000];
            let mut received = 0;
            while let Ok(n @ 1..) = socket.read(&mut buf).await {
                received += n as u64;
            }
            received
        });
        let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
        let sent = super::send(addr, 1, 1 << 40, false, deadline).await;
        assert_eq!(sent.clients.unfinished, 1);
        let received = tokio::time::timeout(harness::PATIENCE, server)
            .await
            .expect("the client stopped")
            .unwrap();
        assert_eq!(sent.bytes, received);
    }
}
