//! `read`: a UTF-8 text file, whole or a range of lines (`view_range`, 1-based inclusive,
//! `end <= 0` to the end). A file over the size cap needs a `view_range`; the selected lines
//! are then read in chunks and must fit the cap themselves.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use serde::Deserialize;

use super::{Target, ToolError, ToolResult, Toolset, blocking, internal};
use crate::engine::mounts::Lookup;

/// Size of the chunks a ranged read of a large file goes through.
const CHUNK_BYTES: usize = 64 * 1024;

/// Input of `read`.
#[derive(Debug, Deserialize)]
pub(super) struct ReadInput {
    file_path: Option<String>,
    view_range: Option<Vec<i64>>,
}

pub(super) async fn run(toolset: &Toolset, input: ReadInput) -> ToolResult {
    let file_path = input.file_path.filter(|p| !p.is_empty());
    let Some(file_path) = file_path else {
        return Err(ToolError::new("read: file_path is required"));
    };
    let target = toolset.resolve(&file_path)?;
    let range = match input.view_range.as_deref() {
        None | Some([]) => None,
        Some(&[start, end]) => Some((start, end)),
        Some(_) => {
            return Err(ToolError::new(
                "read: view_range must be [start_line, end_line]",
            ));
        }
    };
    match target {
        Target::Disk(real) => {
            let cap = toolset.max_file_bytes();
            blocking("read", move || read_disk(&real, &file_path, range, cap)).await
        }
        Target::Memory { mount, path } => {
            let lookup = toolset
                .memory()
                .lookup(&mount.store_id, path.as_deref())
                .await
                .map_err(|e| internal("read", &e))?;
            match lookup {
                Lookup::File(memory) => {
                    let content = memory.content.value().cloned().unwrap_or_default();
                    toolset.memory().ledger().record(
                        &mount.store_id,
                        &memory.path,
                        &memory.content_sha256,
                    );
                    Ok(select(&content, range))
                }
                Lookup::Directory => Err(ToolError::new(format!(
                    "read: {file_path} is not a regular file"
                ))),
                Lookup::Missing => Err(ToolError::new(format!(
                    "read: {file_path}: no such file or directory"
                ))),
            }
        }
    }
}

/// Lines `[start, end]` of `text` (1-based, inclusive; `end <= 0` to the end), joined with
/// `\n`, as the SDK selects them; the whole text without a range.
pub(super) fn select(text: &str, range: Option<(i64, i64)>) -> String {
    let Some((start, end)) = range else {
        return text.to_owned();
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let first = usize::try_from(start.saturating_sub(1).max(0)).unwrap_or(usize::MAX);
    let last = if end > 0 {
        usize::try_from(end).unwrap_or(usize::MAX).min(lines.len())
    } else {
        lines.len()
    };
    if first >= last {
        return String::new();
    }
    lines[first..last].join("\n")
}

/// Reads a file of the workspace.
fn read_disk(real: &Path, shown: &str, range: Option<(i64, i64)>, cap: Option<u64>) -> ToolResult {
    let io = |e: std::io::Error| {
        ToolError::new(format!("read: {}", super::fs::io_error_message(&e, shown)))
    };
    let meta = std::fs::metadata(real).map_err(io)?;
    if !meta.is_file() {
        return Err(ToolError::new(format!(
            "read: {shown} is not a regular file"
        )));
    }
    if let Some(limit) = cap.filter(|limit| meta.len() > *limit) {
        let Some((start, end)) = range else {
            return Err(ToolError::new(format!(
                "read: {shown} is {} bytes, exceeds {limit}-byte limit. Use the view_range \
                 parameter to read specific line ranges, e.g. view_range: [1, 500].",
                meta.len()
            )));
        };
        return read_range_streaming(real, shown, start, end, limit).map_err(|e| match e {
            Streamed::Io(e) => io(e),
            Streamed::Tool(e) => e,
        });
    }
    let bytes = std::fs::read(real).map_err(io)?;
    Ok(select(&String::from_utf8_lossy(&bytes), range))
}

/// A failure of a chunked read.
enum Streamed {
    Io(std::io::Error),
    Tool(ToolError),
}

/// Lines `[start, end]` of a large file, read in chunks so that no more than the cap (plus one
/// chunk) is ever held; the selected bytes must fit the cap.
fn read_range_streaming(
    real: &Path,
    shown: &str,
    start: i64,
    end: i64,
    limit: u64,
) -> Result<String, Streamed> {
    let first = u64::try_from(start.saturating_sub(1).max(0)).unwrap_or(u64::MAX);
    let stop = if end > 0 {
        u64::try_from(end).unwrap_or(u64::MAX)
    } else {
        u64::MAX
    };
    if stop <= first {
        return Ok(String::new());
    }
    let over = || {
        let text = if stop - first == 1 {
            format!(
                "read: line {} of {shown} alone exceeds {limit}-byte limit. The read tool \
                 cannot return part of a line, so view_range cannot narrow this further.",
                first + 1
            )
        } else {
            format!(
                "read: view_range [{start}, {end}] of {shown} exceeds {limit}-byte limit. \
                 Narrow the view_range to read a smaller portion."
            )
        };
        Streamed::Tool(ToolError::new(text))
    };
    let mut file = File::open(real).map_err(Streamed::Io)?;
    let mut chunk = vec![0u8; CHUNK_BYTES];
    let mut line: u64 = 0;
    let mut collected: Vec<u8> = Vec::new();
    'chunks: loop {
        let n = file.read(&mut chunk).map_err(Streamed::Io)?;
        if n == 0 {
            break;
        }
        let mut rest = &chunk[..n];
        while !rest.is_empty() {
            if line >= stop {
                break 'chunks;
            }
            let newline = rest.iter().position(|b| *b == b'\n');
            let (piece, terminated) = match newline {
                Some(at) => (&rest[..at], true),
                None => (rest, false),
            };
            if line >= first {
                collected.extend_from_slice(piece);
                if terminated && line + 1 < stop {
                    collected.push(b'\n');
                }
                if collected.len() as u64 > limit {
                    return Err(over());
                }
            }
            match newline {
                Some(at) => {
                    line += 1;
                    rest = &rest[at + 1..];
                }
                None => break,
            }
        }
    }
    Ok(String::from_utf8_lossy(&collected).into_owned())
}
