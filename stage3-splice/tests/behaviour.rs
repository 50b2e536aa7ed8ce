//! What the splice lesson shows: stage 3's behaviour, with the clients'
//! bytes moved socket → pipe → stderr by the kernel. Its speed, the point of
//! the lesson, is measured by `workshop bench`, not asserted here; that the
//! bytes never pass through the server is shown, from `/proc`.

use std::io::Write;

use harness::Server;

const BIN: &str = env!("CARGO_BIN_EXE_stage3-splice");

// Clients served together: two, while both stay open, and a hundred at once.
harness::serves_clients_together_tests!(BIN, &[]);

// What stages 2 to 4 share: a mebibyte of random bytes reaches stderr
// unchanged, the end of each connection is logged with its byte count and
// reason, and a client that resets does not take the server down. On a
// terminal, the lesson copies instead, to escape control characters.
harness::copy_to_stderr_tests!(BIN, &[]);

/// A client that sends a byte at a time, each after the server printed the
/// one before, wakes its task once per byte: each wake-up moves what is
/// there, and nothing is lost or repeated. The log shares stderr: the line
/// saying the client connected comes before its bytes, though they skip
/// the queue that line waits in.
#[test]
fn a_client_sending_a_byte_at_a_time_is_copied_byte_for_byte() {
    let server = Server::start(BIN);
    let mut client = server.connect();
    let peer = client.local_addr().unwrap();
    let sent = b"~one~byte~at~a~time~\n";
    for (i, byte) in sent.iter().enumerate() {
        client.write_all(&[*byte]).unwrap();
        server.wait_for(&sent[..=i]);
    }
    let connected = server.wait_for(format!("{peer} connected"));
    assert!(
        connected < server.wait_for(sent),
        "{}",
        server.stderr_text()
    );
    drop(client);
    server.wait_for(format!(
        "{peer} finished after {} bytes: the client closed the connection",
        sent.len()
    ));
}

/// The lesson itself: 4 MiB reach stderr, and the server's own reads and
/// writes (`rchar` and `wchar` in `/proc/PID/io`, which count every byte a
/// `read` or `write` moves) grow by less than one client's worth. The
/// kernel moved the bytes; the server only told it to.
#[cfg(target_os = "linux")]
#[test]
fn a_clients_bytes_never_pass_through_the_server() {
    let server = Server::builder(BIN).log_on_stdout().start();
    let before = read_and_written(&server);
    let sent = harness::client::random_bytes(4 << 20);
    let mut client = server.connect();
    client.write_all(&sent).unwrap();
    drop(client);
    assert_eq!(server.wait_for_len(sent.len()), sent);
    let through_the_server = read_and_written(&server) - before;
    assert!(
        through_the_server < 64 * 1024,
        "{through_the_server} bytes went through the server's reads and writes"
    );
}

/// `splice(2)` refuses a file opened to append (`2>>received.txt`), so the
/// server copies into one through its own writes, as the lean copy does,
/// and says so. Every byte arrives, in order, after what the file held.
#[cfg(target_os = "linux")]
#[test]
fn into_a_file_opened_to_append_the_bytes_are_copied_instead() {
    let path = scratch("append");
    std::fs::write(&path, b"already there\n").unwrap();
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    let server = Server::builder(BIN).log_on_stdout().stderr_to(file).start();
    server.wait_for_in_log("no splice(2) here");
    let written_before = read_and_written(&server);
    let mut client = server.connect();
    let sent = harness::client::random_bytes(1 << 20);
    client.write_all(&sent).unwrap();
    drop(client);
    let written = wait_until_the_file_holds(&path, 14 + sent.len());
    assert_eq!(&written[..14], b"already there\n");
    assert!(
        written[14..] == sent,
        "the file differs from what the client sent"
    );
    let through_the_server = read_and_written(&server) - written_before;
    assert!(
        through_the_server >= sent.len() as u64,
        "only {through_the_server} bytes went through the server: did it splice after all?"
    );
}

/// Into a plain file, with the log in the same file (`2>received.txt`), 16
/// clients send at once: a splice writes at the file's position without the
/// lock `write` takes, so two writers at once would write over each other.
/// One at a time, every client's bytes and every log line arrive whole.
#[cfg(target_os = "linux")]
#[test]
fn into_a_file_sixteen_clients_and_the_log_lose_nothing() {
    const CLIENTS: u8 = 16;
    const EACH: usize = 256 * 1024;
    let path = scratch("file");
    let file = std::fs::File::create(&path).unwrap();
    let server = Server::builder(BIN)
        .stderr_to(file)
        .found_by_looking(|pid| {
            let ports = harness::listening::listening_ports(pid);
            ports
                .first()
                .map(|&port| std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        })
        .start();
    // Each client sends a byte of its own, one no log line holds.
    let senders: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let mut client = server.connect();
            std::thread::spawn(move || client.write_all(&[0x80 + i; EACH]).unwrap())
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    let finished = format!("finished after {EACH} bytes");
    let patience = std::time::Instant::now() + harness::patience();
    let written = loop {
        let written = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&written);
        if text.matches(&finished).count() == CLIENTS as usize
            || std::time::Instant::now() > patience
        {
            break written;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    std::fs::remove_file(&path).unwrap();
    for i in 0..CLIENTS {
        let count = written.iter().filter(|&&byte| byte == 0x80 + i).count();
        assert_eq!(count, EACH, "client {i}'s bytes in the file");
    }
    let text = String::from_utf8_lossy(&written);
    assert_eq!(
        text.matches(" connected\n").count(),
        CLIENTS as usize,
        "{text:.2000}"
    );
    assert_eq!(text.matches(&finished).count(), CLIENTS as usize);
}

/// While stderr is full, a task with bytes to move waits for it, holding no
/// thread: with a single runtime thread, the server goes on accepting and
/// serving other clients, and once stderr takes bytes again, every byte
/// arrives.
#[cfg(target_os = "linux")]
#[test]
fn while_stderr_is_full_other_clients_are_still_served() {
    // One runtime thread: a splice that blocked it would stop the server.
    let server = Server::builder(BIN)
        .env("TOKIO_WORKER_THREADS", "1")
        .log_on_stdout()
        .start();
    server.pause_stderr();
    // Send until the server stops reading: its pipe and stderr's are full,
    // then the kernel's buffers. A write making no headway for a second
    // means the server is not reading (unstuck, it reads gigabytes a second).
    let mut stuck = server.connect();
    stuck
        .set_write_timeout(Some(std::time::Duration::from_secs(1)))
        .unwrap();
    let piece = harness::client::random_bytes(64 * 1024);
    let mut sent = Vec::new();
    while sent.len() < 256 << 20 {
        match stuck.write(&piece) {
            Ok(n) => sent.extend_from_slice(&piece[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(err) => panic!("writing to the server: {err}"),
        }
    }
    assert!(
        sent.len() < 256 << 20,
        "the server read 256 MiB with stderr stuck"
    );

    let other = server.connect();
    let other_peer = other.local_addr().unwrap();
    drop(other);
    server.wait_for_in_log(&format!(
        "{other_peer} finished after 0 bytes: the client closed the connection"
    ));

    server.resume_stderr();
    drop(stuck);
    assert!(
        server.wait_for_len(sent.len()) == sent,
        "stderr differs from what was sent"
    );
}

/// Stderr that refuses every splice (`/dev/full`): the server says so once,
/// however many clients send, copies their bytes the ordinary way from then
/// on, and goes on serving.
#[cfg(target_os = "linux")]
#[test]
fn a_stderr_that_refuses_a_splice_is_said_once_and_copied_into_from_then_on() {
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let server = Server::builder(BIN).log_on_stdout().stderr_to(full).start();
    for _ in 0..3 {
        let mut client = server.connect();
        let peer = client.local_addr().unwrap();
        client.write_all(b"into /dev/full\n").unwrap();
        drop(client);
        server.wait_for_in_log(&format!("{peer} finished after 15 bytes"));
    }
    let log = server.log_text();
    assert_eq!(log.matches("stderr refused a splice").count(), 1, "{log}");
    // Copied, the bytes went to common::stderr(), which counts what the
    // device refused.
    assert!(
        log.contains("[writing to stderr failed: No space left on device"),
        "{log}"
    );
}

/// However many clients send while stderr is stuck (ten here), at most 8
/// pipes exist: 16 descriptors. The clients past them wait the lean copy's way, and
/// once stderr moves, every byte arrives.
#[cfg(target_os = "linux")]
#[test]
fn however_many_clients_send_at_most_8_pipes_exist() {
    let server = Server::builder(BIN).log_on_stdout().start();
    // Stdout, stderr and whatever else it was given are pipes already.
    let pipes_before = pipe_descriptors(&server);
    server.pause_stderr();
    let mut sent = 0;
    // Two more than there are pipes: those two take the buffer's way.
    let talkers: Vec<_> = (0..10)
        .map(|_| {
            let (talker, bytes) = held_up_by_a_stuck_stderr(&server);
            sent += bytes;
            talker
        })
        .collect();
    let pipes_now = pipe_descriptors(&server);
    // Each of the first 8 holds a pipe full of bytes stderr did not take.
    assert_eq!(
        pipes_now,
        pipes_before + 16,
        "pipe descriptors: {pipes_before} before the clients came, {pipes_now} now"
    );
    server.resume_stderr();
    drop(talkers);
    server.wait_for_len(sent);
}

/// A client that sends until the server stops reading it: a write that
/// makes no headway for half a second (unstuck, the server reads gigabytes
/// a second); and how many bytes it sent.
#[cfg(target_os = "linux")]
fn held_up_by_a_stuck_stderr(server: &Server) -> (std::net::TcpStream, usize) {
    let mut talker = server.connect();
    talker
        .set_write_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let piece = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    loop {
        assert!(
            sent < 256 << 20,
            "the server read 256 MiB with stderr stuck"
        );
        match talker.write(&piece) {
            Ok(n) => sent += n,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return (talker, sent),
            Err(err) => panic!("writing to the server: {err}"),
        }
    }
}

/// How many of the server's descriptors are pipes, from `/proc/PID/fd`.
#[cfg(target_os = "linux")]
fn pipe_descriptors(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.unwrap().path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("pipe:"))
        .count()
}

/// A file of this test's own in the temporary folder.
#[cfg(target_os = "linux")]
fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("stage3-splice-{name}-{}", std::process::id()))
}

/// Waits until the file at `path` holds `len` bytes (the server's stderr
/// writer gets to it when it does), for at most the harness's patience;
/// returns what it holds, and removes it.
#[cfg(target_os = "linux")]
fn wait_until_the_file_holds(path: &std::path::Path, len: usize) -> Vec<u8> {
    let patience = std::time::Instant::now() + harness::patience();
    let written = loop {
        let written = std::fs::read(path).unwrap();
        if written.len() >= len || std::time::Instant::now() > patience {
            break written;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    std::fs::remove_file(path).unwrap();
    assert_eq!(written.len(), len, "the file holds {} bytes", written.len());
    written
}

/// How many bytes the server's `read`s and `write`s have moved:
/// `rchar` and `wchar` in `/proc/PID/io`. A splice counts in neither.
#[cfg(target_os = "linux")]
fn read_and_written(server: &Server) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{}/io", server.pid())).unwrap();
    let field = |name: &str| -> u64 {
        let line = io.lines().find(|line| line.starts_with(name)).unwrap();
        line[name.len()..].trim().parse().unwrap()
    };
    field("rchar:") + field("wchar:")
}

// The checks `workshop check` judges a learner's stage 3 by, observed from
// outside as any server shows them: this stage passes them.
harness::stage_checks!(3, BIN, &[], std::time::Duration::ZERO);
