//! The model: the data the workshop measures and reports, apart from how
//! it is measured ([`crate::measure`]) and how it is shown
//! ([`crate::render`]).
//!
//! - [`bench`]: the bench's scenarios and its samples, one per run.
//! - [`compare`]: `workshop compare`'s plan, and what each stage did.

pub mod bench;
pub mod compare;
