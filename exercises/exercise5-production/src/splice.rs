//! `stage3-splice`'s lesson, with what a shutdown needs (how many bytes a
//! pipe still holds). What Go 1.21's `io.Copy(os.Stderr, conn)` does for
//! you on Linux, in the open: it moves the client's bytes with `splice(2)`, which hands the
//! kernel's pages from one file to another without copying them into the
//! process and out again. One side of a splice must be a pipe, so the bytes
//! go socket → pipe → stderr, and every pipe is two file descriptors.
//!
//! Go takes a pipe when the copy starts and holds it until the copy ends,
//! so each client costs three descriptors, idle or not: under a limit of
//! 20,000 open files, Go's stage 3 dies at about 6,600 idle clients. Here a
//! task holds a pipe only from the splice in to the splice out, like the
//! lean copy's buffer, then gives it back for the next bytes, of any
//! client. At most [`MOST_PIPES`] pipes are ever made: with none free, a
//! task copies through a buffer for that round.
//!
//! A spliced client's bytes skip `common::stderr()`'s queue, so before each
//! splice into stderr the task waits until that queue has written what it
//! held: the log line saying the client connected comes before its bytes.

use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::TcpStream;

/// The most one splice moves, and the size asked for each pipe: as Go, 1 MiB,
/// the most a pipe may hold by default (`/proc/sys/fs/pipe-max-size`).
/// A default pipe holds 64 KiB, and more per call means fewer calls.
const PIPE_SIZE: usize = 1 << 20;

/// The most pipes made, 16 descriptors in all. A pipe is back within two
/// splices unless stderr is full, so a few keep the runtime's few threads
/// busy; more would only hold bytes for a stuck stderr.
const MOST_PIPES: usize = 8;

/// How many pipes exist, and those not in use, ready for any client's bytes.
static PIPES_MADE: AtomicUsize = AtomicUsize::new(0);
static SPARE_PIPES: Mutex<Vec<Pipe>> = Mutex::new(Vec::new());

/// The process's stderr, when the kernel can splice into it.
pub enum SplicedStderr {
    /// A pipe, a socket: it can be full, and tokio's reactor tells when it
    /// takes bytes again, so a full stderr makes tasks wait, not threads.
    Waits(AsyncFd<OwnedFd>),
    /// A file or `/dev/null`: always takes bytes at once (the kernel refuses
    /// to watch those for readiness, so there is nothing to wait for).
    NeverFull(OwnedFd),
}

impl SplicedStderr {
    /// Stderr, ready to be spliced into; `None` on a terminal, where every
    /// byte must go through `common::stderr()` to have its control
    /// characters escaped. Must be called inside the runtime.
    pub fn open() -> Option<SplicedStderr> {
        use std::io::IsTerminal;
        let stderr = io::stderr();
        if stderr.is_terminal() {
            return None;
        }
        // A descriptor of our own on the same stderr: tokio's reactor may
        // then watch it without taking the process's fd 2 for itself.
        let fd = stderr.as_fd().try_clone_to_owned().ok()?;
        // SAFETY: an `OwnedFd` stays open, and the same descriptor, for as
        // long as the `AsyncFd` that owns it.
        match unsafe { AsyncFd::register_with_interest(fd, Interest::WRITABLE) } {
            Ok(watched) => Some(SplicedStderr::Waits(watched)),
            Err(refused) => match refused.into_parts() {
                // A file or a device, which epoll will not watch (EPERM).
                (fd, err) if err.kind() == io::ErrorKind::PermissionDenied => {
                    Some(SplicedStderr::NeverFull(fd))
                }
                _ => None,
            },
        }
    }

    /// An empty pipe for the next bytes: a spare one, or a new one; `None`
    /// when all [`MOST_PIPES`] are in use, or no pipe can be made (out of
    /// file descriptors).
    pub fn pipe(&self) -> Option<Pipe> {
        let spare = SPARE_PIPES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if spare.is_some() {
            return spare;
        }
        PIPES_MADE
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |made| {
                (made < MOST_PIPES).then_some(made + 1)
            })
            .ok()?;
        // Counted from here: dropped, a pipe is counted out.
        let (out, into) = match rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK) {
            Ok(ends) => ends,
            Err(_) => {
                PIPES_MADE.fetch_sub(1, Ordering::Relaxed);
                return None;
            }
        };
        // As Go: fewer, larger splices. A smaller pipe still works, so a
        // refusal (a lower pipe-max-size) is no reason to stop.
        let _ = rustix::pipe::fcntl_setpipe_size(&into, PIPE_SIZE);
        Some(Pipe {
            out,
            into,
            holds: 0,
        })
    }
}

/// A pipe, and how many bytes it holds. One dropped instead of given back
/// is closed, with whatever it holds (a task cancelled mid-way).
pub struct Pipe {
    /// The end bytes leave by.
    out: OwnedFd,
    /// The end bytes come in by.
    into: OwnedFd,
    holds: usize,
}

impl Pipe {
    /// Socket → pipe: moves what the socket holds, up to a pipe's worth.
    /// `Ok(0)` is the end of the stream; `WouldBlock`, a socket with nothing
    /// after all, whose readiness `try_io` then clears for `readable()` to
    /// wait again.
    pub fn fill_from(&mut self, socket: &TcpStream) -> io::Result<usize> {
        let moved = socket.try_io(Interest::READABLE, || splice(socket, &self.into, PIPE_SIZE))?;
        self.holds += moved;
        Ok(moved)
    }

    /// Pipe → stderr: moves everything the pipe holds, waiting while stderr
    /// is full. An error is stderr refusing a splice (a file opened to
    /// append, a pipe whose reader is gone): what is left stays in the pipe.
    pub async fn empty_into(&mut self, stderr: &SplicedStderr) -> io::Result<()> {
        // The log lines queued before these bytes go first.
        common::stderr::caught_up().await;
        while self.holds > 0 {
            let out = &self.out;
            let len = self.holds;
            self.holds -= match stderr {
                SplicedStderr::Waits(stderr) => {
                    stderr
                        .async_io(Interest::WRITABLE, |stderr| splice(out, stderr, len))
                        .await?
                }
                SplicedStderr::NeverFull(stderr) => splice(out, stderr, len)?,
            };
        }
        Ok(())
    }

    /// What the pipe still holds, read out of it: for stderr to take the
    /// ordinary way once it refused a splice.
    pub fn read_what_is_left(&mut self) -> io::Result<Vec<u8>> {
        let mut left = vec![0; self.holds];
        std::fs::File::from(self.out.try_clone()?).read_exact(&mut left)?;
        self.holds = 0;
        Ok(left)
    }

    /// How many bytes the pipe holds: those stderr has not taken yet.
    pub fn holds(&self) -> usize {
        self.holds
    }

    /// Puts an empty pipe back for the next bytes, of any client; one
    /// still holding bytes is closed, and they with it.
    pub fn give_back(self) {
        if self.holds == 0 {
            let mut spares = SPARE_PIPES.lock().unwrap_or_else(PoisonError::into_inner);
            spares.push(self);
        }
    }
}

impl Drop for Pipe {
    /// Its descriptors close with it: one fewer pipe exists.
    fn drop(&mut self) {
        PIPES_MADE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One `splice(2)`, from `from` into `to`, at most `len` bytes. Neither side
/// waits: a full or empty pipe, or a socket with nothing, is `WouldBlock`.
/// `MOVE` asks the kernel to move pages rather than copy them where it can.
fn splice(from: impl AsFd, to: impl AsFd, len: usize) -> io::Result<usize> {
    let flags = SpliceFlags::MOVE | SpliceFlags::NONBLOCK;
    Ok(rustix::pipe::splice(from, None, to, None, len, flags)?)
}
