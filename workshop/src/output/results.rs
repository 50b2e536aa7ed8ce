//! The bench's `results.jsonl`, written run by run so that an interrupted
//! bench loses nothing it measured, nor the last complete run's files.

use std::path::{Path, PathBuf};

use crate::model::bench::Sample;
use crate::render;

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
    pub fn start(out: &Path) -> Result<Results, String> {
        std::fs::create_dir_all(out)
            .map_err(|err| format!("cannot create {}: {err}", out.display()))?;
        let partial = out.join("results.jsonl.partial");
        let cannot = |path: &Path, err| format!("cannot write {}: {err}", path.display());
        let probe = out.join(format!("results.jsonl.probe-{}", std::process::id()));
        std::fs::File::create(&probe).map_err(|err| cannot(&probe, err))?;
        let _ = std::fs::remove_file(&probe);
        // One left read-only is not replaced: opened, not truncated.
        if partial.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&partial)
                .map_err(|err| cannot(&partial, err))?;
        }
        Ok(Results {
            out: out.to_path_buf(),
            partial,
            lines: String::new(),
        })
    }

    /// Adds a run's line; the first replaces what an earlier run left.
    pub fn add(&mut self, sample: &Sample) -> Result<(), String> {
        self.lines += &render::jsonl::line(sample);
        self.lines.push('\n');
        std::fs::write(&self.partial, &self.lines)
            .map_err(|err| format!("cannot write {}: {err}", self.partial.display()))
    }

    pub fn finish(self) -> Result<(), String> {
        let path = self.out.join("results.jsonl");
        std::fs::rename(&self.partial, &path)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))
    }
}
