//! The workshop tool: what an instructor and the learners use around the
//! stages, with nothing else to install.
//!
//! Its layers, each a folder, each using only layers listed after it (no
//! two import each other):
//!
//! - [`commands`]: one module per subcommand, its arguments checked and
//!   its work put in order: `bench`, `compare`, `load`, `check` (with
//!   `--watch`), `hint`/`progress`/`solution`/`reset` ([`commands::learn`]),
//!   `diff` and `client`.
//! - [`render`]: the model's data as text, apart from measuring it: the
//!   one table writer (Markdown or plain text), the bench's table, JSON
//!   lines and SVG chart, and `compare`'s verdicts, crowd and timelines,
//!   and its timelines as an SVG per stage.
//! - [`measure`]: the measurements, a fresh server through a scenario: the
//!   bench's runs and `compare`'s scenarios, as the model's data.
//! - [`load`]: generating load, bounded in count and time: connections
//!   held, floods of bytes, connections made and closed.
//! - [`processes`]: finding and building the servers, starting them as the
//!   harness does, and what `/proc` and the kernel say of them; the limit
//!   on open files.
//! - [`exercises`]: the exercises, their starters made from the stages, and
//!   the learner's record.
//! - [`model`]: the data measured and reported, typed: the bench's samples
//!   (written as JSON lines and read back), `compare`'s observations
//!   (kept as `compare.json` and read back).
//! - [`output`] and [`units`], which every layer may use: stdout and stderr
//!   (either may be closed under the workshop), progress, the files written
//!   whole or not at all; figures as a learner reads and types them.

pub mod commands;
pub mod exercises;
pub mod load;
pub mod measure;
pub mod model;
pub mod output;
pub mod processes;
pub mod render;
pub mod units;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The layers, each a folder, top to bottom: each may use those after
    /// it, and `output` and `units` are for every layer.
    const LAYERS: [&str; 7] = [
        "commands",
        "render",
        "measure",
        "load",
        "processes",
        "exercises",
        "model",
    ];
    const FOR_EVERY_LAYER: [&str; 2] = ["output", "units"];
    /// `output`'s macros, exported at the crate's root.
    const MACROS: [&str; 4] = ["say", "sayln", "tell", "tellln"];

    /// The first name of every path after `crate::` in `text`, braces
    /// unfolded: `crate::{model::bench, say}` uses `model` and `say`.
    fn crate_paths(text: &str) -> Vec<String> {
        let mut used = Vec::new();
        for (at, _) in text.match_indices("crate::") {
            // `$crate::` is a macro's own path, not a use.
            if text[..at].ends_with('$') {
                continue;
            }
            let rest = &text[at + "crate::".len()..];
            match rest.strip_prefix('{') {
                Some(group) => {
                    let mut depth = 0;
                    let mut start = 0;
                    for (i, c) in group.char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => {
                                used.push(first_name(&group[start..i]));
                                break;
                            }
                            '}' => depth -= 1,
                            ',' if depth == 0 => {
                                used.push(first_name(&group[start..i]));
                                start = i + 1;
                            }
                            _ => {}
                        }
                    }
                }
                None => used.push(first_name(rest)),
            }
        }
        used.retain(|name| !name.is_empty());
        used
    }

    fn first_name(path: &str) -> String {
        path.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    }

    fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }

    /// Every folder uses only the layers below it (and output and units):
    /// the layering the crate's documentation describes stays true.
    #[test]
    fn each_layer_uses_only_the_layers_below_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut wrong = Vec::new();
        for (index, layer) in LAYERS.iter().enumerate() {
            let allowed: Vec<&str> = LAYERS[index..]
                .iter()
                .chain(&FOR_EVERY_LAYER)
                .chain(&MACROS)
                .copied()
                .collect();
            let mut files = Vec::new();
            rust_files(&src.join(layer), &mut files);
            assert!(!files.is_empty(), "no files in src/{layer}");
            for file in files {
                // Code only: a doc comment may point anywhere.
                let code: String = std::fs::read_to_string(&file)
                    .unwrap()
                    .lines()
                    .filter(|line| !line.trim_start().starts_with("//"))
                    .map(|line| line.to_string() + "\n")
                    .collect();
                for used in crate_paths(&code) {
                    if !allowed.contains(&used.as_str()) {
                        let file = file.strip_prefix(&src).unwrap().display().to_string();
                        wrong.push(format!("{file} uses crate::{used}"));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn paths_are_read_through_braces() {
        assert_eq!(
            crate_paths(
                "use crate::{model::bench::{self, Sample}, say};\nlet x = crate::units::mib(1); $crate::output::write"
            ),
            ["model", "say", "units"]
        );
    }
}
