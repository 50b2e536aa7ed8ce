//! `workshop load`: a bounded load on a server on this machine. Every mode
//! stops by itself: a fixed number of connections, within `--limit`. Only
//! loopback addresses are accepted as targets.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::limits;
use crate::process::{Usage, listen_overflows};
use crate::progress::Progress;
use crate::seconds;
use crate::stages;
use crate::units::{LONGEST, duration_within, mib, size, size_within};
use crate::{say, sayln, tellln};

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    #[command(subcommand)]
    mode: Mode,

    /// The server to load, resolved as the stages resolve --addr; it must be on this machine (a loopback address) [default: localhost:9000]
    #[arg(
        long,
        global = true,
        value_name = "HOST:PORT",
        value_parser = common::resolve,
        conflicts_with = "stage"
    )]
    addr: Option<SocketAddr>,

    /// Start this stage on a free port, logging only its `listening on` line (its stderr read and dropped), and load it
    #[arg(long, global = true, value_name = "NAME")]
    stage: Option<String>,

    /// An argument for the stage started with --stage (repeat for more), such as --stage-arg=--timeout=60s
    #[arg(
        long = "stage-arg",
        global = true,
        value_name = "ARG",
        allow_hyphen_values = true
    )]
    stage_args: Vec<String>,

    /// Report this process's memory and threads during the load
    #[arg(long, global = true, value_name = "PID")]
    pid: Option<u32>,

    /// Stop the whole load after this long (at most 1h), whatever is left
    #[arg(long, global = true, value_name = "DURATION", default_value = "60s", value_parser = duration_within(Duration::from_millis(1), LONGEST))]
    limit: Duration,
}

#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// Open N connections and hold them, silent, for a while
    Hold {
        /// How many connections
        #[arg(short = 'n', long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=200_000))]
        connections: u32,
        /// How long to hold them once all are open (less than --limit)
        #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = duration_within(Duration::ZERO, LONGEST))]
        hold: Duration,
    },
    /// C clients each send B bytes, then wait for the server to close
    Flood {
        /// How many clients at once
        #[arg(short = 'c', long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        clients: u32,
        /// How many bytes each sends, up to 1TiB (KiB, MiB, GiB and TiB suffixes work)
        #[arg(short = 'b', long, default_value = "16MiB", value_parser = size_within(1, 1 << 40), allow_hyphen_values = true)]
        bytes: u64,
    },
    /// Connect, send a line and close, N times, C at a time
    Churn {
        /// How many connections in all
        #[arg(short = 'n', long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=200_000))]
        connections: u32,
        /// How many at a time
        #[arg(short = 'c', long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        concurrency: u32,
    },
}

/// A source address carries at most this many connections: one address has
/// about 28,000 ephemeral ports, and a closed connection keeps its port in
/// TIME_WAIT for a minute.
const PER_SOURCE: usize = 16_000;

pub async fn run(args: LoadArgs) -> Result<(), String> {
    if let Mode::Hold { hold, .. } = args.mode {
        if hold >= args.limit {
            return Err(format!(
                "--hold {} leaves no time for the rest within --limit {}",
                humantime::format_duration(hold),
                humantime::format_duration(args.limit)
            ));
        }
    }
    let mut server = match &args.stage {
        Some(name) => {
            let stage = stages::find(std::slice::from_ref(name))?.remove(0);
            // Only the `listening on` line is logged, and stderr is read and
            // dropped once the stage listens: a long load would fill memory.
            let how = stage
                .server(&args.stage_args)
                .env("RUST_LOG", harness::ONLY_THE_LISTENING_LINE)
                .kept_until_listening();
            let server = stages::start(&stage.name, how).await?;
            tellln!(
                "workshop: started {} (pid {}) on {}",
                stage.name,
                server.pid(),
                server.addr()
            );
            Some(server)
        }
        None => None,
    };
    let (addr, pid) = match &server {
        Some(server) => (server.addr(), Some(server.pid())),
        None => {
            let addr = match args.addr {
                Some(addr) => addr,
                None => common::resolve("localhost:9000")?,
            };
            (on_this_machine(addr)?, args.pid)
        }
    };
    let watcher = pid.map(UsageWatcher::start);
    let overflows_before = listen_overflows();
    let baseline = pid.and_then(Usage::of);
    // Each mode stops itself at the deadline and reports what it did until
    // then.
    let deadline = tokio::time::Instant::now() + args.limit;
    let outcome = match args.mode {
        Mode::Hold { connections, hold } => {
            hold_load(addr, connections as usize, hold, deadline).await
        }
        Mode::Flood { clients, bytes } => flood(addr, clients as usize, bytes, deadline).await,
        Mode::Churn {
            connections,
            concurrency,
        } => churn(addr, connections as usize, concurrency as usize, deadline).await,
    };
    say!("{}", outcome.report);
    if let Some(status) = server.as_mut().and_then(harness::Server::exit_status) {
        sayln!("  the server exited during the load ({status}): the figures above are not its own");
    }
    if let (Some(before), Some(after)) = (overflows_before, listen_overflows()) {
        sayln!(
            "  listen queue overflows on this machine during the load: {}",
            after.saturating_sub(before)
        );
    }
    if let (Some(pid), Some(watcher)) = (pid, watcher) {
        let peak = watcher.peak();
        let mut line = format!("  server (pid {pid}): ");
        match peak {
            Some(peak) => {
                line += &format!(
                    "RSS {} at the peak, {} threads at the peak",
                    mib(peak.rss_kib),
                    peak.threads
                );
                if let (Some(baseline), Some(per)) = (baseline, outcome.per.filter(|per| *per > 0))
                {
                    let added = peak.rss_kib.saturating_sub(baseline.rss_kib) as f64 / per as f64;
                    line += &format!(
                        " ({added:.1} KiB per connection over the {} before)",
                        mib(baseline.rss_kib)
                    );
                }
            }
            None => {
                line +=
                    "memory and threads unknown (read from /proc/PID/status, which only Linux has)"
            }
        }
        sayln!("{line}");
    }
    // The figures are printed; what went wrong is said once more, in the
    // exit status too, so that a script or a learner cannot take it for a
    // load that was carried out.
    if outcome.stopped {
        return Err(format!(
            "stopped by --limit {}: the figures above are what the load did until then",
            humantime::format_duration(args.limit)
        ));
    }
    if let Some(out) = outcome.failures.out_of_files {
        return Err(connections_out_of_files(out));
    }
    if outcome.succeeded == 0 {
        let tried = outcome.failures.count();
        return Err(format!(
            "not one of the {tried} connections succeeded ({})",
            outcome.failures.describe()
        ));
    }
    Ok(())
}

/// Refuses any target that is not on this machine.
fn on_this_machine(addr: SocketAddr) -> Result<SocketAddr, String> {
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(format!(
            "{addr} is not on this machine: workshop load only targets loopback addresses (127.0.0.0/8, ::1)"
        ))
    }
}

/// Which source address the next connections start from: 0 is the usual
/// 127.0.0.1. See [`fresh_sources`].
static FIRST_SOURCE: AtomicUsize = AtomicUsize::new(0);

/// Moves the following connections (`connections` of them) to source
/// addresses no recent run used. A run of tens of thousands of connections
/// leaves as many ports in TIME_WAIT for a minute, and the next run from
/// the same address then finds few ports free, or slowly.
pub(crate) fn fresh_sources(connections: usize) {
    let used = connections / PER_SOURCE + 1;
    let _ = FIRST_SOURCE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |first| {
        Some(1 + (first + used) % 200)
    });
}

/// Connects to `addr`, from the `index`th connection's source address.
pub(crate) async fn connect(addr: SocketAddr, index: usize) -> std::io::Result<TcpStream> {
    let source = FIRST_SOURCE.load(Ordering::Relaxed) + index / PER_SOURCE;
    match addr.ip() {
        // Linux and Windows answer on all of 127.0.0.0/8; macOS's loopback
        // has 127.0.0.1 alone, unless more are added by hand.
        IpAddr::V4(ip)
            if ip.is_loopback() && source > 0 && cfg!(any(target_os = "linux", windows)) =>
        {
            // 127.0.0.2, 127.0.0.3...: all loopback, each with its own ports.
            let socket = TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            choose_the_port_at_connect(&socket)?;
            let octet = u8::try_from(1 + source % 250).unwrap_or(u8::MAX);
            socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, octet), 0)))?;
            socket.connect(addr).await
        }
        _ => TcpStream::connect(addr).await,
    }
}

/// Binding to an address picks a port at once, with nothing but the address
/// to go on, and the search grows slow as the ports fill with closed
/// connections; a plain `connect` picks it knowing the destination, which
/// is fast. `IP_BIND_ADDRESS_NO_PORT` has a bound socket pick its port the
/// way `connect` does. (Linux only; elsewhere the bind picks it.)
fn choose_the_port_at_connect(socket: &TcpSocket) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let on: libc::c_int = 1;
        // SAFETY: the option value is a c_int that outlives the call, and
        // the descriptor belongs to `socket`.
        let status = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&raw const on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if status != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = socket;
    Ok(())
}

/// What a set of tasks gave, as far as they got.
pub(crate) struct Gathered<T> {
    /// What the tasks that succeeded returned.
    pub(crate) done: Vec<T>,
    /// How the others failed.
    pub(crate) failures: Failures,
    /// How many had not ended when the deadline stopped them...
    pub(crate) unfinished: usize,
    /// ...of which so many were still waiting for their turn.
    pub(crate) not_started: usize,
}

impl<T> Gathered<T> {
    /// `; 4 still connecting, 14 not started`: the tasks the deadline
    /// stopped, those that were `doing` what they do and those that had
    /// not begun.
    fn cut_short(&self, doing: &str) -> String {
        match (self.unfinished - self.not_started, self.not_started) {
            (0, 0) => String::new(),
            (running, 0) => format!("; {running} {doing}"),
            (running, waiting) => format!("; {running} {doing}, {waiting} not started"),
        }
    }
}

/// Lets tasks run so many at a time, and counts those that got their turn.
struct Turns {
    permits: Semaphore,
    taken: AtomicUsize,
}

impl Turns {
    fn new(at_once: usize) -> Arc<Turns> {
        Arc::new(Turns {
            permits: Semaphore::new(at_once.max(1)),
            taken: AtomicUsize::new(0),
        })
    }

    /// Waits for a turn, which lasts as long as what this returns.
    async fn take(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let permit = self.permits.acquire().await.ok();
        self.taken.fetch_add(1, Ordering::Relaxed);
        permit
    }
}

/// Waits for every task, showing `what: done of total` as they end, or
/// until `deadline`, when the rest are stopped; returns what the tasks gave.
async fn gather<T: 'static>(
    mut tasks: tokio::task::JoinSet<std::io::Result<T>>,
    turns: &Turns,
    what: &str,
    total: usize,
    deadline: tokio::time::Instant,
) -> Gathered<T> {
    let mut progress = Progress::new();
    let mut done = Vec::with_capacity(total);
    let mut failures = Failures::default();
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
        match joined {
            Ok(Ok(value)) => done.push(value),
            Ok(Err(err)) => failures.add(&err),
            Err(join) => failures.add(&std::io::Error::other(join)),
        }
        progress.show(&format!(
            "{what}: {} of {total}",
            done.len() + failures.count()
        ));
    }
    progress.done();
    let unfinished = tasks.len();
    // Stops what is left, and waits until it has stopped: a task that runs
    // on, on another thread, would add to the figures after they are read.
    tasks.shutdown().await;
    Gathered {
        unfinished,
        not_started: total.saturating_sub(turns.taken.load(Ordering::Relaxed)),
        done,
        failures,
    }
}

/// What to say when a connection found no file descriptor for its socket.
pub(crate) fn connections_out_of_files(out: limits::OutOfFiles) -> String {
    out.stopped("each connection needs one", "ask for fewer")
}

/// What went wrong how often, such as `3 connection refused`.
#[derive(Default)]
pub(crate) struct Failures {
    kinds: BTreeMap<String, usize>,
    /// Whether a connection found no file descriptor, and whose ran out.
    pub(crate) out_of_files: Option<limits::OutOfFiles>,
}

impl Failures {
    fn add(&mut self, err: &std::io::Error) {
        // Rust names EMFILE `uncategorized error`: say what it is.
        let what = match limits::out_of_files(err) {
            Some(out) => {
                self.out_of_files = Some(out);
                out.to_string()
            }
            None => err.kind().to_string(),
        };
        *self.kinds.entry(what).or_default() += 1;
    }

    pub(crate) fn count(&self) -> usize {
        self.kinds.values().sum()
    }

    pub(crate) fn describe(&self) -> String {
        if self.kinds.is_empty() {
            return "none".to_string();
        }
        let parts: Vec<String> = self
            .kinds
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        parts.join(", ")
    }
}

/// How a mode went: its report, and what decides the exit status.
struct Outcome {
    report: String,
    /// Connections the server held to the end, for memory per connection.
    per: Option<usize>,
    /// Connections (or clients) that did what the mode asks of them.
    succeeded: usize,
    failures: Failures,
    /// `--limit` stopped the run: the report is what it did until then.
    stopped: bool,
}

/// `, stopped by --limit after 0.50s`, for the first line of a report.
fn stopped_after(stopped: bool, took: Duration) -> String {
    if stopped {
        format!(", stopped by --limit after {}", seconds(took))
    } else {
        String::new()
    }
}

/// Opens `connections` silent connections, at most 256 handshakes at a
/// time, until `deadline`; returns them with how the others failed.
pub(crate) async fn open(
    addr: SocketAddr,
    connections: usize,
    deadline: tokio::time::Instant,
) -> Gathered<TcpStream> {
    let mut pending = tokio::task::JoinSet::new();
    let turns = Turns::new(256);
    for index in 0..connections {
        let turns = Arc::clone(&turns);
        pending.spawn(async move {
            let _turn = turns.take().await;
            connect(addr, index).await
        });
    }
    gather(pending, &turns, "hold: connecting", connections, deadline).await
}

async fn hold_load(
    addr: SocketAddr,
    connections: usize,
    hold: Duration,
    deadline: tokio::time::Instant,
) -> Outcome {
    let started = Instant::now();
    let opened = open(addr, connections, deadline).await;
    let still_connecting = opened.cut_short("still connecting");
    let Gathered {
        done: held,
        failures,
        unfinished,
        ..
    } = opened;
    let connecting = started.elapsed();
    let mut stopped = unfinished > 0;
    let holding = Instant::now();
    if !held.is_empty() && !stopped {
        let mut progress = Progress::new();
        progress.show(&format!(
            "hold: holding {} connections for {}",
            held.len(),
            seconds(hold)
        ));
        // `--hold` is shorter than `--limit`, but connecting took some of it.
        let until = deadline.min(tokio::time::Instant::now() + hold);
        tokio::time::sleep_until(until).await;
        stopped = until == deadline;
        progress.done();
    }
    let closed_early = held
        .iter()
        .filter(|stream| crate::already_closed(stream))
        .count();
    let established = held.len();
    drop(held);
    let first = if unfinished > 0 {
        format!(
            "hold: {connections} connections to {addr}{}",
            stopped_after(true, started.elapsed())
        )
    } else if established == 0 {
        format!("hold: {connections} connections to {addr}, none established")
    } else if stopped {
        format!(
            "hold: {connections} connections to {addr}, held {} of {}, stopped by --limit",
            seconds(holding.elapsed()),
            seconds(hold)
        )
    } else {
        format!(
            "hold: {connections} connections to {addr}, held {}",
            seconds(hold)
        )
    };
    let report = format!(
        "{first}\n  established {established} in {}; failed: {}{still_connecting}\n  closed by the server before the end: {closed_early}\n",
        seconds(connecting),
        failures.describe()
    );
    Outcome {
        report,
        // Memory per connection means something only if the server held
        // every connection established, for the whole hold.
        per: (!stopped && closed_early == 0).then_some(established),
        succeeded: established,
        failures,
        stopped,
    }
}

/// What every flood client sends, 64 KiB at a time: one buffer that all
/// clients share (one each cost 640 MiB with 10,000 clients).
static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// What a flood did: bytes written, clients done and how the others failed.
pub(crate) struct Sent {
    /// Bytes the clients handed to the system, each write counted as it
    /// returned: what went out, also from clients the deadline stopped.
    pub(crate) bytes: u64,
    /// The clients that finished, by their own addresses.
    pub(crate) clients: Gathered<SocketAddr>,
}

/// `clients` clients each send `bytes` and close their side. With
/// `wait_for_close`, each then waits for the server to close in turn, which
/// it does once it has read everything (the seed's Go stage 3 never does).
/// Stops at `deadline`, whatever is left.
pub(crate) async fn send(
    addr: SocketAddr,
    clients: usize,
    bytes: u64,
    wait_for_close: bool,
    deadline: tokio::time::Instant,
) -> Sent {
    let written = Arc::new(AtomicU64::new(0));
    let mut senders = tokio::task::JoinSet::new();
    // Every client at once.
    let turns = Turns::new(clients);
    for index in 0..clients {
        let written = Arc::clone(&written);
        let turns = Arc::clone(&turns);
        senders.spawn(async move {
            let _turn = turns.take().await;
            let mut stream = connect(addr, index).await?;
            let mut left = bytes;
            // `write`, not `write_all`: what a write the deadline stops
            // has sent of its chunk is counted too.
            while left > 0 {
                let n = left.min(CHUNK.len() as u64) as usize;
                let sent = match stream.write(&CHUNK[..n]).await? {
                    0 => return Err(std::io::ErrorKind::WriteZero.into()),
                    sent => sent as u64,
                };
                written.fetch_add(sent, Ordering::Relaxed);
                left -= sent;
            }
            stream.shutdown().await?;
            if wait_for_close {
                let _ = stream.read(&mut [0u8; 1]).await;
            }
            stream.local_addr()
        });
    }
    let clients = gather(senders, &turns, "flood: clients done", clients, deadline).await;
    Sent {
        bytes: written.load(Ordering::Relaxed),
        clients,
    }
}

async fn flood(
    addr: SocketAddr,
    clients: usize,
    bytes: u64,
    deadline: tokio::time::Instant,
) -> Outcome {
    let started = Instant::now();
    let Sent {
        bytes: sent,
        clients: gathered,
    } = send(addr, clients, bytes, true, deadline).await;
    let took = started.elapsed();
    let stopped = gathered.unfinished > 0;
    let rate = sent as f64 / took.as_secs_f64().max(f64::EPSILON) / 1e6;
    let done = if stopped {
        format!("; {} of {clients} clients done", gathered.done.len())
    } else {
        String::new()
    };
    let report = format!(
        "flood: {clients} clients sending {} each to {addr}{}\n  sent {} in {}: {rate:.1} MB/s{done}; failed: {}\n",
        size(bytes),
        stopped_after(stopped, took),
        size(sent),
        seconds(took),
        gathered.failures.describe()
    );
    // Memory per connection means something only if every client was
    // connected to the end.
    let all_done = gathered.done.len() == clients;
    Outcome {
        report,
        per: all_done.then_some(clients),
        succeeded: gathered.done.len(),
        failures: gathered.failures,
        stopped,
    }
}

/// Connects, sends a line and closes, `connections` times, `concurrency` at a
/// time. Returns how long each handshake took, and how the others failed.
pub(crate) async fn connect_send_close(
    addr: SocketAddr,
    connections: usize,
    concurrency: usize,
    deadline: tokio::time::Instant,
) -> Gathered<Duration> {
    let turns = Turns::new(concurrency);
    let mut workers = tokio::task::JoinSet::new();
    for index in 0..connections {
        let turns = Arc::clone(&turns);
        workers.spawn(async move {
            let _turn = turns.take().await;
            let connecting = Instant::now();
            let mut stream = connect(addr, index).await?;
            let connect_time = connecting.elapsed();
            stream
                .write_all(format!("churn {index}\n").as_bytes())
                .await?;
            std::io::Result::Ok(connect_time)
        });
    }
    gather(workers, &turns, "churn", connections, deadline).await
}

async fn churn(
    addr: SocketAddr,
    connections: usize,
    concurrency: usize,
    deadline: tokio::time::Instant,
) -> Outcome {
    let started = Instant::now();
    let churned = connect_send_close(addr, connections, concurrency, deadline).await;
    let unfinished = churned.cut_short("still connecting or sending");
    let Gathered {
        done: mut connect_times,
        failures,
        ..
    } = churned;
    let took = started.elapsed();
    let stopped = !unfinished.is_empty();
    connect_times.sort();
    let percentile = |p: f64| {
        connect_times
            .get(
                ((connect_times.len() as f64 * p) as usize)
                    .min(connect_times.len().saturating_sub(1)),
            )
            .map_or("-".to_string(), |time| seconds(*time))
    };
    let per_second = connect_times.len() as f64 / took.as_secs_f64().max(f64::EPSILON);
    let report = format!(
        "churn: {connections} connect/send/close to {addr}, {concurrency} at a time{}\n  completed {} in {}: {per_second:.0} connections/s; failed: {}{}\n  connect time: median {}, 99th percentile {}, slowest {} (a second or more means the listen queue overflowed)\n",
        stopped_after(stopped, took),
        connect_times.len(),
        seconds(took),
        failures.describe(),
        unfinished,
        percentile(0.5),
        percentile(0.99),
        connect_times
            .last()
            .map_or("-".to_string(), |time| seconds(*time)),
    );
    Outcome {
        report,
        per: None,
        succeeded: connect_times.len(),
        failures,
        stopped,
    }
}

/// Samples a process's memory and threads every 100 ms, keeping the peak.
struct UsageWatcher {
    peak: watch::Receiver<Option<Usage>>,
    _sampler: tokio::task::JoinHandle<()>,
}

impl UsageWatcher {
    fn start(pid: u32) -> UsageWatcher {
        let (record, peak) = watch::channel(Usage::of(pid));
        let sampler = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Some(now) = Usage::of(pid) else { return };
                record.send_modify(|peak| *peak = Some(peak.map_or(now, |peak| peak.peak(now))));
            }
        });
        UsageWatcher {
            peak,
            _sampler: sampler,
        }
    }

    fn peak(&self) -> Option<Usage> {
        *self.peak.borrow()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    /// A flood the deadline stops counts every byte its clients handed
    /// over, the part of a chunk a write had sent included: what the
    /// server receives, to the byte.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_flood_stopped_half_way_counts_every_byte_that_went_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // A server that reads slowly, until the client is gone.
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1000];
            let mut received = 0;
            while let Ok(n @ 1..) = socket.read(&mut buf).await {
                received += n as u64;
            }
            received
        });
        let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
        let sent = super::send(addr, 1, 1 << 40, false, deadline).await;
        assert_eq!(sent.clients.unfinished, 1);
        let received = tokio::time::timeout(harness::PATIENCE, server)
            .await
            .expect("the client stopped")
            .unwrap();
        assert_eq!(sent.bytes, received);
    }
}
