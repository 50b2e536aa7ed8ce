//! `workshop bench`: what each concurrent server costs, measured side by side.
//!
//! Every server that serves clients together (the stages from 3 on, and the
//! Go seed's stages 3 and 4 when `go` is installed) goes through the same
//! measurements ([`crate::measure::bench`]), each on a fresh process. The
//! whole set runs `--repeats` times, all servers in each round (the
//! machine's noise then falls on every server alike), and the table gives the
//! median with the lowest and highest. Raw results go to `results.jsonl`, the
//! table to `table.md` and a chart of memory against connections to
//! `memory.svg`; an interrupted bench leaves those of the last complete run
//! as they were, and what it measured in `results.jsonl.partial`. Only
//! loopback is used, and every run is bounded in count and time.
//!
//! `--baseline` compares the run with a saved `results.jsonl`, and
//! `--results` shows a saved one instead of measuring: both are read before
//! anything else is done, so that a file that is not a bench's results is
//! said at once. `--results` with `--chart-to` draws that run's chart again.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::model::bench::{self, Sample, Scenario, Sink, scenarios, servers};
use crate::output::notes::Notes;
use crate::output::results::Results;
use crate::processes::contenders::contenders;
use crate::processes::{limits, servers};
use crate::units::size_within;
use crate::{measure, render};
use crate::{say, tellln};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The servers to measure, by name or prefix (stage4-timeouts,go-stage4); all of them if not given
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,

    /// How many rounds; each runs every measurement on every server once
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    repeats: u32,

    /// How many idle connections to hold, one run for each number (at most 10 numbers)
    #[arg(long, value_delimiter = ',', default_value = "1000,10000", value_parser = clap::value_parser!(u32).range(1..=19_000))]
    held: Vec<u32>,

    /// How many bytes the clients of a throughput run send in all, from 1KiB to 64GiB
    #[arg(long, default_value = "256MiB", value_parser = size_within(1 << 10, 64 << 30), allow_hyphen_values = true)]
    bytes: u64,

    /// How many connections an accept-rate run makes
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    churn: u32,

    /// A `go` to build the Go seed's programs with, instead of the one on the PATH; give it again for each Go to measure side by side, each named by its version (go1.19-stage3, go1.23-stage3)
    #[arg(long, value_name = "PATH")]
    go: Vec<PathBuf>,

    /// Where to write results.jsonl, table.md and memory.svg
    #[arg(long, value_name = "DIR", default_value = "target/bench")]
    out: PathBuf,

    /// A run of a few seconds that checks the bench itself works: one round, tiny loads
    #[arg(long, conflicts_with_all = ["held", "bytes", "churn", "repeats"])]
    smoke: bool,

    /// A saved results.jsonl to compare with: after the table, what changed since, as this run's median ÷ the baseline's for each measurement and server
    #[arg(long, value_name = "FILE.jsonl")]
    baseline: Option<PathBuf>,

    /// Measure nothing: show the table of a saved results.jsonl (with --baseline, what changed since that one)
    #[arg(long, value_name = "FILE.jsonl", conflicts_with_all = ["only", "repeats", "held", "bytes", "churn", "go", "out", "smoke"])]
    results: Option<PathBuf>,

    /// With --results: also draw that run's chart of memory against connections held to this file, as the bench drew its memory.svg (the book's charts are drawn again so when the chart changes)
    #[arg(long, value_name = "FILE.svg", requires = "results")]
    chart_to: Option<PathBuf>,
}

/// How many numbers `--held` takes: each is a run of every server in every
/// round, of up to 19,000 connections.
const MOST_HELD: usize = 10;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.held.len() > MOST_HELD {
        bail!(
            "--held takes at most {MOST_HELD} numbers, each a run of every server in every round, not {}",
            args.held.len()
        );
    }
    // A baseline that cannot be read is said now, not after minutes of
    // measuring.
    let baseline = match &args.baseline {
        Some(path) => Some((read_results(path)?, path.display().to_string())),
        None => None,
    };
    if let Some(path) = &args.results {
        let samples = read_results(path)?;
        let table = render::bench::table(&servers(&samples), &scenarios(&samples), &samples);
        say!("{table}");
        if let Some((baseline, name)) = &baseline {
            say!("{}", render::bench::changes(&samples, baseline, name));
        }
        if let Some(chart) = &args.chart_to {
            Notes::check(chart)?.write(&render::svg::memory_chart_of(&samples))?;
            tellln!(
                "workshop: drew the chart of {} to {}",
                path.display(),
                chart.display()
            );
        }
        return Ok(());
    }
    // After the arguments, so that a mistyped one is told on every system.
    if !cfg!(target_os = "linux") {
        bail!(
            "workshop bench reads each server's memory, threads and bytes written from /proc, which only Linux has: run it on Linux (a virtual machine or WSL 2 will do)"
        );
    }
    let (held, bytes, churn, repeats) = if args.smoke {
        (vec![20, 200], 4 << 20, 200, 1)
    } else {
        let mut held: Vec<usize> = args.held.iter().map(|&n| n as usize).collect();
        held.sort_unstable();
        held.dedup();
        (held, args.bytes, args.churn as usize, args.repeats)
    };
    let most_held = held.iter().copied().max().unwrap_or(0);
    limits::enough_open_files(
        most_held as u64 + 64,
        &format!("holding {most_held} connections"),
        "hold fewer (--held)",
    )?;
    // A folder that cannot be written is said now, before anything is built
    // or measured, and without touching the last run's files, nor what an
    // interrupted run measured.
    let mut results = Results::start(&args.out)?;
    // Built with go and cargo, which take a while: off the runtime's threads.
    let (only, gos) = (args.only.clone(), args.go.clone());
    let entrants = servers::blocking(move || contenders(&only, &gos)).await?;

    let mut runs: Vec<Scenario> = held
        .iter()
        .map(|&connections| Scenario::Hold { connections })
        .collect();
    for clients in [1, 16] {
        for sink in [Sink::DevNull, Sink::Pipe] {
            runs.push(Scenario::Flood { clients, sink });
        }
    }
    for concurrency in [1, 64] {
        runs.push(Scenario::Churn { concurrency });
    }
    let names: Vec<&str> = entrants.iter().map(|c| c.name.as_str()).collect();
    tellln!(
        "workshop: bench of {} in {repeats} round(s) of {} runs each",
        names.join(", "),
        runs.len()
    );

    let mut samples = Vec::new();
    for round in 1..=repeats {
        for contender in &entrants {
            for &scenario in &runs {
                tellln!(
                    "workshop: round {round}/{repeats}: {}: {}",
                    contender.name,
                    scenario.row()
                );
                let sample =
                    measure::bench::measure(contender, scenario, round, bytes, churn).await;
                if let Some(error) = sample.error() {
                    tellln!("workshop:   failed: {error}");
                }
                results.add(&render::jsonl::line(&sample)?)?;
                samples.push(sample);
            }
        }
    }

    let table = render::bench::table(&names, &runs, &samples);
    say!("{table}");
    if let Some((baseline, name)) = &baseline {
        say!("{}", render::bench::changes(&samples, baseline, name));
    }
    let svg = render::svg::memory_chart(&names, &held, &samples);
    results.finish(&[("table.md", &table), ("memory.svg", &svg)])?;
    tellln!(
        "workshop: wrote results.jsonl, table.md and memory.svg to {}",
        args.out.display()
    );
    Ok(())
}

/// The results a bench wrote to `path`, read back.
fn read_results(path: &Path) -> anyhow::Result<Vec<Sample>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    bench::read(&path.display().to_string(), &text)
}
