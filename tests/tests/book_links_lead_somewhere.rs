//! Every link in the README and the book leads somewhere: to a page or file
//! that exists and, after a `#`, to a heading on that page. Checked on the
//! Markdown, so a learner's `cargo test` catches a broken link without
//! mdBook installed; CI then builds the book and opens it in a browser.

use std::collections::HashSet;
use std::path::Path;

use harness::book;

#[test]
fn every_link_leads_to_a_page_and_a_heading_that_exist() {
    let root = book::root();
    let pages = book::pages();
    let mut broken = Vec::new();
    for page in &pages {
        let folder = Path::new(&page.path).parent().unwrap();
        for target in links(&page.text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let path = if file.is_empty() {
                Path::new(&page.path).to_path_buf()
            } else {
                folder.join(file)
            };
            let path = normalise(&path);
            if page.path.starts_with("book/src/") && !path.starts_with("book/src/") {
                broken.push(format!(
                    "{}: {target} leaves book/src/, which the built book does not hold",
                    page.path
                ));
                continue;
            }
            if !root.join(&path).exists() {
                broken.push(format!("{}: {target}: no such file", page.path));
                continue;
            }
            if let Some(anchor) = anchor {
                let Some(linked) = pages.iter().find(|page| Path::new(&page.path) == path) else {
                    broken.push(format!(
                        "{}: {target}: an anchor in a file that is no page",
                        page.path
                    ));
                    continue;
                };
                if !heading_ids(&linked.text).contains(anchor) {
                    broken.push(format!(
                        "{}: {target}: no heading #{anchor} there",
                        page.path
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The book's table of contents and its folder agree: every chapter listed
/// exists (mdBook would make an empty one), and every page is listed.
#[test]
fn every_page_of_the_book_is_in_its_table_of_contents() {
    let pages = book::pages();
    let summary = pages
        .iter()
        .find(|page| page.path == "book/src/SUMMARY.md")
        .expect("book/src/SUMMARY.md");
    let listed: HashSet<String> = links(&summary.text)
        .into_iter()
        .map(|target| format!("book/src/{target}"))
        .collect();
    for chapter in &listed {
        assert!(
            pages.iter().any(|page| &page.path == chapter),
            "SUMMARY.md lists {chapter}, which does not exist"
        );
    }
    for page in pages
        .iter()
        .filter(|page| page.path.starts_with("book/src/"))
    {
        assert!(
            page.path == summary.path || listed.contains(&page.path),
            "{} is not in book/src/SUMMARY.md: no reader would find it",
            page.path
        );
    }
}

/// The targets of a page's Markdown links and images, outside code.
fn links(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in book::prose_lines(markdown) {
        // Inline code (`[x](y)` shown as code) is no link.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            if let Some(end) = rest.find(')') {
                found.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    found
}

/// The ids mdBook (and the repository's host) give a page's headings: lower
/// case, spaces as `-`, only letters, digits, `-` and `_` kept.
fn heading_ids(markdown: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    for line in book::prose_lines(markdown) {
        if !line.starts_with('#') {
            continue;
        }
        let text = line.trim_start_matches('#').trim();
        let id: String = text
            .chars()
            .filter_map(|ch| {
                if ch.is_alphanumeric() || ch == '-' || ch == '_' {
                    Some(ch.to_ascii_lowercase())
                } else if ch.is_whitespace() {
                    Some('-')
                } else {
                    None
                }
            })
            .collect();
        ids.insert(id);
    }
    ids
}

/// `book/src/../README.md` as `README.md`, without touching the disk.
fn normalise(path: &Path) -> std::path::PathBuf {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            other => parts.push(other.as_os_str()),
        }
    }
    parts.iter().collect()
}
