//! `/v1/sessions/{id}/threads…`: the session's primary thread, the only thread the platform
//! runs (it spawns no subagents).
//!
//! The primary thread is not stored: it is derived from the session. Its ID is
//! [`primary_thread_id`] (the session ID with `sthr_` in place of `sesn_`), it runs the
//! session's agent snapshot (without `multiagent`), and its status, stats, usage and timestamps
//! are the session's (`rescheduling` for a session that is `rescheduling`). Its events are the
//! session's events that name no other thread, so for a single-agent session the thread's list
//! and stream equal the session's. Archiving a thread is not offered (`POST …/archive` is a
//! 404): the primary thread lives and ends with its session.

use axum::extract::{Path, State};
use axum::response::Response;
use steward_core::event::{SessionEvent, StreamParams};
use steward_core::session::{Session, SessionStatus};
use steward_core::thread::{
    SessionThread, SessionThreadStats, SessionThreadStatus, SessionThreadType, ThreadAgent,
    ThreadListParams,
};
use steward_core::{Page, SessionId, SessionThreadId};

use super::store::{self, EVENT_LIMITS, EventQuery, primary_thread_id};
use super::validate::ThreadEventsQuery;
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::pagination::{Limits, PageRequest};
use crate::state::AppState;

/// The primary thread of a session, as `GET …/threads/{id}` returns it.
pub fn primary_thread(session: &Session) -> SessionThread {
    let status = match &session.status {
        SessionStatus::Running => SessionThreadStatus::Running,
        SessionStatus::Rescheduling => SessionThreadStatus::Rescheduling,
        SessionStatus::Terminated => SessionThreadStatus::Terminated,
        _ => SessionThreadStatus::Idle,
    };
    SessionThread {
        id: primary_thread_id(&session.id),
        kind: SessionThreadType::SessionThread,
        session_id: session.id.clone(),
        parent_thread_id: None,
        agent: ThreadAgent::Agent(session.agent.thread_agent()),
        status,
        stats: Some(SessionThreadStats {
            active_seconds: session.stats.active_seconds,
            duration_seconds: session.stats.duration_seconds,
            startup_seconds: Some(0.0),
        }),
        usage: Some(session.usage.clone()),
        workflow_run_id: None,
        created_at: session.created_at.clone(),
        updated_at: session.updated_at.clone(),
        archived_at: session.archived_at.clone(),
    }
}

/// Reads the session and checks that `thread_id` is its primary thread (a 404 otherwise).
fn require_thread(
    conn: &rusqlite::Connection,
    session_id: &SessionId,
    thread_id: &SessionThreadId,
) -> Result<Session> {
    let session = crate::sessions::require(conn, session_id)?;
    if &primary_thread_id(session_id) != thread_id {
        return Err(Error::object_not_found("session thread", thread_id));
    }
    Ok(session)
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(session_id): Path<SessionId>,
    Query(params): Query<ThreadListParams>,
) -> Result<Json<Page<SessionThread>>> {
    // Checks `limit` and `page`. There is one thread: it is on the first page, and there is
    // never a next one.
    PageRequest::new(params.limit, params.page.as_deref(), Limits::STANDARD)?;
    let first_page = params.page.as_deref().is_none_or(str::is_empty);
    let session = state
        .db
        .read(move |conn| crate::sessions::require(conn, &session_id))
        .await?;
    let thread = primary_thread(&session);
    let wanted = params.statuses.is_empty() || params.statuses.contains(&thread.status);
    Ok(Json(Page {
        data: if first_page && wanted {
            vec![thread]
        } else {
            Vec::new()
        },
        next_page: None,
    }))
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path((session_id, thread_id)): Path<(SessionId, SessionThreadId)>,
) -> Result<Json<SessionThread>> {
    state
        .db
        .read(move |conn| require_thread(conn, &session_id, &thread_id))
        .await
        .map(|session| Json(primary_thread(&session)))
}

pub(super) async fn events(
    State(state): State<AppState>,
    Path((session_id, thread_id)): Path<(SessionId, SessionThreadId)>,
    Query(params): Query<ThreadEventsQuery>,
) -> Result<Json<Page<SessionEvent>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), EVENT_LIMITS)?;
    state
        .db
        .read(move |conn| {
            require_thread(conn, &session_id, &thread_id)?;
            let query = EventQuery {
                primary_thread: Some(thread_id),
                ..EventQuery::default()
            };
            store::list(conn, &session_id, &query, &request)
        })
        .await
        .map(Json)
}

pub(super) async fn stream(
    State(state): State<AppState>,
    Path((session_id, thread_id)): Path<(SessionId, SessionThreadId)>,
    Query(_params): Query<StreamParams>,
) -> Result<Response> {
    super::handlers::open_stream(&state, session_id, Some(thread_id)).await
}
