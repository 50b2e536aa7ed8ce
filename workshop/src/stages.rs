//! The stage binaries: finding them (building them first when this tool runs
//! from the course's workspace), and running one as a child process on a free
//! loopback port, with its stderr watched and timed.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::tellln;

/// How long a stage may take to start listening.
const START_PATIENCE: Duration = Duration::from_secs(10);

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
    let dir = binaries()?;
    let names = match workspace() {
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
            build(&root, &dir, &names)?;
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

/// The folder of the binaries cargo built beside this one, in its profile.
pub(crate) fn binaries() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|err| format!("cannot find this program: {err}"))?;
    // Test binaries live one folder down, in `deps/`.
    let mut dir = exe.parent().unwrap_or(Path::new(".")).to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The course's workspace, when this tool runs from it (as `cargo run -p
/// workshop` does), rather than from a copy of its binary elsewhere.
pub(crate) fn workspace() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .filter(|root| root.join("Cargo.toml").exists())
        .map(Path::to_path_buf)
}

/// The stage crates of the workspace: its folders named `stage…`.
fn stage_names(root: &Path) -> Vec<String> {
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
            match matches.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(format!(
                    "no stage is named {want:?}; the stages are: {}",
                    available.join(", ")
                )),
                several => {
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

/// Builds the crates `names` (stages, exercises) with the cargo that built
/// this tool, in its profile.
pub(crate) fn build(root: &Path, dir: &Path, names: &[String]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(&cargo);
    command.current_dir(root).arg("build").arg("--quiet");
    if dir.ends_with("release") {
        command.arg("--release");
    }
    for name in names {
        command.args(["-p", name]);
    }
    let what = match names {
        [one] => one.clone(),
        _ => "the stages".to_string(),
    };
    tellln!(
        "workshop: building {what} (cargo build -p {})",
        names.join(" -p ")
    );
    let status = command.stdin(Stdio::null()).status().map_err(|err| {
        format!(
            "cannot run cargo ({}) to build {what}: {err}",
            Path::new(&cargo).display()
        )
    })?;
    if !status.success() {
        return Err(format!(
            "cargo could not build {what}; see its messages above"
        ));
    }
    Ok(())
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

/// A stage running as a child process on a free port of 127.0.0.1, killed
/// when dropped. Everything it writes to stderr is kept, with the moment
/// each piece arrived, so that scenarios can tell when the server printed
/// what a client sent.
pub struct RunningStage {
    pub name: String,
    pub addr: SocketAddr,
    pub pid: u32,
    pub stderr: Transcript,
    child: Child,
}

impl RunningStage {
    /// Starts `stage` with `args` and waits for its `listening on ADDR` line.
    /// With `Output::Watched` all its stderr is kept and timed; with
    /// `Output::Discarded` only that line is, and the rest is read and dropped.
    pub async fn start(
        stage: &Stage,
        args: &[String],
        output: Output,
    ) -> Result<RunningStage, String> {
        let mut command = Command::new(&stage.path);
        command
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG_STYLE", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        match output {
            Output::Watched => command.env_remove("RUST_LOG"),
            // Only the `listening on` line: env_logger keeps the messages
            // that match what follows the `/`.
            Output::Discarded => command.env("RUST_LOG", "info/^listening on "),
        };
        harness::die_with_this_process(command.as_std_mut());
        let mut child = command
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", stage.path.display()))?;
        let pid = child.id().unwrap_or_default();
        let stderr = Transcript::default();
        stderr.inner.lock().unwrap().first_line_only = output == Output::Discarded;
        let pipe = child.stderr.take().expect("stderr is piped");
        tokio::spawn(stderr.clone().collect(pipe));
        let addr = stderr
            .wait_for_line_after("listening on ", START_PATIENCE)
            .await
            .and_then(|addr| addr.trim().parse().ok())
            .ok_or_else(|| did_not_start(&stage.name, &stderr))?;
        Ok(RunningStage {
            name: stage.name.clone(),
            addr,
            pid,
            stderr,
            child,
        })
    }

    /// Whether the process has exited, and how.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

/// Why a stage never said `listening on ADDR`, in one line: the first line
/// it said instead (a refused argument, a port in use), which is what
/// matters and is one line itself; or that it said nothing.
fn did_not_start(name: &str, stderr: &Transcript) -> String {
    let said = stderr.text();
    match said.lines().map(str::trim).find(|line| !line.is_empty()) {
        // The stage's `error: ` would follow the workshop's own.
        Some(line) => format!(
            "{name} did not start: {}",
            line.strip_prefix("error: ").unwrap_or(line)
        ),
        None if stderr.closed() => format!("{name} exited at start, saying nothing"),
        None => format!(
            "{name} did not say `listening on ADDR` within {}",
            humantime::format_duration(START_PATIENCE)
        ),
    }
}

/// What to keep of a running stage's stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Watched,
    Discarded,
}

/// A child's stderr as it arrives: the bytes, and when each piece came.
#[derive(Clone)]
pub struct Transcript {
    inner: Arc<Mutex<Received>>,
    grew: watch::Sender<usize>,
}

#[derive(Default)]
struct Received {
    bytes: Vec<u8>,
    /// (length of `bytes` after a piece arrived, when it arrived)
    arrivals: Vec<(usize, Instant)>,
    /// Keep only the first line (the `listening on` line), and drop the rest.
    first_line_only: bool,
    /// The process closed its stderr: it has exited.
    closed: bool,
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript {
            inner: Arc::default(),
            grew: watch::Sender::new(0),
        }
    }
}

impl Transcript {
    async fn collect(self, mut pipe: impl tokio::io::AsyncRead + Unpin) {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = pipe.read(&mut buf).await {
            let len = {
                let mut received = self.inner.lock().unwrap();
                let done = received.first_line_only && received.bytes.contains(&b'\n');
                if !done {
                    received.bytes.extend_from_slice(&buf[..n]);
                    let len = received.bytes.len();
                    received.arrivals.push((len, Instant::now()));
                }
                received.bytes.len()
            };
            self.grew.send_replace(len);
        }
        self.inner.lock().unwrap().closed = true;
        self.grew.send_modify(|_| {});
    }

    /// Whether the process has closed its stderr, which it does by exiting.
    pub fn closed(&self) -> bool {
        self.inner.lock().unwrap().closed
    }

    /// Where `needle` first starts on stderr, to tell what came first.
    pub fn position(&self, needle: &str) -> Option<usize> {
        let received = self.inner.lock().unwrap();
        received
            .bytes
            .windows(needle.len())
            .position(|window| window == needle.as_bytes())
    }

    /// All of stderr so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.inner.lock().unwrap().bytes).into_owned()
    }

    /// When `needle` was first complete on stderr, if it is there yet.
    pub fn seen_at(&self, needle: &str) -> Option<Instant> {
        let received = self.inner.lock().unwrap();
        let needle = needle.as_bytes();
        let start = received
            .bytes
            .windows(needle.len())
            .position(|window| window == needle)?;
        let end = start + needle.len();
        received
            .arrivals
            .iter()
            .find(|(len, _)| *len >= end)
            .map(|(_, at)| *at)
    }

    /// How many times `needle` is on stderr.
    pub fn count(&self, needle: &str) -> usize {
        self.text().matches(needle).count()
    }

    /// Waits up to `within` for `needle`; returns when it arrived.
    pub async fn wait_for(&self, needle: &str, within: Duration) -> Option<Instant> {
        self.wait_until(within, || self.seen_at(needle)).await
    }

    /// Waits up to `within` until `check` finds what it looks for.
    pub async fn wait_until<T>(
        &self,
        within: Duration,
        mut check: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        let mut grew = self.grew.subscribe();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(found) = check() {
                return Some(found);
            }
            if self.closed() {
                return None;
            }
            if tokio::time::timeout_at(deadline, grew.changed())
                .await
                .is_err()
            {
                return check();
            }
        }
    }

    /// Waits for a complete line containing `marker`; returns what follows it.
    async fn wait_for_line_after(&self, marker: &str, within: Duration) -> Option<String> {
        self.wait_until(within, || {
            let text = self.text();
            let rest = &text[text.find(marker)? + marker.len()..];
            rest.find('\n').map(|end| rest[..end].to_string())
        })
        .await
    }
}
