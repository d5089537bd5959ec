//! Memory stores, memories and memory versions: `/v1/memory_stores/…`.
//!
//! A store holds text memories addressed by path; every change to a memory writes an immutable
//! [`MemoryVersion`](steward_core::memory::MemoryVersion) recording who made it. The HTTP
//! handlers and the session engine (the agent's file tools on a mounted store) share one write
//! path: [`create_memory`], [`update_memory`], [`write_memory`] and [`delete_memory`] run inside
//! a caller's transaction, check every rule there, and take the [`Actor`](steward_core::memory::Actor)
//! to record (`api_actor` for API keys, `session_actor` for agents).
//!
//! Storage (tables in `MIGRATION_MEMORY`):
//! * `memory_stores`: the wire object as `body`, plus `created_at`, `archived_at` and a
//!   `memory_count` kept in step with creates and deletes (the per-store cap is a lookup).
//! * `memory_versions`: one row per version with its content snapshot, path, hash and size,
//!   the actor as JSON plus `actor_type`/`actor_id` columns for the list filters.
//! * `memories`: one row per live memory (path, hash, size, timestamps) pointing at the version
//!   that holds its current content (`version_id`); the content itself is stored once, in that
//!   version. `(store_id, path)` is unique and indexed, which serves lookups by path, the
//!   ancestor/descendant conflict checks (range scans) and the path-ordered list.
//! * Memory and version IDs have the usual shape (prefix and 24 base62 characters) but start
//!   with the time, so the ID indexes grow by appending (see `write::ordered_id`).
//!
//! Decisions where the SDK is silent:
//! * **Lists.** Stores and versions are newest first (`created_at`, then ID). Memories are in
//!   path order (UTF-8 byte order), which keeps a directory's memories together; `depth=N`
//!   (the SDK documents 0 and 1; any N works) lists memories at most N segments below
//!   `path_prefix` and rolls deeper ones up into one `memory_prefix` per directory, at the
//!   position of its first memory. Page sizes default to 20; `view=basic` pages hold at most
//!   100 items and `view=full` pages at most 20 (larger `limit`s are clamped, not refused).
//!   All lists use keyset pagination.
//! * **Store cap.** A store holds at most [`MAX_MEMORIES_PER_STORE`] memories. Creating one
//!   more is a 409 `conflict_error` with `details.error_code = "memory_store_full"` (it
//!   depends on the store's state, not on the request: deleting a memory makes room).
//! * **Archived stores.** Creating or updating a memory, and updating the store, is a 400
//!   with `details.error_code = "memory_store_archived"`. Reads, memory deletes, redaction and
//!   store deletion still work. Archiving again keeps the first `archived_at`.
//! * **Null in update bodies.** `name: null` and `metadata: null` on a store update, and
//!   `content: null` and `path: null` on a memory update, leave the value as it is (the SDK
//!   types allow `null`; nothing can be unset). `description: null` clears the description, like
//!   `""`. `content: null` on create is a 400: pass `""` for an empty memory.
//! * **Hashes.** `precondition.content_sha256` (required when a precondition is sent) and
//!   `expected_content_sha256` must be 64 hexadecimal characters (400 otherwise); they are
//!   compared case-insensitively with the stored lowercase hash.
//! * **No-op updates.** An update whose resulting content and path equal the stored ones
//!   succeeds without writing a version or touching `updated_at`, even when its precondition
//!   does not match (as the SDK documents). The precondition is checked otherwise, also when
//!   only the path changes.
//! * **Renames.** Moving a memory below its own old path (`/a` to `/a/b`) is allowed: the old
//!   path is gone once it moves. A rename that changes nothing else writes a `modified` version
//!   with the same content.
//! * **Redaction.** A version that holds a live memory's current content cannot be redacted:
//!   409 `conflict_error` (`details.error_code = "memory_version_is_current"`); update or
//!   delete the memory first, then redact the old version. This keeps every live memory
//!   readable, and the current content is always the latest version's. Redacting an already
//!   redacted version returns it unchanged (the first `redacted_at`/`redacted_by` stay).
//!   `created` and `modified` versions can be redacted once superseded; `deleted` versions
//!   any time (their path is cleared).
//! * **Versions.** Kept until the store is deleted (no retention limit). Filters combine with
//!   AND; `session_id`, `api_key_id` and `service_account_id` match `created_by`.
//! * **Durability and concurrency.** Memory writes from the API go through a group commit
//!   (`batch`): concurrent writes share one SQLite transaction (and one fsync), each inside
//!   its own savepoint, so a failed write changes nothing and the others still commit. Every
//!   rule, preconditions included, is checked inside the write's savepoint while it holds the
//!   database's single writer, so two concurrent writers never lose each other's writes; a
//!   response is sent only after its transaction committed.

mod batch;
mod list;
mod memories;
mod store;
mod stores;
mod versions;
mod write;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::migrations::Migration;
use crate::state::AppState;

pub use store::{load_store, require_store};
pub use write::{
    MAX_MEMORIES_PER_STORE, MemoryChange, create_memory, delete_memory, find_memory_by_path,
    memories_in_store, update_memory, write_memory,
};

/// The tables of memory stores, memories and memory versions, and the indexes their lists use.
pub(crate) const MIGRATION_MEMORY: Migration = Migration {
    name: "memory_create",
    sql: "CREATE TABLE memory_stores (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        archived_at TEXT,
        memory_count INTEGER NOT NULL DEFAULT 0,
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX memory_stores_by_created ON memory_stores (created_at, id);
    CREATE TABLE memory_versions (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
        memory_id TEXT NOT NULL,
        operation TEXT NOT NULL,
        path TEXT,
        content TEXT,
        content_sha256 TEXT,
        content_size_bytes INTEGER,
        created_at TEXT NOT NULL,
        actor_type TEXT,
        actor_id TEXT,
        created_by TEXT,
        redacted_at TEXT,
        redacted_by TEXT
    ) STRICT;
    CREATE INDEX memory_versions_by_store ON memory_versions (store_id, created_at, id);
    CREATE INDEX memory_versions_by_memory ON memory_versions (memory_id, created_at, id);
    CREATE INDEX memory_versions_by_actor ON memory_versions (actor_id, created_at, id);
    CREATE INDEX memory_versions_by_operation
        ON memory_versions (store_id, operation, created_at, id);
    CREATE TABLE memories (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        content_size_bytes INTEGER NOT NULL,
        version_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (store_id, path)
    ) STRICT;",
};

/// The memory routes.
pub(crate) fn routes() -> Router<AppState> {
    let memory = "/v1/memory_stores/{memory_store_id}/memories/{memory_id}";
    let version = "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}";
    Router::new()
        .route("/v1/memory_stores", post(stores::create).get(stores::list))
        .route(
            "/v1/memory_stores/{memory_store_id}",
            get(stores::retrieve)
                .post(stores::update)
                .delete(stores::delete),
        )
        .route(
            "/v1/memory_stores/{memory_store_id}/archive",
            post(stores::archive),
        )
        .route(
            "/v1/memory_stores/{memory_store_id}/memories",
            post(memories::create).get(memories::list),
        )
        .route(
            memory,
            get(memories::retrieve)
                .post(memories::update)
                .delete(memories::delete),
        )
        .route(
            "/v1/memory_stores/{memory_store_id}/memory_versions",
            get(versions::list),
        )
        .route(version, get(versions::retrieve))
        .route(&format!("{version}/redact"), post(versions::redact))
        .layer(Extension(Arc::new(batch::Batcher::default())))
}
