//! Runs a scenario against the real binaries, and collects what it shows.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::Shown;
use super::scenario::{Scenario, Step};
use crate::{Server, patience};

impl Scenario {
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
        Shown::new(replaying.finish(), self.measured.clone())
    }
}

/// How long a shown run of the workshop may take, at most: a fixed bound,
/// not one read from the run's arguments, above the longest run the book
/// shows.
const LONGEST_RUN: Duration = Duration::from_secs(60);

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
    /// waited for (for at most [`LONGEST_RUN`] plus [`patience`]); otherwise
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
                // No run the book shows lasts a minute (the longest asks
                // for 30s of silence): one still going after that and
                // `patience` more is stuck.
                let output = output
                    .recv_timeout(LONGEST_RUN + patience())
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
