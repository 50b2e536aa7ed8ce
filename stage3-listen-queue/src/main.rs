//! # Stage 3 with Go's listen queue: a burst of clients, all let in
//!
//! What this lesson teaches: the kernel completes a client's connection
//! before the server calls `accept`, and keeps it in the listener's *listen
//! queue* until then. `TcpListener::bind` asks for a queue of 128. When a
//! burst of clients finds it full, the kernel drops their handshakes, and
//! each dropped client tries again only a second later. Go's `net.Listen`
//! asks for the longest queue the system allows (4096 on a default Linux);
//! tokio's `TcpSocket` lets us ask for it too, by building the listener in
//! the steps `bind` takes for us: make a socket, bind it, listen.
//! `workshop bench` shows it: stage 3 overflows its queue in a burst of 64
//! clients connecting at a time, this lesson never does.
//!
//! Run it: `cargo run -p stage3-listen-queue`
//!
//! Try this: `ss -ltn 'sport = :9000'` (Linux) shows the queue's length as
//! Send-Q: 4096 here, 128 for stage 3. Then a burst:
//! `cargo run -q -p workshop -- load --stage stage3-listen-queue churn -n 20000 -c 64`
//! and the same with `--stage stage3-concurrent`; compare the overflows.
//!
//! What changed since stage 3: `TcpListener::bind(addr)` became
//! `listen_with_a_long_queue(addr)`.

use std::net::SocketAddr;

use clap::Parser;
use common::OrExit;
use tokio::io;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Stage 3 with Go's listen queue: the longest the system allows, so a burst of clients is let in.
///
/// Try: `nc localhost 9000` from two terminals; both are printed as you type, as with stage 3.
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
    let listener = listen_with_a_long_queue(addr).or_exit(format!("cannot listen on {addr}"));
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
        tokio::spawn(serve_connection(socket, peer));
    }
}

/// What `TcpListener::bind(addr)` does, but with the longest listen queue
/// the system allows, as Go's `net.Listen` asks for.
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
