//! What the bench measures: the servers' scenarios (the rows of its
//! table), and each run's sample, the figure with what else the run saw;
//! and a `results.jsonl` read back into samples, checked.

use anyhow::{anyhow, bail};
use serde::{Deserialize, Serialize};

/// Where a server's stderr goes during a throughput run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sink {
    #[serde(rename = "/dev/null")]
    DevNull,
    #[serde(rename = "pipe")]
    Pipe,
}

impl Sink {
    pub fn name(self) -> &'static str {
        match self {
            Sink::DevNull => "/dev/null",
            Sink::Pipe => "pipe",
        }
    }
}

/// A measurement, and the row of the table its figures go to. In
/// `results.jsonl`: `"scenario":"hold","connections":1000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scenario")]
pub enum Scenario {
    #[serde(rename = "hold")]
    Hold { connections: usize },
    #[serde(rename = "throughput")]
    Flood {
        clients: usize,
        #[serde(rename = "stderr")]
        sink: Sink,
    },
    #[serde(rename = "accept")]
    Churn { concurrency: usize },
}

impl Scenario {
    /// Its name in `results.jsonl`: `hold`, `throughput` or `accept`.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Hold { .. } => "hold",
            Scenario::Flood { .. } => "throughput",
            Scenario::Churn { .. } => "accept",
        }
    }

    /// The row of the table this scenario's figure goes to.
    pub fn row(self) -> String {
        match self {
            Scenario::Hold { connections } => {
                format!("memory per idle connection, {connections} held")
            }
            Scenario::Flood { clients, sink } => {
                format!("throughput, {clients} clients, stderr to {}", sink.name())
            }
            Scenario::Churn { concurrency } => {
                format!("accept rate, {concurrency} connecting at a time")
            }
        }
    }
}

/// What one run measured: one line of `results.jsonl`, such as
/// `{"round":1,"server":"stage3-concurrent","scenario":"hold",
/// "connections":1000,"value":9.26,"rss_kib_before":3384,...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub round: u32,
    pub server: String,
    #[serde(flatten)]
    pub scenario: Scenario,
    /// The load asked for that the scenario does not name: the bytes a
    /// throughput run's clients send in all (`--bytes`), the connections
    /// an accept-rate run makes (`--churn`); none for a hold, whose count
    /// is its scenario's. Unknown (none) in results written before it was
    /// kept, which still read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<u64>,
    #[serde(flatten)]
    pub figure: Figure,
    /// The run's other figures; none for a run that failed before them.
    #[serde(flatten)]
    pub detail: Option<Detail>,
}

/// The figure of the table, or why the run has none: `"value":9.26` or
/// `"error":"..."`. The value is KiB per connection, MB/s, or connections
/// per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Figure {
    Value { value: f64 },
    Failed { error: String },
}

/// A run's other figures, by scenario. (Told apart by their fields, which
/// differ: the scenario is written beside them.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Detail {
    Hold(Held),
    Flood(Flooded),
    Churn(Churned),
}

/// A hold's: the server's memory and threads before, and at the peak
/// while holding (the chart, and the threads in the table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub rss_kib_before: u64,
    pub rss_kib: u64,
    pub threads_before: u64,
    pub threads: u64,
    pub closed_by_the_server: usize,
    /// Connections the client saw established that the server never took
    /// in (the listen queue overflowed and dropped them).
    pub lost_in_the_listen_queue: usize,
}

/// A throughput run's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flooded {
    pub bytes: u64,
    pub seconds: f64,
    pub read_from_the_pipe: u64,
}

/// An accept-rate run's; the overflows are unknown off Linux (`null`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Churned {
    pub completed: usize,
    pub failed: usize,
    pub seconds: f64,
    pub slowest_connect_ms: u64,
    pub listen_overflows: Option<u64>,
}

impl Sample {
    /// A run about to start: failed, until it measures something.
    pub fn new(round: u32, server: &str, scenario: Scenario) -> Sample {
        Sample {
            round,
            server: server.to_string(),
            scenario,
            load: None,
            figure: Figure::Failed {
                error: String::new(),
            },
            detail: None,
        }
    }

    /// The figure, if the run succeeded.
    pub fn value(&self) -> Option<f64> {
        match self.figure {
            Figure::Value { value } => Some(value),
            Figure::Failed { .. } => None,
        }
    }

    /// Why the run failed, if it did.
    pub fn error(&self) -> Option<&str> {
        match &self.figure {
            Figure::Value { .. } => None,
            Figure::Failed { error } => Some(error),
        }
    }

    /// Whether the other figures are the scenario's, as a run writes them:
    /// a run that has a figure has them too. (They are told apart by their
    /// fields, and a damaged one would otherwise read as none, silently.)
    fn has_its_scenarios_figures(&self) -> bool {
        match (self.scenario, &self.detail) {
            (Scenario::Hold { .. }, Some(Detail::Hold(_)))
            | (Scenario::Flood { .. }, Some(Detail::Flood(_)))
            | (Scenario::Churn { .. }, Some(Detail::Churn(_))) => true,
            (_, None) => self.value().is_none(),
            _ => false,
        }
    }

    /// A hold's other figures.
    pub fn held(&self) -> Option<&Held> {
        match &self.detail {
            Some(Detail::Hold(held)) => Some(held),
            _ => None,
        }
    }
}

/// The runs of a `results.jsonl`, whose text is `text`; `name` names it in
/// an error, which says where the first thing that is not a run's result
/// starts, in the file's own lines and columns.
pub fn read(name: &str, text: &str) -> anyhow::Result<Vec<Sample>> {
    let not_a_result = "not a result of workshop bench";
    let mut samples = Vec::new();
    let mut runs = serde_json::Deserializer::from_str(text).into_iter::<Sample>();
    let mut end_of_last = 0;
    while let Some(run) = runs.next() {
        let sample = run.map_err(|err| {
            // serde_json ends its text with the position, said here first.
            let position = format!(" at line {} column {}", err.line(), err.column());
            let reason = err.to_string();
            let reason = reason.strip_suffix(&position).unwrap_or(&reason);
            anyhow!(
                "{name}, line {}, column {}: {not_a_result}: {reason}",
                err.line(),
                err.column()
            )
        })?;
        if !sample.has_its_scenarios_figures() {
            let rest = &text[end_of_last..];
            let starts = end_of_last + rest.len() - rest.trim_start().len();
            bail!(
                "{name}, line {}: {not_a_result}: the figures beside a {} run's value are missing, damaged or another scenario's",
                1 + text[..starts].matches('\n').count(),
                sample.scenario.name()
            );
        }
        end_of_last = runs.byte_offset();
        samples.push(sample);
    }
    if samples.is_empty() {
        bail!("{name} holds no results of workshop bench");
    }
    Ok(samples)
}

/// The servers of `samples`, in the order they first appear (the order
/// they were measured in).
pub fn servers(samples: &[Sample]) -> Vec<&str> {
    let mut servers: Vec<&str> = Vec::new();
    for sample in samples {
        if !servers.contains(&sample.server.as_str()) {
            servers.push(&sample.server);
        }
    }
    servers
}

/// The scenarios of `samples`, in the order they first appear.
pub fn scenarios(samples: &[Sample]) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    for sample in samples {
        if !scenarios.contains(&sample.scenario) {
            scenarios.push(sample.scenario);
        }
    }
    scenarios
}

/// The runs of `server` in `scenario`: a cell of the table.
pub fn cell<'a>(samples: &'a [Sample], server: &str, scenario: Scenario) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| s.server == server && s.scenario == scenario)
        .collect()
}

/// The figures of the runs that succeeded.
pub fn values(runs: &[&Sample]) -> Vec<f64> {
    runs.iter().filter_map(|s| s.value()).collect()
}

/// `value` to `decimals` places: the figures of `results.jsonl` are
/// measured to no finer, and read better so.
pub fn rounded(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// The median, lowest and highest of the successful samples of one cell.
pub fn summary(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = match sorted.len() {
        0 => return None,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    Some((median, sorted[0], sorted[sorted.len() - 1]))
}

#[cfg(test)]
mod tests {
    use super::{Detail, Figure, read, summary};

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(summary(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(summary(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(summary(&[]), None);
    }

    /// The run the book shows, in the shape written before the results
    /// were typed, reads: `--baseline book/src/bench/results.jsonl` works.
    #[test]
    fn the_committed_run_reads_with_every_scenarios_figures() {
        let text = include_str!("../../../book/src/bench/results.jsonl");
        let samples = read("book/src/bench/results.jsonl", text).unwrap();
        assert_eq!(samples.len(), text.lines().count());
        assert!(
            samples
                .iter()
                .all(|sample| sample.value().is_none() || sample.detail.is_some())
        );
    }

    /// A line that is no result is named by the file's own line and column,
    /// once, with what serde_json found wrong there.
    #[test]
    fn a_line_that_is_no_result_is_named_by_its_place_in_the_file() {
        let text = "\n{\"round\":1,\"server\":\"stage3-concurrent\"}\n";
        let err = read("old.jsonl", text).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "old.jsonl, line 2, column 40: not a result of workshop bench: missing field `scenario`"
        );
        let err = read("empty.jsonl", "\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "empty.jsonl holds no results of workshop bench"
        );
    }

    /// A run whose other figures are damaged, or another scenario's, is
    /// refused, not read as a run without them; a failed run has none.
    #[test]
    fn a_run_whose_figures_are_damaged_or_another_scenarios_is_refused() {
        let hold = r#"{"round":1,"server":"stage3","scenario":"hold","connections":10,"value":9.0,"rss_kib_before":1,"rss_kib":2,"threads_before":1,"threads":1,"closed_by_the_server":0,"lost_in_the_listen_queue":0}"#;
        let failed = r#"{"round":1,"server":"stage3","scenario":"accept","concurrency":1,"error":"refused"}"#;
        let samples = read("good.jsonl", &format!("{hold}\n{failed}\n")).unwrap();
        assert!(matches!(samples[0].detail, Some(Detail::Hold(_))));
        assert_eq!(
            samples[1].figure,
            Figure::Failed {
                error: "refused".to_string()
            }
        );
        let damaged = hold.replace(r#""rss_kib":2,"#, "");
        let flood = r#"{"round":1,"server":"stage3","scenario":"throughput","clients":1,"stderr":"pipe","value":9.0,"rss_kib_before":1,"rss_kib":2,"threads_before":1,"threads":1,"closed_by_the_server":0,"lost_in_the_listen_queue":0}"#;
        for (bad, scenario) in [(damaged.as_str(), "hold"), (flood, "throughput")] {
            let err = read("bad.jsonl", &format!("{hold}\n\n{bad}\n")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "bad.jsonl, line 3: not a result of workshop bench: the figures beside a {scenario} run's value are missing, damaged or another scenario's"
                )
            );
        }
    }
}
