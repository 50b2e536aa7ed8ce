//! `workshop diff`: the lesson between two stages (or an exercise and a
//! stage), as a unified diff of their sources, with the changes to comments
//! only left out, as `diff -I '^ *//'` leaves them out, on every system and
//! with no `diff` to install.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Context;
use similar::udiff::UnifiedDiffHunk;
use similar::{DiffOp, DiffTag, TextDiff};

use crate::exercises::read_if_there;
use crate::processes::{stages, workspace};
use crate::{exercises, say, sayln};

/// Lines of unchanged code shown around each change.
const CONTEXT: usize = 3;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The stage (or exercise) to diff from, by name or prefix as `compare --stages` takes it: stage2, stage3-lean-copy, exercise3
    #[arg(value_name = "STAGE_A")]
    pub from: String,

    /// The stage (or exercise) to diff to
    #[arg(value_name = "STAGE_B")]
    pub to: String,
}

/// `workshop diff`: what changed from one crate's `src/` to the other's,
/// every Rust file of either, with the changes in which every changed line
/// is a comment (or blank) left out and counted at the top.
pub fn run(args: DiffArgs) -> anyhow::Result<()> {
    let root = workspace::root().context(
        "the stages' sources are in the course's workspace: run this as `cargo run -q -p workshop -- diff ...` from it",
    )?;
    let wanted = [args.from, args.to].map(|name| {
        // A folder, as a shell completes it, names its crate too.
        let name = name.trim_end_matches(['/', '\\']);
        let name = ["exercises/", "exercises\\"]
            .iter()
            .find_map(|folder| name.strip_prefix(folder))
            .unwrap_or(name);
        name.to_string()
    });
    let names = stages::select(crate_names(&root), &wanted)?;
    let [from, to] = [&names[0], &names[1]].map(|name| Crate::new(&root, name));
    let diff = diff_crates(&from, &to)?;
    let left_out = match diff.left_out {
        0 => String::new(),
        n => format!(" (changes to comments only left out: {n})"),
    };
    if diff.text.is_empty() {
        sayln!(
            "No difference in code between {} and {}{left_out}.",
            from.name,
            to.name
        );
    } else {
        sayln!("From {} to {}{left_out}:", from.name, to.name);
        say!("{}", diff.text);
    }
    Ok(())
}

/// A crate whose sources are diffed: a stage, or an exercise.
struct Crate {
    name: String,
    folder: PathBuf,
}

impl Crate {
    fn new(root: &Path, name: &str) -> Crate {
        let folder = match exercises::ALL.iter().find(|e| e.name == name) {
            Some(exercise) => exercise.folder(root),
            None => root.join(name),
        };
        Crate {
            name: name.to_string(),
            folder,
        }
    }

    /// How its file `path` is named in the diff: from the workspace.
    fn shows(&self, path: &str) -> String {
        if exercises::ALL.iter().any(|e| e.name == self.name) {
            format!("exercises/{}/{path}", self.name)
        } else {
            format!("{}/{path}", self.name)
        }
    }
}

/// The names `workshop diff` takes: the workspace's stage folders (those
/// with a `Cargo.toml`), in course order, and the exercises.
fn crate_names(root: &Path) -> Vec<String> {
    let mut names = stages::stage_names(root);
    names.extend(exercises::ALL.iter().map(|e| e.name.to_string()));
    names
}

/// A diff of two crates, and how many changes it left out.
#[derive(Debug, Default)]
struct Diff {
    text: String,
    left_out: usize,
}

/// Every `src/**/*.rs` file either crate has, diffed; one only on one side
/// is shown as added or removed whole.
fn diff_crates(from: &Crate, to: &Crate) -> anyhow::Result<Diff> {
    let mut paths = rust_files(&from.folder)?;
    paths.extend(rust_files(&to.folder)?);
    paths.sort();
    paths.dedup();
    let mut diff = Diff::default();
    for path in paths {
        // A file only one crate has is read as none on the other side.
        let old = read_if_there(&from.folder.join(&path))?;
        let new = read_if_there(&to.folder.join(&path))?;
        let name = |side: &Crate, text: &Option<String>| match text {
            Some(_) => side.shows(&path),
            None => format!("{} (no such file)", side.shows(&path)),
        };
        let header = [name(from, &old), name(to, &new)];
        let file = diff_file(
            old.as_deref().unwrap_or(""),
            new.as_deref().unwrap_or(""),
            &header,
        );
        diff.text.push_str(&file.text);
        diff.left_out += file.left_out;
    }
    Ok(diff)
}

/// The unified diff of one file, from `old` to `new`, under `header`. As
/// `diff -I '^ *//'` does, a change (a run of changed lines) in which every
/// changed line is a comment or blank is left out; changes to code a few
/// lines apart share a hunk, which shows any change to comments between
/// them. (Unlike GNU diff's, a hunk's context holds no change to comments
/// alone: the doc comment at the top stays out of a hunk that changes the
/// `use` lines below it.)
fn diff_file(old: &str, new: &str, header: &[String; 2]) -> Diff {
    // A checkout with Windows line ends on one side only is not a lesson.
    let (old, new) = (old.replace("\r\n", "\n"), new.replace("\r\n", "\n"));
    let diff = TextDiff::from_lines(&old, &new);
    let ops = diff.ops();
    let comments_only = |run: &Range<usize>| {
        ops[run.clone()]
            .iter()
            .flat_map(|op| diff.iter_changes(op))
            .all(|change| is_comment_or_blank(change.value()))
    };
    let (code, comments): (Vec<_>, Vec<_>) = changes(ops)
        .into_iter()
        .partition(|run| !comments_only(run));
    let shown_hunks = hunks(ops, &code);
    let shown = |run: &Range<usize>| {
        shown_hunks
            .iter()
            .any(|hunk| hunk.start <= run.start && run.end <= hunk.end)
    };
    let mut text = String::new();
    if !shown_hunks.is_empty() {
        text = format!("--- {}\n+++ {}\n", header[0], header[1]);
    }
    for hunk in &shown_hunks {
        let mut hunk_ops = Vec::new();
        hunk_ops.extend(
            hunk.start
                .checked_sub(1)
                .and_then(|i| equal_part(&ops[i], End::Last)),
        );
        hunk_ops.extend_from_slice(&ops[hunk.clone()]);
        hunk_ops.extend(ops.get(hunk.end).and_then(|op| equal_part(op, End::First)));
        text.push_str(&UnifiedDiffHunk::new(hunk_ops, &diff, true).to_string());
    }
    // Counted as the hunks they would have made: the places left out.
    let hidden: Vec<Range<usize>> = comments.into_iter().filter(|run| !shown(run)).collect();
    Diff {
        text,
        left_out: hunks(ops, &hidden).len(),
    }
}

/// The changes among `ops`: each run of ops that are not `Equal`, as the
/// range of their indices.
fn changes(ops: &[DiffOp]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if op.tag() == DiffTag::Equal {
            continue;
        }
        match runs.last_mut() {
            Some(run) if run.end == i => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// The hunks that show the changes `shown` (in order), as ranges of
/// indices of `ops`: changes fewer than two contexts apart share one.
fn hunks(ops: &[DiffOp], shown: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut hunks: Vec<Range<usize>> = Vec::new();
    for run in shown {
        match hunks.last_mut() {
            Some(hunk)
                if ops[run.start].old_range().start - ops[hunk.end - 1].old_range().end
                    <= 2 * CONTEXT =>
            {
                hunk.end = run.end
            }
            _ => hunks.push(run.clone()),
        }
    }
    hunks
}

/// Which end of an unchanged stretch is a hunk's context.
enum End {
    First,
    Last,
}

/// The context a hunk takes from the unchanged stretch `op`: its first or
/// last few lines.
fn equal_part(op: &DiffOp, end: End) -> Option<DiffOp> {
    let DiffOp::Equal {
        old_index,
        new_index,
        len,
    } = *op
    else {
        return None;
    };
    let n = len.min(CONTEXT);
    let skip = match end {
        End::First => 0,
        End::Last => len - n,
    };
    (n > 0).then_some(DiffOp::Equal {
        old_index: old_index + skip,
        new_index: new_index + skip,
        len: n,
    })
}

/// A line `diff -I '^ *//'` ignores (`//`, `///`, `//!` after indentation),
/// or a blank one.
fn is_comment_or_blank(line: &str) -> bool {
    let line = line.trim_start();
    line.is_empty() || line.starts_with("//")
}

/// The paths of the `.rs` files under `folder`'s `src/`, from `folder`,
/// with `/` between their parts on every system.
fn rust_files(folder: &Path) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut folders = vec![folder.join("src")];
    while let Some(dir) = folders.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read {}", dir.display()))?
                .path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path.strip_prefix(folder).unwrap_or(&path);
                let parts: Vec<String> = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.push(parts.join("/"));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> [String; 2] {
        ["a/src/main.rs".to_string(), "b/src/main.rs".to_string()]
    }

    #[test]
    fn a_change_to_comments_only_is_left_out_and_counted() {
        let old = "//! Stage 2\n\nfn main() {\n    // waits\n    serve().await;\n}\n";
        let new = "//! Stage 3\n\nfn main() {\n    // waits\n    serve().await;\n}\n";
        let diff = diff_file(old, new, &header());
        assert_eq!((diff.text.as_str(), diff.left_out), ("", 1));
    }

    #[test]
    fn a_change_to_code_shows_with_the_comments_beside_it() {
        let old = "fn main() {\n    // waits\n    serve().await;\n}\n";
        let new = "fn main() {\n    // does not wait\n    tokio::spawn(serve());\n}\n";
        let diff = diff_file(old, new, &header());
        assert_eq!(diff.left_out, 0);
        assert_eq!(
            diff.text,
            "--- a/src/main.rs\n+++ b/src/main.rs\n@@ -1,4 +1,4 @@\n fn main() {\n-    // waits\n-    serve().await;\n+    // does not wait\n+    tokio::spawn(serve());\n }\n"
        );
    }

    #[test]
    fn a_comment_far_from_the_code_that_changed_is_left_out_of_its_hunk() {
        let body = "    a();\n    b();\n    c();\n    d();\n    e();\n    f();\n    g();\n";
        let old = format!("//! Stage 2\nuse x;\n\nfn main() {{\n{body}    wait();\n}}\n");
        let new = format!("//! Stage 3\nuse x;\n\nfn main() {{\n{body}    spawn();\n}}\n");
        let diff = diff_file(&old, &new, &header());
        assert_eq!(diff.left_out, 1);
        assert_eq!(
            diff.text,
            "--- a/src/main.rs\n+++ b/src/main.rs\n@@ -9,5 +9,5 @@\n     e();\n     f();\n     g();\n-    wait();\n+    spawn();\n }\n"
        );
    }

    #[test]
    fn a_comment_changed_apart_from_code_is_left_out_even_in_its_context() {
        let old = "// one\nfn a() {}\nfn b() {}\n";
        let new = "// two\nfn a() {}\nfn c() {}\n";
        let diff = diff_file(old, new, &header());
        assert_eq!(diff.left_out, 1);
        assert_eq!(
            diff.text,
            "--- a/src/main.rs\n+++ b/src/main.rs\n@@ -2,2 +2,2 @@\n fn a() {}\n-fn b() {}\n+fn c() {}\n"
        );
    }

    #[test]
    fn a_comment_changed_between_two_nearby_changes_to_code_shows_in_their_hunk() {
        let old = "fn a() {}\nfn k() {}\n// one\nfn l() {}\nfn b() {}\n";
        let new = "fn x() {}\nfn k() {}\n// two\nfn l() {}\nfn y() {}\n";
        let diff = diff_file(old, new, &header());
        assert_eq!(diff.left_out, 0);
        assert!(diff.text.contains("\n-// one\n+// two\n"), "{}", diff.text);
    }

    #[test]
    fn a_file_on_one_side_only_is_added_whole() {
        let diff = diff_file("", "//! New\nfn main() {}\n", &header());
        assert_eq!(diff.left_out, 0);
        assert!(
            diff.text
                .contains("@@ -0,0 +1,2 @@\n+//! New\n+fn main() {}\n"),
            "{}",
            diff.text
        );
    }

    #[test]
    fn windows_line_ends_on_one_side_are_no_change() {
        let diff = diff_file("fn main() {}\n", "fn main() {}\r\n", &header());
        assert_eq!((diff.text.as_str(), diff.left_out), ("", 0));
    }
}
