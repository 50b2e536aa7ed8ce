//! # Stage 4 with tokio's own stderr: what `tokio::io::stderr()` costs
//!
//! What this lesson teaches: why the other stages write to `common::stderr()`
//! where you would expect `tokio::io::stderr()`. This is stage 4 as you
//! would first write it, with tokio's stderr for the clients' bytes and
//! env_logger's own stderr for the log. It works, and costs in three ways:
//!
//! - Writing a file cannot wait the async way, so tokio hands every write to
//!   a thread of its *blocking pool* (threads tokio keeps for work that
//!   blocks) and the task waits for that thread: one hand-over per 128-byte
//!   write. `workshop bench` measures stage 4 moving many times more.
//! - While stderr is stuck (a terminal paused with Ctrl-S, a pipe nobody
//!   reads), each client with bytes to write holds one of those threads.
//! - env_logger writes each log line from the thread that logs it. Stuck on
//!   stderr, a log line blocks a runtime thread; with the runtime's few
//!   threads blocked, the server stops closing silent clients.
//!
//! `common::stderr()` queues every write, log lines included, for one
//! thread that writes all that is queued at once (common/src/stderr.rs).
//!
//! Run it: `cargo run -p stage4-tokio-stderr -- --timeout 3s`
//!
//! Try this: as with stage 4, two clients, one silent; then press Ctrl-S in
//! the server's terminal (a paused terminal: stderr is stuck), wait past the
//! deadline, and press Ctrl-Q. The silent client was not closed on time.
//! Stage 4 closes it while its terminal is paused.
//!
//! What changed since stage 4: the logger is env_logger's default,
//! `tokio::io::stderr()` replaces `common::stderr()`, and a `flush` keeps
//! the clients' bytes ahead of the log line.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use common::OrExit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Stage 4 with tokio's own stderr: a hand-over to another thread for every write, the cost shown.
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
    // The other stages' logging, but written to stderr the usual way: by the
    // thread that logs, as each line comes.
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if let Some(file) = common::log_file(&cli.server) {
        logger.target(env_logger::Target::Pipe(Box::new(file)));
    }
    logger.format_timestamp_millis().init();
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
    // tokio's own stderr: each write goes to a thread of the blocking pool.
    let mut stderr = tokio::io::stderr();
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
        // Go: os.Stderr.Write(buf[:n]), with a client's control characters
        // shown escaped when stderr is a terminal (common/src/terminal.rs says why).
        let shown = common::terminal::for_the_terminal(&buf[..n]);
        if let Err(err) = stderr.write_all(&shown).await {
            break Err(err);
        }
    };
    // tokio's stderr says a write is done once its thread has the bytes,
    // before they are written: wait for them, or the log line, written
    // straight away, can overtake them.
    let ended = match stderr.flush().await {
        Ok(()) => ended,
        Err(err) => ended.and(Err(err)),
    };
    // Go: log.Printf("Connection finished. Error %v", err)
    match ended {
        Ok(why) => log::info!("{peer} finished after {received} bytes: {why}"),
        Err(err) => log::warn!("{peer} finished after {received} bytes with an error: {err}"),
    }
    // Go: defer conn.Close(). Here `socket` goes out of scope, which closes it.
}
