//! Session events: everything the event list, the event stream and `POST …/events` carry.
//!
//! * [`SessionEvent`] is one open union over every event type: what the server emits (`agent.*`,
//!   `session.*`, `span.*`, `workflow_run.*`), the echoes of what clients sent (`user.*`,
//!   `system.message`), and the stream-only previews [`EventStart`] / [`EventDelta`]. Each
//!   variant wraps a struct named for its type (`agent.custom_tool_use` → [`AgentCustomToolUse`]).
//!   A type this version does not know is kept as raw JSON and written back byte for byte.
//! * [`UserEvent`] is what a client may send, in a [`SendEvents`] body.
//! * [`EventListParams`] and [`StreamParams`] are the queries of the list and stream endpoints.
//!
//! Server events carry `processed_at` as a required [`Timestamp`]; the echoes of client events
//! carry it as [`Nullable<Timestamp>`] (a `user.message` is "processed" only when the agent has
//! handled it), except `user.define_outcome`, whose echo always has it (as the SDK types it).
//!
//! ```
//! use steward_core::event::{SessionEvent, UserEvent};
//!
//! let line = r#"{"type":"session.status_idle","id":"sevt_1","processed_at":"2026-04-01T12:00:00Z",
//!     "stop_reason":{"type":"requires_action","event_ids":["sevt_0"]},"stop_details":null}"#;
//! let event: SessionEvent = serde_json::from_str(line).unwrap();
//! assert!(!event.is_terminal());
//! assert_eq!(event.requires_action_event_ids().unwrap()[0], "sevt_0");
//!
//! let reply = UserEvent::custom_tool_result("sevt_0", "42", false);
//! assert_eq!(reply.type_name(), "user.custom_tool_result");
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::content::{ContentBlock, TextContent};
use crate::session::{Budget, SessionAgent};
use crate::usage::{ModelUsage, SessionUsage};
use crate::{
    CredentialId, EventId, FileId, Metadata, Nullable, OutcomeId, SessionThreadId, Timestamp,
    VaultId, WorkflowPhaseId, WorkflowRunId,
};

/// A JSON object, as tool inputs are typed (`{ [key: string]: unknown }`).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

// ---------------------------------------------------------------------------------------------
// The union
// ---------------------------------------------------------------------------------------------

/// Fields every event struct may have, so that [`SessionEvent`] can answer them for any variant.
trait EventCommon {
    fn id(&self) -> Option<&EventId>;
    fn processed_at(&self) -> Option<&Timestamp>;
    fn session_thread_id(&self) -> Option<&SessionThreadId> {
        None
    }
}

/// Defines [`SessionEvent`] with `open_union!` and a dispatch to [`EventCommon`].
macro_rules! session_event_union {
    ($( $(#[$vmeta:meta])* $tag:literal => $variant:ident($ty:ty) ),* $(,)?) => {
        crate::open_union! {
            /// A session event, as the event list and the event stream return it.
            ///
            /// Open: a type this version does not know becomes [`SessionEvent::Unknown`],
            /// which keeps the raw JSON and serializes back unchanged. Clients should skip such
            /// events (the SDK helpers do).
            pub enum SessionEvent {
                $( $(#[$vmeta])* $tag => $variant($ty), )*
            }
        }

        impl SessionEvent {
            fn common(&self) -> Option<&dyn EventCommon> {
                match self {
                    $( Self::$variant(event) => Some(event), )*
                    Self::Unknown(_) => None,
                }
            }
        }
    };
}

session_event_union! {
    /// Echo of a `user.message`.
    "user.message" => UserMessage(UserMessage),
    /// Echo of a `user.interrupt`.
    "user.interrupt" => UserInterrupt(UserInterrupt),
    /// Echo of a `user.tool_confirmation`.
    "user.tool_confirmation" => UserToolConfirmation(UserToolConfirmation),
    /// Echo of a `user.custom_tool_result`.
    "user.custom_tool_result" => UserCustomToolResult(UserCustomToolResult),
    /// Echo of a `user.tool_result` (self-hosted environments).
    "user.tool_result" => UserToolResult(UserToolResult),
    /// Echo of a `user.define_outcome`, with the server-assigned outcome ID.
    "user.define_outcome" => UserDefineOutcome(UserDefineOutcome),
    /// Echo of a `system.message`.
    "system.message" => SystemMessage(SystemMessage),
    /// The agent replied.
    "agent.message" => AgentMessage(AgentMessage),
    /// The agent is thinking (a progress signal without content).
    "agent.thinking" => AgentThinking(AgentThinking),
    /// The agent called a built-in toolset tool.
    "agent.tool_use" => AgentToolUse(AgentToolUse),
    /// Result of a server-executed toolset tool.
    "agent.tool_result" => AgentToolResult(AgentToolResult),
    /// The agent called an MCP tool.
    "agent.mcp_tool_use" => AgentMcpToolUse(AgentMcpToolUse),
    /// Result of an MCP tool.
    "agent.mcp_tool_result" => AgentMcpToolResult(AgentMcpToolResult),
    /// The agent called a custom tool; the client must answer with `user.custom_tool_result`.
    "agent.custom_tool_use" => AgentCustomToolUse(AgentCustomToolUse),
    /// An agent sent a message to another thread.
    "agent.thread_message_sent" => AgentThreadMessageSent(AgentThreadMessageSent),
    /// A thread received a message from another thread.
    "agent.thread_message_received" => AgentThreadMessageReceived(AgentThreadMessageReceived),
    /// The thread's context was compacted.
    "agent.thread_context_compacted" => AgentThreadContextCompacted(AgentThreadContextCompacted),
    /// The session started running.
    "session.status_running" => SessionStatusRunning(SessionStatusRunning),
    /// The session went idle, with a stop reason.
    "session.status_idle" => SessionStatusIdle(SessionStatusIdle),
    /// The session is recovering from an error and was rescheduled.
    "session.status_rescheduled" => SessionStatusRescheduled(SessionStatusRescheduled),
    /// The session terminated.
    "session.status_terminated" => SessionStatusTerminated(SessionStatusTerminated),
    /// An error occurred while the session ran.
    "session.error" => SessionError(SessionError),
    /// The session was deleted; no further events follow.
    "session.deleted" => SessionDeleted(SessionDeleted),
    /// The session was updated (only the changed keys).
    "session.updated" => SessionUpdated(SessionUpdated),
    /// Periodic snapshot of the session's usage.
    "session.usage" => SessionUsage(SessionUsageEvent),
    /// A child thread was created.
    "session.thread_created" => SessionThreadCreated(SessionThreadCreated),
    /// A thread started running.
    "session.thread_status_running" => SessionThreadStatusRunning(SessionThreadStatusRunning),
    /// A thread went idle, with a stop reason.
    "session.thread_status_idle" => SessionThreadStatusIdle(SessionThreadStatusIdle),
    /// A thread hit a transient error and is retrying.
    "session.thread_status_rescheduled" => SessionThreadStatusRescheduled(SessionThreadStatusRescheduled),
    /// A thread terminated and accepts no further input.
    "session.thread_status_terminated" => SessionThreadStatusTerminated(SessionThreadStatusTerminated),
    /// A model request started.
    "span.model_request_start" => SpanModelRequestStart(SpanModelRequestStart),
    /// A model request ended, with its usage.
    "span.model_request_end" => SpanModelRequestEnd(SpanModelRequestEnd),
    /// An outcome evaluation cycle started.
    "span.outcome_evaluation_start" => SpanOutcomeEvaluationStart(SpanOutcomeEvaluationStart),
    /// An outcome evaluation cycle is still running (heartbeat).
    "span.outcome_evaluation_ongoing" => SpanOutcomeEvaluationOngoing(SpanOutcomeEvaluationOngoing),
    /// An outcome evaluation cycle ended, with its verdict.
    "span.outcome_evaluation_end" => SpanOutcomeEvaluationEnd(SpanOutcomeEvaluationEnd),
    /// A workflow run was created.
    "workflow_run.created" => WorkflowRunCreated(WorkflowRunCreated),
    /// A workflow run is running.
    "workflow_run.status_running" => WorkflowRunStatusRunning(WorkflowRunStatusRunning),
    /// A workflow run is idle.
    "workflow_run.status_idle" => WorkflowRunStatusIdle(WorkflowRunStatusIdle),
    /// A workflow run entered a phase.
    "workflow_run.phase_started" => WorkflowRunPhaseStarted(WorkflowRunPhaseStarted),
    /// A workflow run left a phase.
    "workflow_run.phase_ended" => WorkflowRunPhaseEnded(WorkflowRunPhaseEnded),
    /// A workflow run met an error, or one kept a run from being created.
    "workflow_run.error" => WorkflowRunError(WorkflowRunError),
    /// A workflow run ended.
    "workflow_run.status_ended" => WorkflowRunStatusEnded(WorkflowRunStatusEnded),
    /// Stream only: a preview of a buffered event opens.
    "event_start" => EventStart(EventStart),
    /// Stream only: a fragment of a previewed event.
    "event_delta" => EventDelta(EventDelta),
}

impl SessionEvent {
    /// The event's own ID; `None` for the stream-only previews (`event_start`, `event_delta`),
    /// which have none, and for unknown types (see [`SessionEvent::raw_id`]).
    pub fn id(&self) -> Option<&EventId> {
        self.common().and_then(EventCommon::id)
    }

    /// The event's `id` as a string, for every event that has one, unknown types included
    /// (useful to de-duplicate the stream against the list).
    pub fn raw_id(&self) -> Option<&str> {
        match self {
            Self::Unknown(raw) => raw.get("id").and_then(serde_json::Value::as_str),
            known => known.id().map(EventId::as_str),
        }
    }

    /// When the server processed the event; `None` for a client echo not processed yet, for the
    /// stream-only previews and for unknown types.
    pub fn processed_at(&self) -> Option<&Timestamp> {
        self.common().and_then(EventCommon::processed_at)
    }

    /// The thread the event belongs to or targets, where the event names one: cross-posted tool
    /// uses, routed results and confirmations, `session.thread_*` events and a targeted
    /// `user.interrupt`.
    pub fn session_thread_id(&self) -> Option<&SessionThreadId> {
        self.common().and_then(EventCommon::session_thread_id)
    }

    /// Whether the turn or the session is over: a `session.status_idle` with any stop reason but
    /// `requires_action` (an unknown stop reason counts as over, as in the SDK's runner), a
    /// `session.status_terminated` or a `session.deleted`.
    pub fn is_terminal(&self) -> bool {
        match self {
            Self::SessionStatusIdle(idle) => !idle.stop_reason.is_requires_action(),
            Self::SessionStatusTerminated(_) | Self::SessionDeleted(_) => true,
            _ => false,
        }
    }

    /// The events a `session.status_idle` with `requires_action` waits on; `None` for any other
    /// event. (A `session.thread_status_idle` has its own [`StopReason::event_ids`].)
    pub fn requires_action_event_ids(&self) -> Option<&[EventId]> {
        match self {
            Self::SessionStatusIdle(idle) => idle.stop_reason.event_ids(),
            _ => None,
        }
    }

    /// Whether the event only appears on streams that opted into previews
    /// (`event_start`, `event_delta`); such events never appear in the event list.
    pub fn is_stream_only(&self) -> bool {
        matches!(self, Self::EventStart(_) | Self::EventDelta(_))
    }
}

// ---------------------------------------------------------------------------------------------
// Event structs
// ---------------------------------------------------------------------------------------------

/// Defines server events that carry nothing but `id` and `processed_at`.
macro_rules! bare_events {
    ($( $(#[$meta:meta])* $name:ident ),* $(,)?) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                /// ID of the event.
                pub id: EventId,
                /// When the server processed the event.
                pub processed_at: Timestamp,
            }
        )*
    };
}

/// Implements [`EventCommon`] for events with a required `processed_at`.
macro_rules! server_common {
    ($($name:ty),* $(,)?) => {
        $(
            impl EventCommon for $name {
                fn id(&self) -> Option<&EventId> {
                    Some(&self.id)
                }
                fn processed_at(&self) -> Option<&Timestamp> {
                    Some(&self.processed_at)
                }
            }
        )*
    };
    ($($name:ty),* $(,)? ; thread) => {
        $(
            impl EventCommon for $name {
                fn id(&self) -> Option<&EventId> {
                    Some(&self.id)
                }
                fn processed_at(&self) -> Option<&Timestamp> {
                    Some(&self.processed_at)
                }
                fn session_thread_id(&self) -> Option<&SessionThreadId> {
                    Some(&self.session_thread_id)
                }
            }
        )*
    };
    ($($name:ty),* $(,)? ; optional thread) => {
        $(
            impl EventCommon for $name {
                fn id(&self) -> Option<&EventId> {
                    Some(&self.id)
                }
                fn processed_at(&self) -> Option<&Timestamp> {
                    Some(&self.processed_at)
                }
                fn session_thread_id(&self) -> Option<&SessionThreadId> {
                    self.session_thread_id.value()
                }
            }
        )*
    };
}

/// Implements [`EventCommon`] for client echoes, whose `processed_at` may be absent or `null`.
macro_rules! echo_common {
    ($($name:ty),* $(,)?) => {
        $(
            impl EventCommon for $name {
                fn id(&self) -> Option<&EventId> {
                    Some(&self.id)
                }
                fn processed_at(&self) -> Option<&Timestamp> {
                    self.processed_at.value()
                }
            }
        )*
    };
    ($($name:ty),* $(,)? ; optional thread) => {
        $(
            impl EventCommon for $name {
                fn id(&self) -> Option<&EventId> {
                    Some(&self.id)
                }
                fn processed_at(&self) -> Option<&Timestamp> {
                    self.processed_at.value()
                }
                fn session_thread_id(&self) -> Option<&SessionThreadId> {
                    self.session_thread_id.value()
                }
            }
        )*
    };
}

// --- client echoes ---------------------------------------------------------------------------

/// `user.message`: a user turn, as echoed back (see [`UserMessageParams`] to send one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserMessage {
    /// ID of the event.
    pub id: EventId,
    /// The message: `text`, `image`, `document` or `redacted` blocks.
    pub content: Vec<ContentBlock>,
    /// When the agent finished processing the message; `null` or absent until then.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub processed_at: Nullable<Timestamp>,
}

/// `user.interrupt`: a request to pause, as echoed back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInterrupt {
    /// ID of the event.
    pub id: EventId,
    /// When the interrupt was processed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub processed_at: Nullable<Timestamp>,
    /// The one thread to interrupt; absent interrupts every non-archived thread.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_thread_id: Nullable<SessionThreadId>,
}

/// `user.tool_confirmation`: the answer to a tool use with `evaluated_permission: "ask"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserToolConfirmation {
    /// ID of the event.
    pub id: EventId,
    /// `allow` or `deny`.
    pub result: ToolConfirmationResult,
    /// ID of the `agent.tool_use` or `agent.mcp_tool_use` event answered.
    pub tool_use_id: EventId,
    /// Why the call was denied (only with `deny`).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub deny_message: Nullable<String>,
    /// When the confirmation was processed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub processed_at: Nullable<Timestamp>,
    /// The subagent thread the confirmation was routed to; absent for the primary thread.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_thread_id: Nullable<SessionThreadId>,
}

/// `user.custom_tool_result`: the result of a custom tool, as echoed back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCustomToolResult {
    /// ID of the event.
    pub id: EventId,
    /// ID of the `agent.custom_tool_use` event answered.
    pub custom_tool_use_id: EventId,
    /// The result: `text`, `image`, `document` or `search_result` blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentBlock>>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub is_error: Nullable<bool>,
    /// When the result was processed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub processed_at: Nullable<Timestamp>,
    /// The subagent thread the result was routed to; absent for the primary thread.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_thread_id: Nullable<SessionThreadId>,
}

/// `user.tool_result`: the result of a toolset tool run by a self-hosted worker, as echoed back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserToolResult {
    /// ID of the event.
    pub id: EventId,
    /// ID of the `agent.tool_use` event answered.
    pub tool_use_id: EventId,
    /// The result: `text`, `image`, `document` or `search_result` blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentBlock>>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub is_error: Nullable<bool>,
    /// When the result was processed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub processed_at: Nullable<Timestamp>,
    /// The subagent thread the result was routed to; absent for the primary thread.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_thread_id: Nullable<SessionThreadId>,
}

/// `user.define_outcome`: echo of an outcome definition, with the server's outcome ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDefineOutcome {
    /// ID of the event.
    pub id: EventId,
    /// What the agent should produce.
    pub description: String,
    /// Evaluate-then-revise cycles before giving up (default 3, max 20); `null` for the default.
    pub max_iterations: Option<u32>,
    /// ID the server gave the outcome; `span.outcome_evaluation_*` events refer to it.
    pub outcome_id: OutcomeId,
    /// When the outcome was accepted (required on this echo, unlike the other echoes).
    pub processed_at: Timestamp,
    /// How the outcome is graded. A file rubric may come back resolved to text.
    pub rubric: Rubric,
}

/// `system.message`: system-role context appended to the conversation, as echoed back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemMessage {
    /// ID of the event.
    pub id: EventId,
    /// Text blocks.
    pub content: Vec<TextContent>,
    /// When the message was processed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub processed_at: Nullable<Timestamp>,
}

echo_common!(UserMessage, SystemMessage);
echo_common!(UserInterrupt, UserToolConfirmation, UserCustomToolResult, UserToolResult; optional thread);
server_common!(UserDefineOutcome);

// --- agent events ----------------------------------------------------------------------------

/// `agent.message`: a reply of the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentMessage {
    /// ID of the event.
    pub id: EventId,
    /// The reply: `text` and `redacted` blocks.
    pub content: Vec<ContentBlock>,
    /// When the reply was generated.
    pub processed_at: Timestamp,
}

impl AgentMessage {
    /// The text of the reply: every `text` block, concatenated (other blocks are skipped).
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect()
    }
}

/// `agent.tool_use`: the agent called a tool of the built-in toolset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentToolUse {
    /// ID of the event; results and confirmations refer to it.
    pub id: EventId,
    /// Input of the call.
    pub input: JsonObject,
    /// Name of the tool (`bash`, `read`, …).
    pub name: String,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// What the permission policy decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_permission: Option<EvaluatedPermission>,
    /// Which policy produced `evaluated_permission`; absent when the call was refused before any
    /// policy applied (for example a tool that is not enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<ToolEvaluation>,
    /// Set when the event was cross-posted from a subagent's thread.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_thread_id: Nullable<SessionThreadId>,
}

/// `agent.tool_result`: the result of a toolset tool the server ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentToolResult {
    /// ID of the event.
    pub id: EventId,
    /// ID of the `agent.tool_use` event this answers.
    pub tool_use_id: EventId,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// The result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentBlock>>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub is_error: Nullable<bool>,
}

/// `agent.mcp_tool_use`: the agent called a tool of an MCP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentMcpToolUse {
    /// ID of the event; results and confirmations refer to it.
    pub id: EventId,
    /// Input of the call.
    pub input: JsonObject,
    /// Name of the MCP server providing the tool.
    pub mcp_server_name: String,
    /// Name of the tool.
    pub name: String,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// What the permission policy decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_permission: Option<EvaluatedPermission>,
    /// Which policy produced `evaluated_permission` (see [`AgentToolUse::evaluation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<ToolEvaluation>,
    /// Set when the event was cross-posted from a subagent's thread.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_thread_id: Nullable<SessionThreadId>,
}

/// `agent.mcp_tool_result`: the result of an MCP tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentMcpToolResult {
    /// ID of the event.
    pub id: EventId,
    /// ID of the `agent.mcp_tool_use` event this answers.
    pub mcp_tool_use_id: EventId,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// The result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentBlock>>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub is_error: Nullable<bool>,
}

/// `agent.custom_tool_use`: the agent called a custom tool. The session waits (idle with
/// `requires_action`) until the client sends a `user.custom_tool_result`, which it may do as soon
/// as this event arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCustomToolUse {
    /// ID of the event; the result's `custom_tool_use_id`.
    pub id: EventId,
    /// Input of the call.
    pub input: JsonObject,
    /// Name of the custom tool.
    pub name: String,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// Set when the event was cross-posted from a subagent's thread (informational: the result
    /// is routed by `custom_tool_use_id`).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_thread_id: Nullable<SessionThreadId>,
}

/// Decodes a tool input into typed arguments.
fn decode_input<T: DeserializeOwned>(input: &JsonObject) -> Result<T, serde_json::Error> {
    T::deserialize(serde_json::Value::Object(input.clone()))
}

impl AgentCustomToolUse {
    /// Decodes the input into the tool's argument type.
    pub fn input_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        decode_input(&self.input)
    }
}

impl AgentToolUse {
    /// Decodes the input into the tool's argument type.
    pub fn input_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        decode_input(&self.input)
    }
}

/// `agent.thread_message_sent`: an agent sent a message to another thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentThreadMessageSent {
    /// ID of the event.
    pub id: EventId,
    /// The message: `text`, `image`, `document` or `redacted` blocks.
    pub content: Vec<ContentBlock>,
    /// When the message was sent.
    pub processed_at: Timestamp,
    /// The thread the message went to.
    pub to_session_thread_id: SessionThreadId,
    /// Name of the callable agent it went to; absent or `null` for the primary agent.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub to_agent_name: Nullable<String>,
}

/// `agent.thread_message_received`: a thread received a message from another thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentThreadMessageReceived {
    /// ID of the event.
    pub id: EventId,
    /// The message: `text`, `image`, `document` or `redacted` blocks.
    pub content: Vec<ContentBlock>,
    /// The thread the message came from.
    pub from_session_thread_id: SessionThreadId,
    /// When the message was received.
    pub processed_at: Timestamp,
    /// Name of the callable agent it came from; absent or `null` for the primary agent.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub from_agent_name: Nullable<String>,
}

bare_events! {
    /// `agent.thinking`: the agent is making progress through extended thinking (no text).
    AgentThinking,
    /// `agent.thread_context_compacted`: the thread's context was summarized.
    AgentThreadContextCompacted,
}

server_common!(
    AgentMessage,
    AgentThinking,
    AgentToolResult,
    AgentMcpToolResult,
    AgentThreadMessageSent,
    AgentThreadMessageReceived,
    AgentThreadContextCompacted,
);
server_common!(AgentToolUse, AgentMcpToolUse, AgentCustomToolUse; optional thread);

// --- session events --------------------------------------------------------------------------

bare_events! {
    /// `session.status_running`: the agent is working.
    SessionStatusRunning,
    /// `session.status_rescheduled`: the session is recovering from an error.
    SessionStatusRescheduled,
    /// `session.status_terminated`: the session ended for good.
    SessionStatusTerminated,
    /// `session.deleted`: the session was deleted; every open stream ends.
    SessionDeleted,
}

/// `session.status_idle`: the agent stopped and waits for input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStatusIdle {
    /// ID of the event.
    pub id: EventId,
    /// When the status changed.
    pub processed_at: Timestamp,
    /// More about why it stopped; `null` when there is nothing more to say.
    pub stop_details: Option<StopDetails>,
    /// Why it stopped.
    pub stop_reason: StopReason,
}

/// `session.error`: something went wrong while the session ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionError {
    /// ID of the event.
    pub id: EventId,
    /// What went wrong, and what the server does about it.
    pub error: SessionErrorObject,
    /// When the error occurred.
    pub processed_at: Timestamp,
}

/// `session.updated`: the session was updated. Only the changed keys are present; the changes
/// apply from the next turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUpdated {
    /// ID of the event.
    pub id: EventId,
    /// When the update was applied.
    pub processed_at: Timestamp,
    /// The full agent snapshot (not a diff), present when the update changed tools or MCP
    /// servers. Boxed: it is by far the largest field of any event.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub agent: Nullable<Box<SessionAgent>>,
    /// The budget after the update (`null` when removed); present when it changed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub budget: Nullable<Budget>,
    /// The full metadata after the update; absent when unchanged or cleared to empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The new title; present when it changed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub title: Nullable<String>,
}

/// `session.usage`: a periodic snapshot of the session's cumulative usage.
///
/// Named `…Event` so that it is not confused with [`crate::usage::SessionUsage`], the snapshot
/// it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUsageEvent {
    /// ID of the event.
    pub id: EventId,
    /// When the snapshot was taken.
    pub processed_at: Timestamp,
    /// Cumulative usage at that time.
    pub usage: SessionUsage,
    /// The budget at that time; `null` when the session has none.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub budget: Nullable<Budget>,
}

/// `session.thread_created`: a child thread was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionThreadCreated {
    /// ID of the event.
    pub id: EventId,
    /// Name of the callable agent the thread runs.
    pub agent_name: String,
    /// When the thread was created.
    pub processed_at: Timestamp,
    /// ID of the new thread.
    pub session_thread_id: SessionThreadId,
    /// The workflow run that created the thread; `null` for any other thread.
    pub workflow_run_id: Option<WorkflowRunId>,
}

/// Defines `session.thread_status_*` events without a stop reason.
macro_rules! thread_status_events {
    ($( $(#[$meta:meta])* $name:ident ),* $(,)?) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                /// ID of the event.
                pub id: EventId,
                /// Name of the agent the thread runs.
                pub agent_name: String,
                /// When the status changed.
                pub processed_at: Timestamp,
                /// The thread.
                pub session_thread_id: SessionThreadId,
            }
        )*
    };
}

thread_status_events! {
    /// `session.thread_status_running`: a thread started working.
    SessionThreadStatusRunning,
    /// `session.thread_status_rescheduled`: a thread hit a transient error and is retrying.
    SessionThreadStatusRescheduled,
    /// `session.thread_status_terminated`: a thread ended and accepts no further input, so its
    /// open tool calls can never be answered.
    SessionThreadStatusTerminated,
}

/// `session.thread_status_idle`: a thread stopped and waits for input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionThreadStatusIdle {
    /// ID of the event.
    pub id: EventId,
    /// Name of the agent the thread runs.
    pub agent_name: String,
    /// When the status changed.
    pub processed_at: Timestamp,
    /// The thread.
    pub session_thread_id: SessionThreadId,
    /// More about why it stopped; `null` when there is nothing more to say.
    pub stop_details: Option<StopDetails>,
    /// Why it stopped.
    pub stop_reason: StopReason,
}

server_common!(
    SessionStatusRunning,
    SessionStatusIdle,
    SessionStatusRescheduled,
    SessionStatusTerminated,
    SessionError,
    SessionDeleted,
    SessionUpdated,
    SessionUsageEvent,
);
server_common!(
    SessionThreadCreated,
    SessionThreadStatusRunning,
    SessionThreadStatusIdle,
    SessionThreadStatusRescheduled,
    SessionThreadStatusTerminated;
    thread
);

// --- spans -----------------------------------------------------------------------------------

bare_events! {
    /// `span.model_request_start`: a model request started.
    SpanModelRequestStart,
}

/// `span.model_request_end`: a model request ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanModelRequestEnd {
    /// ID of the event.
    pub id: EventId,
    /// Whether the request failed.
    pub is_error: Option<bool>,
    /// ID of the matching `span.model_request_start`.
    pub model_request_start_id: EventId,
    /// Tokens of this request.
    pub model_usage: ModelUsage,
    /// When the request completed.
    pub processed_at: Timestamp,
}

/// `span.outcome_evaluation_start`: an outcome evaluation cycle started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanOutcomeEvaluationStart {
    /// ID of the event.
    pub id: EventId,
    /// Revision cycle, from 0.
    pub iteration: u32,
    /// The outcome being evaluated.
    pub outcome_id: OutcomeId,
    /// When the evaluation started.
    pub processed_at: Timestamp,
}

/// `span.outcome_evaluation_ongoing`: a heartbeat while an evaluation cycle runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanOutcomeEvaluationOngoing {
    /// ID of the event.
    pub id: EventId,
    /// Revision cycle, from 0.
    pub iteration: u32,
    /// The outcome being evaluated.
    pub outcome_id: OutcomeId,
    /// When the heartbeat was emitted.
    pub processed_at: Timestamp,
}

/// `span.outcome_evaluation_end`: an outcome evaluation cycle ended with a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanOutcomeEvaluationEnd {
    /// ID of the event.
    pub id: EventId,
    /// Why the grader decided so; for `needs_revision`, what is missing.
    pub explanation: String,
    /// Revision cycle, from 0.
    pub iteration: u32,
    /// ID of the matching `span.outcome_evaluation_start`.
    pub outcome_evaluation_start_id: EventId,
    /// The outcome evaluated.
    pub outcome_id: OutcomeId,
    /// When the evaluation ended.
    pub processed_at: Timestamp,
    /// The verdict.
    pub result: OutcomeVerdict,
    /// Tokens of every grader request of this cycle, summed.
    pub usage: ModelUsage,
}

crate::open_enum! {
    /// Verdict of an outcome evaluation cycle (`result` of `span.outcome_evaluation_end`).
    pub enum OutcomeVerdict {
        /// The criteria are met; the session goes idle.
        Satisfied = "satisfied",
        /// The criteria are not met; another revision cycle follows.
        NeedsRevision = "needs_revision",
        /// The evaluation budget is spent; one final acknowledgement turn follows.
        MaxIterationsReached = "max_iterations_reached",
        /// The grader found that the rubric does not apply.
        Failed = "failed",
        /// A user interrupt arrived during the evaluation.
        Interrupted = "interrupted",
    }
}

server_common!(
    SpanModelRequestStart,
    SpanModelRequestEnd,
    SpanOutcomeEvaluationStart,
    SpanOutcomeEvaluationOngoing,
    SpanOutcomeEvaluationEnd,
);

// --- workflow runs ---------------------------------------------------------------------------

/// `workflow_run.created`: the agent started a workflow run (background work).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunCreated {
    /// ID of the event.
    pub id: EventId,
    /// Description the agent gave the run; `null` if none.
    pub description: Option<String>,
    /// Name of the run.
    pub name: String,
    /// The phases the run's plan declares, in order (may be empty).
    pub phases: Vec<WorkflowRunPhase>,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// ID of the run.
    pub workflow_run_id: WorkflowRunId,
}

/// A phase a workflow run's plan declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunPhase {
    /// ID of the phase.
    pub id: WorkflowPhaseId,
    /// Description the agent gave the phase; `null` if none.
    pub description: Option<String>,
    /// Name of the phase.
    pub name: String,
}

/// Defines `workflow_run.status_*` events that carry only the run ID.
macro_rules! workflow_status_events {
    ($( $(#[$meta:meta])* $name:ident ),* $(,)?) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                /// ID of the event.
                pub id: EventId,
                /// When the event was processed.
                pub processed_at: Timestamp,
                /// ID of the run.
                pub workflow_run_id: WorkflowRunId,
            }
        )*
    };
}

workflow_status_events! {
    /// `workflow_run.status_running`: a run started or resumed.
    WorkflowRunStatusRunning,
    /// `workflow_run.status_idle`: a run went idle.
    WorkflowRunStatusIdle,
}

/// `workflow_run.phase_started`: a run's plan entered a phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunPhaseStarted {
    /// ID of the event; the matching `phase_ended` refers to it.
    pub id: EventId,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// ID of the run.
    pub workflow_run_id: WorkflowRunId,
    /// ID of the phase, as in `phases` of `workflow_run.created`.
    pub workflow_run_phase_id: WorkflowPhaseId,
}

/// `workflow_run.phase_ended`: a run's plan left a phase, or the run's end closed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunPhaseEnded {
    /// ID of the event.
    pub id: EventId,
    /// ID of the `workflow_run.phase_started` event that opened the phase.
    pub phase_started_id: EventId,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// ID of the run.
    pub workflow_run_id: WorkflowRunId,
    /// ID of the phase.
    pub workflow_run_phase_id: WorkflowPhaseId,
}

/// `workflow_run.error`: a run met an error, or an error kept a run from being created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunError {
    /// ID of the event.
    pub id: EventId,
    /// Why the run did not finish, or was not created.
    pub error: WorkflowRunErrorObject,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// ID of the run; `null` when the error kept the run from being created.
    pub workflow_run_id: Option<WorkflowRunId>,
}

/// `workflow_run.status_ended`: a run ended (its last event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunStatusEnded {
    /// ID of the event.
    pub id: EventId,
    /// When the event was processed.
    pub processed_at: Timestamp,
    /// How the run ended.
    pub result: WorkflowRunResult,
    /// ID of the run.
    pub workflow_run_id: WorkflowRunId,
}

server_common!(
    WorkflowRunCreated,
    WorkflowRunStatusRunning,
    WorkflowRunStatusIdle,
    WorkflowRunPhaseStarted,
    WorkflowRunPhaseEnded,
    WorkflowRunError,
    WorkflowRunStatusEnded,
);

/// Defines the `{message}` objects of workflow run errors.
macro_rules! message_objects {
    ($( $(#[$meta:meta])* $name:ident ),* $(,)?) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                /// Short explanation by the server (never content of the run).
                pub message: String,
            }
        )*
    };
}

message_objects! {
    /// `timeout_error`: the run reached its time limit.
    WorkflowTimeoutError,
    /// `program_error`: the plan (a program the agent wrote) failed, or the server refused it.
    WorkflowProgramError,
    /// `unknown_error`: a failure without a type of its own.
    WorkflowUnknownError,
    /// `thread_limit_error`: the run exceeded its limit of threads.
    WorkflowThreadLimitError,
    /// `max_workflow_runs_error`: no run was created; the session has too many open runs.
    WorkflowMaxRunsError,
}

crate::open_union! {
    /// Why a workflow run did not finish, or was not created.
    pub enum WorkflowRunErrorObject {
        /// The run reached its time limit.
        "timeout_error" => Timeout(WorkflowTimeoutError),
        /// The plan failed or was refused.
        "program_error" => Program(WorkflowProgramError),
        /// A failure without a type of its own.
        "unknown_error" => UnknownError(WorkflowUnknownError),
        /// Too many threads.
        "thread_limit_error" => ThreadLimit(WorkflowThreadLimitError),
        /// Too many open runs.
        "max_workflow_runs_error" => MaxWorkflowRuns(WorkflowMaxRunsError),
    }
}

/// `completed`: the run's plan finished (which says nothing of whether the work succeeded).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunCompleted {}

/// `error`: the run failed or reached its time limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunFailed {
    /// Why the run did not finish.
    pub error: WorkflowRunErrorObject,
}

/// `stopped`: the agent stopped the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunStopped {}

crate::open_union! {
    /// How a workflow run ended.
    pub enum WorkflowRunResult {
        /// The plan finished.
        "completed" => Completed(WorkflowRunCompleted),
        /// The run failed.
        "error" => Error(WorkflowRunFailed),
        /// The agent stopped the run.
        "stopped" => Stopped(WorkflowRunStopped),
    }
}

// --- stream-only previews --------------------------------------------------------------------

/// `event_start` (stream only): a preview of a buffered event opens. Deltas with the same event
/// ID may follow; the buffered event with that ID concludes the preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventStart {
    /// Type and ID of the previewed event.
    pub event: EventPreview,
}

/// The `agent.message` being previewed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentMessagePreview {
    /// ID the buffered `agent.message` will carry.
    pub id: EventId,
}

/// The `agent.thinking` being previewed (start only: no deltas follow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentThinkingPreview {
    /// ID the buffered `agent.thinking` will carry.
    pub id: EventId,
}

crate::open_union! {
    /// The event an `event_start` previews.
    pub enum EventPreview {
        /// An `agent.message`; `content_delta` fragments follow.
        "agent.message" => AgentMessage(AgentMessagePreview),
        /// An `agent.thinking`; nothing follows until the event itself.
        "agent.thinking" => AgentThinking(AgentThinkingPreview),
    }
}

impl EventPreview {
    /// ID of the previewed event (`None` for an unknown preview without a string `id`).
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::AgentMessage(preview) => Some(preview.id.as_str()),
            Self::AgentThinking(preview) => Some(preview.id.as_str()),
            Self::Unknown(raw) => raw.get("id").and_then(serde_json::Value::as_str),
        }
    }
}

/// `event_delta` (stream only): one fragment of a previewed event. Best effort: the buffered
/// event with the same ID is authoritative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDelta {
    /// The fragment.
    pub delta: Delta,
    /// ID of the previewed event.
    pub event_id: EventId,
}

/// `content_delta`: a fragment of the `content` array of an `agent.message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentDelta {
    /// The fragment, typed like the element itself (a text block).
    pub content: ContentBlock,
    /// Which entry of `content` the fragment belongs to (absent means 0): a new index opens an
    /// entry, an existing one is appended to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

crate::open_union! {
    /// A fragment carried by `event_delta`.
    pub enum Delta {
        /// A fragment of `content`.
        "content_delta" => Content(ContentDelta),
    }
}

impl EventCommon for EventStart {
    fn id(&self) -> Option<&EventId> {
        None
    }
    fn processed_at(&self) -> Option<&Timestamp> {
        None
    }
}

impl EventCommon for EventDelta {
    fn id(&self) -> Option<&EventId> {
        None
    }
    fn processed_at(&self) -> Option<&Timestamp> {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Stop reasons and details
// ---------------------------------------------------------------------------------------------

/// `end_turn`: the turn finished normally.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndTurn {}

/// `requires_action`: the agent waits on client input for these events (custom tool uses, `ask`
/// confirmations, self-hosted tool uses). Answering some re-emits idle with the rest; answering
/// all resumes the session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequiresAction {
    /// IDs of the events awaiting an answer.
    pub event_ids: Vec<EventId>,
}

/// `retries_exhausted`: the retry budget is spent, or an error escalated to `exhausted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetriesExhausted {}

/// `budget_reached`: the tracked list cost reached the session's budget (or an unpriced model ran).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetReached {}

/// `refusal`: the model's response was refused (see [`StopDetails`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Refusal {}

crate::open_union! {
    /// Why a session or thread went idle. Any value this version does not know ends the turn.
    pub enum StopReason {
        /// The turn finished normally.
        "end_turn" => EndTurn(EndTurn),
        /// Blocked on client input.
        "requires_action" => RequiresAction(RequiresAction),
        /// Retries are exhausted.
        "retries_exhausted" => RetriesExhausted(RetriesExhausted),
        /// The budget is reached.
        "budget_reached" => BudgetReached(BudgetReached),
        /// The model's response was refused.
        "refusal" => Refusal(Refusal),
    }
}

impl StopReason {
    /// `end_turn`.
    pub fn end_turn() -> Self {
        Self::EndTurn(EndTurn {})
    }

    /// `requires_action` waiting on `event_ids`.
    pub fn requires_action(event_ids: impl IntoIterator<Item = EventId>) -> Self {
        Self::RequiresAction(RequiresAction {
            event_ids: event_ids.into_iter().collect(),
        })
    }

    /// Whether the agent waits on client input (the only stop reason that keeps a turn open).
    pub fn is_requires_action(&self) -> bool {
        matches!(self, Self::RequiresAction(_))
    }

    /// The events awaiting an answer, for `requires_action`.
    pub fn event_ids(&self) -> Option<&[EventId]> {
        match self {
            Self::RequiresAction(action) => Some(&action.event_ids),
            _ => None,
        }
    }
}

/// Details of a `refusal`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusalStopDetails {
    /// The policy category that triggered the refusal; `null` when none is named.
    pub category: Option<RefusalCategory>,
    /// Human-readable explanation (do not parse it); `null` when none is available.
    pub explanation: Option<String>,
}

crate::open_enum! {
    /// Policy category of a refusal.
    pub enum RefusalCategory {
        /// Cyber security.
        Cyber = "cyber",
        /// Biology.
        Bio = "bio",
        /// Frontier LLM development.
        FrontierLlm = "frontier_llm",
        /// Extraction of reasoning.
        ReasoningExtraction = "reasoning_extraction",
        /// General harms.
        GeneralHarms = "general_harms",
    }
}

crate::open_union! {
    /// More about why a session or thread stopped (`stop_details`).
    pub enum StopDetails {
        /// The response was refused.
        "refusal" => Refusal(RefusalStopDetails),
    }
}

// ---------------------------------------------------------------------------------------------
// Session errors
// ---------------------------------------------------------------------------------------------

/// `retrying`: the server retries by itself; the error may repeat, then end `exhausted`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Retrying {}

/// `exhausted`: the turn is dead, queued inputs are flushed, the session returns to idle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exhausted {}

/// `terminal`: the session will terminate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Terminal {}

crate::open_union! {
    /// What the server does about a session error, and so what the client should do.
    pub enum RetryStatus {
        /// The server retries; wait.
        "retrying" => Retrying(Retrying),
        /// The turn is over; send a new prompt.
        "exhausted" => Exhausted(Exhausted),
        /// The session will terminate.
        "terminal" => Terminal(Terminal),
    }
}

/// The fields every session error object has.
trait SessionErrorFields {
    fn message(&self) -> &str;
    fn retry_status(&self) -> &RetryStatus;
}

/// Defines session error objects: their own fields, then `message` and `retry_status`.
macro_rules! session_error_objects {
    ($(
        $(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)? }
    )*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                $( $(#[$fmeta])* pub $field: $ty, )*
                /// Human-readable description.
                pub message: String,
                /// What the server does about it.
                pub retry_status: RetryStatus,
            }

            impl SessionErrorFields for $name {
                fn message(&self) -> &str {
                    &self.message
                }
                fn retry_status(&self) -> &RetryStatus {
                    &self.retry_status
                }
            }
        )*
    };
}

session_error_objects! {
    /// `unknown_error`: an unexpected error (match on `retry_status` and `message`).
    UnknownSessionError {}
    /// `model_overloaded_error`: the model is overloaded.
    ModelOverloadedError {}
    /// `model_rate_limited_error`: the model request was rate-limited.
    ModelRateLimitedError {}
    /// `model_request_failed_error`: a model request failed for another reason.
    ModelRequestFailedError {}
    /// `mcp_connection_failed_error`: connecting to an MCP server failed.
    McpConnectionFailedError {
        /// Name of the MCP server.
        mcp_server_name: String,
    }
    /// `mcp_authentication_failed_error`: authenticating to an MCP server failed.
    McpAuthenticationFailedError {
        /// Name of the MCP server.
        mcp_server_name: String,
    }
    /// `billing_error`: the organization cannot make model requests (credits or spend limit).
    BillingError {}
    /// `credential_host_unreachable_error`: a credential allows a host the environment's network
    /// policy does not.
    CredentialHostUnreachableError {
        /// The credential.
        credential_id: CredentialId,
        /// The vault holding it.
        vault_id: VaultId,
    }
    /// `tool_use_limit_reached_error`: the turn reached its limit of tool-use rounds.
    ToolUseLimitReachedError {}
    /// `compaction_limit_reached_error`: the context was compacted too many times in a row.
    CompactionLimitReachedError {}
    /// `repository_authentication_error`: the repository host rejected (or required) credentials.
    RepositoryAuthenticationError {
        /// URL of the repository; `null` when it could not be identified.
        repository_url: Option<String>,
    }
    /// `repository_forbidden_error`: the repository host refused access.
    RepositoryForbiddenError {
        /// URL of the repository; `null` when it could not be identified.
        repository_url: Option<String>,
    }
    /// `repository_not_found_error`: the repository host reported no such repository.
    RepositoryNotFoundError {
        /// URL of the repository; `null` when it could not be identified.
        repository_url: Option<String>,
    }
    /// `repository_checkout_error`: the branch or commit does not exist.
    RepositoryCheckoutError {
        /// URL of the repository; `null` when it could not be identified.
        repository_url: Option<String>,
    }
    /// `repository_clone_error`: the repository could not be cloned.
    RepositoryCloneError {
        /// URL of the repository; `null` when it could not be identified.
        repository_url: Option<String>,
    }
}

crate::open_union! {
    /// The `error` of a `session.error` event. Repository errors are always `retrying`: the
    /// session continues without the repository.
    pub enum SessionErrorObject {
        /// An unexpected error.
        "unknown_error" => UnknownError(UnknownSessionError),
        /// The model is overloaded.
        "model_overloaded_error" => ModelOverloaded(ModelOverloadedError),
        /// Rate-limited.
        "model_rate_limited_error" => ModelRateLimited(ModelRateLimitedError),
        /// A model request failed.
        "model_request_failed_error" => ModelRequestFailed(ModelRequestFailedError),
        /// An MCP server is unreachable.
        "mcp_connection_failed_error" => McpConnectionFailed(McpConnectionFailedError),
        /// An MCP server rejected authentication.
        "mcp_authentication_failed_error" => McpAuthenticationFailed(McpAuthenticationFailedError),
        /// Billing problem.
        "billing_error" => Billing(BillingError),
        /// A credential's host is not allowed by the network policy.
        "credential_host_unreachable_error" => CredentialHostUnreachable(CredentialHostUnreachableError),
        /// Too many tool-use rounds.
        "tool_use_limit_reached_error" => ToolUseLimitReached(ToolUseLimitReachedError),
        /// Too many compactions in a row.
        "compaction_limit_reached_error" => CompactionLimitReached(CompactionLimitReachedError),
        /// Repository credentials rejected.
        "repository_authentication_error" => RepositoryAuthentication(RepositoryAuthenticationError),
        /// Repository access refused.
        "repository_forbidden_error" => RepositoryForbidden(RepositoryForbiddenError),
        /// No such repository.
        "repository_not_found_error" => RepositoryNotFound(RepositoryNotFoundError),
        /// No such branch or commit.
        "repository_checkout_error" => RepositoryCheckout(RepositoryCheckoutError),
        /// Clone failed.
        "repository_clone_error" => RepositoryClone(RepositoryCloneError),
    }
}

impl SessionErrorObject {
    fn known(&self) -> Option<&dyn SessionErrorFields> {
        Some(match self {
            Self::UnknownError(e) => e,
            Self::ModelOverloaded(e) => e,
            Self::ModelRateLimited(e) => e,
            Self::ModelRequestFailed(e) => e,
            Self::McpConnectionFailed(e) => e,
            Self::McpAuthenticationFailed(e) => e,
            Self::Billing(e) => e,
            Self::CredentialHostUnreachable(e) => e,
            Self::ToolUseLimitReached(e) => e,
            Self::CompactionLimitReached(e) => e,
            Self::RepositoryAuthentication(e) => e,
            Self::RepositoryForbidden(e) => e,
            Self::RepositoryNotFound(e) => e,
            Self::RepositoryCheckout(e) => e,
            Self::RepositoryClone(e) => e,
            Self::Unknown(_) => return None,
        })
    }

    /// The human-readable message. For an error type this version does not know, the
    /// `message` of the raw object (every documented error type has one).
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Unknown(raw) => raw.get("message").and_then(serde_json::Value::as_str),
            known => known.known().map(SessionErrorFields::message),
        }
    }

    /// What the server does about the error. For an error type this version does not know,
    /// the `retry_status` of the raw object, so a client can still act on it as the API
    /// advises.
    pub fn retry_status(&self) -> Option<RetryStatus> {
        match self {
            Self::Unknown(raw) => raw
                .get("retry_status")
                .and_then(|status| RetryStatus::deserialize(status).ok()),
            known => known.known().map(|e| e.retry_status().clone()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

crate::open_enum! {
    /// What the permission policy decided for a tool call (`evaluated_permission`).
    pub enum EvaluatedPermission {
        /// The call runs.
        Allow = "allow",
        /// The call waits for a `user.tool_confirmation`.
        Ask = "ask",
        /// The call does not run.
        Deny = "deny",
    }
}

/// `always_allow`: the resolved policy was `always_allow` (with `evaluated_permission: allow`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlwaysAllow {}

/// `always_ask`: the resolved policy was `always_ask` (with `evaluated_permission: ask`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlwaysAsk {}

/// `auto`: the server judged this call individually.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoEvaluation {
    /// The server's judgement; its type equals the event's `evaluated_permission`.
    pub evaluated_permission: AutoPermission,
}

crate::open_union! {
    /// Which resolved permission policy produced a tool call's `evaluated_permission`.
    pub enum ToolEvaluation {
        /// Always allowed.
        "always_allow" => AlwaysAllow(AlwaysAllow),
        /// Always asked.
        "always_ask" => AlwaysAsk(AlwaysAsk),
        /// Judged by the server.
        "auto" => Auto(AutoEvaluation),
    }
}

/// `allow`: judged safe to run without approval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AutoAllow {}

/// `ask`: no judgement reached; the call is held for client approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoAsk {
    /// The grounds, for branching and audit (not for display).
    pub reason_code: ReasonCode,
}

/// `deny`: judged high-risk (or not judged and not held); the call does not run and the server
/// appends a synthetic error result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoDeny {
    /// The grounds, for branching and audit (not for display).
    pub reason_code: ReasonCode,
}

crate::open_union! {
    /// The server's judgement of a call under the `auto` policy.
    pub enum AutoPermission {
        /// Safe to run.
        "allow" => Allow(AutoAllow),
        /// Held for approval.
        "ask" => Ask(AutoAsk),
        /// Refused.
        "deny" => Deny(AutoDeny),
    }
}

crate::open_enum! {
    /// Grounds of an `auto` judgement (an open registry).
    pub enum ReasonCode {
        /// No judgement was reached.
        Indeterminate = "indeterminate",
        /// Judged high-risk.
        HighRisk = "high_risk",
    }
}

crate::open_enum! {
    /// The answer of a `user.tool_confirmation`.
    pub enum ToolConfirmationResult {
        /// Let the call run.
        Allow = "allow",
        /// Refuse the call; it never runs.
        Deny = "deny",
    }
}

// ---------------------------------------------------------------------------------------------
// Outcome rubrics
// ---------------------------------------------------------------------------------------------

/// A rubric given inline: `{type:"text", content}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextRubric {
    /// Plain text or markdown (at most 262 144 characters).
    pub content: String,
}

/// A rubric in a file uploaded through the Files API: `{type:"file", file_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRubric {
    /// ID of the rubric file.
    pub file_id: FileId,
}

crate::open_union! {
    /// How an outcome is graded.
    pub enum Rubric {
        /// Inline text.
        "text" => Text(TextRubric),
        /// A file.
        "file" => File(FileRubric),
    }
}

impl Rubric {
    /// An inline text rubric.
    pub fn text(content: impl Into<String>) -> Self {
        Self::Text(TextRubric {
            content: content.into(),
        })
    }

    /// A rubric read from an uploaded file.
    pub fn file(file_id: impl Into<FileId>) -> Self {
        Self::File(FileRubric {
            file_id: file_id.into(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Sending events
// ---------------------------------------------------------------------------------------------

/// Parameters of a `user.message`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserMessageParams {
    /// The message: `text`, `image`, `document` or `redacted` blocks.
    pub content: Vec<ContentBlock>,
}

/// Parameters of a `user.interrupt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserInterruptParams {
    /// The one thread to interrupt; absent interrupts every non-archived thread (or the primary).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub session_thread_id: Nullable<SessionThreadId>,
}

/// Parameters of a `user.tool_confirmation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserToolConfirmationParams {
    /// `allow` or `deny`.
    pub result: ToolConfirmationResult,
    /// ID of the `agent.tool_use` or `agent.mcp_tool_use` event answered.
    pub tool_use_id: EventId,
    /// Why the call is denied (only with `deny`).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub deny_message: Nullable<String>,
}

/// Parameters of a `user.custom_tool_result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCustomToolResultParams {
    /// ID of the `agent.custom_tool_use` event answered.
    pub custom_tool_use_id: EventId,
    /// The result: `text`, `image`, `document` or `search_result` blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentBlock>>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub is_error: Nullable<bool>,
}

/// Parameters of a `user.tool_result` (only valid on `self_hosted` environments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserToolResultParams {
    /// ID of the `agent.tool_use` event answered.
    pub tool_use_id: EventId,
    /// The result: `text`, `image`, `document` or `search_result` blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentBlock>>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub is_error: Nullable<bool>,
}

/// Parameters of a `user.define_outcome`; the agent starts work on receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDefineOutcomeParams {
    /// What the agent should produce.
    pub description: String,
    /// How the outcome is graded.
    pub rubric: Rubric,
    /// Evaluate-then-revise cycles before giving up (default 3, max 20).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub max_iterations: Nullable<u32>,
}

/// Parameters of a `system.message`: at most one per request, last, right after the
/// `user.message`, `user.tool_result` or `user.custom_tool_result` it goes with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemMessageParams {
    /// Text blocks.
    pub content: Vec<TextContent>,
}

crate::open_union! {
    /// An event a client sends with `POST /v1/sessions/{id}/events` (`user.message` and
    /// `user.define_outcome` are also accepted as a session's `initial_events`).
    ///
    /// Open, so that a client can send a type newer than this version as raw JSON; the local
    /// platform rejects `Unknown`.
    pub enum UserEvent {
        /// A user turn.
        "user.message" => Message(UserMessageParams),
        /// Pause the agent.
        "user.interrupt" => Interrupt(UserInterruptParams),
        /// Allow or deny a tool call.
        "user.tool_confirmation" => ToolConfirmation(UserToolConfirmationParams),
        /// The result of a custom tool.
        "user.custom_tool_result" => CustomToolResult(UserCustomToolResultParams),
        /// The result of a toolset tool run by a self-hosted worker.
        "user.tool_result" => ToolResult(UserToolResultParams),
        /// Define an outcome to work toward.
        "user.define_outcome" => DefineOutcome(UserDefineOutcomeParams),
        /// System-role context for this and later turns.
        "system.message" => SystemMessage(SystemMessageParams),
    }
}

impl UserEvent {
    /// A `user.message` with one text block.
    pub fn message(text: impl Into<String>) -> Self {
        Self::message_blocks(vec![ContentBlock::text(text)])
    }

    /// A `user.message` with the given blocks.
    pub fn message_blocks(content: Vec<ContentBlock>) -> Self {
        Self::Message(UserMessageParams { content })
    }

    /// A `user.interrupt` of every thread.
    pub fn interrupt() -> Self {
        Self::Interrupt(UserInterruptParams::default())
    }

    /// A `user.interrupt` of one thread.
    pub fn interrupt_thread(session_thread_id: impl Into<SessionThreadId>) -> Self {
        Self::Interrupt(UserInterruptParams {
            session_thread_id: Nullable::Value(session_thread_id.into()),
        })
    }

    /// A `user.custom_tool_result` with one text block.
    pub fn custom_tool_result(
        custom_tool_use_id: impl Into<EventId>,
        text: impl Into<String>,
        is_error: bool,
    ) -> Self {
        Self::custom_tool_result_blocks(
            custom_tool_use_id,
            vec![ContentBlock::text(text)],
            is_error,
        )
    }

    /// A `user.custom_tool_result` with the given blocks.
    pub fn custom_tool_result_blocks(
        custom_tool_use_id: impl Into<EventId>,
        content: Vec<ContentBlock>,
        is_error: bool,
    ) -> Self {
        Self::CustomToolResult(UserCustomToolResultParams {
            custom_tool_use_id: custom_tool_use_id.into(),
            content: Some(content),
            is_error: Nullable::Value(is_error),
        })
    }

    /// A `user.tool_result` (self-hosted environments) with the given blocks.
    pub fn tool_result(
        tool_use_id: impl Into<EventId>,
        content: Vec<ContentBlock>,
        is_error: bool,
    ) -> Self {
        Self::ToolResult(UserToolResultParams {
            tool_use_id: tool_use_id.into(),
            content: Some(content),
            is_error: Nullable::Value(is_error),
        })
    }

    /// A `user.tool_confirmation` allowing the call.
    pub fn allow(tool_use_id: impl Into<EventId>) -> Self {
        Self::ToolConfirmation(UserToolConfirmationParams {
            result: ToolConfirmationResult::Allow,
            tool_use_id: tool_use_id.into(),
            deny_message: Nullable::Absent,
        })
    }

    /// A `user.tool_confirmation` denying the call, optionally saying why.
    pub fn deny(tool_use_id: impl Into<EventId>, message: Option<String>) -> Self {
        Self::ToolConfirmation(UserToolConfirmationParams {
            result: ToolConfirmationResult::Deny,
            tool_use_id: tool_use_id.into(),
            deny_message: message.map_or(Nullable::Absent, Nullable::Value),
        })
    }

    /// A `user.define_outcome`.
    pub fn define_outcome(description: impl Into<String>, rubric: Rubric) -> Self {
        Self::DefineOutcome(UserDefineOutcomeParams {
            description: description.into(),
            rubric,
            max_iterations: Nullable::Absent,
        })
    }

    /// A `system.message` with one text block.
    pub fn system_message(text: impl Into<String>) -> Self {
        Self::SystemMessage(SystemMessageParams {
            content: vec![TextContent::text(text)],
        })
    }
}

/// The body of `POST /v1/sessions/{id}/events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendEvents {
    /// The events to send, in order.
    pub events: Vec<UserEvent>,
}

impl SendEvents {
    /// A body holding `events`.
    pub fn new(events: impl IntoIterator<Item = UserEvent>) -> Self {
        Self {
            events: events.into_iter().collect(),
        }
    }
}

/// The response of `POST /v1/sessions/{id}/events`: the echoes of the events sent, with their
/// IDs (`BetaManagedAgentsSendSessionEvents` in the SDK).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendEventsResponse {
    /// The echoed events (`user.*` and `system.message` variants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<SessionEvent>>,
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

crate::open_enum! {
    /// Sort direction of the event list (by `processed_at`).
    pub enum EventOrder {
        /// Oldest first (the default).
        Asc = "asc",
        /// Newest first.
        Desc = "desc",
    }
}

/// Query of `GET /v1/sessions/{id}/events`.
///
/// `types` is a list: the HTTP layers encode it as repeated `types[]=…` pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventListParams {
    /// Events processed after this time (exclusive).
    #[serde(
        rename = "created_at[gt]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_gt: Option<Timestamp>,
    /// Events processed at or after this time.
    #[serde(
        rename = "created_at[gte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_gte: Option<Timestamp>,
    /// Events processed before this time (exclusive).
    #[serde(
        rename = "created_at[lt]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_lt: Option<Timestamp>,
    /// Events processed at or before this time.
    #[serde(
        rename = "created_at[lte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_lte: Option<Timestamp>,
    /// Maximum events per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Sort direction; ascending by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<EventOrder>,
    /// Cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Only these event types (values of [`SessionEvent::KNOWN_TYPES`] except the stream-only
    /// `event_start` and `event_delta`); empty for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

crate::open_enum! {
    /// An event type whose preview a stream may opt into (`event_deltas[]`).
    pub enum DeltaType {
        /// `agent.message`: `event_start`, then `content_delta` fragments.
        AgentMessage = "agent.message",
        /// `agent.thinking`: `event_start` only.
        AgentThinking = "agent.thinking",
    }
}

/// Query of `GET /v1/sessions/{id}/events/stream` (and of a thread's stream).
///
/// `event_deltas` is a list: the HTTP layers encode it as repeated `event_deltas[]=…` pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamParams {
    /// Event types to preview while they are produced; empty for none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_deltas: Vec<DeltaType>,
}
