//! The stderr every stage writes its clients' bytes and its log lines to.
//!
//! Go's `os.Stderr.Write` blocks the goroutine, and Go's scheduler moves the
//! other goroutines to other threads. tokio has no such thing, so neither of
//! the obvious ports is good enough:
//!
//! - `tokio::io::stderr()` sends every write to tokio's blocking threads: one
//!   hand-over per write. Stage 4's 128-byte writes crawl (about 14 MB/s with
//!   16 clients on a 2-core machine) and, under a crowd, the blocking pool
//!   grows to hundreds of threads.
//! - `std::io::stderr()` from a task blocks that runtime thread while stderr is
//!   slow (a paused terminal, a pipe nobody reads): with a few such threads
//!   blocked, the server stops accepting and stops closing idle clients.
//!
//! So writing is one thread's job. Every write appends its bytes to one queue
//! in memory and returns; a dedicated thread takes all that is queued and
//! writes it with one `write`. Bytes leave in the order they were queued, so
//! a client's bytes and the log line saying it finished stay in order, and
//! no write is ever split: a log line or a client's piece is never cut by
//! another's.
//!
//! When stderr is slow, the queue fills. Past [`QUEUE_LIMIT`] bytes (give or
//! take the last write or read), a task with client bytes
//! to write waits (without blocking its thread) until the writer has caught
//! up; meanwhile it does not read its socket, the kernel's
//! buffers fill, and TCP makes the client wait: backpressure. Accepting,
//! logging and read deadlines go on. Log lines are never made to wait: if
//! stderr stays stuck until [`LOG_LIMIT`] bytes are queued, further log lines
//! are dropped, and a line says how many once stderr moves again.
//!
//! Bytes queued before the process exits (`std::process::exit` or the end of
//! `main`) are written first, for at most [`EXIT_WAIT`]: a stderr that nobody
//! reads cannot keep the process alive. A process killed by a signal it does
//! not handle (Ctrl-C in stages 1 to 4) loses what is still queued: at most a
//! millisecond's worth, unless stderr was slow.

use std::future::poll_fn;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant};

use bytes::BufMut;
use tokio::io::AsyncWrite;
use tokio::net::TcpStream;

/// How many queued bytes make a writer of client bytes wait.
pub const QUEUE_LIMIT: usize = 1024 * 1024;
/// How many queued bytes make a log line be dropped rather than wait.
pub const LOG_LIMIT: usize = 8 * QUEUE_LIMIT;
/// How long an exiting process waits for stderr to take what is queued.
pub const EXIT_WAIT: Duration = Duration::from_secs(2);
/// Bytes queued in smaller amounts wait up to [`GATHER_TIME`] for more, so
/// that stage 4's 128-byte writes leave in batches: waking the writer
/// thread for each would cost as much as Go's `write` for each.
const BATCH: usize = 64 * 1024;
const GATHER_TIME: Duration = Duration::from_millis(1);
/// The most [`copy_to_stderr`] reads at once. Large reads matter most for
/// throughput: each read is a system call, whatever its size.
const READ_SIZE: usize = 256 * 1024;

/// A handle on the process's stderr queue; cheap to make, use one per task.
///
/// As a tokio [`AsyncWrite`] it never blocks a thread: a write is queued at
/// once, or waits while the queue is full. As a [`std::io::Write`], for
/// threads, it blocks the calling thread while the queue is full.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stderr;

/// Returns a handle on stderr; see the [module documentation](self).
pub fn stderr() -> Stderr {
    Stderr
}

/// Copies everything `socket` sends to stderr until the client closes the
/// connection, and returns the number of bytes: Go's `io.Copy(os.Stderr, conn)`.
///
/// Unlike `tokio::io::copy`, it keeps no buffer while it waits for the client:
/// it reads straight into the stderr queue once the socket is readable. An
/// idle connection then costs its socket and this small future only.
pub async fn copy_to_stderr(socket: &TcpStream) -> io::Result<u64> {
    let mut copied = 0;
    loop {
        socket.readable().await?;
        let room = poll_fn(|cx| queue().poll_room(cx)).await;
        match queue().read_from(room, socket) {
            Ok(0) => return Ok(copied),
            Ok(n) => copied += n as u64,
            // Readiness can be stale: wait again.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
            Err(err) => return Err(err),
        }
    }
}

impl AsyncWrite for Stderr {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let queue = queue();
        let state = ready!(queue.poll_room(cx));
        queue.push(state, buf);
        Poll::Ready(Ok(buf.len()))
    }

    /// Queued bytes are in order with everything written after them, log
    /// lines included: there is nothing to wait for.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let queue = queue();
        let mut state = queue.lock();
        while state.pending.len() >= QUEUE_LIMIT {
            state = queue
                .room
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        queue.push(state, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where `env_logger` writes: the same queue, but a log line never waits.
pub(crate) struct LogTarget;

impl Write for LogTarget {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let queue = queue();
        let mut state = queue.lock();
        if state.pending.len() >= LOG_LIMIT {
            state.dropped_log_lines += 1;
        } else {
            queue.push(state, buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Queue {
    state: Mutex<State>,
    /// The writer thread waits here for bytes.
    work: Condvar,
    /// Blocked threads wait here for room in the queue.
    room: Condvar,
    /// An exiting process waits here for the writer to write more.
    progress: Condvar,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// Bytes queued and bytes written since the start, so that an exiting
    /// process waits for what was queued before it, not after.
    queued: u64,
    written: u64,
    /// The writer thread holds a batch it took from `pending`, so it needs
    /// no waking.
    writing: bool,
    /// Tasks waiting for room in the queue.
    waiting: Vec<Waker>,
    dropped_log_lines: u64,
}

impl State {
    fn wait_for_room(&mut self, waker: &Waker) {
        if !self.waiting.iter().any(|waiting| waiting.will_wake(waker)) {
            self.waiting.push(waker.clone());
        }
    }
}

/// The queue, and its writer thread, start with the first write.
fn queue() -> &'static Queue {
    static QUEUE: OnceLock<Queue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        std::thread::Builder::new()
            .name("stderr writer".to_string())
            .spawn(write_forever)
            .expect("a process that starts has room for one more thread");
        #[cfg(unix)]
        // SAFETY: `write_queued_at_exit` is an `extern "C"` function that
        // never unwinds; registering it has no other effect.
        unsafe {
            libc::atexit(write_queued_at_exit);
        }
        Queue {
            state: Mutex::default(),
            work: Condvar::new(),
            room: Condvar::new(),
            progress: Condvar::new(),
        }
    })
}

impl Queue {
    /// A panic elsewhere while holding the lock leaves the bytes usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, mut state: MutexGuard<'_, State>, buf: &[u8]) {
        let before = state.pending.len();
        state.pending.extend_from_slice(buf);
        self.pushed(&mut state, before);
    }

    /// Wakes the writer thread when the queue was empty (it starts to gather
    /// a batch) or has just grown into a batch (it need not gather more).
    fn pushed(&self, state: &mut State, before: usize) {
        let now = state.pending.len();
        state.queued += (now - before) as u64;
        if !state.writing && (before == 0 || (before < BATCH && now >= BATCH)) {
            self.work.notify_one();
        }
    }

    /// The queue, locked, once it has room; until then the task waits.
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<MutexGuard<'_, State>> {
        let mut state = self.lock();
        if state.pending.len() < QUEUE_LIMIT {
            return Poll::Ready(state);
        }
        state.wait_for_room(cx.waker());
        Poll::Pending
    }

    /// Reads what the socket holds straight into the queue, without waiting,
    /// under the lock `poll_room` gave, so the bytes keep their place.
    fn read_from(&self, mut state: MutexGuard<'_, State>, socket: &TcpStream) -> io::Result<usize> {
        let before = state.pending.len();
        // `limit`, or the read would fill all the spare room the queue's
        // buffer has, megabytes after a burst, while everyone waits for the lock.
        let n = socket.try_read_buf(&mut (&mut state.pending).limit(READ_SIZE))?;
        self.pushed(&mut state, before);
        Ok(n)
    }
}

/// The writer thread: gathers a batch, writes it, and again.
fn write_forever() {
    widen_a_pipe();
    let queue = queue();
    let mut batch = Vec::new();
    let mut just_written = 0;
    loop {
        let waiting = {
            let mut state = queue.lock();
            state.written += just_written;
            state.writing = false;
            queue.progress.notify_all();
            while state.pending.is_empty() {
                state = queue
                    .work
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            // Let a small amount gather company for a moment.
            let gathering = Instant::now();
            while state.pending.len() < BATCH {
                let Some(left) = GATHER_TIME.checked_sub(gathering.elapsed()) else {
                    break;
                };
                state = match queue.work.wait_timeout(state, left) {
                    Ok((state, _)) => state,
                    Err(poisoned) => poisoned.into_inner().0,
                };
            }
            state.writing = true;
            std::mem::swap(&mut batch, &mut state.pending);
            just_written = batch.len() as u64;
            let dropped = std::mem::take(&mut state.dropped_log_lines);
            if dropped > 0 {
                let note = format!("[{dropped} log lines were dropped: stderr did not keep up]\n");
                batch.extend_from_slice(note.as_bytes());
            }
            queue.room.notify_all();
            std::mem::take(&mut state.waiting)
        };
        // Woken without the lock held, in case a woken task's code logs.
        for waker in waiting {
            waker.wake();
        }
        // A failed write (stderr closed) drops the bytes and the server goes
        // on: the clients are not to blame. (Go's seed ignores the error too.)
        let _ = io::stderr().write_all(&batch);
        batch.clear();
        // A burst may have grown the buffer far past what is usual: give the
        // memory back rather than keep it for the life of the process.
        if batch.capacity() > 2 * (QUEUE_LIMIT + READ_SIZE) {
            batch.shrink_to(QUEUE_LIMIT + READ_SIZE);
        }
    }
}

/// When stderr is a pipe, asks for a 1 MiB one: the default 64 KiB holds a
/// few of the writer's batches at most, and each full pipe is a pause until
/// the reader catches up. (Linux only; a refusal changes nothing.)
fn widen_a_pipe() {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on our own stderr descriptor; F_SETPIPE_SZ fails
    // harmlessly (EBADF, EPERM, ...) where it does not apply.
    unsafe {
        libc::fcntl(2, libc::F_SETPIPE_SZ, QUEUE_LIMIT as libc::c_int);
    }
}

/// Runs at `exit`: waits, for at most [`EXIT_WAIT`], until the writer thread
/// has written what was queued before (clients still sending meanwhile do
/// not make it wait longer).
#[cfg(unix)]
extern "C" fn write_queued_at_exit() {
    let queue = queue();
    let deadline = Instant::now() + EXIT_WAIT;
    let mut state = queue.lock();
    let queued = state.queued;
    while state.written < queued {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return;
        };
        state = match queue.progress.wait_timeout(state, left) {
            Ok((state, _)) => state,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
}
