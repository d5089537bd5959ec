//! `client.sessions()`: `/v1/sessions` and what hangs off a session: its events
//! ([`SessionEvents`]), resources ([`SessionResources`]) and threads ([`SessionThreads`]); beta
//! `managed-agents-2026-04-01`.

use http::Method;
use steward_core::event::{
    EventListParams, SendEvents, SendEventsResponse, SessionEvent, StreamParams,
};
use steward_core::session::{Session, SessionCreate, SessionListParams, SessionUpdate};
use steward_core::{BidirectionalPage, Deleted, Page, SessionId};

use super::seg;
use super::session_resources::SessionResources;
use super::threads::SessionThreads;
use crate::client::Client;
use crate::error::Error;
use crate::http::RetrySafety;
use crate::pagination::{ListStream, Pages, PrevPages};
use crate::resilient::{ResilientEventStream, ResilientOptions};
use crate::sse::EventStream;

/// The sessions resource.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    client: &'a Client,
}

impl Client {
    /// The sessions resource.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { client: self }
    }
}

impl<'a> Sessions<'a> {
    /// A session's events: list, send, stream (plain or resilient).
    pub fn events(&self) -> SessionEvents<'a> {
        SessionEvents {
            client: self.client,
        }
    }

    /// A session's resources: add, list, retrieve, update, delete.
    pub fn resources(&self) -> SessionResources<'a> {
        SessionResources::new(self.client)
    }

    /// A session's threads: list, retrieve, archive, their events and streams.
    pub fn threads(&self) -> SessionThreads<'a> {
        SessionThreads::new(self.client)
    }

    /// `POST /v1/sessions`: creates a session (it starts `idle`). Not retried once it may
    /// have been processed.
    pub async fn create(&self, body: &SessionCreate) -> Result<Session, Error> {
        self.client
            .request(Method::POST, "/v1/sessions")
            .route("/v1/sessions")
            .json(body)
            .retry_safety(RetrySafety::NotIdempotent)
            .send()
            .await
    }

    /// `GET /v1/sessions/{session_id}`.
    pub async fn retrieve(&self, id: &SessionId) -> Result<Session, Error> {
        self.client
            .request(Method::GET, session_path(id))
            .route("/v1/sessions/{session_id}")
            .send()
            .await
    }

    /// `POST /v1/sessions/{session_id}`: title, metadata patch, budget, agent tools.
    pub async fn update(&self, id: &SessionId, body: &SessionUpdate) -> Result<Session, Error> {
        self.client
            .request(Method::POST, session_path(id))
            .route("/v1/sessions/{session_id}")
            .json(body)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET /v1/sessions`: every session matching `params`, following `next_page` (newest
    /// first unless `params.order` says otherwise). Start from a cursor with `params.page`.
    pub fn list(&self, params: &SessionListParams) -> ListStream<Session> {
        self.client
            .request(Method::GET, "/v1/sessions")
            .route("/v1/sessions")
            .query(params)
            .list_bidirectional()
    }

    /// `GET /v1/sessions` walked the other way: from `params.page` (a `prev_page` cursor of
    /// an earlier page) following `prev_page` until it is `null`. Each page's items come in
    /// the page's own order; pages come in reverse.
    pub fn list_backward(&self, params: &SessionListParams) -> ListStream<Session> {
        self.client
            .request(Method::GET, "/v1/sessions")
            .route("/v1/sessions")
            .query(params)
            .pages::<PrevPages<Session>>()
            .items()
    }

    /// `GET /v1/sessions` page by page, with both cursors of each page, for callers that
    /// move back and forth themselves.
    pub fn pages(&self, params: &SessionListParams) -> Pages<BidirectionalPage<Session>> {
        self.client
            .request(Method::GET, "/v1/sessions")
            .route("/v1/sessions")
            .query(params)
            .pages()
    }

    /// `DELETE /v1/sessions/{session_id}`: ends its streams with `session.deleted`.
    pub async fn delete(&self, id: &SessionId) -> Result<Deleted<SessionId>, Error> {
        self.client
            .request(Method::DELETE, session_path(id))
            .route("/v1/sessions/{session_id}")
            .send()
            .await
    }

    /// `POST /v1/sessions/{session_id}/archive`.
    pub async fn archive(&self, id: &SessionId) -> Result<Session, Error> {
        self.client
            .request(Method::POST, format!("{}/archive", session_path(id)))
            .route("/v1/sessions/{session_id}/archive")
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }
}

/// The events of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionEvents<'a> {
    client: &'a Client,
}

impl SessionEvents<'_> {
    /// `GET /v1/sessions/{session_id}/events`: the history, page after page (never
    /// `event_start` / `event_delta`).
    pub fn list(&self, id: &SessionId, params: &EventListParams) -> ListStream<SessionEvent> {
        self.client
            .request(Method::GET, events_path(id))
            .route("/v1/sessions/{session_id}/events")
            .query(params)
            .list()
    }

    /// `GET /v1/sessions/{session_id}/events` page by page.
    pub fn pages(&self, id: &SessionId, params: &EventListParams) -> Pages<Page<SessionEvent>> {
        self.client
            .request(Method::GET, events_path(id))
            .route("/v1/sessions/{session_id}/events")
            .query(params)
            .pages()
    }

    /// `POST /v1/sessions/{session_id}/events`: sends events and returns their echoes. Not
    /// idempotent: a repeat would send a `user.message` twice, so it is retried only when the
    /// server certainly did not process it.
    pub async fn send(
        &self,
        id: &SessionId,
        body: &SendEvents,
    ) -> Result<SendEventsResponse, Error> {
        self.client
            .request(Method::POST, events_path(id))
            .route("/v1/sessions/{session_id}/events")
            .json(body)
            .retry_safety(RetrySafety::NotIdempotent)
            .send()
            .await
    }

    /// `GET /v1/sessions/{session_id}/events/stream`: events from now on, typed. Unknown
    /// types arrive as [`SessionEvent::Unknown`]; pings are dropped; the stream ends at the
    /// first error, or when the server closes it (see [`SessionEvents::stream_resilient`] for
    /// a stream that reconnects).
    pub async fn stream(&self, id: &SessionId) -> Result<EventStream<SessionEvent>, Error> {
        self.stream_with(id, &StreamParams::default()).await
    }

    /// Like [`SessionEvents::stream`], with `event_deltas[]` previews.
    pub async fn stream_with(
        &self,
        id: &SessionId,
        params: &StreamParams,
    ) -> Result<EventStream<SessionEvent>, Error> {
        self.client
            .request(Method::GET, format!("{}/stream", events_path(id)))
            .route("/v1/sessions/{session_id}/events/stream")
            .query(params)
            .stream()
            .await
    }

    /// A stream of the session's events that survives dropped connections: it reconnects with
    /// backoff and jitter, fills the gap from the event list (only what came after the last
    /// event it yielded) and yields every event once, in order. See [`crate::resilient`] for
    /// the contract.
    pub fn stream_resilient(
        &self,
        id: &SessionId,
        options: ResilientOptions,
    ) -> ResilientEventStream {
        ResilientEventStream::new(self.client.clone(), id.clone(), options)
    }
}

pub(crate) fn session_path(id: &SessionId) -> String {
    format!("/v1/sessions/{}", seg(id.as_str()))
}

fn events_path(id: &SessionId) -> String {
    format!("{}/events", session_path(id))
}
