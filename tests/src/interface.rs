//! The command line every stage shares, checked the same way for each:
//! [`interface_tests!`](crate::interface_tests) adds these checks to a
//! stage's tests as test functions named after what they show.

use std::net::{TcpListener, ToSocketAddrs};

use crate::command::run;
use crate::{PATIENCE, Server};

/// Runs `bin` with `args` until it exits (for at most [`PATIENCE`]), asserts
/// that it exited with status 1 and printed exactly one line on stderr, and
/// returns that line.
pub fn exits_1_with_one_line(bin: &str, args: &[&str]) -> String {
    let stderr = run(bin, args, "", 1, PATIENCE).stderr;
    assert_eq!(
        stderr.lines().count(),
        1,
        "expected one line, got:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr.trim_end().to_string()
}

pub fn help_says_what_the_stage_teaches_and_what_to_try(bin: &str) {
    let help = run(bin, &["--help"], "", 0, PATIENCE).stdout;
    let mut lines = help.lines();
    let teaches = lines.next().unwrap_or_default();
    assert!(teaches.starts_with("Stage "), "first line: {teaches:?}");
    assert!(
        help.contains("Try: `nc localhost 9000"),
        "no `Try:` line:\n{help}"
    );
    assert!(help.contains("--addr <HOST:PORT>"), "{help}");
    assert!(help.contains("[default: localhost:9000]"), "{help}");
}

pub fn port_in_use_exits_1_with_one_line_naming_the_address(bin: &str) {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let line = exits_1_with_one_line(bin, &["--addr", &addr]);
    assert!(
        line.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{line}"
    );
    assert!(crate::says_its_port_is_in_use(&line), "{line}");

    // Where `localhost` is also ::1, a port in use on 127.0.0.1 is still an
    // error, as in Go: the server does not quietly listen on ::1 instead.
    let port = taken.local_addr().unwrap().port();
    let line = exits_1_with_one_line(bin, &["--addr", &format!("localhost:{port}")]);
    assert!(crate::says_its_port_is_in_use(&line), "{line}");
}

pub fn unparsable_address_exits_1_with_one_line_saying_why(bin: &str) {
    let line = exits_1_with_one_line(bin, &["--addr", "localhost"]);
    assert_eq!(
        line,
        "error: invalid value 'localhost' for '--addr <HOST:PORT>': expected HOST:PORT, such as localhost:9000, 127.0.0.1:0 or [::1]:9000"
    );
    let line = exits_1_with_one_line(bin, &["--addr", "localhost:99999"]);
    assert_eq!(
        line,
        "error: invalid value 'localhost:99999' for '--addr <HOST:PORT>': '99999' is not a port number (0 to 65535)"
    );
}

/// For the stages that take `--timeout`: a duration that does not parse, a
/// negative one, one so short it would close clients as they type (`0s`
/// closes every client at once) and one past a day are each refused with
/// one line naming the flag and saying why.
pub fn unusable_timeouts_exit_1_with_one_line_saying_why(bin: &str) {
    for (timeout, why) in [
        ("soon", "expected a duration such as 250ms, 5s or 1m"),
        ("-1s", "a duration cannot be negative"),
        ("0", "use 100ms or more"),
        ("0s", "use 100ms or more"),
        ("1ns", "use 100ms or more"),
        ("1000000000y", "longer than a day"),
        ("18446744073709551615s", "longer than a day"),
    ] {
        let line = exits_1_with_one_line(bin, &["--timeout", timeout]);
        let flag = format!("error: invalid value '{timeout}' for '--timeout <DURATION>': ");
        assert!(line.starts_with(&flag), "{line}");
        assert!(line.contains(why), "--timeout {timeout}: {line}");
    }
}

/// Under an open-file limit of 4 to 8 there may be no descriptor left for
/// tokio's runtime, or for the listener: the server says so in one line and
/// exits 1, never with a panic. (A stage that needs fewer files starts.)
#[cfg(unix)]
pub fn under_an_open_file_limit_of_4_to_8_it_starts_or_exits_1_with_one_line(bin: &str) {
    for limit in 4..=8 {
        let exited = match Server::builder(bin).open_file_limit(limit).try_start() {
            Ok(_started) => continue,
            Err(exited) => exited,
        };
        let stderr = &exited.output;
        assert_eq!(exited.status.code(), Some(1), "limit {limit}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "limit {limit}: {stderr}");
        assert!(
            stderr.contains("Too many open files")
                || stderr.contains(&format!("ran out of file descriptors (ulimit -n {limit})")),
            "limit {limit}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "limit {limit}: {stderr}");
    }
}

/// An argument that is not UTF-8 (a stray byte pasted into a terminal) is
/// refused with one line too.
#[cfg(unix)]
pub fn an_argument_that_is_not_utf8_exits_1_with_one_line(bin: &str) {
    use std::os::unix::ffi::OsStrExt;
    let output = assert_cmd::Command::new(bin)
        .arg("--addr")
        .arg(std::ffi::OsStr::from_bytes(b"localhost:\xff"))
        .timeout(PATIENCE)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "expected one line, got:\n{stderr}"
    );
    assert!(stderr.contains("UTF-8"), "{stderr}");
}

/// With a stderr that refuses every write (`/dev/full`, Linux's), a server
/// that cannot start still exits 1: the line is lost, never with a panic.
#[cfg(target_os = "linux")]
pub fn with_stderr_full_a_server_that_cannot_start_still_exits_1(bin: &str) {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for args in [["--addr", "nonsense"], ["--addr", addr.as_str()]] {
        let full = std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut command = std::process::Command::new(bin);
        command.args(args).stderr(full);
        assert_cmd::Command::from_std(command)
            .timeout(PATIENCE)
            .assert()
            .code(1);
    }
}

pub fn unknown_flag_exits_1_with_clap_message(bin: &str) {
    let stderr = run(bin, &["--frobnicate"], "", 1, PATIENCE).stderr;
    assert!(
        stderr.starts_with("error: unexpected argument '--frobnicate' found"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage:"), "{stderr}");
}

pub fn port_zero_listens_on_a_free_port_and_logs_it(bin: &str) {
    let first = Server::start(bin);
    let second = Server::start(bin);
    // `Server` already checked each logged a real port, not 0.
    assert_ne!(first.addr(), second.addr());
    assert!(
        first
            .stderr_text()
            .contains(&format!("listening on {}\n", first.addr()))
    );
}

pub fn localhost_listens_on_ipv4_like_go(bin: &str) {
    let localhost_has_ipv4 = ("localhost", 0)
        .to_socket_addrs()
        .is_ok_and(|mut addrs| addrs.any(|addr| addr.is_ipv4()));
    if !localhost_has_ipv4 {
        eprintln!("skipped: localhost has no IPv4 address on this machine");
        return;
    }
    let server = Server::builder(bin).addr("localhost:0").start();
    assert!(server.addr().is_ipv4(), "listening on {}", server.addr());
    drop(server.connect());
}

pub fn ipv6_address_in_brackets_is_accepted(bin: &str) {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback address");
        return;
    }
    let server = Server::builder(bin).addr("[::1]:0").start();
    assert!(server.addr().is_ipv6(), "listening on {}", server.addr());
    drop(server.connect());
}

/// Adds the command-line tests every stage passes, as test functions named
/// after what they show; `$bin` is the stage's `env!("CARGO_BIN_EXE_...")`.
/// `listen_queue: bind` checks the queue `TcpListener::bind` asks for,
/// `listen_queue: longest` the longest the system allows.
#[macro_export]
macro_rules! interface_tests {
    ($bin:expr, listen_queue: bind) => {
        $crate::interface_tests!($bin);

        /// `TcpListener::bind` asks for a listen queue of 128 clients.
        #[test]
        fn listens_with_the_queue_of_128_that_bind_asks_for() {
            $crate::listen_queue::assert_length($bin, $crate::listen_queue::BIND_ASKS_FOR);
        }
    };
    ($bin:expr, listen_queue: longest) => {
        $crate::interface_tests!($bin);

        /// Like Go, the longest listen queue the system allows.
        #[test]
        fn listens_with_the_longest_queue_the_system_allows() {
            match $crate::listen_queue::system_maximum() {
                Some(longest) => $crate::listen_queue::assert_length($bin, longest),
                None => eprintln!("skipped: this system does not say its longest listen queue"),
            }
        }
    };
    ($bin:expr) => {
        #[test]
        fn help_says_what_the_stage_teaches_and_what_to_try() {
            $crate::interface::help_says_what_the_stage_teaches_and_what_to_try($bin);
        }

        #[test]
        fn port_zero_listens_on_a_free_port_and_logs_it() {
            $crate::interface::port_zero_listens_on_a_free_port_and_logs_it($bin);
        }

        #[test]
        fn localhost_listens_on_ipv4_like_go() {
            $crate::interface::localhost_listens_on_ipv4_like_go($bin);
        }

        #[test]
        fn ipv6_address_in_brackets_is_accepted() {
            $crate::interface::ipv6_address_in_brackets_is_accepted($bin);
        }

        #[test]
        fn port_in_use_exits_1_with_one_line_naming_the_address() {
            $crate::interface::port_in_use_exits_1_with_one_line_naming_the_address($bin);
        }

        #[test]
        fn unparsable_address_exits_1_with_one_line_saying_why() {
            $crate::interface::unparsable_address_exits_1_with_one_line_saying_why($bin);
        }

        #[test]
        fn unknown_flag_exits_1_with_clap_message() {
            $crate::interface::unknown_flag_exits_1_with_clap_message($bin);
        }

        #[cfg(target_os = "linux")]
        #[test]
        fn with_stderr_full_a_server_that_cannot_start_still_exits_1() {
            $crate::interface::with_stderr_full_a_server_that_cannot_start_still_exits_1($bin);
        }

        #[cfg(unix)]
        #[test]
        fn an_argument_that_is_not_utf8_exits_1_with_one_line() {
            $crate::interface::an_argument_that_is_not_utf8_exits_1_with_one_line($bin);
        }

        #[cfg(unix)]
        #[test]
        fn under_an_open_file_limit_of_4_to_8_it_starts_or_exits_1_with_one_line() {
            $crate::interface::under_an_open_file_limit_of_4_to_8_it_starts_or_exits_1_with_one_line($bin);
        }
    };
}
