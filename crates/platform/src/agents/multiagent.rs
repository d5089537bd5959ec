//! Resolving `multiagent`: roster entries become concrete `{id, version}` references, and a
//! `multiagent_20261001` update merges into the stored configuration level by level.
//!
//! Rules (the SDK's, plus the platform's choices marked *):
//! * A referenced agent must exist and not be archived, and the referenced version must have no
//!   `multiagent` of its own (depth 1). A bare ID or `{type: agent}` without `version` means
//!   its latest version.
//! * `self` (and *a reference to the agent's own ID, which is treated as `self`) resolves to the
//!   agent being saved at the version being saved; when an update makes a new version, every
//!   self reference moves to it.
//! * Entries must name distinct agents; a coordinator roster holds 1–20 entries with at most one
//!   `self` and one advisor; each `predefined_agents` list at most 20.
//! * `multiagent_20261001` defaults: advisor disabled, subagents and workflows enabled with
//!   inline agents enabled and no predefined agents. On update over a stored
//!   `multiagent_20261001`, an omitted key keeps its stored value, `null` takes the default, a
//!   member of another `type` replaces the stored one, and a sent `predefined_agents` replaces
//!   the stored list. An enabled member with inline agents disabled must name at least one
//!   predefined agent. A `coordinator` always replaces whatever was stored.

use std::collections::BTreeSet;

use rusqlite::Connection;
use steward_core::agent::{
    AdvisorConfig, AgentPool, AgentPoolEnabled, AgentPoolParams, AgentReference, AgentVersion,
    Coordinator, CoordinatorAgent, CoordinatorParams, InlineAgents, MemberDisabled, Multiagent,
    Multiagent20261001, Multiagent20261001Params, MultiagentParams, RosterEntryParams,
};
use steward_core::{AgentId, Nullable};

use super::store;
use crate::error::{Error, Result};

/// The agent being saved, as `self` resolves.
#[derive(Debug, Clone, Copy)]
pub struct Me<'a> {
    /// Its ID.
    pub id: &'a AgentId,
    /// The version being saved.
    pub version: u32,
}

fn invalid(field: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid_request(format!("`{field}`: {message}"))
}

/// Resolves the `multiagent` of a create (`stored` = `None`) or an update.
pub fn resolve(
    conn: &Connection,
    params: Nullable<MultiagentParams>,
    stored: Option<&Multiagent>,
    me: Me<'_>,
) -> Result<Option<Multiagent>> {
    match params {
        Nullable::Absent => Ok(stored.cloned()),
        Nullable::Null => Ok(None),
        Nullable::Value(MultiagentParams::Coordinator(coordinator)) => Ok(Some(
            Multiagent::Coordinator(resolve_coordinator(conn, coordinator, me)?),
        )),
        Nullable::Value(MultiagentParams::V20261001(params)) => {
            let stored = match stored {
                Some(Multiagent::V20261001(stored)) => Some(stored),
                _ => None,
            };
            Ok(Some(Multiagent::V20261001(resolve_v20261001(
                conn, params, stored, me,
            )?)))
        }
        Nullable::Value(MultiagentParams::Unknown(raw)) => Err(invalid(
            "multiagent.type",
            format!(
                "unknown value `{}`",
                raw.get("type").and_then(|t| t.as_str()).unwrap_or_default()
            ),
        )),
    }
}

/// Resolves one reference to a concrete `(id, version)`, checking the referenced agent.
fn reference(
    conn: &Connection,
    field: &str,
    id: &AgentId,
    version: Option<u32>,
    me: Me<'_>,
) -> Result<(AgentId, u32)> {
    if id == me.id {
        return Ok((id.clone(), me.version));
    }
    let agent =
        store::load(conn, id)?.ok_or_else(|| invalid(field, format!("agent `{id}` not found")))?;
    if agent.is_archived() {
        return Err(invalid(field, format!("agent `{id}` is archived")));
    }
    let snapshot = match version {
        None => agent,
        Some(version) => store::load_version(conn, id, version)?
            .ok_or_else(|| invalid(field, format!("agent `{id}` has no version {version}")))?,
    };
    if snapshot.multiagent.is_some() {
        return Err(invalid(
            field,
            format!(
                "agent `{id}` has its own `multiagent` configuration (only one level is allowed)"
            ),
        ));
    }
    Ok((snapshot.id, snapshot.version))
}

fn roster_reference(
    conn: &Connection,
    field: &str,
    entry: RosterEntryParams,
    me: Me<'_>,
) -> Result<Option<(AgentId, u32)>> {
    match entry {
        RosterEntryParams::Id(id) => reference(conn, field, &id, None, me).map(Some),
        RosterEntryParams::Agent(agent) => {
            reference(conn, field, &agent.id, agent.version, me).map(Some)
        }
        RosterEntryParams::SelfAgent => Ok(Some((me.id.clone(), me.version))),
        RosterEntryParams::Advisor(_) => Ok(None),
        RosterEntryParams::Unknown(_) => Err(invalid(field, "unknown roster entry type")),
    }
}

fn resolve_coordinator(
    conn: &Connection,
    params: CoordinatorParams,
    me: Me<'_>,
) -> Result<Coordinator> {
    let mut seen = BTreeSet::new();
    let mut agents = Vec::with_capacity(params.agents.len());
    for (i, entry) in params.agents.into_iter().enumerate() {
        let field = format!("multiagent.agents[{i}]");
        if let RosterEntryParams::Advisor(advisor) = entry {
            agents.push(CoordinatorAgent::Advisor(advisor));
            continue;
        }
        if let Some((id, version)) = roster_reference(conn, &field, entry, me)? {
            if !seen.insert(id.clone()) {
                return Err(invalid(&field, format!("agent `{id}` is listed twice")));
            }
            agents.push(CoordinatorAgent::Agent(AgentVersion { id, version }));
        }
    }
    Ok(Coordinator { agents })
}

fn default_pool() -> AgentPool {
    AgentPool::Enabled(AgentPoolEnabled {
        inline_agents: InlineAgents::Enabled,
        predefined_agents: Vec::new(),
    })
}

fn resolve_pool(
    conn: &Connection,
    field: &str,
    params: Nullable<AgentPoolParams>,
    stored: Option<AgentPool>,
    me: Me<'_>,
) -> Result<AgentPool> {
    let pool = match params {
        Nullable::Absent => stored.unwrap_or_else(default_pool),
        Nullable::Null => default_pool(),
        Nullable::Value(AgentPoolParams::Disabled(_)) => AgentPool::Disabled(MemberDisabled {}),
        Nullable::Value(AgentPoolParams::Enabled(enabled)) => {
            let base = match stored {
                Some(AgentPool::Enabled(base)) => base,
                _ => AgentPoolEnabled {
                    inline_agents: InlineAgents::Enabled,
                    predefined_agents: Vec::new(),
                },
            };
            let inline_agents = match enabled.inline_agents {
                Nullable::Absent => base.inline_agents,
                Nullable::Null => InlineAgents::Enabled,
                Nullable::Value(inline) => inline,
            };
            let predefined_agents = match enabled.predefined_agents {
                Nullable::Absent => base.predefined_agents,
                Nullable::Null => Vec::new(),
                Nullable::Value(entries) => {
                    let mut seen = BTreeSet::new();
                    let mut resolved = Vec::with_capacity(entries.len());
                    for (i, entry) in entries.into_iter().enumerate() {
                        let entry_field = format!("{field}.predefined_agents[{i}]");
                        let Some((id, version)) = roster_reference(conn, &entry_field, entry, me)?
                        else {
                            return Err(invalid(
                                &entry_field,
                                "an advisor cannot be a predefined agent",
                            ));
                        };
                        if !seen.insert(id.clone()) {
                            return Err(invalid(
                                &entry_field,
                                format!("agent `{id}` is listed twice"),
                            ));
                        }
                        resolved.push(AgentReference::new(id, version));
                    }
                    resolved
                }
            };
            AgentPool::Enabled(AgentPoolEnabled {
                inline_agents,
                predefined_agents,
            })
        }
        Nullable::Value(AgentPoolParams::Unknown(_)) => {
            return Err(invalid(&format!("{field}.type"), "unknown value"));
        }
    };
    if let AgentPool::Enabled(enabled) = &pool {
        if enabled.inline_agents == InlineAgents::Disabled && enabled.predefined_agents.is_empty() {
            return Err(invalid(
                field,
                "with inline agents disabled, `predefined_agents` must name at least one agent",
            ));
        }
    }
    Ok(pool)
}

fn resolve_v20261001(
    conn: &Connection,
    params: Multiagent20261001Params,
    stored: Option<&Multiagent20261001>,
    me: Me<'_>,
) -> Result<Multiagent20261001> {
    let advisor = match params.advisor {
        Nullable::Absent => stored
            .map(|s| s.advisor.clone())
            .unwrap_or(AdvisorConfig::Disabled(MemberDisabled {})),
        Nullable::Null => AdvisorConfig::Disabled(MemberDisabled {}),
        Nullable::Value(advisor) => advisor,
    };
    Ok(Multiagent20261001 {
        advisor,
        subagents: resolve_pool(
            conn,
            "multiagent.subagents",
            params.subagents,
            stored.map(|s| s.subagents.clone()),
            me,
        )?,
        workflows: resolve_pool(
            conn,
            "multiagent.workflows",
            params.workflows,
            stored.map(|s| s.workflows.clone()),
            me,
        )?,
    })
}

/// Points every reference to `id` at `version` (self references follow the agent's new version).
pub fn retarget_self(multiagent: &mut Multiagent, id: &AgentId, version: u32) {
    match multiagent {
        Multiagent::Coordinator(coordinator) => {
            for entry in &mut coordinator.agents {
                if let CoordinatorAgent::Agent(agent) = entry {
                    if agent.id == *id {
                        agent.version = version;
                    }
                }
            }
        }
        Multiagent::V20261001(v) => {
            for pool in [&mut v.subagents, &mut v.workflows] {
                if let AgentPool::Enabled(enabled) = pool {
                    for reference in &mut enabled.predefined_agents {
                        if reference.id == *id {
                            reference.version = version;
                        }
                    }
                }
            }
        }
        Multiagent::Unknown(_) => {}
    }
}
