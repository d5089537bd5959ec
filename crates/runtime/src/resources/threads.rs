//! `client.sessions().threads()`: `/v1/sessions/{session_id}/threads…`, the execution threads
//! of a session, with each thread's events and stream (beta `managed-agents-2026-04-01`).

use http::Method;
use steward_core::event::{SessionEvent, StreamParams};
use steward_core::thread::{SessionThread, ThreadListParams};
use steward_core::{PageParams, SessionId, SessionThreadId};

use super::seg;
use super::sessions::session_path;
use crate::client::Client;
use crate::error::Error;
use crate::http::RetrySafety;
use crate::pagination::ListStream;
use crate::sse::EventStream;

/// The threads of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionThreads<'a> {
    client: &'a Client,
}

impl<'a> SessionThreads<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// The events of a thread: list and stream.
    pub fn events(&self) -> ThreadEvents<'a> {
        ThreadEvents {
            client: self.client,
        }
    }

    /// `GET /v1/sessions/{session_id}/threads`: every thread matching `params`.
    pub fn list(
        &self,
        session: &SessionId,
        params: &ThreadListParams,
    ) -> ListStream<SessionThread> {
        self.client
            .request(Method::GET, threads_path(session))
            .route("/v1/sessions/{session_id}/threads")
            .query(params)
            .list()
    }

    /// `GET /v1/sessions/{session_id}/threads/{thread_id}`.
    pub async fn retrieve(
        &self,
        session: &SessionId,
        id: &SessionThreadId,
    ) -> Result<SessionThread, Error> {
        self.client
            .request(Method::GET, thread_path(session, id))
            .route("/v1/sessions/{session_id}/threads/{thread_id}")
            .send()
            .await
    }

    /// `POST /v1/sessions/{session_id}/threads/{thread_id}/archive`.
    pub async fn archive(
        &self,
        session: &SessionId,
        id: &SessionThreadId,
    ) -> Result<SessionThread, Error> {
        self.client
            .request(
                Method::POST,
                format!("{}/archive", thread_path(session, id)),
            )
            .route("/v1/sessions/{session_id}/threads/{thread_id}/archive")
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }
}

/// The events of a session thread (the SDK's `sessions.threads.events`).
#[derive(Debug, Clone, Copy)]
pub struct ThreadEvents<'a> {
    client: &'a Client,
}

impl ThreadEvents<'_> {
    /// `GET /v1/sessions/{session_id}/threads/{thread_id}/events`: the thread's history.
    pub fn list(
        &self,
        session: &SessionId,
        id: &SessionThreadId,
        params: &PageParams,
    ) -> ListStream<SessionEvent> {
        self.client
            .request(Method::GET, format!("{}/events", thread_path(session, id)))
            .route("/v1/sessions/{session_id}/threads/{thread_id}/events")
            .query(params)
            .list()
    }

    /// `GET /v1/sessions/{session_id}/threads/{thread_id}/stream` (not `/events/stream`): the
    /// thread's events from now on, with the rules of the session stream.
    pub async fn stream(
        &self,
        session: &SessionId,
        id: &SessionThreadId,
        params: &StreamParams,
    ) -> Result<EventStream<SessionEvent>, Error> {
        self.client
            .request(Method::GET, format!("{}/stream", thread_path(session, id)))
            .route("/v1/sessions/{session_id}/threads/{thread_id}/stream")
            .query(params)
            .stream()
            .await
    }
}

fn threads_path(session: &SessionId) -> String {
    format!("{}/threads", session_path(session))
}

fn thread_path(session: &SessionId, id: &SessionThreadId) -> String {
    format!("{}/{}", threads_path(session), seg(id.as_str()))
}
