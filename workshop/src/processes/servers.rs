//! Starting a server (a stage, a Go program, a learner's) as the harness
//! runs it (`harness::Server`): a child process on a free loopback port,
//! with its stderr watched and timed, killed when dropped.

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
    let listening = tokio::task::spawn_blocking(move || starting.listening()).await;
    listening
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
        .map_err(|why| anyhow!(did_not_start(name, why)))
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
