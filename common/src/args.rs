//! The command line: the arguments every stage takes, parsing them with one
//! line for a bad value, and the parsers for addresses and durations.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process;
use std::time::Duration;

use clap::error::ErrorKind;

/// The arguments every stage takes; a stage flattens them into its own parser,
/// whose doc comment is the stage's `--help` text.
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// Where to listen: a host name or an IP address ([::1] for IPv6), and a port; port 0 picks a free one
    #[arg(long, value_name = "HOST:PORT", default_value = "localhost:9000", value_parser = resolve)]
    pub addr: SocketAddr,

    /// Write the log to this file (appended to) instead of stderr, where a client's bytes can look like log lines
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

/// Parses the command line. `--help` and `--version` print and exit 0; bad
/// input exits 1 like every other bad input, with one line for a bad value
/// (`--timeout soon`, or bytes that are not UTF-8) and clap's whole message,
/// usage included, otherwise.
pub fn parse_args<P: clap::Parser>() -> P {
    P::try_parse().unwrap_or_else(|err| {
        if !err.use_stderr() {
            err.exit();
        }
        match err.kind() {
            ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::InvalidUtf8 => {
                let message = err.to_string();
                crate::say(message.lines().next().unwrap_or_default());
            }
            _ => {
                let _ = err.print();
            }
        }
        process::exit(1)
    })
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

/// The longest duration any option takes: longer is a typo, and an instant
/// that far ahead can overflow.
pub const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// The shortest read deadline: a shorter one closes clients while they
/// type, and `0s` closes every client as it connects.
pub const SHORTEST_DEADLINE: Duration = Duration::from_millis(100);

/// A duration such as `250ms`, `5s` or `1m`, from zero to [`LONGEST`].
pub fn duration(text: &str) -> Result<Duration, String> {
    // Flags that take a duration accept values starting with `-`, so that
    // `-1s` is called negative rather than an unknown flag: a flag that
    // follows with its value forgotten lands here.
    if text.starts_with("--") {
        return Err(format!(
            "expected a duration such as 5s, not the flag {text}"
        ));
    }
    if text.starts_with('-') {
        return Err("a duration cannot be negative".to_string());
    }
    let duration = humantime::parse_duration(text).map_err(|err| {
        let why = match err {
            // Its unit or its size: worth saying. Otherwise humantime says
            // where it stopped reading, which helps no one.
            humantime::DurationError::UnknownUnit { .. }
            | humantime::DurationError::NumberOverflow => {
                format!("{err}; ")
            }
            _ => String::new(),
        };
        format!("{why}expected a duration such as 250ms, 5s or 1m")
    })?;
    if duration > LONGEST {
        return Err(format!("{text} is longer than a day, the most this takes"));
    }
    Ok(duration)
}

/// A read deadline: a [`duration`] of at least [`SHORTEST_DEADLINE`].
pub fn deadline(text: &str) -> Result<Duration, String> {
    at_least_the_shortest(text, "a deadline closes clients while they type")
}

/// A connection's longest life: a [`duration`] of at least
/// [`SHORTEST_DEADLINE`].
pub fn lifetime(text: &str) -> Result<Duration, String> {
    at_least_the_shortest(text, "a connection ends before its client can say anything")
}

fn at_least_the_shortest(text: &str, too_short: &str) -> Result<Duration, String> {
    let duration = duration(text)?;
    if duration < SHORTEST_DEADLINE {
        let shortest = humantime::format_duration(SHORTEST_DEADLINE);
        return Err(format!(
            "under {shortest}, {too_short}; use {shortest} or more"
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{deadline, duration, resolve, split_host_port};

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

    #[test]
    fn durations_run_from_zero_to_a_day() {
        assert_eq!(duration("0s"), Ok(Duration::ZERO));
        assert_eq!(duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("24h"), Ok(Duration::from_secs(86_400)));
        for absurd in ["25h", "1000000000y", "18446744073709551615s"] {
            let reason = duration(absurd).expect_err(absurd);
            assert!(
                reason.contains("a day") || reason.contains("too large"),
                "{absurd}: {reason}"
            );
        }
        assert_eq!(
            duration("-1s"),
            Err("a duration cannot be negative".to_string())
        );
        assert!(duration("soon").unwrap_err().contains("such as 250ms"));
    }

    #[test]
    fn a_deadline_under_100ms_is_refused() {
        assert_eq!(deadline("100ms"), Ok(Duration::from_millis(100)));
        for instant in ["0", "0s", "1ns", "99ms"] {
            let reason = deadline(instant).expect_err(instant);
            assert!(reason.contains("100ms or more"), "{instant}: {reason}");
        }
    }
}
