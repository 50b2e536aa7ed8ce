//! # Exercise 2: serve each connection inside the accept loop
//!
//! This is stage 1's server: it closes each connection as soon as it accepts
//! it. Make it serve the connection instead: copy everything the client
//! sends to stderr until the client disconnects, then log how many bytes it
//! sent, as the Go tutorial's second program does:
//!
//! ```go
//! n, err := io.Copy(os.Stderr, conn)
//! if err != nil {
//!     log.Printf("Connection finished. Error %v", err)
//! }
//! log.Printf("Received %d bytes", n)
//! ```
//!
//! What to change: the line marked ✎ in `run`. Write an
//! `async fn serve_connection(mut socket: TcpStream, peer: SocketAddr)` that
//! copies the socket to stderr, and call it there with `.await`, so that the
//! loop serves the client to the end before it accepts the next.
//!
//! What you should see: `cargo run -p exercise2-accept-loop`, then
//! `nc localhost 9000` in two more terminals. Type in both: the first
//! client's lines appear on the server's stderr; the second's appear only
//! once you quit the first with Ctrl-C.
//!
//! Check it: `cargo run -q -p workshop -- check 2`.
//! Stuck? `cargo run -q -p workshop -- hint 2` gives a hint, then another.

use clap::Parser;
use common::OrExit;
use tokio::net::TcpListener;

/// Stage 2: serve each client inside the accept loop, so clients are served one at a time.
///
/// Try: `nc localhost 9000` from two terminals; the second is printed only after the first quits.
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
        // ✎ Stage 1's line: the connection is closed as soon as it is
        // accepted. Serve it instead, here in the loop: copy what the
        // client sends to stderr until it disconnects (Go: io.Copy).
        drop(socket);
    }
}
