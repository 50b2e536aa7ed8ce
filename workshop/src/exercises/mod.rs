//! The exercises layer, data beside the model: a crate under `exercises/`
//! for each stage, in which the learner writes that stage from the one
//! before. Each starter is made from the stage it leads to by a recipe
//! ([`recipe`], the exercise's `exercise.toml`), so that it never drifts
//! from the code it leads to; the learner's progress through them is kept
//! in a file ([`record`]).
//!
//! The stages' sources and the recipes are built into this program, so that
//! `workshop reset` can make a starter again however the learner changed
//! the exercise's files.

pub mod recipe;
pub mod record;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use harness::checks::Target;

use crate::exercises::record::Record;

pub use recipe::Recipe;

/// One exercise: the crate the learner edits, and the stage it leads to.
pub struct Exercise {
    /// The stage's number in the course, and the checks it is judged by.
    pub number: u8,
    /// The exercise's crate, also its folder under `exercises/`.
    pub name: &'static str,
    /// The reference: the stage crate the exercise leads to.
    pub stage: &'static str,
    recipe: &'static str,
    /// The stage's source files, as (path in the crate, text).
    stage_files: &'static [(&'static str, &'static str)],
}

/// An exercise whose recipe is `exercises/NAME/exercise.toml` and whose
/// stage's sources are the `files` under `STAGE/`.
macro_rules! exercise {
    ($number:literal, $name:literal, $stage:literal, [$($file:literal),+]) => {
        Exercise {
            number: $number,
            name: $name,
            stage: $stage,
            recipe: include_str!(concat!("../../../exercises/", $name, "/exercise.toml")),
            stage_files: &[$(($file, include_str!(concat!("../../../", $stage, "/", $file)))),+],
        }
    };
}

/// Every exercise, in course order.
pub const ALL: &[Exercise] = &[
    exercise!(1, "exercise1-listener", "stage1-listener", ["src/main.rs"]),
    exercise!(
        2,
        "exercise2-accept-loop",
        "stage2-accept-loop",
        ["src/main.rs"]
    ),
    exercise!(
        3,
        "exercise3-concurrent",
        "stage3-concurrent",
        ["src/main.rs"]
    ),
    exercise!(4, "exercise4-timeouts", "stage4-timeouts", ["src/main.rs"]),
    exercise!(
        5,
        "exercise5-production",
        "stage5-production",
        [
            "src/main.rs",
            "src/accept.rs",
            "src/connection.rs",
            "src/limit.rs",
            "src/shutdown.rs",
            "src/splice.rs",
            "src/no_splice.rs"
        ]
    ),
];

impl Exercise {
    /// Its recipe, read from the `exercise.toml` built into this program.
    pub fn recipe(&self) -> anyhow::Result<Recipe> {
        Recipe::parse(self.name, self.recipe)
    }

    /// The starter's files, as (path in the crate, text): the stage's
    /// files with the recipe's gaps in the place of the lesson's lines.
    pub fn starter(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        let recipe = self.recipe()?;
        self.stage_files
            .iter()
            .map(|&(path, source)| {
                let made = recipe.starter_of(self.stage, path, source)?;
                Ok((path, made))
            })
            .collect()
    }

    /// The stage's files, as (path in the crate, text).
    pub fn stage_files(&self) -> &'static [(&'static str, &'static str)] {
        self.stage_files
    }

    /// Whether the exercise's files in the workspace at `root` are its
    /// starter's, unchanged: not started, or reset.
    pub fn is_its_starter(&self, root: &Path) -> anyhow::Result<bool> {
        Ok(changed_files(&self.folder(root), &self.starter()?)?.is_empty())
    }

    /// The exercise's folder in the workspace at `root`.
    pub fn folder(&self, root: &Path) -> PathBuf {
        root.join("exercises").join(self.name)
    }

    /// How the exercise's binary at `bin` is checked: with a short read
    /// deadline where the stage takes one, so that a check answers quickly.
    pub fn target(&self, bin: String) -> anyhow::Result<Target> {
        let recipe = self.recipe()?;
        let (args, deadline) = match recipe.deadline()? {
            Some(deadline) => (
                vec![
                    "--timeout".to_string(),
                    humantime::format_duration(deadline).to_string(),
                ],
                deadline,
            ),
            None => (Vec::new(), Duration::ZERO),
        };
        Ok(Target {
            bin,
            args,
            deadline,
        })
    }
}

/// The exercise `wanted` names: its number (`3`), its name
/// (`exercise3-concurrent`), or the start of its name (`exercise3`).
pub fn find(wanted: &str) -> anyhow::Result<&'static Exercise> {
    let wanted = wanted.trim();
    let found = ALL.iter().find(|exercise| {
        wanted.parse() == Ok(exercise.number)
            || exercise.name == wanted
            || exercise.name.starts_with(&format!("{wanted}-"))
    });
    found.ok_or_else(|| {
        let names: Vec<String> = ALL
            .iter()
            .map(|exercise| format!("{} ({})", exercise.number, exercise.name))
            .collect();
        anyhow!(
            "there is no exercise {wanted:?}; the exercises are {}",
            names.join(", ")
        )
    })
}

/// The paths of `files` whose text in `folder` is not theirs.
pub(crate) fn changed_files(
    folder: &Path,
    files: &[(&'static str, String)],
) -> anyhow::Result<Vec<&'static str>> {
    let mut changed = Vec::new();
    for (path, text) in files {
        if read_or_empty(&folder.join(path))? != *text {
            changed.push(*path);
        }
    }
    Ok(changed)
}

/// A file's text, or nothing where there is no file (a learner deleted it).
pub(crate) fn read_or_empty(path: &Path) -> anyhow::Result<String> {
    read_if_there(path).map(Option::unwrap_or_default)
}

/// The text of `path`, or none where there is no such file.
pub(crate) fn read_if_there(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The exercise `wanted` names or, when none is, the next to do.
pub fn pick(wanted: Option<&str>, record: &Record) -> anyhow::Result<&'static Exercise> {
    match wanted {
        Some(wanted) => find(wanted),
        None => next_to_do(record)
            .context("every exercise has passed its checks: name the one you mean"),
    }
}

/// The next exercise to do: the first not passed, if any is left.
pub fn next_to_do(record: &Record) -> Option<&'static Exercise> {
    ALL.iter().find(|exercise| !record.passed(exercise.name))
}
