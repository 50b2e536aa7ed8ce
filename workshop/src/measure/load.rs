//! `workshop load`'s measurements: a load put on a server on this machine,
//! timed, with what the server's memory and the machine's listen queue did
//! meanwhile, as [`crate::model::load`]'s data.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::load::{self, Gathered, Sent};
use crate::model::load::{Churn, Flood, Hold, HoldEnd, Load, Report, Server};
use crate::output::progress::Progress;
use crate::processes::limits::OutOfFiles;
use crate::processes::usage::{self, UsageWatcher, listen_overflows};
use crate::units::seconds;

/// The load asked for.
pub enum Asked {
    /// Open `connections` and hold them, silent, for `hold`.
    Hold { connections: usize, hold: Duration },
    /// `clients` clients each send `bytes`, `total` in all.
    Flood {
        clients: usize,
        bytes: u64,
        total: u64,
    },
    /// Connect, send a line and close, `connections` times, `concurrency`
    /// at a time.
    Churn {
        connections: usize,
        concurrency: usize,
    },
}

/// What a load did and saw, and whose file descriptors ran out, if a
/// connection found none.
pub struct Measured {
    pub report: Report,
    pub out_of_files: Option<OutOfFiles>,
}

/// Puts `asked` on the server at `addr`, stopping at `deadline` whatever is
/// left; watches the memory of the process `pid`, if given.
pub async fn load(
    addr: SocketAddr,
    pid: Option<u32>,
    asked: Asked,
    deadline: tokio::time::Instant,
) -> Measured {
    let watcher = pid.map(UsageWatcher::start);
    let overflows_before = listen_overflows();
    let before = pid.and_then(usage::of);
    let (load, out_of_files) = match asked {
        Asked::Hold { connections, hold } => hold_load(addr, connections, hold, deadline).await,
        Asked::Flood {
            clients,
            bytes,
            total,
        } => flood(addr, clients, bytes, total, deadline).await,
        Asked::Churn {
            connections,
            concurrency,
        } => churn(addr, connections, concurrency, deadline).await,
    };
    let overflows = overflows_before
        .zip(listen_overflows())
        .map(|(before, after)| after.saturating_sub(before));
    let server = pid.zip(watcher).map(|(pid, watcher)| {
        let peak = watcher.peak();
        let kib_per_connection = peak
            .zip(before)
            .zip(load.held_to_the_end())
            .and_then(|((peak, before), held)| peak.kib_per_connection(before, held));
        Server {
            pid,
            peak,
            before,
            kib_per_connection,
        }
    });
    Measured {
        report: Report {
            load,
            exited: None,
            overflows,
            server,
        },
        out_of_files,
    }
}

async fn hold_load(
    addr: SocketAddr,
    connections: usize,
    hold: Duration,
    deadline: tokio::time::Instant,
) -> (Load, Option<OutOfFiles>) {
    let started = Instant::now();
    let opened = load::open(addr, connections, deadline).await;
    let still_connecting = opened.cut_short();
    let Gathered {
        done: held,
        failures,
        unfinished,
        ..
    } = opened;
    let connecting = started.elapsed();
    // `--limit` may come during the hold, which then ends after so long.
    let mut stopped_holding = None;
    if unfinished == 0 && !held.is_empty() {
        let mut progress = Progress::new();
        progress.show(&format!(
            "hold: holding {} connections for {}",
            held.len(),
            seconds(hold)
        ));
        let holding = Instant::now();
        // `--hold` is shorter than `--limit`, but connecting took some of it.
        let until = deadline.min(tokio::time::Instant::now() + hold);
        tokio::time::sleep_until(until).await;
        if until == deadline {
            stopped_holding = Some(holding.elapsed());
        }
        progress.done();
    }
    let closed_early = held
        .iter()
        .filter(|stream| load::already_closed(stream))
        .count();
    let established = held.len();
    drop(held);
    let end = match (unfinished, established, stopped_holding) {
        (1.., ..) => HoldEnd::StoppedConnecting {
            after: started.elapsed(),
        },
        (_, 0, _) => HoldEnd::NoneEstablished,
        (_, _, Some(held)) => HoldEnd::StoppedHolding { held },
        _ => HoldEnd::Held,
    };
    let hold = Hold {
        addr,
        connections,
        hold,
        end,
        established,
        connecting,
        failed: failures.kinds(),
        still_connecting,
        closed_early,
    };
    (Load::Hold(hold), failures.out_of_files)
}

async fn flood(
    addr: SocketAddr,
    clients: usize,
    bytes: u64,
    total: u64,
    deadline: tokio::time::Instant,
) -> (Load, Option<OutOfFiles>) {
    let started = Instant::now();
    let Sent {
        bytes: sent,
        clients: gathered,
    } = load::send(addr, clients, bytes, true, deadline).await;
    let took = started.elapsed();
    let flood = Flood {
        addr,
        clients,
        bytes,
        total,
        sent,
        took,
        rate: sent as f64 / took.as_secs_f64().max(f64::EPSILON) / 1e6,
        done: gathered.done.len(),
        failed: gathered.failures.kinds(),
        stopped: gathered.unfinished > 0,
    };
    (Load::Flood(flood), gathered.failures.out_of_files)
}

async fn churn(
    addr: SocketAddr,
    connections: usize,
    concurrency: usize,
    deadline: tokio::time::Instant,
) -> (Load, Option<OutOfFiles>) {
    let started = Instant::now();
    let churned = load::connect_send_close(addr, connections, concurrency, deadline).await;
    let unfinished = churned.cut_short();
    let Gathered {
        done: mut connect_times,
        failures,
        ..
    } = churned;
    let took = started.elapsed();
    connect_times.sort();
    let percentile = |p: f64| {
        connect_times
            .get(
                ((connect_times.len() as f64 * p) as usize)
                    .min(connect_times.len().saturating_sub(1)),
            )
            .copied()
    };
    let churn = Churn {
        addr,
        connections,
        concurrency,
        completed: connect_times.len(),
        took,
        per_second: connect_times.len() as f64 / took.as_secs_f64().max(f64::EPSILON),
        median: percentile(0.5),
        p99: percentile(0.99),
        slowest: connect_times.last().copied(),
        failed: failures.kinds(),
        unfinished,
    };
    (Load::Churn(churn), failures.out_of_files)
}
