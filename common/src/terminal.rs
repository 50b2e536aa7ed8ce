//! What a terminal must not be sent: a client's control characters.
//!
//! A terminal acts on the control characters in what it shows: a client
//! could clear the screen, set the window's title, write to the clipboard
//! (OSC 52), or send a carriage return and write over a log line. So when
//! stderr is a terminal, clients' bytes are shown with those characters
//! escaped; into a pipe or a file, they stay exactly as the client sent them.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, IsTerminal};
use std::sync::OnceLock;

/// Whether this process's stderr is a terminal (asked once).
pub(crate) fn stderr_is_a_terminal() -> bool {
    static TERMINAL: OnceLock<bool> = OnceLock::new();
    *TERMINAL.get_or_init(|| io::stderr().is_terminal())
}

/// A client's bytes as this process's stderr may show them: escaped by
/// [`escape_controls`] when stderr is a terminal, untouched otherwise.
/// `common::stderr()` does this itself; this is for code that writes to
/// stderr some other way (`stage4-tokio-stderr`). Each call stands alone: a
/// character split between two calls shows as escaped bytes.
pub fn for_the_terminal(bytes: &[u8]) -> Cow<'_, [u8]> {
    match stderr_is_a_terminal() {
        true => escape_controls(bytes),
        false => Cow::Borrowed(bytes),
    }
}

/// `bytes` as a terminal can show them without acting on them: every
/// control character but newline and tab (and a carriage return right
/// before a newline, as Windows ends lines) is written as an escape, `\x1b`
/// for ESC or `\u{9b}` for a C1 control, and so is each byte that is not
/// UTF-8, since a terminal may read a lone byte as a C1 control. So are the
/// invisible characters that reorder or hide text (bidirectional overrides,
/// zero-width spaces), with which a line could pass for another. Text with
/// none of them comes back as it is, without a copy.
pub fn escape_controls(bytes: &[u8]) -> Cow<'_, [u8]> {
    if bytes.iter().all(plain) {
        return Cow::Borrowed(bytes);
    }
    let mut shown = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        for (i, c) in valid.char_indices() {
            let line_end = c == '\r' && valid[i + 1..].starts_with('\n');
            if c == '\n' || c == '\t' || line_end || !(c.is_control() || invisible(c)) {
                shown.push(c);
            } else if c.is_ascii() {
                let _ = write!(shown, "\\x{:02x}", c as u32);
            } else {
                let _ = write!(shown, "\\u{{{:x}}}", c as u32);
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(shown, "\\x{byte:02x}");
        }
    }
    Cow::Owned(shown.into_bytes())
}

/// Printable ASCII, newline and tab: nothing to escape.
fn plain(&byte: &u8) -> bool {
    (0x20..0x7f).contains(&byte) || byte == b'\n' || byte == b'\t'
}

/// Characters a terminal shows as nothing, or that reorder what follows.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// The end of one client's write that cannot be shown yet: the first bytes
/// of a character whose last bytes come with the next write (stage 4 reads
/// 128 bytes at a time, and cuts text anywhere), or a carriage return that
/// may turn out to end a line. Each handle on stderr keeps its own.
#[derive(Debug, Default)]
pub(crate) struct HeldBack(Tail);

impl HeldBack {
    /// `bytes`, after what was held back, escaped for a terminal; the end
    /// that cannot be shown yet is held back in turn.
    pub(crate) fn escape<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if self.is_empty() && bytes.iter().all(plain) {
            return Cow::Borrowed(bytes);
        }
        let ready = self.0.after(bytes, unfinished);
        Cow::Owned(escape_controls(&ready).into_owned())
    }

    /// What is still held back, escaped: the client has gone, and its
    /// character will never be finished.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        let held = escape_controls(self.0.held()).into_owned();
        self.0.len = 0;
        held
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.len == 0
    }
}

/// Up to 3 bytes at the end of one write that wait for the next one to
/// finish them: what [`HeldBack`] and [`ConsoleText`] hold.
#[derive(Debug, Default)]
struct Tail {
    bytes: [u8; 3],
    len: usize,
}

impl Tail {
    /// What was held, then `bytes`, without the end that `unfinished` says
    /// must wait, which is held in its place.
    fn after(&mut self, bytes: &[u8], unfinished: fn(&[u8]) -> usize) -> Vec<u8> {
        let mut joined = Vec::with_capacity(self.len + bytes.len());
        joined.extend_from_slice(self.held());
        joined.extend_from_slice(bytes);
        let keep = unfinished(&joined);
        let ready = joined.len() - keep;
        self.bytes[..keep].copy_from_slice(&joined[ready..]);
        self.len = keep;
        joined.truncate(ready);
        joined
    }

    fn held(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// How many bytes at the end of `bytes` may be finished by the next write:
/// a carriage return, or the start of a UTF-8 character (at most 3 bytes).
fn unfinished(bytes: &[u8]) -> usize {
    if bytes.last() == Some(&b'\r') {
        return 1;
    }
    unfinished_character(bytes)
}

/// How many bytes at the end of `bytes` start a UTF-8 character whose last
/// bytes are missing (at most 3).
fn unfinished_character(bytes: &[u8]) -> usize {
    let tail = &bytes[bytes.len().saturating_sub(3)..];
    // The last byte that starts a character of two bytes or more, and how
    // long that character is.
    let Some((at, &lead)) = tail.iter().enumerate().rev().find(|(_, b)| **b >= 0xc0) else {
        return 0;
    };
    let needs = match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return 0,
    };
    let has = tail.len() - at;
    let continued = tail[at + 1..].iter().all(|b| (0x80..0xc0).contains(b));
    if has < needs && continued { has } else { 0 }
}

/// What a Windows console is sent: UTF-8 only. Rust's standard library
/// writes to a console as UTF-16, and refuses a write that starts with bytes
/// that are not UTF-8 (an `InvalidData` error, "Windows stdio in console mode
/// does not support writing non-UTF-8 byte sequences"): the writer would
/// lose the rest of its batch, log lines included. So bytes that are not
/// UTF-8 are shown as U+FFFD, the replacement character, and the start of a
/// character at the end of one batch waits for its last bytes in the next.
///
/// Clients' bytes are escaped on a terminal and log lines are text, so this
/// is the last guard, not the usual path: whatever reaches a console, it
/// never costs a batch. (The start of a character still held back when the
/// process exits, 3 bytes at most, is lost.)
#[derive(Debug, Default)]
pub(crate) struct ConsoleText(Tail);

impl ConsoleText {
    /// `bytes`, after what was held back, as UTF-8 a console takes; the start
    /// of a character at the end is held back in turn. Text comes back as it
    /// is, without a copy.
    pub(crate) fn of<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if self.0.len == 0 && std::str::from_utf8(bytes).is_ok() {
            return Cow::Borrowed(bytes);
        }
        let ready = self.0.after(bytes, unfinished_character);
        let shown = String::from_utf8_lossy(&ready).into_owned();
        Cow::Owned(shown.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::{ConsoleText, HeldBack, escape_controls};

    #[test]
    fn a_clients_control_characters_are_shown_escaped() {
        let attack = "\x1b]0;pwned\x07\x1b[2J\rERROR\u{9b}31m\u{202e}txt.exe\n";
        let mut bytes = attack.as_bytes().to_vec();
        bytes.push(0xff);
        let shown = r"\x1b]0;pwned\x07\x1b[2J\x0dERROR\u{9b}31m\u{202e}txt.exe";
        assert_eq!(
            escape_controls(&bytes),
            format!("{shown}\n\\xff").as_bytes()
        );
    }

    #[test]
    fn text_newlines_tabs_and_windows_line_ends_are_shown_as_they_are() {
        let text = "héllo\tworld\r\n€ 1\n";
        assert_eq!(escape_controls(text.as_bytes()), text.as_bytes());
        assert!(matches!(
            escape_controls(b"plain ascii\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_character_or_a_line_end_split_between_writes_is_shown_whole() {
        let text = "1 € and a line end\r\n".as_bytes();
        for cut in 0..=text.len() {
            let mut held = HeldBack::default();
            let mut shown = held.escape(&text[..cut]).into_owned();
            shown.extend_from_slice(&held.escape(&text[cut..]));
            assert!(held.is_empty(), "cut at {cut}");
            assert_eq!(shown, text, "cut at {cut}");
        }
    }

    #[test]
    fn a_character_never_finished_is_shown_escaped_at_the_end() {
        let mut held = HeldBack::default();
        assert_eq!(held.escape(b"ab\xe2\x82"), b"ab".as_slice());
        assert_eq!(held.take(), br"\xe2\x82");
        let mut held = HeldBack::default();
        assert_eq!(held.escape(b"ab\r"), b"ab".as_slice());
        assert_eq!(held.escape(b"c"), br"\x0dc".as_slice());
    }

    #[test]
    fn a_sequence_split_across_writes_is_shown_whole_on_a_console() {
        let text = "1 € and 𝄞\n".as_bytes();
        for cut in 0..=text.len() {
            let mut console = ConsoleText::default();
            let mut shown = console.of(&text[..cut]).into_owned();
            shown.extend_from_slice(&console.of(&text[cut..]));
            assert_eq!(shown, text, "cut at {cut}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_as_replacement_characters_on_a_console() {
        let mut console = ConsoleText::default();
        assert_eq!(
            console.of(b"a\xffb\xe2\x82c\n"),
            "a\u{fffd}b\u{fffd}c\n".as_bytes()
        );
        // A character's start that the next write does not finish.
        assert_eq!(console.of(b"d\xe2\x82"), b"d".as_slice());
        assert_eq!(console.of(b"[INFO] e\n"), "\u{fffd}[INFO] e\n".as_bytes());
        assert!(matches!(
            console.of("plain €\n".as_bytes()),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
