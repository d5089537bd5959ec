//! `POST /v1/sessions/{id}/events` (send), `GET /v1/sessions/{id}/events` (list) and
//! `GET /v1/sessions/{id}/events/stream`.

use axum::extract::{Path, State};
use axum::response::Response;
use rusqlite::Connection;
use steward_core::event::{
    EventListParams, EventOrder, SendEvents, SendEventsResponse, SessionEvent, StreamParams,
    SystemMessage, UserCustomToolResult, UserDefineOutcome, UserEvent, UserInterrupt, UserMessage,
    UserToolConfirmation, UserToolResult,
};
use steward_core::session::{
    OutcomeEvaluation, OutcomeEvaluationResult, OutcomeEvaluationType, SessionStatus,
};
use steward_core::{EventId, Nullable, OutcomeId, Page, SessionId, SessionThreadId};

use super::emit::Emitter;
use super::store::{
    self, Awaiting, EVENT_LIMITS, EventQuery, PendingSet, ToolUseKind, primary_thread_id,
};
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::pagination::PageRequest;
use crate::state::AppState;

pub(super) async fn send(
    State(state): State<AppState>,
    Path(session_id): Path<SessionId>,
    Json(body): Json<SendEvents>,
) -> Result<Json<SendEventsResponse>> {
    let id = session_id.clone();
    let out = state
        .db
        .write(move |tx| accept(tx, &id, body.events))
        .await?;
    let echoes: Vec<SessionEvent> = out.events().cloned().collect();
    let interrupted = echoes
        .iter()
        .any(|e| matches!(e, SessionEvent::UserInterrupt(_)));
    if interrupted {
        state.events.interrupt(&session_id);
    }
    state.events.publish(out);
    state.events.wake(&session_id);
    Ok(Json(SendEventsResponse { data: Some(echoes) }))
}

/// A placeholder ID; [`Emitter::emit`] assigns the real one.
fn placeholder() -> EventId {
    EventId::new(String::new())
}

/// Checks the events against the session's state and stores them, all or none.
fn accept(tx: &Connection, session_id: &SessionId, events: Vec<UserEvent>) -> Result<Emitter> {
    let mut session = crate::sessions::require(tx, session_id)?;
    if session.is_archived() {
        return Err(Error::invalid_request(format!(
            "session `{session_id}` is archived and accepts no events"
        )));
    }
    if session.status == SessionStatus::Terminated {
        return Err(Error::invalid_request(format!(
            "session `{session_id}` has terminated and accepts no events"
        )));
    }
    let self_hosted = store::is_self_hosted(tx, session_id)?;
    let mut pending = store::pending_set(tx, session_id, self_hosted)?;
    let primary = primary_thread_id(session_id);
    let mut out = Emitter::new(session_id.clone());
    let mut session_changed = false;

    for (i, event) in events.into_iter().enumerate() {
        let field = format!("events[{i}]");
        let kind = event.type_name().to_owned();
        let echo = match event {
            UserEvent::Message(message) => SessionEvent::UserMessage(UserMessage {
                id: placeholder(),
                content: message.content,
                processed_at: Nullable::Null,
            }),
            UserEvent::Interrupt(interrupt) => {
                if let Nullable::Value(thread) = &interrupt.session_thread_id {
                    if thread != &primary {
                        return Err(Error::invalid_request(format!(
                            "`{field}.session_thread_id`: session `{session_id}` has no thread `{thread}`"
                        )));
                    }
                }
                SessionEvent::UserInterrupt(UserInterrupt {
                    id: placeholder(),
                    processed_at: Nullable::Null,
                    session_thread_id: interrupt.session_thread_id,
                })
            }
            UserEvent::ToolConfirmation(confirmation) => {
                expect_pending(
                    &pending,
                    &format!("{field}.tool_use_id"),
                    &confirmation.tool_use_id,
                    &[ToolUseKind::Toolset, ToolUseKind::Mcp],
                    Awaiting::Confirmation,
                )?;
                SessionEvent::UserToolConfirmation(UserToolConfirmation {
                    id: placeholder(),
                    result: confirmation.result,
                    tool_use_id: confirmation.tool_use_id,
                    deny_message: confirmation.deny_message,
                    processed_at: Nullable::Null,
                    session_thread_id: Nullable::Absent,
                })
            }
            UserEvent::CustomToolResult(result) => {
                expect_pending(
                    &pending,
                    &format!("{field}.custom_tool_use_id"),
                    &result.custom_tool_use_id,
                    &[ToolUseKind::Custom],
                    Awaiting::Result,
                )?;
                SessionEvent::UserCustomToolResult(UserCustomToolResult {
                    id: placeholder(),
                    custom_tool_use_id: result.custom_tool_use_id,
                    content: result.content,
                    is_error: result.is_error,
                    processed_at: Nullable::Null,
                    session_thread_id: Nullable::Absent,
                })
            }
            UserEvent::ToolResult(result) => {
                if !self_hosted {
                    return Err(Error::invalid_request(format!(
                        "`{field}.type`: `user.tool_result` is only accepted in a `self_hosted` \
                         environment; session `{session_id}` runs its tools on the server"
                    )));
                }
                expect_pending(
                    &pending,
                    &format!("{field}.tool_use_id"),
                    &result.tool_use_id,
                    &[ToolUseKind::Toolset],
                    Awaiting::Result,
                )?;
                SessionEvent::UserToolResult(UserToolResult {
                    id: placeholder(),
                    tool_use_id: result.tool_use_id,
                    content: result.content,
                    is_error: result.is_error,
                    processed_at: Nullable::Null,
                    session_thread_id: Nullable::Absent,
                })
            }
            UserEvent::DefineOutcome(outcome) => {
                let outcome_id: OutcomeId = crate::ids::new_id(OutcomeId::PREFIX);
                session.outcome_evaluations.push(OutcomeEvaluation {
                    kind: OutcomeEvaluationType::OutcomeEvaluation,
                    outcome_id: outcome_id.clone(),
                    description: outcome.description.clone(),
                    iteration: 0,
                    result: OutcomeEvaluationResult::Pending,
                    explanation: None,
                    completed_at: None,
                });
                session_changed = true;
                SessionEvent::UserDefineOutcome(UserDefineOutcome {
                    id: placeholder(),
                    description: outcome.description,
                    max_iterations: outcome.max_iterations.into_option(),
                    outcome_id,
                    processed_at: crate::clock::now(),
                    rubric: outcome.rubric,
                })
            }
            UserEvent::SystemMessage(system) => SessionEvent::SystemMessage(SystemMessage {
                id: placeholder(),
                content: system.content,
                processed_at: Nullable::Null,
            }),
            UserEvent::Unknown(_) => {
                return Err(Error::invalid_request(format!(
                    "`{field}.type`: unknown event type `{kind}`"
                )));
            }
        };
        let stored = out.emit(tx, echo)?;
        // Later events of the same request see this one settled.
        pending.observe(0, &stored);
    }
    if session_changed {
        session.updated_at = crate::clock::now();
        crate::sessions::save(tx, &session)?;
    }
    Ok(out)
}

/// Refuses an answer to a tool use that is not waiting for it.
fn expect_pending(
    pending: &PendingSet,
    field: &str,
    id: &EventId,
    kinds: &[ToolUseKind],
    awaiting: Awaiting,
) -> Result<()> {
    let wanted = match (kinds, awaiting) {
        ([ToolUseKind::Custom], _) => "an `agent.custom_tool_use` waiting for its result",
        (_, Awaiting::Confirmation) => {
            "an `agent.tool_use` or `agent.mcp_tool_use` waiting for a confirmation"
        }
        (_, Awaiting::Result) => "an `agent.tool_use` waiting for a result from a worker",
    };
    match pending.get(id) {
        Some(p) if kinds.contains(&p.kind) && p.awaiting == awaiting => Ok(()),
        Some(p) => {
            let state = match p.awaiting {
                Awaiting::Result => "a result",
                Awaiting::Confirmation => "a confirmation",
            };
            Err(Error::invalid_request(format!(
                "`{field}`: `{id}` is not {wanted}; it waits for {state} (`{}` tool `{}`)",
                match p.kind {
                    ToolUseKind::Custom => "custom",
                    ToolUseKind::Toolset => "toolset",
                    ToolUseKind::Mcp => "mcp",
                },
                p.name
            )))
        }
        None => Err(Error::invalid_request(format!(
            "`{field}`: `{id}` is not {wanted} in this session (unknown, already answered, or \
             not a tool use)"
        ))),
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(session_id): Path<SessionId>,
    Query(params): Query<EventListParams>,
) -> Result<Json<Page<SessionEvent>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), EVENT_LIMITS)?;
    let query = EventQuery {
        primary_thread: None,
        types: params.types,
        created_at_gt: params.created_at_gt,
        created_at_gte: params.created_at_gte,
        created_at_lt: params.created_at_lt,
        created_at_lte: params.created_at_lte,
        descending: params.order == Some(EventOrder::Desc),
    };
    state
        .db
        .read(move |conn| {
            crate::sessions::require(conn, &session_id)?;
            store::list(conn, &session_id, &query, &request)
        })
        .await
        .map(Json)
}

pub(super) async fn stream(
    State(state): State<AppState>,
    Path(session_id): Path<SessionId>,
    Query(_params): Query<StreamParams>,
) -> Result<Response> {
    open_stream(&state, session_id, None).await
}

/// Opens a stream of the session's events stored from now on (only those of `thread` when
/// given). A 404 for an unknown session, or a thread other than the primary one.
pub(super) async fn open_stream(
    state: &AppState,
    session_id: SessionId,
    thread: Option<SessionThreadId>,
) -> Result<Response> {
    let check = {
        let session_id = session_id.clone();
        let thread = thread.clone();
        move |conn: &Connection| -> Result<i64> {
            crate::sessions::require(conn, &session_id)?;
            if let Some(thread) = &thread {
                if thread != &primary_thread_id(&session_id) {
                    return Err(Error::object_not_found("session thread", thread));
                }
            }
            store::last_seq(conn, &session_id)
        }
    };
    let after = state.db.read(check.clone()).await?;
    let subscription = state.events.subscribe(&session_id, after);
    // Checked again once subscribed: a deletion that slipped in between has already sent its
    // `session.deleted`, which this subscription missed.
    state.db.read(check).await?;
    Ok(super::sse::response(
        subscription,
        state.events.ping_interval(),
        state.shutdown.clone(),
        thread,
    ))
}
