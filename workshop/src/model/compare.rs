//! What `workshop compare` observes: the plan of a run, and for each stage
//! what it did in each scenario, with a timeline of its clients.

use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::model::usage::Usage;

/// The deadline of the stages that take one, in the crowd scenario.
pub const CROWD_DEADLINE: Duration = Duration::from_secs(60);

/// What to compare, and how hard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The read deadline given to the stages that take `--timeout`.
    pub timeout: Duration,
    /// How many clients the crowd scenario connects.
    pub crowd: usize,
}

/// What one stage did in every scenario.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    pub stage: String,
    /// Whether the stage takes `--timeout`, and so ran with the deadline.
    pub takes_timeout: bool,
    pub two_clients: Observed,
    pub idle: Observed,
    pub talker: Observed,
    pub crowd: Crowd,
}

/// One timed scenario, as seen: a verdict, and the timeline.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    pub verdict: Verdict,
    /// How the server exited during the scenario, if it did: the verdict
    /// is then of a server that was gone.
    pub exited: Option<String>,
    pub timeline: Timeline,
}

/// What a stage did in a timed scenario, told from what was observed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Verdict {
    /// Two clients: the server closed A without printing anything.
    ClosesEachAtOnce,
    /// Two clients: B's line was printed while A was still connected.
    Concurrent,
    /// Two clients: B's line was printed only after A left, so long after B
    /// sent it, if that was seen.
    Serial { waited: Option<Duration> },
    /// Two clients: B's line was never printed.
    BNeverPrinted,
    /// An idle or a talking client: closed as soon as it connected.
    ClosedAtOnce,
    /// An idle client: closed after so long of silence.
    ClosedAfterSilence(Duration),
    /// An idle client: still open after so long of silence.
    OpenAfterSilence(Duration),
    /// A talking client: closed after so long, though it talked so often.
    ClosedWhileTalking { after: Duration, every: Duration },
    /// A talking client: kept open for so long, and so many of its lines
    /// printed.
    KeptOpen {
        open: Duration,
        printed: usize,
        lines: usize,
    },
}

/// The crowd scenario's figures.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Crowd {
    /// How many clients took part.
    pub clients: usize,
    /// How many of them the server printed the line of.
    pub served: usize,
    /// How long until every connected client was served, if all were.
    pub took: Option<Duration>,
    /// Connected, but the server never printed their line.
    pub unserved: usize,
    /// Could not connect in time, or were not tried after a wave failed.
    pub failed: usize,
    /// Closed by the server while the crowd was being held.
    pub closed: usize,
    /// Listen-queue overflows on the machine during the crowd.
    pub overflows: Option<u64>,
    /// The server's memory and threads while it held the crowd.
    pub usage: Option<Usage>,
    /// Memory added, per client still connected then, in KiB.
    pub kib_per_open_client: Option<f64>,
    /// How the server exited during the crowd, if it did.
    pub exited: Option<String>,
}

/// One scenario's clients on a shared clock.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub rows: Vec<Row>,
    /// How long the scenario ran: the width of the drawing.
    pub span: Duration,
}

/// One client: when it connected, when the server accepted it, when the
/// server printed its lines, and how its connection ended.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub client: String,
    pub connected: Duration,
    pub accepted: Option<Duration>,
    pub printed: Vec<Duration>,
    pub end: Option<End>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub enum End {
    ByClient(Duration),
    ByServer(Duration),
}

/// A whole `compare` run, as `compare --pictures` keeps it in
/// `compare.json`: the plan, and what each stage did. Read back, it draws
/// the same pictures again, without running a stage.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub plan: Plan,
    pub reports: Vec<StageReport>,
}

impl Comparison {
    /// A run kept as JSON, read back; `name` says where it came from.
    pub fn read(name: &str, text: &str) -> anyhow::Result<Comparison> {
        serde_json::from_str(text)
            .with_context(|| format!("{name} is not the compare.json of workshop compare"))
    }
}
