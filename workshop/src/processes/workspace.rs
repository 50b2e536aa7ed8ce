//! The course's Cargo workspace, from the workshop's side: where it is,
//! where cargo puts the binaries, and building crates with cargo, whose
//! messages pass through on their way to the learner, counted.

use std::io::{BufRead, BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};

use crate::tellln;

/// The folder of the binaries cargo built beside this one, in its profile.
pub fn binaries() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find this program")?;
    // Test binaries live one folder down, in `deps/`.
    let mut dir = exe.parent().unwrap_or(Path::new(".")).to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The course's workspace, when this tool runs from it (as `cargo run -p
/// workshop` does), rather than from a copy of its binary elsewhere.
/// `cargo run` says at run time which workspace it ran from: a second
/// checkout sharing a target folder with the first may run the first's
/// binary, which must still judge the second's exercises.
pub fn root() -> Option<PathBuf> {
    // At run time only when it is this crate's (a test of another crate
    // that starts this tool has its own).
    let at_run_time = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.ends_with("workshop"));
    let at_build_time = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    at_run_time
        .into_iter()
        .chain([at_build_time])
        .filter_map(|dir| dir.parent().map(Path::to_path_buf))
        .find(|root| root.join("Cargo.toml").exists())
}

/// The course's workspace, or an error that says where to run from: the
/// exercises are in it.
pub fn root_or_error() -> anyhow::Result<PathBuf> {
    root().context(
        "the exercises are in the course's workspace: run this as `cargo run -q -p workshop -- ...` from it",
    )
}

/// Builds the crates `names` (stages, exercises) with the cargo that built
/// this tool, in its profile.
pub fn build(root: &Path, dir: &Path, names: &[String]) -> anyhow::Result<Warnings> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(&cargo);
    command.current_dir(root).arg("build").arg("--quiet");
    if dir.ends_with("release") {
        command.arg("--release");
    }
    for name in names {
        command.args(["-p", name]);
    }
    // Cargo's messages pass through here, to be counted: in colour where
    // the learner would have seen them so.
    if std::io::stderr().is_terminal() {
        command.arg("--color=always");
    }
    let what = match names {
        [one] => one.clone(),
        _ => format!("{} crates", names.len()),
    };
    tellln!(
        "workshop: building {what} (cargo build -p {})",
        names.join(" -p ")
    );
    let cannot_run = || {
        format!(
            "cannot run cargo ({}) to build {what}",
            Path::new(&cargo).display()
        )
    };
    let mut cargo = command
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(cannot_run)?;
    let mut counting = Counting::default();
    if let Some(messages) = cargo.stderr.take() {
        for line in BufReader::new(messages).split(b'\n').map_while(Result::ok) {
            tellln!("{}", String::from_utf8_lossy(&line));
            counting.line(&line);
        }
    }
    let status = cargo.wait().with_context(cannot_run)?;
    if !status.success() {
        bail!("cargo could not build {what}; see its messages above");
    }
    Ok(counting.warnings)
}

/// Builds crate `name` (an exercise) in the workspace at `root` with cargo,
/// whose messages the learner sees, and returns its binary and how many
/// warnings cargo gave.
pub fn build_one(root: &Path, name: &str) -> anyhow::Result<(PathBuf, Warnings)> {
    let dir = binaries()?;
    let warnings = build(root, &dir, &[name.to_string()])?;
    let bin = dir
        .join(name)
        .with_extension(std::env::consts::EXE_EXTENSION);
    Ok((bin, warnings))
}

/// How many warnings cargo gave about the code it built: it repeats them at
/// each build until the code is mended, so they are always above.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Warnings(pub usize);

/// Counts the warnings about code in cargo's messages, line by line.
#[derive(Default)]
struct Counting {
    warnings: Warnings,
    /// Whether the line before opened a warning.
    opened: bool,
}

impl Counting {
    /// A warning about code opens with `warning: ...` and goes on with
    /// where it is (`--> src/main.rs:73:9`); cargo's summary (`warning:
    /// ... generated 1 warning`) and its warnings about a manifest have no
    /// place in the code.
    fn line(&mut self, line: &[u8]) {
        let line = without_colours(line);
        if std::mem::take(&mut self.opened) && line.trim_start().starts_with("--> ") {
            self.warnings.0 += 1;
        }
        self.opened = line.starts_with("warning") && !line.contains(" generated ");
    }
}

/// `line` without the terminal's colour codes (`ESC [ ... m`).
fn without_colours(line: &[u8]) -> String {
    let line = String::from_utf8_lossy(line);
    let mut plain = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        match (in_code, c) {
            (false, '\u{1b}') => in_code = true,
            (true, 'm') => in_code = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::{Counting, Warnings};

    #[test]
    fn a_warning_about_code_counts_in_colour_or_not_and_cargos_own_do_not() {
        let mut counting = Counting::default();
        for line in [
            "warning: unused manifest key: package.colour",
            "warning: unused implementer of `Future` that must be used",
            "  --> exercises/exercise3-concurrent/src/main.rs:73:9",
            "   = note: futures do nothing unless you `.await` or poll them",
            "\u{1b}[1m\u{1b}[33mwarning\u{1b}[0m\u{1b}[1m: unused variable: `peer`\u{1b}[0m",
            "\u{1b}[1m\u{1b}[94m  --> \u{1b}[0mexercises/exercise3-concurrent/src/main.rs:70:26",
            "warning: `exercise3-concurrent` (bin \"exercise3-concurrent\") generated 2 warnings",
            "error[E0308]: mismatched types",
            "  --> exercises/exercise3-concurrent/src/main.rs:60:5",
        ] {
            counting.line(line.as_bytes());
        }
        assert_eq!(counting.warnings, Warnings(2));
    }
}
