//! Waiting for a learner to save a file, as `workshop check --watch` does
//! between checks (the `notify` crate: inotify, FSEvents or
//! ReadDirectoryChangesW, whichever the system has).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

/// An editor saves in several steps (a file written aside, renamed, its
/// backup removed): the changes that come this close together are one.
const SETTLE: Duration = Duration::from_millis(300);

/// The changes to the files under a folder, from the moment it is made:
/// a file saved while a check runs is seen once the check is over.
pub struct Saves {
    folder: PathBuf,
    changed: mpsc::Receiver<Vec<PathBuf>>,
    /// Watches for as long as it lives.
    _watcher: RecommendedWatcher,
}

impl Saves {
    /// Starts watching `folder` and everything under it.
    pub fn under(folder: &Path) -> anyhow::Result<Saves> {
        let (changes, changed) = mpsc::channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // Reading a file (cargo does, to build it) is no change.
                // (Not an `if let ... &&` chain: the course builds with Rust 1.85.)
                let changed = event.ok().filter(|event| {
                    matches!(
                        event.kind,
                        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                    )
                });
                if let Some(event) = changed {
                    let _ = changes.send(event.paths);
                }
            })
            .context("cannot watch for changes")?;
        watcher
            .watch(folder, RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {}", folder.display()))?;
        Ok(Saves {
            folder: folder.to_path_buf(),
            changed,
            _watcher: watcher,
        })
    }

    /// Waits until a file is written, created or removed, unless one was
    /// since the last call, and returns one that was: a file still there
    /// (not an editor's temporary file, renamed over it) where there is one.
    pub fn next(&self) -> anyhow::Result<PathBuf> {
        let mut paths = self
            .changed
            .recv()
            .with_context(|| format!("stopped watching {}", self.folder.display()))?;
        while let Ok(more) = self.changed.recv_timeout(SETTLE) {
            paths.extend(more);
        }
        Ok(paths
            .into_iter()
            .find(|path| path.is_file())
            .unwrap_or_else(|| self.folder.clone()))
    }
}
