//! The top layer, the subcommands, one module each: their arguments,
//! checked, and the order of the work; the work itself is in the layers
//! below (see the crate's documentation).

pub mod bench;
pub mod check;
pub mod client;
pub mod compare;
pub mod diff;
pub mod learn;
pub mod load;
