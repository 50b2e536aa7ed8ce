//! The test harness every stage's tests use: each stage runs as a real process,
//! on a free loopback port, with real TCP clients, and the tests wait on what
//! the server prints rather than on the clock.
//!
//! - [`Server`] starts a stage binary, waits for its `listening on ADDR` line,
//!   collects its stderr, and kills it when dropped, also when a test panics.
//!   The workshop runs every server it starts with it too.
//! - [`checks`] are what each stage must show, observed from outside as
//!   any server shows it: `workshop check` judges a learner's server by them.
//! - [`listening`] (Linux) finds where a process listens from outside it,
//!   for a server that logs no address.
//! - [`client`] has what a test does as a client: connect, wait until the
//!   server hangs up, reset a connection.
//! - [`scenarios`] are the behaviours stages 2 to 4 share, which
//!   [`copy_to_stderr_tests!`] adds to a stage's tests.
//! - With the `commands` feature, for the tests only (it brings assert_cmd):
//!   `interface_tests!` adds the command-line tests every stage must pass,
//!   and checks the length of its [`listen_queue`]; `command::run` runs a
//!   command that exits, such as `--help`; `workshop` has what the
//!   workshop's tests share.
//! - [`book`] lists the course's pages, for the tests that keep what they
//!   show true to the sources; [`replay`] replays the output they show
//!   against the stages.

pub mod book;
pub mod checks;
pub mod client;
#[cfg(feature = "commands")]
pub mod command;
#[cfg(feature = "commands")]
pub mod interface;
pub mod listen_queue;
pub mod listening;
pub mod replay;
pub mod scenarios;
mod server;
#[cfg(feature = "commands")]
pub mod workshop;

pub use server::{
    Exited, NotStarted, Server, ServerBuilder, Starting, die_with_this_process,
    says_its_port_is_in_use,
};
#[cfg(unix)]
pub use server::{end_every_server, limit_open_files};

use std::cell::Cell;
use std::time::Duration;

/// How long any wait in a test lasts at most before it fails and says what it
/// saw. Generous, because a loaded 2-core machine can stall a process for a
/// while; a passing test never waits this long.
pub const PATIENCE: Duration = Duration::from_secs(10);

thread_local! {
    static THIS_THREADS_PATIENCE: Cell<Duration> = const { Cell::new(PATIENCE) };
}

/// How long a wait on this thread lasts at most: [`PATIENCE`], unless
/// [`with_patience`] says otherwise.
pub fn patience() -> Duration {
    THIS_THREADS_PATIENCE.with(Cell::get)
}

/// Runs `f` with every wait on this thread bounded by `patience` instead:
/// a check that judges a learner's server must answer quickly when the
/// server is wrong, too.
pub fn with_patience<T>(patience: Duration, f: impl FnOnce() -> T) -> T {
    /// Puts the patience back, also when `f` panics (a failing check).
    struct Restore(Duration);
    impl Drop for Restore {
        fn drop(&mut self) {
            THIS_THREADS_PATIENCE.with(|cell| cell.set(self.0));
        }
    }
    let _restore = Restore(THIS_THREADS_PATIENCE.with(|cell| cell.replace(patience)));
    f()
}

/// A `RUST_LOG` that logs nothing but the `listening on ADDR` line, which
/// tells a test the port (env_logger keeps only the messages matching what
/// follows the `/`): stderr then holds that line and the clients' bytes.
pub const ONLY_THE_LISTENING_LINE: &str = "info/^listening on ";
