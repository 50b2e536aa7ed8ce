//! Finds the ```text blocks of a page and the marker right above each.

use super::Scenario;
use crate::book::{self, Page};

/// A ```text block of a page, and what its marker says of it.
pub struct Block {
    pub page: String,
    /// The line of the opening ```text, counted from 1.
    pub line: usize,
    pub marker: Marker,
    pub text: String,
}

pub enum Marker {
    Replay(Scenario),
    NotReplayed(String),
    Missing,
}

/// Every ```text block of `page`, with its marker.
pub fn text_blocks(page: &Page) -> Vec<Block> {
    book::fences(&page.text)
        .into_iter()
        .filter(|fence| fence.language == "text")
        .map(|fence| {
            let place = format!("{}:{}", page.path, fence.line);
            let above: Vec<&str> = fence.above.lines().collect();
            Block {
                page: page.path.clone(),
                line: fence.line,
                marker: marker_above(&above, &place),
                text: fence.code,
            }
        })
        .collect()
}

/// The marker that ends right above a block, if any.
fn marker_above(above: &[&str], place: &str) -> Marker {
    if !above.last().is_some_and(|line| line.ends_with("-->")) {
        return Marker::Missing;
    }
    let Some(start) = above.iter().rposition(|line| line.starts_with("<!--")) else {
        return Marker::Missing;
    };
    let comment = above[start..].join("\n");
    let comment = comment["<!--".len()..comment.len() - "-->".len()].trim();
    if let Some(reason) = comment.strip_prefix("not replayed:") {
        return Marker::NotReplayed(reason.trim().to_string());
    }
    match comment.strip_prefix("replay:") {
        Some(steps) => Marker::Replay(Scenario::parse(steps, place)),
        None => Marker::Missing,
    }
}
