//! The bench's results as JSON lines: one line per run, with its figure
//! or its error, and the run's other figures.

use std::fmt::Write as _;

use crate::model::bench::{Sample, Scenario};

/// `text` as a JSON string, quotes and escapes included.
fn json_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One run's line, without its line end.
pub fn line(sample: &Sample) -> String {
    let value = match &sample.value {
        Ok(value) => format!(r#""value":{value:.3}"#),
        Err(error) => format!(r#""error":{}"#, json_string(error)),
    };
    let detail = if sample.detail.is_empty() {
        String::new()
    } else {
        format!(",{}", sample.detail)
    };
    format!(
        r#"{{"round":{},"server":{},{},{value}{detail}}}"#,
        sample.round,
        json_string(&sample.server),
        scenario(sample.scenario)
    )
}

/// A scenario's fields: which it is, and its parameters.
fn scenario(scenario: Scenario) -> String {
    match scenario {
        Scenario::Hold { connections } => {
            format!(r#""scenario":"hold","connections":{connections}"#)
        }
        Scenario::Flood { clients, sink } => format!(
            r#""scenario":"throughput","clients":{clients},"stderr":"{}""#,
            sink.name()
        ),
        Scenario::Churn { concurrency } => {
            format!(r#""scenario":"accept","concurrency":{concurrency}"#)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::json_string;

    #[test]
    fn errors_become_valid_json_strings() {
        assert_eq!(json_string("plain"), r#""plain""#);
        assert_eq!(json_string("say \"hi\"\\\n"), r#""say \"hi\"\\\u000a""#);
    }
}
