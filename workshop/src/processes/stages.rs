//! The stage binaries: finding them, by name or prefix, building them first
//! when this tool runs from the course's workspace ([`super::servers`]
//! starts them).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};

use crate::processes::{servers, workspace};

/// A stage's binary, and whether it takes `--timeout` (stage 4 and later).
#[derive(Clone, Debug)]
pub struct Stage {
    pub name: String,
    pub path: PathBuf,
    pub takes_timeout: bool,
}

/// Finds the stage binaries, all of them or the `wanted` ones (exercises
/// too, by name: `exercise3`), in course order. Run from the workspace (as
/// `cargo run -p workshop` does), it first builds them with cargo, which
/// does nothing when they are up to date; so a fresh clone needs no other
/// step, and an edited stage is compared as edited. It blocks for as long
/// as cargo and each stage's `--help` take: from async code, call it
/// through [`servers::blocking`].
pub fn find(wanted: &[String]) -> anyhow::Result<Vec<Stage>> {
    let dir = workspace::binaries()?;
    let names = match workspace::root() {
        Some(root) => {
            // The learners' exercises too, when asked for by name: a room
            // sees a learner's server beside the stage it leads to.
            let names = match wanted {
                [] => stage_names(&root),
                wanted => {
                    let mut available = stage_names(&root);
                    available.extend(crate::exercises::ALL.iter().map(|e| e.name.to_string()));
                    select(available, wanted)?
                }
            };
            workspace::build(&root, &dir, &names)?;
            names
        }
        None => select(binaries_in(&dir), wanted)?,
    };
    names
        .into_iter()
        .map(|name| {
            let path = dir
                .join(&name)
                .with_extension(std::env::consts::EXE_EXTENSION);
            if !path.exists() {
                bail!(
                    "cannot find the {name} binary in {}; build it with `cargo build -p {name}`",
                    dir.display()
                );
            }
            let takes_timeout = servers::help_mentions(&path, "--timeout");
            Ok(Stage {
                name,
                path,
                takes_timeout,
            })
        })
        .collect()
}

/// The stage crates of the workspace: its folders named `stage…`, in
/// course order.
pub(crate) fn stage_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().join("Cargo.toml").exists())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with("stage"))
        .collect();
    names.sort_by_key(|name| course_order(name));
    names
}

/// The stage binaries beside this one, where there is no workspace to build.
fn binaries_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_none_or(|ext| ext == std::env::consts::EXE_EXTENSION)
        })
        .filter_map(|path| path.file_stem().and_then(OsStr::to_str).map(str::to_string))
        .filter(|name| name.starts_with("stage") && !name.contains('.'))
        .collect();
    names.sort_by_key(|name| course_order(name));
    names.dedup();
    names
}

/// Sorts `stage10-x` after `stage9-y`: by the stage's number, then its name.
fn course_order(name: &str) -> (u32, String) {
    (stage_number(name).unwrap_or(u32::MAX), name.to_string())
}

/// The number of a stage in the course: 3 for `stage3-threads`.
pub(crate) fn stage_number(name: &str) -> Option<u32> {
    name.trim_start_matches("stage")
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

pub(crate) fn select(available: Vec<String>, wanted: &[String]) -> anyhow::Result<Vec<String>> {
    if available.is_empty() {
        bail!("found no stage binaries to run");
    }
    if wanted.is_empty() {
        return Ok(available);
    }
    wanted
        .iter()
        .map(|want| {
            // `stage4` is enough to name `stage4-timeouts`, if no other
            // stage starts so.
            if let Some(exact) = available.iter().find(|name| *name == want) {
                return Ok(exact.clone());
            }
            let matches: Vec<&String> = available
                .iter()
                .filter(|name| name.starts_with(&format!("{want}-")))
                .collect();
            // `stage3` names the course's stage 3, the one exercise 3 leads
            // to, before the lessons and detours built on it.
            let on_the_path = matches.iter().find(|name| {
                crate::exercises::ALL
                    .iter()
                    .any(|exercise| exercise.stage == name.as_str())
            });
            match (matches.as_slice(), on_the_path) {
                ([one], _) | (_, Some(one)) => Ok((*one).clone()),
                ([], None) => Err(anyhow!(
                    "no stage is named {want:?}; the stages are: {}",
                    available.join(", ")
                )),
                (several, None) => {
                    let names: Vec<&str> = several.iter().map(|name| name.as_str()).collect();
                    Err(anyhow!(
                        "{want:?} names several stages: {}; say which",
                        names.join(", ")
                    ))
                }
            }
        })
        .collect()
}
