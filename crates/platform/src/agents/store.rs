//! SQL for agents: the current row in `agents`, one snapshot per version in `agent_versions`.

use rusqlite::Connection;
use steward_core::AgentId;
use steward_core::agent::Agent;

use crate::db::{from_json, load_body, optional, to_json};
use crate::error::Result;

/// The current version of an agent.
pub(super) fn load(conn: &Connection, id: &AgentId) -> Result<Option<Agent>> {
    load_body(conn, "agents", id.as_str())
}

/// The snapshot of one version, with the agent's current `archived_at` (archiving applies to
/// the agent, not to a version).
pub(super) fn load_version(conn: &Connection, id: &AgentId, version: u32) -> Result<Option<Agent>> {
    let row = optional(conn.query_row(
        "SELECT v.body, a.archived_at FROM agent_versions v JOIN agents a ON a.id = v.agent_id
         WHERE v.agent_id = ?1 AND v.version = ?2",
        rusqlite::params![id.as_str(), version],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?)),
    ))?;
    row.map(|(body, archived_at)| snapshot(&body, archived_at))
        .transpose()
}

/// Decodes a version snapshot and overlays the agent's `archived_at`.
pub(super) fn snapshot(body: &str, archived_at: Option<String>) -> Result<Agent> {
    let mut agent: Agent = from_json(body)?;
    agent.archived_at = archived_at.map(steward_core::Timestamp::new);
    Ok(agent)
}

/// Stores `agent` as its current state and as the snapshot of its version.
pub(super) fn save_version(conn: &Connection, agent: &Agent) -> Result<()> {
    save_current(conn, agent)?;
    conn.execute(
        "INSERT INTO agent_versions (agent_id, version, body) VALUES (?1, ?2, ?3)",
        rusqlite::params![agent.id.as_str(), agent.version, to_json(agent)?],
    )?;
    Ok(())
}

/// Stores `agent` as its current state without making a version (archiving).
pub(super) fn save_current(conn: &Connection, agent: &Agent) -> Result<()> {
    conn.execute(
        "INSERT INTO agents (id, version, created_at, archived_at, body) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version,
             archived_at = excluded.archived_at, body = excluded.body",
        rusqlite::params![
            agent.id.as_str(),
            agent.version,
            agent.created_at.as_str(),
            agent.archived_at.as_ref().map(|t| t.as_str()),
            to_json(agent)?,
        ],
    )?;
    Ok(())
}
