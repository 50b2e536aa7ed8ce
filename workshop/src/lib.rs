//! The workshop tool: what an instructor and the learners use around the
//! stages, with nothing else to install.
//!
//! Its layers, each a folder, each using only those listed after it:
//!
//! - [`commands`]: one module per subcommand, its arguments checked and
//!   its work put in order: `bench`, `compare`, `load`, `check` (with
//!   `--watch`), `hint`/`progress`/`solution`/`reset` ([`commands::learn`]),
//!   `diff` and `client`.
//! - [`render`]: the model's data as text: the bench's table, its JSON
//!   lines and its SVG chart; `compare`'s verdicts, crowd and timelines.
//! - [`measure`]: the measurements, a fresh server through a scenario: the
//!   bench's runs and `compare`'s scenarios.
//! - [`load`]: generating load, bounded in count and time: connections
//!   held, floods of bytes, connections made and closed.
//! - [`processes`]: finding and building the servers, starting them as the
//!   harness does, and what `/proc` and the kernel say of them.
//! - [`model`]: the data measured and reported.
//! - [`exercises`]: the exercises, their starters made from the stages, and
//!   the learner's record.
//! - [`output`] and [`units`], which every layer uses: stdout and stderr
//!   (either may be closed under the workshop), progress, the files written
//!   whole; figures as a learner reads and types them.

pub mod commands;
pub mod exercises;
pub mod load;
pub mod measure;
pub mod model;
pub mod output;
pub mod processes;
pub mod render;
pub mod units;

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
