//! The servers the bench measures: the stages that serve clients together,
//! and the Go seed's programs, built with the `go` on the PATH when there
//! is one.

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

/// The stages from stage 3 on, and the Go seed's programs when Go is here.
pub fn contenders(only: &[String]) -> anyhow::Result<Vec<Contender>> {
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
    if only.is_empty() || only.iter().any(|want| want.starts_with("go")) {
        all.extend(go_seed()?);
    }
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

/// Builds the Go seed's stage 3 and stage 4 (`go-seed/` in the workspace)
/// with the `go` on the PATH; without one, says so and leaves them out.
fn go_seed() -> anyhow::Result<Vec<Contender>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../go-seed");
    let has_go = Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !has_go || !root.join("go.mod").exists() {
        tellln!(
            "workshop: no `go` here (or no go-seed/): the Go seed's programs are left out (Debian: apt-get install golang)"
        );
        return Ok(Vec::new());
    }
    let out = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("go-seed")))
        .context("cannot find this program's directory")?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    tellln!("workshop: building the Go seed's programs (go build ./...)");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg("./...")
        .current_dir(&root)
        .stdin(Stdio::null())
        .status()
        .context("cannot run go")?;
    if !built.success() {
        bail!("go build failed ({built}); see its messages above");
    }
    Ok(["stage3", "stage4"]
        .into_iter()
        .map(|stage| Contender {
            name: format!("go-{stage}"),
            program: out.join(stage),
            args: Vec::new(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::serves_together;

    #[test]
    fn stages_from_3_on_serve_clients_together() {
        assert!(!serves_together("stage1-listener"));
        assert!(!serves_together("stage2-accept-loop"));
        assert!(serves_together("stage3-threads"));
        assert!(serves_together("stage5-production"));
    }
}
