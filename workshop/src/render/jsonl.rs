//! The bench's results as JSON lines (`results.jsonl`): one line per run,
//! with its figure or its error, and the run's other figures; read back,
//! typed, for `--baseline` and `--results`.

use anyhow::Context;

use crate::model::bench::Sample;

/// One run's line, without its line end.
pub fn line(sample: &Sample) -> anyhow::Result<String> {
    serde_json::to_string(sample).context("cannot write a result as JSON")
}

/// The runs of a `results.jsonl`, whose text is `text`; `name` names it in
/// an error, which says the first line that is not a run's result.
pub fn read(name: &str, text: &str) -> anyhow::Result<Vec<Sample>> {
    let samples = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).with_context(|| {
                format!(
                    "{name}, line {}, is not a result of workshop bench",
                    index + 1
                )
            })
        })
        .collect::<anyhow::Result<Vec<Sample>>>()?;
    if samples.is_empty() {
        anyhow::bail!("{name} holds no results of workshop bench");
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::{line, read};
    use crate::model::bench::{Detail, Figure, Flooded, Sample, Scenario, Sink};

    /// What is written reads back as it was, an error with quotes and a
    /// line end in it too.
    #[test]
    fn a_result_reads_back_as_it_was_written() {
        let mut flood = Sample::new(
            2,
            "go-stage3",
            Scenario::Flood {
                clients: 16,
                sink: Sink::DevNull,
            },
        );
        flood.figure = Figure::Value { value: 4417.25 };
        flood.detail = Some(Detail::Flood(Flooded {
            bytes: 268_435_456,
            seconds: 0.0608,
            read_from_the_pipe: 0,
        }));
        let mut failed = Sample::new(1, "stage3-threads", Scenario::Hold { connections: 19 });
        failed.figure = Figure::Failed {
            error: "the server said \"no\"\\\nand died".to_string(),
        };
        let text: String = [&flood, &failed]
            .iter()
            .map(|sample| line(sample).unwrap() + "\n")
            .collect();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"round":2,"server":"go-stage3","scenario":"throughput","clients":16,"stderr":"/dev/null","value":4417.25,"bytes":268435456,"seconds":0.0608,"read_from_the_pipe":0}"#
        );
        assert_eq!(read("results.jsonl", &text).unwrap(), [flood, failed]);
    }

    /// The run the README shows, in the shape written before the results
    /// were typed, reads: `--baseline docs/bench/results.jsonl` works.
    #[test]
    fn the_committed_run_reads_with_every_scenarios_figures() {
        let text = include_str!("../../../docs/bench/results.jsonl");
        let samples = read("docs/bench/results.jsonl", text).unwrap();
        assert_eq!(samples.len(), text.lines().count());
        for sample in &samples {
            let detail = match (sample.scenario, &sample.detail) {
                (Scenario::Hold { .. }, Some(Detail::Hold(_)))
                | (Scenario::Flood { .. }, Some(Detail::Flood(_)))
                | (Scenario::Churn { .. }, Some(Detail::Churn(_))) => true,
                (_, None) => sample.error().is_some(),
                _ => false,
            };
            assert!(detail, "{sample:?}");
        }
    }

    #[test]
    fn a_line_that_is_no_result_is_named() {
        let text = "{\"round\":1,\"server\":\"stage3-concurrent\"}\n";
        let err = read("old.jsonl", text).unwrap_err();
        assert!(
            format!("{err:#}")
                .starts_with("old.jsonl, line 1, is not a result of workshop bench: "),
            "{err:#}"
        );
        let err = read("empty.jsonl", "\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "empty.jsonl holds no results of workshop bench"
        );
    }
}
