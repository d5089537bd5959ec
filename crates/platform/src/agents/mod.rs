//! Agents: `/v1/agents` (create, retrieve, update, list, archive, versions).
//!
//! An agent is a versioned configuration. `agents` holds each agent's current state;
//! `agent_versions` holds one immutable snapshot per version, which `GET …?version=N` and
//! `GET …/versions` return.
//!
//! Decisions where the SDK is silent:
//! * **Versions.** Create makes version 1. An update makes version N+1 when the resulting agent
//!   differs from the stored one in any field, metadata included. An update that changes
//!   nothing (all fields omitted, or sent with their stored values) keeps the version and
//!   `updated_at` and returns the stored agent. The `version` lock is checked first: a mismatch
//!   is a 409 `conflict_error` (with `x-should-retry: false`), even for a no-op update.
//! * **Archive.** Archiving sets `archived_at` (idempotent) without making a version or
//!   touching `updated_at`; every version reads back with the agent's `archived_at`. Archived
//!   agents cannot be updated (400) and are left out of lists unless `include_archived=true`.
//! * **Lists** are newest first: agents by `created_at` then ID, versions by version number.
//! * **Tool defaults.** The built-in toolset's `default_config` resolves to `enabled: true`
//!   and `permission_policy: always_allow` (the local tools run inside the worker's own
//!   sandbox); MCP toolsets default to `enabled: true` and `always_ask` (third-party servers
//!   are confirmed by a human unless configured otherwise). In responses the built-in
//!   toolset's `configs` lists all eight tools, in the order `bash, edit, read, write, glob,
//!   grep, web_fetch, web_search`, each fully resolved (per-tool override, else the default);
//!   an MCP toolset's `configs` lists the tools its request configured.
//! * **Limits.** At most 256 tools: a custom tool counts 1, the built-in toolset 8, an MCP
//!   toolset the number of tools it configures (at least 1). One built-in toolset per agent,
//!   one toolset per MCP server; custom tool names are unique and do not reuse a built-in
//!   tool's name when the built-in toolset is present.
//! * **Model.** `effort` resolves to `high` when never given; `speed` to `standard`;
//!   `inference_geo` stays unset unless given. On update `model` is replaced whole except
//!   that an omitted `effort` keeps the stored one.
//! * **Text.** `""` and `null` both store `null` for `description` and `system`. On update,
//!   `name` and `model` sent as `null` count as omitted (the core types do not tell them
//!   apart, and neither can be cleared).
//! * **Skills.** An omitted skill `version` is stored as `"latest"` (the platform has no skill
//!   registry to resolve it against).
//! * **Multiagent.** See [`multiagent`].

use axum::Router;
use axum::routing::{get, post};

use crate::migrations::Migration;
use crate::state::AppState;

/// The `agents` table (current version of each agent) and `agent_versions` (one snapshot per
/// version).
pub(crate) const MIGRATION_AGENTS: Migration = Migration {
    name: "agents_create",
    sql: "CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        archived_at TEXT,
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX agents_by_created ON agents (created_at, id);
    CREATE TABLE agent_versions (
        agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (agent_id, version)
    ) STRICT;",
};

mod handlers;
pub mod multiagent;
pub mod resolve;
mod store;
mod validate;

pub use validate::is_valid_tool_name;

/// The agent routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/agents", post(handlers::create).get(handlers::list))
        .route(
            "/v1/agents/{agent_id}",
            get(handlers::retrieve).post(handlers::update),
        )
        .route("/v1/agents/{agent_id}/archive", post(handlers::archive))
        .route("/v1/agents/{agent_id}/versions", get(handlers::versions))
}

/// Reads the current version of an agent, if it exists (for sessions and other resources).
pub fn load(
    conn: &rusqlite::Connection,
    id: &steward_core::AgentId,
) -> crate::Result<Option<steward_core::agent::Agent>> {
    store::load(conn, id)
}

/// Reads one version of an agent, if it exists (`archived_at` is the agent's current one).
pub fn load_version(
    conn: &rusqlite::Connection,
    id: &steward_core::AgentId,
    version: u32,
) -> crate::Result<Option<steward_core::agent::Agent>> {
    store::load_version(conn, id, version)
}

/// Reads the current version of an agent or fails with the API's 404.
pub fn require(
    conn: &rusqlite::Connection,
    id: &steward_core::AgentId,
) -> crate::Result<steward_core::agent::Agent> {
    handlers::require(conn, id)
}
