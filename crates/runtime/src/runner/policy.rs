//! Tool confirmations: the hook that answers calls the server holds for approval.
//!
//! A tool with the `always_ask` permission policy (or one the `auto` policy could not judge)
//! makes the server emit `agent.tool_use` (or `agent.mcp_tool_use`) with
//! `evaluated_permission: "ask"` and wait. The runner asks its [`ConfirmationPolicy`] and posts
//! the answer as `user.tool_confirmation`. An unknown `evaluated_permission` is treated like
//! `ask` (fail closed). Without a policy the runner uses [`DenyAll`].

use std::fmt;

use steward_core::event::{JsonObject, ToolEvaluation};
use steward_core::{EventId, SessionId, SessionThreadId};

/// A call awaiting approval.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmationRequest {
    /// The session.
    pub session_id: SessionId,
    /// The `agent.tool_use` or `agent.mcp_tool_use` event ID.
    pub tool_use_id: EventId,
    /// The tool's name.
    pub name: String,
    /// The MCP server providing the tool (`agent.mcp_tool_use` only).
    pub mcp_server_name: Option<String>,
    /// The model's input.
    pub input: JsonObject,
    /// The policy that asked, when the server said.
    pub evaluation: Option<ToolEvaluation>,
    /// The subagent thread the call comes from, if not the primary.
    pub session_thread_id: Option<SessionThreadId>,
}

/// The answer to a [`ConfirmationRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Let the call run.
    Allow,
    /// Refuse it; the message (if any) is shown to the model.
    Deny {
        /// Why, for the model.
        message: Option<String>,
    },
}

impl Confirmation {
    /// A denial with a message.
    pub fn deny(message: impl Into<String>) -> Self {
        Self::Deny {
            message: Some(message.into()),
        }
    }

    /// Whether this allows the call.
    pub fn is_allow(&self) -> bool {
        matches!(self, Self::Allow)
    }
}

/// Decides whether a held call may run. It may take its time (ask a human): the runner keeps
/// reading the session meanwhile.
///
/// A plain `Fn(&ConfirmationRequest) -> Confirmation` closure is a policy too.
#[async_trait::async_trait]
pub trait ConfirmationPolicy: Send + Sync {
    /// The decision for `request`.
    async fn decide(&self, request: &ConfirmationRequest) -> Confirmation;
}

#[async_trait::async_trait]
impl<F> ConfirmationPolicy for F
where
    F: Fn(&ConfirmationRequest) -> Confirmation + Send + Sync,
{
    async fn decide(&self, request: &ConfirmationRequest) -> Confirmation {
        self(request)
    }
}

/// Allows every call.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait::async_trait]
impl ConfirmationPolicy for AllowAll {
    async fn decide(&self, _request: &ConfirmationRequest) -> Confirmation {
        Confirmation::Allow
    }
}

/// Denies every call, saying that nobody on this host approves calls (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyAll;

/// The message of [`DenyAll`].
pub const NO_POLICY_MESSAGE: &str =
    "this host has no confirmation policy, so calls that need approval are denied";

#[async_trait::async_trait]
impl ConfirmationPolicy for DenyAll {
    async fn decide(&self, _request: &ConfirmationRequest) -> Confirmation {
        Confirmation::deny(NO_POLICY_MESSAGE)
    }
}

impl fmt::Debug for dyn ConfirmationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConfirmationPolicy")
    }
}
