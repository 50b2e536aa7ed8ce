//! # Stage 5: a server that survives its own success
//!
//! What this stage teaches: the Go tutorial stops at read deadlines, but it
//! leaves three remarks a real server must answer, and this stage answers
//! them, each at a numbered comment below:
//!
//! 1. A server that can only be stopped by killing it: graceful shutdown. On
//!    Ctrl-C or SIGTERM it stops accepting at once, lets the open connections
//!    finish for up to `--grace`, then copies what they already sent, closes
//!    them and exits 0. A second Ctrl-C ends it at once.
//! 2. "No file descriptors available": a connection limit. Each connection
//!    holds a permit from a semaphore; at the limit the server stops
//!    accepting, and new clients wait in the kernel's listen queue.
//! 3. "The error could be temporary": accept errors no longer end the server.
//!    An error that belongs to one connection is logged and skipped; running
//!    out of resources is logged once, and accepting pauses, longer each time,
//!    until it works again.
//!
//! Run it: `cargo run -p stage5-production -- --max-connections 2`
//!
//! Try this: connect three `nc localhost 9000` clients and type in each; the
//! third is served only when one of the first two leaves. Then press Ctrl-C
//! on the server with a client still connected: it says how many connections
//! are open, waits for them (5 s by default), and exits. For the file
//! descriptor limit: `ulimit -n 64` in a shell, start the server there with
//! `--max-connections 1000`, and open a hundred connections with
//! `cargo run -q -p workshop -- load hold -n 100`.
//!
//! What changed since stage 4: the accept loop takes a permit before each
//! accept, watches for shutdown, and sorts accept errors; connections run in
//! a `TaskTracker` so that shutdown can wait for them; `serve_connection`
//! also stops when the grace period is over. Reading, the deadline and the
//! 128-byte buffer are stage 4's.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use common::stderr::Stderr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Stage 5: a connection limit, accept errors that do not end the server, and a graceful shutdown.
///
/// Try: `nc localhost 9000` from three terminals with --max-connections 2, then Ctrl-C the server.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    server: common::ServerArgs,

    /// How long a client may stay silent before it is disconnected, such as 250ms, 5s or 1m
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    timeout: Duration,

    /// How many clients to serve at once; more wait in the listen queue [default: the open-file limit less 32]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,

    /// On Ctrl-C or SIGTERM, how long open connections may go on before they are closed
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    grace: Duration,
}

/// The longest pause between two attempts to accept while out of resources.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// Once the grace period is over, what a client sent and the server has not
/// read yet is copied, but at most this much and for at most this long: a
/// client that keeps sending must not hold the shutdown up. (By then the
/// server has been reading all through the grace period, so little is left.)
const LEFT_OVER: usize = 1 << 20;
const LEFT_OVER_TIME: Duration = Duration::from_secs(1);

#[tokio::main]
async fn main() {
    let cli: Cli = common::parse_args();
    common::init_logging();

    // 1. `shutdown` is cancelled by Ctrl-C or SIGTERM: stop accepting.
    // `grace_over` is cancelled when the grace period ends: stop serving.
    // `connections` keeps track of the tasks, so that shutdown can wait.
    // The signals are asked for before listening: from the first
    // `listening on` line, a signal means "shut down gracefully".
    let shutdown = CancellationToken::new();
    let grace_over = CancellationToken::new();
    let connections = TaskTracker::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));

    // Go: l, err := net.Listen("tcp", "localhost:9000")
    let listener = common::listen_or_exit(&cli.server.addr).await;

    // 2. One permit per connection. A file descriptor per connection is what
    // runs out first, so the default limit stays below the process's.
    let max_connections = cli
        .max_connections
        .map_or_else(common::default_max_connections, |n| n as usize);
    let permits = Arc::new(Semaphore::new(max_connections));
    let mut at_the_limit = false;

    // 3. How many accepts in a row failed for want of resources.
    let mut failed_accepts = 0;

    // The accept loop. Go: for { conn, err := l.Accept() ... }
    loop {
        // 2. Wait for a permit before accepting: at the limit, new clients
        // wait in the kernel's listen queue, not in this process.
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => {
                at_the_limit = false;
                permit
            }
            Err(_) => {
                if !at_the_limit {
                    log::warn!(
                        "the limit of {max_connections} connections is reached: new clients wait"
                    );
                    at_the_limit = true;
                }
                tokio::select! {
                    permit = Arc::clone(&permits).acquire_owned() => permit.expect("the semaphore is never closed"),
                    () = shutdown.cancelled() => break,
                }
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (socket, peer) = match accepted {
            Ok(accepted) => accepted,
            // 3. Go: "the error could be temporary". This one ended a single
            // connection before we took it: skip it.
            Err(err) if ends_one_connection(&err) => {
                log::warn!("a connection failed before it was accepted: {err}");
                continue;
            }
            // 3. Out of file descriptors, buffers or memory. Retrying at once
            // fails at once, a busy loop at 100% CPU; pause instead, longer
            // each time (10 ms, 20 ms, ... up to a second), and log it once.
            Err(err) => {
                if failed_accepts == 0 {
                    log::error!("accept failed: {err}; pausing accepts until it works again");
                }
                let pause = Duration::from_millis(10 << failed_accepts.min(7)).min(MAX_PAUSE);
                failed_accepts += 1;
                tokio::select! {
                    () = tokio::time::sleep(pause) => continue,
                    () = shutdown.cancelled() => break,
                }
            }
        };
        if failed_accepts > 0 {
            log::info!("accepting again, after {failed_accepts} failed attempts");
            failed_accepts = 0;
        }
        log::info!("{peer} connected");
        // Go: go serviceConn(conn), now tracked, and holding its permit.
        connections.spawn(serve_connection(
            socket,
            peer,
            cli.timeout,
            grace_over.clone(),
            permit,
        ));
    }

    // 1. Stop accepting at once: closing the listener refuses new clients,
    // and resets those still waiting in its queue, never accepted.
    drop(listener);
    connections.close();
    let grace = humantime::format_duration(cli.grace);
    log::info!(
        "shutting down; open connections: {}, with {grace} to finish",
        connections.len()
    );
    if timeout(cli.grace, connections.wait()).await.is_err() {
        log::info!(
            "grace period over; closing the open connections: {}",
            connections.len()
        );
        grace_over.cancel();
        connections.wait().await;
    }
    log::info!("all connections closed, exiting");
}

/// Asks for Ctrl-C (SIGINT) and, on Unix, SIGTERM (what `kill` and service
/// managers send) at once, and returns a task that cancels `shutdown` when
/// one arrives, and ends the process when a second one does. Until a program
/// asks for them, these signals just kill it.
fn cancel_on_signal(shutdown: CancellationToken) -> impl Future<Output = ()> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).expect("cannot ask for SIGINT");
        (
            interrupt,
            signal(SignalKind::terminate()).expect("cannot ask for SIGTERM"),
        )
    };
    let mut first = true;
    async move {
        loop {
            #[cfg(unix)]
            let signal = tokio::select! {
                _ = interrupt.recv() => "Ctrl-C (SIGINT)",
                _ = terminate.recv() => "SIGTERM",
            };
            #[cfg(not(unix))]
            let signal = match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(_) => return,
            };
            if first {
                log::info!("{signal}: shutting down (a second one ends the server at once)");
                shutdown.cancel();
                first = false;
            } else {
                log::warn!("{signal} again: exiting now, without waiting for the connections");
                std::process::exit(1);
            }
        }
    }
}

/// Whether an accept error belongs to one connection that failed before it
/// was accepted (the client gave up, or the network failed it), rather than
/// to the server.
fn ends_one_connection(err: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | NetworkDown | NetworkUnreachable | HostUnreachable
    )
}

/// Stage 4's loop: copies what the client sends to stderr, 128 bytes at a
/// time, and hangs up on a client silent for `idle_timeout`. It also stops
/// when `grace_over` is cancelled, and holds `_permit` until it returns.
async fn serve_connection(
    mut socket: TcpStream,
    peer: SocketAddr,
    idle_timeout: Duration,
    grace_over: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    let mut stderr = common::stderr();
    let mut buf = [0u8; 128]; // Go: var buf [128]byte
    let mut received = 0;
    let ended = loop {
        let n = tokio::select! {
            // Go: conn.SetReadDeadline(time.Now().Add(5 * time.Second)); n, err := conn.Read(buf[:])
            read = timeout(idle_timeout, socket.read(&mut buf)) => match read {
                Err(_deadline_passed) => {
                    break Ok(format!("silent for {}", humantime::format_duration(idle_timeout)));
                }
                Ok(Ok(0)) => break Ok("the client closed the connection".to_string()),
                Ok(Err(err)) => break Err(err),
                Ok(Ok(n)) => n,
            },
            // 1. The grace period is over. What the client sent before is in
            // the kernel's buffer: copy it too, then close.
            () = grace_over.cancelled() => {
                let left = copy_what_is_left(&socket, &mut stderr, &mut received);
                break timeout(LEFT_OVER_TIME, left).await.unwrap_or(Ok("the server shut down".to_string()));
            }
        };
        received += n;
        // Go: os.Stderr.Write(buf[:n])
        if let Err(err) = stderr.write_all(&buf[..n]).await {
            break Err(err);
        }
    };
    match ended {
        Ok(why) => log::info!("{peer} finished after {received} bytes: {why}"),
        Err(err) => log::warn!("{peer} finished after {received} bytes with an error: {err}"),
    }
    // 2. `_permit` is dropped here with the socket: one more client may come in.
}

/// Copies to stderr what the client has sent and the kernel holds, without
/// waiting for more, and at most `LEFT_OVER` bytes of it, in large pieces
/// rather than stage 4's 128 bytes: the server is in a hurry now.
async fn copy_what_is_left(
    socket: &TcpStream,
    stderr: &mut Stderr,
    received: &mut usize,
) -> io::Result<String> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut copied = 0;
    while copied < LEFT_OVER {
        match socket.try_read(&mut buf) {
            Ok(0) => return Ok("the client closed the connection".to_string()),
            Ok(n) => {
                copied += n;
                *received += n;
                stderr.write_all(&buf[..n]).await?;
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) => return Err(err),
        }
    }
    Ok("the server shut down".to_string())
}
