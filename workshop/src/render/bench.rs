//! The bench's table, a row per measurement and a column per server; and
//! `changes`, the same rows and columns as this run against a baseline.

use std::fmt::Write as _;

use crate::model::bench::{Sample, Scenario, cell, scenarios, servers, summary, values};
use crate::render::table::Table;
use crate::units::size;

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

/// The load a cell's runs were asked for, where the scenario does not name
/// it, in words: `256.0 MiB` sent, `20000 connections` made.
fn load(scenario: Scenario, load: u64) -> String {
    match scenario {
        Scenario::Flood { .. } => size(load),
        Scenario::Hold { .. } | Scenario::Churn { .. } => format!("{load} connections"),
    }
}

/// One cell of `changes`: this run's runs of a cell against the
/// baseline's.
fn change(scenario: Scenario, now: &[&Sample], then: &[&Sample]) -> String {
    if now.is_empty() {
        return "not measured now".to_string();
    }
    if then.is_empty() {
        return "not in the baseline".to_string();
    }
    // Results written before the load was kept say none: unknown, not
    // different.
    let asked = |runs: &[&Sample]| runs.iter().find_map(|run| run.load);
    if let (Some(new), Some(old)) = (asked(now), asked(then)) {
        if new != old {
            return format!(
                "different load ({} → {})",
                load(scenario, old),
                load(scenario, new)
            );
        }
    }
    let (new_values, old_values) = (values(now), values(then));
    let median = |values: &[f64]| summary(values).map(|(median, ..)| median);
    let (new, old) = match (median(&new_values), median(&old_values)) {
        (None, _) => return "failed now".to_string(),
        (_, None) => return "failed in the baseline".to_string(),
        (Some(new), Some(old)) => (new, old),
    };
    let shown = |value| figures(scenario, value, None);
    let (old_shown, new_shown) = (shown(old), shown(new));
    let mut text = match old > 0.0 {
        true => format!("{:.2}× ({old_shown} → {new_shown})", new / old),
        false => format!("{old_shown} → {new_shown}"),
    };
    // A median of fewer rounds than were run says so.
    for (runs, values, when) in [
        (now, &new_values, "now"),
        (then, &old_values, "in the baseline"),
    ] {
        if runs.len() > values.len() {
            let _ = write!(text, ", {} failed {when}", runs.len() - values.len());
        }
    }
    text
}

/// What changed since `baseline`, a saved run (`name` names it): a row per
/// measurement of either run, a column per server of this run, each cell
/// this run's median over the baseline's, such as `1.08× (9.3 KiB → 10.0
/// KiB)`. What one side has and the other does not is said in the cell, so
/// are rounds that failed beside a median, and a load that differs (bytes
/// sent, connections made), whose figures are not compared; the baseline's
/// servers this run left out in a line below.
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
            row.push(change(
                scenario,
                &cell(samples, server, scenario),
                &cell(baseline, server, scenario),
            ));
        }
        table.row(row);
    }
    let mut out = format!(
        "\nSince the baseline ({name}), this run's median ÷ the baseline's (memory: lower is better; throughput and accept rate: higher is better):\n\n"
    );
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

    /// `sample`, asked for `load`.
    fn loaded(server: &str, scenario: Scenario, value: f64, load: u64) -> Sample {
        let mut sample = sample(server, scenario, Some(value));
        sample.load = Some(load);
        sample
    }

    /// Each cell is this run's median over the baseline's, with both
    /// figures; what either side lacks is said, not left blank, and so are
    /// rounds that failed beside a median, a baseline of nothing (no ratio
    /// to take), and a load that differs (no ratio that means anything).
    #[test]
    fn what_changed_is_the_ratio_of_the_medians_and_what_is_missing_is_said() {
        let held = Scenario::Hold { connections: 1000 };
        let gone = Scenario::Hold { connections: 19000 };
        let flood = Scenario::Flood {
            clients: 16,
            sink: Sink::Pipe,
        };
        let churn = Scenario::Churn { concurrency: 64 };
        let lone = Scenario::Churn { concurrency: 1 };
        let now = [
            sample("stage3", held, Some(9.0)),
            sample("stage3", held, Some(11.0)),
            sample("stage3", held, None),
            loaded("stage3", flood, 200.0, 4 << 20),
            loaded("stage3", churn, 5000.0, 200),
            loaded("stage3", lone, 3000.0, 200),
            sample("stage5", held, None),
            loaded("stage5", flood, 300.0, 256 << 20),
            loaded("stage5", lone, 3000.0, 200),
        ];
        let baseline = [
            sample("stage3", held, Some(8.0)),
            sample("stage3", flood, Some(400.0)),
            sample("stage3", gone, Some(9.0)),
            loaded("stage3", lone, 0.0, 200),
            sample("stage5", held, Some(1.5)),
            sample("stage5", held, None),
            loaded("stage5", flood, 300.0, 4 << 20),
            loaded("stage5", lone, 2000.0, 200),
            loaded("stage5", lone, 4000.0, 200),
            sample("stage5", lone, None),
            sample("go-stage4", held, Some(3.5)),
        ];
        assert_eq!(
            changes(&now, &baseline, "old.jsonl"),
            "
Since the baseline (old.jsonl), this run's median ÷ the baseline's (memory: lower is better; throughput and accept rate: higher is better):

| measurement | stage3 | stage5 |
| --- | ---: | ---: |
| memory per idle connection, 1000 held | 1.25× (8.0 KiB → 10.0 KiB), 1 failed now | failed now |
| throughput, 16 clients, stderr to pipe | 0.50× (400 MB/s → 200 MB/s) | different load (4.0 MiB → 256.0 MiB) |
| accept rate, 64 connecting at a time | not in the baseline | not measured now |
| accept rate, 1 connecting at a time | 0/s → 3000/s | 1.00× (3000/s → 3000/s), 1 failed in the baseline |
| memory per idle connection, 19000 held | not measured now | not measured now |

In the baseline, not measured now: go-stage4.
"
        );
    }
}
