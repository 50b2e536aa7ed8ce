//! The book quotes the stages' code. Each quote is marked with a line
//! `<!-- quote: PATH -->` just above its ```rust block, and must appear in
//! PATH exactly as written: when a stage changes, this test says which quote
//! to update, so the course's prose and its code cannot drift apart.
//!
//! (The quotes are copies, not mdBook's `{{#include}}`: the chapters then
//! read whole as plain Markdown on the repository's host too.)

use std::fs;

use harness::book::{self, Page};

const MARKER: &str = "<!-- quote: ";

struct Quote {
    page: String,
    path: String,
    code: String,
}

#[test]
fn every_rust_block_in_the_book_is_quoted_from_its_source_file() {
    let root = book::root();
    let pages = book::pages();
    let mut quotes = Vec::new();
    for page in &pages {
        let on_this_page = quotes_on(page);
        let rust_blocks = book::fences(&page.text)
            .iter()
            .filter(|fence| fence.language == "rust")
            .count();
        assert_eq!(
            rust_blocks,
            on_this_page.len(),
            "a ```rust block in {} has no quote marker",
            page.path
        );
        quotes.extend(on_this_page);
    }
    for Quote { page, path, code } in &quotes {
        let source = fs::read_to_string(root.join(path))
            .unwrap_or_else(|err| panic!("{page} quotes {path}, which cannot be read: {err}"));
        // Whole lines: a quote that begins or ends within a line of the
        // source would quote what the source does not say.
        assert!(
            format!("\n{source}").contains(&format!("\n{code}")),
            "{page} quotes lines that are no longer in {path}; copy them again from the source:\n{code}"
        );
    }
}

/// Every stage of the workspace has its chapter, named after it, and the
/// chapter quotes the stage: a new stage without one fails here.
#[test]
fn every_stage_has_a_chapter_that_quotes_its_main() {
    let pages = book::pages();
    let stages = book::stages();
    assert!(stages.len() >= 5, "found only {stages:?}");
    for stage in stages {
        let chapter = format!("book/src/{stage}.md");
        let page = pages
            .iter()
            .find(|page| page.path == chapter)
            .unwrap_or_else(|| panic!("{stage} has no chapter: {chapter}"));
        let main = format!("{stage}/src/main.rs");
        assert!(
            quotes_on(page).iter().any(|quote| quote.path == main),
            "{chapter} quotes nothing from {main}"
        );
    }
}

/// Every marked block of a page: the path after the marker, and the lines
/// of the ```rust block right below it.
fn quotes_on(page: &Page) -> Vec<Quote> {
    let markers = page
        .text
        .lines()
        .filter(|line| line.starts_with(MARKER))
        .count();
    let mut quotes = Vec::new();
    for fence in book::fences(&page.text) {
        let Some(path) = fence
            .line_above()
            .and_then(|line| line.strip_prefix(MARKER))
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        assert_eq!(
            fence.language, "rust",
            "{}: the quote of {path} must be a ```rust block right below its marker",
            page.path
        );
        quotes.push(Quote {
            page: page.path.clone(),
            path: path.to_string(),
            code: fence.code,
        });
    }
    assert_eq!(
        quotes.len(),
        markers,
        "{}: a quote marker must sit right above its ```rust block",
        page.path
    );
    quotes
}
