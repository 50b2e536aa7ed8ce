//! The book's pictures are what the tools draw now: each stage's timelines,
//! from the run kept in `book/src/pictures/compare.json`, and the bench's
//! memory charts, from the `results.jsonl` beside them. A renderer changed
//! without drawing them again, or a stage added without its picture, fails
//! here, with the command that draws them.

use std::path::Path;

use harness::book::root;
use workshop::model::bench;
use workshop::model::compare::Comparison;
use workshop::render::{pictures, svg};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

const DRAW_TIMELINES: &str = "cargo run -q -p workshop -- compare --pictures book/src/pictures";

/// Each stage's picture on disk is what the renderer draws today of the
/// kept run: byte for byte.
#[test]
fn each_stages_timeline_is_what_the_renderer_draws_of_the_kept_run() {
    let dir = root().join("book/src/pictures");
    let json = dir.join("compare.json");
    let comparison = Comparison::read(&json.display().to_string(), &read(&json)).unwrap();
    let mut stale = Vec::new();
    for (name, drawn) in pictures::timelines(&comparison) {
        match std::fs::read_to_string(dir.join(&name)) {
            Ok(kept) if kept == drawn => {}
            Ok(_) => stale.push(format!("{name} is not what the renderer draws now")),
            Err(error) => stale.push(format!("{name}: {error}")),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\ndraw them again, from the workspace's root: {DRAW_TIMELINES}",
        stale.join("\n")
    );
}

/// Every stage of the workspace (a `stage*` folder with `src/main.rs`) has
/// its picture in the kept run, and no picture is left of a stage gone.
#[test]
fn every_stage_has_its_picture_and_only_they_do() {
    let dir = root().join("book/src/pictures");
    let json = dir.join("compare.json");
    let comparison = Comparison::read(&json.display().to_string(), &read(&json)).unwrap();
    let stages = harness::book::stages();
    let mut drawn: Vec<String> = comparison
        .reports
        .iter()
        .map(|report| report.stage.clone())
        .collect();
    drawn.sort();
    assert_eq!(
        drawn, stages,
        "the stages in book/src/pictures/compare.json, then the workspace's; \
         draw them again, from the workspace's root: {DRAW_TIMELINES}"
    );
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("timeline-"))
        .collect();
    files.sort();
    let mut wanted: Vec<String> = stages
        .iter()
        .map(|stage| pictures::file_name(stage))
        .collect();
    wanted.sort();
    assert_eq!(files, wanted, "the timelines in book/src/pictures");
}

/// Every memory chart of the book's bench runs is what the bench's chart
/// renderer draws today of the `results.jsonl` beside it.
#[test]
fn each_memory_chart_is_what_the_renderer_draws_of_its_results() {
    let bench = root().join("book/src/bench");
    let mut charts = vec![bench.join("memory.svg")];
    for entry in std::fs::read_dir(&bench).unwrap() {
        let chart = entry.unwrap().path().join("memory.svg");
        if chart.is_file() {
            charts.push(chart);
        }
    }
    let mut stale = Vec::new();
    for chart in &charts {
        let results = chart.with_file_name("results.jsonl");
        let samples = bench::read(&results.display().to_string(), &read(&results)).unwrap();
        if read(chart) != svg::memory_chart_of(&samples) {
            let at = chart.strip_prefix(root()).unwrap().display();
            stale.push(format!(
                "{at} is not what the renderer draws now of the results.jsonl beside it: \
                 cargo run -q -p workshop -- bench --results {} --chart-to {at}",
                results.strip_prefix(root()).unwrap().display()
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

/// The kept run shows what each stage is meant to do, so the pictures the
/// chapters show cannot be of a stage that misbehaved that day: stage 1
/// closes each client at once; stage 2 serves them one at a time; from
/// stage 3 on, together; a stage with a deadline (4 and 5, and the lesson
/// built on stage 4) closes the idle client, the others keep it; every
/// stage from 2 on prints all the talker's lines.
#[test]
fn the_kept_run_shows_what_each_stage_is_meant_to_do() {
    use workshop::model::compare::Verdict;
    let json = root().join("book/src/pictures/compare.json");
    let comparison = Comparison::read(&json.display().to_string(), &read(&json)).unwrap();
    for report in &comparison.reports {
        let stage = report.stage.as_str();
        let number = stage
            .strip_prefix("stage")
            .and_then(|rest| rest.chars().next())
            .and_then(|digit| digit.to_digit(10))
            .unwrap_or_else(|| panic!("{stage} is not a stage"));
        let (two, idle, talker) = (
            &report.two_clients.verdict,
            &report.idle.verdict,
            &report.talker.verdict,
        );
        let wrong = |what: &str, verdict: &Verdict| {
            panic!("{stage}: {what} {verdict:?} in the kept run; draw it again: {DRAW_TIMELINES}")
        };
        match (number, two) {
            (1, Verdict::ClosesEachAtOnce) | (2, Verdict::Serial { .. }) => {}
            (3.., Verdict::Concurrent) => {}
            _ => wrong("two clients:", two),
        }
        match (number, report.takes_timeout, idle) {
            (1, _, Verdict::ClosedAtOnce)
            | (2.., false, Verdict::OpenAfterSilence(_))
            | (4.., true, Verdict::ClosedAfterSilence(_)) => {}
            _ => wrong("an idle client:", idle),
        }
        match (number, talker) {
            (1, Verdict::ClosedAtOnce) => {}
            (2.., Verdict::KeptOpen { printed, lines, .. }) if printed == lines => {}
            _ => wrong("a talking client:", talker),
        }
    }
}
