//! What the workshop's test files share that needs the workshop itself
//! (the harness cannot depend on it).

// Each test file uses part of it, and is compiled on its own.
#![allow(dead_code)]

use harness::Server;

/// A stage's binary, found (and built if needed) as `workshop` finds it.
pub fn stage(name: &str) -> String {
    let stage = workshop::processes::stages::find(&[name.to_string()])
        .unwrap()
        .remove(0);
    stage.path.to_string_lossy().into_owned()
}

/// `stage3-concurrent`, started on a free port: a server that takes all.
pub fn stage3() -> Server {
    Server::start(&stage("stage3-concurrent"))
}
