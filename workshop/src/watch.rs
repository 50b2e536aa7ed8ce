//! Waiting for a learner to save a file, as `workshop check --watch` does
//! between checks (the `notify` crate: inotify, FSEvents or
//! ReadDirectoryChangesW, whichever the system has).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

/// An editor saves in several steps (a file written aside, renamed, its
/// backup removed): the changes that come this close together are one.
const SETTLE: Duration = Duration::from_millis(300);

/// Waits until a file under `folder` is written, created or removed, and
/// returns one that was: a file still there (not an editor's temporary
/// file, renamed over it) where there is one.
pub fn until_a_change(folder: &Path) -> Result<PathBuf, String> {
    let (changes, changed) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reading a file (cargo does, to build it) is no change.
        if let Ok(event) = event
            && matches!(
                event.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
            )
        {
            let _ = changes.send(event.paths);
        }
    })
    .map_err(|err| format!("cannot watch for changes: {err}"))?;
    watcher
        .watch(folder, RecursiveMode::Recursive)
        .map_err(|err| format!("cannot watch {}: {err}", folder.display()))?;
    let mut paths = changed
        .recv()
        .map_err(|_| format!("stopped watching {}", folder.display()))?;
    while let Ok(more) = changed.recv_timeout(SETTLE) {
        paths.extend(more);
    }
    Ok(paths
        .into_iter()
        .find(|path| path.is_file())
        .unwrap_or_else(|| folder.to_path_buf()))
}
