//! `workshop client`: a line client for learners without `nc`, and scripted
//! clients for demos. It always says when the server closed the connection
//! and after how long, so a learner sees stage 4's deadline happen.

use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::mpsc;

use crate::processes::limits;
use crate::sayln;
use crate::units::seconds;
use crate::units::{LONGEST, duration_within};

#[derive(clap::Args, Debug)]
pub struct ClientArgs {
    /// The server to connect to: a host name or an IP address (`[::1]` for IPv6), and a port
    #[arg(long, value_name = "HOST:PORT", default_value = "localhost:9000", value_parser = common::resolve)]
    pub addr: SocketAddr,

    /// Put `NAME: ` before each line, to tell clients apart on the server
    #[arg(long)]
    pub name: Option<String>,

    /// Send this text as a line, `--count` times, one every `--every`, then close
    #[arg(long, value_name = "TEXT")]
    pub send: Option<String>,

    /// With --send: the pause between lines, such as 100ms or 1s (at most 1h in all, over --count − 1 pauses)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = duration_within(Duration::ZERO, LONGEST), requires = "send")]
    pub every: Duration,

    /// With --send: how many lines to send (at most 100000)
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100_000), requires = "send")]
    pub count: u32,

    /// With --send: give up on a line the server does not take within this long (at most 1h): it is not reading
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration_within(Duration::from_millis(1), LONGEST), requires = "send")]
    pub write_timeout: Duration,

    /// Connect and say nothing for this long, such as 10s (at most 1h), or until the server hangs up
    #[arg(long, value_name = "DURATION", value_parser = duration_within(Duration::ZERO, LONGEST), conflicts_with = "send")]
    pub idle: Option<Duration>,
}

pub async fn run(args: ClientArgs) -> anyhow::Result<()> {
    // Each option is within its bounds, but not always the two together:
    // `--count 100000 --every 1h` is a client for eleven years. The pauses
    // fall between lines, one fewer than the lines: `--count 2 --every 1h`
    // is an hour.
    let pauses = args.count.saturating_sub(1);
    if args.send.is_some() && args.every.saturating_mul(pauses) > LONGEST {
        bail!(
            "--count {} lines --every {} is too long: (--count − 1) × --every must be at most {}",
            args.count,
            humantime::format_duration(args.every),
            humantime::format_duration(LONGEST)
        );
    }
    // `--addr` is resolved as the stages resolve theirs (`localhost` is
    // 127.0.0.1 first), so the client goes where the server listens.
    let stream = TcpStream::connect(args.addr)
        .await
        .map_err(|err| anyhow!("cannot connect to {}: {}", args.addr, limits::explain(&err)))?;
    let local = stream.local_addr()?;
    let peer = stream.peer_addr()?;
    sayln!("connected to {peer} from {local}");
    let connected = Instant::now();
    let (reader, mut writer) = stream.into_split();
    let mut server_closed = Box::pin(until_the_server_closes(reader));
    let prefix = args
        .name
        .as_ref()
        .map(|name| format!("{name}: "))
        .unwrap_or_default();
    let mut last_sent = None;

    let ending = if let Some(text) = &args.send {
        // Scripted: `--count` lines, `--every` apart.
        let mut sent = 0;
        loop {
            if sent == args.count {
                break Ending::WeClosed(format!("sent {sent} lines"));
            }
            sent += 1;
            let line = format!("{prefix}{text} ({sent}/{})\n", args.count);
            // A server that never reads (stage 2 busy with another client)
            // takes lines until the connection's buffers are full, and then
            // none: the write would wait for ever.
            tokio::select! {
                written = tokio::time::timeout(args.write_timeout, writer.write_all(line.as_bytes())) => match written {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => break Ending::Failed(format!("cannot send line {sent}: {err}")),
                    Err(_) => break Ending::Failed(format!(
                        "could not send line {sent} within {}: the server is not reading, and the connection's buffers are full",
                        humantime::format_duration(args.write_timeout)
                    )),
                },
                why = &mut server_closed => break Ending::ServerClosed(why),
            }
            last_sent = Some(Instant::now());
            sayln!("sent: {}", line.trim_end());
            if sent < args.count {
                tokio::select! {
                    () = tokio::time::sleep(args.every) => {}
                    why = &mut server_closed => break Ending::ServerClosed(why),
                }
            }
        }
    } else if let Some(idle) = args.idle {
        sayln!("saying nothing for {}", humantime::format_duration(idle));
        tokio::select! {
            () = tokio::time::sleep(idle) => Ending::WeClosed(format!("silent for {}, the connection still open", humantime::format_duration(idle))),
            why = &mut server_closed => Ending::ServerClosed(why),
        }
    } else {
        // Interactive: what is typed goes to the server as it is read,
        // bytes as bytes; the end of input ends.
        sayln!("type lines to send them; {END_OF_INPUT} closes the connection");
        let mut typed = bytes_typed();
        let mut names = Names::new(&prefix);
        loop {
            tokio::select! {
                chunk = typed.recv() => match chunk {
                    Some(Ok(chunk)) => {
                        let bytes = names.put_in(&chunk);
                        // While the server takes nothing, this waits, and
                        // standard input is not read meanwhile: the client
                        // holds a few KiB, whatever the input.
                        tokio::select! {
                            written = writer.write_all(&bytes) => if let Err(err) = written {
                                break Ending::Failed(format!("cannot send: {err}"));
                            },
                            why = &mut server_closed => break Ending::ServerClosed(why),
                        }
                        last_sent = Some(Instant::now());
                    }
                    None => break Ending::WeClosed("end of input".to_string()),
                    Some(Err(err)) => break Ending::Failed(format!("cannot read standard input: {err}")),
                },
                why = &mut server_closed => break Ending::ServerClosed(why),
            }
        }
    };

    let open_for = seconds(connected.elapsed());
    match ending {
        Ending::ServerClosed(why) => {
            let silence = match last_sent {
                Some(at) => format!("{} after the last line sent", seconds(at.elapsed())),
                None => "having sent nothing".to_string(),
            };
            sayln!("the server closed the connection ({why}) after {open_for}, {silence}");
        }
        Ending::WeClosed(why) => {
            let _ = writer.shutdown().await;
            sayln!("{why}; closed the connection after {open_for}");
        }
        Ending::Failed(why) => bail!(why),
    }
    Ok(())
}

enum Ending {
    ServerClosed(String),
    WeClosed(String),
    Failed(String),
}

/// The keys that end what is typed, the end of input.
#[cfg(not(windows))]
const END_OF_INPUT: &str = "Ctrl-D";
/// A Windows console ends input with Ctrl-Z at the start of a line (Rust's
/// standard library ends the read at the Ctrl-Z; a C program's waits for
/// Enter, which Windows users are used to pressing, and which does no harm).
#[cfg(windows)]
const END_OF_INPUT: &str = "Ctrl-Z then Enter at the start of a line";

/// Standard input as it is read, in pieces of at most 8 KiB, on a thread
/// of its own. Unlike `tokio::io::stdin`, whose blocking read the runtime
/// waits for when it shuts down, a plain thread lets the program end while
/// a read is pending: when the server hangs up, the client exits without
/// waiting for Enter. The channel holds one piece: the thread reads the
/// next only once the one before is taken, and so only as fast as the
/// server takes them (backpressure).
fn bytes_typed() -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (send, typed) = mpsc::channel(1);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let mut piece = vec![0u8; 8 * 1024];
            let read = match stdin.read(&mut piece) {
                Ok(0) => return,
                Ok(n) => {
                    piece.truncate(n);
                    Ok(piece)
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => Err(err),
            };
            let failed = read.is_err();
            if send.blocking_send(read).is_err() || failed {
                return;
            }
        }
    });
    typed
}

/// Puts `NAME: ` before each line of what is typed, however the lines
/// arrive in pieces: only before a byte that starts a line, so that the end
/// of the input leaves no name dangling.
struct Names {
    prefix: Vec<u8>,
    at_line_start: bool,
}

impl Names {
    fn new(prefix: &str) -> Names {
        Names {
            prefix: prefix.as_bytes().to_vec(),
            at_line_start: true,
        }
    }

    fn put_in(&mut self, piece: &[u8]) -> Vec<u8> {
        if self.prefix.is_empty() {
            return piece.to_vec();
        }
        let mut out = Vec::with_capacity(piece.len() + self.prefix.len());
        for line in piece.split_inclusive(|&byte| byte == b'\n') {
            if self.at_line_start {
                out.extend_from_slice(&self.prefix);
            }
            out.extend_from_slice(line);
            self.at_line_start = line.ends_with(b"\n");
        }
        out
    }
}

/// Resolves when the server closes the connection, saying how. No stage
/// writes to its clients, so any bytes that arrive are only counted.
async fn until_the_server_closes(mut reader: OwnedReadHalf) -> String {
    let mut buf = [0u8; 1024];
    let mut received = 0;
    loop {
        match reader.read(&mut buf).await {
            Ok(0) if received == 0 => return "end of stream".to_string(),
            Ok(0) => return format!("end of stream, after sending {received} bytes"),
            Ok(n) => received += n,
            Err(err) => return err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn the_name_starts_every_line_however_the_lines_are_cut() {
        let mut names = Names::new("A: ");
        let pieces: Vec<Vec<u8>> = [&b"one\ntw"[..], b"o\n", b"\nthree"]
            .iter()
            .map(|piece| names.put_in(piece))
            .collect();
        assert_eq!(pieces.concat(), b"A: one\nA: two\nA: \nA: three");
        assert_eq!(Names::new("").put_in(b"\xff\n"), b"\xff\n");
    }
}
