//! [`ToolContext`]: what a tool knows about the call it is serving.

use steward_core::{EventId, SessionId, UserId};
use tokio_util::sync::CancellationToken;

/// The context of one tool call: which session and user it is for, which tool-use event it
/// answers, how to notice cancellation, and the span to log under.
///
/// Plain data with public fields; [`ToolContext::new`] fills in a fresh token and a span.
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// The session the call belongs to.
    pub session_id: SessionId,
    /// The user the session works for, when the host knows one.
    pub user: Option<UserId>,
    /// ID of the `agent.custom_tool_use` event being answered.
    ///
    /// It is unique per call and stable across re-deliveries of the same call (after a
    /// reconnect or a crash), so tools pass it on as an idempotency key
    /// ([`idempotency_key`](Self::idempotency_key)) to systems that accept one.
    pub tool_use_id: EventId,
    /// Cancelled when the call should stop (the session was interrupted, the host is shutting
    /// down). Long-running tools should `select!` on
    /// [`cancelled()`](CancellationToken::cancelled); [`Registry::call`](crate::Registry::call)
    /// also stops awaiting the tool once it fires.
    pub cancel: CancellationToken,
    /// The span the call runs in; the tool's own events and spans nest under it.
    pub span: tracing::Span,
}

impl ToolContext {
    /// A context with no user, a fresh cancellation token and a `tool_call` span carrying the
    /// session and tool-use IDs (and an empty `tool` field that
    /// [`Registry::call`](crate::Registry::call) records).
    pub fn new(session_id: impl Into<SessionId>, tool_use_id: impl Into<EventId>) -> Self {
        let session_id = session_id.into();
        let tool_use_id = tool_use_id.into();
        let span = tracing::info_span!(
            "tool_call",
            session_id = %session_id,
            tool_use_id = %tool_use_id,
            tool = tracing::field::Empty,
        );
        Self {
            session_id,
            user: None,
            tool_use_id,
            cancel: CancellationToken::new(),
            span,
        }
    }

    /// Sets the user the session works for.
    #[must_use]
    pub fn with_user(mut self, user: impl Into<UserId>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Uses this cancellation token (for example a child of the session's token).
    #[must_use]
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Uses this span instead of the default one.
    #[must_use]
    pub fn with_span(mut self, span: tracing::Span) -> Self {
        self.span = span;
        self
    }

    /// The idempotency key to pass on to systems the tool calls: the tool-use ID.
    pub fn idempotency_key(&self) -> &str {
        self.tool_use_id.as_str()
    }
}
