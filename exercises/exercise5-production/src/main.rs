//! # Exercise 5: a graceful shutdown
//!
//! This is stage 5, all but its first step: it already limits its
//! connections (`limit.rs`), survives accept errors (`accept.rs`), and closes
//! silent and endless connections (`connection.rs`). But it can only be
//! stopped by killing it: Ctrl-C or `kill` end it at once, cutting every
//! client off mid-sentence. Give it a graceful shutdown, in `shutdown.rs`:
//!
//! 1. `on_signals` returns a `CancellationToken` that Ctrl-C (SIGINT) and,
//!    on Unix, SIGTERM cancel. The accept loop in `run` already stops when
//!    it is cancelled.
//! 2. `finish_connections` then lets the open connections go on for up to
//!    `grace`, and when the grace is over, cancels `grace_over` (each
//!    connection then copies what its client already sent and closes) and
//!    waits until they have all ended.
//!
//! That is what the checks ask. Stage 5 does a little more, which
//! `workshop solution 5` shows once yours passes: SIGHUP (a closed
//! terminal) shuts it down too, unless it runs under `nohup`, and a second
//! Ctrl-C ends it at once; the comments in `main.rs` speak of that stage.
//!
//! Go's tutorial has no shutdown; Go would use `signal.NotifyContext` and
//! `sync.WaitGroup`, which are what `CancellationToken` and `TaskTracker`
//! (both from tokio-util) are here.
//!
//! What you should see: `cargo run -p exercise5-production -- --grace 10s`,
//! `nc localhost 9000` in another terminal, then Ctrl-C on the server. It
//! says it is shutting down, a new `nc` is refused, the open one can still
//! type, and the server exits once that client quits, or 10 seconds later.
//!
//! Check it: `cargo run -q -p workshop -- check 5` (on Linux and macOS: the
//! checks send signals).
//! Stuck? `cargo run -q -p workshop -- hint 5` gives a hint, then another.

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
