//! Memory path rules, shared by the platform (which enforces them) and the client (which checks
//! before sending).
//!
//! A memory path is a `/`-separated name such as `/projects/foo/notes.md`. The API's rules, as the
//! SDK documents them on `MemoryCreateParams.path`:
//!
//! * it starts with `/` and has 1 to [`MEMORY_PATH_MAX_SEGMENTS`] segments;
//! * no segment is empty, `.` or `..`;
//! * it holds no control character, no Unicode format character (general category `Cf`), and
//!   neither U+2028 LINE SEPARATOR nor U+2029 PARAGRAPH SEPARATOR;
//! * it is in Unicode Normalization Form C;
//! * it is at most [`MEMORY_PATH_MAX_BYTES`] bytes of UTF-8.
//!
//! This module also rejects NUL and the backslash by name: NUL is a control character anyway, and a
//! backslash would be a path separator on some mounts, so a name holding one could escape its
//! directory there.
//!
//! Paths are **not** percent-decoded: `/a/%2e%2e/b` is a valid path whose second segment is the
//! literal three-character-pair name `%2e%2e`, not a traversal. Paths travel in JSON bodies, where
//! no decoding happens; whoever maps a path onto a file system must treat each segment as a literal
//! file name and must not decode it either.

use unicode_normalization::is_nfc;

/// Most bytes a memory path may have, in UTF-8.
pub const MEMORY_PATH_MAX_BYTES: usize = 1024;

/// Most segments a memory path may have.
pub const MEMORY_PATH_MAX_SEGMENTS: usize = 20;

/// Most bytes a memory's content may have, in UTF-8 (100 kB).
pub const MEMORY_CONTENT_MAX_BYTES: usize = 102_400;

/// Why a memory path (or list prefix) is not valid. Each variant names the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryPathError {
    /// The path is the empty string.
    #[error("memory path is empty")]
    Empty,
    /// The path does not start with `/`.
    #[error("memory path must start with `/`")]
    MissingLeadingSlash,
    /// The path is longer than [`MEMORY_PATH_MAX_BYTES`].
    #[error("memory path is {len} bytes long; at most {MEMORY_PATH_MAX_BYTES} are allowed")]
    TooLong {
        /// The path's length in bytes.
        len: usize,
    },
    /// The path holds a NUL character.
    #[error("memory path contains a NUL character at byte {offset}")]
    Nul {
        /// Byte offset of the character.
        offset: usize,
    },
    /// The path holds a backslash.
    #[error("memory path contains a backslash at byte {offset}")]
    Backslash {
        /// Byte offset of the character.
        offset: usize,
    },
    /// The path holds a control character (general category `Cc`).
    #[error("memory path contains control character U+{:04X} at byte {offset}", u32::from(*ch))]
    ControlCharacter {
        /// The character.
        ch: char,
        /// Byte offset of the character.
        offset: usize,
    },
    /// The path holds a Unicode format character (general category `Cf`), such as a zero-width
    /// space or a bidirectional override.
    #[error("memory path contains format character U+{:04X} at byte {offset}", u32::from(*ch))]
    FormatCharacter {
        /// The character.
        ch: char,
        /// Byte offset of the character.
        offset: usize,
    },
    /// The path holds U+2028 LINE SEPARATOR or U+2029 PARAGRAPH SEPARATOR.
    #[error("memory path contains line or paragraph separator U+{:04X} at byte {offset}", u32::from(*ch))]
    LineSeparator {
        /// The character.
        ch: char,
        /// Byte offset of the character.
        offset: usize,
    },
    /// The path is not in Unicode Normalization Form C.
    #[error("memory path is not in Unicode Normalization Form C")]
    NotNfc,
    /// A segment is empty: `/`, `/a//b` or a trailing `/`.
    #[error("memory path has an empty segment (number {index}, counting from 1)")]
    EmptySegment {
        /// Position of the segment, counting from 1.
        index: usize,
    },
    /// A segment is `.` or `..`.
    #[error("memory path has a `{segment}` segment (number {index}, counting from 1)")]
    DotSegment {
        /// Position of the segment, counting from 1.
        index: usize,
        /// The segment: `.` or `..`.
        segment: String,
    },
    /// The path has more than [`MEMORY_PATH_MAX_SEGMENTS`] segments.
    #[error("memory path has {count} segments; at most {MEMORY_PATH_MAX_SEGMENTS} are allowed")]
    TooManySegments {
        /// How many segments the path has.
        count: usize,
    },
    /// A list `path_prefix` does not end with `/`.
    #[error("memory path prefix must end with `/`")]
    PrefixMissingTrailingSlash,
}

/// Checks a memory path against every rule of the API (see the [module docs](self)).
///
/// ```
/// use steward_core::memory::{MemoryPathError, validate_memory_path};
///
/// assert_eq!(validate_memory_path("/projects/foo/notes.md"), Ok(()));
/// assert_eq!(
///     validate_memory_path("/a/../b"),
///     Err(MemoryPathError::DotSegment { index: 2, segment: "..".into() }),
/// );
/// ```
pub fn validate_memory_path(path: &str) -> Result<(), MemoryPathError> {
    if path.is_empty() {
        return Err(MemoryPathError::Empty);
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(MemoryPathError::MissingLeadingSlash);
    };
    if path.len() > MEMORY_PATH_MAX_BYTES {
        return Err(MemoryPathError::TooLong { len: path.len() });
    }
    check_characters(path)?;
    if !is_nfc(path) {
        return Err(MemoryPathError::NotNfc);
    }
    let mut count = 0;
    for (i, segment) in rest.split('/').enumerate() {
        let index = i + 1;
        count = index;
        match segment {
            "" => return Err(MemoryPathError::EmptySegment { index }),
            "." | ".." => {
                return Err(MemoryPathError::DotSegment {
                    index,
                    segment: segment.to_owned(),
                });
            }
            _ => {}
        }
    }
    if count > MEMORY_PATH_MAX_SEGMENTS {
        return Err(MemoryPathError::TooManySegments { count });
    }
    Ok(())
}

/// Checks a `path_prefix` of List Memories: `/` (the whole store), or a valid path followed by `/`
/// (such as `/notes/`), which matches whole segments only.
///
/// ```
/// use steward_core::memory::validate_memory_path_prefix;
///
/// assert!(validate_memory_path_prefix("/").is_ok());
/// assert!(validate_memory_path_prefix("/notes/").is_ok());
/// assert!(validate_memory_path_prefix("/notes").is_err());
/// ```
pub fn validate_memory_path_prefix(prefix: &str) -> Result<(), MemoryPathError> {
    if prefix == "/" {
        return Ok(());
    }
    if prefix.is_empty() {
        return Err(MemoryPathError::Empty);
    }
    if !prefix.starts_with('/') {
        return Err(MemoryPathError::MissingLeadingSlash);
    }
    match prefix.strip_suffix('/') {
        Some(path) => validate_memory_path(path),
        None => Err(MemoryPathError::PrefixMissingTrailingSlash),
    }
}

/// Whether two memory paths may not both exist in one store: they are equal, or one is an ancestor
/// of the other by whole segments (`/notes` and `/notes/todo.md`, but not `/notes` and
/// `/notes-archive`).
///
/// Both arguments are expected to be valid paths (no trailing `/`).
///
/// ```
/// use steward_core::memory::paths_conflict;
///
/// assert!(paths_conflict("/notes", "/notes/todo.md"));
/// assert!(!paths_conflict("/notes", "/notes-archive/todo.md"));
/// ```
pub fn paths_conflict(a: &str, b: &str) -> bool {
    a == b || is_ancestor(a, b) || is_ancestor(b, a)
}

/// Whether `ancestor` is a proper ancestor of `path` by whole segments.
fn is_ancestor(ancestor: &str, path: &str) -> bool {
    path.strip_prefix(ancestor)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Checks each character against the character rules, in the order the variants are listed.
fn check_characters(path: &str) -> Result<(), MemoryPathError> {
    for (offset, ch) in path.char_indices() {
        match ch {
            '\0' => return Err(MemoryPathError::Nul { offset }),
            '\\' => return Err(MemoryPathError::Backslash { offset }),
            '\u{2028}' | '\u{2029}' => return Err(MemoryPathError::LineSeparator { ch, offset }),
            c if c.is_control() => return Err(MemoryPathError::ControlCharacter { ch, offset }),
            c if is_format_char(c) => return Err(MemoryPathError::FormatCharacter { ch, offset }),
            _ => {}
        }
    }
    Ok(())
}

/// Whether `c` is a Unicode format character (general category `Cf`), listed by hand from the
/// Unicode 15 character database so that `core` needs no Unicode-tables crate.
fn is_format_char(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD // soft hyphen
            | 0x0600..=0x0605 // Arabic number signs
            | 0x061C // Arabic letter mark
            | 0x06DD // Arabic end of ayah
            | 0x070F // Syriac abbreviation mark
            | 0x0890..=0x0891 // Arabic pound and piastre marks above
            | 0x08E2 // Arabic disputed end of ayah
            | 0x180E // Mongolian vowel separator
            | 0x200B..=0x200F // zero-width space, (non-)joiners, LRM, RLM
            | 0x202A..=0x202E // bidirectional embeddings and overrides
            | 0x2060..=0x2064 // word joiner and invisible operators
            | 0x2066..=0x206F // bidirectional isolates and deprecated format characters
            | 0xFEFF // zero-width no-break space (byte order mark)
            | 0xFFF9..=0xFFFB // interlinear annotation characters
            | 0x110BD // Kaithi number sign
            | 0x110CD // Kaithi number sign above
            | 0x13430..=0x1343F // Egyptian hieroglyph format controls
            | 0x1BCA0..=0x1BCA3 // shorthand format controls
            | 0x1D173..=0x1D17A // musical symbol format controls
            | 0xE0001 // language tag
            | 0xE0020..=0xE007F // tag characters
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `path` breaks exactly the rule `expected`.
    #[track_caller]
    fn rejects(path: &str, expected: MemoryPathError) {
        assert_eq!(validate_memory_path(path), Err(expected), "path {path:?}");
    }

    #[test]
    fn accepts_ordinary_paths() {
        for path in [
            "/a",
            "/notes.md",
            "/projects/foo/notes.md",
            "/with space/and-dash_underscore.txt",
            "/.hidden",
            "/...",
            "/a.b/..c/d..",
            "/Case/SENSITIVE",
            "/unicode/caf\u{e9}/\u{65e5}\u{672c}\u{8a9e}/\u{1f600}",
            "/a/%2e%2e/b",
            "/a/%2F/b",
            "/a/%00",
        ] {
            assert_eq!(validate_memory_path(path), Ok(()), "path {path:?}");
        }
    }

    /// Percent-encoded traversal is a literal name, not traversal: nothing decodes memory paths.
    #[test]
    fn percent_encoding_is_literal() {
        assert_eq!(validate_memory_path("/a/%2e%2e/b"), Ok(()));
        assert_eq!(validate_memory_path("/%2e"), Ok(()));
        assert!(!paths_conflict("/a/%2e%2e/b", "/b"));
    }

    #[test]
    fn requires_a_leading_slash() {
        rejects("", MemoryPathError::Empty);
        rejects("a/b", MemoryPathError::MissingLeadingSlash);
        rejects("notes.md", MemoryPathError::MissingLeadingSlash);
        rejects(" /a", MemoryPathError::MissingLeadingSlash);
        rejects("\\a", MemoryPathError::MissingLeadingSlash);
    }

    #[test]
    fn rejects_empty_segments() {
        rejects("/", MemoryPathError::EmptySegment { index: 1 });
        rejects("//", MemoryPathError::EmptySegment { index: 1 });
        rejects("//a", MemoryPathError::EmptySegment { index: 1 });
        rejects("/a//b", MemoryPathError::EmptySegment { index: 2 });
        rejects("/a/b/", MemoryPathError::EmptySegment { index: 3 });
    }

    #[test]
    fn rejects_dot_segments() {
        let dot = |index: usize, segment: &str| MemoryPathError::DotSegment {
            index,
            segment: segment.to_owned(),
        };
        rejects("/a/../b", dot(2, ".."));
        rejects("/..", dot(1, ".."));
        rejects("/../etc/passwd", dot(1, ".."));
        rejects("/.", dot(1, "."));
        rejects("/a/./b", dot(2, "."));
        rejects("/a/b/..", dot(3, ".."));
    }

    #[test]
    fn counts_segments() {
        let twenty = "/s".repeat(20);
        assert_eq!(validate_memory_path(&twenty), Ok(()));
        rejects(
            &"/s".repeat(21),
            MemoryPathError::TooManySegments { count: 21 },
        );
        rejects(
            &"/s".repeat(100),
            MemoryPathError::TooManySegments { count: 100 },
        );
    }

    #[test]
    fn limits_the_length_in_bytes() {
        let exact = format!("/{}", "a".repeat(MEMORY_PATH_MAX_BYTES - 1));
        assert_eq!(exact.len(), MEMORY_PATH_MAX_BYTES);
        assert_eq!(validate_memory_path(&exact), Ok(()));
        let over = format!("/{}", "a".repeat(MEMORY_PATH_MAX_BYTES));
        rejects(&over, MemoryPathError::TooLong { len: 1025 });
        // Bytes, not characters: 342 three-byte characters are 1026 bytes plus the slash.
        let wide = format!("/{}", "\u{65e5}".repeat(342));
        assert_eq!(wide.chars().count(), 343);
        rejects(&wide, MemoryPathError::TooLong { len: 1027 });
    }

    #[test]
    fn rejects_nul_and_backslash() {
        rejects("/a\0b", MemoryPathError::Nul { offset: 2 });
        rejects("/\0", MemoryPathError::Nul { offset: 1 });
        rejects("/a\\b", MemoryPathError::Backslash { offset: 2 });
        rejects("/a/..\\..\\etc", MemoryPathError::Backslash { offset: 5 });
    }

    #[test]
    fn rejects_control_characters() {
        for ch in [
            '\u{1}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{80}', '\u{9f}',
        ] {
            rejects(
                &format!("/a{ch}b"),
                MemoryPathError::ControlCharacter { ch, offset: 2 },
            );
        }
    }

    #[test]
    fn rejects_format_characters() {
        for ch in [
            '\u{200b}',  // zero-width space
            '\u{200d}',  // zero-width joiner
            '\u{200e}',  // left-to-right mark
            '\u{202e}',  // right-to-left override
            '\u{2066}',  // left-to-right isolate
            '\u{feff}',  // byte order mark
            '\u{ad}',    // soft hyphen
            '\u{61c}',   // Arabic letter mark
            '\u{180e}',  // Mongolian vowel separator
            '\u{fff9}',  // interlinear annotation anchor
            '\u{e0001}', // language tag
        ] {
            rejects(
                &format!("/x{ch}"),
                MemoryPathError::FormatCharacter { ch, offset: 2 },
            );
        }
        // The classic spoof: "/evil\u{202e}txt.exe" displays as "/evilexe.txt".
        rejects(
            "/evil\u{202e}txt.exe",
            MemoryPathError::FormatCharacter {
                ch: '\u{202e}',
                offset: 5,
            },
        );
    }

    #[test]
    fn format_character_table_edges() {
        for (c, expected) in [
            ('\u{ac}', false),
            ('\u{ad}', true),
            ('\u{ae}', false),
            ('\u{200a}', false), // hair space is Zs, not Cf
            ('\u{200b}', true),
            ('\u{200f}', true),
            ('\u{2010}', false),
            ('\u{2029}', false), // Zp; rejected by its own rule
            ('\u{202a}', true),
            ('\u{202f}', false), // narrow no-break space is Zs
            ('\u{2065}', false), // unassigned
            ('\u{206f}', true),
            ('\u{fffa}', true),
            ('\u{fffc}', false),
            ('\u{e007f}', true),
            ('\u{e0080}', false),
        ] {
            assert_eq!(is_format_char(c), expected, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn rejects_line_and_paragraph_separators() {
        for ch in ['\u{2028}', '\u{2029}'] {
            rejects(
                &format!("/a{ch}"),
                MemoryPathError::LineSeparator { ch, offset: 2 },
            );
        }
    }

    #[test]
    fn requires_nfc() {
        // "e" + COMBINING ACUTE ACCENT is NFD; its NFC form is the single character U+00E9.
        rejects("/caf\u{65}\u{301}", MemoryPathError::NotNfc);
        assert_eq!(validate_memory_path("/caf\u{e9}"), Ok(()));
        // U+212B ANGSTROM SIGN normalises to U+00C5 under NFC.
        rejects("/\u{212b}", MemoryPathError::NotNfc);
    }

    #[test]
    fn errors_read_as_fragments_naming_the_rule() {
        let text = |path: &str| validate_memory_path(path).unwrap_err().to_string();
        assert_eq!(text("a"), "memory path must start with `/`");
        assert_eq!(
            text("/a/../b"),
            "memory path has a `..` segment (number 2, counting from 1)"
        );
        assert_eq!(
            text("/\u{200b}"),
            "memory path contains format character U+200B at byte 1"
        );
        assert_eq!(
            text(&"/s".repeat(21)),
            "memory path has 21 segments; at most 20 are allowed"
        );
    }

    #[test]
    fn prefixes() {
        assert_eq!(validate_memory_path_prefix("/"), Ok(()));
        assert_eq!(validate_memory_path_prefix("/notes/"), Ok(()));
        assert_eq!(validate_memory_path_prefix("/a/b/c/"), Ok(()));
        assert_eq!(
            validate_memory_path_prefix("/notes"),
            Err(MemoryPathError::PrefixMissingTrailingSlash)
        );
        assert_eq!(
            validate_memory_path_prefix("notes/"),
            Err(MemoryPathError::MissingLeadingSlash)
        );
        assert_eq!(validate_memory_path_prefix(""), Err(MemoryPathError::Empty));
        assert_eq!(
            validate_memory_path_prefix("//"),
            Err(MemoryPathError::EmptySegment { index: 1 })
        );
        assert_eq!(
            validate_memory_path_prefix("/../"),
            Err(MemoryPathError::DotSegment {
                index: 1,
                segment: "..".to_owned()
            })
        );
    }

    #[test]
    fn conflicts_by_whole_segments() {
        assert!(paths_conflict("/a", "/a"));
        assert!(paths_conflict("/notes", "/notes/todo.md"));
        assert!(paths_conflict("/notes/todo.md", "/notes"));
        assert!(paths_conflict("/a", "/a/b/c/d"));
        assert!(!paths_conflict("/notes", "/notes-archive/todo.md"));
        assert!(!paths_conflict("/notes", "/notes.md"));
        assert!(!paths_conflict("/a/b", "/a/c"));
        assert!(!paths_conflict("/a/b", "/b"));
        assert!(!paths_conflict("/A", "/a"));
    }
}
