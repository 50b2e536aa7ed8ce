//! `workshop`: the course's own tool for workshops. `workshop client` talks to
//! a stage like `nc` does; `workshop compare` runs every stage through the
//! same scenarios and shows, side by side, what each did; `workshop load`
//! puts a bounded load on a server on this machine; `workshop bench`
//! measures what each concurrent server costs, side by side; `workshop
//! check`, `hint`, `progress`, `solution` and `reset` take a learner through
//! the exercises; `workshop diff` shows the lesson between two stages.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use workshop::commands::{bench, check, client, compare, diff, learn, load};
use workshop::output;
use workshop::processes::limits;
use workshop::tellln;

/// The course's workshop tool: your exercises checked, a client for learners, every stage compared side by side, a bounded load generator, and a benchmark.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build your exercise and check it against its stage's behaviour (or any server's program, with --bin)
    Check(check::CheckArgs),
    /// The next hint for an exercise, from a nudge to nearly the answer
    Hint(learn::ExerciseArg),
    /// Every exercise's state: not started, started, failed or passed
    Progress,
    /// The whole answer: the diff from your exercise to the stage it leads to
    Solution(learn::ExerciseArg),
    /// Put an exercise's starter back, after asking
    Reset(learn::ResetArgs),
    /// Connect to a server: type lines to send them, or script a client for a demo
    Client(client::ClientArgs),
    /// The lesson between two stages (or an exercise and a stage): their sources' diff, changes to comments only left out
    Diff(diff::DiffArgs),
    /// Run every stage through the same scenarios and show what each did
    Compare(compare::CompareArgs),
    /// Put a bounded load on a server on this machine and report what it saw
    Load(load::LoadArgs),
    /// Measure what each concurrent server costs, side by side: memory, throughput, accept rate
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    // Each connection is a file: take all the system allows, for this
    // process and the stages it starts; and first, before parsing the
    // arguments resolves `--addr` (name lookups open files) and before
    // tokio's runtime needs a few for itself. (`#[tokio::main]` would build
    // the runtime before this line, and panic where the soft limit is a
    // handful; `common::runtime` says that in one line.)
    limits::raise_open_file_limit();
    // Bad input is one line and exit status 1, as the stages answer it.
    let cli: Cli = common::parse_args();
    let result = common::runtime().block_on(async {
        // Asked for before any stage starts, so that no SIGTERM finds the
        // workshop without it.
        #[cfg(unix)]
        if let Ok(terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::spawn(end_the_stages_on(terminate));
        }
        match cli.command {
            Command::Client(args) => client::run(args).await,
            Command::Compare(args) => compare::run(args).await,
            Command::Load(args) => load::run(args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Check(args) => check::run(args).await,
            Command::Hint(args) => learn::hint(args),
            Command::Progress => learn::progress(),
            Command::Solution(args) => learn::solution(args),
            Command::Reset(args) => learn::reset(args),
            Command::Diff(args) => diff::run(args),
        }
    });
    // What went wrong with the work first; then a stdout that could not
    // take the report.
    let result = result.and_then(|()| match output::failure() {
        Some(err) => Err(anyhow::anyhow!("cannot write to standard output: {err}")),
        None => Ok(()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The error and its context on one line, as every failure of the
        // course's programs is said: `cannot write x: permission denied`.
        Err(err) => {
            tellln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Ended with `kill` (SIGTERM), the workshop ends the stages it started
/// before it goes, and exits as SIGTERM would have it (status 143): on Linux
/// the kernel would end them anyway, on macOS nothing else does. (Ctrl-C and
/// a closed terminal reach the stages themselves, which share the
/// terminal's process group; a `kill` of another signal does not.)
#[cfg(unix)]
async fn end_the_stages_on(mut terminate: tokio::signal::unix::Signal) {
    terminate.recv().await;
    harness::end_every_server();
    std::process::exit(128 + libc::SIGTERM);
}
