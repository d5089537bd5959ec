//! `grep`: lines matching a regex in a file or below a directory (the workdir by default), as
//! `path:line:text` (virtual paths, 1-based line numbers), or `no matches`.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regex::Regex;
use serde::Deserialize;

use super::glob::{WALK_MAX_DEPTH, WALK_MAX_ENTRIES, skipped, sorted_entries};
use super::{DEFAULT_SEARCH_PATH, Target, ToolError, ToolResult, Toolset, blocking, internal};
use crate::engine::mounts::Lookup;

/// Most bytes of output (the SDK's limit).
const OUTPUT_LIMIT: usize = 100 * 1024;

/// Lines longer than this (in characters) are skipped.
const MAX_LINE_CHARS: usize = 2000;

/// How long one search may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Input of `grep`.
#[derive(Debug, Deserialize)]
pub(super) struct GrepInput {
    pattern: Option<String>,
    path: Option<String>,
}

/// The output being built, within its byte budget.
struct Hits {
    lines: Vec<String>,
    budget: isize,
    full: bool,
}

impl Hits {
    fn new() -> Self {
        Self {
            lines: Vec::new(),
            budget: OUTPUT_LIMIT as isize,
            full: false,
        }
    }

    /// Adds a hit; `false` once the output is full (a truncation note is added then).
    fn push(&mut self, line: String) -> bool {
        if self.full {
            return false;
        }
        self.budget -= line.len() as isize + 1;
        if self.budget < 0 {
            self.lines
                .push(format!("[output truncated at {OUTPUT_LIMIT} bytes]"));
            self.full = true;
            return false;
        }
        self.lines.push(line);
        true
    }

    /// Searches `text` (cut at its first NUL) line by line.
    fn search_text(&mut self, shown: &str, text: &str, regex: &Regex) -> bool {
        let text = text.split('\0').next().unwrap_or("");
        for (index, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.chars().count() > MAX_LINE_CHARS || !regex.is_match(line) {
                continue;
            }
            if !self.push(format!("{shown}:{}:{line}", index + 1)) {
                return false;
            }
        }
        true
    }

    fn finish(self) -> String {
        if self.lines.is_empty() {
            "no matches".to_owned()
        } else {
            self.lines.join("\n")
        }
    }
}

pub(super) async fn run(toolset: &Toolset, input: GrepInput) -> ToolResult {
    let Some(pattern) = input.pattern.filter(|p| !p.is_empty()) else {
        return Err(ToolError::new("grep: pattern is required"));
    };
    let shown = input
        .path
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_SEARCH_PATH.to_owned());
    let target = toolset.resolve(&shown)?;
    let regex =
        Regex::new(&pattern).map_err(|e| ToolError::new(format!("grep: invalid regex: {e}")))?;
    match target {
        Target::Disk(root) => {
            let workspace = toolset.workspace().clone();
            blocking("grep", move || {
                let mut hits = Hits::new();
                let deadline = Instant::now() + TIMEOUT;
                let cut_short = search_disk(&root, &regex, &mut hits, deadline, &|real| {
                    workspace.virtual_of(real)
                });
                if cut_short {
                    if hits.lines.is_empty() {
                        return Err(ToolError::new(format!(
                            "grep: timed out after {}s",
                            TIMEOUT.as_secs()
                        )));
                    }
                    hits.lines.push(format!(
                        "[the search was cut short after {} ms]",
                        TIMEOUT.as_millis()
                    ));
                }
                Ok(hits.finish())
            })
            .await
        }
        Target::Memory { mount, path } => {
            let memory = toolset.memory();
            let lookup = memory
                .lookup(&mount.store_id, path.as_deref())
                .await
                .map_err(|e| internal("grep", &e))?;
            let mut hits = Hits::new();
            match lookup {
                Lookup::File(file) => {
                    let text = file.content.value().cloned().unwrap_or_default();
                    hits.search_text(&mount.virtual_path(&file.path), &text, &regex);
                }
                Lookup::Directory => {
                    let prefix = format!("{}/", path.as_deref().unwrap_or(""));
                    let all = memory
                        .list(&mount.store_id)
                        .await
                        .map_err(|e| internal("grep", &e))?;
                    for file in all.iter().filter(|m| m.path.starts_with(&prefix)) {
                        let text = file.content.value().map_or("", String::as_str);
                        if !hits.search_text(&mount.virtual_path(&file.path), text, &regex) {
                            break;
                        }
                    }
                }
                Lookup::Missing => {}
            }
            Ok(hits.finish())
        }
    }
}

/// Searches a file, or the regular files below a directory (symlinks and files with other
/// hard links skipped, as [`linked_elsewhere`](super::fs::linked_elsewhere) says; name order).
/// Returns whether the deadline cut the search short.
fn search_disk(
    root: &Path,
    regex: &Regex,
    hits: &mut Hits,
    deadline: Instant,
    shown: &dyn Fn(&Path) -> String,
) -> bool {
    if root.is_file() {
        search_file(root, &shown(root), regex, hits);
        return false;
    }
    let mut remaining = WALK_MAX_ENTRIES;
    let mut stack: Vec<(PathBuf, usize)> = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        if depth > WALK_MAX_DEPTH {
            continue;
        }
        let mut subdirs = Vec::new();
        for entry in sorted_entries(&dir) {
            if Instant::now() > deadline {
                return true;
            }
            if skipped(&entry.file_name()) {
                continue;
            }
            if remaining == 0 {
                return false;
            }
            remaining -= 1;
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                subdirs.push((path, depth + 1));
            } else if kind.is_file()
                && !super::fs::linked_elsewhere(&path)
                && !search_file(&path, &shown(&path), regex, hits)
            {
                return false;
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    false
}

/// Searches one file line by line, without holding an over-long line whole; stops at the
/// first NUL byte. Returns `false` once the output is full.
fn search_file(path: &Path, shown: &str, regex: &Regex, hits: &mut Hits) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return true;
    };
    // A line of 2000 characters holds at most 4 bytes per character.
    let max_bytes = MAX_LINE_CHARS * 4;
    let mut reader = BufReader::new(file);
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut number = 0usize;
    loop {
        let (consumed, ended, nul) = {
            let Ok(buffer) = reader.fill_buf() else {
                return true;
            };
            if buffer.is_empty() {
                break;
            }
            let newline = buffer.iter().position(|b| *b == b'\n');
            let piece = &buffer[..newline.unwrap_or(buffer.len())];
            let nul = piece.iter().position(|b| *b == 0);
            let piece = &piece[..nul.unwrap_or(piece.len())];
            if !too_long {
                if line.len() + piece.len() > max_bytes {
                    too_long = true;
                    line.clear();
                } else {
                    line.extend_from_slice(piece);
                }
            }
            (
                newline.map_or(buffer.len(), |at| at + 1),
                newline.is_some(),
                nul.is_some(),
            )
        };
        reader.consume(consumed);
        if ended || nul {
            number += 1;
            if !too_long && !check_line(&line, number, shown, regex, hits) {
                return false;
            }
            line.clear();
            too_long = false;
            if nul {
                return true;
            }
        }
    }
    if !line.is_empty() && !too_long {
        number += 1;
        return check_line(&line, number, shown, regex, hits);
    }
    true
}

/// Matches one line; `false` once the output is full.
fn check_line(bytes: &[u8], number: usize, shown: &str, regex: &Regex, hits: &mut Hits) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    if text.chars().count() > MAX_LINE_CHARS || !regex.is_match(text) {
        return true;
    }
    hits.push(format!("{shown}:{number}:{text}"))
}
