//! What Go 1.21's `io.Copy(os.Stderr, conn)` does for you on Linux, in the
//! open: it moves the client's bytes with `splice(2)`, which hands the
//! kernel's pages from one file to another without copying them into the
//! process and out again. One side of a splice must be a pipe, so the bytes
//! go socket → pipe → stderr: each connection with bytes on their way holds a
//! pipe, two more file descriptors.
//!
//! Go takes its pipe when the copy starts and holds it until the copy ends,
//! so an idle client costs three descriptors instead of one; here a pipe
//! exists only from the splice in to the splice out, like the lean copy's
//! buffer.

use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};

use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::TcpStream;

use crate::Moved;

/// The most one splice moves, and the size asked for each pipe: as Go, 1 MiB,
/// the most a pipe may hold by default (`/proc/sys/fs/pipe-max-size`).
/// A default pipe holds 64 KiB, and more per call means fewer calls.
const PIPE_SIZE: usize = 1 << 20;

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
}

/// Moves what the socket holds, up to a pipe's worth, into stderr, waiting
/// while stderr is full. Call it once the socket is readable.
pub async fn move_what_is_there(socket: &TcpStream, stderr: &SplicedStderr) -> io::Result<Moved> {
    // A pipe now, for as long as the bytes are on their way.
    let (pipe_out, pipe_in) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
    // As Go: fewer, larger splices. A smaller pipe still works, so a
    // refusal (a lower pipe-max-size) is no reason to stop.
    let _ = rustix::pipe::fcntl_setpipe_size(&pipe_in, PIPE_SIZE);

    // Socket → pipe. `try_io` clears tokio's "readable" when the socket
    // has nothing after all (EAGAIN), so the next `readable()` waits.
    let splice_in = || splice(socket, &pipe_in, PIPE_SIZE);
    let mut in_pipe = match socket.try_io(Interest::READABLE, splice_in) {
        Ok(0) => return Ok(Moved::End),
        Ok(n) => n,
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(Moved::Nothing),
        Err(err) => return Err(err),
    };
    let read = in_pipe;

    // Pipe → stderr, until the pipe is empty.
    while in_pipe > 0 {
        let spliced = match stderr {
            SplicedStderr::Waits(stderr) => {
                stderr
                    .async_io(Interest::WRITABLE, |stderr| {
                        splice(&pipe_out, stderr, in_pipe)
                    })
                    .await
            }
            SplicedStderr::NeverFull(stderr) => splice(&pipe_out, stderr, in_pipe),
        };
        match spliced {
            Ok(n) => in_pipe -= n,
            Err(_) => {
                // What is still in the pipe is read out, to be written as
                // any other stage writes it.
                let mut rest = vec![0; in_pipe];
                std::fs::File::from(pipe_out).read_exact(&mut rest)?;
                return Ok(Moved::CannotSplice { read, rest });
            }
        }
    }
    Ok(Moved::Bytes(read))
}

/// One `splice(2)`, from `from` into `to`, at most `len` bytes. Neither side
/// waits: a full or empty pipe, or a socket with nothing, is `WouldBlock`.
/// `MOVE` asks the kernel to move pages rather than copy them where it can.
fn splice(from: impl AsFd, to: impl AsFd, len: usize) -> io::Result<usize> {
    let flags = SpliceFlags::MOVE | SpliceFlags::NONBLOCK;
    Ok(rustix::pipe::splice(from, None, to, None, len, flags)?)
}
