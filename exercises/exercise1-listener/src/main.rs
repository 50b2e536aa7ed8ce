//! # Exercise 1: a listener and its accept loop
//!
//! Write the Go tutorial's first program: a server that listens on an
//! address, then accepts connections in a loop, and closes each one.
//!
//! ```go
//! l, err := net.Listen("tcp", "localhost:9000")
//! if err != nil {
//!     log.Fatal(err)
//! }
//! // The accept loop
//! for {
//!     conn, err := l.Accept()
//!     if err != nil {
//!         log.Fatal(err)
//!     }
//! }
//! ```
//!
//! What to change: the body of `run`, marked ✎. Bind a
//! `tokio::net::TcpListener` to `cli.server.addr`, log
//! `listening on ADDR` with the address it got, then `accept` in a loop.
//! Log each client's address, and let its socket go: dropping a socket
//! closes the connection. Add the `use` lines you need at the top:
//! `use tokio::net::TcpListener;` (the compiler may suggest
//! `std::net::TcpListener`, whose calls block: not that one), and
//! `use common::OrExit;` for the course's `.or_exit("...")`.
//!
//! What you should see: `cargo run -p exercise1-listener` says
//! `listening on 127.0.0.1:9000`; from a second terminal,
//! `nc localhost 9000 </dev/null` connects and is closed at once, and the
//! server logs the connection.
//!
//! Check it: `cargo run -q -p workshop -- check 1`.
//! Stuck? `cargo run -q -p workshop -- hint 1` gives a hint, then another.

use clap::Parser;

/// Stage 1: bind a listener, then accept connections in a loop (and close each one).
///
/// Try: `nc localhost 9000 </dev/null` (any system: `cargo run -q -p workshop -- client`) from another terminal; the server logs the connection and closes it.
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
    // ✎ Listen on `addr`, then accept clients in a loop (Go's
    // net.Listen and l.Accept), closing each one.
    let addr = cli.server.addr;
    todo!("listen on {addr}, then accept clients in a loop and close each one")
}
