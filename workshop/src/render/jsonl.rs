//! The runs as JSON, to be read back: the bench's results as JSON lines
//! (`results.jsonl`): one line per run, with its figure or its error, and
//! the run's other figures (read back by [`crate::model::bench::read`]);
//! and a `compare` run as `compare.json`, which the book's pictures are
//! drawn from (read back by [`Comparison::read`]).

use anyhow::Context;

use crate::model::bench::Sample;
use crate::model::compare::Comparison;

/// One run's line, without its line end.
pub fn line(sample: &Sample) -> anyhow::Result<String> {
    serde_json::to_string(sample).context("cannot write a result as JSON")
}

/// A `compare` run, as `compare.json`.
pub fn comparison(comparison: &Comparison) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(comparison).context("cannot write the run as JSON")? + "\n")
}

#[cfg(test)]
mod tests {
    use super::line;
    use crate::model::bench::{Detail, Figure, Flooded, Sample, Scenario, Sink, read};

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
        flood.load = Some(268_435_456);
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
            r#"{"round":2,"server":"go-stage3","scenario":"throughput","clients":16,"stderr":"/dev/null","load":268435456,"value":4417.25,"bytes":268435456,"seconds":0.0608,"read_from_the_pipe":0}"#
        );
        assert_eq!(read("results.jsonl", &text).unwrap(), [flood, failed]);
    }
}
