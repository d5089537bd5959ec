//! The one write path for memories, shared by the HTTP handlers and the session engine.
//!
//! Each function runs inside the caller's transaction (a `&Connection` that is one), checks
//! every rule there (store exists and is not archived, path and content rules, the store cap,
//! path conflicts, preconditions) and writes the memory row together with its version. On
//! `Err` the caller rolls back, so nothing is half-written. The HTTP handlers record an
//! `api_actor`; the agent's file tools pass a `session_actor`.

use axum::http::StatusCode;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use steward_core::memory::{
    Actor, MEMORY_CONTENT_MAX_BYTES, Memory, MemoryOperation, validate_memory_path,
};
use steward_core::{ErrorType, MemoryId, MemoryStoreId, MemoryVersionId};

use super::store::{
    self, MEMORY_COLUMNS, MemoryRow, NewVersion, StoreState, find_conflict, insert_version,
    store_not_found,
};
use crate::error::{Error, Result};

/// Most memories one store may hold (the figure of the SDK's memory sync helper).
pub const MAX_MEMORIES_PER_STORE: i64 = 2000;

/// Base62 digits, in ASCII order (so that fixed-width base62 numbers sort as text).
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new ID shaped like [`crate::ids::new_id`]'s (the prefix and 24 base62 characters) whose
/// first 9 characters are the current time in microseconds, so IDs made later sort later.
/// Memories and versions are written at a high rate and indexed by ID: time-ordered IDs make
/// those index inserts appends instead of writes to random pages. The other 15 characters are
/// random, as unguessable as ever for IDs made in the same microsecond.
fn ordered_id<I: From<String>>(prefix: &str) -> I {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let mut time = [b'0'; 9];
    let mut rest = micros;
    for digit in time.iter_mut().rev() {
        *digit = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let time = String::from_utf8_lossy(&time);
    I::from(format!(
        "{prefix}{time}{}",
        crate::ids::random_base62(crate::ids::ID_RANDOM_LEN - 9)
    ))
}

/// Lowercase hex SHA-256 of the exact UTF-8 bytes.
pub(super) fn sha256_hex(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// A 400 naming the field when `path` breaks a path rule.
pub(super) fn check_path(field: &str, path: &str) -> Result<()> {
    validate_memory_path(path).map_err(|e| {
        Error::invalid_request(format!("`{field}`: {e}")).with_code("invalid_memory_path")
    })
}

/// A 400 naming the limit when `content` is too large.
pub(super) fn check_content(field: &str, content: &str) -> Result<()> {
    if content.len() > MEMORY_CONTENT_MAX_BYTES {
        return Err(Error::invalid_request(format!(
            "`{field}`: content is {} bytes; at most {MEMORY_CONTENT_MAX_BYTES} bytes (100 kB) are allowed",
            content.len()
        ))
        .with_code("memory_content_too_large"));
    }
    Ok(())
}

/// A 400 naming the field unless `value` is 64 hexadecimal characters.
pub(super) fn check_sha256(field: &str, value: &str) -> Result<()> {
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid_request(format!(
            "`{field}`: must be a SHA-256 digest of 64 hexadecimal characters"
        )));
    }
    Ok(())
}

/// 409 `memory_precondition_failed_error`.
fn precondition_failed(id: &MemoryId, expected: &str) -> Error {
    Error::new(
        StatusCode::CONFLICT,
        ErrorType::MemoryPreconditionFailed,
        format!(
            "memory `{id}` does not have content_sha256 `{expected}`: it changed since it was \
             read; retrieve it and retry"
        ),
    )
}

/// 409 `memory_path_conflict_error` with `conflicting_memory_id` and `conflicting_path`.
fn path_conflict(requested: &str, id: MemoryId, path: String) -> Error {
    let message = if path == requested {
        format!("memory `{id}` already has the path `{path}`")
    } else {
        format!(
            "the path `{requested}` overlaps the path `{path}` of memory `{id}`: one is inside the other"
        )
    };
    let mut error = Error::new(StatusCode::CONFLICT, ErrorType::MemoryPathConflict, message);
    error.body_mut().conflicting_memory_id = Some(id.into_inner());
    error.body_mut().conflicting_path = Some(path);
    error
}

fn memory_not_found(id: &MemoryId) -> Error {
    Error::object_not_found("memory", id)
}

/// The store's state, or the API's 404.
fn require_state(conn: &Connection, store_id: &MemoryStoreId) -> Result<StoreState> {
    store::store_state(conn, store_id)?.ok_or_else(|| store_not_found(store_id))
}

/// The 400 for writing to an archived store.
pub(super) fn store_archived(store_id: &MemoryStoreId, what: &str) -> Error {
    Error::invalid_request(format!(
        "memory store `{store_id}` is archived: {what} is not allowed"
    ))
    .with_code("memory_store_archived")
}

/// The store's state when memories may be created or changed in it.
fn writable_store(conn: &Connection, store_id: &MemoryStoreId, what: &str) -> Result<StoreState> {
    let state = require_state(conn, store_id)?;
    if state.archived {
        return Err(store_archived(store_id, what));
    }
    Ok(state)
}

/// Whether a precondition hash matches the stored one (hex compared case-insensitively).
fn sha_matches(expected: &str, stored: &str) -> bool {
    expected.eq_ignore_ascii_case(stored)
}

/// Creates a memory at `path` and writes its `created` version by `actor`. Returns it with its
/// content.
///
/// Fails with a 400 for a bad path or content over the limit, 404 for an unknown store, 400
/// `memory_store_archived`, 409 `memory_store_full`, or 409 `memory_path_conflict_error` when
/// `path` or an ancestor or descendant of it is taken.
pub fn create_memory(
    conn: &Connection,
    store_id: &MemoryStoreId,
    path: &str,
    content: &str,
    actor: &Actor,
) -> Result<Memory> {
    check_path("path", path)?;
    check_content("content", content)?;
    let state = writable_store(conn, store_id, "creating memories")?;
    if let Some((id, conflicting)) = find_conflict(conn, store_id, path, None)? {
        return Err(path_conflict(path, id, conflicting));
    }
    if state.memory_count >= MAX_MEMORIES_PER_STORE {
        return Err(Error::conflict(format!(
            "memory store `{store_id}` already holds {MAX_MEMORIES_PER_STORE} memories, the \
             most a store may hold; delete some first"
        ))
        .with_code("memory_store_full"));
    }
    let now = crate::clock::now();
    let id: MemoryId = ordered_id(MemoryId::PREFIX);
    let row = MemoryRow {
        id,
        store_id: store_id.clone(),
        path: path.to_owned(),
        content_sha256: sha256_hex(content),
        content_size_bytes: content.len() as u64,
        version_id: ordered_id(MemoryVersionId::PREFIX),
        created_at: now.clone(),
        updated_at: now,
    };
    write_version(conn, &row, MemoryOperation::Created, Some(content), actor)?;
    store::save_memory(conn, &row)?;
    store::add_to_count(conn, store_id, 1)?;
    Ok(row.into_memory(Some(content.to_owned())))
}

/// What an update changes; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryChange {
    /// New content.
    pub content: Option<String>,
    /// New path (a rename; the ID stays).
    pub path: Option<String>,
    /// The `content_sha256` the stored content must have, else 409
    /// `memory_precondition_failed_error` (not checked when the update changes nothing).
    pub expected_sha256: Option<String>,
}

/// Updates a memory's content and/or path and writes a `modified` version by `actor`. An update
/// that leaves content and path as they are writes nothing and returns the stored memory. Returns
/// the memory with its content.
pub fn update_memory(
    conn: &Connection,
    store_id: &MemoryStoreId,
    id: &MemoryId,
    change: MemoryChange,
    actor: &Actor,
) -> Result<Memory> {
    if let Some(path) = &change.path {
        check_path("path", path)?;
    }
    if let Some(content) = &change.content {
        check_content("content", content)?;
    }
    if let Some(expected) = &change.expected_sha256 {
        check_sha256("precondition.content_sha256", expected)?;
    }
    writable_store(conn, store_id, "updating memories")?;
    let stored = store::load_memory(conn, store_id, id)?.ok_or_else(|| memory_not_found(id))?;
    apply_change(conn, stored, change, actor)
}

/// Applies a change to a loaded live memory (see [`update_memory`]); the store was checked.
fn apply_change(
    conn: &Connection,
    stored: MemoryRow,
    change: MemoryChange,
    actor: &Actor,
) -> Result<Memory> {
    let stored_content = store::version_content(conn, &stored.version_id)?.unwrap_or_default();
    let content = change.content.unwrap_or_else(|| stored_content.clone());
    let path = change.path.unwrap_or_else(|| stored.path.clone());
    if content == stored_content && path == stored.path {
        return Ok(stored.into_memory(Some(stored_content)));
    }
    if let Some(expected) = &change.expected_sha256 {
        if !sha_matches(expected, &stored.content_sha256) {
            return Err(precondition_failed(&stored.id, expected));
        }
    }
    if path != stored.path {
        if let Some((other, conflicting)) =
            find_conflict(conn, &stored.store_id, &path, Some(&stored.id))?
        {
            return Err(path_conflict(&path, other, conflicting));
        }
    }
    let row = MemoryRow {
        content_sha256: sha256_hex(&content),
        content_size_bytes: content.len() as u64,
        version_id: ordered_id(MemoryVersionId::PREFIX),
        updated_at: crate::clock::now(),
        path,
        ..stored
    };
    write_version(conn, &row, MemoryOperation::Modified, Some(&content), actor)?;
    store::save_memory(conn, &row)?;
    Ok(row.into_memory(Some(content)))
}

/// Writes `content` at `path`, as an agent's file tool does: updates the memory at `path`
/// (a `modified` version, or nothing when the content is unchanged) or creates one there (a
/// `created` version). With `expected_sha256`, the memory must exist with that hash (else 409
/// `memory_precondition_failed_error`). Returns the memory with its content.
pub fn write_memory(
    conn: &Connection,
    store_id: &MemoryStoreId,
    path: &str,
    content: &str,
    actor: &Actor,
    expected_sha256: Option<&str>,
) -> Result<Memory> {
    check_path("path", path)?;
    check_content("content", content)?;
    if let Some(expected) = expected_sha256 {
        check_sha256("expected_content_sha256", expected)?;
    }
    writable_store(conn, store_id, "writing memories")?;
    match store::load_memory_by_path(conn, store_id, path)? {
        Some(stored) => apply_change(
            conn,
            stored,
            MemoryChange {
                content: Some(content.to_owned()),
                path: None,
                expected_sha256: expected_sha256.map(str::to_owned),
            },
            actor,
        ),
        None => match expected_sha256 {
            Some(expected) => Err(Error::new(
                StatusCode::CONFLICT,
                ErrorType::MemoryPreconditionFailed,
                format!(
                    "no memory has the path `{path}`, so it cannot have content_sha256 `{expected}`"
                ),
            )),
            None => create_memory(conn, store_id, path, content, actor),
        },
    }
}

/// Deletes a live memory and writes its `deleted` version by `actor` (earlier versions stay).
/// With `expected_sha256`, the stored content must have that hash, else 409
/// `memory_precondition_failed_error` and nothing is deleted. Allowed in archived stores.
pub fn delete_memory(
    conn: &Connection,
    store_id: &MemoryStoreId,
    id: &MemoryId,
    expected_sha256: Option<&str>,
    actor: &Actor,
) -> Result<()> {
    if let Some(expected) = expected_sha256 {
        check_sha256("expected_content_sha256", expected)?;
    }
    require_state(conn, store_id)?;
    let stored = store::load_memory(conn, store_id, id)?.ok_or_else(|| memory_not_found(id))?;
    if let Some(expected) = expected_sha256 {
        if !sha_matches(expected, &stored.content_sha256) {
            return Err(precondition_failed(id, expected));
        }
    }
    let row = MemoryRow {
        version_id: ordered_id(MemoryVersionId::PREFIX),
        updated_at: crate::clock::now(),
        ..stored
    };
    write_version(conn, &row, MemoryOperation::Deleted, None, actor)?;
    store::remove_memory(conn, id)?;
    store::add_to_count(conn, store_id, -1)?;
    Ok(())
}

/// The live memory at `path`, with its content (`None` if no memory has that path). 404 for an
/// unknown store.
pub fn find_memory_by_path(
    conn: &Connection,
    store_id: &MemoryStoreId,
    path: &str,
) -> Result<Option<Memory>> {
    require_state(conn, store_id)?;
    let Some(row) = store::load_memory_by_path(conn, store_id, path)? else {
        return Ok(None);
    };
    let content = store::version_content(conn, &row.version_id)?;
    Ok(Some(row.into_memory(Some(content.unwrap_or_default()))))
}

/// Every live memory of a store with its content, in path order (at most
/// [`MAX_MEMORIES_PER_STORE`]; for mounting a store into a session). 404 for an unknown store.
pub fn memories_in_store(conn: &Connection, store_id: &MemoryStoreId) -> Result<Vec<Memory>> {
    require_state(conn, store_id)?;
    let sql = format!(
        "SELECT {MEMORY_COLUMNS}, v.content FROM memories m
         LEFT JOIN memory_versions v ON v.id = m.version_id
         WHERE m.store_id = ?1 ORDER BY m.path"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([store_id.as_str()], |row| {
        Ok((MemoryRow::from_row(row)?, row.get::<_, Option<String>>(8)?))
    })?;
    let mut memories = Vec::new();
    for row in rows {
        let (row, content) = row?;
        memories.push(row.into_memory(Some(content.unwrap_or_default())));
    }
    Ok(memories)
}

/// Appends the version `row.version_id` recording `row`'s path and `content` at
/// `row.updated_at`.
fn write_version(
    conn: &Connection,
    row: &MemoryRow,
    operation: MemoryOperation,
    content: Option<&str>,
    actor: &Actor,
) -> Result<()> {
    insert_version(
        conn,
        &NewVersion {
            id: &row.version_id,
            store_id: &row.store_id,
            memory_id: &row.id,
            operation,
            path: &row.path,
            content: content.map(|c| (c, row.content_sha256.as_str(), row.content_size_bytes)),
            created_at: &row.updated_at,
            created_by: actor,
        },
    )
}

#[cfg(test)]
mod tests {
    use steward_core::MemoryId;

    use super::*;

    #[test]
    fn ordered_ids_have_the_usual_shape_and_sort_by_time() {
        let first: MemoryId = ordered_id(MemoryId::PREFIX);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second: MemoryId = ordered_id(MemoryId::PREFIX);
        for id in [&first, &second] {
            let rest = id.as_str().strip_prefix("mem_").unwrap();
            assert_eq!(rest.len(), crate::ids::ID_RANDOM_LEN);
            assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        assert!(first < second);
        assert_ne!(
            ordered_id::<MemoryId>(MemoryId::PREFIX),
            ordered_id::<MemoryId>(MemoryId::PREFIX)
        );
    }

    #[test]
    fn hashes_are_lowercase_hex_of_the_bytes() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(sha256_hex("caf\u{e9}").len(), 64);
        assert_ne!(sha256_hex("caf\u{e9}"), sha256_hex("cafe\u{301}"));
    }
}
