//! The bench's `results.jsonl`, written run by run so that an interrupted
//! bench loses nothing it measured, nor the last complete run's files.

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

    pub fn finish(self) -> anyhow::Result<()> {
        let path = self.out.join("results.jsonl");
        std::fs::rename(&self.partial, &path)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}
