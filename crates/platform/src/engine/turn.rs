//! The agent loop of one session: read the history, decide the next action, do it, repeat.
//!
//! [`drive`] runs until the session has nothing left to do. Each iteration takes the session's
//! interrupt token ([`EventHub::turn_signal`](crate::events::EventHub::turn_signal)), reads a
//! snapshot of the session (its events, what waits for the client), and performs one
//! [`Action`], writing its events in one transaction and publishing them after the commit:
//!
//! 1. **Interrupt** (an unprocessed `user.interrupt`): inputs sent before it are flushed (marked
//!    processed unseen), toolset and MCP calls of the turn that have no result are settled with
//!    an error result (`interrupted`), and a turn in progress ends with idle `end_turn`. A custom
//!    tool use still open is abandoned: the platform cannot answer for the client, so it stays
//!    answerable, but an answer no longer resumes the turn (the model sees it in the history of
//!    the next one).
//! 2. **Settle a confirmation** (an unprocessed `user.tool_confirmation`): `allow` runs the tool
//!    and emits `agent.tool_result` (in a self-hosted environment the worker runs it and answers
//!    with `user.tool_result`); `deny` emits `agent.tool_result` with `is_error: true` and the
//!    deny message (or `the user denied this tool call`). An MCP call is settled the same way
//!    with `agent.mcp_tool_result`, and always runs on its server (self-hosted or not). When
//!    nothing else is awaited, the session first resumes (`session.status_running`).
//! 3. **Wait**: tool uses of the turn still await the client: idle `requires_action` listing
//!    every one of them, emitted again (with the rest) whenever the set changes. A message sent
//!    meanwhile waits too: the model sees it once every awaited answer is in.
//! 4. **Model step**: new messages, or every tool call of the last step settled: a model call
//!    (`span.model_request_start`, an `agent.thinking` per thinking block of the reply, the
//!    reply's text as `agent.message`, `agent.tool_use` / `agent.custom_tool_use` /
//!    `agent.mcp_tool_use`, `span.model_request_end` with its usage, summed into the session's
//!    `usage`, and its list cost, from the provider's
//!    [`price`](super::model::ModelProvider::price) when the reply has none), then the allowed
//!    toolset and MCP calls run in order, each answered by `agent.tool_result` or
//!    `agent.mcp_tool_result`. The MCP tools on offer are listed before the call (connecting
//!    to the servers on a session's first use, see [`super::mcp`]). A reply without tool calls
//!    ends the turn: idle `end_turn`.
//!
//! Model errors follow [`super::model`]: retryable ones are retried after a backoff (or after
//! the error's `retry_after`, when that is longer)
//! (`session.error` `retrying` and `session.status_rescheduled`, then `session.status_running`
//! and a new `span.model_request_start`); when the retries run out, or the error is fatal,
//! `session.error` `exhausted` and idle `retries_exhausted`; a refusal ends with idle
//! `refusal`. A session whose tracked list cost has reached its budget gets idle
//! `budget_reached` instead of a model call, and a turn that has made
//! [`EngineOptions::max_steps_per_turn`](super::EngineOptions::max_steps_per_turn) model calls
//! ends with `session.error` `tool_use_limit_reached_error` and idle `retries_exhausted`. In
//! each of these cases, and after an interrupt, the inputs not yet seen are flushed: they do
//! not start another turn.
//!
//! Inputs (`user.message`, `system.message`, tool results) are marked processed in the
//! transaction that ends the model call that first saw them. `stats.active_seconds` (and
//! `usage.active_seconds`) grow by the time from the last `session.status_running` to each
//! return to idle.

use std::collections::HashMap;

use rusqlite::Connection;
use steward_core::agent::{AgentTool, BuiltinToolName, PermissionPolicy};
use steward_core::content::ContentBlock;
use steward_core::event::{
    AgentCustomToolUse, AgentMcpToolResult, AgentMcpToolUse, AgentMessage, AgentThinking,
    AgentToolResult, AgentToolUse, AlwaysAllow, AlwaysAsk, AutoAllow, AutoAsk, AutoEvaluation,
    AutoPermission, EvaluatedPermission, Exhausted, ModelOverloadedError, ModelRateLimitedError,
    ModelRequestFailedError, ReasonCode, RefusalStopDetails, RetryStatus, Retrying, SessionError,
    SessionErrorObject, SessionEvent, SessionStatusIdle, SessionStatusRescheduled,
    SessionStatusRunning, SpanModelRequestEnd, SpanModelRequestStart, StopDetails, StopReason,
    ToolConfirmationResult, ToolEvaluation, ToolUseLimitReachedError, UnknownSessionError,
};
use steward_core::session::{Session, SessionStatus};
use steward_core::usage::ModelUsage;
use steward_core::{EventId, Money, Nullable, SessionId, Timestamp};
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::mcp::{self, McpTool};
use super::model::pricing::Price;
use super::model::{
    Block, MAX_RETRY_AFTER, Message, ModelError, ModelErrorKind, ModelRequest, ModelResponse, Role,
    ToolCall, ToolResultBlock, ToolSpec,
};
use super::mounts::{MemoryFiles, Mount};
use super::toolset::{self, EnabledTool, Toolset};
use crate::db::from_json;
use crate::error::{Error, Result};
use crate::events::{Emitter, PendingToolUse, mark_processed, pending_tool_uses, set_status};

/// The text of the result that settles a toolset call an interrupt left without one.
const INTERRUPTED: &str = "interrupted: the user interrupted the turn before this call ran";

/// The text of a denied call's result when the user gave no message.
const DENIED: &str = "the user denied this tool call";

/// One stored event and its place in the history.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub(super) seq: i64,
    pub(super) event: SessionEvent,
}

impl Stored {
    /// Whether this is a client echo the engine has not processed yet.
    fn unprocessed(&self) -> bool {
        is_echo(&self.event) && self.event.processed_at().is_none()
    }
}

/// Whether an event is the echo of a client event (whose `processed_at` the engine sets).
fn is_echo(event: &SessionEvent) -> bool {
    matches!(
        event,
        SessionEvent::UserMessage(_)
            | SessionEvent::UserInterrupt(_)
            | SessionEvent::UserToolConfirmation(_)
            | SessionEvent::UserCustomToolResult(_)
            | SessionEvent::UserToolResult(_)
            | SessionEvent::SystemMessage(_)
    )
}

/// Whether an unprocessed echo is input a model call consumes.
fn is_model_input(event: &SessionEvent) -> bool {
    matches!(
        event,
        SessionEvent::UserMessage(_)
            | SessionEvent::SystemMessage(_)
            | SessionEvent::UserCustomToolResult(_)
            | SessionEvent::UserToolResult(_)
    )
}

/// What the loop reads before each action.
#[derive(Debug)]
pub(super) struct Snapshot {
    pub(super) session: Session,
    pub(super) events: Vec<Stored>,
    pub(super) pending: Vec<PendingToolUse>,
    pub(super) self_hosted: bool,
}

/// Reads a session's snapshot; `None` if the session no longer exists.
pub(super) fn load_snapshot(conn: &Connection, id: &SessionId) -> Result<Option<Snapshot>> {
    let Some(session) = crate::sessions::load(conn, id)? else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body FROM session_events WHERE session_id = ?1 ORDER BY seq",
    )?;
    let events = stmt
        .query_map([id.as_str()], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?
        .map(|row| {
            let (seq, body) = row?;
            Ok(Stored {
                seq,
                event: from_json(&body)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Snapshot {
        pending: pending_tool_uses(conn, id)?,
        self_hosted: crate::events::is_self_hosted(conn, id)?,
        session,
        events,
    }))
}

/// The next thing to do.
#[derive(Debug)]
enum Action {
    /// Handle the unprocessed interrupts.
    Interrupt,
    /// Settle a confirmation of a toolset call.
    Settle(Box<Settle>),
    /// Wait for these tool uses to be answered.
    Wait(Vec<EventId>),
    /// Call the model.
    Model,
    /// The session is marked running with nothing to do: end the turn.
    EndTurn,
    /// Nothing.
    Nothing,
}

/// A confirmation to settle, the call it answers (`None` for a call the platform does not
/// run) and whether the session resumes (nothing else is awaited).
#[derive(Debug)]
struct Settle {
    confirmation: Stored,
    call: Option<Call>,
    resume: bool,
}

/// A call the platform runs: a toolset tool, or an MCP server's tool.
#[derive(Debug)]
enum Call {
    Toolset(AgentToolUse),
    Mcp(AgentMcpToolUse),
}

/// The `seq` after which the current turn's events lie: that of the last idle that ended a
/// turn (any stop reason but `requires_action`), or 0.
fn turn_start(events: &[Stored]) -> i64 {
    events
        .iter()
        .rev()
        .find(|s| {
            matches!(&s.event, SessionEvent::SessionStatusIdle(idle)
                if !idle.stop_reason.is_requires_action())
        })
        .map_or(0, |s| s.seq)
}

/// The last status event (`session.status_idle`, `_running` or `_rescheduled`).
fn last_status(events: &[Stored]) -> Option<&SessionEvent> {
    events.iter().rev().map(|s| &s.event).find(|e| {
        matches!(
            e,
            SessionEvent::SessionStatusIdle(_)
                | SessionEvent::SessionStatusRunning(_)
                | SessionEvent::SessionStatusRescheduled(_)
        )
    })
}

/// Whether the current turn's last step ended with tool calls (all settled by now, or the
/// loop would be waiting): then the model continues.
fn continues_after_tools(events: &[Stored], turn_start: i64) -> bool {
    events
        .iter()
        .rev()
        .take_while(|s| s.seq > turn_start)
        .map(|s| &s.event)
        .find(|e| {
            matches!(
                e,
                SessionEvent::AgentMessage(_)
                    | SessionEvent::AgentToolUse(_)
                    | SessionEvent::AgentCustomToolUse(_)
                    | SessionEvent::AgentMcpToolUse(_)
                    | SessionEvent::SpanModelRequestStart(_)
            )
        })
        .is_some_and(|e| {
            matches!(
                e,
                SessionEvent::AgentToolUse(_)
                    | SessionEvent::AgentCustomToolUse(_)
                    | SessionEvent::AgentMcpToolUse(_)
            )
        })
}

fn decide(snap: &Snapshot) -> Action {
    let events = &snap.events;
    if events
        .iter()
        .any(|s| matches!(s.event, SessionEvent::UserInterrupt(_)) && s.unprocessed())
    {
        return Action::Interrupt;
    }
    let start = turn_start(events);
    let awaiting: Vec<EventId> = snap
        .pending
        .iter()
        .filter(|p| p.seq > start)
        .map(|p| p.id.clone())
        .collect();
    if let Some(confirmation) = events
        .iter()
        .find(|s| matches!(s.event, SessionEvent::UserToolConfirmation(_)) && s.unprocessed())
    {
        let SessionEvent::UserToolConfirmation(answer) = &confirmation.event else {
            return Action::Nothing;
        };
        let call = events.iter().find_map(|s| match &s.event {
            SessionEvent::AgentToolUse(call) if call.id == answer.tool_use_id => {
                Some(Call::Toolset(call.clone()))
            }
            SessionEvent::AgentMcpToolUse(call) if call.id == answer.tool_use_id => {
                Some(Call::Mcp(call.clone()))
            }
            _ => None,
        });
        return Action::Settle(Box::new(Settle {
            confirmation: confirmation.clone(),
            call,
            resume: awaiting.is_empty(),
        }));
    }
    if !awaiting.is_empty() {
        return Action::Wait(awaiting);
    }
    let new_message = events.iter().any(|s| {
        matches!(
            s.event,
            SessionEvent::UserMessage(_) | SessionEvent::SystemMessage(_)
        ) && s.unprocessed()
    });
    if new_message || continues_after_tools(events, start) {
        return Action::Model;
    }
    if matches!(
        snap.session.status,
        SessionStatus::Running | SessionStatus::Rescheduling
    ) {
        return Action::EndTurn;
    }
    Action::Nothing
}

/// Runs the session until it has nothing left to do (or the platform shuts down).
pub(super) async fn drive(engine: &Engine, id: &SessionId) -> Result<()> {
    loop {
        if engine.state.shutdown.is_cancelled() {
            return Ok(());
        }
        let token = engine.state.events.turn_signal(id);
        let session_id = id.clone();
        let snapshot = engine
            .state
            .db
            .read(move |conn| load_snapshot(conn, &session_id))
            .await?;
        let Some(snap) = snapshot else {
            engine.session_gone(id).await;
            return Ok(());
        };
        if snap.session.is_archived() || snap.session.status == SessionStatus::Terminated {
            return Ok(());
        }
        let driver = Driver {
            engine,
            id,
            snap: &snap,
        };
        match decide(&snap) {
            Action::Interrupt => driver.interrupt().await?,
            Action::Settle(settle) => {
                let Settle {
                    confirmation,
                    call,
                    resume,
                } = *settle;
                driver.settle(confirmation, call, resume, &token).await?;
            }
            Action::Wait(ids) => {
                driver.wait(ids).await?;
                return Ok(());
            }
            Action::Model => driver.step(&token).await?,
            Action::EndTurn => {
                driver
                    .write(|tx, out, _| go_idle(tx, out, StopReason::end_turn(), None))
                    .await?;
            }
            Action::Nothing => return Ok(()),
        }
    }
}

/// Carries out actions for one session.
struct Driver<'a> {
    engine: &'a Engine,
    id: &'a SessionId,
    snap: &'a Snapshot,
}

/// A placeholder event ID ([`Emitter::emit`] assigns the real one).
fn placeholder() -> EventId {
    EventId::new(String::new())
}

fn now() -> Timestamp {
    crate::clock::now()
}

impl Driver<'_> {
    /// Runs `f` in one write transaction with an emitter for the session, then publishes what
    /// it emitted. Does nothing (`None`) when the session is gone, archived or terminated.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &mut Emitter, &Session) -> Result<T> + Send + 'static,
    ) -> Result<Option<T>> {
        let id = self.id.clone();
        let written = self
            .engine
            .state
            .db
            .write(move |tx| {
                let Some(session) = crate::sessions::load(tx, &id)? else {
                    return Ok(None);
                };
                if session.is_archived() || session.status == SessionStatus::Terminated {
                    return Ok(None);
                }
                let mut out = Emitter::new(id.clone());
                let value = f(tx, &mut out, &session)?;
                Ok(Some((value, out)))
            })
            .await?;
        Ok(written.map(|(value, out)| {
            self.engine.state.events.publish(out);
            value
        }))
    }

    /// Handles the unprocessed interrupts (see the module docs).
    async fn interrupt(&self) -> Result<()> {
        let events = &self.snap.events;
        let start = turn_start(events);
        let interrupts: Vec<EventId> = events
            .iter()
            .filter(|s| matches!(s.event, SessionEvent::UserInterrupt(_)) && s.unprocessed())
            .filter_map(|s| s.event.id().cloned())
            .collect();
        let last = events
            .iter()
            .filter(|s| matches!(s.event, SessionEvent::UserInterrupt(_)) && s.unprocessed())
            .map(|s| s.seq)
            .max()
            .unwrap_or(0);
        let flushed: Vec<EventId> = events
            .iter()
            .filter(|s| s.seq < last && s.unprocessed())
            .filter_map(|s| s.event.id().cloned())
            .collect();
        let answered: Vec<&EventId> = events
            .iter()
            .filter_map(|s| match &s.event {
                SessionEvent::AgentToolResult(r) => Some(&r.tool_use_id),
                SessionEvent::UserToolResult(r) => Some(&r.tool_use_id),
                SessionEvent::AgentMcpToolResult(r) => Some(&r.mcp_tool_use_id),
                _ => None,
            })
            .collect();
        // (call, whether it is an MCP call)
        let unsettled: Vec<(EventId, bool)> = events
            .iter()
            .filter(|s| s.seq > start)
            .filter_map(|s| match &s.event {
                SessionEvent::AgentToolUse(call)
                    if call.evaluated_permission != Some(EvaluatedPermission::Deny)
                        && !answered.contains(&&call.id) =>
                {
                    Some((call.id.clone(), false))
                }
                SessionEvent::AgentMcpToolUse(call)
                    if call.evaluated_permission != Some(EvaluatedPermission::Deny)
                        && !answered.contains(&&call.id) =>
                {
                    Some((call.id.clone(), true))
                }
                _ => None,
            })
            .collect();
        let mid_turn = matches!(
            self.snap.session.status,
            SessionStatus::Running | SessionStatus::Rescheduling
        ) || self.snap.pending.iter().any(|p| p.seq > start);
        self.write(move |tx, out, _| {
            for id in interrupts.iter().chain(&flushed) {
                mark_processed(tx, id)?;
            }
            for (call, is_mcp) in unsettled {
                if is_mcp {
                    let text = vec![ContentBlock::text(INTERRUPTED)];
                    out.emit(tx, mcp_result(call, text, true))?;
                } else {
                    out.emit(tx, tool_result(call, INTERRUPTED, true))?;
                }
            }
            if mid_turn {
                go_idle(tx, out, StopReason::end_turn(), None)?;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Settles one confirmation (see the module docs).
    async fn settle(
        &self,
        confirmation: Stored,
        call: Option<Call>,
        resume: bool,
        token: &CancellationToken,
    ) -> Result<()> {
        let SessionEvent::UserToolConfirmation(answer) = &confirmation.event else {
            return Ok(());
        };
        let confirmation_id = answer.id.clone();
        let call = match call {
            Some(Call::Toolset(call)) => call,
            Some(Call::Mcp(call)) => return self.settle_mcp(answer, call, resume, token).await,
            None => {
                // Not a call of this session: nothing the platform runs.
                self.write(move |tx, _, _| mark_processed(tx, &confirmation_id).map(drop))
                    .await?;
                return Ok(());
            }
        };
        let allowed = answer.result == ToolConfirmationResult::Allow;
        if allowed && self.snap.self_hosted {
            // The worker runs it and answers with `user.tool_result`.
            self.write(move |tx, _, _| mark_processed(tx, &confirmation_id).map(drop))
                .await?;
            return Ok(());
        }
        if resume {
            self.write(|tx, out, _| resume_running(tx, out)).await?;
        }
        let (text, is_error) = if allowed {
            if token.is_cancelled() {
                return Ok(());
            }
            match self.toolset().await?.run(&call.name, &call.input).await {
                Ok(text) => (text, false),
                Err(error) => (error.0, true),
            }
        } else {
            let message = answer
                .deny_message
                .value()
                .filter(|m| !m.trim().is_empty())
                .cloned()
                .unwrap_or_else(|| DENIED.to_owned());
            (message, true)
        };
        let call_id = call.id.clone();
        self.write(move |tx, out, _| {
            out.emit(tx, tool_result(call_id, &text, is_error))?;
            mark_processed(tx, &confirmation_id)?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Settles the confirmation of an MCP call: `allow` runs it on its server, `deny` answers
    /// it with the deny message; either way an `agent.mcp_tool_result`.
    async fn settle_mcp(
        &self,
        answer: &steward_core::event::UserToolConfirmation,
        call: AgentMcpToolUse,
        resume: bool,
        token: &CancellationToken,
    ) -> Result<()> {
        let confirmation_id = answer.id.clone();
        if resume {
            self.write(|tx, out, _| resume_running(tx, out)).await?;
        }
        let (content, is_error) = if answer.result == ToolConfirmationResult::Allow {
            match self.run_mcp(&call, token).await {
                Some(result) => result,
                None => return Ok(()),
            }
        } else {
            let message = answer
                .deny_message
                .value()
                .filter(|m| !m.trim().is_empty())
                .cloned()
                .unwrap_or_else(|| DENIED.to_owned());
            (vec![ContentBlock::text(message)], true)
        };
        let call_id = call.id.clone();
        self.write(move |tx, out, _| {
            out.emit(tx, mcp_result(call_id, content, is_error))?;
            mark_processed(tx, &confirmation_id)?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Runs an MCP call on its server; `None` when an interrupt or shutdown came first.
    async fn run_mcp(
        &self,
        call: &AgentMcpToolUse,
        token: &CancellationToken,
    ) -> Option<(Vec<ContentBlock>, bool)> {
        if token.is_cancelled() {
            return None;
        }
        tokio::select! {
            biased;
            () = token.cancelled() => None,
            () = self.engine.state.shutdown.cancelled() => None,
            result = self.engine.mcp.call(
                &self.snap.session,
                &call.mcp_server_name,
                &call.name,
                &call.input,
            ) => Some(result),
        }
    }

    /// Goes idle with `requires_action` listing `ids`, unless the last idle already does.
    async fn wait(&self, ids: Vec<EventId>) -> Result<()> {
        if let Some(SessionEvent::SessionStatusIdle(idle)) = last_status(&self.snap.events) {
            if let Some(listed) = idle.stop_reason.event_ids() {
                let mut listed = listed.to_vec();
                let mut wanted = ids.clone();
                listed.sort();
                wanted.sort();
                if listed == wanted {
                    return Ok(());
                }
            }
        }
        self.write(move |tx, out, _| go_idle(tx, out, StopReason::requires_action(ids), None))
            .await?;
        Ok(())
    }

    /// The toolset of the session as it is now (its workspace, its current mounts).
    async fn toolset(&self) -> Result<Toolset> {
        let dir = self.engine.workspace_dir(self.id);
        let workspace = tokio::task::spawn_blocking(move || toolset::fs::Workspace::open(&dir))
            .await?
            .map_err(Error::internal)?;
        let memory = MemoryFiles::new(
            self.engine.state.db.clone(),
            self.id.clone(),
            self.engine.ledger(self.id),
        );
        Ok(Toolset::new(
            workspace,
            Mount::from_resources(&self.snap.session.resources),
            memory,
        ))
    }

    /// One model call and what follows from it (see the module docs).
    async fn step(&self, token: &CancellationToken) -> Result<()> {
        let session = &self.snap.session;
        if budget_reached(session) {
            let flushed = self.unprocessed_inputs(i64::MAX);
            self.write(move |tx, out, _| {
                for id in &flushed {
                    mark_processed(tx, id)?;
                }
                go_idle(tx, out, StopReason::BudgetReached(Default::default()), None)
            })
            .await?;
            return Ok(());
        }
        let start = turn_start(&self.snap.events);
        let steps = self
            .snap
            .events
            .iter()
            .filter(|s| s.seq > start)
            .filter(|s| {
                matches!(&s.event, SessionEvent::SpanModelRequestEnd(end)
                    if end.is_error == Some(false))
            })
            .count();
        let limit = self.engine.options.max_steps_per_turn;
        if steps >= usize::try_from(limit).unwrap_or(usize::MAX) {
            let flushed = self.unprocessed_inputs(i64::MAX);
            self.write(move |tx, out, _| {
                for id in &flushed {
                    mark_processed(tx, id)?;
                }
                out.emit(tx, step_limit_error(limit))?;
                go_idle(
                    tx,
                    out,
                    StopReason::RetriesExhausted(Default::default()),
                    None,
                )
            })
            .await?;
            return Ok(());
        }
        let enabled = toolset::enabled_tools(&session.agent);
        let custom: Vec<String> = session
            .agent
            .tools
            .iter()
            .filter_map(|t| match t {
                AgentTool::Custom(c) => Some(c.name.clone()),
                _ => None,
            })
            .collect();
        let mcp_tools = if session
            .agent
            .tools
            .iter()
            .any(|t| matches!(t, AgentTool::McpToolset(_)))
        {
            tokio::select! {
                biased;
                () = token.cancelled() => return Ok(()),
                () = self.engine.state.shutdown.cancelled() => return Ok(()),
                tools = self.engine.mcp.tools(session, &custom) => tools,
            }
        } else {
            Vec::new()
        };
        let mounts = Mount::from_resources(&session.resources);
        let mut tools = tool_specs(session, &enabled);
        tools.extend(mcp_tools.iter().map(McpTool::spec));
        let request = ModelRequest {
            model: session.agent.model.clone(),
            system: super::prompt::system_prompt(session.agent.system.as_deref(), &mounts),
            tools,
            messages: history(&self.snap.events),
        };
        let seen = self.snap.events.last().map_or(0, |s| s.seq);
        let consumed = self.unprocessed_inputs(seen);

        let Some(mut start_id) = self
            .write(|tx, out, _| {
                resume_running(tx, out)?;
                Ok(out.emit(tx, span_start())?.id().cloned())
            })
            .await?
            .flatten()
        else {
            return Ok(());
        };
        let retry = &self.engine.options.retry;
        let mut attempt = 0u32;
        let response = loop {
            let outcome = tokio::select! {
                biased;
                () = token.cancelled() => None,
                () = self.engine.state.shutdown.cancelled() => return Ok(()),
                outcome = self.engine.provider.complete(request.clone()) => Some(outcome),
            };
            let Some(outcome) = outcome else {
                // Interrupted: close the span; the interrupt is handled next.
                self.write(move |tx, out, _| {
                    out.emit(tx, span_end(start_id, None, ModelUsage::default()))?;
                    Ok(())
                })
                .await?;
                return Ok(());
            };
            match outcome {
                Ok(response) => break response,
                Err(error) if error.is_retryable() && attempt < retry.max_retries => {
                    // The policy's backoff, or longer when the server asked for longer.
                    let delay = error
                        .retry_after
                        .map(|after| after.min(MAX_RETRY_AFTER))
                        .map_or(retry.delay(attempt), |after| {
                            after.max(retry.delay(attempt))
                        });
                    attempt += 1;
                    tracing::info!(session_id = %self.id, attempt, error = %error, "model call failed; retrying");
                    self.write(move |tx, out, _| {
                        out.emit(tx, span_end(start_id, Some(true), ModelUsage::default()))?;
                        out.emit(
                            tx,
                            session_error(&error, RetryStatus::Retrying(Retrying {})),
                        )?;
                        out.emit(
                            tx,
                            SessionEvent::SessionStatusRescheduled(SessionStatusRescheduled {
                                id: placeholder(),
                                processed_at: now(),
                            }),
                        )?;
                        set_status(tx, out.session_id(), SessionStatus::Rescheduling)?;
                        Ok(())
                    })
                    .await?;
                    tokio::select! {
                        biased;
                        () = token.cancelled() => return Ok(()),
                        () = self.engine.state.shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(delay) => {}
                    }
                    let Some(id) = self
                        .write(|tx, out, _| {
                            resume_running(tx, out)?;
                            Ok(out.emit(tx, span_start())?.id().cloned())
                        })
                        .await?
                        .flatten()
                    else {
                        return Ok(());
                    };
                    start_id = id;
                }
                Err(error) => {
                    self.fail(start_id, error).await?;
                    return Ok(());
                }
            }
        };
        self.answer(
            start_id, response, consumed, &enabled, &custom, mcp_tools, token,
        )
        .await
    }

    /// The unprocessed model inputs stored at or before `seq`.
    fn unprocessed_inputs(&self, seq: i64) -> Vec<EventId> {
        self.snap
            .events
            .iter()
            .filter(|s| s.seq <= seq && s.unprocessed() && is_model_input(&s.event))
            .filter_map(|s| s.event.id().cloned())
            .collect()
    }

    /// Ends the turn on a model error that is not retried (any more).
    async fn fail(&self, start_id: EventId, error: ModelError) -> Result<()> {
        tracing::warn!(session_id = %self.id, error = %error, "model call failed");
        let flushed = self.unprocessed_inputs(i64::MAX);
        let price = self.engine.provider.price(&self.snap.session.agent.model);
        self.write(move |tx, out, _| {
            for id in &flushed {
                mark_processed(tx, id)?;
            }
            let usage = error.usage.as_deref().cloned().unwrap_or_default();
            if error.usage.is_some() {
                add_usage(tx, out.session_id(), &usage, None, price)?;
            }
            match &error.kind {
                ModelErrorKind::Refusal {
                    category,
                    explanation,
                } => {
                    out.emit(tx, span_end(start_id, Some(false), usage))?;
                    let details = StopDetails::Refusal(RefusalStopDetails {
                        category: category.clone(),
                        explanation: explanation.clone(),
                    });
                    go_idle(
                        tx,
                        out,
                        StopReason::Refusal(Default::default()),
                        Some(details),
                    )
                }
                _ => {
                    out.emit(tx, span_end(start_id, Some(true), usage))?;
                    out.emit(
                        tx,
                        session_error(&error, RetryStatus::Exhausted(Exhausted {})),
                    )?;
                    go_idle(
                        tx,
                        out,
                        StopReason::RetriesExhausted(Default::default()),
                        None,
                    )
                }
            }
        })
        .await?;
        Ok(())
    }

    /// Records a model reply, then runs the allowed toolset and MCP calls it made.
    #[expect(
        clippy::too_many_arguments,
        reason = "one step's state, passed on once from `step`"
    )]
    async fn answer(
        &self,
        start_id: EventId,
        response: ModelResponse,
        consumed: Vec<EventId>,
        enabled: &[EnabledTool],
        custom: &[String],
        mcp_tools: Vec<McpTool>,
        token: &CancellationToken,
    ) -> Result<()> {
        let self_hosted = self.snap.self_hosted;
        let enabled = enabled.to_vec();
        let custom = custom.to_vec();
        let price = self.engine.provider.price(&self.snap.session.agent.model);
        let to_run = self
            .write(move |tx, out, _| {
                for block in &response.content {
                    if matches!(block, Block::Thinking(_)) {
                        out.emit(
                            tx,
                            SessionEvent::AgentThinking(AgentThinking {
                                id: placeholder(),
                                processed_at: now(),
                            }),
                        )?;
                    }
                }
                let text: Vec<ContentBlock> = response
                    .content
                    .iter()
                    .filter_map(|b| b.as_text())
                    .filter(|t| !t.is_empty())
                    .map(ContentBlock::text)
                    .collect();
                if !text.is_empty() {
                    out.emit(
                        tx,
                        SessionEvent::AgentMessage(AgentMessage {
                            id: placeholder(),
                            content: text,
                            processed_at: now(),
                        }),
                    )?;
                }
                let mut calls = 0;
                let mut to_run: Vec<Call> = Vec::new();
                for block in &response.content {
                    let Block::ToolUse(call) = block else {
                        continue;
                    };
                    calls += 1;
                    if custom.contains(&call.name) {
                        out.emit(
                            tx,
                            SessionEvent::AgentCustomToolUse(AgentCustomToolUse {
                                id: placeholder(),
                                input: call.input.clone(),
                                name: call.name.clone(),
                                processed_at: now(),
                                session_thread_id: Nullable::Absent,
                            }),
                        )?;
                        continue;
                    }
                    if let Some(tool) = mcp_tools.iter().find(|t| t.model_name == call.name) {
                        let (permission, evaluation) = evaluate_mcp(&tool.policy);
                        let emitted = out.emit(
                            tx,
                            SessionEvent::AgentMcpToolUse(AgentMcpToolUse {
                                id: placeholder(),
                                input: call.input.clone(),
                                mcp_server_name: tool.server.clone(),
                                name: tool.name.clone(),
                                processed_at: now(),
                                evaluated_permission: Some(permission.clone()),
                                evaluation: Some(evaluation),
                                session_thread_id: Nullable::Absent,
                            }),
                        )?;
                        if let SessionEvent::AgentMcpToolUse(emitted) = emitted {
                            if permission == EvaluatedPermission::Allow {
                                to_run.push(Call::Mcp(emitted));
                            }
                        }
                        continue;
                    }
                    let (permission, evaluation, refusal) = evaluate(&call.name, &enabled);
                    let emitted = out.emit(
                        tx,
                        SessionEvent::AgentToolUse(AgentToolUse {
                            id: placeholder(),
                            input: call.input.clone(),
                            name: call.name.clone(),
                            processed_at: now(),
                            evaluated_permission: Some(permission.clone()),
                            evaluation,
                            session_thread_id: Nullable::Absent,
                        }),
                    )?;
                    let SessionEvent::AgentToolUse(emitted) = emitted else {
                        continue;
                    };
                    match permission {
                        EvaluatedPermission::Deny => {
                            let text = refusal.unwrap_or_else(|| {
                                format!("{}: this tool call was denied", call.name)
                            });
                            out.emit(tx, tool_result(emitted.id, &text, true))?;
                        }
                        EvaluatedPermission::Allow if !self_hosted => {
                            to_run.push(Call::Toolset(emitted));
                        }
                        _ => {}
                    }
                }
                out.emit(tx, span_end(start_id, Some(false), response.usage.clone()))?;
                add_usage(
                    tx,
                    out.session_id(),
                    &response.usage,
                    response.list_cost.as_ref(),
                    price,
                )?;
                for id in &consumed {
                    mark_processed(tx, id)?;
                }
                if calls == 0 {
                    go_idle(tx, out, StopReason::end_turn(), None)?;
                }
                Ok(to_run)
            })
            .await?
            .unwrap_or_default();
        let mut toolset: Option<Toolset> = None;
        for call in to_run {
            if token.is_cancelled() || self.engine.state.shutdown.is_cancelled() {
                return Ok(());
            }
            let event = match call {
                Call::Toolset(call) => {
                    let toolset = match &toolset {
                        Some(toolset) => toolset,
                        None => toolset.insert(self.toolset().await?),
                    };
                    let (text, is_error) = match toolset.run(&call.name, &call.input).await {
                        Ok(text) => (text, false),
                        Err(error) => (error.0, true),
                    };
                    tool_result(call.id, &text, is_error)
                }
                Call::Mcp(call) => {
                    let Some((content, is_error)) = self.run_mcp(&call, token).await else {
                        return Ok(());
                    };
                    mcp_result(call.id, content, is_error)
                }
            };
            self.write(move |tx, out, _| {
                out.emit(tx, event)?;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }
}

/// How the permission policy judges a call of a toolset tool: the permission, the evaluation
/// that produced it, and for a refusal before any policy, the error result's text.
fn evaluate(
    name: &str,
    enabled: &[EnabledTool],
) -> (EvaluatedPermission, Option<ToolEvaluation>, Option<String>) {
    let tool = BuiltinToolName::from(name);
    let Some(config) = enabled.iter().find(|t| t.name == tool) else {
        let why = if tool.is_unknown() {
            format!("{name}: no such tool")
        } else {
            format!("{name}: this tool is not enabled for this agent")
        };
        return (EvaluatedPermission::Deny, None, Some(why));
    };
    match &config.policy {
        PermissionPolicy::AlwaysAllow => (
            EvaluatedPermission::Allow,
            Some(ToolEvaluation::AlwaysAllow(AlwaysAllow {})),
            None,
        ),
        // The platform has no classifier: it judges every confined file tool safe.
        PermissionPolicy::Auto => (
            EvaluatedPermission::Allow,
            Some(ToolEvaluation::Auto(AutoEvaluation {
                evaluated_permission: AutoPermission::Allow(AutoAllow {}),
            })),
            None,
        ),
        // `always_ask`, and (failing closed) any policy this version does not know.
        _ => (
            EvaluatedPermission::Ask,
            Some(ToolEvaluation::AlwaysAsk(AlwaysAsk {})),
            None,
        ),
    }
}

/// How an MCP tool's permission policy judges a call (see [`super::mcp`]).
fn evaluate_mcp(policy: &PermissionPolicy) -> (EvaluatedPermission, ToolEvaluation) {
    match policy {
        PermissionPolicy::AlwaysAllow => (
            EvaluatedPermission::Allow,
            ToolEvaluation::AlwaysAllow(AlwaysAllow {}),
        ),
        // No classifier, and an MCP tool acts outside the session: never judged safe alone.
        PermissionPolicy::Auto => (
            EvaluatedPermission::Ask,
            ToolEvaluation::Auto(AutoEvaluation {
                evaluated_permission: AutoPermission::Ask(AutoAsk {
                    reason_code: ReasonCode::Indeterminate,
                }),
            }),
        ),
        // `always_ask`, and (failing closed) any policy this version does not know.
        _ => (
            EvaluatedPermission::Ask,
            ToolEvaluation::AlwaysAsk(AlwaysAsk {}),
        ),
    }
}

/// The tools offered to the model: the enabled toolset tools, then the custom tools (the
/// caller adds the MCP tools).
fn tool_specs(session: &Session, enabled: &[EnabledTool]) -> Vec<ToolSpec> {
    let mut specs: Vec<ToolSpec> = enabled
        .iter()
        .filter_map(|t| toolset::spec(&t.name))
        .collect();
    for tool in &session.agent.tools {
        if let AgentTool::Custom(custom) = tool {
            specs.push(ToolSpec {
                name: custom.name.clone(),
                description: custom.description.clone(),
                input_schema: custom.input_schema.clone(),
            });
        }
    }
    specs
}

/// The conversation as the model sees it, from the session's events.
///
/// Each model step's text and tool calls form one assistant message; the results of its calls
/// follow in the next user message, wherever in the history they arrived (a call left without
/// one gets an error result saying so). User messages are merged with what follows them of the
/// same role, results first.
pub(super) fn history(events: &[Stored]) -> Vec<Message> {
    let mut results: HashMap<&str, ToolResultBlock> = HashMap::new();
    for stored in events {
        let (id, content, is_error) = match &stored.event {
            SessionEvent::AgentToolResult(r) => (&r.tool_use_id, &r.content, r.is_error.value()),
            SessionEvent::UserToolResult(r) => (&r.tool_use_id, &r.content, r.is_error.value()),
            SessionEvent::UserCustomToolResult(r) => {
                (&r.custom_tool_use_id, &r.content, r.is_error.value())
            }
            SessionEvent::AgentMcpToolResult(r) => {
                (&r.mcp_tool_use_id, &r.content, r.is_error.value())
            }
            _ => continue,
        };
        results
            .entry(id.as_str())
            .or_insert_with(|| ToolResultBlock {
                tool_use_id: id.as_str().to_owned(),
                content: content.clone().unwrap_or_default(),
                is_error: is_error.copied().unwrap_or(false),
            });
    }

    let mut messages: Vec<Message> = Vec::new();
    let mut open_calls: Vec<String> = Vec::new();
    let mut in_step = false;
    let close_step = |messages: &mut Vec<Message>, open_calls: &mut Vec<String>| {
        if open_calls.is_empty() {
            return;
        }
        let blocks = open_calls
            .drain(..)
            .map(|id| {
                Block::ToolResult(results.get(id.as_str()).cloned().unwrap_or_else(|| {
                    ToolResultBlock {
                        tool_use_id: id,
                        content: vec![ContentBlock::text(
                            "no result: the turn ended before this call was answered",
                        )],
                        is_error: true,
                    }
                }))
            })
            .collect();
        push(messages, Role::User, blocks);
    };
    for stored in events {
        match &stored.event {
            SessionEvent::SpanModelRequestStart(_) => {
                close_step(&mut messages, &mut open_calls);
                in_step = false;
            }
            SessionEvent::AgentMessage(message) => {
                let blocks = message
                    .content
                    .iter()
                    .cloned()
                    .map(Block::Content)
                    .collect();
                push_assistant(&mut messages, &mut in_step, blocks);
            }
            SessionEvent::AgentToolUse(call) => {
                open_calls.push(call.id.as_str().to_owned());
                let block = tool_call(&call.id, &call.name, &call.input);
                push_assistant(&mut messages, &mut in_step, vec![block]);
            }
            SessionEvent::AgentCustomToolUse(call) => {
                open_calls.push(call.id.as_str().to_owned());
                let block = tool_call(&call.id, &call.name, &call.input);
                push_assistant(&mut messages, &mut in_step, vec![block]);
            }
            SessionEvent::AgentMcpToolUse(call) => {
                open_calls.push(call.id.as_str().to_owned());
                let name = mcp::model_name(&call.mcp_server_name, &call.name);
                let block = tool_call(&call.id, &name, &call.input);
                push_assistant(&mut messages, &mut in_step, vec![block]);
            }
            SessionEvent::UserMessage(message) => {
                close_step(&mut messages, &mut open_calls);
                in_step = false;
                let blocks = message
                    .content
                    .iter()
                    .cloned()
                    .map(Block::Content)
                    .collect();
                push(&mut messages, Role::User, blocks);
            }
            SessionEvent::SystemMessage(message) => {
                close_step(&mut messages, &mut open_calls);
                in_step = false;
                let blocks = message
                    .content
                    .iter()
                    .filter_map(|t| t.as_text())
                    .map(Block::text)
                    .collect();
                push(&mut messages, Role::System, blocks);
            }
            _ => {}
        }
    }
    close_step(&mut messages, &mut open_calls);
    messages
}

fn tool_call(id: &EventId, name: &str, input: &steward_core::event::JsonObject) -> Block {
    Block::ToolUse(ToolCall {
        id: id.as_str().to_owned(),
        name: name.to_owned(),
        input: input.clone(),
    })
}

/// Appends blocks to the current step's assistant message, opening one if needed.
fn push_assistant(messages: &mut Vec<Message>, in_step: &mut bool, blocks: Vec<Block>) {
    match messages.last_mut() {
        Some(last) if *in_step && last.role == Role::Assistant => last.content.extend(blocks),
        _ => messages.push(Message {
            role: Role::Assistant,
            content: blocks,
        }),
    }
    *in_step = true;
}

/// Appends a user or system message, merging it into the previous one of the same role
/// (tool results stay first).
fn push(messages: &mut Vec<Message>, role: Role, blocks: Vec<Block>) {
    if blocks.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => {
            last.content.extend(blocks);
            last.content
                .sort_by_key(|b| !matches!(b, Block::ToolResult(_)));
        }
        _ => messages.push(Message {
            role,
            content: blocks,
        }),
    }
}

/// Whether the session's tracked list cost has reached its budget.
fn budget_reached(session: &Session) -> bool {
    let Some(max) = session
        .budget
        .as_ref()
        .and_then(|b| b.max_list_cost())
        .and_then(Money::minor_units)
    else {
        return false;
    };
    let spent = session
        .usage
        .list_cost
        .value()
        .and_then(Money::minor_units)
        .unwrap_or(0);
    spent >= max
}

/// Adds a model call's usage (and list cost) to the session's. Without a cost of its own, a
/// call of a model with a known `price` adds what its tokens cost: the rounded cost of the
/// session's token totals after the call minus that before it.
fn add_usage(
    tx: &Connection,
    id: &SessionId,
    usage: &ModelUsage,
    cost: Option<&Money>,
    price: Option<Price>,
) -> Result<()> {
    let mut session = crate::sessions::require(tx, id)?;
    let before = session.usage.clone();
    session.usage.add(usage);
    let priced = match (cost, price) {
        (None, Some(price)) => Some(Money::usd_cents(
            price
                .cost_cents(&session.usage)
                .saturating_sub(price.cost_cents(&before)),
        )),
        _ => None,
    };
    if let Some(cost) = cost.or(priced.as_ref()) {
        let before = session
            .usage
            .list_cost
            .value()
            .and_then(Money::minor_units)
            .unwrap_or(0);
        let mut total = Money::usd_cents(before + cost.minor_units().unwrap_or(0));
        total.currency = cost.currency.clone();
        session.usage.list_cost = Nullable::Value(total);
    }
    session.updated_at = now();
    crate::sessions::save(tx, &session)
}

/// Emits `session.status_running` and sets the status, unless the session already runs.
fn resume_running(tx: &Connection, out: &mut Emitter) -> Result<()> {
    let session = crate::sessions::require(tx, out.session_id())?;
    if session.status == SessionStatus::Running {
        return Ok(());
    }
    out.emit(
        tx,
        SessionEvent::SessionStatusRunning(SessionStatusRunning {
            id: placeholder(),
            processed_at: now(),
        }),
    )?;
    set_status(tx, out.session_id(), SessionStatus::Running)?;
    Ok(())
}

/// Emits `session.status_idle` and sets the status; a session that was running gets the time
/// since its last `session.status_running` added to its active seconds.
pub(super) fn go_idle(
    tx: &Connection,
    out: &mut Emitter,
    reason: StopReason,
    details: Option<StopDetails>,
) -> Result<()> {
    let before = crate::sessions::require(tx, out.session_id())?.status;
    out.emit(
        tx,
        SessionEvent::SessionStatusIdle(SessionStatusIdle {
            id: placeholder(),
            processed_at: now(),
            stop_details: details,
            stop_reason: reason,
        }),
    )?;
    let mut session = set_status(tx, out.session_id(), SessionStatus::Idle)?;
    if matches!(before, SessionStatus::Running | SessionStatus::Rescheduling) {
        let since: Option<String> = crate::db::optional(tx.query_row(
            "SELECT processed_at FROM session_events
             WHERE session_id = ?1 AND type = 'session.status_running'
             ORDER BY seq DESC LIMIT 1",
            [out.session_id().as_str()],
            |row| row.get(0),
        ))?
        .flatten();
        if let Some(since) = since.and_then(|t| Timestamp::new(t).to_datetime()) {
            let elapsed = time::OffsetDateTime::now_utc() - since;
            let seconds = elapsed.whole_microseconds().max(0) as f64 / 1_000_000.0;
            let add = |field: &mut Option<f64>| *field = Some(field.unwrap_or(0.0) + seconds);
            add(&mut session.stats.active_seconds);
            add(&mut session.usage.active_seconds);
            crate::sessions::save(tx, &session)?;
        }
    }
    Ok(())
}

fn span_start() -> SessionEvent {
    SessionEvent::SpanModelRequestStart(SpanModelRequestStart {
        id: placeholder(),
        processed_at: now(),
    })
}

fn span_end(start: EventId, is_error: Option<bool>, usage: ModelUsage) -> SessionEvent {
    SessionEvent::SpanModelRequestEnd(SpanModelRequestEnd {
        id: placeholder(),
        is_error,
        model_request_start_id: start,
        model_usage: usage,
        processed_at: now(),
    })
}

/// An `agent.tool_result` with one text block.
fn tool_result(tool_use_id: EventId, text: &str, is_error: bool) -> SessionEvent {
    SessionEvent::AgentToolResult(AgentToolResult {
        id: placeholder(),
        tool_use_id,
        processed_at: now(),
        content: Some(vec![ContentBlock::text(text)]),
        is_error: Nullable::Value(is_error),
    })
}

/// An `agent.mcp_tool_result`.
fn mcp_result(
    mcp_tool_use_id: EventId,
    content: Vec<ContentBlock>,
    is_error: bool,
) -> SessionEvent {
    SessionEvent::AgentMcpToolResult(AgentMcpToolResult {
        id: placeholder(),
        mcp_tool_use_id,
        processed_at: now(),
        content: Some(content),
        is_error: Nullable::Value(is_error),
    })
}

/// A `session.error` for a model error.
fn session_error(error: &ModelError, retry_status: RetryStatus) -> SessionEvent {
    let message = error.message.clone();
    let object = match error.kind {
        ModelErrorKind::RateLimited => {
            SessionErrorObject::ModelRateLimited(ModelRateLimitedError {
                message,
                retry_status,
            })
        }
        ModelErrorKind::Overloaded => SessionErrorObject::ModelOverloaded(ModelOverloadedError {
            message,
            retry_status,
        }),
        _ => SessionErrorObject::ModelRequestFailed(ModelRequestFailedError {
            message,
            retry_status,
        }),
    };
    SessionEvent::SessionError(SessionError {
        id: placeholder(),
        error: object,
        processed_at: now(),
    })
}

/// The `session.error` of a turn that reached its limit of model calls.
fn step_limit_error(limit: u32) -> SessionEvent {
    SessionEvent::SessionError(SessionError {
        id: placeholder(),
        error: SessionErrorObject::ToolUseLimitReached(ToolUseLimitReachedError {
            message: format!("the turn reached its limit of {limit} model requests"),
            retry_status: RetryStatus::Exhausted(Exhausted {}),
        }),
        processed_at: now(),
    })
}

/// The `session.error` (`unknown_error`, `exhausted`) of a turn the platform abandoned.
pub(super) fn abandoned_error(message: &str) -> SessionEvent {
    SessionEvent::SessionError(SessionError {
        id: placeholder(),
        error: SessionErrorObject::UnknownError(UnknownSessionError {
            message: message.to_owned(),
            retry_status: RetryStatus::Exhausted(Exhausted {}),
        }),
        processed_at: now(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stored(seq: i64, value: serde_json::Value) -> Stored {
        Stored {
            seq,
            event: serde_json::from_value(value).unwrap(),
        }
    }

    const AT: &str = "2026-01-01T00:00:00Z";

    #[test]
    fn history_pairs_each_step_with_its_results() {
        let events = vec![
            stored(
                1,
                json!({"type": "user.message", "id": "sevt_1", "processed_at": AT,
                "content": [{"type": "text", "text": "hi"}]}),
            ),
            stored(
                2,
                json!({"type": "span.model_request_start", "id": "sevt_2", "processed_at": AT}),
            ),
            stored(
                3,
                json!({"type": "agent.message", "id": "sevt_3", "processed_at": AT,
                "content": [{"type": "text", "text": "calling"}]}),
            ),
            stored(
                4,
                json!({"type": "agent.custom_tool_use", "id": "sevt_4", "processed_at": AT,
                "name": "a", "input": {}}),
            ),
            stored(
                5,
                json!({"type": "agent.tool_use", "id": "sevt_5", "processed_at": AT,
                "name": "read", "input": {"file_path": "x"}, "evaluated_permission": "allow"}),
            ),
            stored(
                6,
                json!({"type": "span.model_request_end", "id": "sevt_6", "processed_at": AT,
                "model_request_start_id": "sevt_2", "is_error": false, "model_usage": {
                "input_tokens": 1, "output_tokens": 1, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0}}),
            ),
            stored(
                7,
                json!({"type": "user.message", "id": "sevt_7", "processed_at": null,
                "content": [{"type": "text", "text": "also"}]}),
            ),
            stored(
                8,
                json!({"type": "user.custom_tool_result", "id": "sevt_8",
                "custom_tool_use_id": "sevt_4", "content": [{"type": "text", "text": "A"}]}),
            ),
        ];
        let messages = history(&events);
        let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
        assert_eq!(messages[1].content.len(), 3);
        let last = &messages[2].content;
        assert_eq!(last.len(), 3);
        let Block::ToolResult(first) = &last[0] else {
            panic!("results come first: {last:?}");
        };
        assert_eq!(
            (first.tool_use_id.as_str(), first.text().as_str()),
            ("sevt_4", "A")
        );
        let Block::ToolResult(missing) = &last[1] else {
            panic!("{last:?}");
        };
        assert!(missing.is_error);
        assert_eq!(last[2].as_text(), Some("also"));
    }

    #[test]
    fn turns_continue_only_after_tool_calls() {
        let events = vec![
            stored(
                1,
                json!({"type": "session.status_idle", "id": "sevt_1", "processed_at": AT,
                "stop_reason": {"type": "end_turn"}, "stop_details": null}),
            ),
            stored(
                2,
                json!({"type": "span.model_request_start", "id": "sevt_2", "processed_at": AT}),
            ),
            stored(
                3,
                json!({"type": "agent.custom_tool_use", "id": "sevt_3", "processed_at": AT,
                "name": "a", "input": {}}),
            ),
        ];
        assert_eq!(turn_start(&events), 1);
        assert!(continues_after_tools(&events, 1));
        assert!(!continues_after_tools(&events[..2], 1));
        assert!(!continues_after_tools(&events, 3));
    }

    #[test]
    fn policies_evaluate_as_documented() {
        let enabled = vec![
            EnabledTool {
                name: BuiltinToolName::Read,
                policy: PermissionPolicy::AlwaysAllow,
            },
            EnabledTool {
                name: BuiltinToolName::Write,
                policy: PermissionPolicy::AlwaysAsk,
            },
            EnabledTool {
                name: BuiltinToolName::Glob,
                policy: PermissionPolicy::Auto,
            },
        ];
        assert_eq!(evaluate("read", &enabled).0, EvaluatedPermission::Allow);
        assert_eq!(evaluate("write", &enabled).0, EvaluatedPermission::Ask);
        assert!(matches!(
            evaluate("glob", &enabled).1,
            Some(ToolEvaluation::Auto(_))
        ));
        let (permission, evaluation, why) = evaluate("edit", &enabled);
        assert_eq!(permission, EvaluatedPermission::Deny);
        assert_eq!(evaluation, None);
        assert_eq!(
            why.unwrap(),
            "edit: this tool is not enabled for this agent"
        );
        assert_eq!(
            evaluate("frobnicate", &enabled).2.unwrap(),
            "frobnicate: no such tool"
        );
    }
}
