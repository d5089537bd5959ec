//! What the caller of a [`SessionRunner`](super::SessionRunner) gets: a stream of
//! [`Outcome`]s ([`TurnStream`]) ending with the [`TurnResult`], or the [`TurnResult`] alone.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::StreamExt as _;
use futures::channel::mpsc;
use steward_core::content::ContentBlock;
use steward_core::event::{JsonObject, SessionErrorObject, SessionEvent, StopDetails, StopReason};
use steward_core::usage::{ModelUsage, SessionUsage};
use steward_core::{EventId, SessionId};
use tokio_util::sync::DropGuard;

use super::RunnerError;
use super::policy::Confirmation;

/// Which kind of tool call: it decides the result event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `agent.custom_tool_use`, answered with `user.custom_tool_result`.
    Custom,
    /// `agent.tool_use` on a self-hosted environment, answered with `user.tool_result`.
    Toolset,
}

/// How the result of a call came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultOrigin {
    /// The tool ran in this process.
    Ran,
    /// The tool ran again: an earlier process started it and stopped before it finished, and
    /// the tool is idempotent.
    Rerun,
    /// The ledger held the result of an earlier run that was never delivered; it is sent again
    /// without running the tool.
    Replayed,
    /// An earlier process started the call and stopped before it finished, and the tool is not
    /// idempotent: the result is an error saying that its outcome is unknown.
    OutcomeUnknown,
    /// No tool of that name is registered: the result is a `not_found` error.
    UnknownTool,
}

/// A tool call the runner is about to run (or answer).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The tool-use event ID (also the call's idempotency key).
    pub tool_use_id: EventId,
    /// The tool's name.
    pub name: String,
    /// Custom tool or self-hosted toolset tool.
    pub kind: CallKind,
    /// The model's input.
    pub input: JsonObject,
}

/// A tool call with its result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallRecord {
    /// The call.
    pub call: ToolCall,
    /// The content of the result.
    pub content: Vec<ContentBlock>,
    /// Whether the result is an error (the tool failed, panicked, timed out, was unknown, or its
    /// outcome is unknown).
    pub is_error: bool,
    /// How the result came about.
    pub origin: ResultOrigin,
    /// How long the tool ran (`None` when it did not run).
    pub duration: Option<Duration>,
    /// Whether the server accepted the result. `false` in [`Outcome::ToolFinished`] (it is
    /// sent afterwards, see [`Outcome::ResultPosted`]); final in [`TurnResult::tool_calls`].
    pub posted: bool,
}

impl ToolCallRecord {
    /// The text blocks of the result, joined by newlines.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One thing that happened while the runner drove a turn.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// An event received from the session (live, or missed during a reconnect), once, in
    /// order. Events read from the history when the runner attached are not repeated here
    /// (a [`Transcript`](super::Transcript) records them).
    Event(Box<SessionEvent>),
    /// A fragment of an `agent.message` being written (only with
    /// [`RunnerOptions::text_deltas`](super::RunnerOptions::text_deltas)).
    TextDelta {
        /// The ID the finished `agent.message` will carry.
        event_id: EventId,
        /// The fragment.
        text: String,
    },
    /// The agent said something.
    Message {
        /// The `agent.message` event ID.
        event_id: EventId,
        /// Its text blocks, concatenated.
        text: String,
    },
    /// A tool call was handed to its tool (it may still wait for a concurrency slot).
    ToolStarted(ToolCall),
    /// A tool call has its result, which is sent next.
    ToolFinished(ToolCallRecord),
    /// The result of a call was sent (`posted`), or sending it failed for good.
    ResultPosted {
        /// The call.
        tool_use_id: EventId,
        /// Whether the server accepted it.
        posted: bool,
        /// Why not, when it was not.
        error: Option<String>,
    },
    /// A tool call not registered here was left for another client to answer.
    ToolSkipped(ToolCall),
    /// The confirmation policy answered a call awaiting approval.
    Confirmation {
        /// The `agent.tool_use` or `agent.mcp_tool_use` event ID.
        tool_use_id: EventId,
        /// The tool's name.
        name: String,
        /// The decision sent.
        decision: Confirmation,
        /// Whether the server accepted it.
        posted: bool,
    },
    /// A usage snapshot of the session (from `session.usage`).
    Usage(SessionUsage),
    /// The turn is over; nothing follows.
    Finished(Box<TurnResult>),
}

/// Why a turn ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TurnStop {
    /// The agent finished (`end_turn`).
    EndTurn,
    /// The server gave up retrying (`retries_exhausted`).
    RetriesExhausted,
    /// The session's budget is reached (`budget_reached`).
    BudgetReached,
    /// The model refused (`refusal`).
    Refusal {
        /// The refusal's category and explanation, when given.
        details: Option<StopDetails>,
    },
    /// A stop reason this version does not know (it ends the turn, as in the SDK's runner).
    Other(StopReason),
    /// Someone sent a session-wide `user.interrupt` and the session went idle.
    Interrupted,
    /// A drive without input found the session idle, never having run a turn.
    Idle,
    /// The session terminated.
    Terminated,
    /// The session was deleted.
    Deleted,
    /// The turn made more tool calls than
    /// [`RunnerOptions::max_tool_calls_per_turn`](super::RunnerOptions::max_tool_calls_per_turn):
    /// the runner sent `user.interrupt` instead of running the next one.
    StepLimit {
        /// The limit.
        limit: u32,
        /// The call that was not run.
        refused: EventId,
    },
    /// The session's token usage reached
    /// [`RunnerOptions::token_budget`](super::RunnerOptions::token_budget): the runner sent
    /// `user.interrupt`.
    TokenBudget {
        /// The budget.
        limit: u64,
        /// The tokens used when it was noticed.
        used: u64,
    },
    /// Nothing happened for [`RunnerOptions::max_idle`](super::RunnerOptions::max_idle) while
    /// the runner had nothing of its own in flight.
    IdleTimeout {
        /// The limit.
        after: Duration,
    },
}

impl TurnStop {
    /// The stop of a turn-ending `stop_reason`.
    pub(crate) fn from_idle(reason: &StopReason, details: Option<&StopDetails>) -> Self {
        match reason {
            StopReason::EndTurn(_) => Self::EndTurn,
            StopReason::RetriesExhausted(_) => Self::RetriesExhausted,
            StopReason::BudgetReached(_) => Self::BudgetReached,
            StopReason::Refusal(_) => Self::Refusal {
                details: details.cloned(),
            },
            other => Self::Other(other.clone()),
        }
    }

    /// Whether the agent finished its turn by itself (`end_turn`).
    pub fn is_end_turn(&self) -> bool {
        matches!(self, Self::EndTurn)
    }

    /// Whether the runner itself stopped the turn (a limit it enforces).
    pub fn is_runner_limit(&self) -> bool {
        matches!(
            self,
            Self::StepLimit { .. } | Self::TokenBudget { .. } | Self::IdleTimeout { .. }
        )
    }
}

/// What a turn came to.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnResult {
    /// The session.
    pub session_id: SessionId,
    /// Why the turn ended.
    pub stop: TurnStop,
    /// The texts of the turn's `agent.message` events, in order.
    pub messages: Vec<String>,
    /// The tool calls the runner answered in this turn, in the order they finished.
    pub tool_calls: Vec<ToolCallRecord>,
    /// The `session.error` events of the turn.
    pub errors: Vec<SessionErrorObject>,
    /// The session's cumulative usage, as far as the runner knows it: the last `session.usage`
    /// snapshot (or, with a token budget, the usage read when the turn started) plus the model
    /// requests since. `None` when neither was available.
    pub usage: Option<SessionUsage>,
    /// The turn's model requests, summed (from `span.model_request_end`).
    pub turn_usage: ModelUsage,
}

impl TurnResult {
    /// The final answer: the text of the turn's last `agent.message` (empty when there was
    /// none).
    pub fn final_text(&self) -> &str {
        self.messages.last().map_or("", String::as_str)
    }
}

/// One item of a turn's outcome channel, boxed: an outcome is a couple of hundred bytes, and a
/// channel holding them by value would make its nodes that size.
pub(crate) type Boxed = Box<Result<Outcome, RunnerError>>;

/// The sending half of a turn's outcome channel. The `futures` channel, not tokio's: every idle
/// session holds one, and tokio's (cache-line padded, with its first block of 32 slots) costs
/// 800 bytes where this one costs about 250. The drive learns that the consumer is gone from the
/// stream's drop guard, not from the channel.
pub(crate) type OutcomeTx = mpsc::Sender<Boxed>;

/// The outcomes of one turn, as a `Stream`; the last item is [`Outcome::Finished`] or an error.
///
/// Dropping it stops the turn: the runner cancels the session's running tools and stops
/// sending (results already computed stay in the ledger and are sent by the next run).
#[derive(Debug)]
pub struct TurnStream {
    pub(crate) rx: mpsc::Receiver<Boxed>,
    pub(crate) done: bool,
    /// Cancels the drive's token when the stream is dropped.
    pub(crate) _stop: Option<DropGuard>,
}

impl TurnStream {
    /// Reads the outcomes to the end and returns the [`TurnResult`].
    pub async fn result(mut self) -> Result<TurnResult, RunnerError> {
        while let Some(item) = self.rx.next().await {
            if let Outcome::Finished(result) = (*item)? {
                return Ok(*result);
            }
        }
        Err(RunnerError::Stopped)
    }
}

impl Stream for TurnStream {
    type Item = Result<Outcome, RunnerError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let item = std::task::ready!(self.rx.poll_next_unpin(cx)).map(|item| *item);
        if matches!(item, None | Some(Err(_)) | Some(Ok(Outcome::Finished(_)))) {
            self.done = true;
        }
        Poll::Ready(item)
    }
}
