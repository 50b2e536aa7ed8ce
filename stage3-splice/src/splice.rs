//! What Go 1.21's `io.Copy(os.Stderr, conn)` does for you on Linux, in the
//! open: it moves the client's bytes with `splice(2)`, which hands the
//! kernel's pages from one file to another without copying them into the
//! process and out again. One side of a splice must be a pipe, so the bytes
//! go socket → pipe → stderr, and every pipe is two file descriptors.
//!
//! Go takes a pipe when the copy starts and holds it until the copy ends,
//! so each client costs three descriptors, idle or not: under a limit of
//! 20,000 open files, Go's stage 3 dies at about 6,600 idle clients. Here a
//! task holds a pipe only from the splice in to the splice out, like the
//! lean copy's buffer, then gives it back for the next bytes, of any
//! client. At most [`MOST_PIPES`] pipes exist at once: with none free, a
//! task copies through a buffer for that round.
//!
//! Spliced bytes skip `common::stderr()`'s queue, where the log lines wait
//! for the writer thread. So a task splices into stderr only in a turn of
//! its own (`common::stderr::turn`), as Go's splice holds stderr's write
//! lock: the line saying a client connected comes before its bytes, and no
//! two writers cut into each other's bytes.

use std::io::{self, IsTerminal};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use rustix::fs::OFlags;
use rustix::net::RecvFlags;
use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::TcpStream;

/// The most one splice moves, and the size asked for each pipe: as Go, 1 MiB,
/// the most a pipe may hold by default (`/proc/sys/fs/pipe-max-size`).
/// A default pipe holds 64 KiB, and more per call means fewer calls.
const PIPE_SIZE: usize = 1 << 20;

/// The most pipes at once, 16 descriptors in all. A pipe is back within two
/// splices unless stderr is full, so a few keep the runtime's few threads
/// busy; more would only hold bytes for a stuck stderr.
const MOST_PIPES: usize = 8;

/// How many pipes exist, and those not in use, ready for any client's bytes.
static PIPES_MADE: AtomicUsize = AtomicUsize::new(0);
static SPARE_PIPES: Mutex<Vec<Pipe>> = Mutex::new(Vec::new());

/// Stderr refused a splice: from then on, every client's bytes go the
/// ordinary way, and the pipes are closed as they come back. (The process
/// has one stderr, as it has one pool of pipes.)
static REFUSED: AtomicBool = AtomicBool::new(false);

/// The process's stderr, when the kernel can splice into it.
pub struct SplicedStderr {
    kind: Kind,
}

enum Kind {
    /// A pipe: it can be full, and tokio's reactor tells when it takes bytes
    /// again, so a full stderr makes tasks wait, not threads.
    Pipe(AsyncFd<OwnedFd>),
    /// A file or a device such as `/dev/null`, which `write` does not make
    /// wait either (the kernel will not watch those for readiness).
    File(OwnedFd),
}

impl SplicedStderr {
    /// Stderr, ready to be spliced into; `None` where the bytes must go the
    /// ordinary way: a terminal, whose bytes must have their control
    /// characters escaped by `common::stderr()`; a file opened to append
    /// (`2>>`), which splice refuses (Go checks this too); a socket, where a
    /// splice would block a runtime thread while it is full. Must be called
    /// inside the runtime.
    pub fn open() -> Option<SplicedStderr> {
        let stderr = io::stderr();
        if stderr.is_terminal() {
            return None;
        }
        // A descriptor of our own on the same stderr: tokio's reactor may
        // then watch it without taking the process's fd 2 for itself.
        let fd = stderr.as_fd().try_clone_to_owned().ok()?;
        if rustix::fs::fcntl_getfl(&fd).ok()?.contains(OFlags::APPEND) {
            return None;
        }
        let file_type = std::fs::File::from(fd.try_clone().ok()?)
            .metadata()
            .ok()?
            .file_type();
        let kind = if file_type.is_fifo() {
            // SAFETY: an `OwnedFd` stays open, and the same descriptor, for
            // as long as the `AsyncFd` that owns it.
            Kind::Pipe(unsafe { AsyncFd::register_with_interest(fd, Interest::WRITABLE) }.ok()?)
        } else if file_type.is_file() || file_type.is_char_device() {
            Kind::File(fd)
        } else {
            return None;
        };
        Some(SplicedStderr { kind })
    }

    /// An empty pipe for the next bytes: a spare one, or a new one; `None`
    /// when all [`MOST_PIPES`] are in use, when no pipe can be made (out of
    /// file descriptors), or once stderr has refused a splice.
    pub fn pipe(&self) -> Option<Pipe> {
        if REFUSED.load(Ordering::Relaxed) {
            return None;
        }
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
        let flags = PipeFlags::CLOEXEC | PipeFlags::NONBLOCK;
        let (read_end, write_end) = match rustix::pipe::pipe_with(flags) {
            Ok(ends) => ends,
            Err(_) => {
                PIPES_MADE.fetch_sub(1, Ordering::Relaxed);
                return None;
            }
        };
        // As Go: fewer, larger splices. A smaller pipe still works, so a
        // refusal (a lower pipe-max-size) is no reason to stop.
        let _ = rustix::pipe::fcntl_setpipe_size(&write_end, PIPE_SIZE);
        Some(Pipe {
            read_end,
            write_end,
            holds: 0,
        })
    }

    /// Stderr refused a splice (a pipe whose reader is gone, `/dev/full`):
    /// says so, once, and makes every client's bytes go the ordinary way,
    /// which knows what to do with a stderr that refuses them.
    pub fn refused(&self, err: &io::Error) {
        if !REFUSED.swap(true, Ordering::Relaxed) {
            log::warn!("stderr refused a splice ({err}): clients' bytes are copied from now on");
            SPARE_PIPES
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
    }
}

/// A pipe, and how many bytes it holds. One dropped instead of given back
/// is closed, with whatever it holds (a task cancelled mid-way).
pub struct Pipe {
    read_end: OwnedFd,
    write_end: OwnedFd,
    holds: usize,
}

impl Pipe {
    /// Socket → pipe: moves what the socket holds, up to a pipe's worth.
    /// `Ok(0)` is the end of the stream; `WouldBlock`, a socket with nothing
    /// after all, whose readiness `try_io` then clears for `readable()` to
    /// wait again; `Unsupported`, bytes that only a read takes: splice stops
    /// for good at the mark of urgent data (TCP's `MSG_OOB`), where a read
    /// goes on past it.
    pub fn fill_from(&mut self, socket: &TcpStream) -> io::Result<usize> {
        let write_end = &self.write_end;
        let moved = socket.try_io(Interest::READABLE, || {
            let moved = splice(socket, write_end, PIPE_SIZE);
            // At urgent data's mark a splice moves nothing, and says so as
            // the end of the stream once the client has closed: only the
            // bytes still there tell the two apart.
            let stopped = match &moved {
                Ok(0) => true,
                Ok(_) => false,
                Err(err) => err.kind() == io::ErrorKind::WouldBlock,
            };
            if stopped && has_bytes(socket) {
                let mark = "urgent data: only a read goes past its mark";
                return Err(io::Error::new(io::ErrorKind::Unsupported, mark));
            }
            moved
        })?;
        self.holds += moved;
        Ok(moved)
    }

    /// Pipe → stderr: moves everything the pipe holds, in a turn at stderr
    /// of its own, waiting while stderr is full. An error is stderr refusing
    /// a splice: what is left stays in the pipe.
    pub async fn empty_into(&mut self, stderr: &SplicedStderr) -> io::Result<()> {
        let _turn = common::stderr::turn().await;
        while self.holds > 0 {
            let (read_end, len) = (&self.read_end, self.holds);
            let moved = match &stderr.kind {
                Kind::Pipe(stderr) => {
                    stderr
                        .async_io(Interest::WRITABLE, |stderr| splice(read_end, stderr, len))
                        .await?
                }
                Kind::File(stderr) => splice(read_end, stderr, len)?,
            };
            // A stderr that takes nothing and says no error would make this
            // loop spin: it is a refusal too.
            if moved == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.holds -= moved;
        }
        Ok(())
    }

    /// What the pipe still holds, read out of it: for stderr to take the
    /// ordinary way once it refused a splice. (A `read` on the pipe itself:
    /// a copy of its descriptor, for a `File`, could fail for want of one.)
    pub fn read_what_is_left(&mut self) -> io::Result<Vec<u8>> {
        let mut left = vec![0; self.holds];
        let mut done = 0;
        while done < left.len() {
            match rustix::io::read(&self.read_end, &mut left[done..]) {
                Ok(n) => done += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(err) => return Err(err.into()),
            }
        }
        self.holds = 0;
        Ok(left)
    }

    /// Puts an empty pipe back for the next bytes, of any client; one
    /// still holding bytes is closed, and they with it, as is every pipe
    /// once stderr has refused a splice.
    pub fn give_back(self) {
        if self.holds == 0 {
            let mut spares = SPARE_PIPES.lock().unwrap_or_else(PoisonError::into_inner);
            // Under the lock that `refused` clears the spares with: a pipe
            // back just after it did is closed, not kept.
            if !REFUSED.load(Ordering::Relaxed) {
                spares.push(self);
            }
        }
    }
}

impl Drop for Pipe {
    /// Its descriptors close with it: one fewer pipe exists.
    fn drop(&mut self) {
        PIPES_MADE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether the socket holds bytes to read, without taking them.
fn has_bytes(socket: &TcpStream) -> bool {
    let mut byte = [0; 1];
    rustix::net::recv(socket, &mut byte, RecvFlags::PEEK | RecvFlags::DONTWAIT)
        .is_ok_and(|(read, _)| read > 0)
}

/// One `splice(2)`, from `from` into `to`, at most `len` bytes, again if a
/// signal interrupted it. Neither side waits: a full or empty pipe, or a
/// socket with nothing, is `WouldBlock`.
fn splice(from: impl AsFd, to: impl AsFd, len: usize) -> io::Result<usize> {
    loop {
        match rustix::pipe::splice(&from, None, &to, None, len, SpliceFlags::NONBLOCK) {
            Err(rustix::io::Errno::INTR) => continue,
            moved => return Ok(moved?),
        }
    }
}
