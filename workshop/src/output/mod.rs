//! Plumbing every layer may use: the workshop's two outputs, written
//! without the panic with a backtrace that `println!` and `eprintln!` give
//! when theirs cannot be written: a pipe whose reader has left (`workshop
//! compare | head`), a full disk.
//!
//! - The report, on stdout: the first failure is kept and later writes are
//!   skipped; once the work is done (and the stages it started are stopped
//!   as usual), `main` says it in one line and exits 1.
//! - What the workshop says while it works (progress, what it starts, the
//!   final `error:` line), on stderr: for whoever watches, so a stderr that
//!   cannot take a line loses that line, and nothing else changes; the exit
//!   status still tells how the work went.
//!
//! Also here: [`progress`] on stderr, and the files the workshop writes
//! whole or not at all, `compare`'s [`notes`] and the bench's [`results`].

pub mod notes;
pub mod progress;
pub mod results;

use std::io::Write;
use std::sync::OnceLock;

static FAILED: OnceLock<String> = OnceLock::new();

/// Writes `text` to stdout, unless stdout has failed before.
pub fn write(text: std::fmt::Arguments) {
    if FAILED.get().is_some() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        let _ = FAILED.set(err.to_string());
    }
}

/// Why stdout could not be written, if it could not.
pub fn failure() -> Option<&'static str> {
    FAILED.get().map(String::as_str)
}

/// Writes `text` to stderr, if stderr takes it.
pub fn tell(text: std::fmt::Arguments) {
    // Stderr is not buffered: each write goes out, or fails, at once.
    let _ = std::io::stderr().lock().write_fmt(text);
}

/// `print!` whose failure is a line at the end, not a panic.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

/// `println!` whose failure is a line at the end, not a panic.
#[macro_export]
macro_rules! sayln {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` whose failure loses the text, not the run.
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {
        $crate::output::tell(format_args!($($arg)*))
    };
}

/// `eprintln!` whose failure loses the line, not the run.
#[macro_export]
macro_rules! tellln {
    ($($arg:tt)*) => {
        $crate::output::tell(format_args!("{}\n", format_args!($($arg)*)))
    };
}
