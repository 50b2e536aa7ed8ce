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

/// The workspace's stage crates, the folders named `stage…` with a
/// `src/main.rs`, sorted by name: each has its chapter and its picture.
pub fn stages() -> Vec<String> {
    let root = root();
    let mut stages: Vec<String> = fs::read_dir(&root)
        .unwrap_or_else(|err| panic!("{}: {err}", root.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("stage") && root.join(name).join("src/main.rs").is_file())
        .collect();
    stages.sort();
    stages
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

/// A fenced code block of a page, as Markdown reads it: from a line that
/// starts with ``` (blanks before it allowed) to the next line that is ```
/// alone, or to the end of the page.
pub struct Fence<'a> {
    /// The line of the opening fence, counted from 1.
    pub line: usize,
    /// What the opening fence says after its backticks (`rust`, `text`,
    /// `rust,ignore`), blanks trimmed; empty when it says nothing.
    pub language: &'a str,
    /// The page above the opening fence, up to the end of the line before it.
    pub above: &'a str,
    /// The lines between the fences, each ending in `\n`.
    pub code: String,
}

impl Fence<'_> {
    /// The line right above the opening fence, if there is one.
    pub fn line_above(&self) -> Option<&str> {
        self.above.lines().next_back()
    }
}

/// Every fenced code block of `markdown`, in order. The one scanner of the
/// tests that read the pages, so that a block one of them sees, all see.
pub fn fences(markdown: &str) -> Vec<Fence<'_>> {
    let mut fences = Vec::new();
    let mut start = 0;
    let mut lines = markdown.split_inclusive('\n').enumerate();
    while let Some((at, line)) = lines.next() {
        let opening = line.trim();
        let line_start = start;
        start += line.len();
        let Some(language) = opening.strip_prefix("```") else {
            continue;
        };
        let mut code = String::new();
        for (_, inside) in lines.by_ref() {
            start += inside.len();
            if inside.trim() == "```" {
                break;
            }
            code += inside.trim_end_matches(['\n', '\r']);
            code += "\n";
        }
        fences.push(Fence {
            line: at + 1,
            language: language.trim_start_matches('`').trim(),
            above: &markdown[..line_start],
            code,
        });
    }
    fences
}

/// The lines of `markdown` outside its fenced code blocks: its prose,
/// headings and links, as the same scanner as [`fences`] sees them.
pub fn prose_lines(markdown: &str) -> Vec<&str> {
    let mut in_code = false;
    let mut prose = Vec::new();
    for line in markdown.lines() {
        let fence = match in_code {
            false => line.trim().starts_with("```"),
            true => line.trim() == "```",
        };
        if fence {
            in_code = !in_code;
        } else if !in_code {
            prose.push(line);
        }
    }
    prose
}
