//! A process's resident memory and thread count, as the kernel reports them
//! in `/proc/PID/status`. Linux only: elsewhere they read as unknown.

use std::fs;

/// Memory and threads of one process at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usage {
    /// Resident set size: the memory the process really occupies, in KiB.
    pub rss_kib: u64,
    pub threads: u64,
}

impl Usage {
    /// Reads the usage of process `pid`, or `None` where `/proc` cannot tell.
    pub fn of(pid: u32) -> Option<Usage> {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|value| value.parse().ok())
        };
        Some(Usage {
            rss_kib: field("VmRSS:")?,
            threads: field("Threads:")?,
        })
    }
}

/// `12.3 MiB` from a size in KiB.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn this_process_has_memory_and_at_least_one_thread() {
        let usage = Usage::of(std::process::id()).expect("/proc/self/status");
        assert!(usage.rss_kib > 0 && usage.threads >= 1, "{usage:?}");
    }
}
