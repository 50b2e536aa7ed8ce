//! The stderr every stage writes its clients' bytes and its log lines to:
//! `common::stderr()` stands exactly where `tokio::io::stderr()` would.
//!
//! Go's `os.Stderr.Write` blocks the goroutine, and Go's scheduler moves the
//! other goroutines to other threads. tokio has no such thing, so neither of
//! the obvious ports is good enough (`stage4-tokio-stderr` is stage 4 written
//! with them, and its tests and `workshop bench` show what it costs):
//!
//! - `tokio::io::stderr()` sends every write to tokio's blocking threads: one
//!   hand-over per write. Stage 4's 128-byte writes crawl, and while stderr
//!   is stuck every client with bytes to write holds one of those threads.
//! - `std::io::stderr()` (where env_logger writes by default) from a task
//!   blocks that runtime thread while stderr is slow (a paused terminal, a
//!   pipe nobody reads): with the runtime's few threads blocked, the server
//!   stops accepting and stops closing idle clients.
//!
//! So writing is one thread's job. Every write appends its bytes to one queue
//! in memory and returns; a dedicated thread takes all that is queued and
//! writes it with one `write`. Bytes leave in the order they were queued, so
//! a client's bytes and the log line saying it finished stay in order, and
//! no write is ever split: a log line or a client's piece is never cut by
//! another's. Bytes that go to stderr another way (`stage3-splice` splices
//! them) go in a [`turn`] of their own, after what was queued before them,
//! while the writer thread waits.
//!
//! When stderr is slow, the queue fills. Past [`QUEUE_LIMIT`] bytes (give or
//! take the last write), a task with client bytes to write waits (without
//! blocking its thread) until the writer has caught up; meanwhile it does not
//! read its socket, the kernel's buffers fill, and TCP makes the client wait:
//! backpressure. Accepting, logging and read deadlines go on. Log lines are
//! never made to wait: if stderr stays stuck until [`LOG_LIMIT`] bytes are
//! queued, further log lines are dropped, and a line says how many once
//! stderr moves again.
//!
//! When stderr refuses bytes (`/dev/full`, a pipe whose reader is gone),
//! they are dropped and counted, and the server goes on: the clients are not
//! to blame. With `--log-file`, the log says so at once, and how many were
//! lost once stderr takes bytes again or the process exits; without it,
//! stderr itself says how many, if it ever takes bytes again.
//!
//! When stderr is a terminal, clients' bytes go in with their control
//! characters escaped ([`crate::terminal`]); into a pipe or a file, they
//! stay exactly as the client sent them. A Windows console takes only UTF-8:
//! there, whatever is not is shown as U+FFFD rather than refused, which
//! would cost the writer its whole batch, log lines included. (Clients'
//! bytes arrive escaped, so valid UTF-8, already: this guards the rest.)
//!
//! Bytes queued before the process exits are written first, for at most
//! [`EXIT_WAIT`]: a stderr that nobody reads cannot keep the process alive.
//! On Unix a hook does it, at `std::process::exit` and at the end of `main`.
//! On Windows the hook runs at the end of `main` only: `std::process::exit`
//! is `ExitProcess`, which ends the writer threads before any hook can run.
//! So there [`exit`] writes what is queued before it exits, and so does an
//! error log line before it returns (for at most [`EXIT_WAIT`] too): the
//! stages' `log::error!` then `std::process::exit(1)` is Go's `log.Fatal`,
//! which writes its line before it exits.
//! A process killed by a signal it does not handle (Ctrl-C in stages 1 to
//! 4) loses what is still queued: at most a millisecond's worth, unless
//! stderr was slow.

use std::borrow::Cow;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard, Once, OnceLock};
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant};

use tokio::io::AsyncWrite;

use crate::terminal::{ConsoleText, HeldBack, stderr_is_a_terminal};

/// How many queued bytes make a writer of client bytes wait.
pub const QUEUE_LIMIT: usize = 1024 * 1024;
/// How many queued bytes make a log line be dropped rather than wait.
pub const LOG_LIMIT: usize = 8 * QUEUE_LIMIT;
/// How long an exiting process waits for stderr to take what is queued.
pub const EXIT_WAIT: Duration = Duration::from_secs(2);
/// Bytes queued in smaller amounts wait up to [`GATHER_TIME`] for more, so
/// that stage 4's 128-byte writes leave in batches: waking the writer
/// thread for each would cost as much as Go's `write` for each.
const BATCH: usize = 256 * 1024;
const GATHER_TIME: Duration = Duration::from_millis(1);

/// A handle on the process's stderr queue; cheap to make, use one per task
/// (or thread), for one client's bytes.
///
/// As a tokio [`AsyncWrite`] it never blocks a thread: a write is queued at
/// once, or waits while the queue is full. As a [`std::io::Write`], for
/// threads, it blocks the calling thread while the queue is full. On a
/// terminal, it holds back the start of a character split between two
/// writes, to show it whole.
#[derive(Debug, Default)]
pub struct Stderr {
    held_back: HeldBack,
}

/// Returns a handle on stderr; see the [module documentation](self).
pub fn stderr() -> Stderr {
    Stderr::default()
}

impl AsyncWrite for Stderr {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        queue().poll_write(cx, buf, &mut self.get_mut().held_back)
    }

    /// Queued bytes are in order with everything written after them, log
    /// lines included: there is nothing to wait for. What is held back is
    /// let go: `io::copy` flushes when the client pauses and when it has
    /// finished, so an unfinished character comes out before the log line
    /// that says the connection ended.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().let_go();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        queue().write_blocking(buf, &mut self.held_back);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stderr {
    /// Shows, escaped, what is held back of a character the client has not
    /// finished (or may never finish). Never waits: it is a few bytes.
    fn let_go(&mut self) {
        if !self.held_back.is_empty() {
            queue().write_log(&self.held_back.take());
        }
    }
}

/// A character the client never finished is shown, escaped, when its
/// handle goes, if no flush showed it before.
impl Drop for Stderr {
    fn drop(&mut self) {
        self.let_go();
    }
}

/// Where `env_logger` writes: stderr's queue, or a log file's own; a log
/// line never waits.
pub(crate) struct LogTarget(&'static Queue);

impl LogTarget {
    pub(crate) fn stderr() -> LogTarget {
        LogTarget(queue())
    }

    /// A queue of its own for a log file, written at exit as stderr's is.
    pub(crate) fn file(file: std::fs::File) -> LogTarget {
        LogTarget(LOG_FILE.get_or_init(|| {
            write_queued_at_exit();
            Queue::start("log writer", file, OutputKind::Bytes, None)
        }))
    }
}

impl Write for LogTarget {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_log(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The process's stderr queue, once something was written to it.
static STDERR: OnceLock<&'static Queue> = OnceLock::new();
/// The queue of `--log-file`, if there is one.
static LOG_FILE: OnceLock<&'static Queue> = OnceLock::new();

/// The process's stderr queue: it starts, with its writer thread, at the
/// first write.
fn queue() -> &'static Queue {
    STDERR.get_or_init(|| {
        widen_a_pipe();
        write_queued_at_exit();
        // The log file, if any, is opened before any client writes.
        let notes_to = LOG_FILE.get().copied();
        Queue::start("stderr writer", io::stderr(), stderr_kind(), notes_to)
    })
}

/// What an output is, which decides what it is sent.
#[derive(Clone, Copy, Debug, PartialEq)]
enum OutputKind {
    /// A pipe or a file: every byte as it came.
    Bytes,
    /// A terminal: clients' bytes with their control characters escaped.
    Terminal,
    /// A Windows console: a terminal that takes only UTF-8, so whatever is
    /// not is shown as U+FFFD ([`ConsoleText`]).
    Console,
}

/// What this process's stderr is.
fn stderr_kind() -> OutputKind {
    match stderr_is_a_terminal() {
        false => OutputKind::Bytes,
        // Only Windows' console refuses bytes that are not UTF-8. (An MSYS
        // terminal is a pipe to std, and takes anything: the guard costs it
        // nothing.)
        true if cfg!(windows) => OutputKind::Console,
        true => OutputKind::Terminal,
    }
}

/// Makes the process, when it exits, write what is queued first: with C's
/// `atexit`, whose hooks run at `exit`, while the other threads still run.
/// On Unix, `std::process::exit` and the end of `main` both call `exit`; on
/// Windows, only the end of `main` does (see [`exit`]).
fn write_queued_at_exit() {
    // The systems whose C library libc binds: all the course runs on.
    #[cfg(any(unix, windows))]
    {
        static REGISTERED: Once = Once::new();
        // SAFETY: `drain_at_exit` is an `extern "C"` function that never
        // unwinds; registering it has no other effect.
        REGISTERED.call_once(|| unsafe {
            libc::atexit(drain_at_exit);
        });
    }
}

/// `std::process::exit`, with what is queued for stderr (and the log file)
/// written first, for at most [`EXIT_WAIT`], on every system. Unix's exit
/// hook would do it anyway; on Windows `std::process::exit` is
/// `ExitProcess`, which ends the writer threads before any hook can run.
pub fn exit(code: i32) -> ! {
    write_queued_before_exit();
    std::process::exit(code)
}

/// Waits for a turn at stderr of one's own, for bytes that go to it by
/// another way than the queue (`stage3-splice` splices them): until the
/// queue has written what was queued before, and nobody else holds a turn.
/// While the turn is held, the writer thread writes nothing. So those bytes
/// come after the log lines queued before them (the one saying their client
/// connected), and neither they nor a log line nor another client's bytes
/// are cut in two: the kernel keeps no order between two writers of one
/// file, and a splice into a file even writes at the file's position
/// without the lock `write` takes. Dropping the turn gives it back. While
/// stderr is stuck, waits as long as it is.
pub async fn turn() -> Turn {
    queue().turn().await
}

/// A turn at stderr, from [`turn`]; given back when dropped.
pub struct Turn(&'static Queue);

impl Drop for Turn {
    fn drop(&mut self) {
        self.0.give_turn_back();
    }
}

/// Runs at `exit` (C's, on the way out of the process).
#[cfg(any(unix, windows))]
extern "C" fn drain_at_exit() {
    write_queued_before_exit();
}

/// What the process does last: waits, for at most [`EXIT_WAIT`], for what
/// is queued to be written. Once: [`exit`] followed by the exit hook, or two
/// threads exiting, wait [`EXIT_WAIT`] in all, not each.
pub(crate) fn write_queued_before_exit() {
    static DONE: Once = Once::new();
    DONE.call_once(|| write_queued(EXIT_WAIT, true));
}

/// Waits, for at most `within`, until the log line just written is: in the
/// log file where there is one (not behind clients' bytes on a stuck
/// stderr), on stderr otherwise.
pub(crate) fn write_the_log(within: Duration) {
    match LOG_FILE.get() {
        Some(log_file) => {
            log_file.drain(within);
        }
        None => write_queued(within, false),
    }
}

/// Waits, for at most `within` in all, until the writer threads have
/// written what was queued before. With a log file, a quarter of the wait
/// is kept for it, and, when `exiting`, it says what stderr lost (before
/// that, stderr's writer says it once stderr moves again).
pub(crate) fn write_queued(within: Duration, exiting: bool) {
    let deadline = Instant::now() + within;
    let left = || deadline.saturating_duration_since(Instant::now());
    let log_file = LOG_FILE.get().copied();
    if let Some(stderr) = STDERR.get() {
        let kept = if log_file.is_some() {
            within / 4
        } else {
            Duration::ZERO
        };
        let drained = stderr.drain(left().saturating_sub(kept));
        if let Some(log_file) = log_file.filter(|_| exiting) {
            if let Some(note) = stderr.unsaid_losses() {
                log_file.write_log(note.as_bytes());
            }
            if !drained {
                let lost = stderr.not_yet_written();
                let note = format!(
                    "[{lost} bytes queued for stderr were lost at exit: stderr was stuck]\n"
                );
                log_file.write_log(note.as_bytes());
            }
        }
    }
    if let Some(log_file) = log_file {
        log_file.drain(left());
    }
}

/// Bytes on their way to one output, and the thread that writes them there.
struct Queue {
    state: Mutex<State>,
    /// What the output is: a terminal's clients' bytes go in escaped.
    kind: OutputKind,
    /// Where to say that the output refuses bytes: a log file's queue. With
    /// none, the output itself says it, once it takes bytes again.
    notes_to: Option<&'static Queue>,
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
    /// Someone writes to stderr by another way than this queue: the writer
    /// waits until they are done ([`turn`]).
    turn_taken: bool,
    /// Tasks waiting for a turn: for the writer to write what was queued
    /// before them, and for the turn to be free.
    waiting_for_turn: Vec<Waker>,
    dropped_log_lines: u64,
    /// Bytes the output refused, not yet said, and why it refused the last.
    lost: u64,
    why: String,
}

impl Queue {
    /// A queue that writes to `output` from a thread of its own. It lives as
    /// long as the process: the process's one queue is made once, and tests
    /// make a few.
    fn start(
        name: &str,
        output: impl Write + Send + 'static,
        kind: OutputKind,
        notes_to: Option<&'static Queue>,
    ) -> &'static Queue {
        let queue: &'static Queue = Box::leak(Box::new(Queue {
            state: Mutex::default(),
            kind,
            notes_to,
            work: Condvar::new(),
            room: Condvar::new(),
            progress: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || queue.write_forever(output))
            .expect("a process that starts has room for one more thread");
        queue
    }

    /// A panic elsewhere while holding the lock leaves the bytes usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A task's write: queued at once, or, while the queue is full, the task
    /// is woken when there is room.
    fn poll_write(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        held_back: &mut HeldBack,
    ) -> Poll<io::Result<usize>> {
        let state = ready!(self.poll_room(cx));
        self.push(state, &self.shown(buf, held_back));
        Poll::Ready(Ok(buf.len()))
    }

    /// A thread's write: blocks the thread while the queue is full.
    fn write_blocking(&self, buf: &[u8], held_back: &mut HeldBack) {
        let mut state = self.lock();
        while state.pending.len() >= QUEUE_LIMIT {
            state = self
                .room
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        self.push(state, &self.shown(buf, held_back));
    }

    /// A client's bytes as they go out: escaped for a terminal.
    fn shown<'a>(&self, buf: &'a [u8], held_back: &mut HeldBack) -> Cow<'a, [u8]> {
        match self.kind {
            OutputKind::Terminal | OutputKind::Console => held_back.escape(buf),
            OutputKind::Bytes => Cow::Borrowed(buf),
        }
    }

    /// A log line: queued at once, or dropped and counted past [`LOG_LIMIT`].
    fn write_log(&self, buf: &[u8]) {
        let mut state = self.lock();
        if state.pending.len() >= LOG_LIMIT {
            state.dropped_log_lines += 1;
        } else {
            self.push(state, buf);
        }
    }

    fn push(&self, mut state: MutexGuard<'_, State>, buf: &[u8]) {
        let before = state.pending.len();
        state.pending.extend_from_slice(buf);
        state.queued += buf.len() as u64;
        // Wake the writer thread when the queue was empty (it starts to
        // gather a batch) or has just grown into a batch (it need not gather
        // more).
        let now = state.pending.len();
        let wake = !state.writing && (before == 0 || (before < BATCH && now >= BATCH));
        // Unlocked first: the writer thread woken needs the lock at once.
        drop(state);
        if wake {
            self.work.notify_one();
        }
    }

    /// The queue, locked, once it has room; until then the task waits.
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<MutexGuard<'_, State>> {
        let mut state = self.lock();
        if state.pending.len() < QUEUE_LIMIT {
            return Poll::Ready(state);
        }
        // No check for a waker already there: with thousands of tasks
        // waiting, that scan would cost more than a duplicate, and the list
        // is emptied at every batch.
        state.waiting.push(cx.waker().clone());
        Poll::Pending
    }

    /// Waits until the writer has written what was queued before this call
    /// (clients still sending meanwhile do not make it wait longer), for at
    /// most `within`. Whether it was all written.
    fn drain(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let mut state = self.lock();
        let queued = state.queued;
        while state.written < queued {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = match self.progress.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// A turn at the output, once what was queued before this call is
    /// written and nobody else holds one ([`turn`]).
    async fn turn(&'static self) -> Turn {
        let queued = self.lock().queued;
        std::future::poll_fn(|cx| {
            let mut state = self.lock();
            if state.written >= queued && !state.writing && !state.turn_taken {
                state.turn_taken = true;
                return Poll::Ready(());
            }
            state.waiting_for_turn.push(cx.waker().clone());
            Poll::Pending
        })
        .await;
        Turn(self)
    }

    /// Ends a turn: the writer may write what was queued meanwhile, and the
    /// next task may take its turn.
    fn give_turn_back(&self) {
        let (waiting, writer_waits) = {
            let mut state = self.lock();
            state.turn_taken = false;
            (
                std::mem::take(&mut state.waiting_for_turn),
                !state.pending.is_empty(),
            )
        };
        if writer_waits {
            self.work.notify_one();
        }
        for waker in waiting {
            waker.wake();
        }
    }

    /// Bytes queued and not written yet, the writer's batch included.
    fn not_yet_written(&self) -> u64 {
        let state = self.lock();
        state.queued - state.written
    }

    /// What the output refused and nobody was told yet, as a line to say it.
    fn unsaid_losses(&self) -> Option<String> {
        let state = self.lock();
        (state.lost > 0).then(|| lost_note(state.lost, &state.why))
    }

    /// The writer thread: gathers a batch, writes it, and again.
    fn write_forever(&self, mut output: impl Write) {
        let mut batch = Vec::new();
        let mut just_written = 0;
        // Bytes the output refused and nobody was told yet, why it refused
        // the last, and whether it refused the last batch.
        let mut lost = 0;
        let mut why = String::new();
        let mut refusing = false;
        // What a console holds back of a character split between batches.
        let mut console = ConsoleText::default();
        loop {
            let waiting_for_turn = {
                let mut state = self.lock();
                state.written += just_written;
                state.lost = lost;
                state.why.clone_from(&why);
                state.writing = false;
                self.progress.notify_all();
                std::mem::take(&mut state.waiting_for_turn)
            };
            // Woken without the lock held, as below.
            for waker in waiting_for_turn {
                waker.wake();
            }
            let waiting = {
                let mut state = self.lock();
                while state.pending.is_empty() || state.turn_taken {
                    state = self
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
                    state = match self.work.wait_timeout(state, left) {
                        Ok((state, _)) => state,
                        Err(poisoned) => poisoned.into_inner().0,
                    };
                }
                // A turn taken while the batch gathered: after it.
                while state.turn_taken {
                    state = self
                        .work
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                state.writing = true;
                std::mem::swap(&mut batch, &mut state.pending);
                just_written = batch.len() as u64;
                let dropped = std::mem::take(&mut state.dropped_log_lines);
                if dropped > 0 {
                    let note =
                        format!("[{dropped} log lines were dropped: stderr did not keep up]\n");
                    batch.extend_from_slice(note.as_bytes());
                }
                self.room.notify_all();
                std::mem::take(&mut state.waiting)
            };
            // Woken without the lock held, in case a woken task's code logs.
            for waker in waiting {
                waker.wake();
            }
            // A failed write (`/dev/full`, a pipe with no reader) drops the
            // bytes and the server goes on: the clients are not to blame.
            // (Go's seed ignores the error.) The loss is said in the log
            // file, or else by the output itself once it takes bytes again.
            if lost > 0 && self.notes_to.is_none() {
                let note = lost_note(lost, &why);
                if write_what_it_takes(&mut output, note.as_bytes()).is_ok() {
                    lost = 0;
                }
            }
            let written = match self.kind {
                OutputKind::Console => write_what_it_takes(&mut output, &console.of(&batch)),
                OutputKind::Terminal | OutputKind::Bytes => {
                    write_what_it_takes(&mut output, &batch)
                }
            };
            match written {
                Ok(()) => {
                    refusing = false;
                    if let Some(log) = self.notes_to.filter(|_| lost > 0) {
                        log.write_log(lost_note(lost, &why).as_bytes());
                        lost = 0;
                    }
                }
                Err((unwritten, err)) => {
                    lost += unwritten as u64;
                    why = err.to_string();
                    if let Some(log) = self.notes_to.filter(|_| !refusing) {
                        let note = format!(
                            "[writing to stderr failed: {why}; what it refuses is dropped and counted]\n"
                        );
                        log.write_log(note.as_bytes());
                    }
                    refusing = true;
                }
            }
            batch.clear();
            // A burst may have grown the buffer far past what is usual: give
            // the memory back rather than keep it for the life of the process.
            if batch.capacity() > 4 * QUEUE_LIMIT {
                batch.shrink_to(2 * QUEUE_LIMIT);
            }
        }
    }
}

fn lost_note(lost: u64, why: &str) -> String {
    format!("[{lost} bytes were lost: writing them failed: {why}]\n")
}

/// Writes all of `bytes`, or says how many were not written and why.
fn write_what_it_takes(
    output: &mut impl Write,
    mut bytes: &[u8],
) -> Result<(), (usize, io::Error)> {
    while !bytes.is_empty() {
        match output.write(bytes) {
            Ok(0) => return Err((bytes.len(), io::ErrorKind::WriteZero.into())),
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err((bytes.len(), err)),
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    //! Each test drives a queue of its own, whose output is a [`Gate`]: a
    //! stderr the test opens and closes, as a terminal paused with Ctrl-S.

    use std::future::Future;
    use std::sync::mpsc;
    use std::sync::{Arc, Condvar, Mutex};
    use std::task::{Context, Poll, Wake, Waker};
    use std::time::{Duration, Instant};

    use super::{LOG_LIMIT, OutputKind, QUEUE_LIMIT, Queue};
    use crate::terminal::HeldBack;

    /// The most any wait in these tests lasts before it fails.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// An output that takes bytes only while open; a write to it while it is
    /// closed waits, as a write to a full pipe does.
    #[derive(Clone, Default)]
    struct Gate(Arc<(Mutex<Taken>, Condvar)>);

    #[derive(Default)]
    struct Taken {
        open: bool,
        bytes: Vec<u8>,
    }

    impl Gate {
        fn open() -> Gate {
            let gate = Gate::default();
            gate.set_open(true);
            gate
        }

        fn set_open(&self, open: bool) {
            self.0.0.lock().unwrap().open = open;
            self.0.1.notify_all();
        }

        /// Waits until the output holds `len` bytes, and returns them.
        fn wait_for_len(&self, len: usize) -> Vec<u8> {
            let (taken, changed) = &*self.0;
            let (taken, timeout) = changed
                .wait_timeout_while(taken.lock().unwrap(), PATIENCE, |taken| {
                    taken.bytes.len() < len
                })
                .unwrap();
            assert!(
                !timeout.timed_out(),
                "waited for {len} bytes of output, got {}",
                taken.bytes.len()
            );
            taken.bytes.clone()
        }
    }

    impl std::io::Write for Gate {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (taken, changed) = &*self.0;
            let mut taken = changed
                .wait_while(taken.lock().unwrap(), |taken| !taken.open)
                .unwrap();
            taken.bytes.extend_from_slice(buf);
            changed.notify_all();
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A task's waker that tells the test when it is woken.
    struct Woken(Mutex<mpsc::Sender<()>>);

    impl Wake for Woken {
        fn wake(self: Arc<Self>) {
            let _ = self.0.lock().unwrap().send(());
        }
    }

    fn waker() -> (Waker, mpsc::Receiver<()>) {
        let (sender, receiver) = mpsc::channel();
        (Waker::from(Arc::new(Woken(Mutex::new(sender)))), receiver)
    }

    /// Waits until `done` says so, for at most [`PATIENCE`].
    fn wait_until(done: impl Fn() -> bool) {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < PATIENCE, "waited {PATIENCE:?} in vain");
            std::thread::yield_now();
        }
    }

    #[test]
    fn log_lines_and_client_bytes_leave_in_the_order_they_were_written() {
        let output = Gate::open();
        let queue = Queue::start("test writer", output.clone(), OutputKind::Bytes, None);
        let mut cx = Context::from_waker(Waker::noop());
        let mut expected = Vec::new();
        for i in 0..100 {
            let bytes = format!("client {i} says hello\n");
            let line = format!("[INFO] client {i} finished\n");
            assert!(
                queue
                    .poll_write(&mut cx, bytes.as_bytes(), &mut HeldBack::default())
                    .is_ready()
            );
            queue.write_log(line.as_bytes());
            expected.extend_from_slice(bytes.as_bytes());
            expected.extend_from_slice(line.as_bytes());
        }
        assert_eq!(output.wait_for_len(expected.len()), expected);
    }

    #[test]
    fn a_full_queue_makes_a_writer_wait_and_loses_nothing() {
        let output = Gate::default();
        let queue = Queue::start("test writer", output.clone(), OutputKind::Bytes, None);
        let (waker, woken) = waker();
        let mut cx = Context::from_waker(&waker);

        // Every piece different, so that a lost or repeated one shows.
        let piece = |i: usize| format!("{i:08}").repeat(8 * 1024).into_bytes();
        // Once the writer thread is stuck on the first piece, the queue only
        // grows.
        let mut sent = piece(0);
        assert!(
            queue
                .poll_write(&mut cx, &sent, &mut HeldBack::default())
                .is_ready()
        );
        wait_until(|| queue.lock().writing);
        let waiting_at = (1..)
            .find(|&i| {
                assert!(sent.len() < 4 * QUEUE_LIMIT, "the queue never filled up");
                let piece = piece(i);
                match queue.poll_write(&mut cx, &piece, &mut HeldBack::default()) {
                    Poll::Ready(written) => {
                        assert_eq!(written.unwrap(), piece.len());
                        sent.extend_from_slice(&piece);
                        false
                    }
                    Poll::Pending => true,
                }
            })
            .unwrap();
        assert!(sent.len() >= QUEUE_LIMIT, "waited at {} bytes", sent.len());
        assert!(woken.try_recv().is_err(), "woken while stderr was stuck");

        // Stderr moves again: the waiting writer is woken, its write is taken,
        // and every byte comes out once, in order.
        output.set_open(true);
        woken
            .recv_timeout(PATIENCE)
            .expect("the waiting writer was never woken");
        let last = piece(waiting_at);
        assert!(
            queue
                .poll_write(&mut cx, &last, &mut HeldBack::default())
                .is_ready()
        );
        sent.extend_from_slice(&last);
        assert!(output.wait_for_len(sent.len()) == sent);
    }

    /// Polls `future` until it is ready, waiting for each wake-up, as a
    /// runtime would: a wake-up may come early (the writer thread starting).
    fn poll_until_ready<T>(
        mut future: std::pin::Pin<&mut impl Future<Output = T>>,
        cx: &mut Context<'_>,
        woken: &mpsc::Receiver<()>,
    ) -> T {
        loop {
            if let Poll::Ready(ready) = future.as_mut().poll(cx) {
                return ready;
            }
            woken
                .recv_timeout(PATIENCE)
                .expect("the waiting task was never woken");
        }
    }

    /// What `stage3-splice` holds while it splices a client's bytes into
    /// stderr: a turn comes after what was queued before it, one at a time,
    /// and what is queued during a turn is written after it.
    #[test]
    fn a_turn_comes_after_what_was_queued_and_holds_the_writer_off() {
        let output = Gate::default();
        let queue = Queue::start("test writer", output.clone(), OutputKind::Bytes, None);
        let (waker, woken) = waker();
        let mut cx = Context::from_waker(&waker);
        queue.write_log(b"[INFO] before\n");
        let mut first = std::pin::pin!(queue.turn());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        output.set_open(true);
        let held = poll_until_ready(first.as_mut(), &mut cx, &woken);
        assert_eq!(output.wait_for_len(14), b"[INFO] before\n");

        // One turn at a time; a line queued meanwhile waits for the turn.
        queue.write_log(b"[INFO] during\n");
        let mut second = std::pin::pin!(queue.turn());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(!queue.lock().writing, "the writer wrote during a turn");
        drop(held);
        let _second = poll_until_ready(second.as_mut(), &mut cx, &woken);
        assert_eq!(output.wait_for_len(28), b"[INFO] before\n[INFO] during\n");
    }

    #[test]
    fn a_thread_writing_to_a_full_queue_blocks_until_there_is_room() {
        let output = Gate::default();
        let queue = Queue::start("test writer", output.clone(), OutputKind::Bytes, None);
        let piece = |i: u8| vec![b'a' + i; QUEUE_LIMIT];
        let (written, each) = mpsc::channel();
        let writer = std::thread::spawn(move || {
            for i in 0..4 {
                queue.write_blocking(&piece(i), &mut HeldBack::default());
                written.send(i).unwrap();
            }
        });
        // The first piece goes to the stuck writer thread, the second fills
        // the queue; the third cannot go in while stderr is stuck. The window
        // is how long a write that does not block would have to show.
        for i in 0..2 {
            assert_eq!(each.recv_timeout(PATIENCE), Ok(i));
        }
        assert!(
            each.recv_timeout(Duration::from_millis(200)).is_err(),
            "a write to a full queue did not wait"
        );
        output.set_open(true);
        writer.join().unwrap();
        let expected: Vec<u8> = (0..4).flat_map(piece).collect();
        assert!(output.wait_for_len(expected.len()) == expected);
    }

    #[test]
    fn log_lines_past_the_limit_are_dropped_and_counted_once_stderr_moves() {
        let output = Gate::default();
        let queue = Queue::start("test writer", output.clone(), OutputKind::Bytes, None);
        let line = |i: usize| format!("[INFO] line {i:06}{}\n", " ".repeat(1000));
        // Once the writer thread is stuck on its first batch, the queue only
        // grows, and what it keeps is known.
        let mut kept = line(0).into_bytes();
        queue.write_log(&kept);
        wait_until(|| queue.lock().writing);
        let mut i = 1;
        while queue.lock().dropped_log_lines < 3 {
            assert!(kept.len() <= 2 * LOG_LIMIT, "no log line was ever dropped");
            if queue.lock().pending.len() < LOG_LIMIT {
                kept.extend_from_slice(line(i).as_bytes());
            }
            queue.write_log(line(i).as_bytes());
            i += 1;
        }
        output.set_open(true);
        let note = b"[3 log lines were dropped: stderr did not keep up]\n";
        let written = output.wait_for_len(kept.len() + note.len());
        assert_eq!(&written[..kept.len()], kept.as_slice());
        assert_eq!(&written[kept.len()..], note);
    }

    #[test]
    fn at_exit_what_was_queued_is_written_but_a_stuck_stderr_is_not_waited_for() {
        let output = Gate::default();
        let queue = Queue::start("test writer", output.clone(), OutputKind::Bytes, None);
        queue.write_blocking(b"the last words\n", &mut HeldBack::default());
        assert!(
            !queue.drain(Duration::from_millis(100)),
            "drained into a stuck stderr"
        );
        output.set_open(true);
        assert!(queue.drain(PATIENCE), "not drained once stderr moved");
        assert_eq!(output.wait_for_len(15), b"the last words\n");
    }

    #[test]
    fn on_a_terminal_a_clients_control_characters_are_shown_escaped() {
        let output = Gate::open();
        let queue = Queue::start("test writer", output.clone(), OutputKind::Terminal, None);
        let mut cx = Context::from_waker(Waker::noop());
        // A window title, a clipboard write (OSC 52), clear screen, erase
        // line and carriage return, a C1 CSI, and a byte that is not UTF-8.
        let attack = "\x1b]0;pwned\x07\x1b]52;c;ZWNobw==\x07\x1b[2J\x1b[2K\rERROR\u{9b}31m\n";
        let mut attack = attack.as_bytes().to_vec();
        attack.push(0xff);
        assert!(
            queue
                .poll_write(&mut cx, &attack, &mut HeldBack::default())
                .is_ready()
        );
        let shown = r"\x1b]0;pwned\x07\x1b]52;c;ZWNobw==\x07\x1b[2J\x1b[2K\x0dERROR\u{9b}31m";
        let expected = format!("{shown}\n\\xff");
        assert_eq!(output.wait_for_len(expected.len()), expected.as_bytes());
    }

    #[test]
    fn log_lines_are_never_escaped() {
        let output = Gate::open();
        let queue = Queue::start("test writer", output.clone(), OutputKind::Terminal, None);
        let line = "\x1b[32mINFO\x1b[0m listening\n";
        queue.write_log(line.as_bytes());
        assert_eq!(output.wait_for_len(line.len()), line.as_bytes());
    }

    /// An output that refuses the first `refusals` writes, as `/dev/full` does.
    struct Refusing {
        refusals: usize,
        taken: Gate,
    }

    impl std::io::Write for Refusing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.refusals > 0 {
                self.refusals -= 1;
                return Err(std::io::ErrorKind::StorageFull.into());
            }
            self.taken.write(buf)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn bytes_stderr_refused_are_counted_and_said_once_it_takes_bytes_again() {
        let taken = Gate::open();
        let refusing = Refusing {
            refusals: 1,
            taken: taken.clone(),
        };
        let queue = Queue::start("test writer", refusing, OutputKind::Bytes, None);
        queue.write_blocking(b"refused\n", &mut HeldBack::default());
        assert!(queue.drain(PATIENCE), "the refused batch was waited for");
        assert!(queue.unsaid_losses().is_some());
        queue.write_blocking(b"taken\n", &mut HeldBack::default());
        let why = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let expected = format!("[8 bytes were lost: writing them failed: {why}]\ntaken\n");
        assert_eq!(taken.wait_for_len(expected.len()), expected.as_bytes());
    }

    #[test]
    fn with_a_log_file_refused_bytes_are_said_there_and_stderr_keeps_the_clients_bytes_alone() {
        let log = Gate::open();
        let log_queue = Queue::start("test writer", log.clone(), OutputKind::Bytes, None);
        let taken = Gate::open();
        let refusing = Refusing {
            refusals: 2,
            taken: taken.clone(),
        };
        let queue = Queue::start("test writer", refusing, OutputKind::Bytes, Some(log_queue));
        for bytes in [b"refused 1\n", b"refused 2\n"] {
            queue.write_blocking(bytes, &mut HeldBack::default());
            assert!(queue.drain(PATIENCE));
        }
        queue.write_blocking(b"taken\n", &mut HeldBack::default());
        assert_eq!(taken.wait_for_len(6), b"taken\n");
        let why = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let said = format!(
            "[writing to stderr failed: {why}; what it refuses is dropped and counted]\n\
             [20 bytes were lost: writing them failed: {why}]\n"
        );
        assert_eq!(log.wait_for_len(said.len()), said.as_bytes());
        // The writer counts what it said when it next takes the lock.
        assert!(queue.drain(PATIENCE));
        assert!(queue.unsaid_losses().is_none());
    }

    /// An output that refuses bytes that are not UTF-8 as Rust's standard
    /// library does on a Windows console: it takes the text up to them, and
    /// a write that starts with them fails.
    struct WindowsConsole(Gate);

    impl std::io::Write for WindowsConsole {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match std::str::from_utf8(buf) {
                Ok(_) => self.0.write(buf),
                Err(err) if err.valid_up_to() > 0 => self.0.write(&buf[..err.valid_up_to()]),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "Windows stdio in console mode does not support writing non-UTF-8 byte sequences",
                )),
            }
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A queue that writes to a stand-in for a Windows console, written as
    /// `kind`; what it took goes to `taken`.
    fn a_console(taken: &Gate, kind: OutputKind) -> &'static Queue {
        Queue::start("test writer", WindowsConsole(taken.clone()), kind, None)
    }

    #[test]
    fn on_a_console_bytes_that_are_not_utf8_are_shown_as_replacement_characters_not_a_lost_batch() {
        let written = b"a line with \xff in it\n[INFO] the line after it\n";
        // As a terminal elsewhere is written to, a console loses the batch
        // from the byte it refuses, the log line after it included...
        let taken = Gate::open();
        let queue = a_console(&taken, OutputKind::Terminal);
        queue.write_log(written);
        assert!(queue.drain(PATIENCE));
        assert!(queue.unsaid_losses().is_some(), "the console took it all");
        assert_eq!(taken.wait_for_len(12), b"a line with ");

        // ...and is sent text instead.
        let taken = Gate::open();
        let queue = a_console(&taken, OutputKind::Console);
        queue.write_log(written);
        assert!(queue.drain(PATIENCE));
        assert!(queue.unsaid_losses().is_none());
        let shown = "a line with \u{fffd} in it\n[INFO] the line after it\n";
        assert_eq!(taken.wait_for_len(shown.len()), shown.as_bytes());
    }

    #[test]
    fn a_sequence_split_across_batches_is_shown_whole_on_a_console() {
        let taken = Gate::open();
        let queue = a_console(&taken, OutputKind::Console);
        queue.write_log(b"1 \xe2\x82");
        // The first batch has been written (what could be) before the rest
        // of the character is queued.
        assert!(queue.drain(PATIENCE));
        queue.write_log(b"\xac\n");
        assert!(queue.drain(PATIENCE));
        assert!(queue.unsaid_losses().is_none());
        assert_eq!(taken.wait_for_len(6), "1 €\n".as_bytes());
    }

    #[test]
    fn on_a_console_a_clients_bytes_are_escaped_as_on_a_terminal() {
        let taken = Gate::open();
        let queue = a_console(&taken, OutputKind::Console);
        let mut cx = Context::from_waker(Waker::noop());
        let mut held_back = HeldBack::default();
        for piece in [b"\x1b[2J caf\xc3".as_slice(), b"\xa9 \xff\n"] {
            assert!(queue.poll_write(&mut cx, piece, &mut held_back).is_ready());
        }
        let shown = r"\x1b[2J café \xff";
        let expected = format!("{shown}\n");
        assert_eq!(taken.wait_for_len(expected.len()), expected.as_bytes());
    }
}
