//! A sans-IO parser of `text/event-stream`, following the WHATWG HTML "event stream
//! interpretation" rules.
//!
//! Feed it byte chunks split anywhere (inside a line, a CRLF pair or a UTF-8 sequence); it yields
//! each complete message. The rules it implements:
//! * one leading UTF-8 byte order mark is skipped (only at the very start of the stream);
//! * lines end with CRLF, LF or CR, a CRLF split across two chunks counting once;
//! * a line starting with `:` is a comment; `field:value` has one leading space of the value
//!   stripped; a line without a colon is a field with an empty value;
//! * `data` lines append to the data buffer joined with `\n`; `event` sets the event name;
//!   `id` sets the last event ID (kept across messages, ignored if it contains NUL); `retry`
//!   with only ASCII digits sets the reconnection time; other fields are ignored;
//! * a blank line dispatches the message, unless no `data` line was seen, in which case the
//!   event name is reset and nothing is dispatched;
//! * a message not ended by a blank line when the stream ends is discarded.
//!
//! Text is decoded as UTF-8 one line at a time, with U+FFFD for invalid sequences; line ends
//! never occur inside a multi-byte sequence, so per-line decoding equals whole-stream decoding.

use std::time::Duration;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseMessage {
    /// The last `event:` value of the message; `None` when it had no `event:` line (a browser
    /// would call it `message`).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event ID at dispatch time (it carries over from earlier messages); `None` when
    /// empty.
    pub id: Option<String>,
}

/// The incremental parser of `text/event-stream` (WHATWG "event stream interpretation").
///
/// Feed it byte chunks split anywhere (inside a line, a CRLF pair or a UTF-8 sequence) with
/// [`SseParser::feed`]; it appends each complete message to `out`. The rules:
/// * one leading UTF-8 byte order mark is skipped (only at the very start of the stream);
/// * lines end with CRLF, LF or CR, a CRLF split across two chunks counting once;
/// * a line starting with `:` is a comment; `field:value` has one leading space of the value
///   stripped; a line without a colon is a field with an empty value;
/// * `data` lines append to the data buffer joined with `\n`; `event` sets the event name;
///   `id` sets the last event ID (kept across messages, ignored if it contains NUL); `retry`
///   with only ASCII digits sets the reconnection time; other fields are ignored;
/// * a blank line dispatches the message, unless no `data` line was seen, in which case the
///   event name is reset and nothing is dispatched;
/// * a message not ended by a blank line when the stream ends is discarded ([`SseParser::finish`]).
///
/// Invalid UTF-8 becomes U+FFFD. The parser never panics, whatever the bytes.
#[derive(Debug, Clone, Default)]
pub struct SseParser {
    /// Bytes of a line not yet ended (or, before `bom_checked`, the first bytes of the stream).
    line: Vec<u8>,
    bom_checked: bool,
    /// The previous chunk ended with CR: a leading LF of the next chunk belongs to it.
    skip_lf: bool,
    event: Option<String>,
    data: String,
    /// Any field line seen since the last blank line.
    in_message: bool,
    last_id: Option<String>,
    retry: Option<Duration>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one chunk, appending every message it completes to `out`.
    pub fn feed<E: Extend<SseMessage>>(&mut self, chunk: &[u8], out: &mut E) {
        let mut chunk = chunk;
        if !self.bom_checked {
            let take = (BOM.len() - self.line.len()).min(chunk.len());
            self.line.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
                return;
            }
            self.bom_checked = true;
            if self.line == BOM {
                self.line.clear();
            } else {
                let head = std::mem::take(&mut self.line);
                self.lines(&head, out);
            }
        }
        self.lines(chunk, out);
    }

    /// Parses a whole input at once and ends the stream.
    pub fn parse_all(input: &[u8]) -> Vec<SseMessage> {
        let mut parser = Self::new();
        let mut out = Vec::new();
        parser.feed(input, &mut out);
        parser.finish();
        out
    }

    /// Ends the stream: discards an unfinished message and returns whether there was one (or an
    /// unfinished line), so callers can tell a stream that ended mid-message. The parser can
    /// then be fed a new stream (the last event ID and retry value are kept).
    pub fn finish(&mut self) -> bool {
        let pending = self.in_message || (!self.line.is_empty() && self.bom_checked);
        self.line.clear();
        self.bom_checked = false;
        self.skip_lf = false;
        self.event = None;
        self.data.clear();
        self.in_message = false;
        pending
    }

    /// The last event ID seen (`id:` field), if any.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// The reconnection time the server asked for (`retry:` field), if any.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    fn lines<E: Extend<SseMessage>>(&mut self, chunk: &[u8], out: &mut E) {
        let mut rest = chunk;
        if self.skip_lf && !rest.is_empty() {
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
            self.skip_lf = false;
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) {
            let mut next = pos + 1;
            if rest[pos] == b'\r' {
                match rest.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            if self.line.is_empty() {
                self.line_done(&rest[..pos], out);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&rest[..pos]);
                self.line_done(&line, out);
                line.clear();
                self.line = line;
            }
            rest = &rest[next..];
        }
        self.line.extend_from_slice(rest);
    }

    fn line_done<E: Extend<SseMessage>>(&mut self, line: &[u8], out: &mut E) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        self.in_message = true;
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                let value = String::from_utf8_lossy(value);
                if self.data.capacity() == 0 {
                    self.data.reserve_exact(value.len() + 1);
                }
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            b"id" if !value.contains(&0) => {
                self.last_id = if value.is_empty() {
                    None
                } else {
                    Some(String::from_utf8_lossy(value).into_owned())
                };
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All ASCII digits, so valid UTF-8; only an overflow fails to parse.
                if let Some(ms) = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch<E: Extend<SseMessage>>(&mut self, out: &mut E) {
        self.in_message = false;
        let event = self.event.take();
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        out.extend(std::iter::once(SseMessage {
            event,
            data,
            id: self.last_id.clone(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn msg(event: Option<&str>, data: &str, id: Option<&str>) -> SseMessage {
        SseMessage {
            event: event.map(str::to_owned),
            data: data.to_owned(),
            id: id.map(str::to_owned),
        }
    }

    /// Parses `input` whole, and split at every position into two and three chunks, and one
    /// byte at a time; every way must give `expect`.
    fn check(input: &[u8], expect: &[SseMessage]) {
        assert_eq!(SseParser::parse_all(input), expect, "whole input");
        let feed = |chunks: &[&[u8]]| {
            let mut parser = SseParser::new();
            let mut out = Vec::new();
            for chunk in chunks {
                parser.feed(chunk, &mut out);
            }
            parser.finish();
            out
        };
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(feed(&[a, b]), expect, "split at {i}");
            for j in i..=input.len() {
                let (b, c) = input[i..].split_at(j - i);
                assert_eq!(feed(&[a, b, c]), expect, "split at {i} and {j}");
            }
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(feed(&bytes), expect, "byte by byte");
    }

    #[test]
    fn basic_event_and_data() {
        check(
            b"event: agent.message\ndata: {\"a\":1}\n\n",
            &[msg(Some("agent.message"), "{\"a\":1}", None)],
        );
    }

    #[test]
    fn multi_line_data_comments_and_unknown_fields() {
        check(
            b": keep-alive\nevent:x\ndata:first\nfoo: bar\ndata:  second\ndata\n\n",
            &[msg(Some("x"), "first\n second\n", None)],
        );
    }

    #[test]
    fn every_line_ending() {
        let expect = [msg(Some("a"), "1", None), msg(None, "2", None)];
        check(b"event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n", &expect);
        check(b"event: a\rdata: 1\r\rdata: 2\r\r", &expect);
        check(b"event: a\ndata: 1\r\n\rdata: 2\n\r", &expect);
    }

    #[test]
    fn cr_lf_across_chunks_counts_once() {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        parser.feed(b"data: x\r", &mut out);
        parser.feed(b"", &mut out);
        parser.feed(b"\n", &mut out);
        assert!(out.is_empty(), "a CRLF is one line end, not two");
        parser.feed(b"\r\n", &mut out);
        assert_eq!(out, [msg(None, "x", None)]);
    }

    #[test]
    fn bom_is_stripped_once_at_the_start() {
        check(
            b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n",
            &[msg(None, "a", None)],
        );
        check(b"\xEF\xBB\xBFdata: a\n\n", &[msg(None, "a", None)]);
        check(b"\xEF\xBBdata: a\n\n", &[]);
        check(b"\xEFdata: a\n\n", &[]);
    }

    #[test]
    fn utf8_split_across_chunks_and_invalid_bytes() {
        check(
            "data: héllo ✓ 🦀\n\n".as_bytes(),
            &[msg(None, "héllo ✓ 🦀", None)],
        );
        check(
            b"data: a\xFFb\xF0\x9F\n\n",
            &[msg(None, "a\u{FFFD}b\u{FFFD}", None)],
        );
    }

    #[test]
    fn id_persists_and_retry_is_read() {
        let input = b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: x\0y\ndata: d\n\nretry: 2500\nretry: 1x\ndata: e\n\n";
        check(
            input,
            &[
                msg(None, "a", Some("1")),
                msg(None, "b", Some("1")),
                msg(None, "c", None),
                msg(None, "d", None),
                msg(None, "e", None),
            ],
        );
        let mut parser = SseParser::new();
        parser.feed(input, &mut Vec::new());
        assert_eq!(parser.retry(), Some(Duration::from_millis(2500)));
    }

    #[test]
    fn messages_without_data_are_not_dispatched() {
        check(
            b"event: ping\n\n\n\nevent: a\ndata\n\n",
            &[msg(Some("a"), "", None)],
        );
    }

    #[test]
    fn an_unfinished_message_is_discarded_at_the_end() {
        check(b"data: a\n\ndata: b\n", &[msg(None, "a", None)]);
        check(b"data: a\n\ndata: b", &[msg(None, "a", None)]);
        let mut parser = SseParser::new();
        parser.feed(b"data: a\n\nevent: x\n", &mut Vec::new());
        assert!(parser.finish(), "ended mid-message");
        parser.feed(b"data: a\n\n: comment\n", &mut Vec::new());
        assert!(!parser.finish(), "ended between messages");
    }
}
