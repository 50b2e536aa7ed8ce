//! `workshop compare`'s scenarios: every stage through the same ones, each
//! on its own fresh server, and what each stage did, observed rather than
//! assumed.
//!
//! A scenario's clients send lines tagged with their names (`A: hello`), and
//! the server's stderr is watched and timed: when the server printed each
//! line, and when a connection ended, are what the table and the timelines
//! report.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::watch;

use harness::Server;

use crate::load;
use crate::model::compare::{
    CROWD_DEADLINE, Crowd, End, Observed, Plan, Row, StageReport, Timeline, Verdict,
};
use crate::output::progress::Progress;
use crate::processes::limits;
use crate::processes::servers;
use crate::processes::stages::Stage;
use crate::processes::usage::{self, listen_overflows};
use crate::units::LONGEST;

/// The pause between a scenario's steps: long enough to see on a timeline.
const STEP: Duration = Duration::from_millis(100);
/// How long a scenario waits for the server to print a line it expects.
const EXPECT: Duration = Duration::from_secs(1);
/// How long a crowd client waits for its connection to be established.
/// Longer than the kernel's second SYN retry (1 s, then 2 s more), so that a
/// handshake dropped by a full listen queue still gets through.
const CONNECT_PATIENCE: Duration = Duration::from_secs(4);
/// How long the crowd waits for the server to print one more line before it
/// concludes that the rest will not be: longer than a SYN retry too.
const STALL: Duration = Duration::from_secs(3);
/// A connection the server closed sooner than this was closed at once, not
/// after a deadline.
const AT_ONCE: Duration = Duration::from_millis(50);
/// How many crowd clients connect at a time.
const CONNECTING: usize = 64;

/// Runs every scenario against every stage, one stage at a time.
pub async fn compare(stages: &[Stage], plan: &Plan) -> anyhow::Result<Vec<StageReport>> {
    let mut reports = Vec::new();
    let mut progress = Progress::new();
    for stage in stages {
        progress.show(&format!(
            "{}: two clients, an idle one and a talking one...",
            stage.name
        ));
        // The timed scenarios run at once, each against its own server.
        let (two_clients, idle, talker) = tokio::join!(
            two_clients(stage, plan),
            idle_client(stage, plan),
            talking_client(stage, plan)
        );
        let crowd = crowd(stage, plan, &mut progress).await?;
        progress.done();
        reports.push(StageReport {
            stage: stage.name.clone(),
            takes_timeout: stage.takes_timeout,
            two_clients: two_clients?,
            idle: idle?,
            talker: talker?,
            crowd,
        });
    }
    Ok(reports)
}

/// The scenario's verdict and timeline, with how the server exited if it
/// did during the scenario.
fn observed(server: &mut Server, verdict: Verdict, timeline: Timeline) -> Observed {
    Observed {
        verdict,
        exited: server.exit_status().map(|status| status.to_string()),
        timeline,
    }
}

/// Starts `stage`, with the deadline if it takes one.
async fn start(stage: &Stage, deadline: Duration) -> anyhow::Result<Server> {
    let args = if stage.takes_timeout {
        vec![
            "--timeout".to_string(),
            humantime::format_duration(deadline).to_string(),
        ]
    } else {
        Vec::new()
    };
    servers::start(&stage.name, stage.server(&args)).await
}

/// Waits up to `within` for `needle` on the server's stderr; returns when it
/// arrived.
async fn seen_within(server: &Server, needle: &str, within: Duration) -> Option<Instant> {
    let seen = server.until_stderr_shows(|| server.seen_at(needle));
    let _ = tokio::time::timeout(within, seen).await;
    server.seen_at(needle)
}

/// A: connects and talks. B: connects and talks while A is still open.
/// Then A leaves, and B says goodbye. Serial or concurrent shows in whether
/// B's line is printed before A leaves.
async fn two_clients(stage: &Stage, plan: &Plan) -> anyhow::Result<Observed> {
    let mut server = start(stage, plan.timeout).await?;
    let scene = Scene::new(&server);
    let mut a = scene.connect("A").await?;
    a.say("hello").await;
    a.printed(&server, "hello", EXPECT).await;
    tokio::time::sleep(STEP).await;

    let mut b = scene.connect("B").await?;
    let b_sent = Instant::now();
    b.say("hello").await;
    let b_while_a_open = b.printed(&server, "hello", 3 * STEP).await;
    a.say("still here").await;
    a.printed(&server, "still here", EXPECT).await;
    tokio::time::sleep(STEP).await;

    a.leave();
    let b_printed = match b_while_a_open {
        Some(at) => Some(at),
        None => b.printed(&server, "hello", EXPECT).await,
    };
    tokio::time::sleep(STEP).await;
    b.say("bye").await;
    b.printed(&server, "bye", EXPECT).await;
    tokio::time::sleep(STEP).await;
    b.leave();

    let a_printed = server.seen_at("A: hello\n");
    // Serial or concurrent is read from the order of stderr, not from the
    // clock: B's line either comes before the line that says A finished, or
    // after it.
    let a_finished = server.position(&format!("{} finished", a.local));
    let b_hello = server.position("B: hello\n");
    let verdict = match (a_printed, b_hello) {
        (None, _) if a.closed_by_server().is_some() => Verdict::ClosesEachAtOnce,
        (_, Some(b)) if a_finished.is_none_or(|a| b < a) => Verdict::Concurrent,
        (_, Some(_)) => Verdict::Serial {
            waited: b_printed.map(|at| at.saturating_duration_since(b_sent)),
        },
        (_, None) => Verdict::BNeverPrinted,
    };
    let timeline = scene.timeline(&server, &[a, b]);
    Ok(observed(&mut server, verdict, timeline))
}

/// A client that connects and says nothing for twice the deadline.
async fn idle_client(stage: &Stage, plan: &Plan) -> anyhow::Result<Observed> {
    let mut server = start(stage, plan.timeout).await?;
    let scene = Scene::new(&server);
    let mut idle = scene.connect("I").await?;
    let silence = 2 * plan.timeout;
    let closed = idle.wait_closed_by_server(silence).await;
    let verdict = match closed {
        Some(after) if after < AT_ONCE => Verdict::ClosedAtOnce,
        Some(after) => Verdict::ClosedAfterSilence(after),
        None => Verdict::OpenAfterSilence(silence),
    };
    if closed.is_none() {
        idle.leave();
    }
    let timeline = scene.timeline(&server, &[idle]);
    Ok(observed(&mut server, verdict, timeline))
}

/// A client that says a line every quarter of the deadline, for three
/// deadlines: a deadline that starts anew with every read never closes it.
async fn talking_client(stage: &Stage, plan: &Plan) -> anyhow::Result<Observed> {
    let mut server = start(stage, plan.timeout).await?;
    let scene = Scene::new(&server);
    let mut talker = scene.connect("T").await?;
    let every = plan.timeout / 4;
    let lines = 12;
    for i in 1..=lines {
        if talker.closed_by_server().is_some() {
            break;
        }
        talker.say(&format!("tick {i:02}")).await;
        tokio::time::sleep(every).await;
    }
    // The last line may still be on its way through the server.
    talker
        .printed(&server, &format!("tick {lines:02}"), EXPECT)
        .await;
    let printed = (1..=lines)
        .filter(|i| server.seen_at(&format!("T: tick {i:02}\n")).is_some())
        .count();
    let verdict = match talker.closed_by_server() {
        Some(after) if after < AT_ONCE => Verdict::ClosedAtOnce,
        Some(after) => Verdict::ClosedWhileTalking { after, every },
        None => Verdict::KeptOpen {
            open: scene.started.elapsed(),
            printed,
            lines,
        },
    };
    talker.leave();
    let timeline = scene.timeline(&server, &[talker]);
    Ok(observed(&mut server, verdict, timeline))
}

/// What to say when `failed` of a crowd of `crowd` found no file
/// descriptor for their socket.
pub(crate) fn crowd_out_of_files(out: limits::OutOfFiles, failed: usize, crowd: usize) -> String {
    out.stopped(
        &format!("{failed} of the crowd's {crowd} clients could not be opened"),
        "ask for a smaller --crowd",
    )
}

/// Many clients at once: each connects, says one line and stays connected.
/// How many the server printed, how long that took, and its memory while it
/// held them all.
async fn crowd(stage: &Stage, plan: &Plan, progress: &mut Progress) -> anyhow::Result<Crowd> {
    // The crowd is about holding many clients, not about deadlines: a stage
    // that takes one gets a minute, so that it holds its crowd too.
    let deadline = CROWD_DEADLINE;
    let mut server = start(stage, deadline).await?;
    let before = usage::of(server.pid());
    let overflows_before = listen_overflows();
    let started = Instant::now();
    // A few handshakes in flight at a time, so that a listen queue of 128
    // (what the stages get from tokio) never overflows into SYN retries.
    // Each client's patience bounds the crowd; the hour is a backstop.
    let joined = load::crowd(
        server.addr(),
        plan.crowd,
        CONNECTING,
        CONNECT_PATIENCE,
        &format!("{}: crowd: connecting", stage.name),
        tokio::time::Instant::now() + LONGEST,
    )
    .await;
    // Clients this tool could not open say nothing of the stage: no figure
    // rather than a wrong one.
    if let Some(out) = joined.failures.out_of_files {
        bail!(crowd_out_of_files(
            out,
            joined.failures.ran_out(),
            plan.crowd
        ));
    }
    let failed = joined.failures.count() + joined.unfinished;
    let held = joined.done;
    let connected = held.len();

    // Wait until every line is printed, or until no more are for a while
    // (stage 2 prints the first client's line and no more).
    let mut served = 0;
    let mut last_progress = Instant::now();
    let all_served_after = loop {
        let now_served = server.stderr_text().matches("crowd ").count();
        if now_served > served {
            served = now_served;
            last_progress = Instant::now();
        }
        progress.show(&format!(
            "{}: crowd: {served} of {} printed",
            stage.name, plan.crowd
        ));
        if served >= connected || last_progress.elapsed() > STALL || server.stderr_ended() {
            break (served >= connected).then(|| started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let during = usage::of(server.pid());
    let closed_early = held
        .iter()
        .filter(|stream| load::already_closed(stream))
        .count();
    drop(held);

    let still_open = connected - closed_early;
    let kib_per_open_client = before
        .zip(during)
        .and_then(|(before, during)| during.kib_per_connection(before, still_open));
    Ok(Crowd {
        clients: plan.crowd,
        served,
        took: all_served_after,
        unserved: connected.saturating_sub(served),
        failed,
        closed: closed_early,
        overflows: overflows_before
            .zip(listen_overflows())
            .map(|(before, after)| after.saturating_sub(before)),
        usage: during,
        kib_per_open_client,
        exited: server.exit_status().map(|status| status.to_string()),
    })
}

/// One scenario's clock and clients.
struct Scene {
    started: Instant,
    addr: std::net::SocketAddr,
}

/// A scenario's client: it writes tagged lines, and a task notes when the
/// server closes its connection.
struct SceneClient {
    name: String,
    /// The client's own address: the server's log names it so.
    local: std::net::SocketAddr,
    connected: Instant,
    said: Vec<String>,
    writer: Option<OwnedWriteHalf>,
    left: Option<Instant>,
    /// Set, by a task reading the connection, when the server closes it.
    closed_by_server: watch::Receiver<Option<Instant>>,
}

impl Scene {
    fn new(server: &Server) -> Scene {
        Scene {
            started: Instant::now(),
            addr: server.addr(),
        }
    }

    async fn connect(&self, name: &str) -> anyhow::Result<SceneClient> {
        let stream = TcpStream::connect(self.addr)
            .await
            .with_context(|| format!("cannot connect to {}", self.addr))?;
        let connected = Instant::now();
        let local = stream.local_addr()?;
        let (mut reader, writer) = stream.into_split();
        let (closed, closed_by_server) = watch::channel(None);
        tokio::spawn(async move {
            let mut buf = [0u8; 256];
            while let Ok(1..) = reader.read(&mut buf).await {}
            closed.send_replace(Some(Instant::now()));
        });
        Ok(SceneClient {
            name: name.to_string(),
            local,
            connected,
            said: Vec::new(),
            writer: Some(writer),
            left: None,
            closed_by_server,
        })
    }

    /// The timeline of `clients`: when each connected, when the server
    /// printed each of its lines, and when its connection ended.
    fn timeline(&self, server: &Server, clients: &[SceneClient]) -> Timeline {
        let since = |at: Instant| at.saturating_duration_since(self.started);
        let rows = clients
            .iter()
            .map(|client| {
                let printed = client
                    .said
                    .iter()
                    .filter_map(|line| server.seen_at(&format!("{}: {line}\n", client.name)))
                    .map(since)
                    .collect();
                let server_closed = *client.closed_by_server.borrow();
                let end = match (client.left, server_closed) {
                    (Some(left), Some(closed)) if closed < left => {
                        Some(End::ByServer(since(closed)))
                    }
                    (Some(left), _) => Some(End::ByClient(since(left))),
                    (None, Some(closed)) => Some(End::ByServer(since(closed))),
                    (None, None) => None,
                };
                // The server logs `PEER connected` when it accepts a client.
                let accepted = server
                    .seen_at(&format!("{} connected", client.local))
                    .map(since);
                Row {
                    client: client.name.clone(),
                    connected: since(client.connected),
                    accepted,
                    printed,
                    end,
                }
            })
            .collect();
        Timeline {
            rows,
            span: self.started.elapsed(),
        }
    }
}

impl SceneClient {
    /// Sends `NAME: text` as a line; a connection the server closed is noted,
    /// not an error.
    async fn say(&mut self, text: &str) {
        if let Some(writer) = &mut self.writer {
            let _ = writer
                .write_all(format!("{}: {text}\n", self.name).as_bytes())
                .await;
            self.said.push(text.to_string());
        }
    }

    /// Waits up to `within` for the server to print this client's line
    /// `text`, and returns when it did; gives up early if the server closes
    /// the connection without printing it.
    async fn printed(&mut self, server: &Server, text: &str, within: Duration) -> Option<Instant> {
        let needle = format!("{}: {text}\n", self.name);
        tokio::select! {
            at = seen_within(server, &needle, within) => at,
            _ = self.closed_by_server.wait_for(Option::is_some) => server.seen_at(&needle),
        }
    }

    /// Closes the connection; returns when.
    fn leave(&mut self) -> Instant {
        // The time first: the server may see the close and close in turn
        // before a timestamp taken afterwards, and look as if it went first.
        let left = *self.left.get_or_insert_with(Instant::now);
        self.writer = None;
        left
    }

    /// How long after connecting the server closed this client, if it did.
    fn closed_by_server(&self) -> Option<Duration> {
        self.closed_by_server
            .borrow()
            .map(|at| at.duration_since(self.connected))
    }

    /// Waits up to `within` for the server to close this client.
    async fn wait_closed_by_server(&mut self, within: Duration) -> Option<Duration> {
        let _ = tokio::time::timeout(within, self.closed_by_server.wait_for(Option::is_some)).await;
        self.closed_by_server()
    }
}
