//! Commands that run to their end: `--help`, bad arguments, a port in use,
//! the workshop's reports. Each is bounded in time and checked for its exit
//! code, and what it printed comes back as text.

use std::time::Duration;

/// What a command printed.
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `bin` with `args`, `stdin` as its input and `RUST_LOG` unset, until
/// it exits or `within` passes (then it is killed and the test fails), and
/// asserts that it exited with `code`.
pub fn run(bin: &str, args: &[&str], stdin: &str, code: i32, within: Duration) -> Ran {
    let output = assert_cmd::Command::new(bin)
        .args(args)
        .env_remove("RUST_LOG")
        .write_stdin(stdin)
        .timeout(within)
        .assert()
        .code(code)
        .get_output()
        .clone();
    Ran {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
