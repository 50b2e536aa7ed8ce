//! What the workshop's tests share: servers that take nothing or are not
//! there, and the workshop run as a process whose outputs, open-file limit
//! and signals the test sets. Every wait is bounded.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::PATIENCE;
#[cfg(unix)]
use crate::limit_open_files;

/// A port of 127.0.0.1 held by a test for as long as this lives.
pub struct HeldPort {
    pub addr: SocketAddr,
    _socket: socket2::Socket,
}

fn socket_on_a_free_port() -> socket2::Socket {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket
}

fn held(socket: socket2::Socket) -> HeldPort {
    HeldPort {
        addr: socket.local_addr().unwrap().as_socket().unwrap(),
        _socket: socket,
    }
}

/// A listener that never accepts nor reads, with a small receive buffer
/// and a listen queue of 1: two clients get through the handshake, and
/// their writes stall once the connection's buffers are full; the
/// handshakes of any more wait for ever.
pub fn a_server_that_never_reads() -> HeldPort {
    let listener = socket_on_a_free_port();
    listener.set_recv_buffer_size(4096).unwrap();
    listener.listen(1).unwrap();
    held(listener)
}

/// A port nobody listens on: a socket holds it without listening, so that
/// nothing can take it meanwhile, and connecting to it is refused.
pub fn a_port_nobody_listens_on() -> HeldPort {
    held(socket_on_a_free_port())
}

/// What a process printed, and how it exited.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Waits for `child` to exit, for at most `within` (then kills it and
/// fails), reading the outputs it was given as pipes until they end, which
/// they do when it exits. At least one of stdout and stderr must be a pipe
/// the test has not taken: its end is the signal that the child exited.
pub fn finish(mut child: Child, within: Duration) -> Finished {
    let (ended, outputs) = mpsc::channel();
    let mut pipes = 0;
    let mut read = |pipe: Option<Box<dyn Read + Send>>, stdout: bool| {
        if let Some(mut pipe) = pipe {
            pipes += 1;
            let ended = ended.clone();
            thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                let _ = ended.send((stdout, String::from_utf8_lossy(&bytes).into_owned()));
            });
        }
    };
    read(child.stdout.take().map(|pipe| Box::new(pipe) as _), true);
    read(child.stderr.take().map(|pipe| Box::new(pipe) as _), false);
    assert!(pipes > 0, "finish needs stdout or stderr as a pipe");
    let deadline = Instant::now() + within;
    let (mut stdout, mut stderr) = (String::new(), String::new());
    for _ in 0..pipes {
        let wait = deadline.saturating_duration_since(Instant::now());
        match outputs.recv_timeout(wait) {
            Ok((true, text)) => stdout = text,
            Ok((false, text)) => stderr = text,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the process did not exit within {within:?}; stderr so far: {stderr}");
            }
        }
    }
    Finished {
        status: child.wait().unwrap(),
        stdout,
        stderr,
    }
}

/// Runs `bin` with `args` under a limit on open files (see
/// [`limit_open_files`]), without `RUST_LOG`, for at most a minute;
/// asserts that it exits with `code`.
#[cfg(unix)]
pub fn run_with_open_file_limit(
    bin: &str,
    args: &[&str],
    soft: u64,
    hard: u64,
    code: i32,
) -> crate::command::Ran {
    let mut command = Command::new(bin);
    command
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    limit_open_files(&mut command, soft, hard);
    let finished = finish(command.spawn().unwrap(), Duration::from_secs(60));
    assert_eq!(
        finished.status.code(),
        Some(code),
        "{args:?}: {}{}",
        finished.stdout,
        finished.stderr
    );
    crate::command::Ran {
        stdout: finished.stdout,
        stderr: finished.stderr,
    }
}

/// A process whose stderr the test reads line by line as it comes, to act
/// when it says something; killed when dropped.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    said: String,
}

impl Running {
    /// Starts `command` with stdin and stdout to /dev/null and stderr read.
    pub fn start(mut command: Command) -> Running {
        #[cfg(unix)]
        crate::server::signals_as_a_terminal_sends_them(&mut command);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (said, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { return };
                if said.send(line).is_err() {
                    return;
                }
            }
        });
        Running {
            child,
            lines,
            said: String::new(),
        }
    }

    /// Waits, for at most [`PATIENCE`], until the process has written a
    /// line containing `needle` to stderr `count` times in all.
    pub fn wait_for_line(&mut self, needle: &str, count: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.said.matches(needle).count() < count {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(wait) {
                Ok(line) => {
                    self.said += &line;
                    self.said.push('\n');
                }
                Err(why) => panic!(
                    "waited for {count} lines with {needle:?} on stderr ({why}); it said:\n{}",
                    self.said
                ),
            }
        }
    }

    /// What the process has said on stderr so far, as far as waited for.
    pub fn said(&self) -> &str {
        &self.said
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does, and waits, for at most
    /// [`PATIENCE`], until the process has exited.
    #[cfg(unix)]
    pub fn interrupt(self) -> ExitStatus {
        self.end_with(libc::SIGINT)
    }

    /// Sends `signal`, and waits, for at most [`PATIENCE`], until the
    /// process has exited.
    #[cfg(unix)]
    pub fn end_with(mut self, signal: libc::c_int) -> ExitStatus {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: kill has no memory effects; the pid is our own child's.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        // Its stderr ends when it exits.
        let deadline = Instant::now() + PATIENCE;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(wait) {
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return self.child.wait().unwrap(),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the process did not exit within {PATIENCE:?} of signal {signal}")
                }
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
