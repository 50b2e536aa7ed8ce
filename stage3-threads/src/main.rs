//! # Stage 3, the other way: one thread per connection
//!
//! What this stage teaches: the road the Go tutorial warns against. It is
//! stage 3 with no async at all: std's blocking sockets, and a thread
//! spawned where stage 3 has `tokio::spawn`. It works, and the
//! code is as short; the difference is the cost. Each connection gets an
//! operating-system thread, with its own stack (2 MiB of address space
//! reserved, of which the pages it touches take memory) and a kernel thread
//! to schedule, where a task costs what it holds across an `.await`.
//!
//! Run it: `cargo run -p stage3-threads`
//!
//! Try this: `nc localhost 9000` from two terminals, as with stage 3; then
//! compare the two with many clients:
//! `cargo run -q -p workshop -- compare --stages stage3-concurrent,stage3-threads`
//! and watch the threads and the memory in the crowd table.
//!
//! What changed since stage 3: no `#[tokio::main]`, no `.await`. The
//! listener is std's, `thread::Builder::spawn` replaces `tokio::spawn`, and
//! `std::io::copy` replaces `tokio::io::copy`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use clap::Parser;
use common::OrExit;

/// Stage 3 with threads: serve each client on an OS thread of its own, the cost the tutorial warns of.
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

    // Go: l, err := net.Listen("tcp", "localhost:9000"); if err != nil { log.Fatal(err) }
    let addr = cli.server.addr;
    let listener = TcpListener::bind(addr).or_exit(format!("cannot listen on {addr}"));
    // The address we got: with port 0, the one the system picked.
    let addr = listener.local_addr().or_exit("cannot listen");
    log::info!("listening on {addr}");

    // The accept loop. Go: for { conn, err := l.Accept() ... }
    loop {
        let (socket, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(err) => {
                // Go: log.Fatal(err). The error could be temporary (out of file
                // descriptors, say); like the Go tutorial, this stage gives up.
                log::error!("accept failed: {err}");
                std::process::exit(1);
            }
        };
        log::info!("{peer} connected");
        // Go: go serviceConn(conn), with a thread instead of a goroutine.
        // `Builder::spawn` returns an error where `thread::spawn` panics: when
        // the system refuses one more thread (too many already), this one
        // client is turned away and the server goes on. (The process can
        // still die: on Linux each thread takes four memory mappings, and
        // near 16,400 threads the next thread's signal stack cannot be
        // mapped, which aborts the process. The cost is real.)
        let spawned = thread::Builder::new().spawn(move || serve_connection(socket, peer));
        if let Err(err) = spawned {
            log::warn!("{peer} turned away: no thread for it: {err}");
        }
    }
}

/// Copies everything the client sends to stderr, then logs how it ended.
fn serve_connection(mut socket: TcpStream, peer: SocketAddr) {
    // Go: n, err := io.Copy(os.Stderr, conn)
    // The same stderr as the other stages (common/src/stderr.rs): the log
    // goes through its queue, so the clients' bytes must too, to stay in
    // order with the log lines.
    match std::io::copy(&mut socket, &mut common::stderr()) {
        // Go: log.Printf("Received %d bytes", n)
        Ok(n) => log::info!("{peer} finished after {n} bytes: the client closed the connection"),
        // Go: log.Printf("Connection finished. Error %v", err). Go's io.Copy
        // returns the count and the error; std's returns one or the other.
        Err(err) => log::warn!("{peer} finished with an error: {err}"),
    }
    // The Go tutorial never closes `conn` here; Rust drops the socket, which closes it.
}
