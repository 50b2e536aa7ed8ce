//! Serving one connection: stage 4's deadline on `stage3-splice`'s copy,
//! which moves the client's bytes socket → pipe → stderr without reading
//! them into the server (on Linux, into a pipe or a file), and otherwise
//! reads them with `stage3-lean-copy`'s buffer, which exists only from a
//! read to its write. Two more ways to end: the connection has lasted as
//! long as it may (2), or the grace period of a shutdown (1) is over.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::stderr::Stderr;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_util::sync::CancellationToken;

use crate::splice::{Pipe, SplicedStderr};

/// The most one read takes from the socket. The buffer exists only from a
/// read to its write, so it can be large: each read is a system call,
/// whatever its size, and fewer calls move more bytes.
const READ_SIZE: usize = 64 * 1024;

/// Once the grace period is over, what a client sent and the server has not
/// read yet is copied, but at most this much and for at most this long: a
/// client that keeps sending must not hold the shutdown up. (By then the
/// server has been reading all through the grace period, so little is left.)
const LEFT_OVER: usize = 1 << 20;
const LEFT_OVER_TIME: Duration = Duration::from_secs(1);

/// How long a connection may stay silent, and how long it may last.
pub struct Limits {
    pub idle: Duration,
    /// A client that sends a byte just before each idle deadline would
    /// otherwise keep its place (2) for ever, and with a few of them the
    /// server is full (the slowloris attack). Past its lifetime a connection
    /// is closed: a client that wants more reconnects, behind those waiting.
    /// (A write waiting for a stuck stderr finishes first: the lifetime is
    /// no reason to drop bytes already read.)
    pub lifetime: Duration,
}

/// Copies what the client sends to stderr (by splice, into `spliced` where
/// the kernel can) and hangs up on a client silent for `limits.idle`, one
/// connected for `limits.lifetime`, or once `grace_over` is cancelled.
/// Holds `_permit` (2) until it returns.
pub async fn serve(
    socket: TcpStream,
    peer: SocketAddr,
    limits: Limits,
    spliced: Option<Arc<SplicedStderr>>,
    grace_over: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    let mut stderr = common::stderr();
    // Bytes read from the client, and how many of them stderr never took.
    let mut received = 0;
    let mut unwritten = 0;
    // Go: conn.SetReadDeadline(time.Now().Add(5 * time.Second)), again
    // after every read.
    let mut deadline = Instant::now() + limits.idle;
    let end_of_life = Instant::now() + limits.lifetime;
    // How the connection ended: Ok(why) when the client closed it, went
    // silent or the server shut down, Err(error) when reading or writing failed.
    let ended = loop {
        // 2. However much it sends, its time is up. Checked on every round:
        // a client whose bytes are always waiting never lets a deadline fire.
        if Instant::now() >= end_of_life {
            let lifetime = humantime::format_duration(limits.lifetime);
            break Ok(format!(
                "open for {lifetime}, the longest a connection may last"
            ));
        }
        // Wait until the client sends something, holding no buffer, until
        // the sooner of silence's deadline and the end of its life.
        let ready = tokio::select! {
            // First: a client that always has bytes waiting is no reason to
            // read on once the grace period is over.
            biased;
            // 1. The grace period is over. What the client sent before is in
            // the kernel's buffer: copy it too, then close.
            () = grace_over.cancelled() => {
                break copy_what_is_left(&socket, &mut stderr, &mut received, &mut unwritten).await;
            }
            ready = timeout_at(deadline.min(end_of_life), socket.readable()) => ready,
        };
        match ready {
            // 2. Its life is over: said at the top of the loop.
            Err(_deadline_passed) if Instant::now() >= end_of_life => continue,
            Err(_deadline_passed) => {
                let idle = humantime::format_duration(limits.idle);
                break Ok(format!("silent for {idle}"));
            }
            Ok(Err(err)) => break Err(err),
            Ok(Ok(())) => {}
        }
        // Socket → pipe → stderr, where the kernel can (`stage3-splice`).
        if let Some(target) = &spliced {
            // With no pipe free, the buffer below takes this round.
            if let Some(mut pipe) = target.pipe() {
                match pipe.fill_from(&socket) {
                    Ok(0) => {
                        pipe.give_back();
                        break Ok("the client closed the connection".to_string());
                    }
                    Ok(n) => {
                        received += n;
                        deadline = Instant::now() + limits.idle;
                        let written = write_spliced(&mut pipe, target, &mut stderr, &grace_over);
                        match written.await {
                            Ok(0) => {}
                            Ok(lost) => {
                                unwritten += lost;
                                break Ok("the server shut down".to_string());
                            }
                            Err(err) => {
                                unwritten += pipe.holds();
                                break Err(err);
                            }
                        }
                        pipe.give_back();
                        // The next round sees whether the grace period
                        // ended meanwhile, and copies what is left if so.
                        continue;
                    }
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
        // Go: n, err := conn.Read(buf[:]), into a buffer that lives until it
        // is written.
        let mut buf = Vec::with_capacity(READ_SIZE);
        match socket.try_read_buf(&mut buf) {
            Ok(0) => break Ok("the client closed the connection".to_string()),
            Ok(n) => {
                received += n;
                deadline = Instant::now() + limits.idle;
            }
            // "Readable" can be a false alarm: wait again, for what is left
            // of the same deadline.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
            Err(err) => break Err(err),
        }
        // Go: os.Stderr.Write(buf[:n]). While stderr is stuck this waits,
        // but not past the grace period (1).
        match write_unless(&mut stderr, &buf, grace_over.cancelled()).await {
            Ok(true) => {}
            Ok(false) => {
                unwritten += buf.len();
                break Ok("the server shut down".to_string());
            }
            Err(err) => break Err(err),
        }
    };
    let lost = match unwritten {
        0 => String::new(),
        n => format!(" ({n} of them never written: stderr was stuck)"),
    };
    match ended {
        Ok(why) => log::info!("{peer} finished after {received} bytes{lost}: {why}"),
        Err(err) => log::warn!("{peer} finished after {received} bytes{lost} with an error: {err}"),
    }
    // 2. `_permit` is dropped here with the socket: one more client may come in.
}

/// Copies to stderr what the client has sent and the kernel holds, without
/// waiting for more, at most `LEFT_OVER` bytes of it, and for at most
/// `LEFT_OVER_TIME`, however stuck stderr is.
async fn copy_what_is_left(
    socket: &TcpStream,
    stderr: &mut Stderr,
    received: &mut usize,
    unwritten: &mut usize,
) -> io::Result<String> {
    let give_up = tokio::time::sleep(LEFT_OVER_TIME);
    tokio::pin!(give_up);
    let mut copied = 0;
    while copied < LEFT_OVER {
        let mut buf = Vec::with_capacity(READ_SIZE);
        match socket.try_read_buf(&mut buf) {
            Ok(0) => return Ok("the client closed the connection".to_string()),
            Ok(n) => {
                copied += n;
                *received += n;
                if !write_unless(stderr, &buf, give_up.as_mut()).await? {
                    *unwritten += n;
                    break;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) => return Err(err),
        }
    }
    Ok("the server shut down".to_string())
}

/// Go: os.Stderr.Write(buf[:n]), spliced: empties the pipe into stderr,
/// and says how many of its bytes were never written. While stderr is full
/// this waits, but not past the grace period (1): then for at most
/// [`LEFT_OVER_TIME`] more, and what is left stays in the pipe. Once stderr
/// refuses a splice, what is left goes the ordinary way, as every later
/// byte does.
async fn write_spliced(
    pipe: &mut Pipe,
    target: &SplicedStderr,
    stderr: &mut Stderr,
    grace_over: &CancellationToken,
) -> io::Result<usize> {
    let emptied = tokio::select! {
        biased;
        emptied = pipe.empty_into(target) => emptied,
        () = grace_over.cancelled() => match timeout(LEFT_OVER_TIME, pipe.empty_into(target)).await {
            Ok(emptied) => emptied,
            Err(_stderr_stuck) => return Ok(pipe.holds()),
        },
    };
    let Err(err) = emptied else {
        return Ok(0);
    };
    target.refused(&err);
    let left = pipe.read_what_is_left()?;
    let written = if grace_over.is_cancelled() {
        write_unless(stderr, &left, tokio::time::sleep(LEFT_OVER_TIME)).await?
    } else {
        write_unless(stderr, &left, grace_over.cancelled()).await?
    };
    Ok(if written { 0 } else { left.len() })
}

/// Writes `buf` to stderr, waiting while stderr is stuck, but not once
/// `give_up` is done: then nothing is written, and `Ok(false)` says so. (A
/// write to `common::stderr()` is queued whole or not at all, so giving up
/// never leaves half of `buf` written.) A write that stderr takes at once is
/// written, even when `give_up` is done already.
async fn write_unless(
    stderr: &mut Stderr,
    buf: &[u8],
    give_up: impl Future<Output = ()>,
) -> io::Result<bool> {
    tokio::select! {
        biased;
        written = stderr.write_all(buf) => written.map(|()| true),
        () = give_up => Ok(false),
    }
}
