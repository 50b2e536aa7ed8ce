//! # Stage 5: a server that survives its own success
//!
//! What this stage teaches: the Go tutorial stops at read deadlines, but it
//! leaves three remarks a real server must answer. This stage answers them,
//! each in a step of its own, marked with its number wherever it shows:
//!
//! 1. A server that can only be stopped by killing it: graceful shutdown
//!    (`shutdown.rs`). On Ctrl-C, SIGTERM or SIGHUP it stops accepting at
//!    once, lets the open connections finish for up to `--grace`, then copies
//!    what they already sent, closes them and exits 0. A second Ctrl-C ends it at once,
//!    and a stuck stderr does not hold it up: bytes still waiting for it when
//!    the grace period ends are given up, and the log counts them.
//! 2. "No file descriptors available": a connection limit (`limit.rs`). Each
//!    connection holds a permit from a semaphore; at the limit the server
//!    stops accepting, and new clients wait in the kernel's listen queue. A
//!    connection lasts at most `--max-lifetime` (`connection.rs`), so that
//!    clients that trickle a byte now and then cannot keep the places
//!    (slowloris) and the clients waiting get their turn.
//! 3. "The error could be temporary": accept errors no longer end the server
//!    (`accept.rs`). An error that belongs to one connection is logged and
//!    skipped; running out of resources is logged once, and accepting
//!    pauses, longer each time, until it works again.
//!
//! Serving one connection (`connection.rs`) is stage 4's deadline on the
//! copy of `stage3-splice` (`splice.rs`: on Linux, into a pipe or a file,
//! the kernel moves the bytes) or else of `stage3-lean-copy`, and the
//! listener has Go's long queue, as in `stage3-listen-queue`: every cost
//! lesson ends up here.
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
//! What changed since stage 4: `main` wires the steps; its accept loop asks
//! for a permit, then accepts, each step giving up when shutdown begins;
//! connections run in a `TaskTracker` so that shutdown can wait for them.

mod accept;
mod connection;
mod limit;
mod shutdown;
// Linux's splice(2) (`stage3-splice`); elsewhere a stand-in that never splices.
#[cfg(target_os = "linux")]
mod splice;
#[cfg(not(target_os = "linux"))]
#[path = "no_splice.rs"]
mod splice;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use common::OrExit;
use tokio::net::{TcpListener, TcpSocket};
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

    /// How long a client may stay silent before it is disconnected, such as 250ms, 5s or 1m (100ms to 24h)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = common::args::deadline, allow_hyphen_values = true)]
    timeout: Duration,

    /// How many clients to serve at once; more wait in the listen queue [default: the open-file limit less 32]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,

    /// The longest a connection may last, however much it sends: clients waiting for a place get one (100ms to 24h)
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = common::args::lifetime, allow_hyphen_values = true)]
    max_lifetime: Duration,

    /// On Ctrl-C, SIGTERM or SIGHUP, how long open connections may go on before they are closed (0s to 24h)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = common::args::duration, allow_hyphen_values = true)]
    grace: Duration,
}

fn main() {
    let cli: Cli = common::parse_args();
    common::init_logging(&cli.server);
    // What `#[tokio::main]` on an `async fn main` would do: start tokio's
    // runtime, then run the server's future on it. `common::runtime()` is
    // the runtime `#[tokio::main]` builds, but one that cannot start (an
    // open-file limit of 4, say) ends the server with one line, not a panic.
    common::runtime().block_on(run(cli));
}

/// The server: listen, accept clients until a signal says stop, then shut down.
async fn run(cli: Cli) {
    // 1. Signals are asked for before listening: from the first `listening
    // on` line, Ctrl-C, SIGTERM or SIGHUP cancels `shutdown` instead of
    // killing us.
    let shutdown = shutdown::on_signals();

    // Go: l, err := net.Listen("tcp", "localhost:9000"); if err != nil { log.Fatal(err) }
    let addr = cli.server.addr;
    let listener = listen_with_a_long_queue(addr).or_exit(format!("cannot listen on {addr}"));
    // The address we got: with port 0, the one the system picked.
    let addr = listener.local_addr().or_exit("cannot listen");
    log::info!("listening on {addr}");
    // Stderr, once, for every connection to splice into (`stage3-splice`):
    // `None` where the kernel cannot splice (a terminal, or off Linux).
    let spliced = splice::SplicedStderr::open().map(Arc::new);

    // 2. One permit per connection; by default, fewer than the open files
    // the process may have, since each connection is one.
    let max_connections = cli
        .max_connections
        .map_or_else(limit::default_max_connections, |n| n as usize);
    let mut limit = limit::ConnectionLimit::new(max_connections);
    // 3. Accepting that pauses on errors instead of ending the server.
    let mut listener = accept::PatientListener::new(listener);
    // 1. The connections' tasks, so that shutdown can wait for them, and
    // what tells them the grace period is over.
    let connections = TaskTracker::new();
    let grace_over = CancellationToken::new();

    // The accept loop. Go: for { conn, err := l.Accept() ... }
    // Each step returns `None` once shutdown has begun.
    loop {
        let Some(permit) = limit.permit(&shutdown).await else {
            break;
        };
        let Some((socket, peer)) = listener.accept(&shutdown).await else {
            break;
        };
        log::info!("{peer} connected");
        // Go: go serviceConn(conn), now tracked, and holding its permit.
        connections.spawn(connection::serve(
            socket,
            peer,
            connection::Limits {
                idle: cli.timeout,
                lifetime: cli.max_lifetime,
            },
            spliced.clone(),
            grace_over.clone(),
            permit,
        ));
    }

    // 1. Stop accepting at once: closing the listener refuses new clients,
    // and resets those still waiting in its queue, never accepted.
    drop(listener);
    shutdown::finish_connections(connections, cli.grace, grace_over).await;
    log::info!("all connections closed, exiting");
}

/// What `TcpListener::bind(addr)` does, but with the longest listen queue
/// the system allows, as Go's `net.Listen` asks for (`stage3-listen-queue`).
fn listen_with_a_long_queue(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // A restarted server must not wait for its old connections to time out
    // before it can listen on the same port again. `bind` sets this on Unix
    // too; on Windows it would let another program take the port.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // Asking for more than the system allows gets the system's maximum:
    // `net.core.somaxconn` on Linux, `kern.ipc.somaxconn` on macOS.
    socket.listen(u32::MAX)
}
