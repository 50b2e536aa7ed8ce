//! The bench's table: a row per measurement, a column per server.

use std::fmt::Write as _;

use crate::model::bench::{Sample, Scenario, summary};
use crate::render::table::Table;

/// How a cell shows its figures: the unit and the precision suit the median,
/// and the lowest and highest follow it, such as `231 MB/s (226–248)`.
fn figures(scenario: Scenario, median: f64, range: Option<(f64, f64)>) -> String {
    let (scale, decimals, unit) = match scenario {
        Scenario::Hold { .. } => (1.0, 1, " KiB"),
        Scenario::Flood { .. } if median >= 1000.0 => (1000.0, 2, " GB/s"),
        Scenario::Flood { .. } => (1.0, 0, " MB/s"),
        Scenario::Churn { .. } => (1.0, 0, "/s"),
    };
    let show = |value: f64| format!("{:.*}", decimals, value / scale);
    match range {
        Some((low, high)) => format!("{}{unit} ({}–{})", show(median), show(low), show(high)),
        None => format!("{}{unit}", show(median)),
    }
}

/// A Markdown table: a row per measurement, a column per server, each cell
/// the median and, in brackets, the lowest and highest of the rounds.
pub fn table(servers: &[&str], scenarios: &[Scenario], samples: &[Sample]) -> String {
    let mut table =
        Table::new(std::iter::once("measurement").chain(servers.iter().copied())).figures_from(1);
    for &scenario in scenarios {
        let mut row = vec![scenario.row()];
        for &server in servers {
            let cell: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.server == server && s.scenario == scenario)
                .collect();
            let values: Vec<f64> = cell.iter().filter_map(|s| s.value()).collect();
            let failed = cell.len() - values.len();
            let mut text = match summary(&values) {
                Some((median, low, high)) if values.len() > 1 => {
                    figures(scenario, median, Some((low, high)))
                }
                Some((median, ..)) => figures(scenario, median, None),
                None => "failed".to_string(),
            };
            if failed > 0 && !values.is_empty() {
                let _ = write!(text, ", {failed} failed");
            }
            if let Scenario::Hold { .. } = scenario {
                let threads: Vec<f64> = cell
                    .iter()
                    .filter(|s| s.value().is_some())
                    .filter_map(|s| s.held().map(|held| held.threads as f64))
                    .collect();
                if let Some((median, ..)) = summary(&threads) {
                    let _ = write!(text, ", {median:.0} threads");
                }
                let lost: Vec<f64> = cell
                    .iter()
                    .filter(|s| s.value().is_some())
                    .filter_map(|s| s.held().map(|held| held.lost_in_the_listen_queue as f64))
                    .collect();
                if let Some((median, ..)) = summary(&lost).filter(|&(median, ..)| median > 0.0) {
                    let _ = write!(text, ", {median:.0} lost in the listen queue");
                }
            }
            row.push(text);
        }
        table.row(row);
    }
    let mut out = table.markdown();
    let failures: Vec<String> = samples
        .iter()
        .filter_map(|s| {
            let error = s.error()?;
            Some(format!(
                "- {} ({}), round {}: {error}",
                s.server,
                s.scenario.row(),
                s.round
            ))
        })
        .collect();
    if !failures.is_empty() {
        out += "\nFailed runs:\n";
        out += &failures.join("\n");
        out.push('\n');
    }
    out
}
