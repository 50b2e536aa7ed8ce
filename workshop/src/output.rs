//! The report on stdout. `println!` panics, with a backtrace, when stdout
//! cannot be written: a pipe whose reader has left (`workshop compare |
//! head`), a full disk. Here the first failure is kept and later writes are
//! skipped; once the work is done (and the stages it started are stopped as
//! usual), `main` says it in one line and exits 1.

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
