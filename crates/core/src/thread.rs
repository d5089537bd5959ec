//! Session threads: the execution threads of a session (`/v1/sessions/{id}/threads`).
//!
//! Every session has one primary thread (`parent_thread_id: null`) plus the child threads a
//! multi-agent session spawns: subagents, workflow-run members and the advisor. Each runs one
//! agent, given as a [`ThreadAgent`] snapshot.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::agent::{
    AdvisorModel, AgentReference, AgentTool, AgentType, ExecutionIdentity, McpServer, ModelConfig,
    Skill,
};
use crate::open::Tagged;
use crate::usage::SessionUsage;
use crate::{AgentId, SessionId, SessionThreadId, Timestamp, WorkflowRunId};

crate::open_enum! {
    /// The execution status of a thread.
    pub enum SessionThreadStatus {
        /// The thread is running.
        Running = "running",
        /// The thread waits for input.
        Idle = "idle",
        /// A transient error occurred; the thread is retried automatically.
        Rescheduling = "rescheduling",
        /// The thread has ended.
        Terminated = "terminated",
    }
}

crate::open_enum! {
    /// The `type` of a [`SessionThread`]: always `"session_thread"`.
    #[derive(Default)]
    pub enum SessionThreadType {
        /// `"session_thread"`.
        #[default]
        SessionThread = "session_thread",
    }
}

/// Timing statistics of a thread (every field may be absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionThreadStats {
    /// Seconds the thread spent running (idle time excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_seconds: Option<f64>,
    /// Seconds since the thread was created; frozen once archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Seconds until the thread began running; zero for child threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_seconds: Option<f64>,
}

/// Cumulative usage of a thread.
///
/// The SDK's `BetaManagedAgentsSessionThreadUsage` has exactly the fields of the session's usage
/// (its `active_seconds` equals the thread's `stats.active_seconds`), so it is the same type.
/// Per-thread list costs are rounded separately and do not sum exactly to the session's.
pub type SessionThreadUsage = SessionUsage;

/// Query of `GET /v1/sessions/{session_id}/threads`.
///
/// `statuses` is sent as repeated `statuses[]=…` parameters (the SDK's bracket array format);
/// the HTTP layers do that encoding. An empty list sends nothing and matches every status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadListParams {
    /// Maximum items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Only threads with one of these statuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<SessionThreadStatus>,
}

/// A saved agent as a thread runs it: a snapshot taken when the session (or thread) was created
/// (`{"type": "agent", id, version, …}`).
///
/// This is the SDK's `BetaManagedAgentsSessionThreadAgent`: an [`Agent`](crate::agent::Agent)
/// without `multiagent`, `metadata` and timestamps. It keeps its constant `type` in
/// [`kind`](Self::kind) because it also appears on its own, in `predefined_agents` lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionThreadAgent {
    /// The agent's ID (`agent_…`).
    pub id: AgentId,
    /// Always `agent`.
    #[serde(rename = "type")]
    pub kind: AgentType,
    /// The agent's version at snapshot time.
    pub version: u32,
    /// Human-readable name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// System prompt, if any.
    pub system: Option<String>,
    /// Model and resolved configuration.
    pub model: ModelConfig,
    /// Tools.
    pub tools: Vec<AgentTool>,
    /// MCP servers.
    pub mcp_servers: Vec<McpServer>,
    /// Skills.
    pub skills: Vec<Skill>,
    /// Execution principal; always present (`service_account` by default).
    pub execution_identity: ExecutionIdentity,
}

impl SessionThreadAgent {
    /// A reference to the snapshotted agent at its snapshotted version.
    pub fn reference(&self) -> AgentReference {
        AgentReference::new(self.id.clone(), self.version)
    }
}

/// An agent with no Agent resource (`type: "inline"`): defined in a workflow run's plan or when a
/// thread is spawned, and not saved, so it has no `id` or `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineAgent {
    /// The name its definition gave, or one the server assigned.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// System prompt, if any.
    pub system: Option<String>,
    /// Model and resolved configuration.
    pub model: ModelConfig,
    /// Tools.
    pub tools: Vec<AgentTool>,
    /// MCP servers.
    pub mcp_servers: Vec<McpServer>,
    /// Skills.
    pub skills: Vec<Skill>,
    /// The session's execution principal.
    pub execution_identity: ExecutionIdentity,
}

/// The agent a thread runs (`agent` of a [`SessionThread`]), tagged by `type`.
///
/// Also the entries of a session's resolved coordinator roster, where only `agent` and `advisor`
/// occur. Open like [`open_union!`](crate::open_union) types: an unknown `type` keeps the raw
/// JSON. Written by hand because the `agent` variant's struct holds its own `type`
/// ([`SessionThreadAgent::kind`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ThreadAgent {
    /// `{"type": "agent", …}`: a snapshot of a saved agent.
    Agent(SessionThreadAgent),
    /// `{"type": "advisor", model}`: an advisor model the primary thread consults.
    Advisor(AdvisorModel),
    /// `{"type": "inline", …}`: an unsaved agent.
    Inline(InlineAgent),
    /// An object whose `type` this version does not know; the raw JSON is kept and serializes
    /// back unchanged.
    Unknown(serde_json::Value),
}

impl ThreadAgent {
    /// Every `type` tag this version knows, in declaration order.
    pub const KNOWN_TYPES: &'static [&'static str] = &["agent", "advisor", "inline"];

    /// The `type` tag (for `Unknown`, the tag as sent, or `""`).
    pub fn type_name(&self) -> &str {
        match self {
            Self::Agent(_) => "agent",
            Self::Advisor(_) => "advisor",
            Self::Inline(_) => "inline",
            Self::Unknown(raw) => raw.get("type").and_then(|t| t.as_str()).unwrap_or(""),
        }
    }

    /// Whether this is an object of a type this version does not know.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }

    /// The agent's name: the saved or inline agent's `name`, the advisor's model ID.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Agent(agent) => Some(&agent.name),
            Self::Advisor(advisor) => Some(advisor.model.as_str()),
            Self::Inline(agent) => Some(&agent.name),
            Self::Unknown(raw) => raw.get("name").and_then(|n| n.as_str()),
        }
    }
}

impl From<SessionThreadAgent> for ThreadAgent {
    fn from(agent: SessionThreadAgent) -> Self {
        Self::Agent(agent)
    }
}

impl From<AdvisorModel> for ThreadAgent {
    fn from(advisor: AdvisorModel) -> Self {
        Self::Advisor(advisor)
    }
}

impl From<InlineAgent> for ThreadAgent {
    fn from(agent: InlineAgent) -> Self {
        Self::Inline(agent)
    }
}

impl Serialize for ThreadAgent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Agent(agent) => agent.serialize(serializer),
            Self::Advisor(inner) => Tagged {
                r#type: "advisor",
                inner,
            }
            .serialize(serializer),
            Self::Inline(inner) => Tagged {
                r#type: "inline",
                inner,
            }
            .serialize(serializer),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ThreadAgent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        let tag = match raw.get("type") {
            Some(serde_json::Value::String(tag)) => tag.as_str(),
            Some(_) => {
                return Err(D::Error::custom(
                    "invalid `type` of ThreadAgent: expected a string",
                ));
            }
            None if raw.is_object() => {
                return Err(D::Error::custom("missing field `type` of ThreadAgent"));
            }
            None => return Err(D::Error::custom("invalid ThreadAgent: expected an object")),
        };
        let invalid =
            |e: crate::open::DecodeError| D::Error::custom(format_args!("invalid `{tag}`: {e}"));
        match tag {
            "agent" => crate::open::decode::<SessionThreadAgent>(&raw)
                .map(Self::Agent)
                .map_err(invalid),
            "advisor" => crate::open::decode::<AdvisorModel>(&raw)
                .map(Self::Advisor)
                .map_err(invalid),
            "inline" => crate::open::decode::<InlineAgent>(&raw)
                .map(Self::Inline)
                .map_err(invalid),
            _ => Ok(Self::Unknown(raw)),
        }
    }
}

/// An execution thread of a session (`"type": "session_thread"`).
///
/// The constant `type` is kept in [`kind`](Self::kind) so the object round-trips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionThread {
    /// The thread's ID (`sthr_…`).
    pub id: SessionThreadId,
    /// Always `session_thread`.
    #[serde(rename = "type")]
    pub kind: SessionThreadType,
    /// The session the thread belongs to.
    pub session_id: SessionId,
    /// The thread that spawned this one; `null` for the primary thread.
    pub parent_thread_id: Option<SessionThreadId>,
    /// The agent the thread runs, snapshotted when the thread was created.
    pub agent: ThreadAgent,
    /// Current execution status.
    pub status: SessionThreadStatus,
    /// Timing statistics; `null` until the thread's first status transition.
    pub stats: Option<SessionThreadStats>,
    /// Cumulative usage; `null` until the thread first goes idle.
    pub usage: Option<SessionThreadUsage>,
    /// The workflow run that created the thread; `null` for any other thread.
    pub workflow_run_id: Option<WorkflowRunId>,
    /// When the thread was created.
    pub created_at: Timestamp,
    /// When the thread last changed.
    pub updated_at: Timestamp,
    /// When the thread was archived; `null` if not archived.
    pub archived_at: Option<Timestamp>,
}

impl SessionThread {
    /// Whether this is the session's primary thread (it has no parent).
    pub fn is_primary(&self) -> bool {
        self.parent_thread_id.is_none()
    }

    /// Whether the thread is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}
