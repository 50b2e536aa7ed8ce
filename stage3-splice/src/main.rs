//! # Stage 3, spliced: the bytes never enter the server (Linux)
//!
//! What this lesson teaches: what Go 1.21's `io.Copy(os.Stderr, conn)` does
//! for you on Linux, and what it costs. Every other stage reads a client's
//! bytes into a buffer and writes them out again: two copies, kernel to
//! process and back. `splice(2)` hands the kernel's pages from the socket to
//! stderr without either copy, but one side of a splice must be a pipe, so
//! the bytes go socket → pipe → stderr (`src/splice.rs`), and a pipe is
//! two file descriptors. Go takes a pipe when the copy starts and holds it
//! while the client is idle: three descriptors a client, so under a limit
//! of 20,000 open files Go 1.23's stage 3 dies near 6,600 idle clients.
//! Here a task holds a pipe only from the splice in to the splice out, like
//! the lean copy's buffer, taken from at most 8 kept for every client: 16
//! descriptors, however many clients. `workshop bench` measures it: the
//! fastest copy of the course, into /dev/null and into a pipe, ahead of Go
//! 1.23's stage 3.
//!
//! Where the kernel cannot splice, this is `stage3-lean-copy`: off Linux (as
//! Go's `io.Copy` is there), on a terminal (whose bytes must have their
//! control characters escaped, so they go through `common::stderr()`), into
//! a file opened to append (`2>>`) or a socket, and once stderr refuses a
//! splice (a pipe whose reader is gone, `/dev/full`).
//!
//! A spliced client's bytes skip `common::stderr()`'s queue, where the log
//! lines wait for its writer thread, so a task splices into stderr only in
//! a turn of its own, as Go holds stderr's lock: the line saying a client
//! connected still comes before its bytes, and nobody's bytes are cut in
//! two by another's.
//!
//! Run it: `cargo run -q -p stage3-splice -- --log-file /dev/stdout
//! 2>received.txt`: the log on the terminal, the clients' bytes in a file,
//! where they are spliced (on a terminal they would be copied).
//!
//! Try this: `nc localhost 9000` from two terminals and type in both; what
//! you type lands in `received.txt`. Then, from another terminal,
//! `strace -f -e trace=splice,read -p $(pgrep stage3-splice)` shows each
//! line go through two splices, socket → pipe and pipe → file, and no
//! `read` at all.
//!
//! What changed since `stage3-lean-copy`: `run` opens stderr for splicing
//! once and hands it to each task; `serve_connection`, once the socket is
//! readable, takes a pipe, fills it from the socket, empties it into stderr
//! and gives it back, where it can, and reads into a buffer where it cannot.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use common::OrExit;
use tokio::io::{self, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// Linux's splice(2); elsewhere a stand-in that never splices.
#[cfg(target_os = "linux")]
mod splice;
#[cfg(not(target_os = "linux"))]
#[path = "no_splice.rs"]
mod splice;

use splice::SplicedStderr;

/// Stage 3, spliced: a task per client whose bytes go socket → pipe → stderr with splice(2), never through the server (Linux; elsewhere, the lean copy).
///
/// Try: `nc localhost 9000` from two terminals, with the server's stderr in a file (2>received.txt) or a pipe.
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
    // Stderr, once, for every task to splice into: `None` where the kernel
    // cannot splice (a terminal, or off Linux).
    let spliced = SplicedStderr::open().map(Arc::new);
    match spliced {
        Some(_) => {
            log::info!("clients' bytes go to stderr by splice(2), never through this process")
        }
        None => {
            log::info!("clients' bytes are copied to stderr through a buffer: no splice(2) here")
        }
    }

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
        tokio::spawn(serve_connection(socket, peer, spliced.clone()));
    }
}

/// The most one read takes from the socket. The buffer exists only from a
/// read to its write, so it can be large: each read is a system call,
/// whatever its size, and fewer calls move more bytes.
const READ_SIZE: usize = 64 * 1024;

/// Copies everything the client sends to stderr, then logs how it ended,
/// holding no buffer (nor pipe) while it waits for the client.
async fn serve_connection(
    socket: TcpStream,
    peer: SocketAddr,
    spliced: Option<Arc<SplicedStderr>>,
) {
    let mut stderr = common::stderr();
    // Go: n, err := io.Copy(os.Stderr, conn), by hand.
    let mut copied = 0;
    let ended = loop {
        // Wait until the client has sent something, or left. While a task
        // waits here, it holds the socket and these few variables.
        if let Err(err) = socket.readable().await {
            break Err(err);
        }
        // Socket → pipe → stderr, where the kernel can: what Go 1.21's
        // io.Copy does on Linux.
        if let Some(target) = &spliced {
            // A pipe now, for as long as the bytes are on their way. With
            // none free, the buffer below takes this round.
            if let Some(mut pipe) = target.pipe() {
                match pipe.fill_from(&socket) {
                    Ok(0) => {
                        pipe.give_back();
                        break Ok(());
                    }
                    Ok(n) => {
                        copied += n;
                        if let Err(err) = pipe.empty_into(target).await {
                            // Stderr refused a splice: what is left in the
                            // pipe, and every later byte, go the ordinary
                            // way, in order.
                            target.refused(&err);
                            let left = match pipe.read_what_is_left() {
                                Ok(left) => left,
                                Err(err) => break Err(err),
                            };
                            if let Err(err) = stderr.write_all(&left).await {
                                break Err(err);
                            }
                        }
                        // The pipe is empty: the next bytes, of any client,
                        // may use it.
                        pipe.give_back();
                        continue;
                    }
                    // "Readable" can be a false alarm: nothing to move after all.
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        pipe.give_back();
                        continue;
                    }
                    // Bytes past urgent data, which only a read takes: the
                    // buffer below takes this round.
                    Err(err) if err.kind() == io::ErrorKind::Unsupported => pipe.give_back(),
                    Err(err) => {
                        pipe.give_back();
                        break Err(err);
                    }
                }
            }
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
