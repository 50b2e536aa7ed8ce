//! The limit on open files. Every connection the workshop opens is a file of
//! its own, and so is every connection a stage it starts takes in: under a
//! desktop's usual `ulimit -n` of 1024, a hold of 5000 stops near 1000.

use std::fmt;
use std::io;

/// Raises this process's soft limit on open files to its hard limit, as Go's
/// runtime does for itself, once at the start of every subcommand; the
/// stages the workshop starts inherit it. Where there is no such limit
/// (Windows), or raising it is not allowed, nothing changes: running out
/// then says so, with the limit.
pub fn raise_open_file_limit() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}

/// How many files this process may open (`ulimit -n`), where the system
/// has such a limit.
pub fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::Resource::NOFILE
            .get()
            .ok()
            .map(|(soft, _hard)| soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Refuses up front a load of about `needed` open files that the limit
/// cannot hold: `load` (such as `a crowd of 1000`) needs them, and `fewer`
/// says how to ask for less. Each connection is a file of this process and
/// one of the server, which inherits this process's limit.
pub fn enough_open_files(needed: u64, load: &str, fewer: &str) -> anyhow::Result<()> {
    match open_file_limit() {
        Some(allowed) if allowed < needed => Err(anyhow::anyhow!(
            "{load} needs about {needed} open files, and this process may open {allowed} (ulimit -n): {fewer}, or raise the hard limit (ulimit -Hn)"
        )),
        _ => Ok(()),
    }
}

/// Whose file descriptors ran out when a new socket found none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutOfFiles {
    /// This process has as many open as `ulimit -n` allows (`EMFILE`).
    Process,
    /// The whole system has as many open as it allows, all processes
    /// together (`ENFILE`): no `ulimit` of ours would help.
    System,
}

impl OutOfFiles {
    /// `{self}: {stopped}; {fewer}, or {remedy}`: what ran out, in the
    /// stages' words, what that stopped, and, after the semicolon, what
    /// would let the next run open more. One shape for both, so that the
    /// process's limit and the system's read alike.
    pub fn stopped(self, stopped: &str, fewer: &str) -> String {
        let remedy = match self {
            OutOfFiles::Process => "raise the hard limit (ulimit -Hn)",
            OutOfFiles::System => "close other programs, or raise the system's limit",
        };
        format!("{self}: {stopped}; {fewer}, or {remedy}")
    }
}

/// `ran out of file descriptors (ulimit -n 1024)`: what `Too many open
/// files (os error 24)` means here, with the limit that was reached.
impl fmt::Display for OutOfFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, open_file_limit()) {
            (OutOfFiles::Process, Some(limit)) => {
                write!(f, "ran out of file descriptors (ulimit -n {limit})")
            }
            (OutOfFiles::Process, None) => write!(f, "ran out of file descriptors"),
            (OutOfFiles::System, _) => write!(f, "the system ran out of file descriptors"),
        }
    }
}

/// Whether `err` says that there is no file descriptor left for a new
/// socket, and whose ran out.
pub fn out_of_files(err: &io::Error) -> Option<OutOfFiles> {
    #[cfg(unix)]
    {
        match err.raw_os_error() {
            Some(libc::EMFILE) => Some(OutOfFiles::Process),
            Some(libc::ENFILE) => Some(OutOfFiles::System),
            _ => None,
        }
    }
    // WSAEMFILE: Windows' "too many open sockets".
    #[cfg(windows)]
    {
        (err.raw_os_error() == Some(10024)).then_some(OutOfFiles::Process)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = err;
        None
    }
}

/// `err` in the course's words where it means running out of files, as
/// it is otherwise.
pub fn explain(err: &io::Error) -> String {
    match out_of_files(err) {
        Some(out) => out.to_string(),
        None => err.to_string(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::{explain, open_file_limit};
    use std::io;

    #[test]
    fn the_system_running_out_is_not_said_to_be_our_limit() {
        let limit = open_file_limit().unwrap();
        assert_eq!(
            explain(&io::Error::from_raw_os_error(libc::EMFILE)),
            format!("ran out of file descriptors (ulimit -n {limit})")
        );
        assert_eq!(
            explain(&io::Error::from_raw_os_error(libc::ENFILE)),
            "the system ran out of file descriptors"
        );
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(explain(&refused), refused.to_string());
    }
}
