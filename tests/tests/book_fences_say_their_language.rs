//! Every fenced block of the README and the book says its language, and
//! only one the tests know: a ```rust block is checked against its source
//! (`book_quotes_match_the_sources`), a ```text block is replayed or says
//! why not (`book_transcripts_replay_against_the_stages`), a ```sh block
//! holds commands for the learner to type. A ```rust,ignore or ```console
//! block would escape both checks unseen; here it fails instead.

use harness::book;

/// The languages a fence may say, each with the test that reads it.
const KNOWN: [&str; 3] = ["rust", "sh", "text"];

#[test]
fn every_fence_says_a_language_the_tests_check() {
    let mut unknown = Vec::new();
    for page in book::pages() {
        for fence in book::fences(&page.text) {
            if !KNOWN.contains(&fence.language) {
                unknown.push(format!(
                    "{}:{}: ```{}",
                    page.path, fence.line, fence.language
                ));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "fences whose language is none of {KNOWN:?}, so no test reads them:\n{}",
        unknown.join("\n")
    );
}
