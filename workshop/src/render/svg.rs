//! The bench's chart: memory against the connections held, as SVG.

use std::fmt::Write as _;

use crate::model::bench::{Held, Sample, Scenario, cell, scenarios, servers, summary};

/// An SVG line chart: each server's RSS (median of the rounds) at 0 and at
/// each number of held connections.
pub fn memory_chart(servers: &[&str], held: &[usize], samples: &[Sample]) -> String {
    const W: f64 = 780.0;
    const H: f64 = 420.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 260.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    const COLOURS: [&str; 8] = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
    ];
    let mut lines = Vec::new();
    for &server in servers {
        let mut points = Vec::new();
        let rss = |connections: usize, pick: fn(&Held) -> u64| {
            let values: Vec<f64> = cell(samples, server, Scenario::Hold { connections })
                .into_iter()
                .filter_map(|s| s.held().map(pick))
                .map(|kib| kib as f64 / 1024.0)
                .collect();
            summary(&values).map(|(median, ..)| median)
        };
        if let Some(&first) = held.first() {
            if let Some(idle) = rss(first, |held| held.rss_kib_before) {
                points.push((0.0, idle));
            }
        }
        for &connections in held {
            if let Some(mib) = rss(connections, |held| held.rss_kib) {
                points.push((connections as f64, mib));
            }
        }
        // A number of connections no round could hold is named in the legend.
        let failed_at = held.iter().find(|&&connections| {
            cell(samples, server, Scenario::Hold { connections })
                .iter()
                .all(|s| s.value().is_none())
        });
        let name = match failed_at {
            Some(connections) => format!("{server} (failed at {connections})"),
            None => server.to_string(),
        };
        lines.push((name, points));
    }
    let max_x = held.iter().copied().max().unwrap_or(1) as f64;
    let max_y = lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|&(_, y)| y))
        .fold(1.0, f64::max)
        * 1.1;
    // Grid lines every 1, 2 or 5 times a power of ten, at most eight of them.
    let tick = [1.0, 2.0, 5.0]
        .iter()
        .flat_map(|&m| (-1..6).map(move |p| m * 10f64.powi(p)))
        .filter(|&step| max_y / step <= 8.0)
        .fold(f64::MAX, f64::min);
    let x = |value: f64| LEFT + value / max_x * (W - LEFT - RIGHT);
    let y = |value: f64| H - BOTTOM - value / max_y * (H - TOP - BOTTOM);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{LEFT}" y="22" font-size="15">Resident memory (MiB) against idle connections held</text>
<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="black"/>
"#,
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM
    );
    for step in 0..=(max_y / tick).floor() as u32 {
        let value = tick * f64::from(step);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{value:.0}</text><line x1="{LEFT}" y1="{1}" x2="{}" y2="{1}" stroke="lightgray"/>"#,
            LEFT - 6.0,
            y(value),
            W - RIGHT
        );
    }
    for &connections in std::iter::once(&0).chain(held) {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{connections}</text>"#,
            x(connections as f64),
            H - BOTTOM + 18.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">connections held</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 10.0
    );
    for (index, (name, points)) in lines.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let path: Vec<String> = points
            .iter()
            .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for &(px, py) in points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                x(px),
                y(py)
            );
        }
        let legend_y = TOP + 20.0 * index as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{}" y1="{legend_y}" x2="{}" y2="{legend_y}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{name}</text>"#,
            W - RIGHT + 15.0,
            W - RIGHT + 35.0,
            W - RIGHT + 42.0,
            legend_y + 4.0
        );
    }
    svg += "</svg>\n";
    svg
}

/// The chart of a saved `results.jsonl`, as the bench drew it when it wrote
/// that file: its servers in the order measured, at each number of
/// connections held.
pub fn memory_chart_of(samples: &[Sample]) -> String {
    let mut held: Vec<usize> = scenarios(samples)
        .into_iter()
        .filter_map(|scenario| match scenario {
            Scenario::Hold { connections } => Some(connections),
            _ => None,
        })
        .collect();
    held.sort_unstable();
    memory_chart(&servers(samples), &held, samples)
}
