//! Step 2, a connection limit: "No file descriptors available" is what a server
//! that accepts without limit ends with. Each connection holds a permit from
//! a semaphore; at the limit the accept loop waits for a permit before it
//! calls `accept`, so new clients wait in the kernel's listen queue, not in
//! this process.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
    max: usize,
    /// Whether the limit was reached and not left since: the warning is
    /// logged once per episode, not once per client.
    at_the_limit: bool,
}

impl ConnectionLimit {
    pub fn new(max: usize) -> ConnectionLimit {
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(max)),
            max,
            at_the_limit: false,
        }
    }

    /// A permit for one more connection, once one is free; `None` if
    /// shutdown begins first. The connection's task holds the permit, and
    /// dropping it, when the task ends, lets one more client in.
    pub async fn permit(&mut self, shutdown: &CancellationToken) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            self.at_the_limit = false;
            return Some(permit);
        }
        if !self.at_the_limit {
            let plural = if self.max == 1 { "" } else { "s" };
            log::warn!(
                "the limit of {} connection{plural} is reached: new clients wait",
                self.max
            );
            self.at_the_limit = true;
        }
        tokio::select! {
            permit = Arc::clone(&self.permits).acquire_owned() => {
                Some(permit.expect("the semaphore is never closed"))
            }
            () = shutdown.cancelled() => None,
        }
    }
}

/// A connection limit that leaves room below the process's limit on open
/// files: every connection is a file descriptor, and the process needs
/// more of its own: about a dozen (the listener, the runtime's, stdin,
/// stdout, stderr and a copy of it, a log file), and up to 16 for the
/// splice's pipes (`splice.rs`).
/// An unlimited or huge limit still gives a number a semaphore can hold.
pub fn default_max_connections() -> usize {
    const SPARE: u64 = 32;
    const CEILING: u64 = 1 << 20;
    let limit = open_file_limit().unwrap_or(1024);
    usize::try_from(limit.saturating_sub(SPARE).clamp(1, CEILING)).unwrap_or(1)
}

/// The soft limit on open files (`ulimit -n`), where the system says.
fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        // `rlim_t` is not 64 bits on every Unix.
        #[allow(clippy::useless_conversion)]
        (status == 0).then(|| u64::try_from(limit.rlim_cur).unwrap_or(u64::MAX))
    }
    #[cfg(not(unix))]
    {
        None
    }
}
