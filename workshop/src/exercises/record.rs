//! The learner's progress, kept between runs in `exercises/progress.toml`
//! (git-ignored: it is the learner's, not the course's): how each
//! exercise's last check went, and how many of its hints were given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde::{Deserialize, Serialize};

/// Every exercise's progress, by the exercise's name.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record {
    #[serde(flatten)]
    exercises: BTreeMap<String, Progress>,
}

/// One exercise's progress.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    /// How its last check went; none before the first.
    pub last_check: Option<Outcome>,
    /// How many of its hints the learner has been given.
    #[serde(default)]
    pub hints_given: usize,
}

/// How a check of an exercise went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Passed,
    /// Some of the stage's checks failed.
    Failed {
        failed: usize,
        of: usize,
    },
    /// It did not build, or did not start a server.
    DidNotBuild,
    DidNotStart,
}

impl Outcome {
    /// In a learner's words, for the progress table.
    pub fn describe(self) -> String {
        match self {
            Outcome::Passed => "passed".to_string(),
            Outcome::Failed { failed, of } => format!("{failed} of {of} checks failed"),
            Outcome::DidNotBuild => "did not build".to_string(),
            Outcome::DidNotStart => "did not start a server".to_string(),
        }
    }
}

/// The record's file in the workspace at `root`, unless `WORKSHOP_RECORD`
/// names another (the workshop's own tests keep theirs apart from the
/// learner's).
pub fn path(root: &Path) -> PathBuf {
    match std::env::var_os("WORKSHOP_RECORD") {
        Some(path) => PathBuf::from(path),
        None => root.join("exercises").join("progress.toml"),
    }
}

impl Record {
    /// The record in the workspace at `root`; an empty one before the
    /// first check.
    pub fn load(root: &Path) -> anyhow::Result<Record> {
        let path = path(root);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|err| {
                anyhow!(
                    "{} is not a progress record ({}): delete it to start the record again",
                    path.display(),
                    err.message()
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
            Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the record in the workspace at `root`, whole or not at all
    /// (written aside, then renamed).
    pub fn save(&self, root: &Path) -> anyhow::Result<()> {
        let path = path(root);
        let text = format!(
            "# Your progress through the exercises, kept by `workshop`; delete it to start again.\n{}",
            toml::to_string(self).context("cannot write the progress record")?
        );
        let aside = path.with_extension("toml.new");
        std::fs::write(&aside, text)
            .and_then(|()| std::fs::rename(&aside, &path))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Exercise `name`'s progress.
    pub fn of(&self, name: &str) -> Progress {
        self.exercises.get(name).cloned().unwrap_or_default()
    }

    /// Changes exercise `name`'s progress with `change`.
    pub fn update(&mut self, name: &str, change: impl FnOnce(&mut Progress)) {
        change(self.exercises.entry(name.to_string()).or_default());
    }

    /// Whether exercise `name`'s last check passed.
    pub fn passed(&self, name: &str) -> bool {
        self.of(name).last_check == Some(Outcome::Passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_what_it_wrote() {
        let root = std::env::temp_dir().join(format!("workshop-record-{}", std::process::id()));
        std::fs::create_dir_all(root.join("exercises")).unwrap();
        let mut record = Record::default();
        record.update("exercise3-concurrent", |progress| {
            progress.last_check = Some(Outcome::Failed { failed: 1, of: 2 });
            progress.hints_given = 2;
        });
        record.update("exercise1-listener", |progress| {
            progress.last_check = Some(Outcome::Passed)
        });
        record.save(&root).unwrap();
        let read = Record::load(&root).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        assert!(read.passed("exercise1-listener"));
        let third = read.of("exercise3-concurrent");
        assert_eq!(third.last_check, Some(Outcome::Failed { failed: 1, of: 2 }));
        assert_eq!(third.hints_given, 2);
        assert_eq!(read.of("exercise2-accept-loop").hints_given, 0);
    }
}
