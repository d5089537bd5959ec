//! `steward memory ls|cat|put|rm|history|restore|redact` on a user's store (export and import
//! are in [`super::transfer`]).

use std::collections::BTreeSet;

use anyhow::Context as _;
use futures::TryStreamExt as _;
use serde::Serialize;
use steward_core::memory::{
    Actor, MemoryCreate, MemoryDeleteParams, MemoryOperation, MemoryUpdate, MemoryVersion,
    MemoryVersionListParams, MemoryView, Precondition, validate_memory_path_prefix,
};
use steward_core::{MemoryStoreId, MemoryVersionId, Nullable};
use steward_runtime::Client;

use super::{print_memories, print_put, read_source};
use crate::app::{App, is_not_found};
use crate::error::UserError;
use crate::memories::{self, memory_path, sha256_hex};
use crate::output::table;

/// `steward memory ls --user U [prefix]`.
pub async fn ls(app: &mut App, user: &str, prefix: Option<&str>) -> anyhow::Result<()> {
    let prefix = prefix.map(list_prefix).transpose()?;
    let store = app.user_store(user).await?;
    let memories = memories::list(app.client(), &store.id, prefix.as_deref()).await?;
    if memories.is_empty() && !app.printer.json {
        app.printer.note(format!("`{user}` has no memories yet"));
        return Ok(());
    }
    print_memories(app, &memories)
}

/// A list prefix from what a person typed: leading and trailing `/` added as needed.
fn list_prefix(input: &str) -> Result<String, UserError> {
    let mut prefix = if input.starts_with('/') {
        input.to_owned()
    } else {
        format!("/{input}")
    };
    if !prefix.ends_with('/') {
        prefix.push('/');
    }
    validate_memory_path_prefix(&prefix)
        .map_err(|e| UserError::usage(format!("invalid path prefix `{input}`: {e}")))?;
    Ok(prefix)
}

/// `steward memory cat --user U <path>`.
pub async fn cat(app: &mut App, user: &str, path: &str) -> anyhow::Result<()> {
    let path = memory_path(path)?;
    let store = app.user_store(user).await?;
    let memory = memories::read(app.client(), &store.id, &path).await?;
    app.printer
        .data(memory.content.value().map_or("", String::as_str))?;
    Ok(())
}

/// `steward memory put --user U <path> <file|->`.
pub async fn put(app: &mut App, user: &str, path: &str, source: &str) -> anyhow::Result<()> {
    let path = memory_path(path)?;
    let content = read_source(source)?;
    let store = app.user_store(user).await?;
    let (outcome, memory) = memories::put(app.client(), &store.id, &path, &content).await?;
    print_put(app, &store, outcome, &memory)
}

#[derive(Debug, Serialize)]
struct Removed {
    path: String,
    memory_id: String,
}

/// `steward memory rm --user U <path>`: deletes the memory if it still holds what was looked
/// up.
pub async fn rm(app: &mut App, user: &str, path: &str) -> anyhow::Result<()> {
    let path = memory_path(path)?;
    let store = app.user_store(user).await?;
    let Some(memory) = memories::find(app.client(), &store.id, &path).await? else {
        return Err(UserError::failure(format!("no memory at `{path}`"))
            .hint(format!(
                "list the memories with `steward memory ls --user {user}`"
            ))
            .into());
    };
    let params = MemoryDeleteParams {
        expected_content_sha256: Some(memory.content_sha256.clone()),
    };
    app.client()
        .memory_stores()
        .memories()
        .delete_with(&store.id, &memory.id, &params)
        .await
        .with_context(|| format!("failed to delete memory `{path}`"))?;
    if app.printer.json {
        app.printer.json(&Removed {
            path,
            memory_id: memory.id.to_string(),
        })?;
        return Ok(());
    }
    app.printer.line(format!("deleted {path}"))?;
    app.printer.note(format!(
        "its versions stay in the history: `steward memory history --user {user} {path}`"
    ));
    Ok(())
}

/// A version as `history` shows it.
#[derive(Debug, Serialize)]
pub struct VersionView {
    /// The version's ID.
    pub id: String,
    /// The memory's ID.
    pub memory_id: String,
    /// `created`, `modified` or `deleted`.
    pub operation: String,
    /// Who made the change (`api:apikey_…`, `session:sesn_…`, …).
    pub actor: Option<String>,
    /// When.
    pub created_at: String,
    /// The path at this version (`null` when redacted).
    pub path: Option<String>,
    /// The content's hash (`null` when redacted or deleted).
    pub content_sha256: Option<String>,
    /// The content's size (`null` when redacted or deleted).
    pub size_bytes: Option<u64>,
    /// When it was redacted.
    pub redacted_at: Option<String>,
    /// Who redacted it.
    pub redacted_by: Option<String>,
}

impl From<&MemoryVersion> for VersionView {
    fn from(v: &MemoryVersion) -> Self {
        Self {
            id: v.id.to_string(),
            memory_id: v.memory_id.to_string(),
            operation: v.operation.as_str().to_owned(),
            actor: v.created_by.value().map(actor),
            created_at: v.created_at.to_string(),
            path: v.path.value().cloned(),
            content_sha256: v.content_sha256.value().cloned(),
            size_bytes: v.content_size_bytes.value().copied(),
            redacted_at: v.redacted_at.value().map(ToString::to_string),
            redacted_by: v.redacted_by.value().map(actor),
        }
    }
}

/// Who an actor is, as `kind:id`.
pub fn actor(actor: &Actor) -> String {
    match actor {
        Actor::Session(a) => format!("session:{}", a.session_id),
        Actor::Api(a) => format!("api:{}", a.api_key_id),
        Actor::User(a) => format!("user:{}", a.user_id),
        Actor::ServiceAccount(a) => format!("service_account:{}", a.service_account_id),
        Actor::Unknown(raw) => raw
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("unknown")
            .to_owned(),
    }
}

async fn versions(client: &Client, store: &MemoryStoreId) -> anyhow::Result<Vec<MemoryVersion>> {
    let params = MemoryVersionListParams {
        view: Some(MemoryView::Basic),
        ..MemoryVersionListParams::default()
    };
    client
        .memory_stores()
        .memory_versions()
        .list(store, &params)
        .try_collect()
        .await
        .context("failed to list memory versions")
}

/// `steward memory history --user U [path] [--diff FROM TO]`.
pub async fn history(
    app: &mut App,
    user: &str,
    path: Option<&str>,
    diff: Option<&[String]>,
) -> anyhow::Result<()> {
    let path = path.map(memory_path).transpose()?;
    if let Some([from, to]) = diff {
        let store = app.user_store(user).await?;
        return show_diff(app, &store.id, from, to).await;
    }
    let store = app.user_store(user).await?;
    let mut all = versions(app.client(), &store.id).await?;
    if let Some(path) = &path {
        // Every memory that ever had this path, with all its versions (renames and deletes
        // included).
        let ids: BTreeSet<_> = all
            .iter()
            .filter(|v| v.path.value() == Some(path))
            .map(|v| v.memory_id.clone())
            .collect();
        all.retain(|v| ids.contains(&v.memory_id));
    }
    let views: Vec<VersionView> = all.iter().map(VersionView::from).collect();
    if app.printer.json {
        app.printer.json(&views)?;
        return Ok(());
    }
    if views.is_empty() {
        match &path {
            Some(path) => app.printer.note(format!("no versions of `{path}`")),
            None => app
                .printer
                .note(format!("`{user}` has no memory versions yet")),
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|v| {
            let path = match (&v.path, &v.redacted_at) {
                (_, Some(_)) => "(redacted)".to_owned(),
                (Some(path), None) => path.clone(),
                (None, None) => "-".to_owned(),
            };
            vec![
                v.id.clone(),
                v.operation.clone(),
                v.actor.clone().unwrap_or_else(|| "-".to_owned()),
                crate::output::short_time(&v.created_at),
                path,
            ]
        })
        .collect();
    app.printer.data(&table(
        &["VERSION", "OPERATION", "ACTOR", "TIME", "PATH"],
        &rows,
    ))?;
    Ok(())
}

/// A version ID from what a person typed.
fn version_id(input: &str) -> Result<MemoryVersionId, UserError> {
    let id = MemoryVersionId::new(input.trim());
    if id.has_expected_prefix() && id.as_str().len() > MemoryVersionId::PREFIX.len() {
        Ok(id)
    } else {
        Err(UserError::usage(format!(
            "invalid version `{input}`: expected a `memver_…` ID"
        ))
        .hint("list versions with `steward memory history --user <user>`"))
    }
}

/// A version with its content; a version of another store is reported as not found.
async fn full_version(
    client: &Client,
    store: &MemoryStoreId,
    id: &MemoryVersionId,
) -> anyhow::Result<MemoryVersion> {
    match client
        .memory_stores()
        .memory_versions()
        .retrieve(store, id)
        .await
    {
        Ok(version) => Ok(version),
        Err(e) if is_not_found(&e) => Err(UserError::failure(format!(
            "no version `{id}` in this user's memory"
        ))
        .hint("list versions with `steward memory history --user <user>`")
        .into()),
        Err(e) => Err(anyhow::Error::new(e).context(format!("failed to read version `{id}`"))),
    }
}

/// The content of a version for a diff: deleted versions are empty; redacted ones refuse.
fn diff_content(version: &MemoryVersion) -> Result<&str, UserError> {
    if version.is_redacted() {
        return Err(UserError::failure(format!(
            "version `{}` is redacted: its content is gone",
            version.id
        )));
    }
    Ok(version.content.value().map_or("", String::as_str))
}

#[derive(Debug, Serialize)]
struct Diff {
    from: String,
    to: String,
    diff: String,
}

async fn show_diff(
    app: &mut App,
    store: &MemoryStoreId,
    from: &str,
    to: &str,
) -> anyhow::Result<()> {
    let (from, to) = (version_id(from)?, version_id(to)?);
    let old = full_version(app.client(), store, &from).await?;
    let new = full_version(app.client(), store, &to).await?;
    let label = |v: &MemoryVersion| match v.path.value() {
        Some(path) => format!("{} {path}", v.id),
        None => v.id.to_string(),
    };
    let (old_text, new_text) = (diff_content(&old)?, diff_content(&new)?);
    let diff = similar::TextDiff::from_lines(old_text, new_text)
        .unified_diff()
        .context_radius(3)
        .header(&label(&old), &label(&new))
        .to_string();
    if app.printer.json {
        app.printer.json(&Diff {
            from: from.to_string(),
            to: to.to_string(),
            diff,
        })?;
        return Ok(());
    }
    if diff.is_empty() {
        app.printer.note("no differences");
        return Ok(());
    }
    app.printer.data(&diff)?;
    Ok(())
}

#[derive(Debug, Serialize)]
struct Restored {
    path: String,
    memory_id: String,
    restored_version: String,
    new_version: Option<String>,
    status: &'static str,
}

/// `steward memory restore --user U <version>`: the version's content (and path) written back
/// as a new version. The update carries the current content's hash as precondition, so a write
/// that lands in between fails the restore instead of being overwritten in silence.
pub async fn restore(app: &mut App, user: &str, version: &str) -> anyhow::Result<()> {
    let id = version_id(version)?;
    let store = app.user_store(user).await?;
    let old = full_version(app.client(), &store.id, &id).await?;
    if old.is_redacted() {
        return Err(UserError::failure(format!(
            "version `{id}` is redacted: there is no content to restore"
        ))
        .into());
    }
    if old.operation == MemoryOperation::Deleted {
        return Err(UserError::failure(format!(
            "version `{id}` records a deletion: there is no content to restore"
        ))
        .hint("restore the version before it")
        .into());
    }
    let (Some(content), Some(path)) = (old.content.value(), old.path.value()) else {
        anyhow::bail!("version `{id}` came back without its content");
    };
    let memories_api = app.client().memory_stores().memories();
    let current = match memories_api.retrieve(&store.id, &old.memory_id).await {
        Ok(memory) => Some(memory),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(anyhow::Error::new(e).context("failed to read the current memory")),
    };
    let (status, memory) = match current {
        Some(current)
            if current.content_sha256 == sha256_hex(content.as_bytes())
                && current.path == *path =>
        {
            ("unchanged", current)
        }
        Some(current) => {
            let body = MemoryUpdate {
                content: Nullable::Value(content.clone()),
                path: if current.path == *path {
                    Nullable::Absent
                } else {
                    Nullable::Value(path.clone())
                },
                precondition: Some(Precondition::content_sha256(&current.content_sha256)),
            };
            let memory = memories_api
                .update(&store.id, &current.id, &body)
                .await
                .with_context(|| format!("failed to restore `{path}`"))?;
            ("restored", memory)
        }
        None => {
            // The memory was deleted since: bring it back at the version's path.
            let body = MemoryCreate {
                path: path.clone(),
                content: Some(content.clone()),
            };
            let memory = memories_api
                .create(&store.id, &body)
                .await
                .with_context(|| format!("failed to restore `{path}`"))?;
            ("recreated", memory)
        }
    };
    let new_version = (status != "unchanged").then(|| memory.memory_version_id.to_string());
    if app.printer.json {
        app.printer.json(&Restored {
            path: memory.path.clone(),
            memory_id: memory.id.to_string(),
            restored_version: id.to_string(),
            new_version,
            status,
        })?;
        return Ok(());
    }
    match new_version {
        Some(new) => app.printer.line(format!(
            "{status} {} to the content of {id} (new version {new})",
            memory.path
        ))?,
        None => app
            .printer
            .line(format!("{} already has the content of {id}", memory.path))?,
    }
    Ok(())
}

/// `steward memory redact --user U <version>`.
pub async fn redact(app: &mut App, user: &str, version: &str) -> anyhow::Result<()> {
    let id = version_id(version)?;
    let store = app.user_store(user).await?;
    // Check it is this store's version first, for a clear message.
    full_version(app.client(), &store.id, &id).await?;
    let redacted = app
        .client()
        .memory_stores()
        .memory_versions()
        .redact(&store.id, &id)
        .await
        .with_context(|| format!("failed to redact `{id}`"))?;
    let view = VersionView::from(&redacted);
    if app.printer.json {
        app.printer.json(&view)?;
        return Ok(());
    }
    app.printer.line(format!(
        "redacted {id}: content scrubbed, audit trail kept ({} by {} at {})",
        view.operation,
        view.actor.as_deref().unwrap_or("-"),
        view.created_at
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_versions_from_input() {
        assert_eq!(list_prefix("preferences").unwrap(), "/preferences/");
        assert_eq!(list_prefix("/a/b/").unwrap(), "/a/b/");
        assert!(list_prefix("/a/../").is_err());
        assert_eq!(version_id(" memver_1 ").unwrap().as_str(), "memver_1");
        let error = version_id("v1").unwrap_err();
        assert!(error.message.contains("expected a `memver_…` ID"));
        assert!(version_id("memver_").is_err());
    }
}
