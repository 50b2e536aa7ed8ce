//! # Exercise 4: a read deadline closes idle clients
//!
//! This is stage 3's server, which already takes `--timeout` and hands it to
//! `serve_connection`. A client that connects and says nothing holds its
//! socket for as long as it likes; enough of them and the server runs out of
//! file descriptors. Give every read a deadline, as the Go tutorial's fourth
//! program does:
//!
//! ```go
//! func serviceConn(conn net.Conn) {
//!     defer conn.Close()
//!     for {
//!         conn.SetReadDeadline(time.Now().Add(5 * time.Second))
//!         var buf [128]byte
//!         n, err := conn.Read(buf[:])
//!         if err != nil {
//!             log.Printf("Connection finished. Error %v", err)
//!             return
//!         }
//!         os.Stderr.Write(buf[:n])
//!     }
//! }
//! ```
//!
//! What to change: `serve_connection`, marked ✎. Instead of one `io::copy`,
//! read into a 128-byte buffer in a loop, each read with a deadline of
//! `idle_timeout`, and write what you read to stderr. A client that stays
//! silent longer than that is disconnected; one that keeps talking never is,
//! because each read starts a new deadline.
//!
//! What you should see: `cargo run -p exercise4-timeouts -- --timeout 3s`,
//! then `nc localhost 9000` in two more terminals. Type a line every second
//! or two in the first and leave the second alone: three seconds after it
//! connected, the silent one is disconnected, and the first stays.
//!
//! Check it: `cargo run -q -p workshop -- check 4` (it runs your server with
//! `--timeout 1s`).
//! Stuck? `cargo run -q -p workshop -- hint 4` gives a hint, then another.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use common::OrExit;
use tokio::io;
use tokio::net::{TcpListener, TcpStream};

/// Stage 4: give every read a deadline, so a client that stays silent is disconnected.
///
/// Try: `nc localhost 9000` from two terminals, type in one only; the silent one is closed after --timeout.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    server: common::ServerArgs,

    /// How long a client may stay silent before it is disconnected, such as 250ms, 5s or 1m (100ms to 24h)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = common::args::deadline, allow_hyphen_values = true)]
    timeout: Duration,
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
        // Go: go serviceConn(conn). The task owns the socket and runs on its
        // own; the loop does not wait for it and accepts the next client.
        tokio::spawn(serve_connection(socket, peer, cli.timeout));
    }
}

/// Copies everything the client sends to stderr, then logs how it ended.
///
/// ✎ Stage 3's: make it hang up on a client that stays silent for
/// `idle_timeout`. (Its name starts with `_` to tell Rust it is not used
/// yet: rename it to `idle_timeout` when you use it.)
async fn serve_connection(mut socket: TcpStream, peer: SocketAddr, _idle_timeout: Duration) {
    // Go: n, err := io.Copy(os.Stderr, conn)
    match io::copy(&mut socket, &mut common::stderr()).await {
        // Go: log.Printf("Received %d bytes", n)
        Ok(n) => log::info!("{peer} finished after {n} bytes: the client closed the connection"),
        // Go: log.Printf("Connection finished. Error %v", err)
        Err(err) => log::warn!("{peer} finished with an error: {err}"),
    }
}
