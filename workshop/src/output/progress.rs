//! Progress of long work, on stderr, so that the report on stdout stays clean.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crate::{tell, tellln};

/// Reports progress of long work on one line of stderr (rewritten in place
/// on a terminal, every so often elsewhere).
pub struct Progress {
    terminal: bool,
    last: Option<Instant>,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    pub fn show(&mut self, message: &str) {
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(2)
        };
        if self.last.is_some_and(|last| last.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        if self.terminal {
            tell!("\r\x1b[2K{message}");
        } else {
            tellln!("{message}");
        }
    }

    pub fn done(&mut self) {
        if self.terminal && self.last.is_some() {
            tell!("\r\x1b[2K");
        }
        self.last = None;
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
