//! The README quotes the stages' code. Each quote is marked with a line
//! `<!-- quote: PATH -->` just above its ```rust block, and must appear in
//! PATH exactly as written: when a stage changes, this test says which quote
//! to update, so the course's prose and its code cannot drift apart.

use std::fs;
use std::path::Path;

const MARKER: &str = "<!-- quote: ";

struct Quote {
    path: String,
    code: String,
}

#[test]
fn every_rust_block_in_the_readme_is_quoted_from_its_source_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let quotes = quotes(&readme);

    let rust_blocks = readme.lines().filter(|line| *line == "```rust").count();
    assert_eq!(
        rust_blocks,
        quotes.len(),
        "a ```rust block in the README has no quote marker"
    );
    // Every stage of the workspace has its chapter, and every chapter quotes
    // its stage: a new stage without one fails here.
    let mut stages: Vec<String> = fs::read_dir(root)
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("stage") && root.join(name).join("src/main.rs").exists())
        .collect();
    stages.sort();
    assert!(stages.len() >= 5, "found only {stages:?}");
    for stage in stages {
        let main = format!("{stage}/src/main.rs");
        assert!(
            quotes.iter().any(|quote| quote.path == main),
            "the README quotes nothing from {main}"
        );
    }
    for Quote { path, code } in &quotes {
        let source = fs::read_to_string(root.join(path))
            .unwrap_or_else(|err| panic!("the README quotes {path}, which cannot be read: {err}"));
        assert!(
            source.contains(code.as_str()),
            "the README quotes lines that are no longer in {path}; copy them again from the source:\n{code}"
        );
    }
}

/// Every marked block: the path after the marker, and the lines of the
/// ```rust block right below it.
fn quotes(readme: &str) -> Vec<Quote> {
    let mut quotes = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix(MARKER)
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        assert_eq!(
            lines.next(),
            Some("```rust"),
            "the quote of {path} must be a ```rust block right below its marker"
        );
        let code: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
        quotes.push(Quote {
            path: path.to_string(),
            code: code.join("\n") + "\n",
        });
    }
    quotes
}
