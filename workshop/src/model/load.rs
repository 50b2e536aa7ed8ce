//! What `workshop load` saw: the load each mode put on the server, as
//! measured ([`crate::measure::load`]), apart from its report
//! ([`crate::render::load`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::model::usage::Usage;

/// How the connections (or clients) that failed, failed: so many of each
/// kind, such as `3 connection refused`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Failed {
    pub kinds: BTreeMap<String, usize>,
}

impl Failed {
    pub fn count(&self) -> usize {
        self.kinds.values().sum()
    }
}

/// `3 connection refused, 1 timed out`, or `none`: said alike by every
/// load and by the bench's errors.
impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kinds.is_empty() {
            return write!(f, "none");
        }
        let parts: Vec<String> = self
            .kinds
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        write!(f, "{}", parts.join(", "))
    }
}

/// The tasks `--limit` stopped: those at work, and those still waiting for
/// their turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CutShort {
    pub running: usize,
    pub waiting: usize,
}

/// What one load did, by mode.
#[derive(Clone, Debug, PartialEq)]
pub enum Load {
    Hold(Hold),
    Flood(Flood),
    Churn(Churn),
}

/// How a hold ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldEnd {
    /// `--limit` came while connections were still being made, so long
    /// after the start.
    StoppedConnecting { after: Duration },
    /// Not one connection was established.
    NoneEstablished,
    /// `--limit` came during the hold, after so long of it.
    StoppedHolding { held: Duration },
    /// Held for the whole `--hold`.
    Held,
}

/// `workshop load hold`: connections opened, then held, silent.
#[derive(Clone, Debug, PartialEq)]
pub struct Hold {
    pub addr: SocketAddr,
    /// The connections asked for, and how long to hold them.
    pub connections: usize,
    pub hold: Duration,
    pub end: HoldEnd,
    pub established: usize,
    /// How long connecting took.
    pub connecting: Duration,
    pub failed: Failed,
    pub still_connecting: CutShort,
    /// Connections the server closed before the end of the hold.
    pub closed_early: usize,
}

/// `workshop load flood`: clients each send so many bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Flood {
    pub addr: SocketAddr,
    /// The clients asked for, the bytes each sends, and in all.
    pub clients: usize,
    pub bytes: u64,
    pub total: u64,
    /// Bytes that went out, and how long that took.
    pub sent: u64,
    pub took: Duration,
    /// Megabytes (10⁶ bytes) a second.
    pub rate: f64,
    /// Clients that sent all and saw the server close.
    pub done: usize,
    pub failed: Failed,
    /// `--limit` stopped the clients still sending.
    pub stopped: bool,
}

/// `workshop load churn`: connect, send a line and close, again and again.
#[derive(Clone, Debug, PartialEq)]
pub struct Churn {
    pub addr: SocketAddr,
    /// The connections asked for, and how many at a time.
    pub connections: usize,
    pub concurrency: usize,
    pub completed: usize,
    pub took: Duration,
    pub per_second: f64,
    /// Connect times: the median, the 99th percentile and the slowest;
    /// none when no connection completed.
    pub median: Option<Duration>,
    pub p99: Option<Duration>,
    pub slowest: Option<Duration>,
    pub failed: Failed,
    pub unfinished: CutShort,
}

/// A load and what was seen around it: the machine's listen-queue
/// overflows, the server's memory, and whether it exited meanwhile.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub load: Load,
    /// How the server exited during the load, if it did.
    pub exited: Option<String>,
    /// Listen-queue overflows on the machine during the load, where known.
    pub overflows: Option<u64>,
    /// The server's memory and threads, when its pid is known.
    pub server: Option<Server>,
}

/// The server's pid, its memory and threads at the peak of the load (none
/// off Linux), and the memory added per connection held, when every one
/// was held to the end.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    pub pid: u32,
    pub peak: Option<Usage>,
    pub before: Option<Usage>,
    pub kib_per_connection: Option<f64>,
}

impl Load {
    /// Connections (or clients) that did what the mode asks of them.
    pub fn succeeded(&self) -> usize {
        match self {
            Load::Hold(hold) => hold.established,
            Load::Flood(flood) => flood.done,
            Load::Churn(churn) => churn.completed,
        }
    }

    pub fn failed(&self) -> &Failed {
        match self {
            Load::Hold(hold) => &hold.failed,
            Load::Flood(flood) => &flood.failed,
            Load::Churn(churn) => &churn.failed,
        }
    }

    /// Whether `--limit` stopped the load: its figures are what it did
    /// until then.
    pub fn stopped(&self) -> bool {
        match self {
            Load::Hold(hold) => matches!(
                hold.end,
                HoldEnd::StoppedConnecting { .. } | HoldEnd::StoppedHolding { .. }
            ),
            Load::Flood(flood) => flood.stopped,
            Load::Churn(churn) => churn.unfinished != CutShort::default(),
        }
    }

    /// Connections the server held to the end, for memory per connection:
    /// only a hold of every connection established for the whole hold, and
    /// a flood whose every client was connected to the end, say it.
    pub fn held_to_the_end(&self) -> Option<usize> {
        match self {
            Load::Hold(hold) => {
                (!self.stopped() && hold.closed_early == 0).then_some(hold.established)
            }
            Load::Flood(flood) => (flood.done == flood.clients).then_some(flood.clients),
            Load::Churn(_) => None,
        }
    }
}
