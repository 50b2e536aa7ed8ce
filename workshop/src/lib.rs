//! The workshop tool: what an instructor and the learners use around the
//! stages, with nothing else to install.
//!
//! - [`client`]: `workshop client`, a line client for machines without `nc`,
//!   and scripted clients for demos.
//! - [`compare`]: `workshop compare`, every stage run through the same
//!   scenarios, with what each did as a table and timelines ([`report`]).
//! - [`load`]: `workshop load`, a bounded load generator for loopback.
//! - [`stages`]: finding (or building) the stage binaries, and running one
//!   as a child process whose stderr is watched.
//! - [`process`]: a process's memory and threads, read from `/proc`.

pub mod client;
pub mod compare;
pub mod load;
pub mod process;
pub mod report;
pub mod stages;

use std::time::Duration;

/// Formats a duration as a learner reads it: `0.31s`, `12ms`.
pub fn seconds(duration: Duration) -> String {
    if duration < Duration::from_millis(100) {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{:.2}s", duration.as_secs_f64())
    }
}
