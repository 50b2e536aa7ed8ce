//! A program about to end on a signal takes its servers with it:
//! `end_every_server` kills every server this process still runs. (The
//! workshop calls it on SIGTERM; on macOS nothing else would end them.) A test binary of its own: it kills every server of its process.
#![cfg(unix)] // signals, and a server that is a line of `sh`

use std::os::unix::process::ExitStatusExt;

use harness::{Server, end_every_server};

#[test]
fn end_every_server_kills_the_servers_still_running() {
    let mut servers: Vec<Server> = (0..2)
        .map(|_| {
            Server::builder("/bin/sh")
                .args(["-c", "echo 'listening on 127.0.0.1:9' >&2; exec sleep 30"])
                .start()
        })
        .collect();
    end_every_server();
    for server in &mut servers {
        let status = server.wait_for_exit();
        assert_eq!(status.signal(), Some(9), "{status}: not killed");
    }
}
