//! `workshop load`: a bounded load on a server on this machine. Every mode
//! stops by itself: a fixed number of connections, within `--limit`. Only
//! loopback addresses are accepted as targets. The load itself is
//! [`crate::load`]'s; this is the subcommand's arguments and its report.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

use crate::load::{self, Failures, Gathered, Sent};
use crate::output::progress::Progress;
use crate::processes::usage::{self, UsageWatcher, listen_overflows};
use crate::processes::{limits, servers, stages};
use crate::units::seconds;
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

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    if let Mode::Hold { hold, .. } = args.mode {
        if hold >= args.limit {
            bail!(
                "--hold {} leaves no time for the rest within --limit {}",
                humantime::format_duration(hold),
                humantime::format_duration(args.limit)
            );
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
            let server = servers::start(&stage.name, how).await?;
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
                None => common::resolve("localhost:9000").map_err(|why| anyhow!(why))?,
            };
            (on_this_machine(addr)?, args.pid)
        }
    };
    let watcher = pid.map(UsageWatcher::start);
    let overflows_before = listen_overflows();
    let baseline = pid.and_then(usage::of);
    // Each mode stops itself at the deadline and reports what it did until
    // then.
    let deadline = tokio::time::Instant::now() + args.limit;
    let outcome = match args.mode {
        Mode::Hold { connections, hold } => {
            hold_load(addr, connections as usize, hold, deadline).await
        }
        Mode::Flood { clients, bytes } => {
            // What the clients send in all. The options' bounds (10,000
            // clients of 1 TiB at most) keep it within a u64; the product
            // is checked all the same, so that wider bounds cannot wrap it.
            let total = bytes
                .checked_mul(u64::from(clients))
                .context("--clients × --bytes is more bytes than can be counted: ask for fewer")?;
            flood(addr, clients as usize, bytes, total, deadline).await
        }
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
                let added = baseline.zip(outcome.per).and_then(|(baseline, per)| {
                    Some((baseline, peak.kib_per_connection(baseline, per)?))
                });
                if let Some((baseline, added)) = added {
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
        bail!(
            "stopped by --limit {}: the figures above are what the load did until then",
            humantime::format_duration(args.limit)
        );
    }
    if let Some(out) = outcome.failures.out_of_files {
        bail!(connections_out_of_files(out));
    }
    if outcome.succeeded == 0 {
        let tried = outcome.failures.count();
        bail!(
            "not one of the {tried} connections succeeded ({})",
            outcome.failures.describe()
        );
    }
    Ok(())
}

/// Refuses any target that is not on this machine.
fn on_this_machine(addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(anyhow!(
            "{addr} is not on this machine: workshop load only targets loopback addresses (127.0.0.0/8, ::1)"
        ))
    }
}

/// What to say when a connection found no file descriptor for its socket.
pub(crate) fn connections_out_of_files(out: limits::OutOfFiles) -> String {
    out.stopped("each connection needs one", "ask for fewer")
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

async fn hold_load(
    addr: SocketAddr,
    connections: usize,
    hold: Duration,
    deadline: tokio::time::Instant,
) -> Outcome {
    let started = Instant::now();
    let opened = load::open(addr, connections, deadline).await;
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
        .filter(|stream| load::already_closed(stream))
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

async fn flood(
    addr: SocketAddr,
    clients: usize,
    bytes: u64,
    total: u64,
    deadline: tokio::time::Instant,
) -> Outcome {
    let started = Instant::now();
    let Sent {
        bytes: sent,
        clients: gathered,
    } = load::send(addr, clients, bytes, true, deadline).await;
    let took = started.elapsed();
    let stopped = gathered.unfinished > 0;
    let rate = sent as f64 / took.as_secs_f64().max(f64::EPSILON) / 1e6;
    let done = if stopped {
        format!("; {} of {clients} clients done", gathered.done.len())
    } else {
        String::new()
    };
    let report = format!(
        "flood: {clients} clients sending {} each ({} in all) to {addr}{}\n  sent {} in {}: {rate:.1} MB/s{done}; failed: {}\n",
        size(bytes),
        size(total),
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

async fn churn(
    addr: SocketAddr,
    connections: usize,
    concurrency: usize,
    deadline: tokio::time::Instant,
) -> Outcome {
    let started = Instant::now();
    let churned = load::connect_send_close(addr, connections, concurrency, deadline).await;
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

#[cfg(all(test, unix))]
mod tests {
    use super::connections_out_of_files;
    use crate::measure::compare::crowd_out_of_files;
    use crate::processes::limits::{OutOfFiles, open_file_limit};

    /// Whoever's descriptors ran out, `load` and `compare` say it in the
    /// stages' own words (common's runtime start), then what stopped, and
    /// what to do after a semicolon, in the same shape for both.
    #[test]
    fn running_out_is_said_in_the_stages_words_then_what_to_do() {
        let limit = open_file_limit().unwrap();
        let process = format!("ran out of file descriptors (ulimit -n {limit})");
        let system = "the system ran out of file descriptors";
        let raise = "raise the hard limit (ulimit -Hn)";
        let close = "close other programs, or raise the system's limit";
        for (out, said, remedy) in [
            (OutOfFiles::Process, process.as_str(), raise),
            (OutOfFiles::System, system, close),
        ] {
            assert_eq!(
                connections_out_of_files(out),
                format!("{said}: each connection needs one; ask for fewer, or {remedy}")
            );
            assert_eq!(
                crowd_out_of_files(out, 3, 1000),
                format!(
                    "{said}: 3 of the crowd's 1000 clients could not be opened; ask for a smaller --crowd, or {remedy}"
                )
            );
        }
    }
}
