//! The workshop tool: what an instructor and the learners use around the
//! stages, with nothing else to install.
//!
//! - [`client`]: `workshop client`, a line client for machines without `nc`,
//!   and scripted clients for demos.
//! - [`compare`]: `workshop compare`, every stage run through the same
//!   scenarios, with what each did as a table and timelines ([`report`]),
//!   also as Markdown notes in a file ([`notes`]).
//! - [`load`]: `workshop load`, a bounded load generator for loopback.
//! - [`bench`](mod@bench): `workshop bench`, memory, throughput and accept rate of every
//!   concurrent server (the Go seed's included), in rounds, with a chart.
//! - [`check`]: `workshop check`, a learner's exercise (or any server)
//!   judged by a stage's checks, again on every save with `--watch`
//!   ([`watch`]).
//! - [`diff`](mod@diff): `workshop diff`, the lesson between two stages (or an
//!   exercise and a stage), with the changes to comments only left out.
//! - [`exercises`]: the exercises, their starters made from the stages, and
//!   the learner's record; [`learn`]: `workshop hint`, `progress`,
//!   `solution` and `reset`.
//! - [`workspace`]: where the course's workspace and its binaries are, and
//!   building its crates with cargo, whose warnings are counted.
//! - [`stages`]: finding (or building) the stage binaries, and starting one
//!   (or any server) as the harness does, a child process whose stderr is
//!   watched (`harness::Server`).
//! - [`process`]: a process's memory and threads, read from `/proc`.
//! - [`limits`]: the limit on open files, raised at start, and running out.
//! - [`progress`] and [`units`]: how long work and figures are shown.
//! - [`output`]: the report on stdout and what the workshop tells on stderr,
//!   either of which may be closed under it.

pub mod bench;
pub mod check;
pub mod client;
pub mod compare;
pub mod diff;
pub mod exercises;
pub mod learn;
pub mod limits;
pub mod load;
pub mod notes;
pub mod output;
pub mod process;
pub mod progress;
pub mod report;
pub mod sock_diag;
pub mod stages;
pub mod units;
pub mod watch;
pub mod workspace;

pub use units::seconds;

use std::io::ErrorKind;

use tokio::net::TcpStream;

/// Whether the server has closed `stream`, as far as the runtime has seen,
/// without waiting: the end of the stream or an error is waiting to be read.
/// (No stage writes to its clients, so there are no bytes to lose here.)
pub fn already_closed(stream: &TcpStream) -> bool {
    match stream.try_read(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => err.kind() != ErrorKind::WouldBlock,
    }
}
