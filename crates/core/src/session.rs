//! Sessions (`/v1/sessions`): a running instance of an agent in an environment.
//!
//! A [`Session`] holds a snapshot of its agent ([`SessionAgent`]), what is mounted into its
//! container ([`SessionResource`]), its status, budget, usage and outcome evaluations. The
//! request bodies are [`SessionCreate`] (whose `agent` is a [`SessionAgentParam`]: an agent ID
//! string, a versioned reference, or a reference with overrides) and [`SessionUpdate`]; the list
//! query is [`SessionListParams`], answered with a [`BidirectionalPage`](crate::BidirectionalPage).
//!
//! Objects with a constant `type` (`"session"`, `"agent"`, `"outcome_evaluation"`) keep it in a
//! `kind` field of a one-value open enum whose `Default` is the expected value, so that a parsed
//! object serializes back as sent.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::agent::{
    AdvisorConfig, AgentReference, AgentTool, AgentToolParams, AgentType, AgentVersionParams,
    ExecutionIdentity, InlineAgents, McpServer, MemberDisabled, ModelConfig, ModelParam, Skill,
    SkillParams,
};
use crate::event::UserEvent;
use crate::open::Tagged;
use crate::resource::{ResourceCreate, SessionResource};
use crate::thread::{SessionThreadAgent, ThreadAgent};
use crate::usage::SessionUsage;
use crate::{
    AgentId, EnvironmentId, MemoryStoreId, Metadata, MetadataPatch, Money, Nullable, OutcomeId,
    SessionId, Timestamp, VaultId,
};

crate::open_enum! {
    /// The status of a session.
    pub enum SessionStatus {
        /// A transient error occurred; the session is retried automatically.
        Rescheduling = "rescheduling",
        /// The agent is running.
        Running = "running",
        /// The agent waits for input (a user message or a tool confirmation). Sessions start
        /// idle.
        Idle = "idle",
        /// The session has ended, by error or completion. Archived sessions report it too.
        Terminated = "terminated",
    }
}

crate::open_enum! {
    /// The `type` of a [`Session`]: always `"session"`.
    #[derive(Default)]
    pub enum SessionType {
        /// `"session"`.
        #[default]
        Session = "session",
    }
}

crate::open_enum! {
    /// The `type` of an [`OutcomeEvaluation`]: always `"outcome_evaluation"`.
    #[derive(Default)]
    pub enum OutcomeEvaluationType {
        /// `"outcome_evaluation"`.
        #[default]
        OutcomeEvaluation = "outcome_evaluation",
    }
}

// ---------------------------------------------------------------------------------------------
// Budget, stats, outcome evaluations
// ---------------------------------------------------------------------------------------------

/// A hard spend ceiling (`{"type": "limit", max_list_cost}`): the session stops issuing model
/// requests once its tracked list cost reaches `max_list_cost`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLimit {
    /// Maximum list cost the session may accrue (list price, whatever the negotiated discount).
    pub max_list_cost: Money,
}

crate::open_union! {
    /// A session's enforced spend ceiling.
    pub enum Budget {
        /// A hard limit on list cost.
        "limit" => Limit(BudgetLimit),
    }
}

impl Budget {
    /// A limit of `max_list_cost`.
    pub fn limit(max_list_cost: Money) -> Self {
        Self::Limit(BudgetLimit { max_list_cost })
    }

    /// The ceiling, for known budget types.
    pub fn max_list_cost(&self) -> Option<&Money> {
        match self {
            Self::Limit(limit) => Some(&limit.max_list_cost),
            Self::Unknown(_) => None,
        }
    }
}

/// Timing statistics of a session (every field may be absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionStats {
    /// Seconds spent running, summed over threads (unlike `usage.active_seconds`, which counts
    /// overlapping threads once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_seconds: Option<f64>,
    /// Seconds since creation; frozen when the session terminates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
}

crate::open_enum! {
    /// The state of an outcome evaluation (`result` of an [`OutcomeEvaluation`]).
    ///
    /// The SDK types it as a plain string and documents these values; the verdict of a single
    /// grading cycle is [`OutcomeVerdict`](crate::event::OutcomeVerdict) instead.
    pub enum OutcomeEvaluationResult {
        /// The agent has not begun work on the outcome.
        Pending = "pending",
        /// The agent is producing or revising.
        Running = "running",
        /// The grader is scoring.
        Evaluating = "evaluating",
        /// Terminal: the criteria are met.
        Satisfied = "satisfied",
        /// Terminal: the revision budget is spent.
        MaxIterationsReached = "max_iterations_reached",
        /// Terminal: the outcome cannot be reached.
        Failed = "failed",
        /// Terminal: a user interrupt stopped the work.
        Interrupted = "interrupted",
    }
}

impl OutcomeEvaluationResult {
    /// Whether the outcome has reached a final result.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Satisfied | Self::MaxIterationsReached | Self::Failed | Self::Interrupted
        )
    }
}

/// The evaluation state of one outcome defined with a `user.define_outcome` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeEvaluation {
    /// Always `outcome_evaluation`.
    #[serde(rename = "type")]
    pub kind: OutcomeEvaluationType,
    /// The outcome (`outc_…`).
    pub outcome_id: OutcomeId,
    /// What the agent should produce.
    pub description: String,
    /// The revision cycle the outcome is on, from 0.
    pub iteration: u32,
    /// Current state.
    pub result: OutcomeEvaluationResult,
    /// The grader's text from the latest evaluation; `null` before the first.
    pub explanation: Option<String>,
    /// When the outcome reached a terminal result; `null` until then.
    pub completed_at: Option<Timestamp>,
}

// ---------------------------------------------------------------------------------------------
// The agent snapshot
// ---------------------------------------------------------------------------------------------

/// A resolved enabled `subagents` or `workflows` member of a session: full snapshots of the
/// predefined agents it can use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAgentPoolEnabled {
    /// Whether inline (unsaved) agents may be defined.
    pub inline_agents: InlineAgents,
    /// Snapshots of the saved agents that may be used.
    pub predefined_agents: Vec<SessionThreadAgent>,
}

crate::open_union! {
    /// A session's resolved `subagents` member (spawning threads) or `workflows` member (starting
    /// workflow runs); both have this shape. The agent's own form is
    /// [`AgentPool`](crate::agent::AgentPool), which holds references instead of snapshots.
    pub enum SessionAgentPool {
        /// The member is on.
        "enabled" => Enabled(SessionAgentPoolEnabled),
        /// The member is off.
        "disabled" => Disabled(MemberDisabled),
    }
}

/// A session's resolved `multiagent_20261001` configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMultiagent20261001 {
    /// Whether the primary thread can consult an advisor.
    pub advisor: AdvisorConfig,
    /// Whether the agent can spawn session threads.
    pub subagents: SessionAgentPool,
    /// Whether the agent can start workflow runs.
    pub workflows: SessionAgentPool,
}

/// A session's resolved `coordinator` topology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionCoordinator {
    /// Full snapshots of the agents the coordinator may spawn, and the advisor, if any (only
    /// the `agent` and `advisor` variants occur).
    pub agents: Vec<ThreadAgent>,
}

crate::open_union! {
    /// A session's resolved multiagent configuration: the agent's
    /// [`Multiagent`](crate::agent::Multiagent) with every referenced agent expanded to a
    /// snapshot.
    pub enum SessionMultiagent {
        /// The older coordinator topology.
        "coordinator" => Coordinator(SessionCoordinator),
        /// Advisor, subagents and workflows, each on or off.
        "multiagent_20261001" => V20261001(SessionMultiagent20261001),
    }
}

/// The agent of a session, snapshotted at creation (`"type": "agent"`).
///
/// A [`SessionThreadAgent`] plus the resolved `multiagent` configuration. Updating the session's
/// `agent` (tools, MCP servers) changes this snapshot, never the saved agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAgent {
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
    /// Resolved multiagent configuration; `null` when single-threaded.
    pub multiagent: Option<SessionMultiagent>,
}

impl SessionAgent {
    /// A reference to the snapshotted agent at its snapshotted version.
    pub fn reference(&self) -> AgentReference {
        AgentReference::new(self.id.clone(), self.version)
    }

    /// The snapshot as a thread sees it: everything but `multiagent`.
    pub fn thread_agent(&self) -> SessionThreadAgent {
        SessionThreadAgent {
            id: self.id.clone(),
            kind: self.kind.clone(),
            version: self.version,
            name: self.name.clone(),
            description: self.description.clone(),
            system: self.system.clone(),
            model: self.model.clone(),
            tools: self.tools.clone(),
            mcp_servers: self.mcp_servers.clone(),
            skills: self.skills.clone(),
            execution_identity: self.execution_identity.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------

/// A Managed Agents session (`"type": "session"`).
///
/// The constant `type` is kept in [`kind`](Self::kind) so the object round-trips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The session's ID (`sesn_…`).
    pub id: SessionId,
    /// Always `session`.
    #[serde(rename = "type")]
    pub kind: SessionType,
    /// The agent, snapshotted at creation.
    pub agent: SessionAgent,
    /// The environment defining the container.
    pub environment_id: EnvironmentId,
    /// Current status.
    pub status: SessionStatus,
    /// Human-readable title, if any.
    pub title: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
    /// What is mounted into the container.
    pub resources: Vec<SessionResource>,
    /// Vaults attached at creation; empty when none.
    pub vault_ids: Vec<VaultId>,
    /// The enforced spend ceiling; `null` when none is set.
    pub budget: Option<Budget>,
    /// Cumulative usage.
    pub usage: SessionUsage,
    /// Timing statistics.
    pub stats: SessionStats,
    /// One entry per `user.define_outcome` event sent to the session.
    pub outcome_evaluations: Vec<OutcomeEvaluation>,
    /// When the session was created.
    pub created_at: Timestamp,
    /// When the session last changed.
    pub updated_at: Timestamp,
    /// When the session was archived; `null` if not archived.
    pub archived_at: Option<Timestamp>,
    /// The deployment the session was created from; absent or `null` otherwise.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub deployment_id: Nullable<String>,
}

impl Session {
    /// Whether the session is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// A reference to a saved agent with configuration overrides
/// (`{"type": "agent_with_overrides", id, …}`).
///
/// Each field sent replaces the agent's value for this session only; the saved agent is
/// unchanged. Lists are replaced whole (`[]` clears, omitted keeps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentWithOverrides {
    /// The agent.
    pub id: AgentId,
    /// Version to use; the latest when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Replacement model: a model ID string or a `model_config` object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelParam>,
    /// Replacement system prompt (up to 100,000 characters); `null` clears it.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub system: Nullable<String>,
    /// Replacement tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<AgentToolParams>>,
    /// Replacement MCP servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<McpServer>>,
    /// Replacement skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<SkillParams>>,
}

impl AgentWithOverrides {
    /// The latest version of `id`, with nothing overridden yet.
    pub fn new(id: impl Into<AgentId>) -> Self {
        Self {
            id: id.into(),
            version: None,
            model: None,
            system: Nullable::Absent,
            tools: None,
            mcp_servers: None,
            skills: None,
        }
    }
}

/// The agent a new session runs (`agent` of [`SessionCreate`]).
///
/// On the wire it is a bare agent ID string (the latest version), `{"type": "agent", id,
/// version?}`, or `{"type": "agent_with_overrides", …}`. An object with an unknown `type` is
/// kept as sent in `Unknown`. `AgentId` and `&str` convert into the string form.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionAgentParam {
    /// A bare agent ID: the latest version of that agent.
    Id(AgentId),
    /// `{"type": "agent", id, version?}`.
    Agent(AgentVersionParams),
    /// `{"type": "agent_with_overrides", …}`.
    WithOverrides(AgentWithOverrides),
    /// An object whose `type` this version does not know, kept as sent.
    Unknown(serde_json::Value),
}

impl SessionAgentParam {
    /// Every object `type` this version knows (besides the bare string form).
    pub const KNOWN_TYPES: &'static [&'static str] = &["agent", "agent_with_overrides"];

    /// A specific version of an agent.
    pub fn version(id: impl Into<AgentId>, version: u32) -> Self {
        Self::Agent(AgentVersionParams {
            id: id.into(),
            version: Some(version),
        })
    }

    /// The agent's ID, whichever known form was sent.
    pub fn agent_id(&self) -> Option<&AgentId> {
        match self {
            Self::Id(id) => Some(id),
            Self::Agent(agent) => Some(&agent.id),
            Self::WithOverrides(agent) => Some(&agent.id),
            Self::Unknown(_) => None,
        }
    }

    /// The pinned version, if one was given.
    pub fn agent_version(&self) -> Option<u32> {
        match self {
            Self::Agent(agent) => agent.version,
            Self::WithOverrides(agent) => agent.version,
            Self::Id(_) | Self::Unknown(_) => None,
        }
    }

    /// Whether this is an object of a type this version does not know.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }
}

impl Default for SessionAgentParam {
    /// An empty agent ID, so that [`SessionCreate`] can have `Default`; set a real one.
    fn default() -> Self {
        Self::Id(AgentId::new(""))
    }
}

impl From<AgentId> for SessionAgentParam {
    fn from(id: AgentId) -> Self {
        Self::Id(id)
    }
}

impl From<&AgentId> for SessionAgentParam {
    fn from(id: &AgentId) -> Self {
        Self::Id(id.clone())
    }
}

impl From<&str> for SessionAgentParam {
    fn from(id: &str) -> Self {
        Self::Id(id.into())
    }
}

impl From<String> for SessionAgentParam {
    fn from(id: String) -> Self {
        Self::Id(id.into())
    }
}

impl From<AgentReference> for SessionAgentParam {
    fn from(agent: AgentReference) -> Self {
        Self::version(agent.id, agent.version)
    }
}

impl From<AgentVersionParams> for SessionAgentParam {
    fn from(agent: AgentVersionParams) -> Self {
        Self::Agent(agent)
    }
}

impl From<AgentWithOverrides> for SessionAgentParam {
    fn from(agent: AgentWithOverrides) -> Self {
        Self::WithOverrides(agent)
    }
}

impl Serialize for SessionAgentParam {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Id(id) => id.serialize(serializer),
            Self::Agent(inner) => Tagged {
                r#type: "agent",
                inner,
            }
            .serialize(serializer),
            Self::WithOverrides(inner) => Tagged {
                r#type: "agent_with_overrides",
                inner,
            }
            .serialize(serializer),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SessionAgentParam {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(id) => return Ok(Self::Id(id.into())),
            raw @ serde_json::Value::Object(_) => raw,
            other => {
                return Err(D::Error::custom(format_args!(
                    "invalid agent: expected an agent ID string or an object, got {}",
                    json_kind(&other)
                )));
            }
        };
        let tag = match raw.get("type") {
            Some(serde_json::Value::String(tag)) => tag.as_str(),
            Some(_) => {
                return Err(D::Error::custom(
                    "invalid `type` of agent: expected a string",
                ));
            }
            None => return Err(D::Error::custom("missing field `type` of agent")),
        };
        let invalid =
            |e: crate::open::DecodeError| D::Error::custom(format_args!("invalid `{tag}`: {e}"));
        match tag {
            "agent" => crate::open::decode::<AgentVersionParams>(&raw)
                .map(Self::Agent)
                .map_err(invalid),
            "agent_with_overrides" => crate::open::decode::<AgentWithOverrides>(&raw)
                .map(Self::WithOverrides)
                .map_err(invalid),
            _ => Ok(Self::Unknown(raw)),
        }
    }
}

/// A short name of a JSON value's type, for error messages.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Body of `POST /v1/sessions`.
///
/// `Default` leaves `agent` and `environment_id` empty; set both (or use [`SessionCreate::new`]).
///
/// ```
/// use steward_core::session::SessionCreate;
/// let body = SessionCreate {
///     title: Some("Review PR 42".to_owned()).into(),
///     ..SessionCreate::new("agent_011", "env_011")
/// };
/// assert_eq!(
///     serde_json::to_value(&body).unwrap(),
///     serde_json::json!({"agent": "agent_011", "environment_id": "env_011", "title": "Review PR 42"}),
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionCreate {
    /// The agent to run.
    pub agent: SessionAgentParam,
    /// The environment defining the container.
    pub environment_id: EnvironmentId,
    /// Human-readable title.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub title: Nullable<String>,
    /// Metadata (at most 16 pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// What to mount into the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<ResourceCreate>>,
    /// Vaults whose credentials the agent may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_ids: Option<Vec<VaultId>>,
    /// Enforced spend ceiling; omit for an uncapped session. Every model the session can run
    /// must have a public list price (else `model_not_budgetable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// Events to process at creation, in order (at most 50). The API accepts only
    /// [`UserEvent::Message`] and [`UserEvent::DefineOutcome`] here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_events: Option<Vec<UserEvent>>,
}

impl SessionCreate {
    /// A session of `agent` in `environment_id`, with nothing else set.
    pub fn new(
        agent: impl Into<SessionAgentParam>,
        environment_id: impl Into<EnvironmentId>,
    ) -> Self {
        Self {
            agent: agent.into(),
            environment_id: environment_id.into(),
            title: Nullable::Absent,
            metadata: None,
            resources: None,
            vault_ids: None,
            budget: None,
            initial_events: None,
        }
    }
}

impl Default for SessionCreate {
    fn default() -> Self {
        Self::new(SessionAgentParam::default(), EnvironmentId::new(""))
    }
}

/// A mid-session agent update (`agent` of [`SessionUpdate`]): only tools and MCP servers can
/// change, each replaced whole (`[]` clears, omitted keeps).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionAgentUpdate {
    /// Replacement tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<AgentToolParams>>,
    /// Replacement MCP servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<McpServer>>,
}

/// Body of `POST /v1/sessions/{session_id}`: an omitted field keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionUpdate {
    /// New title; `null` clears it.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub title: Nullable<String>,
    /// Metadata patch: a string upserts a key, `null` deletes it.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<MetadataPatch>,
    /// Replace the budget of a session created with one, or `null` to remove it for good.
    /// Rejections: `budget_create_only`, `budget_not_raised`, `model_not_budgetable`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub budget: Nullable<Budget>,
    /// Agent tools and MCP servers; only for sessions created from an agent or deployment
    /// reference, and not while the session is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<SessionAgentUpdate>,
    /// Vaults to attach; reserved, the API rejects requests that set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_ids: Option<Vec<VaultId>>,
}

crate::open_enum! {
    /// Sort direction of the session list, by `created_at`.
    pub enum SessionListOrder {
        /// Oldest first.
        Asc = "asc",
        /// Newest first (the default).
        Desc = "desc",
    }
}

/// Query of `GET /v1/sessions`.
///
/// `statuses` is sent as repeated `statuses[]=…` parameters (the SDK's bracket array format);
/// the HTTP layers do that encoding. An empty list sends nothing and matches every status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionListParams {
    /// Only sessions of this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Only sessions of this agent version; applies only with `agent_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<u32>,
    /// Sessions created after this time (exclusive).
    #[serde(
        rename = "created_at[gt]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_gt: Option<Timestamp>,
    /// Sessions created at or after this time.
    #[serde(
        rename = "created_at[gte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_gte: Option<Timestamp>,
    /// Sessions created before this time (exclusive).
    #[serde(
        rename = "created_at[lt]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_lt: Option<Timestamp>,
    /// Sessions created at or before this time.
    #[serde(
        rename = "created_at[lte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_lte: Option<Timestamp>,
    /// Only sessions created by this deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// Include archived sessions (excluded by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    /// Maximum items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only sessions with this memory store among their resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_store_id: Option<MemoryStoreId>,
    /// Sort direction; newest first by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<SessionListOrder>,
    /// Cursor from a previous page's `next_page` or `prev_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Only sessions with one of these statuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<SessionStatus>,
}
