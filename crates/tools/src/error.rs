//! Errors: [`ToolError`], what a failed tool call returns and the model is shown,
//! [`RegistryError`], what assembling a [`Registry`](crate::Registry) can fail with, and
//! [`ConfigError`], a host's tool configuration that a tool refuses at construction.
//!
//! A [`ToolError`] has a small, stable [`ToolErrorKind`] and a message written for the model.
//! The model sees exactly `"<kind>: <message>"` ([`ToolError::model_text`]), never a `Debug`
//! dump and never the `source` chain, which is kept for logs and for callers that classify
//! errors. Messages must never contain a secret: tools build them from their own words and from
//! what the model sent, not from credentials.

use steward_core::content::ContentBlock;

/// A boxed error, the `source` of a [`ToolError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong with a tool call, in terms of what the model (or the runner) can do about it.
///
/// The set is deliberately small and its string forms ([`ToolErrorKind::as_str`]) are stable:
/// they are part of what the model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ToolErrorKind {
    /// The input does not match the tool's schema or asks for something the tool refuses to
    /// interpret (an unknown time zone, a malformed URL); fix the input and call again.
    InvalidInput,
    /// The tool or a system it called did not answer in time; calling again may work.
    Timeout,
    /// The call was cancelled (the session was interrupted or the host is shutting down).
    Cancelled,
    /// What the input names does not exist (including a tool name the host does not know).
    NotFound,
    /// The host's policy or the remote system refused the call; calling again will not help.
    PermissionDenied,
    /// A dependency is down or not configured on the host (a missing credential, a refused
    /// connection); calling again later may work.
    Unavailable,
    /// Anything else.
    Other,
}

impl ToolErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::InvalidInput,
        Self::Timeout,
        Self::Cancelled,
        Self::NotFound,
        Self::PermissionDenied,
        Self::Unavailable,
        Self::Other,
    ];

    /// The stable `snake_case` name the model reads (`invalid_input`, `timeout`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::NotFound => "not_found",
            Self::PermissionDenied => "permission_denied",
            Self::Unavailable => "unavailable",
            Self::Other => "other",
        }
    }

    /// Whether the same call may succeed if made again unchanged ([`Timeout`](Self::Timeout)
    /// and [`Unavailable`](Self::Unavailable)).
    pub const fn is_transient(self) -> bool {
        matches!(self, Self::Timeout | Self::Unavailable)
    }
}

impl std::fmt::Display for ToolErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed tool call: a [`ToolErrorKind`], a message for the model, and an optional source
/// error for logs.
///
/// `Display` is the model text, `"<kind>: <message>"`; the source is reachable through
/// [`std::error::Error::source`] only.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ToolError {
    kind: ToolErrorKind,
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl ToolError {
    /// An error of this kind with a message for the model (no secrets, please).
    pub fn new(kind: ToolErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// [`ToolErrorKind::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::InvalidInput, message)
    }

    /// [`ToolErrorKind::Timeout`].
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::Timeout, message)
    }

    /// [`ToolErrorKind::Cancelled`], with a fixed message.
    pub fn cancelled() -> Self {
        Self::new(ToolErrorKind::Cancelled, "the tool call was cancelled")
    }

    /// [`ToolErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::NotFound, message)
    }

    /// [`ToolErrorKind::PermissionDenied`].
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::PermissionDenied, message)
    }

    /// [`ToolErrorKind::Unavailable`].
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::Unavailable, message)
    }

    /// [`ToolErrorKind::Other`].
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::Other, message)
    }

    /// Attaches the underlying error, for logs and classification; the model never sees it.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind.
    pub fn kind(&self) -> ToolErrorKind {
        self.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What the model is shown: `"<kind>: <message>"`.
    pub fn model_text(&self) -> String {
        self.to_string()
    }

    /// The error as the content of an `is_error: true` tool result: one text block holding
    /// [`model_text`](Self::model_text).
    pub fn into_content(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.model_text())]
    }
}

/// Why a [`Registry`](crate::Registry) could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two tools share a name. Registries never silently let one override the other.
    #[error("tool `{name}` is registered more than once")]
    Duplicate {
        /// The shared name.
        name: String,
    },
    /// A tool name the API would reject (1-128 ASCII letters, digits, `_` and `-`).
    #[error("invalid tool name `{name}`: {reason}")]
    InvalidName {
        /// The name as registered.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An inventory registration built a tool that reports a different name.
    #[error("tool registered as `{registered}` reports the name `{actual}`")]
    NameMismatch {
        /// The name in the [`ToolRegistration`](crate::ToolRegistration).
        registered: String,
        /// What the built tool's [`Tool::name`](crate::Tool::name) returns.
        actual: String,
    },
}

/// A tool configuration the tool refuses when the host constructs it (for example an
/// `http_request` rule with an invalid header name). Nothing was sent anywhere.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration of tool `{tool}`: {reason}")]
pub struct ConfigError {
    /// The tool's name.
    pub tool: &'static str,
    /// What is wrong.
    pub reason: String,
    /// The underlying error, if any.
    #[source]
    pub source: Option<BoxError>,
}

impl ConfigError {
    /// A configuration error of `tool`.
    pub fn new(tool: &'static str, reason: impl Into<String>) -> Self {
        Self {
            tool,
            reason: reason.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_stable_and_distinct() {
        let names: Vec<&str> = ToolErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "invalid_input",
                "timeout",
                "cancelled",
                "not_found",
                "permission_denied",
                "unavailable",
                "other"
            ]
        );
    }

    #[test]
    fn model_text_is_kind_and_message_without_the_source() {
        let err = ToolError::unavailable("the weather service did not answer").with_source(
            std::io::Error::other("connect to 10.0.0.1 refused (internal)"),
        );
        assert_eq!(
            err.model_text(),
            "unavailable: the weather service did not answer"
        );
        assert_eq!(
            err.into_content(),
            vec![ContentBlock::text(
                "unavailable: the weather service did not answer"
            )]
        );
    }

    #[test]
    fn source_is_kept_for_logs() {
        let err = ToolError::other("failed").with_source(std::io::Error::other("inner"));
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("inner"));
    }
}
