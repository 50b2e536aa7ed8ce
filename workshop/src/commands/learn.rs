//! What a learner asks the workshop about the exercises, besides `check`:
//! `hint` (the next one), `progress` (every exercise's state), `solution`
//! (the diff from their code to the stage) and `reset` (the starter back).

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{Context, bail};
use similar::TextDiff;

use crate::exercises::record::{Progress, Record};
use crate::exercises::{self, Exercise, changed_files, read_or_empty, recipe};
use crate::processes::workspace;
use crate::render::table::Table;
use crate::{say, sayln, tell};

#[derive(clap::Args, Debug)]
pub struct ExerciseArg {
    /// The exercise, by number (3) or name (exercise3-concurrent); if not given, the first you have not passed
    #[arg(value_name = "EXERCISE")]
    pub exercise: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ResetArgs {
    /// The exercise, by number (3) or name (exercise3-concurrent)
    #[arg(value_name = "EXERCISE")]
    pub exercise: String,

    /// Do not ask first
    #[arg(long)]
    pub yes: bool,
}

/// `workshop hint`: the exercise's next hint, from a nudge to nearly the
/// answer; after the last, the last again.
pub fn hint(args: ExerciseArg) -> anyhow::Result<()> {
    let root = workspace::root_or_error()?;
    let mut record = Record::load(&root)?;
    let exercise = exercises::pick(args.exercise.as_deref(), &record)?;
    let hints = exercise.recipe()?.hints;
    let given = record.of(exercise.name).hints_given;
    let this = given.min(hints.len().saturating_sub(1));
    let Some(text) = hints.get(this) else {
        bail!("exercise {} has no hints", exercise.number);
    };
    let number = exercise.number;
    sayln!("Exercise {number}, hint {} of {}:\n", this + 1, hints.len());
    for line in text.trim().lines() {
        sayln!("    {line}");
    }
    sayln!("");
    match hints.len() - (this + 1) {
        0 => sayln!(
            "That was the last hint. The whole answer, as a diff from your code: cargo run -q -p workshop -- solution {number}"
        ),
        more => sayln!(
            "{more} more: cargo run -q -p workshop -- hint {number}. Check your code: cargo run -q -p workshop -- check {number}"
        ),
    }
    record.update(exercise.name, |progress| {
        progress.hints_given = (this + 1).max(progress.hints_given)
    });
    record.save(&root)
}

/// `workshop solution`: what the stage has that the learner's code does not
/// (+), and what theirs has that the stage does not (-), as a unified diff;
/// the crate's doc comment (`//!`), where the assignment and the lesson
/// differ, left out.
pub fn solution(args: ExerciseArg) -> anyhow::Result<()> {
    let root = workspace::root_or_error()?;
    let exercise = exercises::pick(args.exercise.as_deref(), &Record::load(&root)?)?;
    sayln!(
        "From your exercises/{} to {} (the //! doc comment at the top left out):",
        exercise.name,
        exercise.stage
    );
    match diff_to_the_stage(&exercise.folder(&root), exercise)? {
        Some(diff) => say!("{diff}"),
        None => sayln!("Your code is the stage's, line for line."),
    }
    Ok(())
}

/// The unified diff from the exercise's files in `folder` to its stage's,
/// or none where they are the same.
fn diff_to_the_stage(folder: &Path, exercise: &Exercise) -> anyhow::Result<Option<String>> {
    let mut diffs = String::new();
    for &(path, stage_source) in exercise.stage_files() {
        let yours = recipe::without_doc_comment(&read_or_empty(&folder.join(path))?);
        let theirs = recipe::without_doc_comment(stage_source);
        let diff = TextDiff::from_lines(&yours, &theirs);
        if diff.ratio() < 1.0 {
            let old = format!("exercises/{}/{path}", exercise.name);
            let new = format!("{}/{path}", exercise.stage);
            diffs.push_str(&diff.unified_diff().header(&old, &new).to_string());
        }
    }
    Ok(Some(diffs).filter(|diffs| !diffs.is_empty()))
}

/// `workshop reset`: the starter back in the exercise's files, after asking.
pub fn reset(args: ResetArgs) -> anyhow::Result<()> {
    let root = workspace::root_or_error()?;
    let exercise = exercises::find(&args.exercise)?;
    let folder = exercise.folder(&root);
    let starter = exercise.starter()?;
    let changed = changed_files(&folder, &starter)?;
    if changed.is_empty() {
        sayln!(
            "exercises/{} is the starter already: nothing to reset.",
            exercise.name
        );
        return Ok(());
    }
    let files: Vec<String> = changed
        .iter()
        .map(|path| format!("exercises/{}/{path}", exercise.name))
        .collect();
    let question = format!(
        "This puts the starter back in {}: your changes there are lost, and its hints start again from the first. Go on?",
        files.join(", ")
    );
    if !args.yes && !asked(&question)? {
        sayln!("Nothing changed.");
        return Ok(());
    }
    write_files(&folder, &starter)?;
    let mut record = Record::load(&root)?;
    // Starting over: no check yet, and no hint given.
    record.update(exercise.name, |progress| *progress = Progress::default());
    record.save(&root)?;
    sayln!(
        "Put the starter back in {}; the next hint is the first.",
        files.join(", ")
    );
    Ok(())
}

/// Writes `files` in `folder`, making the folders they need.
fn write_files(folder: &Path, files: &[(&'static str, String)]) -> anyhow::Result<()> {
    for (path, text) in files {
        let file = folder.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot write {}", parent.display()))?;
        }
        std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(())
}

/// Asks `question`, whether to go on. Only `y` or `yes` goes on; the end
/// of the input does not.
fn asked(question: &str) -> anyhow::Result<bool> {
    tell!("{question} [y/N] ");
    let mut answer = String::new();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        // A script answers on stdin, unseen: the question's line ends here.
        tell!("\n");
    }
    stdin
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// `workshop progress`: every exercise's state, as a table, and what next.
pub fn progress() -> anyhow::Result<()> {
    let root = workspace::root_or_error()?;
    let record = Record::load(&root)?;
    let mut table = Table::new(["exercise", "leads to", "state", "hints"]);
    for exercise in exercises::ALL {
        let progress = record.of(exercise.name);
        let state = match progress.last_check {
            Some(outcome) => outcome.describe(),
            None if exercise.is_its_starter(&root)? => "not started".to_string(),
            None => "started, not checked yet".to_string(),
        };
        let hints = exercise.recipe()?.hints.len();
        table.row([
            format!("{} {}", exercise.number, exercise.name),
            exercise.stage.to_string(),
            state,
            format!("{} of {hints}", progress.hints_given),
        ]);
    }
    say!("{}", table.text(""));
    match exercises::next_to_do(&record) {
        Some(next) => sayln!(
            "\nNext: exercise {} (exercises/{}/src/main.rs); check it with: cargo run -q -p workshop -- check {}",
            next.number,
            next.name,
            next.number
        ),
        None => sayln!("\nEvery exercise passes its checks."),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of its own under the system's temporary folder.
    fn scratch(name: &str) -> std::path::PathBuf {
        let folder = std::env::temp_dir().join(format!("workshop-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        folder
    }

    #[test]
    fn a_reset_puts_back_only_what_the_learner_changed() {
        let exercise = exercises::find("3").unwrap();
        let starter = exercise.starter().unwrap();
        let folder = scratch("reset");
        write_files(&folder, &starter).unwrap();
        assert!(changed_files(&folder, &starter).unwrap().is_empty());
        std::fs::write(folder.join("src/main.rs"), "fn main() {}\n").unwrap();
        assert_eq!(changed_files(&folder, &starter).unwrap(), ["src/main.rs"]);
        write_files(&folder, &starter).unwrap();
        assert!(changed_files(&folder, &starter).unwrap().is_empty());
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn the_solution_of_a_starter_is_the_lessons_lines() {
        let exercise = exercises::find("exercise3").unwrap();
        let folder = scratch("solution");
        write_files(&folder, &exercise.starter().unwrap()).unwrap();
        let diff = diff_to_the_stage(&folder, exercise).unwrap().unwrap();
        assert!(
            diff.contains("\n-        serve_connection(socket, peer).await;\n")
                && diff.contains("\n+        tokio::spawn(serve_connection(socket, peer));\n"),
            "{diff}"
        );
        write_files(
            &folder,
            &[("src/main.rs", exercise.stage_files()[0].1.to_string())],
        )
        .unwrap();
        assert_eq!(diff_to_the_stage(&folder, exercise).unwrap(), None);
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
