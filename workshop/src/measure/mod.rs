//! The measure layer, the measurements: servers started fresh, put through
//! a scenario with [`crate::load`] or scripted clients, and what they did,
//! as the data of [`crate::model`]. Nothing here parses arguments or draws
//! a table.
//!
//! - [`bench`](mod@bench): one bench run (memory held, throughput, accept rate).
//! - [`compare`]: `workshop compare`'s scenarios and crowd.
//! - [`load`]: `workshop load`'s load, timed, and the server's memory.

pub mod bench;
pub mod compare;
pub mod load;
