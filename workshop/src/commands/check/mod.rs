//! `workshop check`: judges a server, a learner's or Go's, by the checks of
//! a stage (`harness::checks`, the same the stages' own tests run), and says
//! for each what a right server does and, when this one did not, what it did
//! and what that means.

mod watch;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use harness::NotStarted;
use harness::checks::{self, Target};

use crate::exercises::record::{Outcome, Record};
use crate::exercises::{self, Exercise};
use crate::processes::workspace::{self, Warnings};
use crate::sayln;
use crate::units::seconds;

use watch::Saves;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Your exercise, by number (3) or name (exercise3-concurrent); if not given, the first you have not passed
    #[arg(value_name = "EXERCISE", conflicts_with = "bin")]
    pub exercise: Option<String>,

    /// Check again each time you save the exercise's files, until Ctrl-C
    #[arg(long, conflicts_with = "bin")]
    pub watch: bool,

    /// Instead of an exercise, any server's program: Go's, one in another language, any that takes --addr HOST:PORT
    #[arg(long, value_name = "PATH", requires = "stage")]
    pub bin: Option<PathBuf>,

    /// With --bin: the stage whose behaviour to check, 1 to 5
    #[arg(long, value_name = "N", requires = "bin", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub stage: Option<u8>,

    /// With --bin, stages 4 and 5: the server's read deadline [default: 5s, Go's stage 4's]
    #[arg(long, value_name = "DURATION", requires = "bin", value_parser = common::args::deadline)]
    pub deadline: Option<Duration>,

    /// With --bin: an argument for the server, such as --server-arg=--timeout=300ms (again for more)
    #[arg(
        long = "server-arg",
        value_name = "ARG",
        allow_hyphen_values = true,
        requires = "bin"
    )]
    pub server_args: Vec<String>,
}

/// The longest read deadline `--bin` takes.
const MAX_DEADLINE: Duration = Duration::from_secs(10);

pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    match (args.bin, args.stage) {
        (Some(_), Some(stage @ 1..=3)) if args.deadline.is_some() => Err(anyhow!(
            "stage {stage} has no read deadline: --deadline is for stages 4 and 5"
        )),
        // The checks wait for a few deadlines: a long one would hold them
        // up for minutes, where a check must answer in seconds.
        (Some(_), Some(_))
            if args
                .deadline
                .is_some_and(|deadline| deadline > MAX_DEADLINE) =>
        {
            Err(anyhow!(
                "--deadline is at most {}s, as the checks wait for a few: start the server with a shorter one, such as --server-arg=--timeout=1s --deadline 1s",
                MAX_DEADLINE.as_secs()
            ))
        }
        (Some(bin), Some(stage)) => {
            let deadline = args.deadline.unwrap_or(Duration::from_secs(5));
            check_a_program(&bin, stage, args.server_args, deadline).await
        }
        _ => {
            let (wanted, watching) = (args.exercise, args.watch);
            tokio::task::spawn_blocking(move || match watching {
                true => watch_exercises(wanted.as_deref()),
                false => check_an_exercise(wanted.as_deref()).map(drop),
            })
            .await
            .context("the checks stopped")?
        }
    }
}

/// `workshop check --bin PATH --stage N`: any server, judged as stage `stage`.
async fn check_a_program(
    path: &Path,
    stage: u8,
    server_args: Vec<String>,
    deadline: Duration,
) -> anyhow::Result<()> {
    // A path, never a name looked up on PATH: `--bin myserver` is the one here.
    let bin = std::path::absolute(path).with_context(|| format!("{}", path.display()))?;
    if !bin.is_file() {
        bail!("{} is not a program", path.display());
    }
    let bin = bin
        .to_str()
        .with_context(|| format!("{} is not UTF-8: give another path", bin.display()))?
        .to_string();
    let target = Target {
        bin,
        args: server_args,
        deadline,
    };
    let shown = path.display().to_string();
    // The checks block on sockets and processes: off the runtime's threads.
    let judged = tokio::task::spawn_blocking(move || starts_then_judge(&shown, stage, &target))
        .await
        .context("the checks stopped")?;
    match judged? {
        (0, _) => Ok(()),
        (failed, _) => Err(anyhow!("{failed} of stage {stage}'s checks failed")),
    }
}

/// Whether `target` starts a server, then, if it does, how many of stage
/// `stage`'s checks it fails, of how many.
fn starts_then_judge(shown: &str, stage: u8, target: &Target) -> anyhow::Result<(usize, usize)> {
    quiet_panics_of_checks();
    // A program that is no server is told once, not once per check.
    checks::starts(target)
        .map_err(|why| anyhow!("{shown} does not start a server: {}", why_not(&why)))?;
    Ok(judge(stage, target))
}

/// `workshop check [EXERCISE]`: builds the exercise, judges it by its
/// stage's checks, and keeps the outcome in the learner's record.
fn check_an_exercise(wanted: Option<&str>) -> anyhow::Result<&'static Exercise> {
    let root = workspace::root_or_error()?;
    let exercise = exercises::pick(wanted, &Record::load(&root)?)?;
    let (outcome, result) = build_and_judge(&root, exercise);
    // Read again: a hint taken while the check ran is kept.
    let mut record = Record::load(&root)?;
    record.update(exercise.name, |progress| {
        progress.last_check = Some(outcome)
    });
    record.save(&root)?;
    result?;
    let number = exercise.number;
    match exercises::next_to_do(&record) {
        Some(next) => sayln!(
            "Exercise {number} passes. Next: exercise {} (exercises/{}): cargo run -q -p workshop -- check {}",
            next.number,
            next.name,
            next.number
        ),
        None => sayln!("Exercise {number} passes, and so does every other: well done."),
    }
    Ok(exercise)
}

/// Why a program did not start a server, in one line: what happened, then,
/// where the program panicked (a `todo!()` left in an exercise), where and
/// what the panic said; where it said it listens elsewhere (a fixed port),
/// that; or else the last line it wrote.
fn why_not(why: &NotStarted) -> String {
    let happened = why.what_happened();
    let NotStarted::DidNotListen { exited, output, .. } = why else {
        return happened;
    };
    let said: Vec<&str> = output.lines().collect();
    if let Some(at) = said.iter().position(|line| line.contains(" panicked at ")) {
        let place = said[at].split(" panicked at ").nth(1).unwrap_or_default();
        let message = said.get(at + 1).copied().unwrap_or_default().trim();
        return format!("{happened}; it panicked at {place} {message}");
    }
    let listens = said.iter().find_map(|line| {
        line.split_once("listening on ")
            .map(|(_, addr)| addr.trim())
    });
    match (
        listens,
        said.iter().rev().find(|line| !line.trim().is_empty()),
    ) {
        (Some(addr), _) => format!(
            "{happened}; it said it listens on {addr}: listen on the address it is given with --addr (cli.server.addr in the exercises)"
        ),
        (None, Some(last)) => format!("{happened}; the last line it wrote: {}", last.trim()),
        (None, None) if exited.is_some() => format!("{happened}, saying nothing"),
        // A script that runs the server as a child of its own (no `exec`)
        // shows nothing, and the server is not the program that was started.
        (None, None) => format!(
            "{happened}, and it wrote nothing (a script that starts a server must `exec` it)"
        ),
    }
}

/// Builds `exercise` and runs its stage's checks on it: how it went, for
/// the record, and what to tell the learner when it did not pass.
fn build_and_judge(root: &Path, exercise: &Exercise) -> (Outcome, anyhow::Result<()>) {
    let name = exercise.name;
    let (bin, warnings) = match workspace::build_one(root, exercise.name) {
        Ok(built) => built,
        Err(why) => return (Outcome::DidNotBuild, Err(why)),
    };
    let target = match exercise.target(bin.display().to_string()) {
        Ok(target) => target,
        Err(why) => return (Outcome::DidNotBuild, Err(why)),
    };
    let stage = exercise.number;
    // A future never awaited, a Result left unused: rustc's warnings often
    // name the very mistake a check saw, but they scrolled past above it.
    let warned = match warnings {
        Warnings(0) => "",
        _ => ", and cargo warned about your code (see above: a warning often names the mistake)",
    };
    match starts_then_judge(name, stage, &target) {
        Err(why) => (Outcome::DidNotStart, Err(anyhow!("{why:#}{warned}"))),
        Ok((0, _)) => (Outcome::Passed, Ok(())),
        Ok((failed, of)) => (
            Outcome::Failed { failed, of },
            Err(anyhow!(
                "{failed} of stage {stage}'s checks failed{warned}; a hint: cargo run -q -p workshop -- hint {stage}"
            )),
        ),
    }
}

/// `workshop check --watch`: checks the exercise, then again each time its
/// files are saved. Without an exercise named, it goes on to the next one
/// once one passes, as the learner does.
fn watch_exercises(wanted: Option<&str>) -> anyhow::Result<()> {
    let root = workspace::root_or_error()?;
    let mut last: Option<&Exercise> = None;
    loop {
        // Once every exercise passes, the one just checked is watched on.
        let exercise = match (exercises::pick(wanted, &Record::load(&root)?), last) {
            (Err(_), Some(last)) => last,
            (picked, _) => picked?,
        };
        last = Some(exercise);
        let src = exercise.folder(&root).join("src");
        // Watched from before the check, so that a file saved while it
        // runs is checked again as soon as it ends.
        let saves = Saves::under(&src)?;
        let passed = match check_an_exercise(Some(exercise.name)) {
            Ok(_) => true,
            Err(why) => {
                crate::tellln!("error: {why:#}");
                false
            }
        };
        if passed && wanted.is_none() && exercises::next_to_do(&Record::load(&root)?).is_some() {
            continue;
        }
        sayln!(
            "workshop: watching {} for changes; Ctrl-C to stop",
            src.display()
        );
        let changed = saves.next()?;
        sayln!("\nworkshop: {} changed: checking again", changed.display());
    }
}

/// Runs stage `stage`'s checks on `target`, says how each went, and returns
/// how many failed, of how many.
fn judge(stage: u8, target: &Target) -> (usize, usize) {
    let started = Instant::now();
    let outcomes = checks::run_all(stage, target);
    let took = seconds(started.elapsed());
    sayln!("stage {stage}'s checks, all at once, took {took}:");
    #[cfg(not(unix))]
    if stage == 5 {
        sayln!(
            "(its graceful shutdown is left out: the checks of it send signals, which Linux and macOS have)"
        );
    }
    let mut failed = 0;
    for (check, outcome) in &outcomes {
        let name = check.name.replace('_', " ");
        match outcome {
            Ok(()) => sayln!("passed  {name}: {}", check.expects),
            Err(failure) => {
                failed += 1;
                sayln!("FAILED  {name}");
                sayln!("        expected: {}", check.expects);
                sayln!("        what happened: {}", first_lines(&failure.what, 12));
                sayln!("        what it means: {}", failure.means);
            }
        }
    }
    (failed, outcomes.len())
}

/// A check fails by panicking, on a thread named `check: ...`; what it says
/// is reported above, so Rust's own report of the panic is left out.
fn quiet_panics_of_checks() {
    // Once, however many times `--watch` checks.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().map(str::to_string);
            if !name.is_some_and(|name| name.starts_with("check: ")) {
                report(info);
            }
        }));
    });
}

/// The first `n` lines of `text`, indented under the report's labels.
fn first_lines(text: &str, n: usize) -> String {
    let mut lines: Vec<&str> = text.lines().take(n).collect();
    if text.lines().count() > n {
        lines.push("...");
    }
    lines.join("\n                    ")
}
