//! What the bench measures: the servers' scenarios (the rows of its
//! table), and each run's sample, the figure with what else the run saw.

use crate::processes::usage::Usage;

/// Where a server's stderr goes during a throughput run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sink {
    DevNull,
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

/// A measurement, and the row of the table its figures go to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scenario {
    Hold { connections: usize },
    Flood { clients: usize, sink: Sink },
    Churn { concurrency: usize },
}

impl Scenario {
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

/// What one run measured. `value` is the figure of the table: KiB per
/// connection, MB/s, or connections per second.
#[derive(Clone, Debug)]
pub struct Sample {
    pub round: u32,
    pub server: String,
    pub scenario: Scenario,
    pub value: Result<f64, String>,
    /// The run's other figures, as JSON fields.
    pub detail: String,
    /// For a hold: the server's memory and threads before, and at the peak
    /// while holding (the chart and the threads in the table).
    pub usage: Option<(Usage, Usage)>,
    /// For a hold: connections the client saw established that the server
    /// never took in (the listen queue overflowed and dropped them).
    pub lost: usize,
}

impl Sample {
    pub fn new(round: u32, server: &str, scenario: Scenario) -> Sample {
        Sample {
            round,
            server: server.to_string(),
            scenario,
            value: Err(String::new()),
            detail: String::new(),
            usage: None,
            lost: 0,
        }
    }
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
    use super::summary;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(summary(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(summary(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(summary(&[]), None);
    }
}
