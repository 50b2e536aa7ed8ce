//! The file `compare --markdown-to` names: checked before the run, so that
//! one that cannot be written is said at once rather than after a minute of
//! comparing; written only once the run is done, so that a run that fails
//! or is stopped (Ctrl-C skips every destructor) leaves what was there
//! before, and no new file, empty or half written.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Where the notes go, checked.
pub struct Notes {
    path: PathBuf,
    into: Destination,
}

enum Destination {
    /// A file, new or replaced: written beside `target`, then renamed over
    /// it, whole or not at all. A symbolic link is followed: the file it
    /// points to is replaced, and the link stays.
    File { target: PathBuf, partial: PathBuf },
    /// Something that is not a plain file (`/dev/stdout`, a pipe): written
    /// in place, open from the start. Renaming over it would replace it.
    InPlace(File),
}

impl Notes {
    /// Checks that `path` can be written, without creating or changing
    /// it: by creating and removing the file the notes are first written
    /// to, beside it.
    pub fn check(path: &Path) -> anyhow::Result<Notes> {
        let cannot = || format!("cannot write {}", path.display());
        let into = match std::fs::metadata(path) {
            Ok(found) if found.is_dir() => {
                bail!("cannot write {}: it is a folder", path.display());
            }
            Ok(found) if !found.is_file() => Destination::InPlace(
                OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(cannot)?,
            ),
            _ => {
                // A file that exists and is read-only is not replaced.
                if path.exists() {
                    OpenOptions::new()
                        .write(true)
                        .open(path)
                        .with_context(cannot)?;
                }
                let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                let partial = partial(&target);
                File::create(&partial).with_context(cannot)?;
                let _ = std::fs::remove_file(&partial);
                Destination::File { target, partial }
            }
        };
        Ok(Notes {
            path: path.to_path_buf(),
            into,
        })
    }

    /// Writes `markdown` as the whole of the notes.
    pub fn write(self, markdown: &str) -> anyhow::Result<()> {
        let cannot = || format!("cannot write {}", self.path.display());
        match self.into {
            Destination::InPlace(mut file) => {
                file.write_all(markdown.as_bytes()).with_context(cannot)
            }
            Destination::File { target, partial } => {
                let written = std::fs::write(&partial, markdown)
                    .and_then(|()| std::fs::rename(&partial, &target));
                if written.is_err() {
                    let _ = std::fs::remove_file(&partial);
                }
                written.with_context(cannot)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `notes.md.partial` for `notes.md`, in the same folder, so that the
/// rename stays on one file system.
fn partial(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    target.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::Notes;

    /// A folder of its own for one test, emptied first.
    fn folder(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("workshop-notes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn files_in(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_notes_appear_only_once_written_and_whole() {
        let dir = folder("new");
        let path = dir.join("notes.md");
        let notes = Notes::check(&path).unwrap();
        assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
        notes.write("| stage |\n").unwrap();
        assert_eq!(files_in(&dir), ["notes.md"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "| stage |\n");
        // Written again, the old notes are replaced whole.
        Notes::check(&path).unwrap().write("new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A link to the notes stays a link; `/dev/null` stays a device.
    #[cfg(unix)]
    #[test]
    fn what_is_not_a_plain_file_is_written_through_not_replaced() {
        let dir = folder("link");
        let real = dir.join("real.md");
        std::fs::write(&real, "old\n").unwrap();
        let link = dir.join("link.md");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        Notes::check(&link).unwrap().write("new\n").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\n");
        assert_eq!(files_in(&dir), ["link.md", "real.md"]);
        std::fs::remove_dir_all(&dir).unwrap();

        let null = std::path::Path::new("/dev/null");
        Notes::check(null).unwrap().write("nothing\n").unwrap();
        assert!(!std::fs::metadata(null).unwrap().is_file());
    }
}
