//! `client.sessions()`: for now its events, `/v1/sessions/{session_id}/events…`
//! (beta `managed-agents-2026-04-01`).

use http::Method;
use steward_core::SessionId;
use steward_core::event::{
    EventListParams, SendEvents, SendEventsResponse, SessionEvent, StreamParams,
};

use super::seg;
use crate::client::Client;
use crate::error::Error;
use crate::http::RetrySafety;
use crate::pagination::ListStream;
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
    /// A session's events: list, send, stream.
    pub fn events(&self) -> SessionEvents<'a> {
        SessionEvents {
            client: self.client,
        }
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
    /// first error, or when the server closes it (callers decide whether to reconnect).
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
}

fn events_path(id: &SessionId) -> String {
    format!("/v1/sessions/{}/events", seg(id.as_str()))
}
