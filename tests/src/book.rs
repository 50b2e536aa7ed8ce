//! The course's pages, for the tests that keep them true: the README and
//! every chapter of the book in `book/src/`.

use std::fs;
use std::path::{Path, PathBuf};

/// The workspace's root folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness lives in a folder of the workspace")
        .to_path_buf()
}

/// A page of the course: where it is, from the root (`book/src/stage1-listener.md`),
/// and its text.
pub struct Page {
    pub path: String,
    pub text: String,
}

/// The README and every Markdown file under `book/src/`, in a stable order,
/// but for the tables `workshop bench` writes beside its results in
/// `book/src/bench/`: data the chapters show, not pages.
pub fn pages() -> Vec<Page> {
    let root = root();
    let mut paths = vec![root.join("README.md")];
    markdown_under(&root.join("book/src"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| Page {
            text: fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display())),
            path: path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/"),
        })
        .collect()
}

fn markdown_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("book/src/bench") {
                markdown_under(&path, found);
            }
        } else if path.extension().is_some_and(|extension| extension == "md") {
            found.push(path);
        }
    }
}
