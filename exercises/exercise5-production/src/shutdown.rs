//! Step 1, graceful shutdown: on Ctrl-C, SIGTERM or SIGHUP, stop accepting
//! at once, let the open connections finish for up to the grace period, then
//! tell them to close, and wait until they have. A `CancellationToken` (from
//! tokio-util) says "stop" to everyone who holds a copy; a `TaskTracker`
//! counts the connections' tasks so that `main` can wait for them. This is
//! what tokio's own graceful-shutdown example uses.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Returns a token that Ctrl-C (SIGINT) and, on Unix, SIGTERM cancel.
///
/// ✎ Step 1: today nothing cancels it, and those signals kill the server.
/// Ask for them here, and cancel the token from a task of its own.
pub fn on_signals() -> CancellationToken {
    CancellationToken::new()
}

/// Waits for the open connections to finish, for at most `grace`; then
/// cancels `grace_over`, which tells each to copy what its client already
/// sent and close, and waits until they have.
pub async fn finish_connections(
    connections: TaskTracker,
    _grace: Duration,
    _grace_over: CancellationToken,
) {
    // ✎ Step 1: today the server exits at once, and the open connections
    // are cut off. Wait for them, for at most `grace`; then cancel
    // `grace_over` and wait until they have closed. (The `_` before a
    // name tells Rust it is not used yet: take it off when you use it.)
    connections.close();
}
