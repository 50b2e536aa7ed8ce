//! The behaviours each stage must show, checked from outside, as any server
//! shows them, whoever wrote it and in whatever language: whether it
//! accepts, which of a client's bytes reach its stderr, when it closes a
//! connection. Never our log lines: Go's programs print none of them.
//! `workshop check` runs these against a learner's server or Go's, and the
//! stages' own tests run them too ([`stage_checks!`](crate::stage_checks)).

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::{Server, client, with_patience};

/// How long a check waits for something a right server does at once: short,
/// so that a check answers quickly when the server is wrong.
pub const CHECK_PATIENCE: Duration = Duration::from_secs(3);

/// A server to check: its program, the arguments it takes, and the read
/// deadline it was given (stage 4 on; Go's stage 4 has 5 s, fixed).
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

impl Check {
    /// Runs the check on a thread of its own, its waits bounded by
    /// [`CHECK_PATIENCE`] (plus the deadline where it waits for one), and
    /// says what the server did instead when it fails.
    pub fn run(&'static self, target: &Target) -> Result<(), String> {
        let patience = match self.waits_for_the_deadline {
            true => CHECK_PATIENCE + target.deadline,
            false => CHECK_PATIENCE,
        };
        let target = target.clone();
        on_a_thread(self.name, move || {
            with_patience(patience, || (self.run)(&target))
        })
    }
}

/// Runs `check` on a thread named after it (`check: NAME`), and turns its
/// panic into what it said.
fn on_a_thread(name: &str, check: impl FnOnce() + Send + 'static) -> Result<(), String> {
    let checking = std::thread::Builder::new()
        .name(format!("check: {name}"))
        .spawn(check)
        .expect("a thread for the check");
    checking.join().map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the check failed".to_string())
    })
}

/// Whether `target` starts a server at all: it runs, and accepts a
/// connection within [`CHECK_PATIENCE`]. Before the checks, so that a
/// program that is no server is told so once.
pub fn starts(target: &Target) -> Result<(), String> {
    let target = target.clone();
    on_a_thread("starts", move || drop(start(&target)))
}

/// Runs stage `stage`'s checks on `target`, all at once (each starts a
/// server of its own): the slowest, a read deadline, sets how long it takes.
/// The outcomes come in the checks' order.
pub fn run_all(stage: u8, target: &Target) -> Vec<(&'static Check, Result<(), String>)> {
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

/// The checks of stage `stage` (1 to 4), in the order the course meets
/// them; none for another number.
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
    if_not: "the client's bytes did not reach stderr: copy the socket to stderr (Go: io.Copy(os.Stderr, conn); tokio: io::copy)",
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
    server.wait_for("A: first\n");
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
    if_not: "B's bytes did not appear while A was connected: your accept loop waits for each client before accepting the next; hand each connection to a task of its own (Go: go serviceConn(conn); tokio: tokio::spawn)",
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
    server.wait_for("A: hello\n");
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
        server.wait_for(&line);
    }
    assert!(
        client::is_open(&talker),
        "the talker, which said something every third of a deadline, was closed"
    );
}

/// Starts `target`, waiting for it [`CHECK_PATIENCE`] at most, whatever the
/// check waits for afterwards.
fn start(target: &Target) -> Server {
    with_patience(CHECK_PATIENCE, || {
        Server::builder(&target.bin)
            .args(&target.args)
            .found_by_connecting()
            .quietly()
            .start()
    })
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
                if let Err(what) = outcome {
                    panic!("{}: {what}", check.name);
                }
            }
        }
    };
}
