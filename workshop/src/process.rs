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

/// How many times, since boot, a listen queue on this machine was full when a
/// connection arrived (`ListenOverflows` in `/proc/net/netstat`). The kernel
/// then drops the handshake, and the client retries a second later; a client
/// that sends nothing may even believe it is connected while the server never
/// accepted it. Linux only; the count is for the whole machine.
pub fn listen_overflows() -> Option<u64> {
    let netstat = fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = netstat.lines().filter(|line| line.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let at = names
        .split_whitespace()
        .position(|name| name == "ListenOverflows")?;
    values.split_whitespace().nth(at)?.parse().ok()
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
