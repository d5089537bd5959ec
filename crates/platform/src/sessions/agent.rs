//! The agent a session runs: from the request's `agent` to the pinned
//! [`SessionAgent`] snapshot, with overrides applied and the multiagent roster expanded.

use rusqlite::Connection;
use steward_core::AgentId;
use steward_core::agent::{Agent, AgentPool, AgentTool, CoordinatorAgent, McpServer, Multiagent};
use steward_core::session::{
    AgentWithOverrides, SessionAgent, SessionAgentParam, SessionAgentPool, SessionAgentPoolEnabled,
    SessionAgentUpdate, SessionCoordinator, SessionMultiagent, SessionMultiagent20261001,
};
use steward_core::thread::{SessionThreadAgent, ThreadAgent};

use crate::agents::resolve;
use crate::error::{Error, Result};

/// Resolves the `agent` of a session create into the snapshot the session pins.
pub(super) fn resolve(conn: &Connection, param: SessionAgentParam) -> Result<SessionAgent> {
    let agent = match param {
        SessionAgentParam::Id(id) => saved(conn, &id, None)?,
        SessionAgentParam::Agent(reference) => saved(conn, &reference.id, reference.version)?,
        SessionAgentParam::WithOverrides(overrides) => {
            let agent = saved(conn, &overrides.id, overrides.version)?;
            apply_overrides(agent, overrides)?
        }
        SessionAgentParam::Unknown(raw) => {
            return Err(Error::invalid_request(format!(
                "`agent.type`: unknown value `{}`",
                raw.get("type").and_then(|t| t.as_str()).unwrap_or_default()
            )));
        }
    };
    snapshot(conn, agent)
}

/// The saved agent at `version` (the latest when `None`): it must exist and not be archived.
fn saved(conn: &Connection, id: &AgentId, version: Option<u32>) -> Result<Agent> {
    let current = crate::agents::require(conn, id)?;
    if current.is_archived() {
        return Err(Error::invalid_request(format!(
            "`agent`: agent `{id}` is archived"
        )));
    }
    match version {
        None => Ok(current),
        Some(version) if version == current.version => Ok(current),
        Some(version) => crate::agents::load_version(conn, id, version)?
            .ok_or_else(|| Error::not_found(format!("agent `{id}` has no version {version}"))),
    }
}

/// Applies `agent_with_overrides` fields over the saved version.
fn apply_overrides(mut agent: Agent, overrides: AgentWithOverrides) -> Result<Agent> {
    if let Some(model) = overrides.model {
        agent.model = resolve::model(model, Some(&agent.model));
    }
    if !overrides.system.is_absent() {
        agent.system = resolve::text(overrides.system);
    }
    let lists_changed = overrides.tools.is_some() || overrides.mcp_servers.is_some();
    if let Some(tools) = overrides.tools {
        agent.tools = resolve::tools(tools);
    }
    if let Some(servers) = overrides.mcp_servers {
        agent.mcp_servers = servers;
    }
    if lists_changed {
        check_lists(&agent.tools, &agent.mcp_servers)?;
    }
    if let Some(skills) = overrides.skills {
        agent.skills = resolve::skills(skills);
    }
    Ok(agent)
}

/// Applies a session update's `agent` (tools and MCP servers, each replaced whole) to the
/// snapshot. Returns whether anything changed.
pub(super) fn apply_update(
    snapshot: &mut SessionAgent,
    update: SessionAgentUpdate,
) -> Result<bool> {
    let mut tools = snapshot.tools.clone();
    let mut servers = snapshot.mcp_servers.clone();
    if let Some(params) = update.tools {
        tools = resolve::tools(params);
    }
    if let Some(params) = update.mcp_servers {
        servers = params;
    }
    if tools == snapshot.tools && servers == snapshot.mcp_servers {
        return Ok(false);
    }
    check_lists(&tools, &servers)?;
    snapshot.tools = tools;
    snapshot.mcp_servers = servers;
    Ok(true)
}

/// The agents' cross-checks of tools and MCP servers, with fields named under `agent.`.
fn check_lists(tools: &[AgentTool], servers: &[McpServer]) -> Result<()> {
    resolve::check_tools_and_servers(tools, servers).map_err(under_agent)
}

/// Rewrites an error whose message starts with a field name (`` `tools[0]`: … ``) to name
/// the field under `agent` (`` `agent.tools[0]`: … ``).
pub(super) fn under_agent(mut error: Error) -> Error {
    let message = &mut error.body_mut().message;
    if let Some(rest) = message.strip_prefix('`') {
        *message = format!("`agent.{rest}");
    }
    error
}

/// The snapshot of a (possibly overridden) agent version, with its multiagent roster expanded
/// into snapshots of the pinned versions.
fn snapshot(conn: &Connection, agent: Agent) -> Result<SessionAgent> {
    let multiagent = agent
        .multiagent
        .as_ref()
        .map(|multiagent| expand(conn, multiagent))
        .transpose()?;
    Ok(SessionAgent {
        id: agent.id,
        kind: agent.kind,
        version: agent.version,
        name: agent.name,
        description: agent.description,
        system: agent.system,
        model: agent.model,
        tools: agent.tools,
        mcp_servers: agent.mcp_servers,
        skills: agent.skills,
        execution_identity: agent.execution_identity,
        multiagent,
    })
}

/// A saved agent version as a thread runs it.
fn thread_agent(conn: &Connection, id: &AgentId, version: u32) -> Result<SessionThreadAgent> {
    let agent = crate::agents::load_version(conn, id, version)?.ok_or_else(|| {
        Error::internal(format!(
            "the roster names agent `{id}` version {version}, which is not stored"
        ))
    })?;
    Ok(SessionThreadAgent {
        id: agent.id,
        kind: agent.kind,
        version: agent.version,
        name: agent.name,
        description: agent.description,
        system: agent.system,
        model: agent.model,
        tools: agent.tools,
        mcp_servers: agent.mcp_servers,
        skills: agent.skills,
        execution_identity: agent.execution_identity,
    })
}

fn expand(conn: &Connection, multiagent: &Multiagent) -> Result<SessionMultiagent> {
    match multiagent {
        Multiagent::Coordinator(coordinator) => {
            let agents = coordinator
                .agents
                .iter()
                .map(|entry| match entry {
                    CoordinatorAgent::Agent(agent) => {
                        thread_agent(conn, &agent.id, agent.version).map(ThreadAgent::Agent)
                    }
                    CoordinatorAgent::Advisor(advisor) => Ok(ThreadAgent::Advisor(advisor.clone())),
                    CoordinatorAgent::Unknown(raw) => Ok(ThreadAgent::Unknown(raw.clone())),
                })
                .collect::<Result<_>>()?;
            Ok(SessionMultiagent::Coordinator(SessionCoordinator {
                agents,
            }))
        }
        Multiagent::V20261001(v) => Ok(SessionMultiagent::V20261001(SessionMultiagent20261001 {
            advisor: v.advisor.clone(),
            subagents: expand_pool(conn, &v.subagents)?,
            workflows: expand_pool(conn, &v.workflows)?,
        })),
        Multiagent::Unknown(raw) => Ok(SessionMultiagent::Unknown(raw.clone())),
    }
}

fn expand_pool(conn: &Connection, pool: &AgentPool) -> Result<SessionAgentPool> {
    Ok(match pool {
        AgentPool::Enabled(enabled) => SessionAgentPool::Enabled(SessionAgentPoolEnabled {
            inline_agents: enabled.inline_agents.clone(),
            predefined_agents: enabled
                .predefined_agents
                .iter()
                .map(|reference| thread_agent(conn, &reference.id, reference.version))
                .collect::<Result<_>>()?,
        }),
        AgentPool::Disabled(disabled) => SessionAgentPool::Disabled(disabled.clone()),
        AgentPool::Unknown(raw) => SessionAgentPool::Unknown(raw.clone()),
    })
}
