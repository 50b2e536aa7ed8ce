//! `workshop bench`: what each concurrent server costs, measured side by side.
//!
//! Every server that serves clients together (the stages from 3 on, and the
//! Go seed's stages 3 and 4 when `go` is installed) goes through the same
//! measurements, each on a fresh process:
//!
//! - memory and threads while it holds N idle connections;
//! - throughput: 1 and 16 clients send a fixed total, with the server's stderr
//!   going to /dev/null or to a pipe this tool reads; the time runs until the
//!   server has every byte: read back from the pipe, or, into /dev/null, none
//!   left queued in the kernel on its connections ([`crate::sock_diag`]). So
//!   servers that never close their connections, and Go's, which splices
//!   socket to stderr unseen by `/proc/PID/io`, are timed like the others;
//! - accept rate: connect, send a line and close, 1 and 64 at a time, with
//!   the machine's listen-queue overflows during the run.
//!
//! The whole set runs `--repeats` times, all servers in each round (the
//! machine's noise then falls on every server alike), and the table gives the
//! median with the lowest and highest. Raw results go to `results.jsonl`, the
//! table to `table.md` and a chart of memory against connections to
//! `memory.svg`; an interrupted bench leaves those of the last complete run
//! as they were, and what it measured in `results.jsonl.partial`. Only
//! loopback is used, and every run is bounded in count and time.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::Server;

use crate::process::{Usage, listen_overflows, open_files};
use crate::units::size_within;
use crate::{limits, load};
use crate::{say, tellln};
use crate::{sock_diag, stages};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The servers to measure, by name or prefix (stage4-timeouts,go-stage4); all of them if not given
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,

    /// How many rounds; each runs every measurement on every server once
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    repeats: u32,

    /// How many idle connections to hold, one run for each number (at most 10 numbers)
    #[arg(long, value_delimiter = ',', default_value = "1000,10000", value_parser = clap::value_parser!(u32).range(1..=19_000))]
    held: Vec<u32>,

    /// How many bytes the clients of a throughput run send in all, from 1KiB to 64GiB
    #[arg(long, default_value = "256MiB", value_parser = size_within(1 << 10, 64 << 30), allow_hyphen_values = true)]
    bytes: u64,

    /// How many connections an accept-rate run makes
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    churn: u32,

    /// Where to write results.jsonl, table.md and memory.svg
    #[arg(long, value_name = "DIR", default_value = "target/bench")]
    out: PathBuf,

    /// A run of a few seconds that checks the bench itself works: one round, tiny loads
    #[arg(long)]
    smoke: bool,
}

/// How many numbers `--held` takes: each is a run of every server in every
/// round, of up to 19,000 connections.
const MOST_HELD: usize = 10;

/// How long any one run may take before it counts as failed.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// A server under measurement: how to start it on a port of its choosing.
#[derive(Clone, Debug)]
struct Contender {
    name: String,
    program: PathBuf,
    args: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Sink {
    DevNull,
    Pipe,
}

impl Sink {
    fn name(self) -> &'static str {
        match self {
            Sink::DevNull => "/dev/null",
            Sink::Pipe => "pipe",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scenario {
    Hold { connections: usize },
    Flood { clients: usize, sink: Sink },
    Churn { concurrency: usize },
}

impl Scenario {
    /// The row of the table this scenario's figure goes to.
    fn row(self) -> String {
        match self {
            Scenario::Hold { connections } => {
                format!("memory per idle connection, {connections} held")
            }
            Scenario::Flood { clients, sink } => {
                format!("throughput, {clients} clients, stderr to {}", sink.name())
            }
            Scenario::Churn { concurrency } => {
                format!("accept rate, {concurrency} connecting at a time")
            }
        }
    }

    fn json(self) -> String {
        match self {
            Scenario::Hold { connections } => {
                format!(r#""scenario":"hold","connections":{connections}"#)
            }
            Scenario::Flood { clients, sink } => format!(
                r#""scenario":"throughput","clients":{clients},"stderr":"{}""#,
                sink.name()
            ),
            Scenario::Churn { concurrency } => {
                format!(r#""scenario":"accept","concurrency":{concurrency}"#)
            }
        }
    }
}

/// What one run measured. `value` is the figure of the table: KiB per
/// connection, MB/s, or connections per second.
#[derive(Clone, Debug)]
struct Sample {
    round: u32,
    server: String,
    scenario: Scenario,
    value: Result<f64, String>,
    /// The run's other figures, as JSON fields.
    detail: String,
    /// For a hold: the server's memory and threads before, and at the peak
    /// while holding (the chart and the threads in the table).
    usage: Option<(Usage, Usage)>,
    /// For a hold: connections the client saw established that the server
    /// never took in (the listen queue overflowed and dropped them).
    lost: usize,
}

impl Sample {
    fn new(round: u32, server: &str, scenario: Scenario) -> Sample {
        Sample {
            round,
            server: server.to_string(),
            scenario,
            value: Err(String::new()),
            detail: String::new(),
            usage: None,
            lost: 0,
        }
    }

    fn json(&self) -> String {
        let value = match &self.value {
            Ok(value) => format!(r#""value":{value:.3}"#),
            Err(error) => format!(r#""error":{}"#, json_string(error)),
        };
        let detail = if self.detail.is_empty() {
            String::new()
        } else {
            format!(",{}", self.detail)
        };
        format!(
            r#"{{"round":{},"server":{},{},{value}{detail}}}"#,
            self.round,
            json_string(&self.server),
            self.scenario.json()
        )
    }
}

/// `text` as a JSON string, quotes and escapes included.
fn json_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub async fn run(args: BenchArgs) -> Result<(), String> {
    if args.held.len() > MOST_HELD {
        return Err(format!(
            "--held takes at most {MOST_HELD} numbers, each a run of every server in every round, not {}",
            args.held.len()
        ));
    }
    // After the arguments, so that a mistyped one is told on every system.
    if !cfg!(target_os = "linux") {
        return Err("workshop bench reads each server's memory, threads and bytes written from /proc, which only Linux has: run it on Linux (a virtual machine or WSL 2 will do)".to_string());
    }
    let (held, bytes, churn, repeats) = if args.smoke {
        (vec![20, 200], 4 << 20, 200, 1)
    } else {
        let mut held: Vec<usize> = args.held.iter().map(|&n| n as usize).collect();
        held.sort_unstable();
        held.dedup();
        (held, args.bytes, args.churn as usize, args.repeats)
    };
    check_open_file_limit(held.iter().copied().max().unwrap_or(0) + 64)?;
    // A folder that cannot be written is said now, before anything is built
    // or measured, and without touching the last run's files, nor what an
    // interrupted run measured.
    let mut results = Results::start(&args.out)?;
    let contenders = contenders(&args.only)?;

    let mut scenarios: Vec<Scenario> = held
        .iter()
        .map(|&connections| Scenario::Hold { connections })
        .collect();
    for clients in [1, 16] {
        for sink in [Sink::DevNull, Sink::Pipe] {
            scenarios.push(Scenario::Flood { clients, sink });
        }
    }
    for concurrency in [1, 64] {
        scenarios.push(Scenario::Churn { concurrency });
    }
    let names: Vec<&str> = contenders.iter().map(|c| c.name.as_str()).collect();
    tellln!(
        "workshop: bench of {} in {repeats} round(s) of {} runs each",
        names.join(", "),
        scenarios.len()
    );

    let mut samples = Vec::new();
    for round in 1..=repeats {
        for contender in &contenders {
            for &scenario in &scenarios {
                tellln!(
                    "workshop: round {round}/{repeats}: {}: {}",
                    contender.name,
                    scenario.row()
                );
                let sample = measure(contender, scenario, round, bytes, churn).await;
                if let Err(error) = &sample.value {
                    tellln!("workshop:   failed: {error}");
                }
                results.add(&sample)?;
                samples.push(sample);
            }
        }
    }

    let table = table(&contenders, &scenarios, &samples);
    say!("{table}");
    let svg = memory_chart(&contenders, &held, &samples);
    for (file, text) in [("table.md", table), ("memory.svg", svg)] {
        let path = args.out.join(file);
        std::fs::write(&path, text)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }
    results.finish()?;
    tellln!(
        "workshop: wrote results.jsonl, table.md and memory.svg to {}",
        args.out.display()
    );
    Ok(())
}

/// `results.jsonl`, one line per run. Each run's line is written as the run
/// ends, to `results.jsonl.partial` beside it, which replaces it once every
/// run is done: an interrupted bench keeps what it measured there, and
/// leaves the last complete run's files as they were. The partial file is
/// first written with the first result: until then, what an interrupted
/// run left in it stays, whatever stops this one (a mistyped `--only`, a
/// stage that does not build).
struct Results {
    out: PathBuf,
    partial: PathBuf,
    lines: String,
}

impl Results {
    /// Makes the folder, and checks that it can be written with a file of
    /// another name, made and removed: the partial file is not touched.
    fn start(out: &Path) -> Result<Results, String> {
        std::fs::create_dir_all(out)
            .map_err(|err| format!("cannot create {}: {err}", out.display()))?;
        let partial = out.join("results.jsonl.partial");
        let cannot = |path: &Path, err| format!("cannot write {}: {err}", path.display());
        let probe = out.join(format!("results.jsonl.probe-{}", std::process::id()));
        std::fs::File::create(&probe).map_err(|err| cannot(&probe, err))?;
        let _ = std::fs::remove_file(&probe);
        // One left read-only is not replaced: opened, not truncated.
        if partial.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&partial)
                .map_err(|err| cannot(&partial, err))?;
        }
        Ok(Results {
            out: out.to_path_buf(),
            partial,
            lines: String::new(),
        })
    }

    /// Adds a run's line; the first replaces what an earlier run left.
    fn add(&mut self, sample: &Sample) -> Result<(), String> {
        self.lines += &sample.json();
        self.lines.push('\n');
        std::fs::write(&self.partial, &self.lines)
            .map_err(|err| format!("cannot write {}: {err}", self.partial.display()))
    }

    fn finish(self) -> Result<(), String> {
        let path = self.out.join("results.jsonl");
        std::fs::rename(&self.partial, &path)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))
    }
}

/// The connections the bench holds are files of this process, and of the
/// server, which inherits this process's limit on open files (raised to the
/// hard limit at start): a load the limit cannot hold is refused up front.
fn check_open_file_limit(needed: usize) -> Result<(), String> {
    match limits::open_file_limit() {
        Some(allowed) if allowed < needed as u64 => Err(format!(
            "holding that many connections needs about {needed} open files, and this process may open {allowed} (ulimit -n): raise the limit, or hold fewer (--held)"
        )),
        _ => Ok(()),
    }
}

/// The stages from stage 3 on, and the Go seed's programs when Go is here.
fn contenders(only: &[String]) -> Result<Vec<Contender>, String> {
    let mut all: Vec<Contender> = stages::find(&[])?
        .into_iter()
        .filter(|stage| serves_together(&stage.name))
        .map(|stage| Contender {
            args: if stage.takes_timeout {
                // Held connections are idle on purpose: they must outlast
                // the run. (Go's stage 4 keeps its fixed 5 s.)
                vec!["--timeout".to_string(), "10m".to_string()]
            } else {
                Vec::new()
            },
            name: stage.name,
            program: stage.path,
        })
        .collect();
    if only.is_empty() || only.iter().any(|want| want.starts_with("go")) {
        all.extend(go_seed()?);
    }
    // By name or prefix, as `workshop compare --stages` takes them.
    let names = stages::select(all.iter().map(|c| c.name.clone()).collect(), only)?;
    Ok(names
        .iter()
        .filter_map(|name| all.iter().find(|c| c.name == *name).cloned())
        .collect())
}

/// Stages 1 and 2 serve nobody or one client at a time: nothing to compare.
fn serves_together(stage: &str) -> bool {
    stages::stage_number(stage).is_some_and(|n| n >= 3)
}

/// Builds the Go seed's stage 3 and stage 4 (`go-seed/` in the workspace)
/// with the `go` on the PATH; without one, says so and leaves them out.
fn go_seed() -> Result<Vec<Contender>, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../go-seed");
    let has_go = Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !has_go || !root.join("go.mod").exists() {
        tellln!(
            "workshop: no `go` here (or no go-seed/): the Go seed's programs are left out (Debian: apt-get install golang)"
        );
        return Ok(Vec::new());
    }
    let out = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("go-seed")))
        .ok_or("cannot find this program's directory")?;
    std::fs::create_dir_all(&out)
        .map_err(|err| format!("cannot create {}: {err}", out.display()))?;
    tellln!("workshop: building the Go seed's programs (go build ./...)");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg("./...")
        .current_dir(&root)
        .stdin(Stdio::null())
        .status()
        .map_err(|err| format!("cannot run go: {err}"))?;
    if !built.success() {
        return Err(format!("go build failed ({built}); see its messages above"));
    }
    Ok(["stage3", "stage4"]
        .into_iter()
        .map(|stage| Contender {
            name: format!("go-{stage}"),
            program: out.join(stage),
            args: Vec::new(),
        })
        .collect())
}

/// One run on a fresh server.
async fn measure(
    contender: &Contender,
    scenario: Scenario,
    round: u32,
    bytes: u64,
    churn: usize,
) -> Sample {
    let mut sample = Sample::new(round, &contender.name, scenario);
    let sink = match scenario {
        Scenario::Flood { sink, .. } => sink,
        _ => Sink::DevNull,
    };
    load::fresh_sources(match scenario {
        Scenario::Hold { connections } => connections,
        Scenario::Flood { clients, .. } => clients,
        Scenario::Churn { .. } => churn,
    });
    let mut server = match start(contender, sink).await {
        Ok(server) => server,
        Err(error) => {
            sample.value = Err(error);
            return sample;
        }
    };
    // One deadline for the whole run, from its start: every wait in the
    // run gives up then.
    let deadline = tokio::time::Instant::now() + RUN_LIMIT;
    sample.value = match scenario {
        Scenario::Hold { connections } => hold(&server, connections, deadline, &mut sample).await,
        Scenario::Flood { clients, .. } => {
            flood(&server, sink, clients, bytes, deadline, &mut sample).await
        }
        Scenario::Churn { concurrency } => {
            accept_rate(&server, churn, concurrency, deadline, &mut sample).await
        }
    };
    // A server that died explains the failure; what the run saw after that
    // (connections refused, a socket count of 0) would only mislead.
    if let (Err(error), Some(status)) = (&mut sample.value, server.exit_status()) {
        *error = format!("the server died ({status})");
    }
    sample
}

async fn hold(
    server: &Server,
    connections: usize,
    deadline: tokio::time::Instant,
    sample: &mut Sample,
) -> Result<f64, String> {
    let pid = server.pid();
    let before = Usage::of(pid).ok_or("cannot read the server's memory")?;
    let files_before = open_files(pid).ok_or("cannot count the server's files")?;
    let load::Gathered {
        done: held,
        failures,
        unfinished,
        ..
    } = load::open(server.addr(), connections, deadline).await;
    all_finished(unfinished)?;
    if held.len() < connections {
        return Err(format!(
            "only {} of {connections} connected ({})",
            held.len(),
            failures.describe()
        ));
    }
    // The server has taken a connection in when it holds its socket. When
    // a burst overflowed its listen queue, some handshakes the client saw
    // complete were dropped at the server: those come in when the server
    // sends its part of the handshake again (after 1 s, then 2 s more), or
    // never. So wait until all are in, or none has come in for 4 s.
    let taken_in = || -> Result<usize, String> {
        let files = open_files(pid).ok_or("the server exited while taking the connections in")?;
        Ok(files.saturating_sub(files_before).min(connections))
    };
    let mut last = (taken_in()?, Instant::now());
    while last.0 < connections
        && last.1.elapsed() < Duration::from_secs(4)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = taken_in()?;
        if now > last.0 {
            last = (now, Instant::now());
        }
    }
    let taken = last.0;
    if taken == 0 {
        return Err("the server took in none of the connections".to_string());
    }
    sample.lost = connections - taken;
    // A task or a thread allocates as it first runs: sample for a moment.
    let mut peak = before;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        peak = peak.peak(Usage::of(pid).ok_or("the server exited")?);
    }
    let closed = held
        .iter()
        .filter(|stream| crate::already_closed(stream))
        .count();
    drop(held);
    sample.usage = Some((before, peak));
    sample.detail = format!(
        r#""rss_kib_before":{},"rss_kib":{},"threads_before":{},"threads":{},"closed_by_the_server":{closed},"lost_in_the_listen_queue":{}"#,
        before.rss_kib, peak.rss_kib, before.threads, peak.threads, sample.lost
    );
    // Per connection the server holds: a lost one costs it nothing.
    let per_connection = peak.rss_kib.saturating_sub(before.rss_kib) as f64 / taken as f64;
    Ok(per_connection)
}

/// Clients send `bytes` in all, and the time runs until the server has
/// them all: into a pipe, until this tool has read them from it (a counted
/// pipe); into /dev/null, until the kernel holds none of them any more, on
/// either side of any connection ([`sock_diag`]). Not until it has written
/// them: Go's
/// `io.Copy` since 1.21 splices socket to stderr, which `/proc/PID/io`
/// does not count, so that would never see Go's stage 3 finish. (Into
/// /dev/null, what a server has read and not yet written, its buffers'
/// worth, a few hundred KiB at most, is not waited for.)
async fn flood(
    server: &Server,
    sink: Sink,
    clients: usize,
    bytes: u64,
    deadline: tokio::time::Instant,
    sample: &mut Sample,
) -> Result<f64, String> {
    let read_before = server.stderr_bytes_read();
    let started = Instant::now();
    let load::Sent {
        bytes: sent,
        clients:
            load::Gathered {
                done,
                failures,
                unfinished,
                ..
            },
    } = load::send(
        server.addr(),
        clients,
        bytes / clients as u64,
        false,
        deadline,
    )
    .await;
    all_finished(unfinished)?;
    if failures.count() > 0 {
        return Err(format!("clients failed: {}", failures.describe()));
    }
    // The kernel cannot be asked: said at once, not as a run that never ends.
    let mut cannot_ask = None;
    let written = wait_until(deadline, || match sink {
        Sink::Pipe => server.stderr_bytes_read() - read_before >= sent,
        Sink::DevNull => match sock_diag::queued(&done, server.addr()) {
            Ok(queued) => queued == 0,
            Err(err) => cannot_ask.replace(err).is_none(),
        },
    })
    .await;
    if let Some(err) = cannot_ask {
        return Err(format!(
            "cannot ask the kernel what is queued (sock_diag): {err}"
        ));
    }
    let took = started.elapsed();
    if !written {
        return Err(format!(
            "the server did not take all it was sent within {}s",
            RUN_LIMIT.as_secs()
        ));
    }
    sample.detail = format!(
        r#""bytes":{sent},"seconds":{:.4},"read_from_the_pipe":{}"#,
        took.as_secs_f64(),
        server.stderr_bytes_read()
    );
    Ok(sent as f64 / took.as_secs_f64() / 1e6)
}

async fn accept_rate(
    server: &Server,
    connections: usize,
    concurrency: usize,
    deadline: tokio::time::Instant,
    sample: &mut Sample,
) -> Result<f64, String> {
    let overflows_before = listen_overflows();
    let started = Instant::now();
    let load::Gathered {
        done: times,
        failures,
        unfinished,
        ..
    } = load::connect_send_close(server.addr(), connections, concurrency, deadline).await;
    let took = started.elapsed();
    all_finished(unfinished)?;
    let overflows = listen_overflows()
        .zip(overflows_before)
        .map(|(after, before)| after.saturating_sub(before));
    let slowest = times.iter().max().copied().unwrap_or_default();
    sample.detail = format!(
        r#""completed":{},"failed":{},"seconds":{:.4},"slowest_connect_ms":{},"listen_overflows":{}"#,
        times.len(),
        failures.count(),
        took.as_secs_f64(),
        slowest.as_millis(),
        overflows.map_or("null".to_string(), |n| n.to_string())
    );
    if failures.count() > 0 {
        return Err(format!("connections failed: {}", failures.describe()));
    }
    Ok(times.len() as f64 / took.as_secs_f64())
}

/// A load its deadline stopped measured part of a run only: its figures
/// (bytes sent, connections made) would pass for the whole run's.
fn all_finished(unfinished: usize) -> Result<(), String> {
    match unfinished {
        0 => Ok(()),
        _ => Err(format!("did not finish within {}s", RUN_LIMIT.as_secs())),
    }
}

/// Checks `done` every millisecond until it holds or `deadline` passes.
async fn wait_until(deadline: tokio::time::Instant, mut done: impl FnMut() -> bool) -> bool {
    while !done() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    true
}

/// Starts a server for one run. Its stderr goes to /dev/null, or to a pipe
/// that is read and counted, not kept; so its log cannot tell the port (the
/// Go programs log none anyway): that comes from `/proc`. Not from
/// connecting to it: the server would serve that connection after the run's
/// baseline was taken, and its memory would count as the run's.
async fn start(contender: &Contender, sink: Sink) -> Result<Server, String> {
    // Go's flag package takes --addr as well as -addr.
    let how = Server::builder(&contender.program)
        .args(&contender.args)
        .found_by_looking(|pid| {
            let ports = harness::listening::listening_ports(pid);
            ports
                .first()
                .map(|&port| SocketAddr::from(([127, 0, 0, 1], port)))
        });
    let how = match sink {
        Sink::DevNull => how.stderr_to(Stdio::null()),
        Sink::Pipe => how.kept_until_listening(),
    };
    stages::start(&contender.name, how).await
}

/// The median, lowest and highest of the successful samples of one cell.
fn summary(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = match sorted.len() {
        0 => return None,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    Some((median, sorted[0], sorted[sorted.len() - 1]))
}

/// How a cell shows its figures: the unit and the precision suit the median,
/// and the lowest and highest follow it, such as `231 MB/s (226–248)`.
fn figures(scenario: Scenario, median: f64, range: Option<(f64, f64)>) -> String {
    let (scale, decimals, unit) = match scenario {
        Scenario::Hold { .. } => (1.0, 1, " KiB"),
        Scenario::Flood { .. } if median >= 1000.0 => (1000.0, 2, " GB/s"),
        Scenario::Flood { .. } => (1.0, 0, " MB/s"),
        Scenario::Churn { .. } => (1.0, 0, "/s"),
    };
    let show = |value: f64| format!("{:.*}", decimals, value / scale);
    match range {
        Some((low, high)) => format!("{}{unit} ({}–{})", show(median), show(low), show(high)),
        None => format!("{}{unit}", show(median)),
    }
}

/// A Markdown table: a row per measurement, a column per server, each cell
/// the median and, in brackets, the lowest and highest of the rounds.
fn table(contenders: &[Contender], scenarios: &[Scenario], samples: &[Sample]) -> String {
    let mut out = String::from("| measurement |");
    for contender in contenders {
        let _ = write!(out, " {} |", contender.name);
    }
    out += "\n| --- |";
    out += &" ---: |".repeat(contenders.len());
    out.push('\n');
    for &scenario in scenarios {
        let _ = write!(out, "| {} |", scenario.row());
        for contender in contenders {
            let cell: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.server == contender.name && s.scenario == scenario)
                .collect();
            let values: Vec<f64> = cell.iter().filter_map(|s| s.value.clone().ok()).collect();
            let failed = cell.len() - values.len();
            let mut text = match summary(&values) {
                Some((median, low, high)) if values.len() > 1 => {
                    figures(scenario, median, Some((low, high)))
                }
                Some((median, ..)) => figures(scenario, median, None),
                None => "failed".to_string(),
            };
            if failed > 0 && !values.is_empty() {
                let _ = write!(text, ", {failed} failed");
            }
            if let Scenario::Hold { .. } = scenario {
                let threads: Vec<f64> = cell
                    .iter()
                    .filter(|s| s.value.is_ok())
                    .filter_map(|s| s.usage.map(|(_, peak)| peak.threads as f64))
                    .collect();
                if let Some((median, ..)) = summary(&threads) {
                    let _ = write!(text, ", {median:.0} threads");
                }
                let lost: Vec<f64> = cell
                    .iter()
                    .filter(|s| s.value.is_ok())
                    .map(|s| s.lost as f64)
                    .collect();
                if let Some((median, ..)) = summary(&lost).filter(|&(median, ..)| median > 0.0) {
                    let _ = write!(text, ", {median:.0} lost in the listen queue");
                }
            }
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    let failures: Vec<String> = samples
        .iter()
        .filter_map(|s| {
            let error = s.value.as_ref().err()?;
            Some(format!(
                "- {} ({}), round {}: {error}",
                s.server,
                s.scenario.row(),
                s.round
            ))
        })
        .collect();
    if !failures.is_empty() {
        out += "\nFailed runs:\n";
        out += &failures.join("\n");
        out.push('\n');
    }
    out
}

/// An SVG line chart: each server's RSS (median of the rounds) at 0 and at
/// each number of held connections.
fn memory_chart(contenders: &[Contender], held: &[usize], samples: &[Sample]) -> String {
    const W: f64 = 780.0;
    const H: f64 = 420.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 260.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    const COLOURS: [&str; 8] = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
    ];
    let mut lines = Vec::new();
    for contender in contenders {
        let mut points = Vec::new();
        let rss = |connections: usize, pick: fn((Usage, Usage)) -> Usage| {
            let values: Vec<f64> = samples
                .iter()
                .filter(|s| s.server == contender.name)
                .filter(|s| s.scenario == Scenario::Hold { connections })
                .filter_map(|s| s.usage.map(pick))
                .map(|usage| usage.rss_kib as f64 / 1024.0)
                .collect();
            summary(&values).map(|(median, ..)| median)
        };
        if let Some(&first) = held.first() {
            if let Some(idle) = rss(first, |(before, _)| before) {
                points.push((0.0, idle));
            }
        }
        for &connections in held {
            if let Some(mib) = rss(connections, |(_, during)| during) {
                points.push((connections as f64, mib));
            }
        }
        // A number of connections no round could hold is named in the legend.
        let failed_at = held.iter().find(|&&connections| {
            samples
                .iter()
                .filter(|s| s.server == contender.name)
                .filter(|s| s.scenario == Scenario::Hold { connections })
                .all(|s| s.value.is_err())
        });
        let name = match failed_at {
            Some(connections) => format!("{} (failed at {connections})", contender.name),
            None => contender.name.clone(),
        };
        lines.push((name, points));
    }
    let max_x = held.iter().copied().max().unwrap_or(1) as f64;
    let max_y = lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|&(_, y)| y))
        .fold(1.0, f64::max)
        * 1.1;
    // Grid lines every 1, 2 or 5 times a power of ten, at most eight of them.
    let tick = [1.0, 2.0, 5.0]
        .iter()
        .flat_map(|&m| (-1..6).map(move |p| m * 10f64.powi(p)))
        .filter(|&step| max_y / step <= 8.0)
        .fold(f64::MAX, f64::min);
    let x = |value: f64| LEFT + value / max_x * (W - LEFT - RIGHT);
    let y = |value: f64| H - BOTTOM - value / max_y * (H - TOP - BOTTOM);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{LEFT}" y="22" font-size="15">Resident memory (MiB) against idle connections held</text>
<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="black"/>
"#,
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM
    );
    for step in 0..=(max_y / tick).floor() as u32 {
        let value = tick * f64::from(step);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{value:.0}</text><line x1="{LEFT}" y1="{1}" x2="{}" y2="{1}" stroke="lightgray"/>"#,
            LEFT - 6.0,
            y(value),
            W - RIGHT
        );
    }
    for &connections in std::iter::once(&0).chain(held) {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{connections}</text>"#,
            x(connections as f64),
            H - BOTTOM + 18.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">connections held</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 10.0
    );
    for (index, (name, points)) in lines.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let path: Vec<String> = points
            .iter()
            .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for &(px, py) in points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                x(px),
                y(py)
            );
        }
        let legend_y = TOP + 20.0 * index as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{}" y1="{legend_y}" x2="{}" y2="{legend_y}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{name}</text>"#,
            W - RIGHT + 15.0,
            W - RIGHT + 35.0,
            W - RIGHT + 42.0,
            legend_y + 4.0
        );
    }
    svg += "</svg>\n";
    svg
}

#[cfg(test)]
mod tests {
    use super::{json_string, serves_together, summary};

    /// A run its deadline stops is a failure, not a figure made of the
    /// part that ran: with no time left, a hold, a flood and an accept
    /// rate measure nothing, and say so.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_run_stopped_by_its_deadline_is_a_failure_not_a_figure() {
        use super::{Contender, Sample, Scenario, Sink, accept_rate, flood, hold, start};
        let stage = crate::stages::find(&["stage3-concurrent".to_string()])
            .unwrap()
            .remove(0);
        let contender = Contender {
            name: stage.name,
            program: stage.path,
            args: Vec::new(),
        };
        let server = start(&contender, Sink::DevNull).await.unwrap();
        let no_time_left = tokio::time::Instant::now();
        let mut sample = Sample::new(1, &contender.name, Scenario::Churn { concurrency: 8 });
        for (run, value) in [
            ("hold", hold(&server, 100, no_time_left, &mut sample).await),
            (
                "flood",
                flood(
                    &server,
                    Sink::DevNull,
                    16,
                    1 << 20,
                    no_time_left,
                    &mut sample,
                )
                .await,
            ),
            (
                "accept rate",
                accept_rate(&server, 100, 8, no_time_left, &mut sample).await,
            ),
        ] {
            assert_eq!(
                value,
                Err("did not finish within 120s".to_string()),
                "{run}"
            );
        }
    }

    #[test]
    fn errors_become_valid_json_strings() {
        assert_eq!(json_string("plain"), r#""plain""#);
        assert_eq!(json_string("say \"hi\"\\\n"), r#""say \"hi\"\\\u000a""#);
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(summary(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(summary(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(summary(&[]), None);
    }

    #[test]
    fn stages_from_3_on_serve_clients_together() {
        assert!(!serves_together("stage1-listener"));
        assert!(!serves_together("stage2-accept-loop"));
        assert!(serves_together("stage3-threads"));
        assert!(serves_together("stage5-production"));
    }
}
