//! Behaviours that several stages share. [`copy_to_stderr_tests!`] adds
//! those of every stage that copies what clients send to stderr (stages 2
//! and later), [`serves_clients_together_tests!`] those of every stage that
//! serves clients together (stage 3 and later), as test functions named
//! after what they show.
//!
//! [`copy_to_stderr_tests!`]: crate::copy_to_stderr_tests
//! [`serves_clients_together_tests!`]: crate::serves_clients_together_tests

use std::io::Write;

use crate::{Server, client};

/// With every log line but `listening on` turned off, stderr holds exactly the
/// bytes the client sent: a mebibyte of random binary data, unchanged, as Go's
/// `io.Copy(os.Stderr, conn)` would copy it.
pub fn a_mebibyte_of_random_bytes_reaches_stderr_unchanged(bin: &str, args: &[&str]) {
    let server = Server::builder(bin)
        .args(args)
        .env("RUST_LOG", crate::ONLY_THE_LISTENING_LINE)
        .start();
    let listening_line = server.stderr();
    let sent = client::random_bytes(1024 * 1024);
    let mut client = server.connect();
    client.write_all(&sent).unwrap();
    drop(client);

    let stderr = server.wait_for_len(listening_line.len() + sent.len());
    assert_eq!(&stderr[..listening_line.len()], listening_line.as_slice());
    let copied = &stderr[listening_line.len()..];
    assert_eq!(
        copied.len(),
        sent.len(),
        "stderr holds more than the client sent"
    );
    if let Some(at) = copied.iter().zip(&sent).position(|(a, b)| a != b) {
        panic!("stderr differs from what the client sent, first at byte {at}");
    }
}

/// When a connection ends, the server logs who it was, how many bytes it sent
/// and why it ended; a client that hangs up normally ends it with a FIN.
pub fn logs_how_many_bytes_a_client_sent_and_why_it_ended(bin: &str, args: &[&str]) {
    let server = Server::start_with_args(bin, args);
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    client.write_all(b"hello, server\n").unwrap();
    drop(client);
    server.wait_for(format!(
        "{peer} finished after 14 bytes: the client closed the connection"
    ));
}

/// A client that sends TCP's urgent data (`MSG_OOB`, one byte the kernel
/// keeps apart) loses none of its other bytes, before or after it: a
/// splice stops at urgent data's mark, and a server that splices must read
/// past it. (Unix: Windows keeps urgent data its own way.)
#[cfg(unix)]
pub fn urgent_data_costs_none_of_a_clients_other_bytes(bin: &str, args: &[&str]) {
    let server = Server::start_with_args(bin, args);
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    client.write_all(b"hello ").unwrap();
    socket2::SockRef::from(&client)
        .send_out_of_band(b"!")
        .unwrap();
    client.write_all(b"world\n").unwrap();
    drop(client);
    server.wait_for(format!(
        "{peer} finished after 12 bytes: the client closed the connection"
    ));
    assert!(
        server.stderr_text().contains("hello world\n"),
        "{}",
        server.stderr_text()
    );
}

/// A client that resets its connection (a crash, a flaky network) ends only
/// its own connection: the server logs the error and serves the next client.
pub fn a_client_that_resets_does_not_take_the_server_down(bin: &str, args: &[&str]) {
    let mut server = Server::start_with_args(bin, args);
    let mut crashing = server.connect();
    let crashing_peer = crashing.local_addr().unwrap();
    crashing.write_all(b"about to crash\n").unwrap();
    server.wait_for("about to crash\n");
    client::reset(crashing);
    let finished = server.wait_for(format!("{crashing_peer} finished"));
    let stderr = server.stderr_text();
    let line = stderr[finished..].lines().next().unwrap();
    assert!(line.contains(" with an error: "), "{line}");

    let mut next = server.connect();
    next.write_all(b"next client\n").unwrap();
    server.wait_for("next client\n");
    assert!(server.is_running());
}

/// What a client sends to take over the operator's terminal: a window title,
/// a clipboard write (OSC 52), clear screen, erase line and a carriage
/// return to write over a line, then a forged log line.
#[cfg(unix)]
const TERMINAL_ATTACK: &[u8] =
    b"\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[2K\r[ERROR] accept failed\n";

/// On a terminal, a client's control characters are shown escaped, so that
/// none of them acts on the terminal; its text, newlines included, is shown
/// as it came.
#[cfg(target_os = "linux")]
pub fn on_a_terminal_a_clients_control_characters_are_shown_escaped(bin: &str, args: &[&str]) {
    let server = Server::builder(bin)
        .args(args)
        .env("RUST_LOG", crate::ONLY_THE_LISTENING_LINE)
        .stderr_on_a_terminal()
        .start();
    let mut client = server.connect();
    client.write_all(TERMINAL_ATTACK).unwrap();
    server.wait_for(
        r"\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[2K\x0d[ERROR] accept failed
",
    );
    let stderr = server.stderr();
    let acting = stderr
        .iter()
        .filter(|&&b| b.is_ascii_control() && b != b'\n')
        .count();
    assert_eq!(
        acting, 0,
        "control characters reached the terminal: {stderr:?}"
    );
}

/// On a terminal, a character the client left unfinished when it hung up
/// is shown escaped, before the line that says the connection ended, not
/// glued to the next log line. (For the stages that copy with `io::copy`,
/// which flushes at the end.)
#[cfg(target_os = "linux")]
pub fn on_a_terminal_an_unfinished_character_is_shown_before_the_end_of_its_connection(bin: &str) {
    let server = Server::builder(bin).stderr_on_a_terminal().start();
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    client.write_all(b"hello \xe2\x82").unwrap();
    drop(client);
    let finished = server.wait_for(format!("{peer} finished after 8 bytes"));
    let shown = server.wait_for(r"hello \xe2\x82");
    assert!(shown < finished, "{}", server.stderr_text());
}

/// With `--log-file`, the log holds the server's lines only: a client that
/// sends text shaped like a log line adds nothing to it. Stderr, a pipe,
/// holds the client's bytes exactly as sent, control characters included.
#[cfg(unix)]
pub fn with_a_log_file_a_client_cannot_forge_log_lines(bin: &str, args: &[&str]) {
    let server = Server::builder(bin).args(args).log_on_stdout().start();
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    client.write_all(TERMINAL_ATTACK).unwrap();
    drop(client);
    server.wait_for_in_log(&format!(
        "{peer} finished after {} bytes",
        TERMINAL_ATTACK.len()
    ));
    // Two outputs, two queues: the log line may come out first.
    assert_eq!(server.wait_for_len(TERMINAL_ATTACK.len()), TERMINAL_ATTACK);
    let log = server.log_text();
    assert!(
        !log.contains("accept failed"),
        "a forged line in the log:\n{log}"
    );
}

/// The scenario stage 2 fails: the second client is printed while the first
/// is still connected, and the first goes on being served after that.
pub fn serves_two_clients_together(bin: &str, args: &[&str]) {
    let server = Server::start_with_args(bin, args);
    let (first, second) = crate::checks::a_and_b_served_together(&server);
    assert!(client::is_open(&first) && client::is_open(&second));
    assert!(!server.stderr_text().contains("finished"));
}

/// A hundred clients connect and each says one line; all hundred lines
/// appear while all hundred connections are open.
pub fn serves_a_hundred_clients_at_once(bin: &str, args: &[&str]) {
    let server = Server::start_with_args(bin, args);
    let clients = client::crowd_that_says_hi(&server, 100);
    assert!(clients.iter().all(client::is_open));
    assert!(!server.stderr_text().contains("finished"));

    drop(clients);
    server.wait_for_count("the client closed the connection", 100);
}

/// Adds the tests of a stage that serves clients together (stage 3 and the
/// ones after it): `$bin` is its `env!("CARGO_BIN_EXE_...")`, `$args` its
/// extra arguments.
#[macro_export]
macro_rules! serves_clients_together_tests {
    ($bin:expr, $args:expr) => {
        #[test]
        fn serves_two_clients_together() {
            $crate::scenarios::serves_two_clients_together($bin, $args);
        }

        #[test]
        fn serves_a_hundred_clients_at_once() {
            $crate::scenarios::serves_a_hundred_clients_at_once($bin, $args);
        }
    };
}

/// Adds the tests every stage that copies clients' bytes to stderr passes
/// (stages 2 to 4), as test functions named after what they show; `$bin` is
/// the stage's `env!("CARGO_BIN_EXE_...")` and `$args` its extra arguments.
#[macro_export]
macro_rules! copy_to_stderr_tests {
    ($bin:expr, $args:expr) => {
        #[test]
        fn a_mebibyte_of_random_bytes_reaches_stderr_unchanged() {
            $crate::scenarios::a_mebibyte_of_random_bytes_reaches_stderr_unchanged($bin, $args);
        }

        #[test]
        fn logs_how_many_bytes_a_client_sent_and_why_it_ended() {
            $crate::scenarios::logs_how_many_bytes_a_client_sent_and_why_it_ended($bin, $args);
        }

        #[test]
        fn a_client_that_resets_does_not_take_the_server_down() {
            $crate::scenarios::a_client_that_resets_does_not_take_the_server_down($bin, $args);
        }

        #[cfg(unix)]
        #[test]
        fn urgent_data_costs_none_of_a_clients_other_bytes() {
            $crate::scenarios::urgent_data_costs_none_of_a_clients_other_bytes($bin, $args);
        }

        #[cfg(target_os = "linux")]
        #[test]
        fn on_a_terminal_a_clients_control_characters_are_shown_escaped() {
            $crate::scenarios::on_a_terminal_a_clients_control_characters_are_shown_escaped(
                $bin, $args,
            );
        }

        #[cfg(unix)]
        #[test]
        fn with_a_log_file_a_client_cannot_forge_log_lines() {
            $crate::scenarios::with_a_log_file_a_client_cannot_forge_log_lines($bin, $args);
        }
    };
}
