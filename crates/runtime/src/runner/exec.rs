//! The two kinds of work the dispatcher spawns: running one tool call (bounded by a
//! concurrency limit and a timeout, with panics and errors turned into error results) and
//! delivering one event (retried for a bounded window).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use http::StatusCode;
use steward_core::content::ContentBlock;
use steward_core::event::{EventListParams, SendEvents, SessionEvent, UserEvent};
use steward_core::{EventId, SessionId, Timestamp};
use steward_tools::{Tool, ToolContext, ToolError};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::ledger::{CallKey, CallState, Ledger, LedgerEntry, LedgerError, StoredResult};
use super::outcome::{CallKind, ResultOrigin, ToolCall, ToolCallRecord};
use crate::client::Client;
use crate::error::Error;

/// The text that stands for an empty result (as the SDK's runner sends it).
const NO_OUTPUT: &str = "(no output)";

/// One tool call to run.
pub(super) struct Execution {
    pub(super) tool: Option<Arc<dyn Tool>>,
    pub(super) call: ToolCall,
    pub(super) ctx: ToolContext,
    pub(super) timeout: Duration,
    pub(super) permits: Arc<Semaphore>,
    pub(super) ledger: Arc<dyn Ledger>,
    pub(super) key: CallKey,
    pub(super) origin: ResultOrigin,
}

/// How a tool call ended.
pub(super) enum Executed {
    /// The result is computed and recorded in the ledger.
    Finished(ToolCallRecord),
    /// The call was cancelled before it finished; it has no result.
    Cancelled(ToolCall),
    /// The ledger could not record the call.
    Ledger(LedgerError),
}

impl Execution {
    /// Waits for a slot, records `Started`, runs the tool and records `Computed`.
    pub(super) async fn run(self) -> Executed {
        let Self {
            tool,
            call,
            ctx,
            timeout,
            permits,
            ledger,
            key,
            origin,
        } = self;
        let Some(tool) = tool else {
            // Nothing runs, so nothing needs a slot or a `Started` record.
            let error = ToolError::not_found(format!(
                "this host has no tool named `{}`; use one of the tools you were given",
                call.name
            ));
            return finish(
                &*ledger,
                &key,
                call,
                error.into_content(),
                true,
                origin,
                None,
            )
            .await;
        };
        let _permit = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => return Executed::Cancelled(call),
            permit = permits.acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed; treat it like a cancellation if it were.
                Err(_) => return Executed::Cancelled(call),
            },
        };
        let started = LedgerEntry {
            name: call.name.clone(),
            state: CallState::Started,
        };
        if let Err(error) = ledger.record(&key, &started).await {
            return Executed::Ledger(error);
        }
        ctx.span.record("tool", call.name.as_str());
        let start = Instant::now();
        let input = serde_json::Value::Object(call.input.clone());
        let running = AssertUnwindSafe(tool.call(input, &ctx))
            .catch_unwind()
            .instrument(ctx.span.clone());
        let outcome = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => return Executed::Cancelled(call),
            outcome = tokio::time::timeout(timeout, running) => outcome,
        };
        let duration = Some(start.elapsed());
        let (content, is_error) = match outcome {
            Ok(Ok(Ok(output))) => (output.into_content(), false),
            Ok(Ok(Err(error))) => {
                tracing::debug!(parent: &ctx.span, kind = %error.kind(), "tool call failed");
                (error.into_content(), true)
            }
            Ok(Err(panic)) => {
                let message = panic_message(panic.as_ref());
                tracing::error!(parent: &ctx.span, panic = %message, "tool panicked");
                let error = ToolError::other(format!(
                    "the tool `{}` failed unexpectedly (it crashed); calling it again with the \
                     same input will likely fail the same way",
                    call.name
                ));
                (error.into_content(), true)
            }
            Err(_elapsed) => {
                // Tell the tool to stop whatever it left running; its future is dropped.
                ctx.cancel.cancel();
                tracing::warn!(parent: &ctx.span, timeout_ms = timeout.as_millis() as u64, "tool timed out");
                let error = ToolError::timeout(format!(
                    "the tool `{}` did not finish within {} and was stopped; try a smaller \
                     request, or another approach",
                    call.name,
                    human(timeout)
                ));
                (error.into_content(), true)
            }
        };
        finish(&*ledger, &key, call, content, is_error, origin, duration).await
    }
}

/// Records the result as `Computed` and builds the record.
async fn finish(
    ledger: &dyn Ledger,
    key: &CallKey,
    call: ToolCall,
    content: Vec<ContentBlock>,
    is_error: bool,
    origin: ResultOrigin,
    duration: Option<Duration>,
) -> Executed {
    let content = normalize(content);
    let entry = LedgerEntry {
        name: call.name.clone(),
        state: CallState::Computed {
            result: StoredResult {
                content: content.clone(),
                is_error,
            },
        },
    };
    if let Err(error) = ledger.record(key, &entry).await {
        return Executed::Ledger(error);
    }
    Executed::Finished(ToolCallRecord {
        call,
        content,
        is_error,
        origin,
        duration,
        posted: false,
    })
}

/// Empty results become `(no output)`, as the SDK's runner sends them: the API wants something
/// the model can read.
pub(super) fn normalize(content: Vec<ContentBlock>) -> Vec<ContentBlock> {
    if content.is_empty() {
        return vec![ContentBlock::text(NO_OUTPUT)];
    }
    content
        .into_iter()
        .map(|block| match block.as_text() {
            Some("") => ContentBlock::text(NO_OUTPUT),
            _ => block,
        })
        .collect()
}

/// The text of a panic payload (`&str` or `String`), for logs only.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// `2s`, `1.5s`, `250ms`.
fn human(d: Duration) -> String {
    if d.as_millis() % 1000 == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// The event answering a call.
pub(super) fn result_event(
    kind: CallKind,
    tool_use_id: &EventId,
    result: &StoredResult,
) -> UserEvent {
    match kind {
        CallKind::Custom => UserEvent::custom_tool_result_blocks(
            tool_use_id.clone(),
            result.content.clone(),
            result.is_error,
        ),
        CallKind::Toolset => {
            UserEvent::tool_result(tool_use_id.clone(), result.content.clone(), result.is_error)
        }
    }
}

/// The error result of a call an earlier process started and did not finish, for a tool that
/// is not idempotent.
pub(super) fn outcome_unknown(name: &str) -> StoredResult {
    let error = ToolError::other(format!(
        "the host restarted while the tool `{name}` was running, so the outcome of this call is \
         unknown: it may or may not have taken effect. Check before calling it again"
    ));
    StoredResult {
        content: error.into_content(),
        is_error: true,
    }
}

/// How long and how often to retry a send.
#[derive(Debug, Clone, Copy)]
pub(super) struct SendPolicy {
    pub(super) window: Duration,
    pub(super) initial_backoff: Duration,
    pub(super) max_backoff: Duration,
}

/// What an event answers, to look for it in the history after an attempt that may have been
/// processed.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    /// A `user.custom_tool_result` for this call.
    CustomResult(EventId),
    /// A `user.tool_result` for this call.
    ToolResult(EventId),
    /// A `user.tool_confirmation` for this call.
    Confirmation(EventId),
}

impl Answer {
    fn type_name(&self) -> &'static str {
        match self {
            Self::CustomResult(_) => "user.custom_tool_result",
            Self::ToolResult(_) => "user.tool_result",
            Self::Confirmation(_) => "user.tool_confirmation",
        }
    }

    fn matches(&self, event: &SessionEvent) -> bool {
        match (self, event) {
            (Self::CustomResult(id), SessionEvent::UserCustomToolResult(r)) => {
                &r.custom_tool_use_id == id
            }
            (Self::ToolResult(id), SessionEvent::UserToolResult(r)) => &r.tool_use_id == id,
            (Self::Confirmation(id), SessionEvent::UserToolConfirmation(c)) => &c.tool_use_id == id,
            _ => false,
        }
    }
}

/// Sends one event, retrying failures for `policy.window`.
///
/// * A 4xx other than 408, 409 and 429 (or a request that cannot be built) is final.
/// * A 2xx whose body does not decode counts as delivered: the server accepted the event.
/// * Before repeating an attempt the server may have processed (a dropped connection, a
///   timeout, a 5xx), the history is searched for `answer`, so a result is not sent twice.
/// * Waits `min(initial · 2^(n−1), max)` minus up to 25 % jitter, cut to the time left.
pub(super) async fn deliver(
    client: &Client,
    session: &SessionId,
    event: UserEvent,
    answer: Option<(Answer, Option<Timestamp>)>,
    policy: SendPolicy,
) -> Result<(), Error> {
    let deadline = Instant::now() + policy.window;
    let body = SendEvents::new([event]);
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let error = match client.sessions().events().send(session, &body).await {
            Ok(_) | Err(Error::Decode { .. }) => return Ok(()),
            Err(error) => error,
        };
        if is_final(&error) {
            return Err(error);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(error);
        }
        tracing::debug!(session_id = %session, attempt, %error, "send failed, retrying");
        let step = attempt.saturating_sub(1).min(20);
        let base = policy
            .initial_backoff
            .saturating_mul(1u32 << step)
            .min(policy.max_backoff);
        let delay = base
            .mul_f64(1.0 - rand::random::<f64>() * 0.25)
            .min(deadline - now);
        tokio::time::sleep(delay).await;
        if may_have_been_processed(&error) {
            if let Some((answer, since)) = &answer {
                match answered(client, session, answer, since.as_ref()).await {
                    Ok(true) => return Ok(()),
                    Ok(false) => {}
                    // Could not check: sending again is the lesser evil (the server refuses a
                    // second answer to the same call).
                    Err(check) => {
                        tracing::debug!(session_id = %session, error = %check, "could not check the history before resending")
                    }
                }
            }
        }
    }
}

/// Whether repeating cannot help.
pub(super) fn is_final(error: &Error) -> bool {
    match error {
        Error::Api(info) => info.status.is_some_and(|status| {
            status.is_client_error()
                && !matches!(
                    status,
                    StatusCode::REQUEST_TIMEOUT
                        | StatusCode::CONFLICT
                        | StatusCode::TOO_MANY_REQUESTS
                )
        }),
        Error::Config(_) | Error::Build(_) | Error::Layer(_) => true,
        Error::Connect(_) | Error::Transport(_) | Error::Timeout { .. } | Error::Decode { .. } => {
            false
        }
    }
}

/// Whether a failed attempt may still have been processed.
fn may_have_been_processed(error: &Error) -> bool {
    if error.is_not_sent() {
        return false;
    }
    !matches!(error.status().map(|s| s.as_u16()), Some(429 | 529))
}

/// Whether the history holds `answer` (from `since` on, when known).
async fn answered(
    client: &Client,
    session: &SessionId,
    answer: &Answer,
    since: Option<&Timestamp>,
) -> Result<bool, Error> {
    let params = EventListParams {
        types: vec![answer.type_name().to_owned()],
        created_at_gte: since.cloned(),
        limit: Some(1000),
        ..EventListParams::default()
    };
    let mut events = client.sessions().events().list(session, &params);
    while let Some(event) = events.next().await {
        if answer.matches(&event?) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_results_say_no_output() {
        assert_eq!(normalize(vec![]), vec![ContentBlock::text(NO_OUTPUT)]);
        assert_eq!(
            normalize(vec![ContentBlock::text(""), ContentBlock::text("x")]),
            vec![ContentBlock::text(NO_OUTPUT), ContentBlock::text("x")]
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::from_secs(120)), "120s");
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn final_errors_are_client_errors_but_408_409_429() {
        let api = |status: u16| {
            Error::Api(Box::new(crate::ApiErrorInfo {
                status: Some(StatusCode::from_u16(status).unwrap()),
                error_type: None,
                message: String::new(),
                request_id: None,
                error: None,
            }))
        };
        assert!(is_final(&api(400)));
        assert!(is_final(&api(404)));
        assert!(!is_final(&api(409)));
        assert!(!is_final(&api(429)));
        assert!(!is_final(&api(500)));
        assert!(may_have_been_processed(&api(500)));
        assert!(!may_have_been_processed(&api(429)));
    }
}
