//! `compare`'s timelines as pictures, for the book: for each stage, one SVG
//! of its clients in the three timed scenarios (two clients, an idle one, a
//! talking one), drawn from a run kept as `compare.json`, so that a chapter
//! shows what its stage did where a learner would rather look than read.
//!
//! Drawn on a white ground, so that it reads alike in the book's light and
//! dark themes; every figure comes from the run, none from the clock.

use std::fmt::Write as _;
use std::time::Duration;

use crate::model::compare::{Comparison, End, Row, StageReport, Timeline};
use crate::render::compare::{scenarios, verdict, wrap};

const W: f64 = 760.0;
/// Where the clients' tracks begin and end: their names are left of them.
const TRACK_FROM: f64 = 60.0;
const TRACK_TO: f64 = W - 30.0;
/// The height of one client's row.
const ROW: f64 = 26.0;

const WAITING: &str = "#d97f00";
const SERVED: &str = "#1f77b4";
const PRINTED: &str = "#2ca02c";
const LEFT_BY_CLIENT: &str = "#222222";
const CLOSED_BY_SERVER: &str = "#d62728";

/// The file a stage's picture is written to.
pub fn file_name(stage: &str) -> String {
    format!("timeline-{stage}.svg")
}

/// Every stage's picture of a run: its file name, and the SVG.
pub fn timelines(comparison: &Comparison) -> Vec<(String, String)> {
    comparison
        .reports
        .iter()
        .map(|report| (file_name(&report.stage), timeline(report, comparison)))
        .collect()
}

/// One stage's picture: a panel per timed scenario, with what the scenario
/// does, what the stage did, a row per client on a time axis in seconds,
/// and a legend. A scenario's time axis is the same in every stage's
/// picture of `comparison`, the longest any stage took, as in the text
/// timelines: chapters side by side compare at a glance.
pub fn timeline(report: &StageReport, comparison: &Comparison) -> String {
    let scenarios = scenarios(std::slice::from_ref(report), &comparison.plan);
    let mut body = String::new();
    let mut y = 28.0;
    let _ = writeln!(
        body,
        r#"<text x="20" y="{y}" font-size="16" font-weight="bold">{}: what workshop compare saw</text>"#,
        escape(&report.stage)
    );
    let mut described = Vec::new();
    for scenario in &scenarios {
        let observed = (scenario.observed)(report);
        let said = verdict(observed);
        described.push(format!("{}: {said}", scenario.title));
        y += 34.0;
        for (index, line) in wrap(&format!("{}: {said}", scenario.title), "", 100)
            .lines()
            .enumerate()
        {
            // The scenario's name in bold, what the stage did after it.
            let text = match index {
                0 => {
                    let rest = &line[scenario.title.len() + 1..];
                    format!(
                        r#"<tspan font-weight="bold">{}:</tspan>{}"#,
                        escape(scenario.title),
                        escape(rest)
                    )
                }
                _ => escape(line),
            };
            if index > 0 {
                y += 17.0;
            }
            let _ = writeln!(body, r#"<text x="20" y="{y}" font-size="13">{text}</text>"#);
        }
        for line in wrap(&scenario.what, "", 125).lines() {
            y += 15.0;
            let _ = writeln!(
                body,
                r##"<text x="20" y="{y}" font-size="11" fill="#555555">{}</text>"##,
                escape(line)
            );
        }
        y += 12.0;
        let span = comparison
            .reports
            .iter()
            .map(|report| (scenario.observed)(report).timeline.span)
            .max()
            .unwrap_or_default();
        body += &panel(&observed.timeline, span, y);
        y += ROW * observed.timeline.rows.len() as f64 + 24.0;
    }
    y += 28.0;
    body += &legend(y);
    let height = y + 20.0;
    let title = format!(
        "{} in workshop compare's timed scenarios. {}.",
        report.stage,
        described.join(". ")
    );
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">
<title id="title">{}</title>
<rect width="{W}" height="{height}" fill="white"/>
{body}</svg>
"#,
        escape(&title)
    )
}

/// One scenario's clients from `top` down, then the time axis below them.
/// `span` is the width of the axis.
fn panel(timeline: &Timeline, span: Duration, top: f64) -> String {
    let whole = span.max(Duration::from_millis(1));
    let span = whole.as_secs_f64();
    let x = |at: Duration| TRACK_FROM + at.as_secs_f64() / span * (TRACK_TO - TRACK_FROM);
    let bottom = top + ROW * timeline.rows.len() as f64;
    let mut out = String::new();
    // Grid lines at ticks of 1, 2 or 5 times a power of ten: at most eight.
    let tick = [1.0, 2.0, 5.0]
        .iter()
        .flat_map(|&m| (-3..3).map(move |p| m * 10f64.powi(p)))
        .filter(|&step| span / step <= 8.0)
        .fold(f64::MAX, f64::min);
    let decimals = if tick >= 1.0 {
        0
    } else {
        (-tick.log10().floor()) as usize
    };
    for index in 0..=(span / tick + 1e-9).floor() as u32 {
        let step = tick * f64::from(index);
        let at = x(Duration::from_secs_f64(step));
        let _ = writeln!(
            out,
            r##"<line x1="{at:.1}" y1="{top}" x2="{at:.1}" y2="{bottom}" stroke="#dddddd"/><text x="{at:.1}" y="{}" text-anchor="middle" font-size="11">{step:.decimals$}s</text>"##,
            bottom + 14.0
        );
    }
    let _ = writeln!(
        out,
        r##"<line x1="{TRACK_FROM}" y1="{bottom}" x2="{TRACK_TO}" y2="{bottom}" stroke="#888888"/>"##
    );
    for (index, row) in timeline.rows.iter().enumerate() {
        out += &client(row, top + ROW * (index as f64 + 0.5), whole, &x);
    }
    out
}

/// One client's row, centred on `y`: as the text timeline draws it, the
/// wait in the listen queue, the time served, the lines printed, the end.
fn client(row: &Row, y: f64, span: Duration, x: &dyn Fn(Duration) -> f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end" font-weight="bold">{}</text>"#,
        TRACK_FROM - 12.0,
        y + 4.0,
        escape(&row.client)
    );
    let end = match row.end {
        Some(End::ByClient(at) | End::ByServer(at)) => at.min(span),
        None => span,
    };
    let connected = row.connected.min(end);
    // The server may log the accept before the client's connect returns.
    let accepted = row.accepted.unwrap_or(end).clamp(connected, end);
    if accepted > connected {
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" y1="{y}" x2="{:.1}" y2="{y}" stroke="{WAITING}" stroke-width="3" stroke-dasharray="2 3"/>"#,
            x(connected),
            x(accepted)
        );
    }
    if end > accepted {
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{}" width="{:.1}" height="8" fill="{SERVED}"/>"#,
            x(accepted),
            y - 4.0,
            x(end) - x(accepted)
        );
    }
    for &printed in &row.printed {
        out += &printed_mark(x(printed.min(span)), y);
    }
    match row.end {
        Some(End::ByClient(_)) => out += &left_mark(x(end), y),
        Some(End::ByServer(_)) => out += &closed_mark(x(end), y),
        None => {}
    }
    out
}

fn printed_mark(x: f64, y: f64) -> String {
    format!(
        "<circle cx=\"{x:.1}\" cy=\"{y}\" r=\"4.5\" fill=\"{PRINTED}\" stroke=\"white\" stroke-width=\"1.5\"/>\n"
    )
}

fn left_mark(x: f64, y: f64) -> String {
    format!(
        "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"{LEFT_BY_CLIENT}\" stroke-width=\"2.5\"/>\n",
        y - 8.0,
        y + 8.0
    )
}

fn closed_mark(x: f64, y: f64) -> String {
    format!(
        "<path d=\"M{:.1},{} L{:.1},{} M{:.1},{} L{:.1},{}\" stroke=\"{CLOSED_BY_SERVER}\" stroke-width=\"2.5\"/>\n",
        x - 5.0,
        y - 5.0,
        x + 5.0,
        y + 5.0,
        x - 5.0,
        y + 5.0,
        x + 5.0,
        y - 5.0
    )
}

/// What each mark means, in one line at `y`.
fn legend(y: f64) -> String {
    let waiting = |x: f64| {
        format!(
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{WAITING}" stroke-width="3" stroke-dasharray="2 3"/>"#,
            x + 16.0
        )
    };
    let served = |x: f64| {
        format!(
            r#"<rect x="{x}" y="{}" width="16" height="8" fill="{SERVED}"/>"#,
            y - 4.0
        )
    };
    let items: [(String, &str); 5] = [
        (waiting(20.0), "connected, not yet accepted"),
        (served(220.0), "accepted"),
        (printed_mark(328.0, y), "a line printed"),
        (left_mark(458.0, y), "the client left"),
        (closed_mark(583.0, y), "the server closed it"),
    ];
    let mut out = String::new();
    for (at, (mark, words)) in [20.0, 220.0, 320.0, 450.0, 575.0].iter().zip(items) {
        let _ = writeln!(
            out,
            r#"{}<text x="{}" y="{}">{words}</text>"#,
            mark.trim_end(),
            at + 22.0,
            y + 4.0
        );
    }
    out
}

/// `text` as SVG's character data and attribute values take it.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{file_name, timeline};
    use crate::model::compare::{
        Comparison, Crowd, End, Observed, Plan, Row, StageReport, Timeline, Verdict,
    };

    fn observed(rows: Vec<Row>, verdict: Verdict) -> Observed {
        Observed {
            verdict,
            exited: None,
            timeline: Timeline {
                rows,
                span: Duration::from_secs(2),
            },
        }
    }

    fn client(name: &str, end: Option<End>) -> Row {
        Row {
            client: name.to_string(),
            connected: Duration::ZERO,
            accepted: Some(Duration::from_millis(500)),
            printed: vec![Duration::from_millis(600)],
            end,
        }
    }

    /// A stage's picture names the stage and what it did in a title a
    /// screen reader says, draws every client with its marks, and escapes
    /// what it quotes.
    #[test]
    fn a_picture_has_a_title_every_client_and_its_marks() {
        let report = StageReport {
            stage: "stage<x>".to_string(),
            takes_timeout: true,
            two_clients: observed(
                vec![
                    client("A", Some(End::ByClient(Duration::from_secs(1)))),
                    client("B", Some(End::ByServer(Duration::from_secs(1)))),
                ],
                Verdict::Concurrent,
            ),
            idle: observed(
                vec![client("I", None)],
                Verdict::OpenAfterSilence(Duration::from_secs(2)),
            ),
            talker: observed(vec![client("T", None)], Verdict::ClosedAtOnce),
            crowd: Crowd {
                clients: 0,
                served: 0,
                took: None,
                unserved: 0,
                failed: 0,
                closed: 0,
                overflows: None,
                usage: None,
                kib_per_open_client: None,
                exited: None,
            },
        };
        let plan = Plan {
            timeout: Duration::from_secs(1),
            crowd: 10,
        };
        let comparison = Comparison {
            plan,
            reports: vec![report],
        };
        let svg = timeline(&comparison.reports[0], &comparison);
        assert!(svg.starts_with("<svg xmlns="), "{svg}");
        assert!(
            svg.contains("<title id=\"title\">stage&lt;x&gt; in workshop compare's timed scenarios. two clients: concurrent: B printed while A was still connected."),
            "{svg}"
        );
        for client in ["A", "B", "I", "T"] {
            assert!(svg.contains(&format!("font-weight=\"bold\">{client}</text>")));
        }
        // Four clients waited and printed; legend's marks come once more.
        assert_eq!(svg.matches("stroke-dasharray").count(), 5);
        assert_eq!(svg.matches("<circle").count(), 5);
        assert_eq!(svg.matches("<path").count(), 2);
        assert!(svg.contains(">2.0s</text>"), "{svg}");
        assert_eq!(
            file_name("stage2-accept-loop"),
            "timeline-stage2-accept-loop.svg"
        );
    }
}
