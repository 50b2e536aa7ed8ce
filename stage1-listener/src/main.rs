//! # Stage 1: a listener and its accept loop
//!
//! What this stage teaches: a server binds a listener to an address, then
//! loops on `accept`, which waits until a client connects and hands back a
//! socket for that one connection.
//!
//! Run it: `cargo run -p stage1-listener`
//!
//! Try this, from a second terminal: `nc localhost 9000 </dev/null` (on
//! any system: `cargo run -q -p workshop -- client`). The server logs the
//! connection, and the client exits at once: this stage drops every socket
//! it accepts, and dropping a socket closes the connection.
//!
//! What changed: this is where the course starts, at the Go tutorial's first
//! program.

use clap::Parser;
use common::OrExit;
use tokio::net::TcpListener;

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
        log::info!("{peer} connected; dropping the socket closes the connection");
        // Go's loop never closes `conn`: the connection stays open, holding a
        // file descriptor, until the garbage collector happens to finalize it.
        // In Rust the socket is dropped at the end of the iteration that owns
        // it, and dropping a socket closes the connection, at once.
        drop(socket);
    }
}
