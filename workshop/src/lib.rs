//! The workshop tool: what an instructor and the learners use around the
//! stages, with nothing else to install.
//!
//! Its layers, each a folder, each using only layers listed after it (no
//! two import each other):
//!
//! - [`commands`]: one module per subcommand, its arguments checked and
//!   its work put in order: `bench`, `compare`, `load`, `check` (with
//!   `--watch`), `hint`/`progress`/`solution`/`reset` ([`commands::learn`]),
//!   `diff` and `client`.
//! - [`render`]: the model's data as text, apart from measuring it: the
//!   one table writer (Markdown or plain text), the bench's table, JSON
//!   lines and SVG chart, and `compare`'s verdicts, crowd and timelines.
//! - [`measure`]: the measurements, a fresh server through a scenario: the
//!   bench's runs and `compare`'s scenarios, as the model's data.
//! - [`load`]: generating load, bounded in count and time: connections
//!   held, floods of bytes, connections made and closed.
//! - [`processes`]: finding and building the servers, starting them as the
//!   harness does, and what `/proc` and the kernel say of them; the limit
//!   on open files.
//! - [`exercises`]: the exercises, their starters made from the stages, and
//!   the learner's record.
//! - [`model`]: the data measured and reported, typed: the bench's samples
//!   (written as JSON lines and read back), `compare`'s observations.
//! - [`output`] and [`units`], which every layer may use: stdout and stderr
//!   (either may be closed under the workshop), progress, the files written
//!   whole or not at all; figures as a learner reads and types them.

pub mod commands;
pub mod exercises;
pub mod load;
pub mod measure;
pub mod model;
pub mod output;
pub mod processes;
pub mod render;
pub mod units;
