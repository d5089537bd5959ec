//! [`Redactor`]: removes known secret values from text a tool is about to return.
//!
//! A tool that adds a host secret to an outgoing request cannot stop the remote server from
//! echoing it back (a debugging endpoint, an error page quoting the request). Before a response
//! reaches the model, every occurrence of each secret is replaced by [`REDACTED`], in the forms
//! a server is likely to echo it in: raw, JSON-escaped, and percent-encoded (upper- and
//! lowercase hex).

use std::borrow::Cow;
use std::fmt;

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// A set of secret values to remove from text.
///
/// `Debug` prints how many patterns it holds, never the patterns.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Byte patterns, longest first, so that a longer form wins over a shorter one at the same
    /// position.
    patterns: Vec<Vec<u8>>,
}

impl Redactor {
    /// A redactor with no secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret (and its encoded forms); empty secrets are ignored.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        if let Ok(json) = serde_json::to_string(secret) {
            // Strip the quotes: what a server echoes inside a JSON string.
            forms.push(json[1..json.len() - 1].to_owned());
        }
        forms.push(percent_encode(secret, b"0123456789ABCDEF"));
        forms.push(percent_encode(secret, b"0123456789abcdef"));
        for form in forms {
            let form = form.into_bytes();
            if !self.patterns.contains(&form) {
                self.patterns.push(form);
            }
        }
        self.patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
    }

    /// Builder form of [`add`](Self::add).
    #[must_use]
    pub fn with(mut self, secret: &str) -> Self {
        self.add(secret);
        self
    }

    /// Whether no secret was added.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The length in bytes of the longest pattern (0 when empty).
    pub fn max_pattern_len(&self) -> usize {
        self.patterns.first().map_or(0, Vec::len)
    }

    /// Whether `text` contains any form of any secret.
    pub fn contains_secret(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        (0..bytes.len()).any(|i| self.match_at(bytes, i).is_some())
    }

    /// `text` with every occurrence of a secret replaced by [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.contains_secret(text) {
            return Cow::Borrowed(text);
        }
        let (bytes, _) = self.redact_prefix(text.as_bytes(), usize::MAX);
        // Patterns are whole UTF-8 strings, so they start and end on character boundaries and
        // the result is valid UTF-8; the lossy conversion never replaces anything.
        Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Redacts `input` and keeps at most the bytes at positions below `limit`; returns the
    /// result and whether anything was cut.
    ///
    /// A secret that starts below `limit` is replaced as a whole even where it runs past
    /// `limit`, so the caller must pass at least `limit + max_pattern_len() - 1` bytes when it
    /// has them: a secret straddling the limit is then recognised rather than cut in half and
    /// returned as a fragment.
    pub fn redact_prefix(&self, input: &[u8], limit: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len().min(limit));
        let mut i = 0;
        while i < input.len() && i < limit {
            if let Some(len) = self.match_at(input, i) {
                out.extend_from_slice(REDACTED.as_bytes());
                i += len;
            } else {
                out.push(input[i]);
                i += 1;
            }
        }
        (out, i < input.len())
    }

    /// The length of the pattern that occurs at `input[i..]`, if any.
    fn match_at(&self, input: &[u8], i: usize) -> Option<usize> {
        let rest = &input[i..];
        self.patterns
            .iter()
            .find(|p| rest.starts_with(p))
            .map(Vec::len)
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} patterns)", self.patterns.len())
    }
}

/// Percent-encodes every byte outside the RFC 3986 unreserved set, with the given hex digits.
fn percent_encode(text: &str, hex: &[u8; 16]) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(hex[usize::from(b >> 4)]));
            out.push(char::from(hex[usize::from(b & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(secret: &str, input: &str, expect: &str) {
        let redactor = Redactor::new().with(secret);
        assert_eq!(redactor.redact(input), expect, "input: {input}");
        assert_eq!(redactor.contains_secret(input), input != expect);
    }

    #[test]
    fn redacts_every_form() {
        check("s3cr/t+\"x", "a s3cr/t+\"x b", "a [REDACTED] b");
        check(
            "s3cr/t+\"x",
            r#"{"k":"s3cr/t+\"x"}"#,
            r#"{"k":"[REDACTED]"}"#,
        );
        check("s3cr/t+\"x", "?k=s3cr%2Ft%2B%22x", "?k=[REDACTED]");
        check("s3cr/t+\"x", "?k=s3cr%2ft%2b%22x", "?k=[REDACTED]");
        check("tok", "tok tok", "[REDACTED] [REDACTED]");
        check("tok", "nothing here", "nothing here");
    }

    #[test]
    fn empty_secret_redacts_nothing() {
        let redactor = Redactor::new().with("");
        assert!(redactor.is_empty());
        assert_eq!(redactor.redact("abc"), "abc");
    }

    #[test]
    fn a_secret_straddling_the_limit_is_redacted_not_cut() {
        let redactor = Redactor::new().with("SECRET");
        let input = b"0123SECRET9";
        // The limit falls inside the secret; the whole secret is replaced, nothing of it kept.
        let (out, truncated) = redactor.redact_prefix(input, 6);
        assert_eq!(String::from_utf8(out).unwrap(), "0123[REDACTED]");
        assert!(truncated);
        let (out, truncated) = redactor.redact_prefix(input, 100);
        assert_eq!(String::from_utf8(out).unwrap(), "0123[REDACTED]9");
        assert!(!truncated);
    }

    #[test]
    fn debug_does_not_print_patterns() {
        let redactor = Redactor::new().with("hunter2");
        assert!(!format!("{redactor:?}").contains("hunter2"));
    }
}
