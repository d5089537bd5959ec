//! Memory operations the commands share: finding a memory by path, writing one with a
//! precondition, hashing, and turning what a person types into a valid memory path.

use anyhow::Context as _;
use futures::TryStreamExt as _;
use sha2::{Digest, Sha256};
use steward_core::memory::{
    Memory, MemoryCreate, MemoryListItem, MemoryListParams, MemoryUpdate, MemoryView, Precondition,
    validate_memory_path,
};
use steward_core::{MemoryStoreId, Nullable};
use steward_runtime::Client;

use crate::error::UserError;

/// The lowercase hex SHA-256 of `bytes`, as the API computes `content_sha256`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A memory path from what a person typed: a missing leading `/` is added, then the API's
/// rules are checked (a usage error names the rule).
pub fn memory_path(input: &str) -> Result<String, UserError> {
    let path = if input.starts_with('/') {
        input.to_owned()
    } else {
        format!("/{input}")
    };
    validate_memory_path(&path)
        .map_err(|e| UserError::usage(format!("invalid memory path `{input}`: {e}")))?;
    Ok(path)
}

/// The list prefix of the directory holding `path` (`/a/b.md` → `/a/`, `/b.md` → `/`).
fn parent_prefix(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    }
}

/// Every memory of a store (basic view: no content), in path order.
pub async fn list(
    client: &Client,
    store: &MemoryStoreId,
    prefix: Option<&str>,
) -> anyhow::Result<Vec<Memory>> {
    let params = MemoryListParams {
        path_prefix: prefix.map(str::to_owned),
        view: Some(MemoryView::Basic),
        ..MemoryListParams::default()
    };
    list_with(client, store, &params).await
}

/// Every memory of a store with its content, in path order.
pub async fn list_full(client: &Client, store: &MemoryStoreId) -> anyhow::Result<Vec<Memory>> {
    let params = MemoryListParams {
        view: Some(MemoryView::Full),
        ..MemoryListParams::default()
    };
    list_with(client, store, &params).await
}

/// The memories of every page of a list (prefix entries left out).
async fn list_with(
    client: &Client,
    store: &MemoryStoreId,
    params: &MemoryListParams,
) -> anyhow::Result<Vec<Memory>> {
    let items: Vec<MemoryListItem> = client
        .memory_stores()
        .memories()
        .list(store, params)
        .try_collect()
        .await
        .context("failed to list memories")?;
    Ok(items
        .into_iter()
        .filter_map(|item| match item {
            MemoryListItem::Memory(memory) => Some(memory),
            _ => None,
        })
        .collect())
}

/// The memory at `path` (basic view), if any.
pub async fn find(
    client: &Client,
    store: &MemoryStoreId,
    path: &str,
) -> anyhow::Result<Option<Memory>> {
    let params = MemoryListParams {
        path_prefix: Some(parent_prefix(path).to_owned()),
        depth: Some(1),
        view: Some(MemoryView::Basic),
        ..MemoryListParams::default()
    };
    let items: Vec<MemoryListItem> = client
        .memory_stores()
        .memories()
        .list(store, &params)
        .try_collect()
        .await
        .with_context(|| format!("failed to look up memory `{path}`"))?;
    Ok(items.into_iter().find_map(|item| match item {
        MemoryListItem::Memory(memory) if memory.path == path => Some(memory),
        _ => None,
    }))
}

/// The memory at `path` with its content; a missing one is a failure naming the path.
pub async fn read(client: &Client, store: &MemoryStoreId, path: &str) -> anyhow::Result<Memory> {
    let Some(found) = find(client, store, path).await? else {
        return Err(UserError::failure(format!("no memory at `{path}`"))
            .hint("list the memories with `steward memory ls`")
            .into());
    };
    client
        .memory_stores()
        .memories()
        .retrieve(store, &found.id)
        .await
        .with_context(|| format!("failed to read memory `{path}`"))
}

/// What [`put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// A new memory.
    Created,
    /// The memory's content changed (a new version).
    Updated,
    /// The memory already had this content; nothing was written.
    Unchanged,
}

impl Put {
    /// A word for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
        }
    }
}

/// Writes `content` at `path`: creates the memory, or updates it with the content the lookup
/// saw as precondition (a concurrent write makes the update fail instead of being lost).
pub async fn put(
    client: &Client,
    store: &MemoryStoreId,
    path: &str,
    content: &str,
) -> anyhow::Result<(Put, Memory)> {
    let memories = client.memory_stores().memories();
    match find(client, store, path).await? {
        Some(existing) if existing.content_sha256 == sha256_hex(content.as_bytes()) => {
            Ok((Put::Unchanged, existing))
        }
        Some(existing) => {
            let body = MemoryUpdate {
                content: Nullable::Value(content.to_owned()),
                precondition: Some(Precondition::content_sha256(&existing.content_sha256)),
                ..MemoryUpdate::default()
            };
            let memory = memories
                .update(store, &existing.id, &body)
                .await
                .with_context(|| format!("failed to update memory `{path}`"))?;
            Ok((Put::Updated, memory))
        }
        None => {
            let body = MemoryCreate {
                path: path.to_owned(),
                content: Some(content.to_owned()),
            };
            let memory = memories
                .create(store, &body)
                .await
                .with_context(|| format!("failed to create memory `{path}`"))?;
            Ok((Put::Created, memory))
        }
    }
}

/// A file name for a preference: its words, lowercased, joined by `-` (at most 48 characters).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_ascii_lowercase();
        if !out.is_empty() {
            if out.len() + 1 + word.len() > 48 {
                break;
            }
            out.push('-');
        }
        out.push_str(&word[..word.len().min(48)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_get_a_leading_slash_and_are_checked() {
        assert_eq!(memory_path("notes.md").unwrap(), "/notes.md");
        assert_eq!(memory_path("/a/b.md").unwrap(), "/a/b.md");
        let error = memory_path("/a/../b").unwrap_err();
        assert!(
            error.message.starts_with("invalid memory path `/a/../b`"),
            "{error}"
        );
    }

    #[test]
    fn parent_prefixes() {
        assert_eq!(parent_prefix("/a/b.md"), "/a/");
        assert_eq!(parent_prefix("/b.md"), "/");
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Reports use metric units."),
            "reports-use-metric-units"
        );
        assert_eq!(slug("¡¿"), "");
        assert!(slug(&"word ".repeat(40)).len() <= 48);
    }

    #[test]
    fn hashes_are_lowercase_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
