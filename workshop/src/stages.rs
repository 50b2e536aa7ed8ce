//! The stage binaries: finding them (building them first when this tool runs
//! from the course's workspace), and starting one, or any server, as the
//! harness runs it (`harness::Server`): a child process on a free loopback
//! port, with its stderr watched and timed, killed when dropped.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{NotStarted, Server, ServerBuilder};

use crate::{seconds, workspace};

/// A stage's binary, and whether it takes `--timeout` (stage 4 and later).
#[derive(Clone, Debug)]
pub struct Stage {
    pub name: String,
    pub path: PathBuf,
    pub takes_timeout: bool,
}

/// Finds the stage binaries, all of them or the `wanted` ones (exercises
/// too, by name: `exercise3`), in course order. Run from the workspace (as `cargo run -p workshop` does), it first
/// builds them with cargo, which does nothing when they are up to date; so a
/// fresh clone needs no other step, and an edited stage is compared as edited.
pub fn find(wanted: &[String]) -> Result<Vec<Stage>, String> {
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
                return Err(format!(
                    "cannot find the {name} binary in {}; build it with `cargo build -p {name}`",
                    dir.display()
                ));
            }
            let takes_timeout = help_mentions(&path, "--timeout");
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

pub(crate) fn select(available: Vec<String>, wanted: &[String]) -> Result<Vec<String>, String> {
    if available.is_empty() {
        return Err("found no stage binaries to run".to_string());
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
                ([], None) => Err(format!(
                    "no stage is named {want:?}; the stages are: {}",
                    available.join(", ")
                )),
                (several, None) => {
                    let names: Vec<&str> = several.iter().map(|name| name.as_str()).collect();
                    Err(format!(
                        "{want:?} names several stages: {}; say which",
                        names.join(", ")
                    ))
                }
            }
        })
        .collect()
}

/// Whether `path --help` mentions `flag`. A program that does not answer
/// `--help` within two seconds (it may be serving instead) does not.
fn help_mentions(path: &Path, flag: &str) -> bool {
    let Ok(mut child) = std::process::Command::new(path)
        .arg("--help")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        if let Ok(Some(_)) = child.try_wait() {
            let mut help = String::new();
            let _ =
                std::io::Read::read_to_string(&mut child.stdout.take().expect("piped"), &mut help);
            return help.contains(flag);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

impl Stage {
    /// How the workshop runs this stage: with `args`, on a free port of
    /// 127.0.0.1; [`start`] starts it.
    pub fn server(&self, args: &[String]) -> ServerBuilder {
        Server::builder(&self.path).args(args)
    }
}

/// Starts the server `how` describes and waits until it listens, without
/// holding up the runtime; when it does not, says why in one line, naming it
/// `name`. Its report is the workshop's, so the server is quiet when dropped.
pub async fn start(name: &str, how: ServerBuilder) -> Result<Server, String> {
    // Spawned on this thread, which lives as long as the runtime does: the
    // kernel kills the server when the thread that started it ends, and a
    // thread of tokio's blocking pool ends after a few idle seconds.
    let starting = how
        .quietly()
        .spawn()
        .map_err(|why| did_not_start(name, why))?;
    let listening = tokio::task::spawn_blocking(move || starting.listening()).await;
    listening
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
        .map_err(|why| did_not_start(name, why))
}

/// Why a server did not start, in one line: the first line it said instead
/// (a refused argument, a port in use), which is what matters and is one
/// line itself; or that it said nothing.
fn did_not_start(name: &str, why: NotStarted) -> String {
    let NotStarted::DidNotListen {
        waited_for,
        waited,
        exited,
        output,
    } = why
    else {
        return format!("{name} did not start: {why}");
    };
    match output.lines().map(str::trim).find(|line| !line.is_empty()) {
        // The server's `error: ` would follow the workshop's own.
        Some(line) => format!(
            "{name} did not start: {}",
            line.strip_prefix("error: ").unwrap_or(line)
        ),
        None if exited.is_some() => format!("{name} exited at start, saying nothing"),
        None => format!("{name} did not {waited_for} within {}", seconds(waited)),
    }
}
