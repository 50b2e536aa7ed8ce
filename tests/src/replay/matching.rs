//! Normalises what a replay showed and what the block shows, and compares
//! them line by line.

/// What a scenario showed, to compare with the block.
pub struct Shown {
    pub text: String,
    measured: Vec<(String, String)>,
}

impl Shown {
    pub(super) fn new(text: String, measured: Vec<(String, String)>) -> Shown {
        Shown { text, measured }
    }

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

/// Whether `actual` is `expected`, line by line, where a line of
/// `expected` `... N lines "PATTERN" ...` stands for exactly N lines that
/// contain PATTERN, `... at most N lines "PATTERN" ...` for up to N, and
/// any other line that starts with `...` for any lines left out (none or
/// more).
fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((line, rest)) if line.starts_with("...") => {
            let (counts, pattern) = match counted(line) {
                Some((counts, pattern)) => (counts, Some(pattern)),
                None => (0..=actual.len(), None),
            };
            let Some(pattern) = pattern else {
                return counts
                    .into_iter()
                    .any(|skipped| lines_match(rest, &actual[skipped..]));
            };
            let like = actual
                .iter()
                .take_while(|line| without_port_numbers(line).contains(pattern))
                .count();
            counts
                .filter(|&count| count <= like)
                .any(|count| lines_match(rest, &actual[count..]))
        }
        Some((line, rest)) => actual
            .split_first()
            .is_some_and(|(first, others)| first == line && lines_match(rest, others)),
    }
}

/// The counts and the pattern of `... N lines "PATTERN" ...` (N alone) or
/// `... at most N lines "PATTERN" ...` (0 to N).
fn counted(line: &str) -> Option<(std::ops::RangeInclusive<usize>, &str)> {
    let inner = line.strip_prefix("... ")?.strip_suffix(" ...")?;
    let (bound, inner) = match inner.strip_prefix("at most ") {
        Some(inner) => (true, inner),
        None => (false, inner),
    };
    let (n, inner) = inner.split_once(" lines ")?;
    let n: usize = n.parse().ok()?;
    let pattern = inner.strip_prefix('"')?.strip_suffix('"')?;
    let low = if bound { 0 } else { n };
    Some((low..=n, pattern))
}

/// A normalised line with `PORT1`, `PORT2`... as `PORT`: a pattern's
/// `PORT` stands for any port.
fn without_port_numbers(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("PORT") {
        out += &rest[..at + "PORT".len()];
        rest = rest[at + "PORT".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out + rest
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
    fn a_counted_line_of_dots_stands_for_exactly_that_many_lines_like_its_pattern() {
        let connected = ["a", "1 PORT1 in", "2 PORT2 in", "3 PORT3 in", "d"];
        assert!(lines_match(
            &["a", "... 3 lines \"PORT in\" ...", "d"],
            &connected
        ));
        assert!(!lines_match(
            &["a", "... 2 lines \"PORT in\" ...", "d"],
            &connected
        ));
        assert!(!lines_match(
            &["a", "... 4 lines \"PORT in\" ...", "d"],
            &connected
        ));
        assert!(!lines_match(
            &["a", "... 4 lines \"out\" ...", "d"],
            &connected
        ));
        let at_most = |n: usize| format!("... at most {n} lines \"PORT in\" ...");
        assert!(lines_match(&["a", &at_most(3), "d"], &connected));
        assert!(lines_match(&["a", &at_most(5), "d"], &connected));
        assert!(!lines_match(&["a", &at_most(2), "d"], &connected));
    }

    #[test]
    fn a_line_of_dots_stands_for_any_lines_left_out() {
        assert!(lines_match(&["a", "...", "d"], &["a", "b", "c", "d"]));
        assert!(lines_match(&["a", "... lines ...", "d"], &["a", "d"]));
        assert!(!lines_match(&["a", "...", "d"], &["a", "b"]));
        assert!(!lines_match(&["a", "b"], &["a", "c"]));
    }
}
