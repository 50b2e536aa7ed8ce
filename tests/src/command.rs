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

/// Limits the open files of what `command` starts to `soft`, and to `hard`
/// for raising it to, as `ulimit -Sn` and `ulimit -Hn` set them.
#[cfg(unix)]
pub fn limit_open_files(command: &mut std::process::Command, soft: u64, hard: u64) {
    use std::os::unix::process::CommandExt;
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: the closure runs between fork and exec, where only
    // async-signal-safe calls are allowed; setrlimit is one.
    unsafe {
        command.pre_exec(move || match libc::setrlimit(libc::RLIMIT_NOFILE, &limit) {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
}
