//! Parses a marker's steps (see the module's doc) into a [`Scenario`].

use std::time::Duration;

/// What a scenario does, step by step (see the module's doc).
pub struct Scenario {
    pub(super) steps: Vec<Step>,
    pub(super) measured: Vec<(String, String)>,
    only_on: Option<&'static str>,
}

pub(super) enum Step {
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
    pub(super) fn parse(steps: &str, place: &str) -> Scenario {
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
