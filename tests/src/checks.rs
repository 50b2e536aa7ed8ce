//! The behaviours each stage must show, checked from outside, as any server
//! shows them, whoever wrote it and in whatever language: whether it
//! accepts, which of a client's bytes reach its stderr, when it closes a
//! connection. Never our log lines: Go's programs print none of them.
//! `workshop check` runs these against a learner's server or Go's, and the
//! stages' own tests run them too ([`stage_checks!`](crate::stage_checks)).
//!
//! Every check starts the server with [`Target::args`] and `--addr
//! 127.0.0.1:PORT`. Stage 5's checks add arguments of their own after
//! those: `--grace DURATION` (`1s`, `10s`: Go's `time.ParseDuration` and
//! Rust's `humantime` read both) and `--max-connections N` (`2`). A stage-5
//! server must take both as flags (Go: `flag.Duration`, `flag.Int`; Rust:
//! clap's `#[arg(long)]`), and `Target::args` must not give them too (clap
//! refuses a flag given twice). A server that refuses them, stage 4's for
//! one, exits at once, and those checks say so.
//!
//! Stage 5's shutdown checks send the server signals (SIGTERM, as `kill`
//! and service managers do; SIGINT, as Ctrl-C does), and only Unix has
//! them: Windows has no SIGTERM, and a Ctrl-C reaches only the processes of
//! one console. There those checks are left out of the list rather than
//! faked, and stage 5 is judged by the others.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[cfg(unix)]
use crate::patience;
use crate::{NotStarted, Server, Starting, client, with_patience};

/// How long a check waits for something a right server does at once: short,
/// so that a check answers quickly when the server is wrong.
pub const CHECK_PATIENCE: Duration = Duration::from_secs(3);

/// A server to check: its program, the arguments it takes, and the read
/// deadline it was given (stage 4 on; Go's stage 4 has 5 s, fixed). Stage
/// 5's checks add arguments of their own (see the module's docs).
#[derive(Clone, Debug)]
pub struct Target {
    pub bin: String,
    pub args: Vec<String>,
    pub deadline: Duration,
}

/// One behaviour a stage shows.
pub struct Check {
    pub name: &'static str,
    /// What a server that passes does, in a learner's words.
    pub expects: &'static str,
    /// What it means when a server does not, and what to change.
    pub if_not: &'static str,
    run: fn(&Target),
    /// Whether its waits depend on the server's read deadline.
    waits_for_the_deadline: bool,
}

/// How a server failed a check: what it did, and what that means.
#[derive(Debug)]
pub struct Failure {
    pub what: String,
    /// The check's [`Check::if_not`], or, where the server failed a step
    /// the check needs first, what that step's failure means.
    pub means: &'static str,
}

impl Check {
    /// Runs the check on a thread of its own, its waits bounded by
    /// [`CHECK_PATIENCE`] (plus the deadline where it waits for one), and
    /// says what the server did instead when it fails.
    pub fn run(&'static self, target: &Target) -> Result<(), Failure> {
        let patience = match self.waits_for_the_deadline {
            true => CHECK_PATIENCE + target.deadline,
            false => CHECK_PATIENCE,
        };
        let target = target.clone();
        on_a_thread(self.name, move || {
            with_patience(patience, || (self.run)(&target))
        })
        .map_err(|(what, unmet)| Failure {
            what,
            means: if unmet { NEEDS_COPYING } else { self.if_not },
        })
    }
}

/// Runs `check` on a thread named after it (`check: NAME`), and turns its
/// panic into what it said, and whether it was a step the check [`needs`].
fn on_a_thread(name: &str, check: impl FnOnce() + Send + 'static) -> Result<(), (String, bool)> {
    let checking = std::thread::Builder::new()
        .name(format!("check: {name}"))
        .spawn(check)
        .expect("a thread for the check");
    checking
        .join()
        .map_err(|panic| match panic.downcast::<Unmet>() {
            Ok(unmet) => (unmet.0, true),
            Err(panic) => (said(&*panic), false),
        })
}

/// What a panic said.
fn said(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "the check failed".to_string())
}

/// A step a check needs before it can see what it checks failed, saying
/// this.
struct Unmet(String);

/// What it means when a client's bytes never reach stderr, in a check that
/// needs them to, whatever the check itself is about.
const NEEDS_COPYING: &str = "a client's bytes never reached stderr, and this check needs them to before it can see anything else: first make `copies what a client sends to stderr` pass";

/// Runs `step`, which a check needs before it can see what it checks (a
/// client's bytes reaching stderr at all): where it fails, the learner is
/// told that, not what the check's own failure would mean.
fn needs<T>(step: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step))
        .unwrap_or_else(|panic| std::panic::panic_any(Unmet(said(&*panic))))
}

/// Whether `target` starts a server at all: it runs, and listens within
/// [`CHECK_PATIENCE`]; if not, why, with what it said. Before the checks, so that a
/// program that is no server is told so once.
pub fn starts(target: &Target) -> Result<(), NotStarted> {
    started(target, &[]).map(drop)
}

/// Runs stage `stage`'s checks on `target`, all at once (each starts a
/// server of its own): the slowest, a read deadline, sets how long it takes.
/// The outcomes come in the checks' order.
pub fn run_all(stage: u8, target: &Target) -> Vec<(&'static Check, Result<(), Failure>)> {
    let running: Vec<_> = of_stage(stage)
        .iter()
        .map(|check| {
            let target = target.clone();
            (check, std::thread::spawn(move || check.run(&target)))
        })
        .collect();
    running
        .into_iter()
        .map(|(check, outcome)| (check, outcome.join().expect("a check's thread")))
        .collect()
}

/// How long a check looks for something that must *not* happen (B served
/// while A is connected): a right server would have done it long before.
const WINDOW: Duration = Duration::from_millis(500);

/// The checks of stage `stage` (1 to 5), in the order the course meets
/// them; none for another number. Stage 5's are stage 4's and its own,
/// those that send signals on Unix only.
pub fn of_stage(stage: u8) -> &'static [Check] {
    match stage {
        1 => &[CLOSES_EACH_CONNECTION],
        2 => &[COPIES_TO_STDERR, SERVES_ONE_CLIENT_AT_A_TIME],
        3 => &[COPIES_TO_STDERR, SERVES_CLIENTS_TOGETHER],
        4 => &[
            COPIES_TO_STDERR,
            SERVES_CLIENTS_TOGETHER,
            CLOSES_A_SILENT_CLIENT,
            KEEPS_A_CLIENT_THAT_TALKS,
        ],
        5 => &[
            COPIES_TO_STDERR,
            SERVES_CLIENTS_TOGETHER,
            CLOSES_A_SILENT_CLIENT,
            KEEPS_A_CLIENT_THAT_TALKS,
            #[cfg(unix)]
            REFUSES_NEW_CLIENTS_ON_SIGTERM,
            #[cfg(unix)]
            FINISHES_ITS_CLIENTS_ON_SIGTERM,
            #[cfg(unix)]
            FINISHES_ITS_CLIENTS_ON_CTRL_C,
            #[cfg(unix)]
            CLOSES_ITS_CLIENTS_WHEN_THE_GRACE_IS_OVER,
            WAITS_AT_MAX_CONNECTIONS,
        ],
        _ => &[],
    }
}

const CLOSES_EACH_CONNECTION: Check = Check {
    name: "closes_each_connection",
    expects: "each client is accepted, and its connection closed at once",
    if_not: "a client stayed connected: drop the socket `accept` gives you (Rust closes it when it is dropped)",
    run: closes_each_connection,
    waits_for_the_deadline: false,
};

fn closes_each_connection(target: &Target) {
    let server = start(target);
    for _ in 0..3 {
        let mut client = server.connect();
        client::wait_until_closed_by_server(&mut client);
    }
}

const COPIES_TO_STDERR: Check = Check {
    name: "copies_what_a_client_sends_to_stderr",
    expects: "what a client sends appears on the server's stderr, as it was sent",
    if_not: "the client's bytes did not reach stderr: copy the socket to stderr (Go: io.Copy(os.Stderr, conn); tokio: io::copy), and make sure that code runs: an async fn's future does nothing until it is awaited or spawned (did cargo warn `futures do nothing unless you .await or poll them`?)",
    run: copies_to_stderr,
    waits_for_the_deadline: false,
};

fn copies_to_stderr(target: &Target) {
    let server = start(target);
    let mut client = server.connect();
    let sent = "check: hello, server \u{2713}\n";
    client.write_all(sent.as_bytes()).unwrap();
    server.wait_for(sent);
}

const SERVES_ONE_CLIENT_AT_A_TIME: Check = Check {
    name: "serves_one_client_at_a_time",
    expects: "B's bytes appear only once A has disconnected: the accept loop serves A to the end first",
    if_not: "B was served while A was still connected: in this stage, serve each connection inside the accept loop, with `.await`, before accepting the next",
    run: serves_one_client_at_a_time,
    waits_for_the_deadline: false,
};

fn serves_one_client_at_a_time(target: &Target) {
    let server = start(target);
    let mut a = server.connect();
    a.write_all(b"A: first\n").unwrap();
    needs(|| server.wait_for("A: first\n"));
    let mut b = server.connect();
    b.write_all(b"B: waiting\n").unwrap();
    a.write_all(b"A: again\n").unwrap();
    server.wait_for("A: again\n");
    // A server serving both shows B's line soon; only a window can show
    // that it does not.
    assert!(
        !server.appears_within("B: waiting", WINDOW),
        "B's line appeared while A was connected"
    );
    drop(a);
    server.wait_for("B: waiting\n");
}

const SERVES_CLIENTS_TOGETHER: Check = Check {
    name: "serves_clients_together",
    expects: "B's bytes appear while A is still connected, and A goes on being served",
    if_not: "B's bytes did not appear while A was connected: your accept loop waits for each client before accepting the next; hand each connection to a task of its own and do not wait for it (Go: go serviceConn(conn); tokio: tokio::spawn(...), with no .await on the handle it returns, which would wait for the task to end)",
    run: serves_clients_together,
    waits_for_the_deadline: false,
};

fn serves_clients_together(target: &Target) {
    let server = start(target);
    let (a, b) = a_and_b_served_together(&server);
    assert!(
        client::is_open(&a) && client::is_open(&b),
        "a client was closed"
    );
}

/// A says a line; B connects and says one while A stays connected; A says
/// another. Waits for each on stderr, and returns the two clients, still
/// connected. (The scenario the stages' own tests share runs it too.)
pub fn a_and_b_served_together(server: &Server) -> (TcpStream, TcpStream) {
    let mut a = server.connect();
    a.write_all(b"A: hello\n").unwrap();
    needs(|| server.wait_for("A: hello\n"));
    let mut b = server.connect();
    b.write_all(b"B: hello\n").unwrap();
    server.wait_for("B: hello\n");
    a.write_all(b"A: still here\n").unwrap();
    server.wait_for("A: still here\n");
    (a, b)
}

const CLOSES_A_SILENT_CLIENT: Check = Check {
    name: "closes_a_silent_client",
    expects: "a client that says nothing is disconnected once the read deadline passes, not before",
    if_not: "a silent client was not closed on time: put a deadline on each read (Go: conn.SetReadDeadline; tokio: tokio::time::timeout around the read)",
    run: closes_a_silent_client,
    waits_for_the_deadline: true,
};

fn closes_a_silent_client(target: &Target) {
    let server = start(target);
    // Timed from before `connect`: the server's deadline starts later.
    let connecting = Instant::now();
    let mut silent = server.connect();
    client::wait_until_closed_by_server(&mut silent);
    let open_for = connecting.elapsed();
    assert!(
        open_for >= target.deadline,
        "closed after {open_for:?}, before the {:?} deadline",
        target.deadline
    );
}

const KEEPS_A_CLIENT_THAT_TALKS: Check = Check {
    name: "keeps_a_client_that_talks",
    expects: "a client that says something more often than the deadline stays connected: each read starts a new deadline",
    if_not: "a talking client was closed: start the deadline anew for each read, not once per connection",
    run: keeps_a_client_that_talks,
    waits_for_the_deadline: true,
};

fn keeps_a_client_that_talks(target: &Target) {
    let server = start(target);
    let mut talker = server.connect();
    let every = target.deadline / 3;
    for i in 0..5 {
        if i > 0 {
            // Pacing the talk, below the deadline: not a wait for an event.
            std::thread::sleep(every);
        }
        let line = format!("talker: line {i}\n");
        talker.write_all(line.as_bytes()).unwrap();
        match i {
            0 => needs(|| server.wait_for(&line)),
            _ => server.wait_for(&line),
        };
    }
    assert!(
        client::is_open(&talker),
        "the talker, which said something every third of a deadline, was closed"
    );
}

#[cfg(unix)]
const REFUSES_NEW_CLIENTS_ON_SIGTERM: Check = Check {
    name: "refuses_new_clients_at_once_on_sigterm",
    expects: "on SIGTERM (what `kill` sends), a new client is refused at once, while a client already connected is still served",
    if_not: "the server went on listening after SIGTERM, or ended with a client still connected: ask for the signal (Go: signal.Notify(ch, syscall.SIGTERM, os.Interrupt); tokio: tokio::signal::unix::signal(SignalKind::terminate())), tell the accept loop to stop (cancel a tokio_util CancellationToken, or send on a tokio::sync::watch channel, that the loop awaits in a tokio::select! with accept), and drop the listener when the loop ends (Go: l.Close()): new clients are then refused",
    run: refuses_new_clients_on_sigterm,
    waits_for_the_deadline: false,
};

#[cfg(unix)]
fn refuses_new_clients_on_sigterm(target: &Target) {
    let mut server = start_with(target, &["--grace", "10s"]);
    let mut a = a_client_it_serves(&server);
    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    assert!(
        refused_within(&server, patience(), &mut a, often_enough(target)),
        "a new client could still connect {:.1?} after SIGTERM: the server still listens",
        signalled.elapsed()
    );
    // A server that SIGTERM killed refuses too: A shows it is still there.
    // (If this write fails, the server has closed A: the wait says how.)
    let _sent = a.write_all(b"A: after the signal\n");
    served_after_the_signal(&mut server, "A: after the signal\n", "SIGTERM");
}

#[cfg(unix)]
const FINISHES_ITS_CLIENTS_ON_SIGTERM: Check = Check {
    name: "serves_its_clients_after_sigterm_then_exits_0",
    expects: "after SIGTERM, a client already connected is still served (what it sends reaches stderr), and once it leaves the server exits with status 0, without waiting out the rest of --grace",
    if_not: "SIGTERM ended the server, cut its clients off, or it did not exit once they had left: after the accept loop, wait for the connections' tasks (tokio_util's TaskTracker: spawn them on it, then close() and wait(); Go: a sync.WaitGroup), for at most --grace (tokio::time::timeout), then return from main, which exits with status 0",
    run: |target| serves_its_clients_then_exits_0(target, libc::SIGTERM, "SIGTERM"),
    waits_for_the_deadline: false,
};

#[cfg(unix)]
const FINISHES_ITS_CLIENTS_ON_CTRL_C: Check = Check {
    name: "serves_its_clients_after_ctrl_c_then_exits_0",
    expects: "Ctrl-C (SIGINT) shuts the server down as SIGTERM does: a client already connected is still served, and once it leaves the server exits with status 0",
    if_not: "Ctrl-C ended the server, or did not shut it down as SIGTERM does: ask for both signals (Go: signal.Notify(ch, os.Interrupt, syscall.SIGTERM); tokio: tokio::signal::ctrl_c() and the SIGTERM stream, in one tokio::select!), and let either start the same shutdown",
    run: |target| serves_its_clients_then_exits_0(target, libc::SIGINT, "Ctrl-C (SIGINT)"),
    waits_for_the_deadline: false,
};

/// A says a line; the server gets `signal` (named `name`); A says another,
/// which must reach stderr, and leaves; the server must then exit 0, long
/// before its 10 s of grace are over.
#[cfg(unix)]
fn serves_its_clients_then_exits_0(target: &Target, signal: i32, name: &str) {
    let mut server = start_with(target, &["--grace", "10s"]);
    let mut a = a_client_it_serves(&server);
    server.signal(signal);
    // The signal has been handled once new clients are refused: A's next
    // line then comes after it. A server that goes on listening is
    // `refuses_new_clients_at_once_on_sigterm`'s to judge; here it gets the
    // window to handle the signal.
    refused_within(&server, WINDOW, &mut a, often_enough(target));
    // (If this write fails, the server has closed A: the wait says how.)
    let _sent = a.write_all(b"A: after the signal\n");
    served_after_the_signal(&mut server, "A: after the signal\n", name);
    drop(a);
    // Bounded by the check's patience, far less than the grace period.
    let status = server.wait_for_exit();
    assert!(
        status.success(),
        "after {name}, once its last client had left, the server exited with {status}, not 0"
    );
}

#[cfg(unix)]
const CLOSES_ITS_CLIENTS_WHEN_THE_GRACE_IS_OVER: Check = Check {
    name: "closes_its_clients_when_the_grace_period_ends",
    expects: "started with --grace 1s, after SIGTERM a client that goes on talking is closed once that second is over, not before, and the server exits with status 0",
    if_not: "the grace period was not kept: wait for the connections for --grace at most (tokio::time::timeout around TaskTracker::wait; Go: a select on time.After and a channel closed after WaitGroup.Wait), then tell them to close (cancel a CancellationToken, or send on a watch channel, that each connection awaits in a tokio::select! with its read), wait until they have, and return from main: status 0",
    run: closes_its_clients_when_the_grace_is_over,
    waits_for_the_deadline: false,
};

#[cfg(unix)]
fn closes_its_clients_when_the_grace_is_over(target: &Target) {
    const GRACE: Duration = Duration::from_secs(1);
    let mut server = start_with(target, &["--grace", "1s"]);
    let mut talker = server.connect();
    let mut talking = talker.try_clone().unwrap();
    let every = often_enough(target);
    // Dropped when the check ends, however it ends: the talk stops at once.
    let (_talk_on, check_over) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        for i in 0.. {
            let line = format!("talker: line {i}\n");
            if talking.write_all(line.as_bytes()).is_err() {
                return;
            }
            // Pacing the talk below the read deadline, so that only the
            // grace period closes the talker: not a wait for an event.
            let paced = check_over.recv_timeout(every);
            if paced != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                return;
            }
        }
    });
    needs(|| server.wait_for("talker: line 0\n"));
    // Timed from before the signal: the server's grace starts later.
    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    client::wait_until_closed_by_server(&mut talker);
    let open_for = signalled.elapsed();
    // (A server that SIGTERM killed closes it at once too: the other
    // checks say so.)
    assert!(
        open_for >= GRACE,
        "the talking client was closed {open_for:.1?} after SIGTERM, before the grace period of 1s was over"
    );
    let status = server.wait_for_exit();
    assert!(
        status.success(),
        "once the grace period was over, the server exited with {status}, not 0"
    );
}

const WAITS_AT_MAX_CONNECTIONS: Check = Check {
    name: "with_max_connections_2_a_third_client_waits_its_turn",
    expects: "started with --max-connections 2, while two clients are connected a third is not served (what it sends does not reach stderr); once one of the two leaves, it is",
    if_not: "the third client was served at once (no limit), or never (turned away): take a permit before each accept (a tokio::sync::Semaphore of N permits: Arc::clone(&permits).acquire_owned().await), move it into the connection's task, where it is dropped when the task ends; meanwhile new clients wait in the listen queue (Go: a buffered channel of N, sent to before Accept and received from when a connection ends)",
    run: waits_at_max_connections,
    waits_for_the_deadline: false,
};

fn waits_at_max_connections(target: &Target) {
    let server = start_with(target, &["--max-connections", "2"]);
    let mut a = server.connect();
    a.write_all(b"A: hello\n").unwrap();
    needs(|| server.wait_for("A: hello\n"));
    let mut b = server.connect();
    b.write_all(b"B: hello\n").unwrap();
    server.wait_for("B: hello\n");
    let mut c = server.connect();
    c.write_all(b"C: my turn?\n").unwrap();
    // A server serving C shows its line soon; only a window can show that
    // it does not. Meanwhile A and B talk more often than the read
    // deadline, so that neither leaves by it: the waits for C's line pace
    // their talk.
    let every = often_enough(target);
    let watching = Instant::now();
    for round in 0.. {
        for (name, client) in [("A", &mut a), ("B", &mut b)] {
            let line = format!("{name}: still here {round}\n");
            client.write_all(line.as_bytes()).unwrap();
            server.wait_for(&line);
        }
        assert!(
            !server.appears_within("C: my turn?", every),
            "C's line appeared while A and B were connected, with --max-connections 2"
        );
        if watching.elapsed() >= WINDOW {
            break;
        }
    }
    drop(a);
    server.wait_for("C: my turn?\n");
}

/// How often a client talks to stay clear of the server's read deadline: a
/// third of it, as `keeps_a_client_that_talks` does, and at least every
/// [`WINDOW`].
fn often_enough(target: &Target) -> Duration {
    match target.deadline {
        Duration::ZERO => WINDOW,
        deadline => (deadline / 3).min(WINDOW),
    }
}

/// Connects a client, A, and waits until what it says reaches stderr: the
/// server has accepted it (a client still in the listen queue when the
/// server shuts down is never served).
#[cfg(unix)]
fn a_client_it_serves(server: &Server) -> TcpStream {
    let mut a = server.connect();
    a.write_all(b"A: before the signal\n").unwrap();
    needs(|| server.wait_for("A: before the signal\n"));
    a
}

/// Whether a new client is refused within `within`. Nothing says when a
/// port stops listening, so this tries a hundred times a second, as the
/// harness does to see one start; a connection that succeeds meanwhile is
/// closed at once. Client `a` says something `every` meanwhile, so that the
/// read deadline does not close it: a server left with no client may exit,
/// and that would refuse new clients too. (If a write fails, the server
/// has closed `a`: what the check does next says how.)
#[cfg(unix)]
fn refused_within(server: &Server, within: Duration, a: &mut TcpStream, every: Duration) -> bool {
    let started = Instant::now();
    let mut spoke = started;
    for round in 0.. {
        // A full listen queue, or a busy machine, may not answer: that is
        // no refusal, and no reason to stop talking for long.
        let connecting = TcpStream::connect_timeout(&server.addr(), every.min(WINDOW));
        if connecting.is_err_and(|err| err.kind() == std::io::ErrorKind::ConnectionRefused) {
            return true;
        }
        if started.elapsed() >= within {
            break;
        }
        if spoke.elapsed() >= every {
            let _sent = a.write_all(format!("A: waiting {round}\n").as_bytes());
            spoke = Instant::now();
        }
        // Pacing the attempts, not waiting for an event.
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Waits, for the check's patience at most, until `needle`, sent by a
/// client after `signal`, reaches stderr. A server that exits instead is
/// told how it exited: killed by the signal, or exiting without waiting for
/// its clients.
#[cfg(unix)]
fn served_after_the_signal(server: &mut Server, needle: &str, signal: &str) {
    let waiting = Instant::now();
    if server.appears_within(needle, patience()) {
        return;
    }
    // `appears_within` gives up before its time only when the server exits.
    if waiting.elapsed() < patience() {
        let status = server.wait_for_exit();
        panic!(
            "after {signal}, the server exited ({status}) while a client was connected, before what that client sent reached stderr"
        );
    }
    let stderr = server.stderr();
    let tail = &stderr[stderr.len().saturating_sub(2048)..];
    panic!(
        "{needle:?}, sent by a client connected before {signal}, did not reach stderr within {:.1?}; the server's stderr ends:\n{}",
        patience(),
        String::from_utf8_lossy(tail)
    );
}

/// Starts `target` with `extra` arguments after its own, as [`start`] does;
/// a server that exits instead, one that does not take them, is told so
/// with what it said.
fn start_with(target: &Target, extra: &[&str]) -> Server {
    started(target, extra).unwrap_or_else(|why| match why {
        NotStarted::DidNotListen {
            exited: Some(status),
            output,
            ..
        } => panic!(
            "started with `{}`, arguments every stage-5 server takes, it exited at once ({status}), saying:\n{}",
            extra.join(" "),
            output.trim_end()
        ),
        why => panic!("{why}"),
    })
}

/// Starts `target`, waiting for it [`CHECK_PATIENCE`] at most, whatever the
/// check waits for afterwards.
fn start(target: &Target) -> Server {
    started(target, &[]).unwrap_or_else(|why| panic!("{why}"))
}

/// Starts `target` with `extra` arguments on a port picked for it, and
/// again on another if some other process took that one first: checks run
/// all at once, beside other tests that pick ports too.
fn started(target: &Target, extra: &[&str]) -> Result<Server, NotStarted> {
    let try_once = || {
        with_patience(CHECK_PATIENCE, || {
            Server::builder(&target.bin)
                .args(&target.args)
                .args(extra)
                // A panic's message (a `todo!()` left in an exercise) is then
                // the end of its stderr, where the failure shows it.
                .env("RUST_BACKTRACE", "0")
                .given_a_port()
                .quietly()
                .spawn()
                .and_then(Starting::listening)
        })
    };
    let mut started = try_once();
    for _ in 1..3 {
        if !started.as_ref().is_err_and(NotStarted::port_was_taken) {
            break;
        }
        started = try_once();
    }
    started
}

/// Adds stage `$stage`'s checks to a stage's tests, as one test that runs
/// them all at once: the same checks `workshop check` runs against a
/// learner's server. `$bin` is the stage's `env!("CARGO_BIN_EXE_...")`,
/// `$args` its extra arguments and `$deadline` the deadline they give it.
#[macro_export]
macro_rules! stage_checks {
    ($stage:expr, $bin:expr, $args:expr, $deadline:expr) => {
        #[test]
        fn passes_the_checks_a_learners_server_is_judged_by() {
            let target = $crate::checks::Target {
                bin: $bin.to_string(),
                args: $args.iter().map(|arg: &&str| arg.to_string()).collect(),
                deadline: $deadline,
            };
            let outcomes = $crate::checks::run_all($stage, &target);
            assert!(!outcomes.is_empty(), "stage {} has no checks", $stage);
            for (check, outcome) in outcomes {
                if let Err(failure) = outcome {
                    panic!("{}: {}", check.name, failure.what);
                }
            }
        }
    };
}
