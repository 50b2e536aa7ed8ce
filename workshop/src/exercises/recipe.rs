//! An exercise's recipe, its `exercise.toml`: the assignment, the hints,
//! and the gaps that make the starter from the stage. Each gap takes the
//! stage's lines the learner is to write, which must be in the stage once,
//! and gives what the starter has in their place: the previous stage's
//! lines, or a `todo!()`, marked ✎.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;

/// An `exercise.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// The stage the exercise leads to.
    pub stage: String,
    /// The starter's doc comment: what to change, what to see, how to check.
    pub assignment: String,
    /// From a nudge to nearly the answer, in the order they are given.
    pub hints: Vec<String>,
    /// The read deadline the exercise is checked with, where it takes
    /// `--timeout` (short, so that the checks answer quickly).
    deadline: Option<String>,
    gaps: Vec<Gap>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Gap {
    /// The file the gap is in, in the crate.
    #[serde(default = "main_rs")]
    file: String,
    /// The stage's lines, taken out.
    take: String,
    /// The starter's lines in their place.
    give: String,
}

fn main_rs() -> String {
    "src/main.rs".to_string()
}

impl Recipe {
    /// Reads exercise `name`'s recipe from its text.
    pub fn parse(name: &str, text: &str) -> anyhow::Result<Recipe> {
        toml::from_str(text).map_err(|err| {
            let why = err.message();
            anyhow!("exercises/{name}/exercise.toml: {why}")
        })
    }

    /// The read deadline the exercise is checked with, if it takes one.
    pub fn deadline(&self) -> anyhow::Result<Option<Duration>> {
        self.deadline
            .as_deref()
            .map(|text| {
                humantime::parse_duration(text)
                    .with_context(|| format!("the recipe's deadline {text:?}"))
            })
            .transpose()
    }

    /// The starter's version of the file at `path` of `stage`, whose text
    /// is `source`: `src/main.rs` opens with the assignment in the place of
    /// the stage's doc comment, and each gap's lines replace what it takes.
    pub fn starter_of(&self, stage: &str, path: &str, source: &str) -> anyhow::Result<String> {
        let mut text = match path {
            "src/main.rs" => with_doc_comment(source, &self.assignment),
            _ => source.to_string(),
        };
        for gap in self.gaps.iter().filter(|gap| gap.file == path) {
            let first = gap.take.lines().next().unwrap_or_default().trim();
            match text.matches(&gap.take).count() {
                1 => text = text.replacen(&gap.take, &gap.give, 1),
                0 => {
                    bail!(
                        "{stage}/{path} no longer has the lines a gap takes, from {first:?}: change the recipe with the stage"
                    );
                }
                n => {
                    bail!(
                        "{stage}/{path} has the lines a gap takes {n} times, from {first:?}: take more of them, to take one place"
                    );
                }
            }
        }
        Ok(text)
    }
}

/// `source` with its opening `//!` doc comment replaced by `doc`.
fn with_doc_comment(source: &str, doc: &str) -> String {
    let rest: Vec<&str> = source
        .lines()
        .skip_while(|line| line.starts_with("//!"))
        .collect();
    let mut text = String::new();
    for line in doc.trim_end().lines() {
        match line {
            "" => text.push_str("//!\n"),
            line => text.push_str(&format!("//! {line}\n")),
        }
    }
    for line in rest {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Everything after `source`'s opening `//!` doc comment: the code, which
/// is what a learner's version and the stage's are compared by.
pub fn without_doc_comment(source: &str) -> String {
    with_doc_comment(source, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAGE: &str = "//! # Stage\n//!\n//! The lesson.\n\nfn main() {\n    lesson();\n}\n";

    fn recipe(take: &str) -> Recipe {
        Recipe {
            stage: "stage".to_string(),
            assignment: "# Exercise\n\nWrite the lesson.\n".to_string(),
            hints: Vec::new(),
            deadline: None,
            gaps: vec![Gap {
                file: main_rs(),
                take: take.to_string(),
                give: "    todo!()\n".to_string(),
            }],
        }
    }

    #[test]
    fn a_starter_has_the_assignment_for_doc_comment_and_a_gap_for_the_lesson() {
        let made = recipe("    lesson();\n")
            .starter_of("stage", "src/main.rs", STAGE)
            .unwrap();
        assert_eq!(
            made,
            "//! # Exercise\n//!\n//! Write the lesson.\n\nfn main() {\n    todo!()\n}\n"
        );
    }

    #[test]
    fn a_gap_that_takes_lines_the_stage_no_longer_has_says_so() {
        let err = recipe("    old_lesson();\n")
            .starter_of("stage", "src/main.rs", STAGE)
            .unwrap_err();
        assert!(err.to_string().contains("no longer has the lines"), "{err}");
    }

    #[test]
    fn the_code_without_its_doc_comment_is_what_follows_it() {
        assert_eq!(
            without_doc_comment(STAGE),
            "\nfn main() {\n    lesson();\n}\n"
        );
    }
}
