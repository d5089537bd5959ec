//! `steward setup`: the environment, the agent and the shared store, created once and reused.
//!
//! Run again, it reuses what the state file names (or finds it again by its metadata). When the
//! agent's configuration (model, system prompt, tools) differs from what the config file and
//! the linked tools ask for, it updates the agent, which makes a new version, instead of
//! creating another agent. `steward chat` calls [`ensure`] before each conversation.

use anyhow::Context as _;
use futures::TryStreamExt as _;
use serde::Serialize;
use steward_core::agent::{
    Agent, AgentCreate, AgentListParams, AgentTool, AgentToolParams, AgentUpdate, CustomTool,
};
use steward_core::environment::{Environment, EnvironmentCreate, EnvironmentListParams};
use steward_core::memory::{MemoryStore, MemoryStoreCreate};
use steward_core::{Metadata, Nullable};
use steward_tools::Registry;

use crate::app::{App, ROLE_KEY, is_not_found};
use crate::output::table;

/// The agent's name.
pub const AGENT_NAME: &str = "steward";

/// The environment's name.
pub const ENVIRONMENT_NAME: &str = "steward";

/// The shared store's description, written for the model.
pub const SHARED_STORE_DESCRIPTION: &str = "Shared reference material for every user of this \
assistant: policies, facts and documents that hold for everyone. Mounted read-only: read it \
when a question may touch it, never write to it.";

/// What happened to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It was made now.
    Created,
    /// It existed and was kept as it is.
    Reused,
    /// It existed and was changed (a new agent version).
    Updated,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Reused => "reused",
            Self::Updated => "updated",
        }
    }
}

/// The environment, agent and shared store of a setup.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    /// The environment.
    pub environment: Resource,
    /// The agent.
    pub agent: AgentResource,
    /// The shared store.
    pub shared_store: StoreResource,
}

/// A resource and what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    /// Its ID.
    pub id: String,
    /// What happened.
    pub status: Status,
}

/// The agent and what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentResource {
    /// Its ID.
    pub id: String,
    /// Its current version.
    pub version: u32,
    /// What happened.
    pub status: Status,
    /// The model.
    pub model: String,
    /// The tools, by name (`agent_toolset_20260401` for the built-in toolset).
    pub tools: Vec<String>,
}

/// The shared store and what happened to it.
#[derive(Debug, Clone, Serialize)]
pub struct StoreResource {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What happened.
    pub status: Status,
}

/// `steward setup`.
pub async fn run(app: &mut App) -> anyhow::Result<()> {
    let setup = ensure(app).await?;
    if app.printer.json {
        app.printer.json(&setup)?;
        return Ok(());
    }
    let rows = vec![
        vec![
            "environment".to_owned(),
            setup.environment.id.clone(),
            setup.environment.status.as_str().to_owned(),
        ],
        vec![
            "agent".to_owned(),
            setup.agent.id.clone(),
            format!(
                "{} (version {}, model {})",
                setup.agent.status.as_str(),
                setup.agent.version,
                setup.agent.model
            ),
        ],
        vec![
            format!("shared store `{}`", setup.shared_store.name),
            setup.shared_store.id.clone(),
            setup.shared_store.status.as_str().to_owned(),
        ],
    ];
    app.printer
        .data(&table(&["RESOURCE", "ID", "STATUS"], &rows))?;
    Ok(())
}

/// Makes sure the environment, the agent (as configured) and the shared store exist, and
/// records their IDs.
pub async fn ensure(app: &mut App) -> anyhow::Result<Setup> {
    let (environment, environment_status) = ensure_environment(app).await?;
    let (agent, agent_status) = ensure_agent(app).await?;
    let (store, store_status) = ensure_shared_store(app).await?;
    Ok(Setup {
        environment: Resource {
            id: environment.id.to_string(),
            status: environment_status,
        },
        agent: AgentResource {
            id: agent.id.to_string(),
            version: agent.version,
            status: agent_status,
            model: agent.model.id.to_string(),
            tools: agent.tools.iter().map(tool_name).collect(),
        },
        shared_store: StoreResource {
            id: store.id.to_string(),
            name: store.name,
            status: store_status,
        },
    })
}

fn role(value: &str) -> Metadata {
    Metadata::from([(ROLE_KEY.to_owned(), value.to_owned())])
}

fn has_role(metadata: &Metadata, value: &str) -> bool {
    metadata.get(ROLE_KEY).map(String::as_str) == Some(value)
}

async fn ensure_environment(app: &mut App) -> anyhow::Result<(Environment, Status)> {
    let client = app.client().clone();
    let environments = client.environments();
    if let Some(id) = app.ids().environment_id.clone() {
        match environments.retrieve(&id).await {
            Ok(env) if !env.is_archived() => return Ok((env, Status::Reused)),
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(anyhow::Error::new(e).context("failed to read the environment")),
        }
    }
    let found: Vec<Environment> = environments
        .list(&EnvironmentListParams::default())
        .try_collect()
        .await
        .context("failed to list environments")?;
    let (environment, status) = match found
        .into_iter()
        .find(|e| !e.is_archived() && has_role(&e.metadata, "environment"))
    {
        Some(env) => (env, Status::Reused),
        None => {
            let body = EnvironmentCreate {
                name: ENVIRONMENT_NAME.to_owned(),
                description: Nullable::Value("Sessions of the steward assistant".to_owned()),
                metadata: Some(role("environment")),
                ..EnvironmentCreate::default()
            };
            let env = environments
                .create(&body)
                .await
                .context("failed to create the environment")?;
            (env, Status::Created)
        }
    };
    app.ids().environment_id = Some(environment.id.clone());
    app.save()?;
    Ok((environment, status))
}

/// The tools the agent should have: the built-in toolset, then every linked custom tool.
fn desired_tools(registry: &Registry) -> Vec<AgentToolParams> {
    let mut tools = vec![AgentToolParams::agent_toolset()];
    tools.extend(registry.agent_tools());
    tools
}

/// Whether the agent already has this configuration.
fn matches(agent: &Agent, model: &str, system: &str, custom: &[CustomTool]) -> bool {
    let toolsets = agent
        .tools
        .iter()
        .filter(|t| matches!(t, AgentTool::Toolset(_)))
        .count();
    let theirs: Vec<&CustomTool> = agent.custom_tools().collect();
    agent.model.id.as_str() == model
        && agent.system.as_deref() == Some(system)
        && toolsets == 1
        && theirs.len() == custom.len()
        && theirs.iter().zip(custom).all(|(a, b)| *a == b)
        && !agent
            .tools
            .iter()
            .any(|t| matches!(t, AgentTool::McpToolset(_) | AgentTool::Unknown(_)))
}

fn tool_name(tool: &AgentTool) -> String {
    match tool {
        AgentTool::Toolset(_) => "agent_toolset_20260401".to_owned(),
        AgentTool::McpToolset(t) => format!("mcp:{}", t.mcp_server_name),
        AgentTool::Custom(t) => t.name.clone(),
        AgentTool::Unknown(raw) => raw
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("unknown")
            .to_owned(),
    }
}

async fn ensure_agent(app: &mut App) -> anyhow::Result<(Agent, Status)> {
    let registry = Registry::from_inventory().context("failed to collect the linked tools")?;
    let custom = registry.custom_tools();
    let model = app.config.model.clone();
    let system = app.config.system_prompt.clone();
    let client = app.client().clone();
    let agents = client.agents();

    let mut existing = None;
    if let Some(id) = app.ids().agent_id.clone() {
        match agents.retrieve(&id).await {
            Ok(agent) if !agent.is_archived() => existing = Some(agent),
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(anyhow::Error::new(e).context("failed to read the agent")),
        }
    }
    if existing.is_none() {
        let found: Vec<Agent> = agents
            .list(&AgentListParams::default())
            .try_collect()
            .await
            .context("failed to list agents")?;
        existing = found
            .into_iter()
            .find(|a| !a.is_archived() && has_role(&a.metadata, "assistant"));
    }
    let (agent, status) = match existing {
        Some(agent) if matches(&agent, &model, &system, &custom) => (agent, Status::Reused),
        Some(agent) => {
            let body = AgentUpdate {
                model: Some(model.as_str().into()),
                system: Nullable::Value(system),
                tools: Nullable::Value(desired_tools(&registry)),
                version: Some(agent.version),
                ..AgentUpdate::default()
            };
            let updated = agents
                .update(&agent.id, &body)
                .await
                .context("failed to update the agent")?;
            let status = if updated.version == agent.version {
                Status::Reused
            } else {
                Status::Updated
            };
            (updated, status)
        }
        None => {
            let body = AgentCreate {
                name: AGENT_NAME.to_owned(),
                model: model.as_str().into(),
                description: Nullable::Value(
                    "A personal assistant that remembers each user".to_owned(),
                ),
                system: Nullable::Value(system),
                tools: Some(desired_tools(&registry)),
                metadata: Some(role("assistant")),
                ..AgentCreate::default()
            };
            let agent = agents
                .create(&body)
                .await
                .context("failed to create the agent")?;
            (agent, Status::Created)
        }
    };
    app.ids().agent_id = Some(agent.id.clone());
    app.save()?;
    Ok((agent, status))
}

/// The shared read-only store named in the config file, created if needed.
pub async fn ensure_shared_store(app: &mut App) -> anyhow::Result<(MemoryStore, Status)> {
    let name = app.config.shared_store.clone();
    if let Some(id) = app.ids().shared_store_id.clone() {
        if let Some(store) = app.live_store(&id).await? {
            if store.name == name {
                return Ok((store, Status::Reused));
            }
        }
    }
    let found = app
        .find_store(|s| s.name == name && has_role(&s.metadata, "shared"))
        .await?;
    let (store, status) = match found {
        Some(store) => (store, Status::Reused),
        None => {
            let body = MemoryStoreCreate {
                name: name.clone(),
                description: Some(SHARED_STORE_DESCRIPTION.to_owned()),
                metadata: Some(role("shared")),
            };
            let store = app
                .client()
                .memory_stores()
                .create(&body)
                .await
                .context("failed to create the shared memory store")?;
            (store, Status::Created)
        }
    };
    app.ids().shared_store_id = Some(store.id.clone());
    app.save()?;
    Ok((store, status))
}
