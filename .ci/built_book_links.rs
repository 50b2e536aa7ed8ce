//! Every link in the BUILT book leads somewhere, and nothing it loads needs the
//! network. The Markdown's links are checked by `cargo test`
//! (tests/tests/book_links_lead_somewhere.rs); this reads what mdBook made of
//! them, theme included: every `href` and `src` to a local file resolves
//! inside the book, every `#fragment` is an `id` on the page it names, every
//! `url(...)` in a stylesheet resolves, and no script, stylesheet, font,
//! image or frame comes from another host, so the book reads the same from a
//! USB stick in a classroom without Wi-Fi.
//!
//! Standard library only, compiled by `.ci/run` with plain `rustc`: CI has
//! Rust and nothing else we can count on.
//!
//! Usage: built_book_links BOOK_DIR

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(book) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: built_book_links BOOK_DIR");
        return ExitCode::from(2);
    };
    let Ok(book) = book.canonicalize() else {
        eprintln!("{}: no such folder; was the book built?", book.display());
        return ExitCode::FAILURE;
    };
    let mut files = Vec::new();
    walk(&book, &mut files);
    let pages: HashMap<PathBuf, String> = files
        .iter()
        .filter(|file| file.extension().is_some_and(|ext| ext == "html"))
        .map(|file| {
            (
                file.clone(),
                fs::read_to_string(file).expect("an HTML page"),
            )
        })
        .collect();
    if pages.is_empty() {
        eprintln!("{}: no HTML pages; was the book built?", book.display());
        return ExitCode::FAILURE;
    }
    let ids: HashMap<&Path, HashSet<String>> = pages
        .iter()
        .map(|(path, html)| {
            let ids = tags(html)
                .flat_map(|tag| tag.attributes)
                .filter(|(name, _)| name == "id")
                .map(|(_, value)| value)
                .collect();
            (path.as_path(), ids)
        })
        .collect();

    let mut broken = Vec::new();
    let mut checked = 0;
    for (page, html) in &pages {
        for tag in tags(html) {
            for (name, value) in &tag.attributes {
                // `<base href="/">` on 404.html is for a web server, no link.
                if (name != "href" && name != "src") || tag.name == "base" {
                    continue;
                }
                checked += 1;
                let is_navigation = tag.name == "a";
                if let Some(problem) = check(&book, page, value, is_navigation, &ids) {
                    broken.push(format!(
                        "{}: <{} {name}=\"{value}\">: {problem}",
                        shown(&book, page),
                        tag.name
                    ));
                }
            }
        }
    }
    for css in files
        .iter()
        .filter(|file| file.extension().is_some_and(|ext| ext == "css"))
    {
        let text = fs::read_to_string(css).expect("a stylesheet");
        for value in css_urls(&text) {
            checked += 1;
            if let Some(problem) = check(&book, css, &value, false, &ids) {
                broken.push(format!("{}: url({value}): {problem}", shown(&book, css)));
            }
        }
    }

    if broken.is_empty() {
        println!(
            "built book: {checked} links and loads in {} pages and their stylesheets lead somewhere, none to the network",
            pages.len()
        );
        ExitCode::SUCCESS
    } else {
        broken.sort();
        eprintln!(
            "built book: {} broken links or network loads:",
            broken.len()
        );
        for line in &broken {
            eprintln!("  {line}");
        }
        ExitCode::FAILURE
    }
}

/// What is wrong with `value`, found in `from`, or `None` when it leads somewhere.
/// A link the reader follows (`<a href>`) may go to another site; anything the
/// browser loads by itself must come from the book.
fn check(
    book: &Path,
    from: &Path,
    value: &str,
    is_navigation: bool,
    ids: &HashMap<&Path, HashSet<String>>,
) -> Option<String> {
    let value = value.trim();
    if value.starts_with("//") || has_scheme(value) {
        let scheme = value
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        return match scheme.as_str() {
            "data" => None,
            _ if is_navigation => None,
            _ => Some("loaded from outside the book: it needs the network".to_string()),
        };
    }
    let (before_fragment, fragment) = match value.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (value, None),
    };
    // `?search=...` and the like: the page is the part before.
    let file = before_fragment.split('?').next().unwrap_or_default();
    let target = if file.is_empty() {
        from.to_path_buf()
    } else {
        let joined = from.parent().unwrap().join(percent_decode(file));
        let Some(target) = normalise(&joined) else {
            return Some("climbs out of the book".to_string());
        };
        target
    };
    if !target.starts_with(book) {
        return Some("leads out of the book".to_string());
    }
    let target = if target.is_dir() {
        target.join("index.html")
    } else {
        target
    };
    if !target.is_file() {
        return Some("no such file".to_string());
    }
    let fragment = fragment.map(percent_decode).unwrap_or_default();
    if fragment.is_empty() {
        return None;
    }
    match ids.get(target.as_path()) {
        Some(page_ids) if page_ids.contains(&fragment) => None,
        Some(_) => Some(format!("no id \"{fragment}\" in {}", shown(book, &target))),
        None => Some("a #fragment on a file that is no HTML page".to_string()),
    }
}

fn has_scheme(value: &str) -> bool {
    let Some((scheme, _)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// The start tags of an HTML page, with their attributes' values unescaped.
/// Enough HTML for what mdBook writes: comments are skipped, and the text
/// of `<script>` and `<style>` is not read as tags.
fn tags(html: &str) -> impl Iterator<Item = Tag> + '_ {
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            let end = after.find("-->").map_or(after.len(), |end| end + 3);
            rest = &after[end..];
            continue;
        }
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(rest.len());
        if name_len == 0 || !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue; // `</end>`, `<!DOCTYPE`, a stray `<`
        }
        let name = rest[..name_len].to_ascii_lowercase();
        rest = &rest[name_len..];
        let mut attributes = Vec::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() {
                break;
            }
            if let Some(after) = rest.strip_prefix('>') {
                rest = after;
                break;
            }
            let attr_len = rest
                .find(|c: char| c.is_ascii_whitespace() || "=>/".contains(c))
                .unwrap_or(rest.len())
                .max(1);
            let attr = rest[..attr_len].to_ascii_lowercase();
            rest = rest[attr_len..].trim_start();
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                rest = after.trim_start();
                let (raw, after) = match rest.chars().next() {
                    Some(quote @ ('"' | '\'')) => {
                        let inner = &rest[1..];
                        let end = inner.find(quote).unwrap_or(inner.len());
                        (&inner[..end], &inner[(end + 1).min(inner.len())..])
                    }
                    _ => {
                        let end = rest
                            .find(|c: char| c.is_ascii_whitespace() || c == '>')
                            .unwrap_or(rest.len());
                        (&rest[..end], &rest[end..])
                    }
                };
                value = unescape(raw);
                rest = after;
            }
            attributes.push((attr, value));
        }
        if name == "script" || name == "style" {
            let closing = format!("</{name}");
            let end = rest
                .to_ascii_lowercase()
                .find(&closing)
                .unwrap_or(rest.len());
            rest = &rest[end..];
        }
        return Some(Tag { name, attributes });
    })
}

/// The `url(...)` and `@import "..."` of a stylesheet.
fn css_urls(css: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = css;
    while let Some(start) = rest.find("url(") {
        rest = &rest[start + 4..];
        let end = rest.find(')').unwrap_or(rest.len());
        let url = rest[..end].trim().trim_matches(|c| c == '"' || c == '\'');
        urls.push(url.to_string());
        rest = &rest[end..];
    }
    let mut rest = css;
    while let Some(start) = rest.find("@import") {
        rest = rest[start + 7..].trim_start();
        if let Some(quote @ ('"' | '\'')) = rest.chars().next() {
            let inner = &rest[1..];
            let end = inner.find(quote).unwrap_or(inner.len());
            urls.push(inner[..end].to_string());
        }
    }
    urls
}

fn unescape(raw: &str) -> String {
    raw.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a/./b/../c` as `a/c`, without touching the disk; `None` above the root.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn shown(book: &Path, path: &Path) -> String {
    path.strip_prefix(book)
        .unwrap_or(path)
        .display()
        .to_string()
}
