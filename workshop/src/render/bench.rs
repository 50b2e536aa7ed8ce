//! The bench's table, a row per measurement and a column per server; and
//! `changes`, the same rows and columns as this run against a baseline.

use std::fmt::Write as _;

use crate::model::bench::{Sample, Scenario, cell, scenarios, servers, summary, values};
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
            let cell = cell(samples, server, scenario);
            let values = values(&cell);
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

/// What changed since `baseline`, a saved run (`name` names it): a row per
/// measurement of either run, a column per server of this run, each cell
/// this run's median over the baseline's, such as `1.08× (9.3 KiB → 10.0
/// KiB)`. What one side has and the other does not is said in the cell, and
/// the baseline's servers this run left out in a line below.
pub fn changes(samples: &[Sample], baseline: &[Sample], name: &str) -> String {
    let columns = servers(samples);
    let mut rows = scenarios(samples);
    for scenario in scenarios(baseline) {
        if !rows.contains(&scenario) {
            rows.push(scenario);
        }
    }
    let mut table =
        Table::new(std::iter::once("measurement").chain(columns.iter().copied())).figures_from(1);
    for &scenario in &rows {
        let mut row = vec![scenario.row()];
        for &server in &columns {
            let median = |samples: &[Sample]| {
                let runs = cell(samples, server, scenario);
                (
                    summary(&values(&runs)).map(|(median, ..)| median),
                    runs.len(),
                )
            };
            row.push(match (median(samples), median(baseline)) {
                ((_, 0), _) => "not measured now".to_string(),
                (_, (_, 0)) => "not in the baseline".to_string(),
                ((None, _), _) => "failed now".to_string(),
                (_, (None, _)) => "failed in the baseline".to_string(),
                ((Some(new), _), (Some(old), _)) => {
                    let shown = |value| figures(scenario, value, None);
                    let (old_shown, new_shown) = (shown(old), shown(new));
                    match old > 0.0 {
                        true => format!("{:.2}× ({old_shown} → {new_shown})", new / old),
                        false => format!("{old_shown} → {new_shown}"),
                    }
                }
            });
        }
        table.row(row);
    }
    let mut out = format!("\nSince the baseline ({name}), this run's median ÷ the baseline's:\n\n");
    out += &table.markdown();
    let left_out: Vec<&str> = servers(baseline)
        .into_iter()
        .filter(|server| !columns.contains(server))
        .collect();
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "\nIn the baseline, not measured now: {}.",
            left_out.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::changes;
    use crate::model::bench::{Figure, Sample, Scenario, Sink};

    fn sample(server: &str, scenario: Scenario, value: Option<f64>) -> Sample {
        let mut sample = Sample::new(1, server, scenario);
        if let Some(value) = value {
            sample.figure = Figure::Value { value };
        }
        sample
    }

    /// Each cell is this run's median over the baseline's, with both
    /// figures; what either side lacks is said, not left blank.
    #[test]
    fn what_changed_is_the_ratio_of_the_medians_and_what_is_missing_is_said() {
        let held = Scenario::Hold { connections: 1000 };
        let gone = Scenario::Hold { connections: 19000 };
        let flood = Scenario::Flood {
            clients: 16,
            sink: Sink::Pipe,
        };
        let churn = Scenario::Churn { concurrency: 64 };
        let now = [
            sample("stage3", held, Some(9.0)),
            sample("stage3", held, Some(11.0)),
            sample("stage3", held, Some(10.0)),
            sample("stage3", flood, Some(200.0)),
            sample("stage3", churn, Some(5000.0)),
            sample("stage5", held, None),
            sample("stage5", flood, Some(300.0)),
        ];
        let baseline = [
            sample("stage3", held, Some(8.0)),
            sample("stage3", flood, Some(400.0)),
            sample("stage3", gone, Some(9.0)),
            sample("stage5", held, Some(1.5)),
            sample("stage5", flood, None),
            sample("go-stage4", held, Some(3.5)),
        ];
        assert_eq!(
            changes(&now, &baseline, "old.jsonl"),
            "
Since the baseline (old.jsonl), this run's median ÷ the baseline's:

| measurement | stage3 | stage5 |
| --- | ---: | ---: |
| memory per idle connection, 1000 held | 1.25× (8.0 KiB → 10.0 KiB) | failed now |
| throughput, 16 clients, stderr to pipe | 0.50× (400 MB/s → 200 MB/s) | failed in the baseline |
| accept rate, 64 connecting at a time | not in the baseline | not measured now |
| memory per idle connection, 19000 held | not measured now | not measured now |

In the baseline, not measured now: go-stage4.
"
        );
    }
}
