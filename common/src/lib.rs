//! Plumbing every stage shares, kept here so that each stage's `main.rs` shows
//! only its lesson: the command-line arguments (with `--addr` resolved as Go
//! resolves it), the logger, turning an error into one line and exit status
//! 1, and the stderr writer. The listen, the accept loop, the copy,
//! `tokio::spawn` and the read deadline never live here: they are what the
//! stages teach, written with tokio's own calls.

pub mod stderr;

pub use stderr::stderr;

use std::fmt::Display;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process;

use clap::error::ErrorKind;

/// The arguments every stage takes; a stage flattens them into its own parser,
/// whose doc comment is the stage's `--help` text.
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// Where to listen: a host name or an IP address ([::1] for IPv6), and a port; port 0 picks a free one
    #[arg(long, value_name = "HOST:PORT", default_value = "localhost:9000", value_parser = resolve)]
    pub addr: SocketAddr,
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

/// Go's `if err != nil { log.Fatal(err) }`, for what a server cannot start
/// without: `or_exit` gives the value, or prints one line, `error: WHAT:
/// ERR`, and exits with status 1.
pub trait OrExit<T> {
    fn or_exit(self, what: impl Display) -> T;
}

impl<T, E: Display> OrExit<T> for Result<T, E> {
    fn or_exit(self, what: impl Display) -> T {
        self.unwrap_or_else(|err| {
            // Straight to stderr, not through the log: this is the server
            // failing to start, as clap's messages for bad arguments are.
            eprintln!("error: {what}: {err}");
            process::exit(1)
        })
    }
}

/// Turns `HOST:PORT` into the address to listen on, the way Go's
/// `net.Listen` does: `localhost` may resolve to ::1 before 127.0.0.1, and Go
/// takes the first IPv4 address if there is one, and that one only (a port in
/// use on 127.0.0.1 is an error, not a reason to try ::1). `TcpListener::bind`
/// given the host name would try each address in turn instead.
pub fn resolve(addr: &str) -> Result<SocketAddr, String> {
    let (host, port) = split_host_port(addr)?;
    let resolved: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|err| format!("cannot resolve '{host}': {err}"))?
        .collect();
    let preferred = resolved.iter().find(|addr| addr.is_ipv4());
    preferred
        .or(resolved.first())
        .copied()
        .ok_or_else(|| format!("'{host}' resolved to no address"))
}

/// Splits `HOST:PORT`, `[IPv6]:PORT` included, with a message a learner can act on.
fn split_host_port(addr: &str) -> Result<(&str, u16), String> {
    let usage = "expected HOST:PORT, such as localhost:9000, 127.0.0.1:0 or [::1]:9000";
    let (host, port) = match addr.strip_prefix('[') {
        // `[::1]:9000`: the port comes after the closing bracket.
        Some(bracketed) => bracketed.split_once("]:").ok_or(usage)?,
        None => addr.rsplit_once(':').ok_or(usage)?,
    };
    if host.contains(':') && !addr.starts_with('[') {
        return Err(format!("{usage} (IPv6 needs brackets)"));
    }
    if host.is_empty() {
        return Err(usage.to_string());
    }
    let port = port
        .parse()
        .map_err(|_| format!("'{port}' is not a port number (0 to 65535)"))?;
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::{resolve, split_host_port};

    #[test]
    fn host_and_port_are_split_at_the_last_colon() {
        assert_eq!(split_host_port("localhost:9000"), Ok(("localhost", 9000)));
        assert_eq!(split_host_port("127.0.0.1:0"), Ok(("127.0.0.1", 0)));
        assert_eq!(split_host_port("[::1]:9000"), Ok(("::1", 9000)));
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_reason() {
        for bad in [
            "localhost",
            ":9000",
            "[::1:9000",
            "::1:9000",
            "[]:9000",
            "[::1]",
        ] {
            let reason = split_host_port(bad).expect_err(bad);
            assert!(reason.starts_with("expected HOST:PORT"), "{bad}: {reason}");
        }
        assert_eq!(
            split_host_port("localhost:99999"),
            Err("'99999' is not a port number (0 to 65535)".to_string())
        );
    }

    #[test]
    fn localhost_resolves_to_ipv4_first_like_go() {
        let addr = resolve("localhost:9000").unwrap();
        let has_ipv4 = std::net::ToSocketAddrs::to_socket_addrs("localhost:0")
            .is_ok_and(|mut addrs| addrs.any(|addr| addr.is_ipv4()));
        assert_eq!(addr.is_ipv4(), has_ipv4, "{addr}");
        assert_eq!(addr.port(), 9000);
    }
}
