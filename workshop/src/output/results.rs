//! The bench's files: `results.jsonl`, written run by run so that an
//! interrupted bench loses nothing it measured, nor the last complete
//! run's files; and the files made from it at the end (`table.md`,
//! `memory.svg`), each written whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// `results.jsonl`, one line per run. Each run's line is written as the run
/// ends, to `results.jsonl.partial` beside it, which replaces it once every
/// run is done: an interrupted bench keeps what it measured there, and
/// leaves the last complete run's files as they were. The partial file is
/// first written with the first result: until then, what an interrupted
/// run left in it stays, whatever stops this one (a mistyped `--only`, a
/// stage that does not build).
pub struct Results {
    out: PathBuf,
    partial: PathBuf,
    lines: String,
}

impl Results {
    /// Makes the folder, and checks that it can be written with a file of
    /// another name, made and removed: the partial file is not touched.
    pub fn start(out: &Path) -> anyhow::Result<Results> {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let partial = out.join("results.jsonl.partial");
        let cannot = |path: &Path| format!("cannot write {}", path.display());
        let probe = out.join(format!("results.jsonl.probe-{}", std::process::id()));
        std::fs::File::create(&probe).with_context(|| cannot(&probe))?;
        let _ = std::fs::remove_file(&probe);
        // One left read-only is not replaced: opened, not truncated.
        if partial.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&partial)
                .with_context(|| cannot(&partial))?;
        }
        Ok(Results {
            out: out.to_path_buf(),
            partial,
            lines: String::new(),
        })
    }

    /// Adds a run's line (without its line end); the first replaces what
    /// an earlier run left.
    pub fn add(&mut self, line: &str) -> anyhow::Result<()> {
        self.lines += line;
        self.lines.push('\n');
        std::fs::write(&self.partial, &self.lines)
            .with_context(|| format!("cannot write {}", self.partial.display()))
    }

    /// Writes `others`, each a file's name and text, beside `results.jsonl`,
    /// each to a `.partial` file first; once all are written, each replaces
    /// its file, `results.jsonl` last. A file that cannot be written leaves
    /// the last run's files as they were (and what this one measured in
    /// `results.jsonl.partial`); none is ever left half-written.
    pub fn finish(self, others: &[(&str, &str)]) -> anyhow::Result<()> {
        let mut written: Vec<(PathBuf, PathBuf)> = Vec::new();
        for (name, text) in others {
            let path = self.out.join(name);
            let partial = self.out.join(format!("{name}.partial"));
            if let Err(err) = std::fs::write(&partial, text) {
                let _ = std::fs::remove_file(&partial);
                for (partial, _) in &written {
                    let _ = std::fs::remove_file(partial);
                }
                return Err(err).with_context(|| format!("cannot write {}", path.display()));
            }
            written.push((partial, path));
        }
        written.push((self.partial, self.out.join("results.jsonl")));
        for (partial, path) in written {
            std::fs::rename(&partial, &path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Results;

    /// A folder of its own for `name`, emptied, with the last run's files.
    fn last_run(name: &str) -> std::path::PathBuf {
        let out =
            std::env::temp_dir().join(format!("workshop-results-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        for file in ["results.jsonl", "table.md", "memory.svg"] {
            std::fs::write(out.join(file), "last run\n").unwrap();
        }
        out
    }

    fn files(out: &std::path::Path) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(out)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.is_file())
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    /// Finished, the three files are this run's, and no partial file is
    /// left.
    #[test]
    fn finished_every_file_is_replaced_and_no_partial_is_left() {
        let out = last_run("finished");
        let mut results = Results::start(&out).unwrap();
        results.add("{}").unwrap();
        results
            .finish(&[("table.md", "| table |\n"), ("memory.svg", "<svg/>\n")])
            .unwrap();
        assert_eq!(
            files(&out),
            [
                ("memory.svg".to_string(), "<svg/>\n".to_string()),
                ("results.jsonl".to_string(), "{}\n".to_string()),
                ("table.md".to_string(), "| table |\n".to_string()),
            ]
        );
        std::fs::remove_dir_all(&out).unwrap();
    }

    /// A file that cannot be written leaves the last run's three as they
    /// were, and what this run measured in `results.jsonl.partial`.
    #[test]
    fn a_file_that_cannot_be_written_leaves_the_last_runs_files() {
        let out = last_run("unwritable");
        // A folder in the way of the chart's partial file.
        std::fs::create_dir(out.join("memory.svg.partial")).unwrap();
        let mut results = Results::start(&out).unwrap();
        results.add("{}").unwrap();
        let err = results
            .finish(&[("table.md", "| table |\n"), ("memory.svg", "<svg/>\n")])
            .unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "cannot write {}",
                out.join("memory.svg").display()
            )),
            "{err}"
        );
        assert_eq!(
            files(&out),
            [
                ("memory.svg".to_string(), "last run\n".to_string()),
                ("results.jsonl".to_string(), "last run\n".to_string()),
                ("results.jsonl.partial".to_string(), "{}\n".to_string()),
                ("table.md".to_string(), "last run\n".to_string()),
            ]
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}
