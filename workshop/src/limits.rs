//! The limit on open files. Every connection the workshop opens is a file of
//! its own, and so is every connection a stage it starts takes in: under a
//! desktop's usual `ulimit -n` of 1024, a hold of 5000 stops near 1000.

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

/// Whether `err` says that this process (or the whole system) has no file
/// descriptor left for a new socket.
pub fn out_of_files(err: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    // WSAEMFILE: Windows' "too many open sockets".
    #[cfg(windows)]
    {
        err.raw_os_error() == Some(10024)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = err;
        false
    }
}

/// `ran out of file descriptors (ulimit -n 1024)`: what `uncategorized
/// error`, Rust's name for `EMFILE`, means here.
pub fn ran_out_of_files() -> String {
    match open_file_limit() {
        Some(limit) => format!("ran out of file descriptors (ulimit -n {limit})"),
        None => "ran out of file descriptors".to_string(),
    }
}
