//! Plumbing every stage shares, kept here so that each stage's `main.rs` shows
//! only its lesson: the command-line arguments, the logger, and binding the
//! listener with a clear error. The accept loop, `tokio::spawn` and the read
//! deadline never live here: they are what the stages teach.

pub mod stderr;

pub use stderr::{copy_to_stderr, stderr};

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process;

use clap::error::ErrorKind;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

/// The arguments every stage takes; a stage flattens them into its own parser,
/// whose doc comment is the stage's `--help` text.
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// Where to listen: a host name or an IP address ([::1] for IPv6), and a port; port 0 picks a free one
    #[arg(long, value_name = "HOST:PORT", default_value = "localhost:9000")]
    pub addr: String,
}

/// Parses the command line. `--help` and `--version` print and exit 0; bad
/// input exits 1 like every other bad input, with one line for a bad value
/// (`--timeout soon`) and clap's whole message, usage included, otherwise.
pub fn parse_args<P: clap::Parser>() -> P {
    P::try_parse().unwrap_or_else(|err| {
        if !err.use_stderr() {
            err.exit();
        }
        match err.kind() {
            ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
                let message = err.to_string();
                eprintln!("{}", message.lines().next().unwrap_or_default());
            }
            _ => {
                let _ = err.print();
            }
        }
        process::exit(1)
    })
}

/// Logs to stderr at `info` unless `RUST_LOG` says otherwise (`RUST_LOG=off`
/// leaves stderr to the clients' bytes alone). Milliseconds in the timestamps
/// let you watch a read deadline expire.
///
/// Log lines go through the same queue as the clients' bytes (see
/// [`stderr`](mod@stderr)), so they stay in order with them and a slow stderr
/// never blocks the thread that logs.
pub fn init_logging() {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    // env_logger decides on colours for its own stderr, but never colours a
    // target it is given: decide as it would have, unless RUST_LOG_STYLE says.
    let style = std::env::var("RUST_LOG_STYLE").unwrap_or_default();
    if style.is_empty() || style == "auto" {
        builder.write_style(match anstream::AutoStream::choice(&io::stderr()) {
            anstream::ColorChoice::Never => env_logger::WriteStyle::Never,
            _ => env_logger::WriteStyle::Always,
        });
    }
    builder
        .format_timestamp_millis()
        .target(env_logger::Target::Pipe(Box::new(stderr::LogTarget)))
        .init();
}

/// How many connections the kernel may complete and keep for the server
/// until it calls `accept`. tokio's and std's `TcpListener::bind` ask for 128;
/// Go asks for the system's maximum, and so do we: in a burst of clients, a
/// full queue drops handshakes, and each dropped one costs its client a
/// second before it tries again. On Linux the maximum is
/// `net.core.somaxconn` (4096 by default); elsewhere we ask for 4096 and the
/// system lowers it to its own limit.
fn listen_queue() -> i32 {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(4096)
}

/// Binds a listener to `addr` (`HOST:PORT`) and logs `listening on ADDR` with
/// the address it really got, so port 0 shows the port the system picked.
/// On failure it prints one line naming the address and the reason, and exits
/// with status 1: Go's `if err != nil { log.Fatal(err) }`.
pub async fn listen_or_exit(addr: &str) -> TcpListener {
    let listener = async {
        let (host, port) = split_host_port(addr)?;
        let resolved = tokio::net::lookup_host((host, port))
            .await
            .map_err(|err| err.to_string())?;
        let listener = bind(preferred(resolved)?)?;
        listener
            .set_nonblocking(true)
            .map_err(|err| err.to_string())?;
        TcpListener::from_std(listener).map_err(|err| err.to_string())
    };
    or_exit(addr, listener.await)
}

/// [`listen_or_exit`] for a server without tokio, with threads.
pub fn listen_blocking_or_exit(addr: &str) -> std::net::TcpListener {
    let listener = split_host_port(addr).and_then(|(host, port)| {
        let resolved = (host, port)
            .to_socket_addrs()
            .map_err(|err| err.to_string())?;
        bind(preferred(resolved)?)
    });
    or_exit(addr, listener)
}

fn or_exit<T>(addr: &str, result: Result<T, String>) -> T {
    result.unwrap_or_else(|reason| {
        eprintln!("error: cannot listen on {addr}: {reason}");
        process::exit(1)
    })
}

/// `localhost` may resolve to ::1 before 127.0.0.1. Like Go's net.Listen we
/// listen on the first IPv4 address if there is one, and on that one only:
/// a port in use on 127.0.0.1 is an error, not a reason to try ::1.
fn preferred(resolved: impl Iterator<Item = SocketAddr>) -> Result<SocketAddr, String> {
    let resolved: Vec<SocketAddr> = resolved.collect();
    let addr = resolved
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(resolved.first());
    addr.copied()
        .ok_or_else(|| "the host name resolved to no address".to_string())
}

/// Binds and listens as `TcpListener::bind` does, with Go's listen queue.
fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, String> {
    let listen = || -> io::Result<std::net::TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        // Restarting the server must not wait for the old connections'
        // TIME_WAIT to pass: tokio and Go set this too.
        #[cfg(unix)]
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(listen_queue())?;
        let listener: std::net::TcpListener = socket.into();
        log::info!("listening on {}", listener.local_addr()?);
        Ok(listener)
    };
    listen().map_err(|err| err.to_string())
}

/// A connection limit that leaves room below the process's limit on open
/// files: every connection is a file descriptor, and the process needs a few
/// more of its own (the listener, the runtime's, stdin, stdout, stderr).
/// An unlimited or huge limit still gives a number a semaphore can hold.
pub fn default_max_connections() -> usize {
    const SPARE: u64 = 32;
    const CEILING: u64 = 1 << 20;
    let limit = open_file_limit().unwrap_or(1024);
    usize::try_from(limit.saturating_sub(SPARE).clamp(1, CEILING)).unwrap_or(1)
}

/// The soft limit on open files (`ulimit -n`), where the system says.
fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        // `rlim_t` is not 64 bits on every Unix.
        #[allow(clippy::useless_conversion)]
        (status == 0).then(|| u64::try_from(limit.rlim_cur).unwrap_or(u64::MAX))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Splits `HOST:PORT`, `[IPv6]:PORT` included, with a message a learner can act on.
fn split_host_port(addr: &str) -> Result<(&str, u16), String> {
    let usage = "expected HOST:PORT, such as localhost:9000, 127.0.0.1:0 or [::1]:9000";
    let (host, port) = addr.rsplit_once(':').ok_or(usage)?;
    let port = port
        .parse()
        .map_err(|_| format!("'{port}' is not a port number (0 to 65535)"))?;
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.strip_suffix(']').ok_or(usage)?,
        None if host.contains(':') => return Err(format!("{usage} (IPv6 needs brackets)")),
        None => host,
    };
    if host.is_empty() {
        return Err(usage.to_string());
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    #[test]
    fn host_and_port_are_split_at_the_last_colon() {
        assert_eq!(split_host_port("localhost:9000"), Ok(("localhost", 9000)));
        assert_eq!(split_host_port("127.0.0.1:0"), Ok(("127.0.0.1", 0)));
        assert_eq!(split_host_port("[::1]:9000"), Ok(("::1", 9000)));
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_reason() {
        for bad in ["localhost", ":9000", "[::1:9000", "::1:9000", "[]:9000"] {
            let reason = split_host_port(bad).expect_err(bad);
            assert!(reason.starts_with("expected HOST:PORT"), "{bad}: {reason}");
        }
        assert_eq!(
            split_host_port("localhost:99999"),
            Err("'99999' is not a port number (0 to 65535)".to_string())
        );
    }
}
