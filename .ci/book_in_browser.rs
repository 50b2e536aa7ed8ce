//! Opens one page of the built book in headless Chromium, from disk with the
//! network refused, and fails on anything a reader would see go wrong: a
//! console error or warning, an uncaught exception, a file that did not load,
//! any request that tried to leave the machine. Saves a screenshot.
//!
//! Chromium's own `--enable-logging` prints console messages without their
//! level and says nothing of failed loads, so this speaks the DevTools
//! protocol instead, over `--remote-debugging-pipe`: JSON messages ended by a
//! NUL byte, on file descriptors 3 (to Chromium) and 4 (from it). Standard
//! library only, compiled by `.ci/book-in-browser` with plain `rustc`.
//!
//! Usage: book_in_browser CHROMIUM URL SCREENSHOT.png [JS_EXPRESSION]
//! With JS_EXPRESSION, waits (up to 15 s) until it is true in the page, and
//! fails if it never is: how the search's results are checked.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

extern "C" {
    fn dup(fd: RawFd) -> RawFd;
    fn dup2(fd: RawFd, to: RawFd) -> RawFd;
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [chromium, url, screenshot, rest @ ..] = args.as_slice() else {
        eprintln!("usage: book_in_browser CHROMIUM URL SCREENSHOT.png [JS_EXPRESSION]");
        return ExitCode::from(2);
    };
    match run(chromium, url, screenshot, rest.first().map(String::as_str)) {
        Ok(problems) if problems.is_empty() => {
            println!("{url}: no console errors, no failed loads, no network; {screenshot}");
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            eprintln!("{url}:");
            for problem in problems {
                eprintln!("  {problem}");
            }
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("{url}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    chromium: &str,
    url: &str,
    screenshot: &str,
    wait_for: Option<&str>,
) -> Result<Vec<String>, String> {
    let profile = std::env::temp_dir().join(format!("book-in-browser-{}", std::process::id()));
    let (to_chromium_read, mut to_chromium) = std::io::pipe().map_err(|e| e.to_string())?;
    let (from_chromium, from_chromium_write) = std::io::pipe().map_err(|e| e.to_string())?;
    let (read_fd, write_fd) = (
        to_chromium_read.as_raw_fd(),
        from_chromium_write.as_raw_fd(),
    );
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox", // CI runs as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--remote-debugging-pipe",
            // No network: every host name fails to resolve, and anything
            // that bypasses the resolver meets a proxy nobody listens on.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec. Duplicated
    // first so neither lands on 3 or 4 before being moved there.
    unsafe {
        command.pre_exec(move || {
            let (read, write) = (dup(read_fd), dup(write_fd));
            if read < 0 || write < 0 || dup2(read, 3) < 0 || dup2(write, 4) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|e| format!("{chromium}: {e}"))?;
    drop((to_chromium_read, from_chromium_write));

    let (messages, inbox) = mpsc::channel();
    std::thread::spawn(move || {
        for message in BufReader::new(from_chromium).split(0) {
            let Ok(message) = message else { break };
            let Ok(text) = String::from_utf8(message) else {
                continue;
            };
            if messages.send(text).is_err() {
                break;
            }
        }
    });
    let mut browser = Browser {
        to_chromium: &mut to_chromium,
        inbox,
        next_id: 0,
        session: None,
        events: Vec::new(),
    };
    let result = browser.check(url, screenshot, wait_for);
    let _ = browser.send("Browser.close", "{}".into());
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&profile);
    result
}

struct Browser<'a> {
    to_chromium: &'a mut std::io::PipeWriter,
    inbox: Receiver<String>,
    next_id: u64,
    session: Option<String>,
    events: Vec<Json>,
}

impl Browser<'_> {
    fn check(
        &mut self,
        url: &str,
        screenshot: &str,
        wait_for: Option<&str>,
    ) -> Result<Vec<String>, String> {
        let target = self.call("Target.createTarget", r#"{"url":"about:blank"}"#.into())?;
        let target_id = target
            .get("targetId")
            .and_then(Json::as_str)
            .ok_or("no targetId")?
            .to_string();
        let attached = self.call(
            "Target.attachToTarget",
            format!(r#"{{"targetId":{},"flatten":true}}"#, quote(&target_id)),
        )?;
        self.session = Some(
            attached
                .get("sessionId")
                .and_then(Json::as_str)
                .ok_or("no sessionId")?
                .to_string(),
        );
        for domain in ["Runtime", "Log", "Network", "Page"] {
            self.call(&format!("{domain}.enable"), "{}".into())?;
        }
        self.call(
            "Emulation.setDeviceMetricsOverride",
            r#"{"width":1280,"height":900,"deviceScaleFactor":1,"mobile":false}"#.into(),
        )?;
        let since = self.events.len();
        self.call("Page.navigate", format!(r#"{{"url":{}}}"#, quote(url)))?;
        self.wait_for_event("Page.loadEventFired", since, Duration::from_secs(15))?;
        let mut problems = Vec::new();
        if let Some(expression) = wait_for {
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                let result = self.call(
                    "Runtime.evaluate",
                    format!(
                        r#"{{"expression":{},"returnByValue":true}}"#,
                        quote(expression)
                    ),
                )?;
                let value = result.get("result").and_then(|r| r.get("value"));
                if matches!(value, Some(Json::Bool(true))) {
                    break;
                }
                if Instant::now() > deadline {
                    problems.push(format!("never true in the page: {expression}"));
                    break;
                }
                self.pump(Duration::from_millis(200));
            }
        }
        // What the page does once loaded (a fetch, a late script) shows up
        // within a moment: take it in before judging.
        self.pump(Duration::from_millis(1500));
        let shot = self.call("Page.captureScreenshot", r#"{"format":"png"}"#.into())?;
        let data = shot
            .get("data")
            .and_then(Json::as_str)
            .ok_or("no screenshot data")?;
        std::fs::write(screenshot, base64_decode(data))
            .map_err(|e| format!("{screenshot}: {e}"))?;
        problems.extend(self.problems());
        Ok(problems)
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut urls = HashMap::new();
        for event in &self.events {
            let method = event
                .get("method")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let params = event.get("params").unwrap_or(&Json::Null);
            let text = |key: &str| {
                params
                    .get(key)
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            match method {
                "Runtime.consoleAPICalled" => {
                    let kind = text("type");
                    let args: Vec<String> = match params.get("args") {
                        Some(Json::Array(args)) => args
                            .iter()
                            .map(|arg| match arg.get("value") {
                                Some(Json::String(s)) => s.clone(),
                                Some(other) => format!("{other:?}"),
                                None => arg
                                    .get("description")
                                    .and_then(Json::as_str)
                                    .unwrap_or("?")
                                    .to_string(),
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    if matches!(kind.as_str(), "error" | "warning" | "assert") {
                        problems.push(format!("console.{kind}: {}", args.join(" ")));
                    }
                }
                "Runtime.exceptionThrown" => {
                    let details = params.get("exceptionDetails").unwrap_or(&Json::Null);
                    let description = details
                        .get("exception")
                        .and_then(|e| e.get("description"))
                        .or_else(|| details.get("text"))
                        .and_then(Json::as_str)
                        .unwrap_or("?");
                    problems.push(format!("uncaught exception: {description}"));
                }
                "Log.entryAdded" => {
                    let entry = params.get("entry").unwrap_or(&Json::Null);
                    let level = entry
                        .get("level")
                        .and_then(Json::as_str)
                        .unwrap_or_default();
                    if matches!(level, "error" | "warning") {
                        let text = entry.get("text").and_then(Json::as_str).unwrap_or_default();
                        let url = entry.get("url").and_then(Json::as_str).unwrap_or_default();
                        problems.push(format!("console {level}: {text} {url}"));
                    }
                }
                "Network.requestWillBeSent" => {
                    let url = params
                        .get("request")
                        .and_then(|r| r.get("url"))
                        .and_then(Json::as_str)
                        .unwrap_or_default();
                    urls.insert(text("requestId"), url.to_string());
                    if !["file:", "data:", "about:", "blob:"]
                        .iter()
                        .any(|scheme| url.starts_with(scheme))
                    {
                        problems.push(format!("asks the network for {url}"));
                    }
                }
                "Network.loadingFailed" => {
                    let url = urls.get(&text("requestId")).cloned().unwrap_or_default();
                    problems.push(format!("failed to load {url}: {}", text("errorText")));
                }
                _ => {}
            }
        }
        problems
    }

    fn send(&mut self, method: &str, params: String) -> Result<u64, String> {
        self.next_id += 1;
        let session = match &self.session {
            Some(session) => format!(r#","sessionId":{}"#, quote(session)),
            None => String::new(),
        };
        let message = format!(
            r#"{{"id":{},"method":{},"params":{params}{session}}}"#,
            self.next_id,
            quote(method)
        );
        self.to_chromium
            .write_all(message.as_bytes())
            .and_then(|()| self.to_chromium.write_all(b"\0"))
            .map_err(|e| format!("writing to Chromium: {e}"))?;
        Ok(self.next_id)
    }

    /// Sends a command and waits for its answer, keeping events that arrive meanwhile.
    fn call(&mut self, method: &str, params: String) -> Result<Json, String> {
        let id = self.send(method, params)?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let message = self
                .receive(deadline)
                .ok_or_else(|| format!("{method}: no answer from Chromium"))?;
            if message.get("id").and_then(Json::as_u64) == Some(id) {
                if let Some(error) = message.get("error") {
                    return Err(format!("{method}: {error:?}"));
                }
                return Ok(message.get("result").cloned().unwrap_or(Json::Null));
            }
        }
    }

    fn wait_for_event(
        &mut self,
        method: &str,
        since: usize,
        within: Duration,
    ) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let seen = |events: &[Json]| {
            events
                .iter()
                .any(|e| e.get("method").and_then(Json::as_str) == Some(method))
        };
        while !seen(&self.events[since..]) {
            self.receive(deadline)
                .ok_or_else(|| format!("no {method} within {within:?}"))?;
        }
        Ok(())
    }

    fn pump(&mut self, during: Duration) {
        let deadline = Instant::now() + during;
        while self.receive(deadline).is_some() {}
    }

    fn receive(&mut self, deadline: Instant) -> Option<Json> {
        let wait = deadline.saturating_duration_since(Instant::now());
        let text = match self.inbox.recv_timeout(wait) {
            Ok(text) => text,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        };
        let message = Json::parse(&text)?;
        if message.get("method").is_some() {
            self.events.push(message.clone());
        }
        Some(message)
    }
}

#[derive(Clone, Debug)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(map) => map.get(key),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
    fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => Some(*n as u64),
            _ => None,
        }
    }
    fn parse(text: &str) -> Option<Json> {
        let mut chars = text.chars().peekable();
        let value = parse_value(&mut chars)?;
        Some(value)
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_space(chars: &mut Chars) {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
}

fn parse_value(chars: &mut Chars) -> Option<Json> {
    skip_space(chars);
    match *chars.peek()? {
        '{' => {
            chars.next();
            let mut map = BTreeMap::new();
            loop {
                skip_space(chars);
                match chars.next()? {
                    '}' => return Some(Json::Object(map)),
                    ',' => continue,
                    '"' => {
                        let key = parse_string(chars)?;
                        skip_space(chars);
                        (chars.next()? == ':').then_some(())?;
                        map.insert(key, parse_value(chars)?);
                    }
                    _ => return None,
                }
            }
        }
        '[' => {
            chars.next();
            let mut items = Vec::new();
            loop {
                skip_space(chars);
                match chars.peek()? {
                    ']' => {
                        chars.next();
                        return Some(Json::Array(items));
                    }
                    ',' => {
                        chars.next();
                    }
                    _ => items.push(parse_value(chars)?),
                }
            }
        }
        '"' => {
            chars.next();
            parse_string(chars).map(Json::String)
        }
        _ => {
            let mut word = String::new();
            while chars.peek().is_some_and(|c| !(",]} \n\r\t".contains(*c))) {
                word.push(chars.next()?);
            }
            match word.as_str() {
                "null" => Some(Json::Null),
                "true" => Some(Json::Bool(true)),
                "false" => Some(Json::Bool(false)),
                number => number.parse().ok().map(Json::Number),
            }
        }
    }
}

/// After the opening quote.
fn parse_string(chars: &mut Chars) -> Option<String> {
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let mut code = hex4(chars)?;
                    if (0xD800..0xDC00).contains(&code) {
                        // A surrogate pair: `\uD83D\uDE00`.
                        (chars.next()? == '\\' && chars.next()? == 'u').then_some(())?;
                        let low = hex4(chars)?;
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    }
                    out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
}

fn hex4(chars: &mut Chars) -> Option<u32> {
    let digits: String = (0..4).map(|_| chars.next()).collect::<Option<_>>()?;
    u32::from_str_radix(&digits, 16).ok()
}

fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let sextets: Vec<u8> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, s)| acc | (u32::from(*s) << (18 - 6 * i)));
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}
