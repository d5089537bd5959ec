//! SQL for sessions: the `sessions` row, its resources, memory-store links and events.

use rusqlite::Connection;
use steward_core::event::SessionEvent;
use steward_core::resource::{MemoryStoreAccess, SessionResource};
use steward_core::session::{Session, SessionStatus};
use steward_core::{SessionId, Timestamp};

use crate::db::{from_json, optional, to_json};
use crate::error::{Error, Result};

/// The 404 of an unknown session.
pub(super) fn not_found(id: &SessionId) -> Error {
    Error::object_not_found("session", id)
}

/// Reads a session with its resources, if it exists (for the session engine and other
/// resources that refer to sessions). `stats.duration_seconds` is brought up to date.
pub fn load(conn: &Connection, id: &SessionId) -> Result<Option<Session>> {
    let body = optional(conn.query_row(
        "SELECT body FROM sessions WHERE id = ?1",
        [id.as_str()],
        |row| row.get::<_, String>(0),
    ))?;
    body.map(|body| decode(conn, &body)).transpose()
}

/// Reads a session or fails with the API's 404.
pub fn require(conn: &Connection, id: &SessionId) -> Result<Session> {
    load(conn, id)?.ok_or_else(|| not_found(id))
}

/// Decodes a stored body and attaches the session's resources and current stats.
pub(super) fn decode(conn: &Connection, body: &str) -> Result<Session> {
    let mut session: Session = from_json(body)?;
    session.resources = resources(conn, &session.id)?;
    refresh_stats(&mut session);
    Ok(session)
}

/// Counts `duration_seconds` up to now, unless the session has terminated (then it stays as
/// frozen at termination).
fn refresh_stats(session: &mut Session) {
    if session.status == SessionStatus::Terminated {
        return;
    }
    session.stats.duration_seconds = Some(seconds_since(&session.created_at));
}

/// Seconds from `since` to now, in microseconds' precision; 0 for an unreadable timestamp.
pub(super) fn seconds_since(since: &Timestamp) -> f64 {
    let Some(start) = since.to_datetime() else {
        return 0.0;
    };
    let now = time::OffsetDateTime::now_utc();
    let micros = (now - start).whole_microseconds().max(0);
    // Exact below 2^53 µs (285 years).
    micros as f64 / 1_000_000.0
}

/// Stores a session (insert or replace). The body is stored without `resources`, which live
/// in `session_resources`; the filter columns are written from the same object. `agent_id`,
/// `environment_id` and `created_at` never change after the insert.
pub fn save(conn: &Connection, session: &Session) -> Result<()> {
    let mut body = session.clone();
    body.resources = Vec::new();
    conn.execute(
        "INSERT INTO sessions (id, status, agent_id, agent_version, environment_id, created_at,
             updated_at, archived_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status,
             agent_version = excluded.agent_version, updated_at = excluded.updated_at,
             archived_at = excluded.archived_at, body = excluded.body",
        rusqlite::params![
            session.id.as_str(),
            session.status.as_str(),
            session.agent.id.as_str(),
            session.agent.version,
            session.environment_id.as_str(),
            session.created_at.as_str(),
            session.updated_at.as_str(),
            session.archived_at.as_ref().map(Timestamp::as_str),
            to_json(&body)?,
        ],
    )?;
    Ok(())
}

/// Deletes a session and (by cascade) everything attached to it. Returns whether it existed.
pub(super) fn delete(conn: &Connection, id: &SessionId) -> Result<bool> {
    Ok(conn.execute("DELETE FROM sessions WHERE id = ?1", [id.as_str()])? > 0)
}

/// The key of a resource row: its `sesrsc_` ID, or the store ID of a memory store.
pub(super) fn resource_key(resource: &SessionResource) -> Option<&str> {
    match resource {
        SessionResource::MemoryStore(store) => Some(store.memory_store_id.as_str()),
        other => other.id().map(|id| id.as_str()),
    }
}

/// A resource to insert, with what is stored beside its wire object.
pub(super) struct NewResource {
    /// The wire object.
    pub(super) resource: SessionResource,
    /// A repository's token; never part of the wire object.
    pub(super) authorization_token: Option<String>,
    /// When it was attached (the row's sort key).
    pub(super) created_at: Timestamp,
}

/// Inserts a resource row, and the memory-store link for a memory store.
pub(super) fn insert_resource(
    conn: &Connection,
    session: &SessionId,
    new: &NewResource,
) -> Result<()> {
    let resource = &new.resource;
    let (Some(key), Some(mount_path)) = (resource_key(resource), resource.mount_path()) else {
        return Err(Error::internal(
            "a session resource needs a key and a mount path",
        ));
    };
    conn.execute(
        "INSERT INTO session_resources (session_id, id, type, mount_path, created_at,
             authorization_token, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            session.as_str(),
            key,
            resource.type_name(),
            mount_path,
            new.created_at.as_str(),
            new.authorization_token,
            to_json(resource)?,
        ],
    )?;
    if let SessionResource::MemoryStore(store) = resource {
        let access = store
            .access
            .value()
            .cloned()
            .unwrap_or(MemoryStoreAccess::ReadWrite);
        conn.execute(
            "INSERT INTO session_memory_stores (session_id, memory_store_id, access, mount_path)
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![session.as_str(), key, access.as_str(), mount_path],
        )?;
    }
    Ok(())
}

/// Every resource of a session, in attach order.
pub(super) fn resources(conn: &Connection, session: &SessionId) -> Result<Vec<SessionResource>> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM session_resources WHERE session_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([session.as_str()], |row| row.get::<_, String>(0))?;
    rows.map(|body| from_json(&body?)).collect()
}

/// One resource of a session by key.
pub(super) fn resource(
    conn: &Connection,
    session: &SessionId,
    key: &str,
) -> Result<Option<SessionResource>> {
    let body = optional(conn.query_row(
        "SELECT body FROM session_resources WHERE session_id = ?1 AND id = ?2",
        [session.as_str(), key],
        |row| row.get::<_, String>(0),
    ))?;
    body.map(|body| from_json(&body)).transpose()
}

/// Replaces a resource's wire object and, when given, its token.
pub(super) fn update_resource(
    conn: &Connection,
    session: &SessionId,
    resource: &SessionResource,
    authorization_token: Option<&str>,
) -> Result<()> {
    let key =
        resource_key(resource).ok_or_else(|| Error::internal("a session resource needs a key"))?;
    conn.execute(
        "UPDATE session_resources
         SET body = ?3, authorization_token = coalesce(?4, authorization_token)
         WHERE session_id = ?1 AND id = ?2",
        rusqlite::params![
            session.as_str(),
            key,
            to_json(resource)?,
            authorization_token
        ],
    )?;
    Ok(())
}

/// Removes a resource (and its memory-store link). Returns whether it existed.
pub(super) fn delete_resource(conn: &Connection, session: &SessionId, key: &str) -> Result<bool> {
    conn.execute(
        "DELETE FROM session_memory_stores WHERE session_id = ?1 AND memory_store_id = ?2",
        [session.as_str(), key],
    )?;
    let removed = conn.execute(
        "DELETE FROM session_resources WHERE session_id = ?1 AND id = ?2",
        [session.as_str(), key],
    )?;
    Ok(removed > 0)
}

/// Whether a resource of the session is mounted at `mount_path`.
pub(super) fn mount_path_taken(
    conn: &Connection,
    session: &SessionId,
    mount_path: &str,
) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM session_resources WHERE session_id = ?1 AND mount_path = ?2)",
        [session.as_str(), mount_path],
        |row| row.get(0),
    )?)
}

/// Appends an event to a session's history (`session_events`), after every event stored so
/// far. `created_at` is when it is stored; `processed_at` and the thread come from the event.
pub fn append_event(conn: &Connection, session: &SessionId, event: &SessionEvent) -> Result<()> {
    let id = event
        .raw_id()
        .ok_or_else(|| Error::internal("a stored event needs an `id`"))?;
    conn.execute(
        "INSERT INTO session_events (id, session_id, session_thread_id, type, created_at,
             processed_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            id,
            session.as_str(),
            event.session_thread_id().map(|t| t.as_str()),
            event.type_name(),
            crate::clock::now().as_str(),
            event.processed_at().map(Timestamp::as_str),
            to_json(event)?,
        ],
    )?;
    Ok(())
}
