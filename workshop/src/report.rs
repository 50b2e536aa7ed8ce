//! How `workshop compare` shows what it saw: a table of verdicts, scenario
//! by stage, and a timeline per stage for the timed scenarios, as plain text
//! for the terminal or as Markdown for slides and notes.

use std::fmt::Write;
use std::time::Duration;

use crate::compare::{Plan, StageReport};
use crate::seconds;

/// One scenario's clients on a shared clock.
pub struct Timeline {
    pub rows: Vec<Row>,
    /// How long the scenario ran: the width of the drawing.
    pub span: Duration,
}

/// One client: when it connected, when the server printed its lines, and
/// how its connection ended.
pub struct Row {
    pub client: String,
    pub connected: Duration,
    pub printed: Vec<Duration>,
    pub end: Option<End>,
}

pub enum End {
    ByClient(Duration),
    ByServer(Duration),
}

/// Columns of a timeline drawing.
const WIDTH: usize = 60;

const LEGEND: &str = "- connected   # the server printed a line of this client's   | the client left   x the server closed the connection";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
}

/// The whole report: the table, then the timelines of each timed scenario.
pub fn render(reports: &[StageReport], plan: &Plan, format: Format) -> String {
    let scenarios = scenarios(plan);
    let mut out = String::new();
    let markdown = format == Format::Markdown;
    if markdown {
        out += "| stage |";
        for (title, _, _) in &scenarios {
            let _ = write!(out, " {title} |");
        }
        out += "\n| --- |";
        out += &" --- |".repeat(scenarios.len());
        out += "\n";
        for report in reports {
            let _ = write!(out, "| `{}` |", report.stage);
            for (_, _, verdict) in &scenarios {
                let _ = write!(out, " {} |", verdict(report));
            }
            out += "\n";
        }
        out += "\n";
        for (title, what, _) in &scenarios {
            let _ = writeln!(out, "- **{title}**: {what}.");
        }
    } else {
        let name_width = reports
            .iter()
            .map(|report| report.stage.len())
            .max()
            .unwrap_or(0);
        for (title, what, verdict) in &scenarios {
            let _ = writeln!(out, "{title}: {what}");
            for report in reports {
                let _ = writeln!(out, "  {:name_width$}  {}", report.stage, verdict(report));
            }
            out += "\n";
        }
    }

    let timed: [(&str, TimelineOf); 3] = [
        ("two clients", |report| &report.two_clients.timeline),
        ("an idle client", |report| &report.idle.timeline),
        ("a talking client", |report| &report.talker.timeline),
    ];
    for (title, timeline) in timed {
        if markdown {
            let _ = writeln!(out, "\n**Timeline: {title}**\n\n```text");
        } else {
            let _ = writeln!(out, "timeline: {title}");
        }
        let span = reports
            .iter()
            .map(|report| timeline(report).span)
            .max()
            .unwrap_or_default();
        for report in reports {
            out += &draw(&report.stage, timeline(report), span);
        }
        let _ = writeln!(
            out,
            "{:>8}{:<w$}{}",
            "",
            "0s",
            seconds(span),
            w = WIDTH - seconds(span).len() + 1
        );
        let _ = writeln!(out, "  {LEGEND}");
        if markdown {
            out += "```\n";
        } else {
            out += "\n";
        }
    }
    out
}

type Verdict = Box<dyn Fn(&StageReport) -> String>;
type TimelineOf = fn(&StageReport) -> &Timeline;

/// Each scenario: its title, what it does, and where its verdict is.
fn scenarios(plan: &Plan) -> Vec<(String, String, Verdict)> {
    let deadline = seconds(plan.timeout);
    vec![
        (
            "two clients".to_string(),
            "A connects and talks; B connects and talks while A is open; then A leaves".to_string(),
            Box::new(|report: &StageReport| report.two_clients.verdict.clone()),
        ),
        (
            "an idle client".to_string(),
            format!(
                "connects and says nothing for twice the deadline (the deadline: {deadline}, for the stages that take --timeout)"
            ),
            Box::new(|report: &StageReport| report.idle.verdict.clone()),
        ),
        (
            "a talking client".to_string(),
            "says a line every quarter of the deadline, for three deadlines".to_string(),
            Box::new(|report: &StageReport| report.talker.verdict.clone()),
        ),
        (
            format!("a crowd of {}", plan.crowd),
            "every client connects at once, says one line and stays connected".to_string(),
            Box::new(|report: &StageReport| report.crowd.verdict.clone()),
        ),
    ]
}

/// One stage's timeline: a heading, then a row of marks per client.
fn draw(stage: &str, timeline: &Timeline, span: Duration) -> String {
    let column = |at: Duration| {
        let fraction = at.as_secs_f64() / span.as_secs_f64().max(f64::EPSILON);
        ((fraction * WIDTH as f64) as usize).min(WIDTH - 1)
    };
    let mut out = format!("  {stage}\n");
    for row in &timeline.rows {
        let mut marks = vec![' '; WIDTH];
        let end = match row.end {
            Some(End::ByClient(at) | End::ByServer(at)) => column(at),
            None => WIDTH - 1,
        };
        for mark in &mut marks[column(row.connected)..=end] {
            *mark = '-';
        }
        for &printed in &row.printed {
            marks[column(printed)] = '#';
        }
        match row.end {
            Some(End::ByClient(at)) => marks[column(at)] = '|',
            Some(End::ByServer(at)) => marks[column(at)] = 'x',
            None => {}
        }
        let _ = writeln!(
            out,
            "    {:>2}  {}",
            row.client,
            marks.iter().collect::<String>()
        );
    }
    out
}
