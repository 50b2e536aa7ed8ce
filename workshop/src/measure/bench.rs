//! The bench's measurements: one run of a scenario on a fresh server, and
//! what it saw, as a [`Sample`]. Each run is bounded in time (`RUN_LIMIT`).
//!
//! - memory and threads while it holds N idle connections;
//! - throughput: 1 and 16 clients send a fixed total, with the server's stderr
//!   going to /dev/null or to a pipe this tool reads; the time runs until the
//!   server has every byte: read back from the pipe, or, into /dev/null, none
//!   left queued in the kernel on its connections ([`sock_diag`]). So
//!   servers that never close their connections, and Go's, which splices
//!   socket to stderr unseen by `/proc/PID/io`, are timed like the others;
//! - accept rate: connect, send a line and close, 1 and 64 at a time, with
//!   the machine's listen-queue overflows during the run.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use harness::Server;

use crate::load;
use crate::model::bench::{
    Churned, Detail, Figure, Flooded, Held, Sample, Scenario, Sink, rounded,
};
use crate::processes::contenders::Contender;
use crate::processes::usage::{self, listen_overflows, open_files};
use crate::processes::{servers, sock_diag};

/// How long any one run may take before it counts as failed.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// One run on a fresh server.
pub async fn measure(
    contender: &Contender,
    scenario: Scenario,
    round: u32,
    bytes: u64,
    churn: usize,
) -> Sample {
    let mut sample = Sample::new(round, &contender.name, scenario);
    // Kept, so that `--baseline` can tell a run of another load.
    sample.load = match scenario {
        Scenario::Hold { .. } => None,
        Scenario::Flood { .. } => Some(bytes),
        Scenario::Churn { .. } => Some(churn as u64),
    };
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
            sample.figure = Figure::Failed {
                error: format!("{error:#}"),
            };
            return sample;
        }
    };
    // One deadline for the whole run, from its start: every wait in the
    // run gives up then.
    let deadline = tokio::time::Instant::now() + RUN_LIMIT;
    let value = match scenario {
        Scenario::Hold { connections } => hold(&server, connections, deadline, &mut sample).await,
        Scenario::Flood { clients, .. } => {
            flood(&server, sink, clients, bytes, deadline, &mut sample).await
        }
        Scenario::Churn { concurrency } => {
            accept_rate(&server, churn, concurrency, deadline, &mut sample).await
        }
    };
    sample.figure = figure(value);
    // A server that died explains the failure; what the run saw after that
    // (connections refused, a socket count of 0) would only mislead.
    if let (Figure::Failed { error }, Some(status)) = (&mut sample.figure, server.exit_status()) {
        *error = format!("the server died ({status})");
    }
    sample
}

/// A run's figure, or why it has none: a sample is data, kept and written as
/// such, its error as one line.
fn figure(value: anyhow::Result<f64>) -> Figure {
    match value {
        Ok(value) if value.is_finite() => Figure::Value {
            value: rounded(value, 3),
        },
        // JSON has no infinity: written, it would be a `null` that cannot
        // be read back (a run too fast for the clock to see would be one).
        Ok(value) => Figure::Failed {
            error: format!("measured {value}, which is no figure"),
        },
        Err(error) => Figure::Failed {
            error: format!("{error:#}"),
        },
    }
}

async fn hold(
    server: &Server,
    connections: usize,
    deadline: tokio::time::Instant,
    sample: &mut Sample,
) -> anyhow::Result<f64> {
    let pid = server.pid();
    let before = usage::of(pid).context("cannot read the server's memory")?;
    let files_before = open_files(pid).context("cannot count the server's files")?;
    let load::Gathered {
        done: held,
        failures,
        unfinished,
        ..
    } = load::open(server.addr(), connections, deadline).await;
    all_finished(unfinished)?;
    if held.len() < connections {
        bail!(
            "only {} of {connections} connected ({})",
            held.len(),
            failures.describe()
        );
    }
    // The server has taken a connection in when it holds its socket. When
    // a burst overflowed its listen queue, some handshakes the client saw
    // complete were dropped at the server: those come in when the server
    // sends its part of the handshake again (after 1 s, then 2 s more), or
    // never. So wait until all are in, or none has come in for 4 s.
    let taken_in = || -> anyhow::Result<usize> {
        let files = open_files(pid).context("the server exited while taking the connections in")?;
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
    let lost = connections - taken;
    // A task or a thread allocates as it first runs: sample for a moment.
    let mut peak = before;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        peak = peak.peak(usage::of(pid).context("the server exited")?);
    }
    let closed = held
        .iter()
        .filter(|stream| load::already_closed(stream))
        .count();
    drop(held);
    // Per connection the server holds: a lost one costs it nothing.
    let per_connection = peak
        .kib_per_connection(before, taken)
        .context("the server took in none of the connections")?;
    sample.detail = Some(Detail::Hold(Held {
        rss_kib_before: before.rss_kib,
        rss_kib: peak.rss_kib,
        threads_before: before.threads,
        threads: peak.threads,
        closed_by_the_server: closed,
        lost_in_the_listen_queue: lost,
    }));
    Ok(per_connection)
}

/// Clients send `bytes` in all, and the time runs until the server has
/// them all: into a pipe, until this tool has read them from it (a counted
/// pipe); into /dev/null, until the kernel holds none of them any more, on
/// either side of any connection ([`sock_diag`]). Not until it has written
/// them: Go's
/// `io.Copy` since 1.21 splices socket to stderr, which `/proc/PID/io`
/// does not count, so that would never see Go's stage 3 finish. (Into
/// /dev/null, what a server has read and not yet written is not waited
/// for: its buffers' worth, a few hundred KiB, or for a server that
/// splices, what its pipes hold, up to 1 MiB each.)
async fn flood(
    server: &Server,
    sink: Sink,
    clients: usize,
    bytes: u64,
    deadline: tokio::time::Instant,
    sample: &mut Sample,
) -> anyhow::Result<f64> {
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
        bail!("clients failed: {}", failures.describe());
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
        bail!("cannot ask the kernel what is queued (sock_diag): {err}");
    }
    let took = started.elapsed();
    if !written {
        bail!(
            "the server did not take all it was sent within {}s",
            RUN_LIMIT.as_secs()
        );
    }
    sample.detail = Some(Detail::Flood(Flooded {
        bytes: sent,
        seconds: rounded(took.as_secs_f64(), 4),
        read_from_the_pipe: server.stderr_bytes_read(),
    }));
    Ok(sent as f64 / took.as_secs_f64() / 1e6)
}

async fn accept_rate(
    server: &Server,
    connections: usize,
    concurrency: usize,
    deadline: tokio::time::Instant,
    sample: &mut Sample,
) -> anyhow::Result<f64> {
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
    sample.detail = Some(Detail::Churn(Churned {
        completed: times.len(),
        failed: failures.count(),
        seconds: rounded(took.as_secs_f64(), 4),
        slowest_connect_ms: u64::try_from(slowest.as_millis()).unwrap_or(u64::MAX),
        listen_overflows: overflows,
    }));
    if failures.count() > 0 {
        bail!("connections failed: {}", failures.describe());
    }
    Ok(times.len() as f64 / took.as_secs_f64())
}

/// A load its deadline stopped measured part of a run only: its figures
/// (bytes sent, connections made) would pass for the whole run's.
fn all_finished(unfinished: usize) -> anyhow::Result<()> {
    match unfinished {
        0 => Ok(()),
        _ => Err(anyhow!("did not finish within {}s", RUN_LIMIT.as_secs())),
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
async fn start(contender: &Contender, sink: Sink) -> anyhow::Result<Server> {
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
    servers::start(&contender.name, how).await
}

#[cfg(test)]
mod tests {
    use super::{Figure, figure};

    /// A figure that JSON cannot hold is a failed run, said so, not a
    /// `null` in `results.jsonl` that would stop it being read back.
    #[test]
    fn a_figure_that_is_no_number_is_a_failed_run() {
        assert_eq!(figure(Ok(9.26049)), Figure::Value { value: 9.26 });
        for (value, said) in [(f64::INFINITY, "inf"), (f64::NAN, "NaN")] {
            assert_eq!(
                figure(Ok(value)),
                Figure::Failed {
                    error: format!("measured {said}, which is no figure")
                }
            );
        }
    }

    /// A run its deadline stops is a failure, not a figure made of the
    /// part that ran: with no time left, a hold, a flood and an accept
    /// rate measure nothing, and say so.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_run_stopped_by_its_deadline_is_a_failure_not_a_figure() {
        use super::{Contender, Sample, Scenario, Sink, accept_rate, flood, hold, start};
        let wanted = ["stage3-concurrent".to_string()];
        let stage =
            crate::processes::servers::blocking(move || crate::processes::stages::find(&wanted))
                .await
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
            let error = value.map_err(|error| error.to_string());
            assert_eq!(
                error,
                Err("did not finish within 120s".to_string()),
                "{run}"
            );
        }
    }
}
