//! SQL for memory stores, memories and memory versions (the tables of
//! [`MIGRATION_MEMORY`](super::MIGRATION_MEMORY)).
//!
//! Statements run through `prepare_cached`, so the hot paths (a memory write, a single read)
//! parse their SQL once per connection.

use rusqlite::{Connection, Row, params};
use steward_core::memory::{
    Actor, Memory, MemoryOperation, MemoryStore, MemoryType, MemoryVersion, MemoryVersionType,
};
use steward_core::{MemoryId, MemoryStoreId, MemoryVersionId, Nullable, Timestamp};

use crate::db::{from_json, optional, to_json};
use crate::error::{Error, Result};

/// The 404 for a store.
pub(super) fn store_not_found(id: &MemoryStoreId) -> Error {
    Error::object_not_found("memory store", id)
}

/// Reads a stored memory store, if it exists. For other resources that reference stores
/// (session resources snapshot `name` and `description` when a store is attached).
pub fn load_store(conn: &Connection, id: &MemoryStoreId) -> Result<Option<MemoryStore>> {
    let text = optional(
        conn.prepare_cached("SELECT body FROM memory_stores WHERE id = ?1")?
            .query_row([id.as_str()], |row| row.get::<_, String>(0)),
    )?;
    text.as_deref().map(from_json).transpose()
}

/// Reads a stored memory store or fails with the API's 404.
pub fn require_store(conn: &Connection, id: &MemoryStoreId) -> Result<MemoryStore> {
    load_store(conn, id)?.ok_or_else(|| store_not_found(id))
}

/// Inserts or replaces a store's row (its `memory_count` is left alone on replace).
pub(super) fn save_store(conn: &Connection, store: &MemoryStore) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO memory_stores (id, created_at, archived_at, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET archived_at = excluded.archived_at, body = excluded.body",
    )?
    .execute(params![
        store.id.as_str(),
        store.created_at.as_str(),
        store.archived_at.as_ref().map(Timestamp::as_str),
        to_json(store)?,
    ])?;
    Ok(())
}

/// Deletes a store with its memories and versions. Returns whether it existed.
pub(super) fn delete_store(conn: &Connection, id: &MemoryStoreId) -> Result<bool> {
    conn.execute("DELETE FROM memories WHERE store_id = ?1", [id.as_str()])?;
    conn.execute(
        "DELETE FROM memory_versions WHERE store_id = ?1",
        [id.as_str()],
    )?;
    let removed = conn.execute("DELETE FROM memory_stores WHERE id = ?1", [id.as_str()])?;
    Ok(removed > 0)
}

/// What a write needs to know about the store it writes to.
#[derive(Debug, Clone)]
pub(super) struct StoreState {
    pub(super) archived: bool,
    pub(super) memory_count: i64,
}

/// The store's archive state and memory count, if the store exists.
pub(super) fn store_state(conn: &Connection, id: &MemoryStoreId) -> Result<Option<StoreState>> {
    optional(
        conn.prepare_cached(
            "SELECT archived_at IS NOT NULL, memory_count FROM memory_stores WHERE id = ?1",
        )?
        .query_row([id.as_str()], |row| {
            Ok(StoreState {
                archived: row.get(0)?,
                memory_count: row.get(1)?,
            })
        }),
    )
}

/// Adds `delta` to a store's memory count.
pub(super) fn add_to_count(conn: &Connection, id: &MemoryStoreId, delta: i64) -> Result<()> {
    conn.prepare_cached("UPDATE memory_stores SET memory_count = memory_count + ?2 WHERE id = ?1")?
        .execute(params![id.as_str(), delta])?;
    Ok(())
}

/// A live memory's row, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MemoryRow {
    pub(super) id: MemoryId,
    pub(super) store_id: MemoryStoreId,
    pub(super) path: String,
    pub(super) content_sha256: String,
    pub(super) content_size_bytes: u64,
    pub(super) version_id: MemoryVersionId,
    pub(super) created_at: Timestamp,
    pub(super) updated_at: Timestamp,
}

/// The columns [`MemoryRow::from_row`] reads, in order, from `memories m`.
pub(super) const MEMORY_COLUMNS: &str = "m.id, m.store_id, m.path, m.content_sha256, \
    m.content_size_bytes, m.version_id, m.created_at, m.updated_at";

impl MemoryRow {
    /// Reads [`MEMORY_COLUMNS`] at indexes 0 to 7.
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: MemoryId::new(row.get::<_, String>(0)?),
            store_id: MemoryStoreId::new(row.get::<_, String>(1)?),
            path: row.get(2)?,
            content_sha256: row.get(3)?,
            content_size_bytes: row.get(4)?,
            version_id: MemoryVersionId::new(row.get::<_, String>(5)?),
            created_at: Timestamp::new(row.get::<_, String>(6)?),
            updated_at: Timestamp::new(row.get::<_, String>(7)?),
        })
    }

    /// The wire object, with `content` when given (`null` otherwise, as under `view=basic`).
    pub(super) fn into_memory(self, content: Option<String>) -> Memory {
        Memory {
            id: self.id,
            kind: MemoryType::Memory,
            memory_store_id: self.store_id,
            path: self.path,
            content: content.into(),
            content_sha256: self.content_sha256,
            content_size_bytes: self.content_size_bytes,
            memory_version_id: self.version_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A live memory by ID within a store.
pub(super) fn load_memory(
    conn: &Connection,
    store_id: &MemoryStoreId,
    id: &MemoryId,
) -> Result<Option<MemoryRow>> {
    let sql =
        format!("SELECT {MEMORY_COLUMNS} FROM memories m WHERE m.id = ?1 AND m.store_id = ?2");
    optional(
        conn.prepare_cached(&sql)?
            .query_row([id.as_str(), store_id.as_str()], MemoryRow::from_row),
    )
}

/// A live memory by path within a store.
pub(super) fn load_memory_by_path(
    conn: &Connection,
    store_id: &MemoryStoreId,
    path: &str,
) -> Result<Option<MemoryRow>> {
    let sql =
        format!("SELECT {MEMORY_COLUMNS} FROM memories m WHERE m.store_id = ?1 AND m.path = ?2");
    optional(
        conn.prepare_cached(&sql)?
            .query_row([store_id.as_str(), path], MemoryRow::from_row),
    )
}

/// A live memory by ID with its content (from the version that holds it).
pub(super) fn load_memory_with_content(
    conn: &Connection,
    store_id: &MemoryStoreId,
    id: &MemoryId,
) -> Result<Option<Memory>> {
    let sql = format!(
        "SELECT {MEMORY_COLUMNS}, v.content FROM memories m
         LEFT JOIN memory_versions v ON v.id = m.version_id
         WHERE m.id = ?1 AND m.store_id = ?2"
    );
    let row = optional(
        conn.prepare_cached(&sql)?
            .query_row([id.as_str(), store_id.as_str()], |row| {
                Ok((MemoryRow::from_row(row)?, row.get::<_, Option<String>>(8)?))
            }),
    )?;
    Ok(row.map(|(row, content)| row.into_memory(Some(content.unwrap_or_default()))))
}

/// The content held by a version (`None` for a `deleted` or redacted version, or none at all).
pub(super) fn version_content(conn: &Connection, id: &MemoryVersionId) -> Result<Option<String>> {
    let content = optional(
        conn.prepare_cached("SELECT content FROM memory_versions WHERE id = ?1")?
            .query_row([id.as_str()], |row| row.get::<_, Option<String>>(0)),
    )?;
    Ok(content.flatten())
}

/// Inserts a live memory's row or replaces it (same ID).
pub(super) fn save_memory(conn: &Connection, row: &MemoryRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO memories (id, store_id, path, content_sha256, content_size_bytes, version_id,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET path = excluded.path,
             content_sha256 = excluded.content_sha256,
             content_size_bytes = excluded.content_size_bytes,
             version_id = excluded.version_id, updated_at = excluded.updated_at",
    )?
    .execute(params![
        row.id.as_str(),
        row.store_id.as_str(),
        row.path,
        row.content_sha256,
        row.content_size_bytes,
        row.version_id.as_str(),
        row.created_at.as_str(),
        row.updated_at.as_str(),
    ])?;
    Ok(())
}

/// Removes a live memory's row (its versions stay).
pub(super) fn remove_memory(conn: &Connection, id: &MemoryId) -> Result<()> {
    conn.prepare_cached("DELETE FROM memories WHERE id = ?1")?
        .execute([id.as_str()])?;
    Ok(())
}

/// A memory whose path equals `path` or is an ancestor or descendant of it (by whole
/// segments), other than `except`. Every check is an index lookup or range scan on
/// `(store_id, path)`.
pub(super) fn find_conflict(
    conn: &Connection,
    store_id: &MemoryStoreId,
    path: &str,
    except: Option<&MemoryId>,
) -> Result<Option<(MemoryId, String)>> {
    let skip = except.map_or("", MemoryId::as_str);
    // The path itself and every proper ancestor: `/a/b/c` checks `/a/b/c`, `/a/b`, `/a`.
    let mut candidate = path;
    loop {
        let found = optional(
            conn.prepare_cached(
                "SELECT id, path FROM memories WHERE store_id = ?1 AND path = ?2 AND id <> ?3",
            )?
            .query_row(params![store_id.as_str(), candidate, skip], |row| {
                Ok((
                    MemoryId::new(row.get::<_, String>(0)?),
                    row.get::<_, String>(1)?,
                ))
            }),
        )?;
        if found.is_some() {
            return Ok(found);
        }
        match candidate.rfind('/') {
            Some(cut) if cut > 0 => candidate = &candidate[..cut],
            _ => break,
        }
    }
    // Descendants: every path starting with `path/`, which sorts in `[path/, path0)`.
    let (low, high) = (format!("{path}/"), format!("{path}0"));
    optional(
        conn.prepare_cached(
            "SELECT id, path FROM memories
             WHERE store_id = ?1 AND path >= ?2 AND path < ?3 AND id <> ?4
             ORDER BY path LIMIT 1",
        )?
        .query_row(params![store_id.as_str(), low, high, skip], |row| {
            Ok((
                MemoryId::new(row.get::<_, String>(0)?),
                row.get::<_, String>(1)?,
            ))
        }),
    )
}

/// A version to insert.
#[derive(Debug)]
pub(super) struct NewVersion<'a> {
    pub(super) id: &'a MemoryVersionId,
    pub(super) store_id: &'a MemoryStoreId,
    pub(super) memory_id: &'a MemoryId,
    pub(super) operation: MemoryOperation,
    pub(super) path: &'a str,
    /// Content, hash and size; `None` for a `deleted` version.
    pub(super) content: Option<(&'a str, &'a str, u64)>,
    pub(super) created_at: &'a Timestamp,
    pub(super) created_by: &'a Actor,
}

/// The `actor_type` and `actor_id` columns of an actor (for the list filters).
fn actor_columns(actor: &Actor) -> (&str, Option<&str>) {
    let id = match actor {
        Actor::Session(a) => Some(a.session_id.as_str()),
        Actor::Api(a) => Some(a.api_key_id.as_str()),
        Actor::User(a) => Some(a.user_id.as_str()),
        Actor::ServiceAccount(a) => Some(a.service_account_id.as_str()),
        Actor::Unknown(_) => None,
    };
    (actor.type_name(), id)
}

/// Appends a version.
pub(super) fn insert_version(conn: &Connection, version: &NewVersion<'_>) -> Result<()> {
    let (actor_type, actor_id) = actor_columns(version.created_by);
    let (content, sha, size) = match version.content {
        Some((content, sha, size)) => (Some(content), Some(sha), Some(size)),
        None => (None, None, None),
    };
    conn.prepare_cached(
        "INSERT INTO memory_versions (id, store_id, memory_id, operation, path, content,
             content_sha256, content_size_bytes, created_at, actor_type, actor_id, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        version.id.as_str(),
        version.store_id.as_str(),
        version.memory_id.as_str(),
        version.operation.as_str(),
        version.path,
        content,
        sha,
        size,
        version.created_at.as_str(),
        actor_type,
        actor_id,
        to_json(version.created_by)?,
    ])?;
    Ok(())
}

/// The columns [`version_from_row`] reads, in order, from `memory_versions`; the content
/// column comes last and is replaced by `NULL` under `view=basic`.
pub(super) fn version_columns(full: bool) -> &'static str {
    if full {
        "id, store_id, memory_id, operation, path, content_sha256, content_size_bytes, created_at, \
         created_by, redacted_at, redacted_by, content"
    } else {
        "id, store_id, memory_id, operation, path, content_sha256, content_size_bytes, created_at, \
         created_by, redacted_at, redacted_by, NULL"
    }
}

/// Reads [`version_columns`] into the wire object.
pub(super) fn version_from_row(row: &Row<'_>) -> Result<MemoryVersion> {
    let actor = |index: usize| -> Result<Nullable<Actor>> {
        Ok(match row.get::<_, Option<String>>(index)? {
            Some(text) => Nullable::Value(from_json(&text)?),
            None => Nullable::Null,
        })
    };
    Ok(MemoryVersion {
        id: MemoryVersionId::new(row.get::<_, String>(0)?),
        kind: MemoryVersionType::MemoryVersion,
        memory_store_id: MemoryStoreId::new(row.get::<_, String>(1)?),
        memory_id: MemoryId::new(row.get::<_, String>(2)?),
        operation: MemoryOperation::from(row.get::<_, String>(3)?.as_str()),
        path: row.get::<_, Option<String>>(4)?.into(),
        content_sha256: row.get::<_, Option<String>>(5)?.into(),
        content_size_bytes: row.get::<_, Option<u64>>(6)?.into(),
        created_at: Timestamp::new(row.get::<_, String>(7)?),
        created_by: actor(8)?,
        redacted_at: row.get::<_, Option<String>>(9)?.map(Timestamp::new).into(),
        redacted_by: actor(10)?,
        content: row.get::<_, Option<String>>(11)?.into(),
    })
}

/// One version within a store.
pub(super) fn load_version(
    conn: &Connection,
    store_id: &MemoryStoreId,
    id: &MemoryVersionId,
    full: bool,
) -> Result<Option<MemoryVersion>> {
    let sql = format!(
        "SELECT {} FROM memory_versions WHERE id = ?1 AND store_id = ?2",
        version_columns(full)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id.as_str(), store_id.as_str()])?;
    match rows.next()? {
        Some(row) => version_from_row(row).map(Some),
        None => Ok(None),
    }
}

/// Clears a version's content, path, hash and size and records the redaction.
pub(super) fn redact_version(
    conn: &Connection,
    id: &MemoryVersionId,
    at: &Timestamp,
    by: &Actor,
) -> Result<()> {
    conn.execute(
        "UPDATE memory_versions SET path = NULL, content = NULL, content_sha256 = NULL,
             content_size_bytes = NULL, redacted_at = ?2, redacted_by = ?3
         WHERE id = ?1",
        params![id.as_str(), at.as_str(), to_json(by)?],
    )?;
    Ok(())
}

/// The live memory whose current content a version holds, if any.
pub(super) fn memory_holding_version(
    conn: &Connection,
    version_id: &MemoryVersionId,
) -> Result<Option<MemoryId>> {
    // `version_id` has no index of its own: the version's memory narrows it to one row.
    optional(conn.query_row(
        "SELECT m.id FROM memory_versions v JOIN memories m ON m.id = v.memory_id
         WHERE v.id = ?1 AND m.version_id = v.id",
        [version_id.as_str()],
        |row| row.get::<_, String>(0),
    ))
    .map(|id| id.map(MemoryId::new))
}
