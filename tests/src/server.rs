use std::ffi::OsStr;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
#[cfg(target_os = "linux")]
use std::os::fd::AsRawFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::patience;

/// A stage binary running as a child process, listening on a loopback port.
///
/// Everything it writes to stderr is collected as it comes, with when each
/// piece arrived, and tests wait for what they expect to see there, with
/// [`patience`](crate::patience) as the bound; async code waits without
/// blocking its thread ([`Server::until_stderr_shows`]). Dropping the
/// `Server` kills the process, so no test leaves one behind, even when it fails.
///
/// The workshop runs its servers with it too (`compare`, `load`, `bench`,
/// `check`): one way to run a server as a child process.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    /// What the server wrote to stderr, when the test reads it.
    stderr: Option<Arc<Output>>,
    /// Where its log goes: stderr, or stdout with [`ServerBuilder::log_on_stdout`];
    /// nowhere read when stderr goes elsewhere ([`ServerBuilder::stderr_to`]).
    log: Option<Arc<Output>>,
    /// Whether dropping it shows how its log ends (see [`ServerBuilder::quietly`]).
    shown_at_drop: bool,
}

/// How to start a [`Server`]: the binary, its arguments and its environment.
pub struct ServerBuilder {
    command: Command,
    addr: String,
    stderr: StderrTo,
    log_on_stdout: bool,
    found_by: FoundBy,
    shown_at_drop: bool,
    kept_until_listening: bool,
}

/// How a [`Server`] is seen to listen.
enum FoundBy {
    /// By its `listening on ADDR` line.
    ItsLine,
    /// Listening on the address it was given.
    GivenPort(SocketAddr),
    /// By a look at the process from outside, given its id.
    Looking(Box<dyn FnMut(u32) -> Option<SocketAddr> + Send>),
}

/// Where a [`Server`]'s stderr goes.
enum StderrTo {
    /// A pipe the test reads.
    Pipe,
    /// A terminal (the other end of a pseudo-terminal) the test reads.
    #[cfg(target_os = "linux")]
    Terminal(std::fs::File),
    /// Somewhere the test does not read, such as `/dev/full` or `/dev/null`.
    Elsewhere,
}

impl Server {
    /// Starts `bin` on a free port of 127.0.0.1 and waits until it listens.
    pub fn start(bin: &str) -> Server {
        Server::builder(bin).start()
    }

    /// Starts `bin` with extra arguments (`--timeout 300ms`).
    pub fn start_with_args(bin: &str, args: &[&str]) -> Server {
        Server::builder(bin).args(args).start()
    }

    pub fn builder(bin: impl AsRef<OsStr>) -> ServerBuilder {
        let mut command = Command::new(bin);
        // Logging as a learner sees it (`info`, no colours), whatever the
        // environment running the tests says.
        command
            .env_remove("RUST_LOG")
            .env("RUST_LOG_STYLE", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Killed with the test too when the test process dies before it can
        // drop the `Server` (cargo test interrupted, a test that aborts).
        die_with_this_process(&mut command);
        ServerBuilder {
            command,
            addr: "127.0.0.1:0".to_string(),
            stderr: StderrTo::Pipe,
            log_on_stdout: false,
            found_by: FoundBy::ItsLine,
            shown_at_drop: true,
            kept_until_listening: false,
        }
    }

    /// Waits until `found`, given the process id, finds where the server
    /// listens, or the server exits. Asks a hundred times a second: nothing
    /// says when a port starts to listen.
    fn wait_until_found(
        &mut self,
        mut found: impl FnMut(u32) -> Option<SocketAddr>,
    ) -> Result<SocketAddr, Waited> {
        let started = Instant::now();
        loop {
            if let Some(addr) = found(self.pid()) {
                return Ok(addr);
            }
            if self.exit_status().is_some() {
                return Err(Waited::Exited);
            }
            if started.elapsed() >= patience() {
                return Err(Waited::GaveUp);
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the log holds a complete `listening on ADDR` line, or
    /// ends without one (the server exited). A line whose ADDR no client can
    /// reach ends the wait too: it will not be said again.
    fn wait_for_the_listening_line(&self) -> Result<SocketAddr, Waited> {
        let log = self
            .log
            .as_deref()
            .expect("the log goes where it is not read: find the server another way");
        let seen = log.wait_within(patience(), |collected| {
            match listening_addr(&collected.bytes) {
                Some(Ok(addr)) => Some(Ok(addr)),
                Some(Err(said)) => Some(Err(Waited::SaidNoUsableAddress(said))),
                None if collected.closed => Some(Err(Waited::Exited)),
                None => None,
            }
        });
        seen.unwrap_or(Err(Waited::GaveUp))
    }

    /// What the server has said so far: stderr, then its log if that is apart.
    fn said_so_far(&self) -> String {
        let mut said = match (&self.stderr, self.log_apart()) {
            (Some(stderr), true) => stderr.bytes(),
            _ => Vec::new(),
        };
        if let Some(log) = &self.log {
            said.extend_from_slice(&log.bytes());
        }
        String::from_utf8_lossy(&said).into_owned()
    }

    /// How a server that exited before it listened ended, and all it said.
    fn exited(&mut self) -> Exited {
        self.forget();
        let status = self.child.wait().unwrap();
        for output in [&self.stderr, &self.log].into_iter().flatten() {
            output.wait_on("the server's output to end", |collected| {
                collected.closed.then_some(())
            });
        }
        Exited {
            status,
            output: self.said_so_far(),
        }
    }

    /// Whether the log is collected apart from stderr.
    fn log_apart(&self) -> bool {
        match (&self.stderr, &self.log) {
            (Some(stderr), Some(log)) => !Arc::ptr_eq(stderr, log),
            _ => true,
        }
    }

    fn log_output(&self) -> &Output {
        self.log
            .as_deref()
            .expect("this test sent the server's log elsewhere")
    }

    /// The address the server reported in its `listening on ADDR` line.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id, for tools that watch the server's memory.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Connects a new client. Its reads and writes give up after [`patience`](crate::patience).
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr)
            .unwrap_or_else(|err| panic!("cannot connect to {}: {err}", self.addr));
        stream.set_read_timeout(Some(patience())).unwrap();
        stream.set_write_timeout(Some(patience())).unwrap();
        stream
    }

    /// Waits until stderr contains `needle`; returns where it starts.
    pub fn wait_for(&self, needle: impl AsRef<[u8]>) -> usize {
        let needle = needle.as_ref();
        let what = format!("{:?} on stderr", String::from_utf8_lossy(needle));
        self.wait_until(&what, |stderr| find(stderr, needle))
    }

    /// Whether stderr comes to contain `needle` within `window`: for a check
    /// that something does *not* happen, which only a window can show.
    pub fn appears_within(&self, needle: &str, window: Duration) -> bool {
        let output = self.stderr_output();
        let found = output.wait_within(window, |seen| find(&seen.bytes, needle.as_bytes()));
        found.is_ok()
    }

    /// Waits until stderr contains `needle` `count` times.
    pub fn wait_for_count(&self, needle: &str, count: usize) {
        let what = format!("{count} times {needle:?} on stderr");
        self.wait_until(&what, |stderr| {
            (String::from_utf8_lossy(stderr).matches(needle).count() >= count).then_some(())
        })
    }

    /// Waits until the log (on stdout, see [`ServerBuilder::log_on_stdout`])
    /// contains `needle`.
    pub fn wait_for_in_log(&self, needle: &str) {
        self.wait_for_count_in_log(needle, 1);
    }

    /// Waits until the log contains `needle` `count` times.
    pub fn wait_for_count_in_log(&self, needle: &str, count: usize) {
        let what = format!("{count} times {needle:?} in the log");
        self.log_output().wait_on(&what, |collected| {
            let log = String::from_utf8_lossy(&collected.bytes);
            (log.matches(needle).count() >= count).then_some(())
        });
    }

    /// The log so far, as text.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&self.log_output().bytes()).into_owned()
    }

    /// Waits until stderr holds at least `len` bytes. A large transfer may
    /// take a while on a loaded machine, so this fails only when stderr stops
    /// growing for [`patience`](crate::patience) (or the server exits) before reaching `len`.
    pub fn wait_for_len(&self, len: usize) -> Vec<u8> {
        loop {
            let so_far = self.stderr_output().collected().bytes.len();
            if so_far >= len {
                return self.stderr();
            }
            let what = format!("{len} bytes on stderr, or at least more than {so_far}");
            self.wait_until(&what, |stderr| (stderr.len() > so_far).then_some(()));
        }
    }

    /// Waits until `check` finds what it looks for in all of stderr so far.
    /// Fails after [`patience`](crate::patience), or as soon as the server exits without it,
    /// and says what it waited for and how stderr ends.
    pub fn wait_until<T>(&self, what: &str, mut check: impl FnMut(&[u8]) -> Option<T>) -> T {
        self.stderr_output()
            .wait_on(what, |collected| check(&collected.bytes))
    }

    fn stderr_output(&self) -> &Output {
        self.stderr
            .as_deref()
            .expect("this test sent the server's stderr elsewhere")
    }

    /// Everything the server has written to stderr so far.
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr_output().bytes()
    }

    /// Where `needle` first starts on stderr, if it is there yet: to tell
    /// what came first.
    pub fn position(&self, needle: &str) -> Option<usize> {
        find(&self.stderr_output().collected().bytes, needle.as_bytes())
    }

    /// When `needle` was first complete on stderr, if it is there yet: the
    /// moment the piece of stderr that completed it was read.
    pub fn seen_at(&self, needle: &str) -> Option<Instant> {
        let collected = self.stderr_output().collected();
        let end = find(&collected.bytes, needle.as_bytes())? + needle.len();
        collected
            .arrivals
            .iter()
            .find(|(len, _)| *len >= end)
            .map(|(_, at)| *at)
    }

    /// Whether stderr has ended, which it does when the server exits.
    pub fn stderr_ended(&self) -> bool {
        self.stderr_output().collected().closed
    }

    /// How many bytes of stderr have been read, kept or not (see
    /// [`ServerBuilder::kept_until_listening`]); 0 where stderr goes
    /// elsewhere.
    pub fn stderr_bytes_read(&self) -> u64 {
        self.stderr
            .as_ref()
            .map_or(0, |stderr| stderr.collected().read)
    }

    /// Waits until `check` finds what it looks for, looking again each time
    /// stderr grows, without blocking the thread: for async code, which
    /// bounds the wait itself (`tokio::time::timeout`). `None` once stderr
    /// has ended without it: the server exited.
    pub async fn until_stderr_shows<T>(&self, mut check: impl FnMut() -> Option<T>) -> Option<T> {
        let output = self.stderr_output();
        // Subscribed before the first look: what arrives after it wakes us.
        let mut grew = output.grew_async.subscribe();
        loop {
            if let Some(found) = check() {
                return Some(found);
            }
            if output.collected().closed {
                return None;
            }
            // The sender lives as long as `output`: this never fails.
            let _ = grew.changed().await;
        }
    }

    /// Stderr so far as text, with any binary data shown lossily.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr()).into_owned()
    }

    /// Sends `signal` (such as `libc::SIGINT`) to the process.
    #[cfg(unix)]
    pub fn signal(&self, signal: i32) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: kill has no memory effects; the pid is our own child's.
        let status = unsafe { libc::kill(pid, signal) };
        assert_eq!(status, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits until the process exits, for at most [`patience`](crate::patience), and returns
    /// its exit status. The process's end shows as the end of its stderr.
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        self.log_output()
            .wait_on("the server to exit", |collected| {
                collected.closed.then_some(())
            });
        self.forget();
        self.child.wait().unwrap()
    }

    /// The fields of `/proc/PID/stat` from the 3rd on (the ones after the
    /// command name, which is in parentheses and may hold spaces): the 3rd
    /// field, the process's state, comes first.
    #[cfg(target_os = "linux")]
    fn stat(&self) -> Vec<String> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 1..];
        after_name.split_whitespace().map(str::to_string).collect()
    }

    /// The processor time the process has used so far (user and system),
    /// as Linux reports it in `/proc/PID/stat`.
    #[cfg(target_os = "linux")]
    pub fn cpu_time(&self) -> Duration {
        // User and system time are the 14th and 15th fields, in clock
        // ticks. Some fields before them may be negative (-1 without a
        // terminal), so count the fields rather than keep the numbers.
        let fields = self.stat();
        let ticks = fields[14 - 3].parse::<u64>().unwrap() + fields[15 - 3].parse::<u64>().unwrap();
        // SAFETY: sysconf only reads a configuration value.
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        Duration::from_millis(ticks * 1000 / ticks_per_second)
    }

    /// Stops the process (SIGSTOP, as if it were busy elsewhere: it runs no
    /// code, accepts no one) and waits until Linux says it is stopped.
    #[cfg(target_os = "linux")]
    pub fn stop(&self) {
        self.signal(libc::SIGSTOP);
        let started = Instant::now();
        while self.stat()[0] != "T" {
            assert!(
                started.elapsed() < patience(),
                "the server never stopped: {:?}",
                self.stat()
            );
            thread::yield_now();
        }
    }

    /// Lets a process stopped with [`Server::stop`] run again.
    #[cfg(target_os = "linux")]
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// How many threads the process has, as Linux reports in `/proc/PID/status`.
    #[cfg(target_os = "linux")]
    pub fn threads(&self) -> usize {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("Threads:"))
            .unwrap();
        line["Threads:".len()..].trim().parse().unwrap()
    }

    /// Stops reading the server's stderr, as a terminal does when you press
    /// Ctrl-S or select text: once the pipe is full, every write to stderr
    /// waits. (At most one more read may still arrive.)
    pub fn pause_stderr(&self) {
        self.stderr_output().collected().reading = Reading::Paused;
    }

    /// Stops reading the server's stderr for good and closes its end of the
    /// pipe, as `| head` does once it has its lines: the server's writes to
    /// stderr then fail. The pipe closes once its next read returns; after
    /// that, stderr is never seen to end, so read the log elsewhere
    /// ([`ServerBuilder::log_on_stdout`]).
    pub fn close_stderr(&self) {
        let output = self.stderr_output();
        output.collected().reading = Reading::Closed;
        output.grew.notify_all();
    }

    /// After [`Server::pause_stderr`], waits until a thread of the server is
    /// stuck writing stderr, asleep in a pipe write, as Linux says in
    /// `/proc/PID/task/TID/wchan` (`pipe_write` or, before Linux 5.5,
    /// `pipe_wait`). Where `common`'s stderr writer thread is, that thread:
    /// the log may be on another pipe ([`ServerBuilder::log_on_stdout`]).
    /// Where it is not (`stage4-tokio-stderr`), any thread. Returns false at
    /// once where the kernel does not say where threads sleep (it shows
    /// `0`), so that the test can say it is skipped.
    #[cfg(target_os = "linux")]
    pub fn wait_until_stuck_writing_stderr(&self) -> bool {
        let tasks = format!("/proc/{}/task", self.child.id());
        let read = |task: &std::path::Path, file: &str| {
            std::fs::read_to_string(task.join(file)).unwrap_or_default()
        };
        // Where each thread sleeps, and whether it is the stderr writer.
        let threads = || -> Vec<(String, bool)> {
            let tasks = std::fs::read_dir(&tasks).unwrap().flatten();
            tasks
                .map(|task| {
                    let task = task.path();
                    (
                        read(&task, "wchan"),
                        read(&task, "comm").trim() == "stderr writer",
                    )
                })
                .collect()
        };
        if threads().iter().all(|(wchan, _)| wchan == "0") {
            return false;
        }
        let has_a_writer = threads().iter().any(|(_, writer)| *writer);
        let started = Instant::now();
        loop {
            let threads = threads();
            if threads
                .iter()
                .any(|(wchan, writer)| (*writer || !has_a_writer) && wchan.contains("pipe_w"))
            {
                return true;
            }
            assert!(
                started.elapsed() < patience(),
                "waited {:?} for the stderr writer to be stuck; threads sleep in {threads:?}",
                started.elapsed()
            );
            // Polling /proc, which has no way to say "changed": a pause
            // between looks leaves the 2 cores to the server and its client.
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Reads the server's stderr slowly from now on, at most 16 KiB a
    /// millisecond, as a slow terminal or a busy reader does: stderr moves,
    /// but slower than clients that send without pause.
    pub fn read_stderr_slowly(&self) {
        let output = self.stderr_output();
        output.collected().reading = Reading::Slowly;
        output.grew.notify_all();
    }

    /// Reads the server's stderr again after [`Server::pause_stderr`].
    pub fn resume_stderr(&self) {
        let output = self.stderr_output();
        output.collected().reading = Reading::On;
        output.grew.notify_all();
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none()
    }

    /// How the process exited, if it has.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        // Reaped and forgotten under one lock: `end_every_server` never sees
        // the id of a child already reaped, which may be another's by then.
        #[cfg(unix)]
        let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        let status = self.child.try_wait().unwrap();
        #[cfg(unix)]
        if status.is_some() {
            running.retain(|&pid| pid != self.child.id());
        }
        status
    }

    /// Takes the server out of those [`end_every_server`] kills, before it
    /// is waited for: after that its process id may be another's.
    fn forget(&self) {
        #[cfg(unix)]
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&pid| pid != self.child.id());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.forget();
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Shown with `cargo test -- --nocapture`; a failing test has already
        // shown it in its panic message.
        match &self.log {
            Some(log) if self.shown_at_drop && !thread::panicking() => {
                eprintln!("{}", tail(&log.bytes()));
            }
            _ => {}
        }
    }
}

impl ServerBuilder {
    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// Limits the open files of the process to `limit`, as `ulimit -n` does.
    #[cfg(unix)]
    pub fn open_file_limit(mut self, limit: u64) -> Self {
        limit_open_files(&mut self.command, limit, limit);
        self
    }

    /// Listens on `addr` instead of 127.0.0.1:0.
    pub fn addr(mut self, addr: &str) -> Self {
        self.addr = addr.to_string();
        self
    }

    /// Sends the log to stdout (`--log-file /dev/stdout`), where the test
    /// reads it apart from stderr, which then holds only the clients' bytes.
    #[cfg(unix)]
    pub fn log_on_stdout(mut self) -> Self {
        self.command
            .args(["--log-file", "/dev/stdout"])
            .stdout(Stdio::piped());
        self.log_on_stdout = true;
        self
    }

    /// Sends stderr to `file` (such as `/dev/full`, or `Stdio::null()`),
    /// where the test does not read it; with [`ServerBuilder::log_on_stdout`],
    /// or [given a port](ServerBuilder::given_a_port), or
    /// [looking](ServerBuilder::found_by_looking), to find the port.
    pub fn stderr_to(mut self, file: impl Into<Stdio>) -> Self {
        self.command.stderr(file);
        self.stderr = StderrTo::Elsewhere;
        self
    }

    /// Makes stderr a terminal, as when a learner runs the server in one:
    /// the server side of a pseudo-terminal, in raw mode so that what the
    /// test reads is what the server wrote (no "\r" added before "\n").
    /// Linux only: the calls are POSIX, but `ptsname_r` is a GNU extension.
    #[cfg(target_os = "linux")]
    pub fn stderr_on_a_terminal(mut self) -> Self {
        use std::io::Error;
        use std::os::fd::{FromRawFd, OwnedFd};
        let check = |status: libc::c_int, call: &str| {
            assert!(status >= 0, "{call}: {}", Error::last_os_error());
            status
        };
        // Both ends are opened close-on-exec, so that no server another
        // test starts meanwhile inherits them (the test's end would then
        // never see this server exit).
        // SAFETY: each call gets valid arguments and is checked; the two
        // descriptors opened are then owned once each.
        unsafe {
            let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
            let ours = check(libc::posix_openpt(flags), "posix_openpt");
            let ours = std::fs::File::from_raw_fd(ours);
            check(libc::grantpt(ours.as_raw_fd()), "grantpt");
            check(libc::unlockpt(ours.as_raw_fd()), "unlockpt");
            let mut name = [0 as libc::c_char; 128];
            let named = libc::ptsname_r(ours.as_raw_fd(), name.as_mut_ptr(), name.len());
            assert_eq!(named, 0, "ptsname_r: {}", Error::from_raw_os_error(named));
            let servers = check(libc::open(name.as_ptr(), flags), "open");
            let servers = OwnedFd::from_raw_fd(servers);
            let mut settings = std::mem::zeroed::<libc::termios>();
            check(
                libc::tcgetattr(servers.as_raw_fd(), &mut settings),
                "tcgetattr",
            );
            libc::cfmakeraw(&mut settings);
            check(
                libc::tcsetattr(servers.as_raw_fd(), libc::TCSANOW, &settings),
                "tcsetattr",
            );
            self.command.stderr(servers);
            self.stderr = StderrTo::Terminal(ours);
        }
        self
    }

    /// For a server that does not log `listening on ADDR` (Go's, a
    /// learner's): it is given a port of 127.0.0.1 that was free a moment
    /// ago, and is seen to listen on it. On Linux that is seen in `/proc`
    /// ([`listening`](crate::listening)): the server sees no extra client,
    /// and another process that took the port first is not taken for it
    /// (the server then exits saying the port is in use: see
    /// [`NotStarted::port_was_taken`]). Elsewhere a connection to the port
    /// shows it, closed at once: the server sees a client that says nothing
    /// and leaves.
    pub fn given_a_port(mut self) -> Self {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = probe.local_addr().unwrap();
        self.addr = addr.to_string();
        self.found_by = FoundBy::GivenPort(addr);
        self
    }

    /// For a server whose log is not read, and that must see no client
    /// before those it is measured with (a connection it served would count
    /// in its baseline): `look` says where it listens, given its process id,
    /// or `None` while it does not yet (the workshop's bench reads the
    /// kernel's tables of sockets).
    pub fn found_by_looking(
        mut self,
        look: impl FnMut(u32) -> Option<SocketAddr> + Send + 'static,
    ) -> Self {
        self.found_by = FoundBy::Looking(Box::new(look));
        self
    }

    /// Does not show how the server's log ends when it is dropped, as it
    /// does for `cargo test -- --nocapture`: for `workshop check`, whose
    /// report says what matters.
    pub fn quietly(mut self) -> Self {
        self.shown_at_drop = false;
        self
    }

    /// Keeps stderr only until the server listens, then reads it and drops
    /// what it reads, counting it ([`Server::stderr_bytes_read`]): for a
    /// server under a load, whose stderr would otherwise fill memory.
    pub fn kept_until_listening(mut self) -> Self {
        self.kept_until_listening = true;
        self
    }

    /// Spawns the server and waits until it listens; panics, saying why
    /// (see [`NotStarted`]), when it does not: a test's failure.
    pub fn start(self) -> Server {
        self.spawn()
            .and_then(Starting::listening)
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// Spawns the server and waits until it listens, or until it exits
    /// first (a server that cannot start); panics, saying why, when it does
    /// neither.
    pub fn try_start(self) -> Result<Server, Exited> {
        match self.spawn().and_then(Starting::listening) {
            Ok(server) => Ok(server),
            Err(NotStarted::DidNotListen {
                exited: Some(status),
                output,
                ..
            }) => Err(Exited { status, output }),
            Err(why) => panic!("{why}"),
        }
    }

    /// Spawns the server, and leaves the wait until it listens to
    /// [`Starting::listening`]: for async code, which spawns on a thread of
    /// its runtime, one that lives as long as the server must (the server
    /// dies with the thread that started it, see [`die_with_this_process`]),
    /// and waits on a thread that may block.
    pub fn spawn(mut self) -> Result<Starting, NotStarted> {
        #[cfg(unix)]
        signals_as_a_terminal_sends_them(&mut self.command);
        let spawned = self.command.args(["--addr", &self.addr]).spawn();
        let mut child = spawned.map_err(|error| NotStarted::CannotRun {
            program: self.command.get_program().to_string_lossy().into_owned(),
            error,
        })?;
        #[cfg(unix)]
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(child.id());
        // The parent's copy of a terminal's slave side closes with the
        // command, so that the end of the server's stderr shows.
        drop(self.command);
        let stderr = match self.stderr {
            StderrTo::Pipe => Some(Output::collect(child.stderr.take().unwrap())),
            #[cfg(target_os = "linux")]
            // Once the server has exited, reading the terminal fails (EIO):
            // the collector takes that as the end.
            StderrTo::Terminal(master) => Some(Output::collect(master)),
            StderrTo::Elsewhere => None,
        };
        let log = match self.log_on_stdout {
            true => Some(Output::collect(child.stdout.take().unwrap())),
            false => stderr.clone(),
        };
        Ok(Starting {
            server: Server {
                child,
                addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                stderr,
                log,
                shown_at_drop: self.shown_at_drop,
            },
            found_by: self.found_by,
            kept_until_listening: self.kept_until_listening,
        })
    }
}

/// A server spawned, not yet seen to listen: [`ServerBuilder::spawn`].
pub struct Starting {
    server: Server,
    found_by: FoundBy,
    kept_until_listening: bool,
}

impl Starting {
    /// Waits, for at most [`patience`](crate::patience), until the server
    /// says `listening on ADDR` or, [given a port](ServerBuilder::given_a_port),
    /// listens on it, or, found [by looking](ServerBuilder::found_by_looking), is seen to
    /// listen. A `listening on` line that gives no address a client can
    /// reach is [`NotStarted::NoUsableAddress`], not a panic: a learner's
    /// server that logs the address it was given is wrong, not the caller.
    pub fn listening(self) -> Result<Server, NotStarted> {
        let Starting {
            mut server,
            found_by,
            kept_until_listening,
        } = self;
        let started = Instant::now();
        let (listening, waited_for) = match found_by {
            FoundBy::ItsLine => (
                server.wait_for_the_listening_line(),
                "say `listening on ADDR`".to_string(),
            ),
            FoundBy::GivenPort(addr) => (
                server.wait_until_found(|pid| listens_on(pid, addr)),
                format!("listen on {addr}"),
            ),
            FoundBy::Looking(look) => (server.wait_until_found(look), "listen".to_string()),
        };
        let exited = match listening {
            Ok(addr) => {
                server.addr = addr;
                if let Some(stderr) = server.stderr.as_ref().filter(|_| kept_until_listening) {
                    stderr.collected().kept = false;
                }
                return Ok(server);
            }
            Err(Waited::Exited) => Some(server.exited()),
            Err(Waited::GaveUp) => None,
            Err(Waited::SaidNoUsableAddress(said)) => {
                // The error says what it said; dropping the server kills it.
                server.shown_at_drop = false;
                return Err(NotStarted::NoUsableAddress { said });
            }
        };
        // What it said is in the error: no need to show it again at drop.
        server.shown_at_drop = false;
        Err(NotStarted::DidNotListen {
            waited_for,
            waited: started.elapsed(),
            exited: exited.as_ref().map(|exited| exited.status),
            output: exited.map_or_else(|| server.said_so_far(), |exited| exited.output),
        })
    }
}

/// Why a server is not listening.
#[derive(Debug)]
pub enum NotStarted {
    /// The program could not be run at all.
    CannotRun {
        program: String,
        error: std::io::Error,
    },
    /// It ran, but did not `waited_for` (say `listening on ADDR`, accept
    /// connections on ADDR, listen): it exited first, or was still running
    /// after `waited`. `output` is what it said, stderr then its log if apart.
    DidNotListen {
        waited_for: String,
        waited: Duration,
        exited: Option<ExitStatus>,
        output: String,
    },
    /// It said `listening on ADDR`, but no client can reach it there: `said`
    /// is what followed `listening on `, an address with port 0 (the one it
    /// was given, not the one it got) or no address at all. A learner's
    /// server, most likely, that logs its `--addr` rather than what
    /// `local_addr()` says.
    NoUsableAddress { said: String },
}

impl std::fmt::Display for NotStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotStarted::CannotRun { program, error } => {
                write!(f, "cannot start {program}: {error}")
            }
            NotStarted::DidNotListen { output, .. } => {
                write!(f, "{}; {}", self.what_happened(), tail(output.as_bytes()))
            }
            NotStarted::NoUsableAddress { said } => {
                let shown = shortened(said);
                match said.parse::<SocketAddr>() {
                    Ok(addr) if addr.port() == 0 => write!(
                        f,
                        "the server said `listening on {shown}`, the address it was given, not the one it got (port 0 asks for any free port): log the address `listener.local_addr()` gives"
                    ),
                    _ => write!(
                        f,
                        "the server said `listening on {shown}`, which is no address: end that line with the address `listener.local_addr()` gives, as in `listening on 127.0.0.1:40123`"
                    ),
                }
            }
        }
    }
}

impl NotStarted {
    /// What happened, in one line: for a server that did not listen, what
    /// it was waited for and how the wait ended, without what it said.
    pub fn what_happened(&self) -> String {
        match self {
            NotStarted::DidNotListen {
                waited_for,
                exited: Some(status),
                ..
            } => format!("waited for the server to {waited_for}, but it exited ({status})"),
            NotStarted::DidNotListen {
                waited_for, waited, ..
            } => format!("waited {waited:.1?} for the server to {waited_for}"),
            other => other.to_string(),
        }
    }

    /// Whether it exited saying its port is in use: a port
    /// [given](ServerBuilder::given_a_port) to it, which another process took
    /// between the moment it was picked and the server's bind.
    pub fn port_was_taken(&self) -> bool {
        let NotStarted::DidNotListen {
            exited: Some(_),
            output,
            ..
        } = self
        else {
            return false;
        };
        says_its_port_is_in_use(output)
    }
}

/// Whether `said` says a port is in use, in the words of Linux and macOS
/// ("Address already in use") or Windows ("Only one usage of each socket
/// address ... is normally permitted").
pub fn says_its_port_is_in_use(said: &str) -> bool {
    let said = said.to_lowercase();
    said.contains("in use") || said.contains("only one usage")
}

/// How a wait for a server to listen ended, when it did not see it listen.
enum Waited {
    Exited,
    GaveUp,
    /// Its `listening on` line said this, which is no address to connect to.
    SaidNoUsableAddress(String),
}

/// A server that exited before it listened: its exit status, and what it
/// wrote to stderr, then to its log if that was elsewhere.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub output: String,
}

/// `addr`, once process `pid` is seen listening on it, in `/proc`.
#[cfg(target_os = "linux")]
fn listens_on(pid: u32, addr: SocketAddr) -> Option<SocketAddr> {
    let ports = crate::listening::listening_ports(pid);
    ports.contains(&addr.port()).then_some(addr)
}

/// `addr`, once a connection to it succeeds: where there is no `/proc`,
/// the best sign there is, though another process that took the port
/// first would give it too.
#[cfg(not(target_os = "linux"))]
fn listens_on(_pid: u32, addr: SocketAddr) -> Option<SocketAddr> {
    let accepted = TcpStream::connect_timeout(&addr, Duration::from_millis(200));
    accepted.is_ok().then_some(addr)
}

/// What a server wrote to one pipe, collected so far, and a signal for each
/// new chunk: for threads that wait, and for async code (a watch channel, on
/// which a task waits without holding up its thread).
struct Output {
    bytes: Mutex<Collected>,
    grew: Condvar,
    grew_async: watch::Sender<()>,
}

struct Collected {
    bytes: Vec<u8>,
    /// For each piece read: the length of `bytes` with it, and when it came.
    arrivals: Vec<(usize, Instant)>,
    /// Whether what is read is kept, or only counted in `read`.
    kept: bool,
    /// How many bytes were read, kept or not.
    read: u64,
    closed: bool,
    reading: Reading,
}

/// Whether the test reads the pipe.
#[derive(Default, PartialEq)]
enum Reading {
    #[default]
    On,
    /// Nobody reads the pipe: the server's writes fill it, then wait.
    Paused,
    /// The reading end is closed: the server's writes fail.
    Closed,
    /// A small read, then a millisecond's pause: a slow reader.
    Slowly,
}

impl Output {
    /// Starts a thread that reads `pipe` until the process exits, so that
    /// it never fills up and blocks the server.
    fn collect(pipe: impl Read + Send + 'static) -> Arc<Output> {
        let output = Arc::new(Output {
            bytes: Mutex::new(Collected {
                bytes: Vec::new(),
                arrivals: Vec::new(),
                kept: true,
                read: 0,
                closed: false,
                reading: Reading::On,
            }),
            grew: Condvar::new(),
            grew_async: watch::Sender::new(()),
        });
        let collector = Arc::clone(&output);
        thread::spawn(move || collector.read_until_the_end(pipe));
        output
    }

    fn read_until_the_end(&self, mut pipe: impl Read) {
        let mut buf = [0u8; 64 * 1024];
        let mut slowly = false;
        loop {
            // The pause paces the reader; it waits for nothing.
            if slowly {
                thread::sleep(Duration::from_millis(1));
            }
            let most = if slowly { 16 * 1024 } else { buf.len() };
            let n = pipe.read(&mut buf[..most]).unwrap_or(0);
            let mut collected = self.collected();
            collected.read += n as u64;
            if collected.kept && n > 0 {
                collected.bytes.extend_from_slice(&buf[..n]);
                let len = collected.bytes.len();
                collected.arrivals.push((len, Instant::now()));
            }
            collected.closed = n == 0;
            self.grew.notify_all();
            self.grew_async.send_replace(());
            if n == 0 {
                return;
            }
            while collected.reading == Reading::Paused {
                collected = self
                    .grew
                    .wait(collected)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if collected.reading == Reading::Closed {
                // Dropping `pipe` closes the reading end. The server is still
                // running: this output is not `closed`.
                return;
            }
            slowly = collected.reading == Reading::Slowly;
        }
    }

    /// What was collected so far, locked. (A panic of the reader thread
    /// while it held the lock leaves it as it was: still worth reading.)
    fn collected(&self) -> std::sync::MutexGuard<'_, Collected> {
        self.bytes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// All the bytes collected so far.
    fn bytes(&self) -> Vec<u8> {
        self.collected().bytes.clone()
    }

    /// Waits until `done` finds what it looks for in what was collected
    /// (which also tells whether the process has exited), for at most
    /// [`patience`](crate::patience), and fails early if the process exits first.
    fn wait_on<T>(&self, what: &str, done: impl FnMut(&Collected) -> Option<T>) -> T {
        self.wait_within(patience(), done)
            .unwrap_or_else(|why| panic!("waited for {what}, {why}"))
    }

    /// Waits until `done` finds what it looks for, for at most `within`;
    /// otherwise says why not (the process exited, or time ran out) and how
    /// the output ends.
    fn wait_within<T>(
        &self,
        within: Duration,
        mut done: impl FnMut(&Collected) -> Option<T>,
    ) -> Result<T, String> {
        let started = Instant::now();
        let deadline = started + within;
        let mut seen = self.collected();
        loop {
            if let Some(found) = done(&seen) {
                return Ok(found);
            }
            let now = Instant::now();
            if seen.closed || now >= deadline {
                let why = if seen.closed {
                    "the server exited"
                } else {
                    "gave up"
                };
                return Err(format!(
                    "{why} after {:.1?}; {}",
                    started.elapsed(),
                    tail(&seen.bytes)
                ));
            }
            seen = self.grew.wait_timeout(seen, deadline - now).unwrap().0;
        }
    }
}

/// How stderr ends, for a message: its size and its last 2 KiB, with any
/// binary data shown lossily.
fn tail(stderr: &[u8]) -> String {
    const SHOWN: usize = 2048;
    let start = stderr.len().saturating_sub(SHOWN);
    let cut = if start > 0 { "...\n" } else { "" };
    format!(
        "the server's stderr ({} bytes) ends:\n{cut}{}",
        stderr.len(),
        String::from_utf8_lossy(&stderr[start..])
    )
}

/// The address in the first complete `listening on ADDR` line, if any yet;
/// or, when ADDR is no address or has port 0 (which no client can connect
/// to), what the line said instead.
fn listening_addr(stderr: &[u8]) -> Option<Result<SocketAddr, String>> {
    let marker = b"listening on ";
    let start = find(stderr, marker)? + marker.len();
    let len = stderr[start..].iter().position(|&b| b == b'\n')?;
    let said = String::from_utf8_lossy(&stderr[start..start + len]);
    let said = said.trim();
    Some(match said.parse::<SocketAddr>() {
        Ok(addr) if addr.port() != 0 => Ok(addr),
        _ => Err(said.to_string()),
    })
}

/// `text`, cut to its first 80 characters if longer: one line of an error.
fn shortened(text: &str) -> String {
    const SHOWN: usize = 80;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// Where `needle` first occurs in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len().max(1))
        .position(|window| window == needle)
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

/// The servers this process runs and has not yet dropped, by process id:
/// for [`end_every_server`].
#[cfg(unix)]
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Kills every server this process runs: for a program about to end on a
/// signal (`kill`), whose servers would otherwise outlive
/// it where nothing in the kernel ends them (macOS; Linux has
/// PR_SET_PDEATHSIG, Windows a job object, see [`die_with_this_process`]).
/// Their `Server`s, never dropped, kill nothing more.
#[cfg(unix)]
pub fn end_every_server() {
    let running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    for &pid in running.iter() {
        // SAFETY: kill takes any process id and signal; each of these is a
        // child not yet waited for, so the id is still its own.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// Gives what `command` starts the default action of the signals a terminal
/// sends (SIGHUP, SIGINT, SIGQUIT), whatever this process was given: tests
/// run under `nohup` (which ignores SIGHUP) or in a script's background
/// (where SIGINT and SIGQUIT are ignored), dispositions children inherit,
/// still see a server that a hang-up or a Ctrl-C ends, as a terminal's
/// would. A test of `nohup` runs `nohup` itself as the server.
#[cfg(unix)]
pub(crate) fn signals_as_a_terminal_sends_them(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only async-signal-safe calls are
    // allowed, and signal is one.
    unsafe {
        command.pre_exec(|| {
            for signal in [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
                if libc::signal(signal, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Has the kernel end what `command` starts when this process ends,
/// however it ends: dropping a handle needs an orderly exit, and Ctrl-C or
/// a kill is not one. On Linux, PR_SET_PDEATHSIG, which acts when the
/// thread that started the child ends; on Windows, a job object this
/// process puts itself in, which its children join and which ends them all
/// with it; on macOS nothing of the kind exists (a Ctrl-C in the terminal
/// still reaches the children, which share its process group).
pub fn die_with_this_process(command: &mut std::process::Command) {
    #[cfg(windows)]
    in_a_job_that_ends_with_this_process();
    #[cfg(target_os = "linux")]
    // SAFETY: between fork and exec only async-signal-safe calls are
    // allowed, and prctl is one.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(
            || match libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            },
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// Puts this process, once, in a job object that kills every process in it
/// when its last handle closes, which is when this process ends: the
/// children it starts from then on join the job. Where that fails (a job
/// this one cannot nest in), the children outlive a killed parent, as
/// before. Checked by compiling only: Windows cannot run here.
#[cfg(windows)]
fn in_a_job_that_ends_with_this_process() {
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        SetInformationJobObject,
    };
    use windows_sys::Win32::System::Threading::GetCurrentProcess;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: each call gets valid arguments: no name or security
        // attributes, a zeroed limit structure (valid: plain integers) of
        // the size given, and the job's handle, checked, which is kept
        // open on purpose until the process ends.
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if job.is_null() {
                return;
            }
            let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            let set = SetInformationJobObject(
                job,
                JobObjectExtendedLimitInformation,
                (&raw const limits).cast(),
                std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            );
            if set != 0 {
                AssignProcessToJobObject(job, GetCurrentProcess());
            }
        }
    });
}
