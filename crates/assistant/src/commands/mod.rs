//! One module per command group, and the output helpers they share.

pub mod chat;
pub mod memory;
pub mod platform;
pub mod setup;
pub mod shared;
pub mod transfer;
pub mod usage;
pub mod user;
pub mod vault;

use std::io::Read as _;

use serde::Serialize;
use steward_core::memory::{MEMORY_CONTENT_MAX_BYTES, Memory, MemoryStore};

use crate::app::App;
use crate::error::UserError;
use crate::memories::Put;
use crate::output::table;

/// Reads a memory's content from a file, or stdin for `-`: UTF-8 text of at most 100 kB.
pub fn read_source(source: &str) -> Result<String, UserError> {
    let bytes = if source == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| UserError::failure(format!("cannot read stdin: {e}")))?;
        bytes
    } else {
        std::fs::read(source)
            .map_err(|e| UserError::usage(format!("cannot read `{source}`: {e}")))?
    };
    if bytes.len() > MEMORY_CONTENT_MAX_BYTES {
        return Err(UserError::usage(format!(
            "`{source}` has {} bytes; a memory holds at most {MEMORY_CONTENT_MAX_BYTES}",
            bytes.len()
        ))
        .hint("split it into several memories"));
    }
    String::from_utf8(bytes).map_err(|_| UserError::usage(format!("`{source}` is not UTF-8 text")))
}

/// A memory as `ls` shows it.
#[derive(Debug, Serialize)]
pub struct MemoryView {
    /// Its path.
    pub path: String,
    /// Its ID.
    pub id: String,
    /// The content's size in bytes.
    pub size_bytes: u64,
    /// The content's SHA-256.
    pub content_sha256: String,
    /// The version holding the current content.
    pub version_id: String,
    /// When it last changed.
    pub updated_at: String,
}

impl From<&Memory> for MemoryView {
    fn from(m: &Memory) -> Self {
        Self {
            path: m.path.clone(),
            id: m.id.to_string(),
            size_bytes: m.content_size_bytes,
            content_sha256: m.content_sha256.clone(),
            version_id: m.memory_version_id.to_string(),
            updated_at: m.updated_at.to_string(),
        }
    }
}

/// Prints memories as a table, or JSON.
pub fn print_memories(app: &App, memories: &[Memory]) -> anyhow::Result<()> {
    let views: Vec<MemoryView> = memories.iter().map(MemoryView::from).collect();
    if app.printer.json {
        app.printer.json(&views)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|m| {
            vec![
                m.path.clone(),
                m.size_bytes.to_string(),
                crate::output::short_time(&m.updated_at),
                m.version_id.clone(),
            ]
        })
        .collect();
    app.printer
        .data(&table(&["PATH", "BYTES", "UPDATED", "VERSION"], &rows))?;
    Ok(())
}

#[derive(Debug, Serialize)]
struct PutView<'a> {
    status: &'static str,
    store: &'a str,
    #[serde(flatten)]
    memory: MemoryView,
}

/// Prints what a put did.
pub fn print_put(
    app: &App,
    store: &MemoryStore,
    outcome: Put,
    memory: &Memory,
) -> anyhow::Result<()> {
    if app.printer.json {
        app.printer.json(&PutView {
            status: outcome.as_str(),
            store: &store.name,
            memory: MemoryView::from(memory),
        })?;
        return Ok(());
    }
    match outcome {
        Put::Unchanged => app.printer.line(format!(
            "{} is unchanged (version {})",
            memory.path, memory.memory_version_id
        ))?,
        _ => app.printer.line(format!(
            "{} {} (version {})",
            outcome.as_str(),
            memory.path,
            memory.memory_version_id
        ))?,
    }
    Ok(())
}
