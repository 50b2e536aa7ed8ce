//! Replays the book's transcripts against the stages. A ```text block that
//! shows real output has a marker right above it: either the scenario that
//! produced it,
//!
//! ```text
//! <!-- replay: server stage2-accept-loop
//! A connects
//! A sends "hello from A\n"
//! wait for "hello from A\n"
//! -->
//! ```
//!
//! or `<!-- not replayed: REASON -->`. [`Scenario::replay`] runs a scenario
//! against the real binaries, and [`Shown::matches`] compares what they
//! printed with the block, both [normalised](normalise) first.
//!
//! The steps, one a line (the first may follow `replay:`):
//!
//! - `server STAGE ARGS...`: starts the stage on 127.0.0.1:0 (the harness adds
//!   `--addr`); the block is its log. `--log-file /dev/stdout 2>file` logs
//!   on stdout and sends stderr (the clients' bytes) to a file, as a learner
//!   does with `2>received.txt`.
//! - `ulimit -n N`: the next server gets at most N open files (Unix).
//! - `A connects`, `A sends "TEXT"` (`\n`, `\r`, `\t`, `\\`, `\"` escaped),
//!   `A closes`, `A is closed by the server` (waits for the end of the stream):
//!   a client named A.
//! - `wait for "TEXT"`: waits until the log shows TEXT after what the last
//!   wait found: the log is read in order, as a learner reads it.
//! - `pause DURATION`: lets time pass, as a learner who types a line a second
//!   does. Part of what is shown, never a wait for something to happen.
//! - `Ctrl-C`: SIGINT to the server (Unix).
//! - `server exits`: waits until it exits; the block then shows all its log
//!   and `exit status: N`, as the shell says it. Without it, the block shows
//!   the log up to the end of the line the last wait found.
//! - `run workshop ARGS...`: runs the workshop in the background (with
//!   `--addr` of the server, if one runs; `target/debug/` names the folder of
//!   the binaries), and shows its output, stdout and stderr as a terminal
//!   interleaves them, instead of the server's log; with a
//!   `$ cargo run -q -p workshop -- ARGS` line before it when the block
//!   shows its commands so. `2>/dev/null` at the end shows only stdout (the
//!   report, without the progress). The scenario's end waits for every run.
//! - `start workshop ARGS...`: the same, not shown; killed at the end.
//! - `measured "TEXT * TEXT"`: the figure at `*` is a measurement (memory, a
//!   count of retries): not compared.
//! - `only on unix`, `only on linux`: the scenario needs it (signals,
//!   `ulimit`, splice(2)); elsewhere it is skipped, saying so.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::book::Page;
use crate::{Server, patience};

/// A ```text block of a page, and what its marker says of it.
pub struct Block {
    pub page: String,
    /// The line of the opening ```text, counted from 1.
    pub line: usize,
    pub marker: Marker,
    pub text: String,
}

pub enum Marker {
    Replay(Scenario),
    NotReplayed(String),
    Missing,
}

/// Every ```text block of `page`, with its marker.
pub fn text_blocks(page: &Page) -> Vec<Block> {
    let lines: Vec<&str> = page.text.lines().collect();
    let mut blocks = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if *line != "```text" {
            continue;
        }
        let text: Vec<&str> = lines[at + 1..]
            .iter()
            .take_while(|line| **line != "```")
            .copied()
            .collect();
        let place = format!("{}:{}", page.path, at + 1);
        blocks.push(Block {
            page: page.path.clone(),
            line: at + 1,
            marker: marker_above(&lines[..at], &place),
            text: text.join("\n") + "\n",
        });
    }
    blocks
}

/// The marker that ends right above a block, if any.
fn marker_above(above: &[&str], place: &str) -> Marker {
    if !above.last().is_some_and(|line| line.ends_with("-->")) {
        return Marker::Missing;
    }
    let Some(start) = above.iter().rposition(|line| line.starts_with("<!--")) else {
        return Marker::Missing;
    };
    let comment = above[start..].join("\n");
    let comment = comment["<!--".len()..comment.len() - "-->".len()].trim();
    if let Some(reason) = comment.strip_prefix("not replayed:") {
        return Marker::NotReplayed(reason.trim().to_string());
    }
    match comment.strip_prefix("replay:") {
        Some(steps) => Marker::Replay(Scenario::parse(steps, place)),
        None => Marker::Missing,
    }
}

/// What a scenario does, step by step (see the module's doc).
pub struct Scenario {
    steps: Vec<Step>,
    measured: Vec<(String, String)>,
    only_on: Option<&'static str>,
}

enum Step {
    Ulimit(u64),
    Server { stage: String, args: Vec<String> },
    Connects(String),
    Sends(String, Vec<u8>),
    Closes(String),
    ClosedByServer(String),
    WaitFor(String),
    Pause(Duration),
    CtrlC,
    ServerExits,
    Workshop { args: Vec<String>, shown: bool },
}

impl Scenario {
    fn parse(steps: &str, place: &str) -> Scenario {
        let mut scenario = Scenario {
            steps: Vec::new(),
            measured: Vec::new(),
            only_on: None,
        };
        for line in steps.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let wrong = |why: &str| -> ! { panic!("{place}: {why}: {line:?}") };
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            let step = match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["only", "on", "unix"] => {
                    scenario.only_on = Some("unix");
                    continue;
                }
                ["only", "on", "linux"] => {
                    scenario.only_on = Some("linux");
                    continue;
                }
                ["measured", ..] => {
                    let pattern = quoted(&line["measured".len()..])
                        .unwrap_or_else(|| wrong("a measured figure is a quoted pattern with a *"));
                    let pattern = String::from_utf8(pattern).unwrap();
                    let Some((before, after)) = pattern.split_once('*') else {
                        wrong("a measured figure's pattern has a * where the figure is")
                    };
                    scenario
                        .measured
                        .push((before.to_string(), after.to_string()));
                    continue;
                }
                ["ulimit", "-n", n] => {
                    Step::Ulimit(n.parse().unwrap_or_else(|_| wrong("not a number")))
                }
                ["server", "exits"] => Step::ServerExits,
                ["server", _, ..] => Step::Server {
                    stage: words[1].clone(),
                    args: words[2..].to_vec(),
                },
                ["Ctrl-C"] => Step::CtrlC,
                ["pause", duration] => Step::Pause(
                    duration_of(duration)
                        .unwrap_or_else(|| wrong("a pause is a duration such as 500ms or 1s")),
                ),
                ["run" | "start", "workshop", ..] => Step::Workshop {
                    args: words[2..].to_vec(),
                    shown: words[0] == "run",
                },
                ["wait", "for", ..] => {
                    let text = quoted(&line["wait for".len()..])
                        .unwrap_or_else(|| wrong("wait for a quoted text"));
                    Step::WaitFor(String::from_utf8(text).unwrap())
                }
                [client, "connects"] => Step::Connects(client.to_string()),
                [client, "closes"] => Step::Closes(client.to_string()),
                [client, "is", "closed", "by", "the", "server"] => {
                    Step::ClosedByServer(client.to_string())
                }
                [client, "sends", ..] => {
                    let rest = &line[client.len() + " sends".len()..];
                    let bytes = quoted(rest).unwrap_or_else(|| wrong("send a quoted text"));
                    Step::Sends(client.to_string(), bytes)
                }
                _ => wrong("no such step"),
            };
            let unix_only = matches!(step, Step::CtrlC | Step::Ulimit(_))
                || matches!(&step, Step::Server { args, .. } if args.iter().any(|arg| arg == "2>file"));
            if unix_only && scenario.only_on.is_none() {
                wrong("this step needs Unix: say `only on unix` (or linux) before it");
            }
            scenario.steps.push(step);
        }
        scenario
    }

    /// The stages and the workshop this scenario runs: the binaries to
    /// build before it.
    pub fn binaries(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                Step::Server { stage, .. } => Some(stage.clone()),
                Step::Workshop { .. } => Some("workshop".to_string()),
                _ => None,
            })
            .collect()
    }

    /// Why this scenario cannot run on this system, if it cannot.
    pub fn skipped_here(&self) -> Option<String> {
        const UNIX: bool = cfg!(unix);
        const LINUX: bool = cfg!(target_os = "linux");
        let runs = match self.only_on? {
            "unix" => UNIX,
            _ => LINUX,
        };
        (!runs).then(|| format!("runs only on {}", self.only_on.unwrap()))
    }

    /// Runs the scenario against the binaries in `bins`, and returns what it
    /// shows. `commands_shown`: whether the block shows a `$` line before
    /// each run of the workshop. Panics, saying why, when a wait fails.
    pub fn replay(&self, bins: &Path, commands_shown: bool) -> Shown {
        let mut replaying = Replaying {
            bins,
            commands_shown,
            ulimit: None,
            server: None,
            stderr_file: None,
            clients: HashMap::new(),
            cursor: 0,
            exit_status: None,
            shown: Vec::new(),
            hidden: Vec::new(),
        };
        for step in &self.steps {
            replaying.step(step);
        }
        Shown {
            text: replaying.finish(),
            measured: self.measured.clone(),
        }
    }
}

/// What a scenario showed, to compare with the block.
pub struct Shown {
    pub text: String,
    measured: Vec<(String, String)>,
}

impl Shown {
    /// Whether `block` shows the same, both normalised; if not, both
    /// normalised texts, to be shown side by side.
    pub fn matches(&self, block: &str) -> Result<(), (String, String)> {
        let expected = normalise(block, &self.measured);
        let actual = normalise(&self.text, &self.measured);
        let expected_lines: Vec<&str> = expected.lines().collect();
        let actual_lines: Vec<&str> = actual.lines().collect();
        match lines_match(&expected_lines, &actual_lines) {
            true => Ok(()),
            false => Err((expected, actual)),
        }
    }
}

/// Whether `actual` is `expected`, line by line, where a line of `expected`
/// that starts with `...` stands for any lines left out (none or more).
fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((line, rest)) if line.starts_with("...") => {
            (0..=actual.len()).any(|skipped| lines_match(rest, &actual[skipped..]))
        }
        Some((line, rest)) => actual
            .split_first()
            .is_some_and(|(first, others)| first == line && lines_match(rest, others)),
    }
}

/// A scenario as it runs.
struct Replaying<'a> {
    bins: &'a Path,
    commands_shown: bool,
    ulimit: Option<u64>,
    server: Option<Server>,
    stderr_file: Option<PathBuf>,
    clients: HashMap<String, TcpStream>,
    /// Where the last wait found its text ended, in the log.
    cursor: usize,
    exit_status: Option<String>,
    /// The workshop's runs shown, in order: how each was called, and its
    /// output once it ends.
    shown: Vec<(String, mpsc::Receiver<String>)>,
    /// The runs not shown, and their files, removed at the end.
    hidden: Vec<(std::process::Child, [PathBuf; 2])>,
}

impl Replaying<'_> {
    fn server(&mut self) -> &mut Server {
        self.server.as_mut().expect("start a server first")
    }

    fn client(&mut self, name: &str) -> &mut TcpStream {
        self.clients
            .get_mut(name)
            .unwrap_or_else(|| panic!("client {name} has not connected"))
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Ulimit(limit) => self.ulimit = Some(*limit),
            Step::Server { stage, args } => self.start_server(stage, args),
            Step::Connects(name) => {
                let stream = self.server().connect();
                self.clients.insert(name.clone(), stream);
            }
            Step::Sends(name, bytes) => self.client(name).write_all(bytes).unwrap(),
            Step::Closes(name) => {
                let stream = self.clients.remove(name).expect("a client that connected");
                let _ = stream.shutdown(Shutdown::Both);
            }
            Step::ClosedByServer(name) => {
                crate::client::wait_until_closed_by_server(self.client(name));
            }
            Step::WaitFor(text) => self.wait_for(text),
            // Time passing is what the scenario shows (a client that types
            // a line a second); nothing waits on it to happen.
            Step::Pause(duration) => thread::sleep(*duration),
            Step::CtrlC => {
                #[cfg(unix)]
                self.server().signal(libc::SIGINT);
            }
            Step::ServerExits => {
                let status = self.server().wait_for_exit();
                let code = status.code().map_or("none".to_string(), |c| c.to_string());
                self.exit_status = Some(format!("exit status: {code}\n"));
            }
            Step::Workshop { args, shown } => self.workshop(args, *shown),
        }
    }

    fn start_server(&mut self, stage: &str, args: &[String]) {
        let bin = self
            .bins
            .join(stage)
            .with_extension(std::env::consts::EXE_EXTENSION);
        // A failing wait shows how the log ends; the block's comparison
        // shows the rest.
        // Changed only on Unix, by `2>file` and `ulimit`.
        #[cfg_attr(not(unix), allow(unused_mut))]
        let mut builder = Server::builder(bin).quietly();
        #[cfg_attr(not(unix), allow(unused_mut))]
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        #[cfg(unix)]
        if let Some(at) = args.iter().position(|arg| *arg == "2>file") {
            args.remove(at);
            let at = args
                .windows(2)
                .position(|pair| pair == ["--log-file", "/dev/stdout"]);
            let at = at.expect("2>file goes with --log-file /dev/stdout");
            args.drain(at..at + 2);
            let file = temporary_file(stage);
            builder = builder
                .log_on_stdout()
                .stderr_to(File::create(&file).unwrap());
            self.stderr_file = Some(file);
        }
        #[cfg(unix)]
        if let Some(limit) = self.ulimit {
            builder = builder.open_file_limit(limit);
        }
        self.server = Some(builder.args(args).start());
    }

    /// Waits until the log shows `text` after the cursor; moves the cursor
    /// past it.
    fn wait_for(&mut self, text: &str) {
        let cursor = self.cursor;
        let server = self.server();
        let before = server.log_text()[..cursor].matches(text).count();
        for count in before + 1.. {
            server.wait_for_count_in_log(text, count);
            let log = server.log_text();
            if let Some(at) = log[cursor..].find(text) {
                self.cursor = cursor + at + text.len();
                return;
            }
        }
    }

    fn workshop(&mut self, args: &[String], shown: bool) {
        let bin = self
            .bins
            .join("workshop")
            .with_extension(std::env::consts::EXE_EXTENSION);
        let mut command = Command::new(bin);
        let bins = format!("{}/", self.bins.display());
        // `2>/dev/null` at the end: the report alone, without the progress.
        let (args_given, quiet) = match args.split_last() {
            Some((last, given)) if last == "2>/dev/null" => (given, true),
            _ => (args, false),
        };
        command.args(
            args_given
                .iter()
                .map(|arg| arg.replace("target/debug/", &bins)),
        );
        if let Some(server) = &self.server {
            command.args(["--addr", &server.addr().to_string()]);
        }
        let output = temporary_file("workshop");
        let file = File::create(&output).unwrap();
        // The learner's record of progress stays as it was.
        let record = temporary_file("progress.toml");
        command
            .current_dir(crate::book::root())
            .env_remove("RUST_LOG")
            .env("WORKSHOP_RECORD", &record)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(match quiet {
                true => Stdio::null(),
                false => file.into(),
            });
        crate::die_with_this_process(&mut command);
        let mut child = command.spawn().unwrap();
        if !shown {
            self.hidden.push((child, [output, record]));
            return;
        }
        let (ended, output_at_end) = mpsc::channel();
        thread::spawn(move || {
            let _ = child.wait();
            let mut text = String::new();
            File::open(&output)
                .and_then(|mut file| file.read_to_string(&mut text))
                .unwrap();
            let _ = std::fs::remove_file(&output);
            let _ = std::fs::remove_file(&record);
            let _ = ended.send(text);
        });
        let called = format!("$ cargo run -q -p workshop -- {}\n", args.join(" "));
        self.shown.push((called, output_at_end));
    }

    /// What the scenario shows: the workshop's runs, if any is shown, each
    /// waited for (for at most its own course plus [`patience`]); otherwise
    /// the server's log, as far as the last wait read, or all of it once it
    /// exited.
    fn finish(mut self) -> String {
        for (mut child, files) in self.hidden.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
            for file in files {
                let _ = std::fs::remove_file(file);
            }
        }
        if !self.shown.is_empty() {
            let mut runs = Vec::new();
            for (called, output) in &self.shown {
                // A run lasts as long as its own arguments say (a client
                // that talks for 7s), then at most `patience` more.
                let output = output
                    .recv_timeout(Duration::from_secs(60) + patience())
                    .unwrap_or_else(|_| panic!("{called} did not end"));
                let called = if self.commands_shown {
                    called.as_str()
                } else {
                    ""
                };
                runs.push(format!("{called}{output}"));
            }
            return runs.join("\n");
        }
        let server = self
            .server
            .as_ref()
            .expect("a scenario runs a server or the workshop");
        let log = server.log_text();
        let shown = match &self.exit_status {
            Some(status) => log + status,
            None => {
                let end = log[self.cursor..]
                    .find('\n')
                    .map_or(log.len(), |at| self.cursor + at + 1);
                log[..end].to_string()
            }
        };
        if let Some(file) = &self.stderr_file {
            let _ = std::fs::remove_file(file);
        }
        shown
    }
}

/// A path for a file of this process's, in the temporary folder.
fn temporary_file(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("replay-{}-{n}-{what}", std::process::id()))
}

/// The bytes of a quoted text, `"..."` with `\n`, `\r`, `\t`, `\\` and `\"`.
fn quoted(text: &str) -> Option<Vec<u8>> {
    let inner = text.trim().strip_prefix('"')?.strip_suffix('"')?;
    let mut bytes = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => match chars.next()? {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                c @ ('\\' | '"') => c,
                _ => return None,
            },
            c => c,
        };
        bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
    Some(bytes)
}

/// `500ms`, `1s`.
fn duration_of(text: &str) -> Option<Duration> {
    match text.strip_suffix("ms") {
        Some(ms) => Some(Duration::from_millis(ms.parse().ok()?)),
        None => Some(Duration::from_secs(text.strip_suffix('s')?.parse().ok()?)),
    }
}

/// A transcript with what changes from run to run made the same: each
/// timestamp (`[2026-12-02T12:04:20.465Z`) becomes `[TIME`; each port of
/// 127.0.0.1 becomes `PORT1`, `PORT2`..., numbered as they first appear, so
/// that which connection did what stays checked; each measured duration
/// (`3.01s`, `0.50s`, `12ms`) becomes `DURATION`, where a duration given
/// (`--timeout 3s`, `silent for 3s`) stays; each process id (`pid 17608`)
/// becomes `pid PID`; each figure `measured` marks becomes `MEASURED`; and
/// the blanks at the ends of lines and of the text go. Byte counts stay.
pub fn normalise(text: &str, measured: &[(String, String)]) -> String {
    let mut ports: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        let mut line = timestamps(line);
        line = after_each(&line, "127.0.0.1:", |digits| {
            let at = ports
                .iter()
                .position(|port| port == digits)
                .unwrap_or_else(|| {
                    ports.push(digits.to_string());
                    ports.len() - 1
                });
            format!("PORT{}", at + 1)
        });
        line = after_each(&line, "pid ", |_| "PID".to_string());
        line = durations(&line);
        for (before, after) in measured {
            line = measured_figures(&line, before, after);
        }
        lines.push(line.trim_end().to_string());
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines.join("\n") + "\n"
}

/// `line` with the digits right after each `marker` replaced by `with` them.
fn after_each(line: &str, marker: &str, mut with: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out += before;
        let len = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        out += &match len {
            0 => String::new(),
            _ => with(&after[..len]),
        };
        rest = &after[len..];
    }
    out + rest
}

fn timestamps(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("[20") {
        out += &rest[..at];
        let candidate = &rest[at..];
        // [YYYY-MM-DDTHH:MM:SS.mmmZ
        let end = candidate.find('Z').filter(|&end| {
            end >= 20
                && candidate[1..end]
                    .bytes()
                    .all(|b| b"0123456789-T:.".contains(&b))
        });
        match end {
            Some(end) => {
                out += "[TIME";
                rest = &candidate[end + 1..];
            }
            None => {
                out += "[";
                rest = &candidate[1..];
            }
        }
    }
    out + rest
}

/// `line` with each duration that was measured (`3.01s`, `12ms`, `0.41s`,
/// `5.7µs`) as `DURATION`: a number with a fraction, or in ms or µs.
fn durations(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    while at < line.len() {
        let starts_a_number = bytes[at].is_ascii_digit()
            && (at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'.'));
        if starts_a_number {
            let len = line[at..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(line.len() - at);
            let number = &line[at..at + len];
            let after = &line[at + len..];
            let unit = ["ms", "µs", "s"].into_iter().find(|unit| {
                after.starts_with(unit)
                    && !after[unit.len()..].starts_with(|c: char| c.is_alphanumeric())
            });
            let measured = match unit {
                Some("s") => number.contains('.'),
                Some(_) => true,
                None => false,
            };
            if let (true, Some(unit)) = (measured, unit) {
                out += "DURATION";
                at += len + unit.len();
                continue;
            }
            out += number;
            at += len;
            continue;
        }
        let c = line[at..].chars().next().unwrap();
        out.push(c);
        at += c.len_utf8();
    }
    out
}

/// `line` with each figure between `before` and `after` as `MEASURED`.
fn measured_figures(line: &str, before: &str, after: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(before) {
        let start = at + before.len();
        out += &rest[..start];
        rest = &rest[start..];
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .unwrap_or(rest.len());
        if len > 0 && rest[len..].starts_with(after) {
            out += "MEASURED";
            rest = &rest[len..];
        }
    }
    out + rest
}

#[cfg(test)]
mod tests {
    use super::{lines_match, normalise};

    #[test]
    fn ports_are_numbered_as_they_first_appear_and_durations_measured_go() {
        let text = "[2026-12-02T12:04:20.465Z INFO  s] listening on 127.0.0.1:9000\n\
                    127.0.0.1:54388 finished after 21 bytes, silent for 3s, took 3.01s and 12ms\n\
                    127.0.0.1:9000 pid 17608, RSS 8.3 MiB  \n\n";
        let measured = [("RSS ".to_string(), " MiB".to_string())];
        assert_eq!(
            normalise(text, &measured),
            "[TIME INFO  s] listening on 127.0.0.1:PORT1\n\
             127.0.0.1:PORT2 finished after 21 bytes, silent for 3s, took DURATION and DURATION\n\
             127.0.0.1:PORT1 pid PID, RSS MEASURED MiB\n"
        );
    }

    #[test]
    fn a_line_of_dots_stands_for_any_lines_left_out() {
        assert!(lines_match(&["a", "...", "d"], &["a", "b", "c", "d"]));
        assert!(lines_match(&["a", "... lines ...", "d"], &["a", "d"]));
        assert!(!lines_match(&["a", "...", "d"], &["a", "b"]));
        assert!(!lines_match(&["a", "b"], &["a", "c"]));
    }
}
