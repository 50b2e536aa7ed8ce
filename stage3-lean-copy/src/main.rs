//! # Stage 3, lean: no buffer while a client is idle
//!
//! What this lesson teaches: a task's memory is what it holds across an
//! `.await`. Stage 3's `io::copy` allocates an 8 KiB buffer when the copy
//! starts and holds it until the copy ends, so every idle client costs
//! those 8 KiB. Here the task first waits until the socket is *readable*
//! (the client sent something, or left) holding nothing but the socket, and
//! only then makes a buffer, reads what is there, writes it to stderr and
//! lets the buffer go. This is how tokio's own documentation of
//! `TcpStream::readable` reads a socket. `workshop bench` measures it: about
//! 1 KiB per idle client here, against 9 to 10 KiB for stage 3.
//!
//! Run it: `cargo run -p stage3-lean-copy`
//!
//! Try this: `nc localhost 9000` from two terminals, as with stage 3; then
//! hold many idle clients and watch the server's memory:
//! `cargo run -q -p workshop -- load --stage stage3-lean-copy hold -n 10000`
//! against the same with `--stage stage3-concurrent`.
//!
//! What changed since stage 3: `serve_connection` waits with
//! `socket.readable()` and reads with `try_read_buf` into a buffer that
//! lives from the read to the write, instead of calling `io::copy`.

use std::net::SocketAddr;

use clap::Parser;
use common::OrExit;
use tokio::io::{self, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Stage 3, lean: a task per client that holds no buffer while its client is idle.
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
        tokio::spawn(serve_connection(socket, peer));
    }
}

/// The most one read takes from the socket. The buffer exists only from a
/// read to its write, so it can be large: each read is a system call,
/// whatever its size, and fewer calls move more bytes.
const READ_SIZE: usize = 64 * 1024;

/// Copies everything the client sends to stderr, then logs how it ended,
/// holding no buffer while it waits for the client.
async fn serve_connection(socket: TcpStream, peer: SocketAddr) {
    let mut stderr = common::stderr();
    // Go: n, err := io.Copy(os.Stderr, conn), by hand.
    let mut copied = 0;
    let ended = loop {
        // Wait until the client has sent something, or left. While a task
        // waits here, it holds the socket and these few variables: no buffer.
        if let Err(err) = socket.readable().await {
            break Err(err);
        }
        // A buffer now, for as long as it takes to read it and write it out.
        let mut buf = Vec::with_capacity(READ_SIZE);
        match socket.try_read_buf(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => copied += n,
            // "Readable" can be a false alarm: nothing to read after all.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
            Err(err) => break Err(err),
        }
        if let Err(err) = stderr.write_all(&buf).await {
            break Err(err);
        }
        // `buf` is dropped here, before the next wait.
    };
    match ended {
        // Go: log.Printf("Received %d bytes", n)
        Ok(()) => {
            log::info!("{peer} finished after {copied} bytes: the client closed the connection")
        }
        // Go: log.Printf("Connection finished. Error %v", err)
        Err(err) => log::warn!("{peer} finished after {copied} bytes with an error: {err}"),
    }
    // The Go tutorial never closes `conn` here; Rust drops the socket, which closes it.
}
