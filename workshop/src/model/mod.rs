//! The model layer, the bottom one: the data the workshop measures and
//! reports, apart from how it is measured ([`crate::measure`]) and how it
//! is shown ([`crate::render`]).
//!
//! - [`bench`](mod@bench): the bench's scenarios and its samples, one per run.
//! - [`compare`]: `workshop compare`'s plan, and what each stage did.
//! - [`load`]: what `workshop load` saw, mode by mode.
//! - [`usage`]: a process's memory and threads.

pub mod bench;
pub mod compare;
pub mod load;
pub mod usage;
