//! Replays the book's transcripts against the stages. A ```text block that
//! shows real output has a marker right above it: either the scenario that
//! produced it,
//!
//! ```text
//! <!-- replay: server stage2-accept-loop
//! A connects
//! A sends "hello from A\n"
//! wait for "hello from A\n"
//! -->
//! ```
//!
//! or `<!-- not replayed: REASON -->`. [`Scenario::replay`] runs a scenario
//! against the real binaries, and [`Shown::matches`] compares what they
//! printed with the block, both [normalised](normalise) first.
//!
//! In the block, a line `... N lines "PATTERN" ...` stands for exactly N
//! lines that each contain PATTERN, once normalised (`PORT` there stands
//! for any port); `... at most N lines "PATTERN" ...` for up to N such
//! lines, where the count depends on the machine more than on the stage.
//! Any other line that starts with `...` stands for any lines left out,
//! none or more: what the block only sketches.
//!
//! Four layers, one a module, each using only those above it:
//!
//! - [`markers`]: finds the ```text blocks of a page (with
//!   [`book::fences`](crate::book::fences), the scanner every test of the
//!   pages shares) and the marker above each.
//! - [`scenario`]: parses a marker's steps into a [`Scenario`].
//! - [`running`]: runs a scenario against the binaries, and collects what
//!   it shows.
//! - [`matching`]: normalises both texts and compares them line by line.
//!
//! The steps, one a line (the first may follow `replay:`):
//!
//! - `server STAGE ARGS...`: starts the stage on 127.0.0.1:0 (the harness adds
//!   `--addr`); the block is its log. `--log-file /dev/stdout 2>file` logs
//!   on stdout and sends stderr (the clients' bytes) to a file, as a learner
//!   does with `2>received.txt`.
//! - `ulimit -n N`: the next server gets at most N open files (Unix).
//! - `A connects`, `A sends "TEXT"` (`\n`, `\r`, `\t`, `\\`, `\"` escaped),
//!   `A closes`, `A is closed by the server` (waits for the end of the stream):
//!   a client named A.
//! - `wait for "TEXT"`: waits until the log shows TEXT after what the last
//!   wait found: the log is read in order, as a learner reads it.
//! - `pause DURATION`: lets time pass, as a learner who types a line a second
//!   does. Part of what is shown, never a wait for something to happen.
//! - `Ctrl-C`: SIGINT to the server (Unix).
//! - `server exits`: waits until it exits; the block then shows all its log
//!   and `exit status: N`, as the shell says it. Without it, the block shows
//!   the log up to the end of the line the last wait found.
//! - `run workshop ARGS...`: runs the workshop in the background (with
//!   `--addr` of the server, if one runs; `target/debug/` names the folder of
//!   the binaries), and shows its output, stdout and stderr as a terminal
//!   interleaves them, instead of the server's log; with a
//!   `$ cargo run -q -p workshop -- ARGS` line before it when the block
//!   shows its commands so. `2>/dev/null` at the end shows only stdout (the
//!   report, without the progress). The scenario's end waits for every run,
//!   a minute at most (and the harness's patience).
//! - `start workshop ARGS...`: the same, not shown; killed at the end.
//! - `measured "TEXT * TEXT"`: the figure at `*` is a measurement (memory, a
//!   count of retries): not compared.
//! - `only on unix`, `only on linux`: the scenario needs it (signals,
//!   `ulimit`, splice(2)); elsewhere it is skipped, saying so.

mod markers;
mod matching;
mod running;
mod scenario;

pub use markers::{Block, Marker, text_blocks};
pub use matching::{Shown, normalise};
pub use scenario::Scenario;
