//! Many connections' tasks, so many at a time, gathered until a deadline:
//! what they gave, how the others failed, and how many it stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::model::load::{CutShort, Failed};
use crate::output::progress::Progress;
use crate::processes::limits;

/// What a set of tasks gave, as far as they got.
pub(crate) struct Gathered<T> {
    /// What the tasks that succeeded returned.
    pub(crate) done: Vec<T>,
    /// How the others failed.
    pub(crate) failures: Failures,
    /// How many had not ended when the deadline stopped them...
    pub(crate) unfinished: usize,
    /// ...of which so many were still waiting for their turn.
    pub(crate) not_started: usize,
}

impl<T> Gathered<T> {
    /// The tasks the deadline stopped: those at work and those that had
    /// not begun.
    pub(crate) fn cut_short(&self) -> CutShort {
        CutShort {
            running: self.unfinished - self.not_started,
            waiting: self.not_started,
        }
    }
}

/// Lets tasks run so many at a time, and counts those that got their turn.
pub(crate) struct Turns {
    permits: Semaphore,
    taken: AtomicUsize,
}

impl Turns {
    pub(crate) fn new(at_once: usize) -> Arc<Turns> {
        Arc::new(Turns {
            permits: Semaphore::new(at_once.max(1)),
            taken: AtomicUsize::new(0),
        })
    }

    /// Waits for a turn, which lasts as long as what this returns.
    pub(crate) async fn take(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let permit = self.permits.acquire().await.ok();
        self.taken.fetch_add(1, Ordering::Relaxed);
        permit
    }
}

/// Waits for every task, showing `what: done of total` as they end, or
/// until `deadline`, when the rest are stopped; returns what the tasks gave.
pub(crate) async fn gather<T: 'static>(
    mut tasks: tokio::task::JoinSet<std::io::Result<T>>,
    turns: &Turns,
    what: &str,
    total: usize,
    deadline: tokio::time::Instant,
) -> Gathered<T> {
    let mut progress = Progress::new();
    let mut done = Vec::with_capacity(total);
    let mut failures = Failures::default();
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
        match joined {
            Ok(Ok(value)) => done.push(value),
            Ok(Err(err)) => failures.add(&err),
            Err(join) => failures.add(&std::io::Error::other(join)),
        }
        progress.show(&format!(
            "{what}: {} of {total}",
            done.len() + failures.count()
        ));
    }
    progress.done();
    let unfinished = tasks.len();
    // Stops what is left, and waits until it has stopped: a task that runs
    // on, on another thread, would add to the figures after they are read.
    tasks.shutdown().await;
    Gathered {
        unfinished,
        not_started: total.saturating_sub(turns.taken.load(Ordering::Relaxed)),
        done,
        failures,
    }
}

/// What went wrong how often, such as `3 connection refused`.
#[derive(Default)]
pub(crate) struct Failures {
    kinds: Failed,
    /// Whether a connection found no file descriptor, and whose ran out.
    pub(crate) out_of_files: Option<limits::OutOfFiles>,
    /// How many found none.
    ran_out: usize,
}

impl Failures {
    fn add(&mut self, err: &std::io::Error) {
        // Rust names EMFILE `uncategorized error`: say what it is.
        let what = match limits::out_of_files(err) {
            Some(out) => {
                self.out_of_files = Some(out);
                self.ran_out += 1;
                out.to_string()
            }
            None => err.kind().to_string(),
        };
        *self.kinds.kinds.entry(what).or_default() += 1;
    }

    /// How many failed for want of a file descriptor.
    pub(crate) fn ran_out(&self) -> usize {
        self.ran_out
    }

    pub(crate) fn count(&self) -> usize {
        self.kinds.count()
    }

    /// `3 connection refused`, or `none`.
    pub(crate) fn describe(&self) -> String {
        self.kinds.to_string()
    }

    /// How many of each kind, as the model keeps them.
    pub(crate) fn kinds(&self) -> Failed {
        self.kinds.clone()
    }
}
