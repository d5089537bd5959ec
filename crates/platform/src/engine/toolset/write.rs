//! `write`: replaces a whole file (creating parent directories). In the workspace the write is
//! atomic; in a mounted store it is one memory version (see [`crate::engine::mounts`]).

use serde::Deserialize;

use super::{Target, ToolError, ToolResult, Toolset, blocking};
use crate::engine::mounts::WriteError;

/// Input of `write`.
#[derive(Debug, Deserialize)]
pub(super) struct WriteInput {
    file_path: Option<String>,
    content: Option<String>,
}

pub(super) async fn run(toolset: &Toolset, input: WriteInput) -> ToolResult {
    let Some(file_path) = input.file_path.filter(|p| !p.is_empty()) else {
        return Err(ToolError::new("write: file_path is required"));
    };
    let content = input.content.unwrap_or_default();
    let done = format!("wrote {} bytes to {file_path}", content.len());
    match toolset.resolve(&file_path)? {
        Target::Disk(real) => {
            blocking("write", move || {
                let io = |e: std::io::Error| {
                    ToolError::new(format!(
                        "write: {}",
                        super::fs::io_error_message(&e, &file_path)
                    ))
                };
                if let Some(parent) = real.parent() {
                    super::fs::create_dir_all(parent).map_err(io)?;
                }
                super::fs::atomic_write(&real, content.as_bytes()).map_err(io)
            })
            .await?;
            Ok(done)
        }
        Target::Memory { mount, path } => {
            if mount.read_only {
                return Err(ToolError::new(format!(
                    "write: {file_path} is inside read-only directory {}",
                    mount.path
                )));
            }
            let Some(path) = path else {
                return Err(ToolError::new(format!(
                    "write: {file_path}: is a directory"
                )));
            };
            let memory = toolset.memory();
            let expected = memory.ledger().get(&mount.store_id, &path);
            match memory
                .write(&mount.store_id, &path, content, expected)
                .await
            {
                Ok(_) => Ok(done),
                Err(WriteError::Changed) => Err(ToolError::new(format!(
                    "write: {file_path} was changed by someone else since this session last \
                     read it; read it again, then write"
                ))),
                Err(WriteError::Refused(why)) => {
                    Err(ToolError::new(format!("write: {file_path}: {why}")))
                }
                Err(WriteError::Internal(e)) => Err(super::internal("write", &e)),
            }
        }
    }
}
