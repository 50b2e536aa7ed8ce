//! The render layer, the renderers: the model's data as text, apart from
//! measuring it. Each takes data and returns a string; none reads the clock
//! or a socket.
//!
//! - [`bench`](mod@bench): the bench's table, and `changes`: what changed
//!   since a baseline run, both Markdown.
//! - [`compare`]: `workshop compare`'s verdicts, crowd and timelines, as
//!   plain text or Markdown.
//! - [`jsonl`]: the bench's results, one JSON line per run.
//! - [`load`]: `workshop load`'s report.
//! - [`pictures`]: `compare`'s timelines as an SVG per stage, for the book.
//! - [`svg`]: the bench's chart of memory against connections held.
//! - [`table`]: the one table writer all of them use, Markdown or text.

pub mod bench;
pub mod compare;
pub mod jsonl;
pub mod load;
pub mod pictures;
pub mod svg;
pub mod table;
