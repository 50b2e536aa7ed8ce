//! # Stage 4: a read deadline closes idle clients
//!
//! What this stage teaches: a client that connects and then says nothing holds
//! a socket (a file descriptor) for as long as it likes, and enough of them
//! exhaust the server ("No file descriptors available"). So every read gets a
//! deadline: `tokio::time::timeout` around each `read`, the port of Go's
//! `SetReadDeadline`. A client that stays silent longer than `--timeout` is
//! disconnected; one that keeps talking is never closed, because the deadline
//! starts again with every read.
//!
//! Run it: `cargo run -p stage4-timeouts -- --timeout 3s`
//!
//! Try this, from two more terminals: `nc localhost 9000` in each. Type a line
//! every second or two in the first; leave the second alone. Three seconds
//! after it connected, the silent client is disconnected and the server logs
//! why; the first stays connected for as long as it keeps typing.
//!
//! What changed since stage 3: `serve_connection` reads into Go's
//! 128-byte buffer in a loop, with a deadline on each read, instead of one
//! `io::copy`; and the socket is closed on purpose, where Go says
//! `defer conn.Close()`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use common::OrExit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

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

/// Copies what the client sends to stderr, 128 bytes at a time, and hangs up
/// on a client that stays silent for `idle_timeout`.
async fn serve_connection(mut socket: TcpStream, peer: SocketAddr, idle_timeout: Duration) {
    // Not `tokio::io::stderr()`, which hands each write to another thread:
    // this one queues it for a thread that writes all that is queued at
    // once, which is what lets 128-byte writes keep up. `stage4-tokio-stderr`
    // is this stage with tokio's, to measure the difference.
    let mut stderr = common::stderr();
    let mut buf = [0u8; 128]; // Go: var buf [128]byte
    let mut received = 0;
    // How the connection ended: Ok(why) when the client closed it or went
    // silent, Err(error) when reading or writing failed.
    let ended = loop {
        // Go: conn.SetReadDeadline(time.Now().Add(5 * time.Second)); n, err := conn.Read(buf[:])
        // The deadline is set anew for each read. When it passes, `timeout`
        // drops the unfinished read, which loses no data (`read` is cancel-safe).
        let n = match timeout(idle_timeout, socket.read(&mut buf)).await {
            Err(_deadline_passed) => {
                break Ok(format!(
                    "silent for {}",
                    humantime::format_duration(idle_timeout)
                ));
            }
            Ok(Ok(0)) => break Ok("the client closed the connection".to_string()),
            Ok(Err(err)) => break Err(err),
            Ok(Ok(n)) => n,
        };
        received += n;
        // Go: os.Stderr.Write(buf[:n])
        if let Err(err) = stderr.write_all(&buf[..n]).await {
            break Err(err);
        }
    };
    // Go: log.Printf("Connection finished. Error %v", err)
    match ended {
        Ok(why) => log::info!("{peer} finished after {received} bytes: {why}"),
        Err(err) => log::warn!("{peer} finished after {received} bytes with an error: {err}"),
    }
    // Go: defer conn.Close(). Here `socket` goes out of scope, which closes it.
}
