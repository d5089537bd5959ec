//! Output: data on stdout, messages on stderr, colour only on a terminal without `NO_COLOR`.
//!
//! Commands write their result with [`Printer::data`] (text) or [`Printer::json`] (`--json`),
//! and talk to the person with [`Printer::note`], [`Printer::warn`] and [`Printer::hint`] on
//! stderr, one line each, without a trailing period (uv's style). [`table`] lays out columns.

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

/// Where and how a command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printer {
    /// Whether `--json` was given.
    pub json: bool,
    /// Whether stderr gets ANSI colour.
    pub color: bool,
    /// Whether notes are suppressed (`--quiet`); warnings and errors are not.
    pub quiet: bool,
}

impl Printer {
    /// A printer for the process: colour when stderr is a terminal and `NO_COLOR` is unset.
    pub fn new(json: bool, quiet: bool, no_color: bool) -> Self {
        Self {
            json,
            color: !no_color && io::stderr().is_terminal(),
            quiet,
        }
    }

    /// Writes text to stdout as given (add the newline yourself).
    pub fn data(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Writes one line to stdout.
    pub fn line(&self, line: impl AsRef<str>) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(line.as_ref().as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()
    }

    /// Writes a value as pretty JSON (and a newline) to stdout.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> io::Result<()> {
        let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        text.push('\n');
        self.data(&text)
    }

    /// A message on stderr (suppressed by `--quiet`).
    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet {
            self.stderr(message.as_ref());
        }
    }

    /// A `warning:` line on stderr.
    pub fn warn(&self, message: impl AsRef<str>) {
        let prefix = self.paint("warning", "1;33");
        self.stderr(&format!("{prefix}: {}", message.as_ref()));
    }

    /// A `hint:` line on stderr.
    pub fn hint(&self, message: impl AsRef<str>) {
        let prefix = self.paint("hint", "1;36");
        self.stderr(&format!("{prefix}: {}", message.as_ref()));
    }

    /// An `error:` line on stderr.
    pub fn error(&self, message: impl AsRef<str>) {
        let prefix = self.paint("error", "1;31");
        self.stderr(&format!("{prefix}: {}", message.as_ref()));
    }

    /// `text` in the ANSI style `code` when colour is on.
    pub fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn stderr(&self, line: &str) {
        let mut err = io::stderr().lock();
        // Nothing sensible is left to do when stderr itself is gone.
        let _ = writeln!(err, "{line}");
    }
}

/// A timestamp for a table: `2026-04-01 12:00:00` (UTC, to the second) when it is RFC 3339 in
/// UTC, else as given. JSON output keeps the API's value.
pub fn short_time(raw: &str) -> String {
    let bytes = raw.as_bytes();
    if raw.len() >= 20 && raw.is_char_boundary(19) && bytes[10] == b'T' && raw.ends_with('Z') {
        format!("{} {}", &raw[..10], &raw[11..19])
    } else {
        raw.to_owned()
    }
}

/// Lays out rows in columns separated by two spaces; the last column is not padded.
pub fn table<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (i, cell) in cells.enumerate() {
            if i + 1 < columns {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(
                    ' ',
                    widths[i] - cell.chars().count() + 2,
                ));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_row(&mut header.iter().copied());
    for row in rows {
        push_row(&mut row.as_ref().iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let rows = vec![
            vec!["/a.md".to_owned(), "10".to_owned(), "x".to_owned()],
            vec!["/longer/b.md".to_owned(), "2".to_owned(), "".to_owned()],
        ];
        insta::assert_snapshot!(table(&["PATH", "SIZE", "NOTE"], &rows), @r"
        PATH          SIZE  NOTE
        /a.md         10    x
        /longer/b.md  2
        ");
    }

    #[test]
    fn short_times() {
        assert_eq!(
            short_time("2026-04-01T12:00:00.123456Z"),
            "2026-04-01 12:00:00"
        );
        assert_eq!(short_time("2026-04-01T12:00:00Z"), "2026-04-01 12:00:00");
        assert_eq!(short_time("yesterday"), "yesterday");
        assert_eq!(
            short_time("2026-04-01T12:00:00+02:00"),
            "2026-04-01T12:00:00+02:00"
        );
    }

    #[test]
    fn no_colour_when_off() {
        let printer = Printer {
            json: false,
            color: false,
            quiet: false,
        };
        assert_eq!(printer.paint("error", "31"), "error");
        let printer = Printer {
            color: true,
            ..printer
        };
        assert_eq!(printer.paint("error", "31"), "\x1b[31merror\x1b[0m");
    }
}
