//! `workshop load`'s report: what the load did, then what was seen around
//! it (the server's exit, the listen queue, the server's memory).

use std::fmt::Write as _;
use std::time::Duration;

use crate::model::load::{Churn, CutShort, Flood, Hold, HoldEnd, Load, Report};
use crate::units::{mib, seconds, size};

/// The whole report, a line end after each line.
pub fn report(report: &Report) -> String {
    let mut out = match &report.load {
        Load::Hold(hold) => held(hold),
        Load::Flood(flood) => flooded(flood),
        Load::Churn(churn) => churned(churn),
    };
    if let Some(status) = &report.exited {
        let _ = writeln!(
            out,
            "  the server exited during the load ({status}): the figures above are not its own"
        );
    }
    if let Some(overflows) = report.overflows {
        let _ = writeln!(
            out,
            "  listen queue overflows on this machine during the load: {overflows}"
        );
    }
    if let Some(server) = &report.server {
        let _ = write!(out, "  server (pid {}): ", server.pid);
        match server.peak {
            Some(peak) => {
                let _ = write!(
                    out,
                    "RSS {} at the peak, {} threads at the peak",
                    mib(peak.rss_kib),
                    peak.threads
                );
                if let (Some(added), Some(before)) = (server.kib_per_connection, server.before) {
                    let _ = write!(
                        out,
                        " ({added:.1} KiB per connection over the {} before)",
                        mib(before.rss_kib)
                    );
                }
            }
            None => out.push_str(
                "memory and threads unknown (read from /proc/PID/status, which only Linux has)",
            ),
        }
        out.push('\n');
    }
    out
}

/// `, stopped by --limit after 0.50s`, for the first line of a report.
fn stopped_after(stopped: bool, took: Duration) -> String {
    if stopped {
        format!(", stopped by --limit after {}", seconds(took))
    } else {
        String::new()
    }
}

/// `; 4 still connecting, 14 not started`: the tasks `--limit` stopped,
/// those that were `doing` what they do and those that had not begun.
fn cut_short(cut: CutShort, doing: &str) -> String {
    match (cut.running, cut.waiting) {
        (0, 0) => String::new(),
        (running, 0) => format!("; {running} {doing}"),
        (running, waiting) => format!("; {running} {doing}, {waiting} not started"),
    }
}

fn held(hold: &Hold) -> String {
    let Hold {
        addr, connections, ..
    } = hold;
    let first = match hold.end {
        HoldEnd::StoppedConnecting { after } => format!(
            "hold: {connections} connections to {addr}{}",
            stopped_after(true, after)
        ),
        HoldEnd::NoneEstablished => {
            format!("hold: {connections} connections to {addr}, none established")
        }
        HoldEnd::StoppedHolding { held } => format!(
            "hold: {connections} connections to {addr}, held {} of {}, stopped by --limit",
            seconds(held),
            seconds(hold.hold)
        ),
        HoldEnd::Held => format!(
            "hold: {connections} connections to {addr}, held {}",
            seconds(hold.hold)
        ),
    };
    format!(
        "{first}\n  established {} in {}; failed: {}{}\n  closed by the server before the end: {}\n",
        hold.established,
        seconds(hold.connecting),
        hold.failed,
        cut_short(hold.still_connecting, "still connecting"),
        hold.closed_early
    )
}

fn flooded(flood: &Flood) -> String {
    let clients = flood.clients;
    let done = if flood.stopped {
        format!("; {} of {clients} clients done", flood.done)
    } else {
        String::new()
    };
    format!(
        "flood: {clients} clients sending {} each ({} in all) to {}{}\n  sent {} in {}: {:.1} MB/s{done}; failed: {}\n",
        size(flood.bytes),
        size(flood.total),
        flood.addr,
        stopped_after(flood.stopped, flood.took),
        size(flood.sent),
        seconds(flood.took),
        flood.rate,
        flood.failed
    )
}

fn churned(churn: &Churn) -> String {
    let time = |time: Option<Duration>| time.map_or("-".to_string(), seconds);
    format!(
        "churn: {} connect/send/close to {}, {} at a time{}\n  completed {} in {}: {:.0} connections/s; failed: {}{}\n  connect time: median {}, 99th percentile {}, slowest {} (a second or more means the listen queue overflowed)\n",
        churn.connections,
        churn.addr,
        churn.concurrency,
        stopped_after(churn.unfinished != CutShort::default(), churn.took),
        churn.completed,
        seconds(churn.took),
        churn.per_second,
        churn.failed,
        cut_short(churn.unfinished, "still connecting or sending"),
        time(churn.median),
        time(churn.p99),
        time(churn.slowest),
    )
}
