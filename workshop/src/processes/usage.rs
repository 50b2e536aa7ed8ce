//! What the kernel tells of a process, from `/proc`: its resident memory
//! and threads, its open files, and the machine's listen-queue overflows.
//! Linux only: elsewhere they read as unknown.

use std::fs;
use std::time::Duration;

use tokio::sync::watch;

use crate::model::usage::Usage;

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

/// How many files (sockets included) process `pid` has open: each accepted
/// connection is one, so this tells how many the server has taken in.
pub fn open_files(pid: u32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Samples a process's memory and threads every 100 ms, keeping the peak.
pub struct UsageWatcher {
    peak: watch::Receiver<Option<Usage>>,
    _sampler: tokio::task::JoinHandle<()>,
}

impl UsageWatcher {
    pub fn start(pid: u32) -> UsageWatcher {
        let (record, peak) = watch::channel(of(pid));
        let sampler = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Some(now) = of(pid) else { return };
                record.send_modify(|peak| *peak = Some(peak.map_or(now, |peak| peak.peak(now))));
            }
        });
        UsageWatcher {
            peak,
            _sampler: sampler,
        }
    }

    pub fn peak(&self) -> Option<Usage> {
        *self.peak.borrow()
    }
}

/// Linux's: the figures come from /proc.
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{of, open_files};

    #[test]
    fn this_process_has_memory_and_at_least_one_thread() {
        let usage = of(std::process::id()).expect("/proc/self/status");
        assert!(usage.rss_kib > 0 && usage.threads >= 1, "{usage:?}");
    }

    /// A stage's listener is found with the port it logged. (A stage, not
    /// this process: other tests here listen too, at the same time.)
    #[tokio::test]
    async fn a_stage_is_found_listening_on_the_port_it_logged() {
        use crate::processes::servers::{blocking, start};
        use crate::processes::stages::find;
        let wanted = ["stage3-concurrent".to_string()];
        let stage = blocking(move || find(&wanted)).await.unwrap().remove(0);
        let server = start(&stage.name, stage.server(&[])).await.unwrap();
        let ports = harness::listening::listening_ports(server.pid());
        assert_eq!(ports, [server.addr().port()]);
        assert!(open_files(server.pid()).is_some_and(|n| n >= 1));
    }
}
