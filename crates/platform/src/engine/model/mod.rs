//! The model behind a session: the [`ModelProvider`] trait and what crosses it.
//!
//! The agent loop hands a provider one [`ModelRequest`] per model call (system prompt, the
//! tools on offer, the conversation so far) and gets back the next assistant turn, a
//! [`ModelResponse`] (text and tool calls, with the call's [`ModelUsage`] and, when the
//! provider knows its prices, its list cost), or a [`ModelError`] that says what the loop should
//! do about it:
//!
//! | [`ModelErrorKind`] | The loop |
//! |---|---|
//! | `RateLimited`, `Overloaded` | retries with backoff (`session.error` `retrying`, `session.status_rescheduled`); when retries run out, `session.error` `exhausted` and idle `retries_exhausted` |
//! | `Failed` | `session.error` `model_request_failed_error` `exhausted`, idle `retries_exhausted` |
//! | `Refusal` | idle `refusal` with the category and explanation as `stop_details` |
//!
//! Providers must be cancel-safe: an interrupt drops the future of a call in flight.
//! Tool-call IDs in a [`ModelResponse`] are not kept: the loop names each call by the ID of
//! the event it emits for it (`sevt_…`), and the history it sends back uses those IDs.
//!
//! [`offline::OfflineModel`] is the provider used when none is configured. Two providers call
//! real models over HTTP: [`anthropic::AnthropicProvider`] (the Messages API, streamed, with
//! prompt caching and a price table) and [`openai::OpenAiProvider`] (any server of OpenAI's
//! chat completions, such as a local model). [`config::ProviderConfig`] chooses and builds
//! one; [`pricing`] holds the approximate list prices that turn tokens into a session's
//! `list_cost`.
//!
//! A provider may attach to its error how long the server asked to wait
//! ([`ModelError::retry_after`], from `retry-after`), which the loop waits at least before it
//! retries, and the tokens a failed or refused call consumed ([`ModelError::usage`]). A provider
//! that knows its prices says so through [`ModelProvider::price`]; the loop then prices each
//! call from the session's token totals (see [`pricing::Price`]).

pub mod anthropic;
pub mod config;
pub mod offline;
pub mod openai;
pub mod pricing;
mod transport;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use steward_core::Money;
use steward_core::agent::ModelConfig;
use steward_core::content::ContentBlock;
use steward_core::event::{JsonObject, RefusalCategory};
use steward_core::usage::ModelUsage;

/// Something that produces assistant turns (a model API, or the offline model).
///
/// Object-safe: the engine holds an `Arc<dyn ModelProvider>`.
#[async_trait]
pub trait ModelProvider: Send + Sync + fmt::Debug {
    /// A short name for logs, such as `offline` or `anthropic`.
    fn name(&self) -> &str;

    /// The next assistant turn for `request`.
    async fn complete(&self, request: ModelRequest) -> Result<ModelResponse, ModelError>;

    /// What the platform logs at start about this provider: its name and, for a remote one,
    /// where it sends requests (never a key).
    fn describe(&self) -> String {
        self.name().to_owned()
    }

    /// The list price of `model`'s tokens, when the provider knows it. The loop then adds to
    /// the session's `usage.list_cost` what each call's tokens cost at this price (for a
    /// response that carries no [`ModelResponse::list_cost`] of its own).
    fn price(&self, model: &ModelConfig) -> Option<pricing::Price> {
        let _ = model;
        None
    }
}

/// One model call: what the model sees.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRequest {
    /// The agent's model and its configuration.
    pub model: ModelConfig,
    /// The system prompt: the agent's, plus the platform's notes (working directory, memory
    /// stores).
    pub system: String,
    /// The tools the model may call: the enabled toolset tools, the custom tools, then the MCP
    /// servers' tools (named `mcp__<server>__<tool>`).
    pub tools: Vec<ToolSpec>,
    /// The conversation so far, oldest first.
    pub messages: Vec<Message>,
}

/// A tool as the model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// The tool's name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its input.
    pub input_schema: serde_json::Value,
}

/// Who speaks a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The user: messages and tool results.
    User,
    /// The model.
    Assistant,
    /// System-role context (`system.message` events).
    System,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What was said.
    pub content: Vec<Block>,
}

/// A part of a [`Message`].
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Content: text, or (from the user) an image or a document.
    Content(ContentBlock),
    /// A tool call of the assistant.
    ToolUse(ToolCall),
    /// The result of a tool call (in a user turn).
    ToolResult(ToolResultBlock),
    /// The model's thinking (in an assistant turn): the loop emits an `agent.thinking` for it.
    Thinking(ThinkingBlock),
}

impl Block {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Content(ContentBlock::text(text))
    }

    /// The text, for a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Content(content) => content.as_text(),
            _ => None,
        }
    }
}

/// A tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The call's ID (in a request: the ID of the event that carried it).
    pub id: String,
    /// The tool.
    pub name: String,
    /// The input.
    pub input: JsonObject,
}

/// A block of the model's thinking.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ThinkingBlock {
    /// The thinking text (empty when the provider withholds it).
    pub thinking: String,
    /// The Messages API's signature of the block, which sending it back requires.
    pub signature: Option<String>,
    /// For redacted thinking (`redacted_thinking`): its encrypted data.
    pub redacted_data: Option<String>,
}

/// A tool call's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResultBlock {
    /// ID of the call answered.
    pub tool_use_id: String,
    /// The result.
    pub content: Vec<ContentBlock>,
    /// Whether the call failed.
    pub is_error: bool,
}

impl ToolResultBlock {
    /// Every text block of the result, joined with newlines.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The assistant's turn.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelResponse {
    /// Text blocks and tool calls, in order (other blocks are ignored).
    pub content: Vec<Block>,
    /// Tokens of the call.
    pub usage: ModelUsage,
    /// List price of the call, when the provider knows it (summed into the session's
    /// `usage.list_cost` and checked against its budget).
    pub list_cost: Option<Money>,
}

/// What went wrong with a model call, and so what the loop does.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelErrorKind {
    /// Rate-limited: retried.
    RateLimited,
    /// Overloaded: retried.
    Overloaded,
    /// Failed for good: the turn ends.
    Failed,
    /// The model refused: the turn ends with a `refusal`.
    Refusal {
        /// The policy category, if named.
        category: Option<RefusalCategory>,
        /// An explanation, if any.
        explanation: Option<String>,
    },
}

/// A failed model call.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    /// What kind of failure.
    pub kind: ModelErrorKind,
    /// A description for the `session.error` event.
    pub message: String,
    /// How long the server asked to wait before the next attempt (`retry-after`); the loop
    /// waits at least this long (at most [`MAX_RETRY_AFTER`]) before it retries.
    pub retry_after: Option<Duration>,
    /// Tokens the call consumed anyway (a refusal is billed), when known: recorded on its
    /// `span.model_request_end` and summed into the session's usage. Boxed to keep the error
    /// small.
    pub usage: Option<Box<ModelUsage>>,
}

/// The longest `retry-after` the loop honours; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

impl ModelError {
    /// A failure of this kind.
    pub fn new(kind: ModelErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
            usage: None,
        }
    }

    /// The same error, asking the loop to wait `after` before retrying.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// The same error, with the tokens the call consumed.
    pub fn with_usage(mut self, usage: ModelUsage) -> Self {
        self.usage = Some(Box::new(usage));
        self
    }

    /// Whether the loop retries the call.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ModelErrorKind::RateLimited | ModelErrorKind::Overloaded
        )
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ModelError {}
