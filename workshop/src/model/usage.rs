//! A process's memory and threads at one moment, as measured and reported
//! (read from `/proc` by [`crate::processes::usage`]).

/// Memory and threads of one process at one moment.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Resident set size: the memory the process really occupies, in KiB.
    pub rss_kib: u64,
    pub threads: u64,
}

impl Usage {
    /// The larger memory and the larger thread count of two samples.
    pub fn peak(self, other: Usage) -> Usage {
        Usage {
            rss_kib: self.rss_kib.max(other.rss_kib),
            threads: self.threads.max(other.threads),
        }
    }

    /// The memory added since `before`, per connection held, in KiB: what
    /// each connection costs the server. None for no connection, where
    /// there is nothing to share it among.
    pub fn kib_per_connection(self, before: Usage, connections: usize) -> Option<f64> {
        (connections > 0)
            .then(|| self.rss_kib.saturating_sub(before.rss_kib) as f64 / connections as f64)
    }
}
