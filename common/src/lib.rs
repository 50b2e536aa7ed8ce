//! Plumbing every stage shares, kept here so that each stage's `main.rs` shows
//! only its lesson: the command-line arguments (with `--addr` resolved as Go
//! resolves it), starting tokio's runtime, the logger, turning an error into
//! one line and exit status 1, and the stderr writer. The listen, the accept
//! loop, the copy, `tokio::spawn` and the read deadline never live here: they
//! are what the stages teach, written with tokio's own calls.

pub mod args;
mod logging;
pub mod stderr;
pub mod terminal;

pub use args::{ServerArgs, parse_args, resolve};
pub use logging::{init_logging, log_file};
pub use stderr::{exit, stderr};

use std::any::Any;
use std::fmt::Display;
use std::io::{self, Write};
use std::panic;
use std::process;
use std::sync::Arc;
use std::thread;

/// Go's `if err != nil { log.Fatal(err) }`, for what a server cannot start
/// without: `or_exit` gives the value, or prints one line, `error: WHAT:
/// ERR`, and exits with status 1.
pub trait OrExit<T> {
    fn or_exit(self, what: impl Display) -> T;
}

impl<T, E: Display> OrExit<T> for Result<T, E> {
    fn or_exit(self, what: impl Display) -> T {
        self.unwrap_or_else(|err| {
            // Straight to stderr, not through the log: this is the server
            // failing to start, as clap's messages for bad arguments are.
            // What is queued goes first, so that this line is the last.
            stderr::write_queued_before_exit();
            say(format!("error: {what}: {err}"));
            process::exit(1)
        })
    }
}

/// The runtime `#[tokio::main]` builds before it runs `main`'s body: tokio's
/// multi-threaded scheduler with its I/O, timer and signal drivers. Built
/// here so that a runtime that cannot start is one line and exit 1, not a
/// panic: under an open-file limit of a handful there is no descriptor left
/// for its event loop, and tokio returns some of those errors but panics on
/// others (the signal driver's).
pub fn runtime() -> tokio::runtime::Runtime {
    // Panics while building are caught below and said in one line; those of
    // other threads (the stderr writer, tokio's new workers) still show.
    let building = thread::current().id();
    let report_panics: Arc<PanicHook> = Arc::from(panic::take_hook());
    let others = Arc::clone(&report_panics);
    panic::set_hook(Box::new(move |info| {
        if thread::current().id() != building {
            others(info);
        }
    }));
    let built = panic::catch_unwind(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    });
    panic::set_hook(Box::new(move |info| report_panics(info)));
    let why = match built {
        Ok(Ok(runtime)) => return runtime,
        Ok(Err(err)) => out_of_files(&err).unwrap_or_else(|| err.to_string()),
        // tokio's panic shows the `io::Error` as `Os { code: 24, ... }`.
        Err(panic) => match panic_message(&*panic) {
            message if message.contains("Too many open files in system") => system_out_of_files(),
            message if message.contains("Too many open files") => ran_out_of_file_descriptors(),
            message => message,
        },
    };
    stderr::write_queued_before_exit();
    say(format!("error: cannot start tokio's runtime: {why}"));
    process::exit(1)
}

/// Writes a line straight to stderr, for what comes before the stderr
/// queue or instead of it (a server that cannot start). A stderr that
/// cannot be written (closed, `/dev/full`) loses the line, not the process:
/// `eprintln!` would panic.
pub(crate) fn say(line: impl Display) {
    let _ = writeln!(io::stderr(), "{line}");
}

type PanicHook = dyn Fn(&panic::PanicHookInfo<'_>) + Sync + Send + 'static;

/// What to say when `err` is running out of files: EMFILE, this process has
/// as many open as it may, or ENFILE, the whole system has. (Windows has no
/// such limits on the handles a runtime needs.)
fn out_of_files(err: &io::Error) -> Option<String> {
    #[cfg(unix)]
    let said = match err.raw_os_error() {
        Some(libc::EMFILE) => Some(ran_out_of_file_descriptors()),
        Some(libc::ENFILE) => Some(system_out_of_files()),
        _ => None,
    };
    #[cfg(not(unix))]
    let said = {
        let _ = err;
        None
    };
    said
}

fn system_out_of_files() -> String {
    "the system ran out of file descriptors".to_string()
}

/// "ran out of file descriptors (ulimit -n 6)": what the workshop says too.
fn ran_out_of_file_descriptors() -> String {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the limit into `limit`.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            return format!("ran out of file descriptors (ulimit -n {})", limit.rlim_cur);
        }
    }
    "ran out of file descriptors".to_string()
}

/// What a panic said, when it said it with a string.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = panic.downcast_ref::<&str>() {
        message.to_string()
    } else {
        "it panicked".to_string()
    }
}
