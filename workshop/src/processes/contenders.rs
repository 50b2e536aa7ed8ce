//! The servers the bench measures: the stages that serve clients together,
//! and the Go seed's programs, built with the `go` on the PATH when there
//! is one, or with each `go` the bench is given.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::processes::stages;
use crate::tellln;

/// A server under measurement: how to start it on a port of its choosing.
#[derive(Clone, Debug)]
pub struct Contender {
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// The stages from stage 3 on, and the Go seed's programs: built with each
/// of `gos` (named by its version, `go1.23-stage3`), or with the `go` on the
/// PATH when Go is here (`go-stage3`).
pub fn contenders(only: &[String], gos: &[PathBuf]) -> anyhow::Result<Vec<Contender>> {
    // Go first: a `go` that does not run is told before the stages build.
    let mut go_seeds = Vec::new();
    if only.is_empty() || only.iter().any(|want| want.starts_with("go")) {
        // Each `go` with the name its programs will have: the release of
        // one given by path (`go1.23`), `go` for the one on the PATH.
        let mut named: Vec<(&Path, String)> = Vec::new();
        if gos.is_empty() {
            match go_version(Path::new("go")) {
                Some(_) => named.push((Path::new("go"), "go".to_string())),
                None => tellln!(
                    "workshop: no `go` here: the Go seed's programs are left out (Debian: apt-get install golang)"
                ),
            }
        }
        for go in gos {
            let Some(version) = go_version(go) else {
                bail!(
                    "{} is not a `go` that runs (go env GOVERSION failed)",
                    go.display()
                );
            };
            let name = short_version(&version);
            // Named alike, their programs would go to one folder, the second
            // build over the first, and their rows could not be told apart.
            if let Some((twin, _)) = named.iter().find(|(_, other)| *other == name) {
                bail!(
                    "--go {} and --go {} are both {name}: give each Go release once",
                    twin.display(),
                    go.display()
                );
            }
            named.push((go, name));
        }
        for (go, name) in named {
            go_seeds.extend(go_seed(go, &name)?);
        }
    }
    let mut all: Vec<Contender> = stages::find(&[])?
        .into_iter()
        .filter(|stage| serves_together(&stage.name))
        .map(|stage| Contender {
            args: if stage.takes_timeout {
                // Held connections are idle on purpose: they must outlast
                // the run. (Go's stage 4 keeps its fixed 5 s.)
                vec!["--timeout".to_string(), "10m".to_string()]
            } else {
                Vec::new()
            },
            name: stage.name,
            program: stage.path,
        })
        .collect();
    all.extend(go_seeds);
    // By name or prefix, as `workshop compare --stages` takes them.
    let names = stages::select(all.iter().map(|c| c.name.clone()).collect(), only)?;
    Ok(names
        .iter()
        .filter_map(|name| all.iter().find(|c| c.name == *name).cloned())
        .collect())
}

/// Stages 1 and 2 serve nobody or one client at a time: nothing to compare.
fn serves_together(stage: &str) -> bool {
    stages::stage_number(stage).is_some_and(|n| n >= 3)
}

/// What `go env GOVERSION` says (`go1.23.5`), if `go` runs.
fn go_version(go: &Path) -> Option<String> {
    Command::new(go)
        .args(["env", "GOVERSION"])
        // The Go given is the Go measured: a go.mod asking for a newer
        // toolchain must not make Go 1.21+ fetch and run another one.
        .env("GOTOOLCHAIN", "local")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        // Any program that exits 0 is not a Go: its release says it is.
        .filter(|version| version.starts_with("go"))
}

/// Builds the Go seed's stage 3 and stage 4 (`go-seed/` in the workspace)
/// with `program`, named `{prefix}-stage3` and `{prefix}-stage4`.
fn go_seed(program: &Path, prefix: &str) -> anyhow::Result<Vec<Contender>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../go-seed");
    if !root.join("go.mod").exists() {
        tellln!("workshop: no go-seed/ here: the Go seed's programs are left out");
        return Ok(Vec::new());
    }
    let out = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("go-seed").join(prefix)))
        .context("cannot find this program's directory")?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    tellln!(
        "workshop: building the Go seed's programs with {} (go build ./...)",
        program.display()
    );
    let built = Command::new(program)
        .args(["build", "-o"])
        .arg(&out)
        .arg("./...")
        .current_dir(&root)
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !built.success() {
        bail!("go build failed ({built}); see its messages above");
    }
    Ok(["stage3", "stage4"]
        .into_iter()
        .map(|stage| Contender {
            name: format!("{prefix}-{stage}"),
            program: out.join(stage),
            args: Vec::new(),
        })
        .collect())
}

/// `go1.23` of `go1.23.5`: the release, whose patches change no library.
fn short_version(version: &str) -> String {
    let mut parts = version.splitn(3, '.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => version.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{serves_together, short_version};

    #[test]
    fn a_go_is_named_by_its_release() {
        assert_eq!(short_version("go1.23.5"), "go1.23");
        assert_eq!(short_version("go1.19"), "go1.19");
        assert_eq!(short_version("devel"), "devel");
    }

    #[test]
    fn stages_from_3_on_serve_clients_together() {
        assert!(!serves_together("stage1-listener"));
        assert!(!serves_together("stage2-accept-loop"));
        assert!(serves_together("stage3-threads"));
        assert!(serves_together("stage5-production"));
    }
}
