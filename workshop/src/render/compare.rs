//! How `workshop compare` shows what it saw: what each stage did in each
//! timed scenario, the crowd's figures as a table, and a timeline per stage,
//! as plain text for a terminal or a projector, or as Markdown for notes.

use std::fmt::Write;
use std::time::Duration;

use crate::model::compare::{
    CROWD_DEADLINE, Crowd, End, Observed, Plan, StageReport, Timeline, Verdict,
};
use crate::render::table::Table;
use crate::units::mib;
use crate::units::seconds;

/// Columns of a timeline drawing.
const WIDTH: usize = 60;

const LEGEND: [&str; 2] = [
    ". connected, not yet accepted by the server    - accepted    # the server printed one of its lines",
    "| the client left    x the server closed the connection",
];

/// Plain text for a terminal or a projector, or Markdown for notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
}

/// A scenario's title, what it does, and where a stage's report has it.
pub(super) struct Scenario {
    pub(super) title: &'static str,
    pub(super) what: String,
    pub(super) observed: fn(&StageReport) -> &Observed,
}

pub(super) fn scenarios(reports: &[StageReport], plan: &Plan) -> [Scenario; 3] {
    let deadline = if reports.iter().any(|report| report.takes_timeout) {
        format!(
            " (the deadline: {}, given to the stages that take --timeout)",
            seconds(plan.timeout)
        )
    } else {
        String::new()
    };
    [
        Scenario {
            title: "two clients",
            what: "A connects and says hello; B connects and says hello while A is open; \
                   A says one more line and leaves; B says bye and leaves"
                .to_string(),
            observed: |report| &report.two_clients,
        },
        Scenario {
            title: "an idle client",
            what: format!("connects and says nothing for twice the deadline{deadline}"),
            observed: |report| &report.idle,
        },
        Scenario {
            title: "a talking client",
            what: "says a line every quarter of the deadline, for three deadlines".to_string(),
            observed: |report| &report.talker,
        },
    ]
}

/// The whole report: the verdicts, the crowd, then the timelines.
pub fn render(reports: &[StageReport], plan: &Plan, format: Format) -> String {
    let scenarios = scenarios(reports, plan);
    let markdown = format == Format::Markdown;
    let mut out = String::new();

    if markdown {
        let mut table = Table::new(
            std::iter::once("stage").chain(scenarios.iter().map(|scenario| scenario.title)),
        );
        for report in reports {
            let verdicts = scenarios
                .iter()
                .map(|scenario| verdict((scenario.observed)(report)));
            table.row(std::iter::once(format!("`{}`", report.stage)).chain(verdicts));
        }
        out += &table.markdown();
        out += "\n";
        for scenario in &scenarios {
            let _ = writeln!(out, "- **{}**: {}.", scenario.title, scenario.what);
        }
    } else {
        for scenario in &scenarios {
            out += &wrap(&format!("{}: {}", scenario.title, scenario.what), "", 100);
            let mut verdicts = Table::without_header(2);
            for report in reports {
                verdicts.row([report.stage.clone(), verdict((scenario.observed)(report))]);
            }
            out += &verdicts.text("  ");
            out += "\n";
        }
    }

    out += &crowd_table(reports, plan, format);

    for scenario in &scenarios {
        let span = reports
            .iter()
            .map(|report| (scenario.observed)(report).timeline.span)
            .max()
            .unwrap_or_default();
        if markdown {
            let _ = writeln!(out, "\n**Timeline: {}**\n\n```text", scenario.title);
        } else {
            let _ = writeln!(out, "\ntimeline: {}", scenario.title);
        }
        for report in reports {
            out += &draw(&report.stage, &(scenario.observed)(report).timeline, span);
        }
        let end = seconds(span);
        let _ = writeln!(out, "        0s{end:>w$}", w = WIDTH - 2);
        if markdown {
            out += "```\n";
        }
    }
    if markdown {
        out += "\n";
    } else {
        out += "  ---\n";
    }
    for line in LEGEND {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// What a stage did in a timed scenario, in words; said to be of a server
/// that was gone, if it exited during the scenario.
pub(super) fn verdict(observed: &Observed) -> String {
    let words = match &observed.verdict {
        Verdict::ClosesEachAtOnce => "closes each connection at once; prints nothing".to_string(),
        Verdict::Concurrent => "concurrent: B printed while A was still connected".to_string(),
        Verdict::Serial {
            waited: Some(waited),
        } => format!(
            "serial: B printed only after A left, {} after B sent it",
            seconds(*waited)
        ),
        Verdict::Serial { waited: None } => "serial: B printed only after A left".to_string(),
        Verdict::BNeverPrinted => "B never printed".to_string(),
        Verdict::ClosedAtOnce => "closed at once".to_string(),
        Verdict::ClosedAfterSilence(after) => {
            format!("closed after {} of silence", seconds(*after))
        }
        Verdict::OpenAfterSilence(silence) => {
            format!("still open after {} of silence", seconds(*silence))
        }
        Verdict::ClosedWhileTalking { after, every } => format!(
            "closed after {}, talking every {}",
            seconds(*after),
            seconds(*every)
        ),
        Verdict::KeptOpen {
            open,
            printed,
            lines,
        } => format!(
            "kept open for {}; {printed} of {lines} lines printed",
            seconds(*open)
        ),
    };
    match &observed.exited {
        Some(status) => format!("the server exited ({status}); so: {words}"),
        None => words,
    }
}

/// The crowd's figures, a row per stage.
fn crowd_table(reports: &[StageReport], plan: &Plan, format: Format) -> String {
    let header = [
        "served",
        "in",
        "unserved",
        "failed",
        "closed",
        "overflows",
        "RSS",
        "KiB/client",
        "threads",
    ];
    let cells = |crowd: &Crowd| -> [String; 9] {
        let unknown = || "-".to_string();
        [
            format!("{} of {}", crowd.served, crowd.clients),
            crowd.took.map_or_else(unknown, seconds),
            crowd.unserved.to_string(),
            crowd.failed.to_string(),
            crowd.closed.to_string(),
            crowd.overflows.map_or_else(unknown, |n| n.to_string()),
            crowd.usage.map_or_else(unknown, |usage| mib(usage.rss_kib)),
            crowd
                .kib_per_open_client
                .map_or_else(unknown, |kib| format!("{kib:.1}")),
            crowd
                .usage
                .map_or_else(unknown, |usage| usage.threads.to_string()),
        ]
    };
    let title = format!(
        "a crowd of {}: clients connect, 64 at a time, each says one line and stays connected \
         (a stage that takes --timeout gets {} here, to hold its crowd too)",
        plan.crowd,
        humantime::format_duration(CROWD_DEADLINE)
    );
    let notes = "unserved: connected, line never printed; failed: could not connect (refused, \
                 reset, or no answer within 4s), or not tried once a whole wave had had no answer; closed: by the server while the crowd was \
                 held; overflows: listen-queue overflows on the machine; RSS and threads: the \
                 server's, while it held the crowd; KiB/client: memory added, per client still \
                 connected";
    let mut out = String::new();
    let markdown = format == Format::Markdown;
    let (first, name): (&str, fn(&str) -> String) = match markdown {
        true => ("stage", |stage| format!("`{stage}`")),
        false => ("", str::to_string),
    };
    let mut table = Table::new(std::iter::once(first).chain(header)).figures_from(1);
    for report in reports {
        table.row(std::iter::once(name(&report.stage)).chain(cells(&report.crowd)));
    }
    if markdown {
        let _ = writeln!(out, "\n**{title}**\n");
        out += &table.markdown();
        let _ = writeln!(out, "\n{notes}.");
    } else {
        out += &wrap(&title, "", 100);
        out += &table.text("  ");
        out += &wrap(notes, "  ", 100);
    }
    out += &crowd_exits(reports);
    out
}

/// A line for each stage that exited during the crowd.
fn crowd_exits(reports: &[StageReport]) -> String {
    let mut out = String::new();
    for report in reports {
        if let Some(status) = &report.crowd.exited {
            let _ = writeln!(out, "  {} exited during the crowd ({status})", report.stage);
        }
    }
    out
}

/// `text` folded into lines of at most `width` columns, each after `indent`.
pub(super) fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line += word;
    }
    let _ = writeln!(out, "{indent}{line}");
    out
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
        let connected = column(row.connected).min(end);
        // The server may log the accept before the client's connect returns.
        let accepted = row.accepted.map_or(end, column).clamp(connected, end);
        for mark in &mut marks[connected..accepted] {
            *mark = '.';
        }
        for mark in &mut marks[accepted..=end] {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{verdict, wrap};
    use crate::model::compare::{Observed, Timeline, Verdict};

    /// A verdict is said in words with its times, and of a server that
    /// exited during the scenario, that it did, before what was seen.
    #[test]
    fn a_verdict_is_said_with_its_times_and_a_servers_exit_first() {
        let observed = |verdict, exited: Option<&str>| Observed {
            verdict,
            exited: exited.map(str::to_string),
            timeline: Timeline {
                rows: Vec::new(),
                span: Duration::ZERO,
            },
        };
        let serial = Verdict::Serial {
            waited: Some(Duration::from_millis(1500)),
        };
        assert_eq!(
            verdict(&observed(serial.clone(), None)),
            "serial: B printed only after A left, 1.50s after B sent it"
        );
        assert_eq!(
            verdict(&observed(serial, Some("exit status: 1"))),
            "the server exited (exit status: 1); so: serial: B printed only after A left, 1.50s after B sent it"
        );
    }

    #[test]
    fn long_text_is_folded_at_word_boundaries() {
        assert_eq!(
            wrap("one two three four", "  ", 12),
            "  one two\n  three four\n"
        );
        assert_eq!(wrap("short", "", 100), "short\n");
    }
}
