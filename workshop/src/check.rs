//! `workshop check`: judges a server, a learner's or Go's, by the checks of
//! a stage (`harness::checks`, the same the stages' own tests run), and says
//! for each what a right server does and, when this one did not, what it did
//! and what that means.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use harness::checks::{self, Target};

use crate::{sayln, seconds};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The server's program: a learner's build, Go's, any that takes --addr HOST:PORT
    #[arg(long, value_name = "PATH")]
    pub bin: PathBuf,

    /// The stage whose behaviour to check, 1 to 4
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=4))]
    pub stage: u8,

    /// Stage 4: the server's read deadline (Go's stage 4 has 5s)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = common::args::deadline)]
    pub deadline: Duration,

    /// An argument for the server, such as --server-arg=--timeout=300ms (again for more)
    #[arg(long = "server-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
}

pub async fn run(args: CheckArgs) -> Result<(), String> {
    // A path, never a name looked up on PATH: `--bin myserver` is the one here.
    let bin =
        std::path::absolute(&args.bin).map_err(|err| format!("{}: {err}", args.bin.display()))?;
    if !bin.is_file() {
        return Err(format!("{} is not a program", args.bin.display()));
    }
    let bin = bin
        .to_str()
        .ok_or_else(|| format!("{} is not UTF-8: give another path", bin.display()))?
        .to_string();
    let target = Target {
        bin,
        args: args.server_args,
        deadline: args.deadline,
    };
    let stage = args.stage;
    // The checks block on sockets and processes: off the runtime's threads.
    let failed = tokio::task::spawn_blocking(move || {
        quiet_panics_of_checks();
        // A program that is no server is told once, not once per check.
        checks::starts(&target).map_err(|why| {
            let first = why.lines().next().unwrap_or_default();
            format!("{} does not start a server: {first}", args.bin.display())
        })?;
        Ok::<_, String>(judge(stage, &target))
    })
    .await
    .map_err(|err| format!("the checks stopped: {err}"))??;
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} of stage {stage}'s checks failed")),
    }
}

/// Runs stage `stage`'s checks on `target`, says how each went, and returns
/// how many failed.
fn judge(stage: u8, target: &Target) -> usize {
    let started = Instant::now();
    let outcomes = checks::run_all(stage, target);
    let took = seconds(started.elapsed());
    sayln!("stage {stage}'s checks, all at once, took {took}:");
    let mut failed = 0;
    for (check, outcome) in outcomes {
        let name = check.name.replace('_', " ");
        match outcome {
            Ok(()) => sayln!("passed  {name}: {}", check.expects),
            Err(what) => {
                failed += 1;
                sayln!("FAILED  {name}");
                sayln!("        expected: {}", check.expects);
                sayln!("        what happened: {}", first_lines(&what, 12));
                sayln!("        what it means: {}", check.if_not);
            }
        }
    }
    failed
}

/// A check fails by panicking, on a thread named `check: ...`; what it says
/// is reported above, so Rust's own report of the panic is left out.
fn quiet_panics_of_checks() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let name = std::thread::current().name().map(str::to_string);
        if !name.is_some_and(|name| name.starts_with("check: ")) {
            report(info);
        }
    }));
}

/// The first `n` lines of `text`, indented under the report's labels.
fn first_lines(text: &str, n: usize) -> String {
    let mut lines: Vec<&str> = text.lines().take(n).collect();
    if text.lines().count() > n {
        lines.push("...");
    }
    lines.join("\n                    ")
}
