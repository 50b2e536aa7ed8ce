//! `workshop load`: a bounded load on a server on this machine. Every mode
//! stops by itself: a fixed number of connections, within `--limit`. Only
//! loopback addresses are accepted as targets. The load is measured by
//! [`crate::measure::load`] and reported by [`crate::render::load`]; this
//! is the subcommand's arguments, the server it starts, and its exit status.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::measure::load::{Asked, Measured};
use crate::processes::{limits, servers, stages};
use crate::units::{LONGEST, duration_within, size_within};
use crate::{measure, render, say, tellln};

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
            let wanted = vec![name.clone()];
            let stage = servers::blocking(move || stages::find(&wanted))
                .await?
                .remove(0);
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
    // Each mode stops itself at the deadline and reports what it did until
    // then.
    let deadline = tokio::time::Instant::now() + args.limit;
    let asked = match args.mode {
        Mode::Hold { connections, hold } => Asked::Hold {
            connections: connections as usize,
            hold,
        },
        Mode::Flood { clients, bytes } => Asked::Flood {
            clients: clients as usize,
            bytes,
            // What the clients send in all. The options' bounds (10,000
            // clients of 1 TiB at most) keep it within a u64; the product
            // is checked all the same, so that wider bounds cannot wrap it.
            total: bytes
                .checked_mul(u64::from(clients))
                .context("--clients × --bytes is more bytes than can be counted: ask for fewer")?,
        },
        Mode::Churn {
            connections,
            concurrency,
        } => Asked::Churn {
            connections: connections as usize,
            concurrency: concurrency as usize,
        },
    };
    let Measured {
        mut report,
        out_of_files,
    } = measure::load::load(addr, pid, asked, deadline).await;
    report.exited = server
        .as_mut()
        .and_then(harness::Server::exit_status)
        .map(|status| status.to_string());
    say!("{}", render::load::report(&report));
    // The figures are printed; what went wrong is said once more, in the
    // exit status too, so that a script or a learner cannot take it for a
    // load that was carried out.
    if report.load.stopped() {
        bail!(
            "stopped by --limit {}: the figures above are what the load did until then",
            humantime::format_duration(args.limit)
        );
    }
    if let Some(out) = out_of_files {
        bail!(connections_out_of_files(out));
    }
    if report.load.succeeded() == 0 {
        let failed = report.load.failed();
        bail!(
            "not one of the {} connections succeeded ({failed})",
            failed.count()
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
