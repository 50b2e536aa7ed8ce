//! A server whose `listening on` line gives no address a client can reach
//! (a learner's, which logs the `--addr` it was given rather than the one
//! `local_addr()` says it got) is refused with an error that says what to
//! do, not a panic: the workshop shows that error in one line.
//!
//! The "server" is `sh`, which says its line and then waits; the harness's
//! `--addr 127.0.0.1:PORT` becomes the script's `$0` and `$1`, unused.
// Unix only: the server is a script for /bin/sh.
#![cfg(unix)]

use harness::{NotStarted, Server, Starting};

/// Starts a "server" that says `line` on stderr, then waits until killed
/// (dropping the `Server`, or the error's, kills it).
fn start_saying(line: &str) -> Result<Server, NotStarted> {
    let script = format!("echo '{line}' >&2; exec sleep 30");
    Server::builder("/bin/sh")
        .args(["-c", &script])
        .quietly()
        .spawn()
        .and_then(Starting::listening)
}

/// The error, where a server was not expected to start.
fn refused(line: &str) -> String {
    match start_saying(line) {
        Ok(server) => panic!("{line:?} was taken for {}", server.addr()),
        Err(why @ NotStarted::NoUsableAddress { .. }) => why.to_string(),
        Err(why) => panic!("{line:?} was refused for another reason: {why}"),
    }
}

#[test]
fn a_server_that_logs_the_port_0_it_was_given_is_refused_with_what_to_log() {
    let why = refused("listening on 127.0.0.1:0");
    assert_eq!(
        why,
        "the server said `listening on 127.0.0.1:0`, the address it was given, not the one it got (port 0 asks for any free port): log the address `listener.local_addr()` gives"
    );
}

#[test]
fn a_server_that_logs_no_address_after_listening_on_is_refused_with_what_to_log() {
    let why = refused("listening on nowhere");
    assert_eq!(
        why,
        "the server said `listening on nowhere`, which is no address: end that line with the address `listener.local_addr()` gives, as in `listening on 127.0.0.1:40123`"
    );
}

#[test]
fn a_server_that_logs_a_port_is_taken_to_listen_there() {
    let server = start_saying("listening on 127.0.0.1:9").unwrap_or_else(|why| panic!("{why}"));
    assert_eq!(server.addr().to_string(), "127.0.0.1:9");
}
