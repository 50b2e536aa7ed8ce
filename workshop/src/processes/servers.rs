//! Running the servers' programs: starting a server (a stage, a Go
//! program, a learner's) as the harness runs it (`harness::Server`), a
//! child process on a free loopback port, with its stderr watched and
//! timed, killed when dropped; and asking a program what its `--help` says.

use std::io::Read as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::anyhow;
use harness::{NotStarted, Server, ServerBuilder};

use crate::processes::stages::Stage;
use crate::units::seconds;

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
pub async fn start(name: &str, how: ServerBuilder) -> anyhow::Result<Server> {
    // Spawned on this thread, which lives as long as the runtime does: the
    // kernel kills the server when the thread that started it ends, and a
    // thread of tokio's blocking pool ends after a few idle seconds.
    let starting = how
        .quietly()
        .spawn()
        .map_err(|why| anyhow!(did_not_start(name, why)))?;
    blocking(move || starting.listening())
        .await
        .map_err(|why| anyhow!(did_not_start(name, why)))
}

/// Runs `work`, which blocks (it builds, or runs a program and waits for
/// it), on tokio's pool for blocking work, so that the runtime's threads go
/// on with their tasks meanwhile; a panic in it goes on here.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
}

/// Whether `path --help` mentions `flag`. A program that does not answer
/// `--help` within two seconds (it may be serving instead) does not.
pub fn help_mentions(path: &Path, flag: &str) -> bool {
    let Ok(mut child) = std::process::Command::new(path)
        .arg("--help")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    // Read on a thread of its own, which ends when the program closes its
    // stdout: the wait for it is bounded, and wakes as soon as it is done.
    let mut stdout = child.stdout.take().expect("piped");
    let (read, help) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = read.send(text);
    });
    let answered = help.recv_timeout(Duration::from_secs(2));
    if answered.is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
    answered.is_ok_and(|help| help.contains(flag))
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
