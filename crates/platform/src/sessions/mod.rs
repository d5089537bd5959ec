//! Sessions: `/v1/sessions` (create, retrieve, update, list, delete, archive) and their
//! resources (`/v1/sessions/{id}/resources`).
//!
//! This module stores sessions and answers their CRUD endpoints; it runs nothing. Events, the
//! event stream, threads and the agent loop belong to the session engine, which builds on the
//! tables declared here (see [Storage](#storage)).
//!
//! # Decisions where the SDK is silent
//!
//! * **Agent.** A bare ID and `{type: "agent"}` without `version` pin the agent's latest
//!   version. The agent must exist (404) and not be archived (400); a missing version is a 404.
//!   The session stores a [`SessionAgent`](steward_core::session::SessionAgent) snapshot, so a
//!   later agent update never changes it. `agent_with_overrides` applies each sent field to
//!   that snapshot, resolved as agent updates resolve them (`system` `""`/`null` clear it;
//!   `model` keeps the stored effort when it sends none). The `multiagent` configuration is
//!   expanded: every referenced agent becomes a full snapshot of its pinned version.
//! * **Environment.** Must exist (404 `environment_not_found`) and not be archived (400
//!   `environment_archived`).
//! * **Resources.** Memory stores must exist (404) and not be archived (400); `access` defaults
//!   to `read_write`; `instructions` are at most 4096 characters and read back `null` when not
//!   given. The resource snapshots the store's `name` and `description` and mounts it at
//!   [`memory_store_mount_path`](steward_core::resource::memory_store_mount_path). **At most
//!   [`MAX_MEMORY_STORES`] memory stores per session** (a local limit; the SDK documents none).
//!   No two resources of a session may share a mount path (so a store cannot be attached twice,
//!   nor two stores whose names give the same slug): a 400 on create, a 409 when a file is added
//!   later. Files and repositories are stored as given (the platform has no Files API to check
//!   `file_id` against) with `sesrsc_` IDs; a file mounts at `/mnt/session/uploads/<file_id>`
//!   and a repository at `/workspace/<repo-name>` unless `mount_path` says otherwise. Mount paths
//!   are absolute, without `.` or `..` segments. A repository's `authorization_token` is kept
//!   apart from the resource and never returned.
//! * **Memory-store resources have no `id`** in the SDK type, yet the SDK's retrieve response
//!   may be one. They are addressed by their `memory_store_id` wherever a `resource_id` is
//!   expected: `GET …/resources/memstore_…` returns the resource and `DELETE` detaches the store
//!   (the receipt's `id` is the store ID). Token rotation applies to repositories only (400 for
//!   the other types).
//! * **Vaults.** Each of `vault_ids` must exist (404) and not be archived (400); duplicates are
//!   a 400. `vault_ids` on update is a 400: the SDK reserves it.
//! * **Initial events** (at most 50, only `user.message` and `user.define_outcome`) are stored
//!   in `session_events` in order, for the session engine to process: a `user.message` echo with
//!   `processed_at: null` (not processed yet) and a `user.define_outcome` echo with a new `outc_`
//!   ID, which also adds a `pending` entry to `outcome_evaluations`. Until the engine exists the
//!   session stays `idle` with its events pending.
//! * **Status and stats.** Sessions start `idle` with empty `usage`, `stats.active_seconds: 0`,
//!   and `stats.duration_seconds` counted from `created_at` when read (frozen when the session
//!   terminates). Archiving sets `archived_at` and the status to `terminated` for good
//!   (idempotent; archived sessions are also `terminated` for the `statuses[]` filter).
//! * **Updates.** An archived session cannot be changed (400), nor can its resources. `title`
//!   `null` clears it; `metadata` is a patch (`null` values delete, `""` is a value; a `null`
//!   patch changes nothing). `budget`: an object replaces the budget of a session that has one,
//!   otherwise 400 `budget_create_only` (never had one, or it was removed); it must stay above
//!   the consumed list cost (400 `budget_not_raised`); `null` removes it; any budget change of a
//!   terminated session is a 400. The platform keeps no price list, so every model counts as
//!   budgetable (no `model_not_budgetable`). `agent` replaces the snapshot's `tools` and/or
//!   `mcp_servers` whole, checked together as agent updates check them, and is refused (400)
//!   while the session is `running` or once it is `terminated`. An update that changes nothing
//!   leaves `updated_at` alone. Budget rejections carry their reason in `details.error_code`.
//! * **Lists.** Sessions newest first by default (`order=asc` for oldest first), by
//!   `created_at` then ID, with `next_page`/`prev_page` cursors; `agent_version` without
//!   `agent_id` is a 400. Resources are listed in attach order.
//! * **Delete** removes the session with its resources and events, whatever its status.
//!
//! # Storage
//!
//! * `sessions`: the [`Session`](steward_core::session::Session) JSON in `body` (with
//!   `resources` left empty: they live in their own table) plus the columns lists filter on:
//!   `status`, `agent_id`, `agent_version`, `environment_id`, `created_at`, `updated_at`,
//!   `archived_at`. [`save`] keeps body and columns in step; a status transition is a
//!   [`load`], a change of `status`, and a [`save`].
//! * `session_resources`: one row per resource, keyed by `(session_id, id)` where `id` is the
//!   `sesrsc_` ID, or the store ID for memory stores; `body` is the wire object, and
//!   `authorization_token` holds a repository's secret.
//! * `session_memory_stores`: the join table session ↔ memory store (`access`, `mount_path`),
//!   for the `memory_store_id` filter and for mounting.
//! * `session_events`: every event of a session in order (`seq`), with `type`,
//!   `session_thread_id` (`NULL` for the primary thread), `created_at` (when stored) and
//!   `processed_at` (`NULL` until processed); [`append_event`] writes one.
//!
//! Every table but `sessions` cascades on session delete.

use axum::Router;
use axum::routing::{get, post};

use crate::migrations::Migration;
use crate::state::AppState;

mod agent;
mod handlers;
mod links;
mod resources;
mod store;
mod validate;

pub use store::{append_event, load, require, save};

/// Most memory stores one session may mount (a local limit: the SDK documents none).
pub const MAX_MEMORY_STORES: usize = 8;

/// Most events `initial_events` may hold.
pub const MAX_INITIAL_EVENTS: usize = 50;

/// The session tables: `sessions`, `session_resources`, `session_memory_stores` and
/// `session_events`.
pub(crate) const MIGRATION_SESSIONS: Migration = Migration {
    name: "sessions_create",
    sql: "CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        agent_version INTEGER NOT NULL,
        environment_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX sessions_by_created ON sessions (created_at, id);
    CREATE INDEX sessions_by_agent ON sessions (agent_id, agent_version, created_at, id);
    CREATE INDEX sessions_by_environment ON sessions (environment_id);
    CREATE TABLE session_resources (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        mount_path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        authorization_token TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (session_id, id)
    ) STRICT;
    CREATE INDEX session_resources_by_created ON session_resources (session_id, created_at, id);
    CREATE TABLE session_memory_stores (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        memory_store_id TEXT NOT NULL,
        access TEXT NOT NULL,
        mount_path TEXT NOT NULL,
        PRIMARY KEY (session_id, memory_store_id)
    ) STRICT;
    CREATE INDEX session_memory_stores_by_store ON session_memory_stores (memory_store_id, session_id);
    CREATE TABLE session_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        session_thread_id TEXT,
        type TEXT NOT NULL,
        created_at TEXT NOT NULL,
        processed_at TEXT,
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX session_events_by_session ON session_events (session_id, seq);",
};

/// The session and session-resource routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sessions", post(handlers::create).get(handlers::list))
        .route(
            "/v1/sessions/{session_id}",
            get(handlers::retrieve)
                .post(handlers::update)
                .delete(handlers::delete),
        )
        .route("/v1/sessions/{session_id}/archive", post(handlers::archive))
        .route(
            "/v1/sessions/{session_id}/resources",
            get(resources::list).post(resources::add),
        )
        .route(
            "/v1/sessions/{session_id}/resources/{resource_id}",
            get(resources::retrieve)
                .post(resources::update)
                .delete(resources::delete),
        )
}
