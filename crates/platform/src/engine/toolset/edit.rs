//! `edit`: replaces a literal `old_string` with `new_string` (once, where it must be unique,
//! or everywhere with `replace_all`). In a mounted store the edit is written with the hash of
//! what it read as precondition; on a conflict it is applied once more to a fresh read.

use serde::Deserialize;

use super::{Target, ToolError, ToolResult, Toolset, blocking, internal};
use crate::engine::mounts::{Lookup, WriteError};

/// Input of `edit`.
#[derive(Debug, Deserialize)]
pub(super) struct EditInput {
    file_path: Option<String>,
    old_string: Option<String>,
    new_string: Option<String>,
    #[serde(default)]
    replace_all: Option<bool>,
}

/// A validated edit.
#[derive(Debug, Clone)]
struct Edit {
    old: String,
    new: String,
    all: bool,
}

impl Edit {
    /// Applies the edit to `text`: the new text and the number of replacements, or the error
    /// about `shown`.
    fn apply(&self, text: &str, shown: &str) -> Result<(String, usize), ToolError> {
        let count = text.matches(self.old.as_str()).count();
        if count == 0 {
            return Err(ToolError::new(format!(
                "edit: old_string not found in {shown}"
            )));
        }
        if self.all {
            return Ok((text.replace(self.old.as_str(), &self.new), count));
        }
        if count > 1 {
            return Err(ToolError::new(format!(
                "edit: old_string appears {count} times in {shown} (must be unique)"
            )));
        }
        Ok((text.replacen(self.old.as_str(), &self.new, 1), 1))
    }
}

pub(super) async fn run(toolset: &Toolset, input: EditInput) -> ToolResult {
    let Some(file_path) = input.file_path.filter(|p| !p.is_empty()) else {
        return Err(ToolError::new("edit: file_path is required"));
    };
    let Some(old) = input.old_string.filter(|s| !s.is_empty()) else {
        return Err(ToolError::new("edit: old_string is required"));
    };
    let edit = Edit {
        old,
        new: input.new_string.unwrap_or_default(),
        all: input.replace_all.unwrap_or(false),
    };
    let target = toolset.resolve(&file_path)?;
    if let Target::Memory { mount, .. } = &target {
        if mount.read_only {
            return Err(ToolError::new(format!(
                "edit: {file_path} is inside read-only directory {}",
                mount.path
            )));
        }
    }
    let replacements = match target {
        Target::Disk(real) => {
            let cap = toolset.max_file_bytes();
            let shown = file_path.clone();
            blocking("edit", move || {
                let io = |e: std::io::Error| {
                    ToolError::new(format!("edit: {}", super::fs::io_error_message(&e, &shown)))
                };
                let meta = std::fs::metadata(&real).map_err(io)?;
                if !meta.is_file() {
                    return Err(ToolError::new(format!(
                        "edit: {shown} is not a regular file"
                    )));
                }
                if let Some(limit) = cap.filter(|limit| meta.len() > *limit) {
                    return Err(ToolError::new(format!(
                        "edit: {shown} is {} bytes, exceeds {limit}-byte limit. The edit tool \
                         loads the whole file and cannot modify a file this large.",
                        meta.len()
                    )));
                }
                let text = String::from_utf8_lossy(&std::fs::read(&real).map_err(io)?).into_owned();
                let (updated, count) = edit.apply(&text, &shown)?;
                super::fs::atomic_write(&real, updated.as_bytes()).map_err(|e| {
                    ToolError::new(format!(
                        "edit: write: {}",
                        super::fs::io_error_message(&e, &shown)
                    ))
                })?;
                Ok(count)
            })
            .await?
        }
        Target::Memory { mount, path } => {
            let Some(path) = path else {
                return Err(ToolError::new(format!(
                    "edit: {file_path} is not a regular file"
                )));
            };
            let memory = toolset.memory();
            let mut attempt = 0;
            loop {
                attempt += 1;
                let lookup = memory
                    .lookup(&mount.store_id, Some(&path))
                    .await
                    .map_err(|e| internal("edit", &e))?;
                let current = match lookup {
                    Lookup::File(current) => current,
                    Lookup::Directory => {
                        return Err(ToolError::new(format!(
                            "edit: {file_path} is not a regular file"
                        )));
                    }
                    Lookup::Missing => {
                        return Err(ToolError::new(format!(
                            "edit: {file_path}: no such file or directory"
                        )));
                    }
                };
                let text = current.content.value().cloned().unwrap_or_default();
                let (updated, count) = edit.apply(&text, &file_path)?;
                let written = memory
                    .write(
                        &mount.store_id,
                        &path,
                        updated,
                        Some(current.content_sha256.clone()),
                    )
                    .await;
                match written {
                    Ok(_) => break count,
                    Err(WriteError::Changed) if attempt < 2 => continue,
                    Err(WriteError::Changed) => {
                        return Err(ToolError::new(format!(
                            "edit: {file_path} kept changing while it was being edited (another \
                             session is writing it); read it and try again"
                        )));
                    }
                    Err(WriteError::Refused(why)) => {
                        return Err(ToolError::new(format!("edit: write: {file_path}: {why}")));
                    }
                    Err(WriteError::Internal(e)) => return Err(internal("edit", &e)),
                }
            }
        }
    };
    Ok(format!(
        "edited {file_path} ({replacements} replacement(s))"
    ))
}
