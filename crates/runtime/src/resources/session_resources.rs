//! `client.sessions().resources()`: `/v1/sessions/{session_id}/resources…`, what is mounted
//! into a session's container (beta `managed-agents-2026-04-01`).

use http::Method;
use steward_core::resource::{ResourceAdd, ResourceListParams, ResourceUpdate, SessionResource};
use steward_core::{Deleted, SessionId, SessionResourceId};

use super::seg;
use super::sessions::session_path;
use crate::client::Client;
use crate::error::Error;
use crate::http::RetrySafety;
use crate::pagination::ListStream;

/// The resources of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionResources<'a> {
    client: &'a Client,
}

impl<'a> SessionResources<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// `POST /v1/sessions/{session_id}/resources`: mounts one more file. The API answers the
    /// file resource (`type: "file"`), returned as the [`SessionResource`] union so it
    /// round-trips unchanged. Not retried once it may have been processed.
    pub async fn add(
        &self,
        session: &SessionId,
        body: &ResourceAdd,
    ) -> Result<SessionResource, Error> {
        self.client
            .request(Method::POST, resources_path(session))
            .route("/v1/sessions/{session_id}/resources")
            .json(body)
            .retry_safety(RetrySafety::NotIdempotent)
            .send()
            .await
    }

    /// `GET /v1/sessions/{session_id}/resources/{resource_id}`.
    pub async fn retrieve(
        &self,
        session: &SessionId,
        id: &SessionResourceId,
    ) -> Result<SessionResource, Error> {
        self.client
            .request(Method::GET, resource_path(session, id))
            .route("/v1/sessions/{session_id}/resources/{resource_id}")
            .send()
            .await
    }

    /// `POST /v1/sessions/{session_id}/resources/{resource_id}`: rotates a repository's
    /// authorization token.
    pub async fn update(
        &self,
        session: &SessionId,
        id: &SessionResourceId,
        body: &ResourceUpdate,
    ) -> Result<SessionResource, Error> {
        self.client
            .request(Method::POST, resource_path(session, id))
            .route("/v1/sessions/{session_id}/resources/{resource_id}")
            .json(body)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET /v1/sessions/{session_id}/resources`: every resource, page after page.
    pub fn list(
        &self,
        session: &SessionId,
        params: &ResourceListParams,
    ) -> ListStream<SessionResource> {
        self.client
            .request(Method::GET, resources_path(session))
            .route("/v1/sessions/{session_id}/resources")
            .query(params)
            .list()
    }

    /// `DELETE /v1/sessions/{session_id}/resources/{resource_id}`.
    pub async fn delete(
        &self,
        session: &SessionId,
        id: &SessionResourceId,
    ) -> Result<Deleted<SessionResourceId>, Error> {
        self.client
            .request(Method::DELETE, resource_path(session, id))
            .route("/v1/sessions/{session_id}/resources/{resource_id}")
            .send()
            .await
    }
}

fn resources_path(session: &SessionId) -> String {
    format!("{}/resources", session_path(session))
}

fn resource_path(session: &SessionId, id: &SessionResourceId) -> String {
    format!("{}/{}", resources_path(session), seg(id.as_str()))
}
