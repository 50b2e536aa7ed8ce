//! Plumbing every stage shares, kept here so that each stage's `main.rs` shows
//! only its lesson: the command-line arguments (with `--addr` resolved as Go
//! resolves it), starting tokio's runtime, the logger, turning an error into
//! one line and exit status 1, and the stderr writer. The listen, the accept
//! loop, the copy, `tokio::spawn` and the read deadline never live here: they
//! are what the stages teach, written with tokio's own calls.

pub mod args;
mod logging;
pub mod stderr;

pub use args::{ServerArgs, parse_args, resolve};
pub use logging::init_logging;
pub use stderr::stderr;

use std::any::Any;
use std::fmt::Display;
use std::panic;
use std::process;

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
            eprintln!("error: {what}: {err}");
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
    let report_panics = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let built = panic::catch_unwind(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    });
    panic::set_hook(report_panics);
    let why = match built {
        Ok(Ok(runtime)) => return runtime,
        Ok(Err(err)) => err.to_string(),
        Err(panic) => panic_message(&*panic),
    };
    // An `io::Error` in a panic's message is shown as `Os { code: 24, ... }`.
    let why = match why.contains("Too many open files") {
        true => "too many open files (the open-file limit is too low: see ulimit -n)".to_string(),
        false => why,
    };
    eprintln!("error: cannot start tokio's runtime: {why}");
    process::exit(1)
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
