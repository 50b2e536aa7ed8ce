//! # Exercise 3: serve clients together
//!
//! This is stage 2's server: it serves each client inside the accept loop, so
//! a second client waits until the first disconnects. Make it serve every
//! client at once, as the Go tutorial's third program does with
//! `go serviceConn(conn)`.
//!
//! What to change: the line marked ✎ in `run`. Its `.await` makes the loop
//! wait for the client to finish; hand the connection to a task of its own
//! instead, and let the loop go straight back to `accept`.
//!
//! What you should see: `cargo run -p exercise3-concurrent`, then
//! `nc localhost 9000` in two more terminals. Type in both: both clients'
//! lines appear on the server's stderr as you type them.
//!
//! Check it: `cargo run -q -p workshop -- check 3`.
//! Stuck? `cargo run -q -p workshop -- hint 3` gives a hint, then another.

use std::net::SocketAddr;

use clap::Parser;
use common::OrExit;
use tokio::io;
use tokio::net::{TcpListener, TcpStream};

/// Stage 3: serve each client in a task of its own, so clients are served together.
///
/// Try: `nc localhost 9000` from two terminals; both are printed as you type.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    server: common::ServerArgs,
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

/// The server: listen, then accept clients until the process ends.
async fn run(cli: Cli) {
    // Go: l, err := net.Listen("tcp", "localhost:9000"); if err != nil { log.Fatal(err) }
    // (`--addr` arrives as an IP address: `common` resolved the host name
    // as Go does, IPv4 first.)
    let addr = cli.server.addr;
    let listener = TcpListener::bind(addr)
        .await
        .or_exit(format!("cannot listen on {addr}"));
    // The address we got: with port 0, the one the system picked.
    let addr = listener.local_addr().or_exit("cannot listen");
    log::info!("listening on {addr}");

    // The accept loop. Go: for { conn, err := l.Accept() ... }
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Go: log.Fatal(err). The error could be temporary (out of file
                // descriptors, say); like the Go tutorial, this stage gives up.
                log::error!("accept failed: {err}");
                std::process::exit(1);
            }
        };
        log::info!("{peer} connected");
        // ✎ Stage 2's line: the loop waits here until this client
        // disconnects. Go's stage 3 says `go serviceConn(conn)` instead.
        serve_connection(socket, peer).await;
    }
}

/// Copies everything the client sends to stderr, then logs how it ended.
async fn serve_connection(mut socket: TcpStream, peer: SocketAddr) {
    // Go: n, err := io.Copy(os.Stderr, conn)
    // `common::stderr()` stands where `tokio::io::stderr()` would. tokio's
    // hands every write to a thread of its blocking pool, and while stderr
    // is stuck (a terminal paused with Ctrl-S) each client with bytes to
    // write holds one of those threads; this one queues the bytes for a
    // single writer thread. `stage4-tokio-stderr` shows the difference.
    match io::copy(&mut socket, &mut common::stderr()).await {
        // Go: log.Printf("Received %d bytes", n)
        Ok(n) => log::info!("{peer} finished after {n} bytes: the client closed the connection"),
        // Go: log.Printf("Connection finished. Error %v", err). Go's io.Copy
        // returns the count and the error; ours returns one or the other.
        Err(err) => log::warn!("{peer} finished with an error: {err}"),
    }
    // The Go tutorial never closes `conn` here; Rust drops the socket, which closes it.
}
