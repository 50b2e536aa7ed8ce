//! Step 1, graceful shutdown: on Ctrl-C, SIGTERM or SIGHUP, stop accepting
//! at once, let the open connections finish for up to the grace period, then
//! tell them to close, and wait until they have. A `CancellationToken` (from
//! tokio-util) says "stop" to everyone who holds a copy; a `TaskTracker`
//! counts the connections' tasks so that `main` can wait for them. This is
//! what tokio's own graceful-shutdown example uses.

use std::time::Duration;

use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Asks for Ctrl-C (SIGINT) and, on Unix, SIGTERM (what `kill` and service
/// managers send) and SIGHUP (the terminal or SSH session it ran in was
/// closed), and returns a token that the first one cancels; a second SIGINT
/// or SIGTERM ends the process at once, with status 1 (giving stderr its
/// two seconds at exit, if it is stuck). Until a program asks for them,
/// these signals just kill it. (After SIGHUP the terminal is gone: what the
/// server writes to it is lost, and the connections still finish. Under
/// `nohup`, SIGHUP stays ignored.)
pub fn on_signals() -> CancellationToken {
    let shutdown = CancellationToken::new();
    #[cfg(unix)]
    let (mut interrupt, mut terminate, mut hangup) = {
        use common::OrExit;
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).or_exit("cannot ask for SIGINT"),
            signal(SignalKind::terminate()).or_exit("cannot ask for SIGTERM"),
            // Started with `nohup`, the server is meant to outlive its
            // terminal: asking for SIGHUP would undo that.
            (!hangup_is_ignored())
                .then(|| signal(SignalKind::hangup()).or_exit("cannot ask for SIGHUP")),
        )
    };
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        loop {
            #[cfg(unix)]
            let signal = tokio::select! {
                _ = interrupt.recv() => "Ctrl-C (SIGINT)",
                _ = terminate.recv() => "SIGTERM",
                () = received(&mut hangup) => "SIGHUP",
            };
            #[cfg(not(unix))]
            let signal = match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(_) => return,
            };
            if !cancel.is_cancelled() {
                log::info!("{signal}: shutting down (a second Ctrl-C ends the server at once)");
                cancel.cancel();
            } else if signal != "SIGHUP" {
                log::warn!("{signal} again: exiting now, without waiting for the connections");
                // Not std::process::exit: on Windows that ends the stderr
                // writer before it has written the line above.
                common::exit(1);
            }
            // A closed terminal sends SIGHUP more than once (the kernel, then
            // the shell to its jobs): a second one is no one's impatience.
        }
    });
    shutdown
}

/// Whether SIGHUP is ignored, as `nohup` leaves it.
#[cfg(unix)]
fn hangup_is_ignored() -> bool {
    let mut current = std::mem::MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: with no new action given, sigaction only writes the current
    // one into `current`, which is read only if it succeeded.
    unsafe {
        libc::sigaction(libc::SIGHUP, std::ptr::null(), current.as_mut_ptr()) == 0
            && current.assume_init().sa_sigaction == libc::SIG_IGN
    }
}

/// The next `signal`, if it was asked for; otherwise never.
#[cfg(unix)]
async fn received(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Waits for the open connections to finish, for at most `grace`; then
/// cancels `grace_over`, which tells each to copy what its client already
/// sent and close, and waits until they have.
pub async fn finish_connections(
    connections: TaskTracker,
    grace: Duration,
    grace_over: CancellationToken,
) {
    // No more connections will be spawned: `wait` can end.
    connections.close();
    log::info!(
        "shutting down; open connections: {}, with {} to finish",
        connections.len(),
        humantime::format_duration(grace)
    );
    if timeout(grace, connections.wait()).await.is_err() {
        log::info!(
            "grace period over; closing the open connections: {}",
            connections.len()
        );
        grace_over.cancel();
        connections.wait().await;
    }
}
