//! Every ```text block of the book that shows real output is checked by
//! replaying it: the scenario in the `<!-- replay: ... -->` marker above it
//! runs against the real binaries, and what they print must be the block,
//! timestamps, ports, measured durations and process ids aside (see
//! `harness::replay`). When a stage changes what it prints, this test says
//! which page and block to update, with both texts. A block that cannot be
//! replayed here says why in a `<!-- not replayed: REASON -->` marker.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;

use harness::book;
use harness::replay::{Block, Marker, text_blocks};

fn blocks() -> Vec<Block> {
    book::pages().iter().flat_map(text_blocks).collect()
}

#[test]
fn every_text_block_in_the_book_is_replayed_or_says_why_not() {
    let mut unmarked = Vec::new();
    for block in blocks() {
        match &block.marker {
            Marker::Missing => unmarked.push(format!("{}:{}", block.page, block.line)),
            Marker::NotReplayed(reason) => assert!(
                reason.len() > 20,
                "{}:{}: say why the block is not replayed",
                block.page,
                block.line
            ),
            Marker::Replay(_) => {}
        }
    }
    assert!(
        unmarked.is_empty(),
        "these ```text blocks have neither a `<!-- replay: ... -->` marker nor a `<!-- not replayed: REASON -->` one right above them: {unmarked:?}"
    );
}

#[test]
fn every_transcript_in_the_book_is_what_the_stages_print_now() {
    let blocks = blocks();
    let mut names: Vec<String> = blocks
        .iter()
        .filter_map(|block| match &block.marker {
            Marker::Replay(scenario) => Some(scenario.binaries()),
            _ => None,
        })
        .flatten()
        .collect();
    names.sort();
    names.dedup();
    let bins = built(&names);
    // All at once: most of a scenario's time is a client's or a deadline's.
    let replays: Vec<_> = blocks
        .into_iter()
        .filter_map(|block| {
            let Marker::Replay(scenario) = block.marker else {
                return None;
            };
            let place = format!("{}:{}", block.page, block.line);
            if let Some(why) = scenario.skipped_here() {
                eprintln!("{place}: skipped, the scenario {why}");
                return None;
            }
            let bins = bins.clone();
            let replay = thread::spawn(move || {
                let commands_shown = block.text.starts_with("$ ");
                let shown = scenario.replay(&bins, commands_shown);
                shown.matches(&block.text)
            });
            Some((place, replay))
        })
        .collect();
    let mut failures = Vec::new();
    for (place, replay) in replays {
        match replay.join() {
            Ok(Ok(())) => {}
            Ok(Err((expected, actual))) => failures.push(format!(
                "{place}: the block shows, normalised:\n{expected}\nwhile the replay printed, normalised:\n{actual}"
            )),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|why| why.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{place}: the replay failed: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Builds `names` with the cargo running this test, in its profile, and
/// returns the folder of the binaries: those of the other crates are not
/// built for this one's tests.
fn built(names: &[String]) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // Test binaries live one folder down, in `deps/`.
    let mut dir = exe.parent().unwrap().to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(book::root()).args(["build", "--quiet"]);
    if dir.ends_with("release") {
        command.arg("--release");
    }
    for name in names {
        command.args(["-p", name]);
    }
    let status = command.status().unwrap();
    assert!(status.success(), "cargo could not build {names:?}");
    assert!(
        Path::new(&dir)
            .join("workshop")
            .with_extension(std::env::consts::EXE_EXTENSION)
            .exists()
            || !names.iter().any(|name| name == "workshop"),
        "cargo built the workshop elsewhere than {}",
        dir.display()
    );
    dir
}
