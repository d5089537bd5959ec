//! `client.agents()`: `/v1/agents` (beta `managed-agents-2026-04-01`). There is no DELETE.

use http::Method;
use steward_core::agent::{Agent, AgentCreate, AgentListParams, AgentRetrieveParams, AgentUpdate};
use steward_core::{AgentId, PageParams};

use super::seg;
use crate::client::Client;
use crate::error::Error;
use crate::http::RetrySafety;
use crate::pagination::ListStream;

/// The agents resource.
#[derive(Debug, Clone, Copy)]
pub struct Agents<'a> {
    client: &'a Client,
}

impl Client {
    /// The agents resource.
    pub fn agents(&self) -> Agents<'_> {
        Agents { client: self }
    }
}

impl Agents<'_> {
    /// `POST /v1/agents`: creates an agent (not retried once it may have been processed).
    pub async fn create(&self, body: &AgentCreate) -> Result<Agent, Error> {
        self.client
            .request(Method::POST, "/v1/agents")
            .route("/v1/agents")
            .json(body)
            .retry_safety(RetrySafety::NotIdempotent)
            .send()
            .await
    }

    /// `GET /v1/agents/{agent_id}`: the latest version.
    pub async fn retrieve(&self, id: &AgentId) -> Result<Agent, Error> {
        self.retrieve_with(id, &AgentRetrieveParams::default())
            .await
    }

    /// `GET /v1/agents/{agent_id}?version=`: a given version.
    pub async fn retrieve_with(
        &self,
        id: &AgentId,
        params: &AgentRetrieveParams,
    ) -> Result<Agent, Error> {
        self.client
            .request(Method::GET, format!("/v1/agents/{}", seg(id.as_str())))
            .route("/v1/agents/{agent_id}")
            .query(params)
            .send()
            .await
    }

    /// `POST /v1/agents/{agent_id}`: updates an agent (a new version when anything changed).
    pub async fn update(&self, id: &AgentId, body: &AgentUpdate) -> Result<Agent, Error> {
        self.client
            .request(Method::POST, format!("/v1/agents/{}", seg(id.as_str())))
            .route("/v1/agents/{agent_id}")
            .json(body)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET /v1/agents`: every agent matching `params`, page after page.
    pub fn list(&self, params: &AgentListParams) -> ListStream<Agent> {
        self.client
            .request(Method::GET, "/v1/agents")
            .route("/v1/agents")
            .query(params)
            .list()
    }

    /// `POST /v1/agents/{agent_id}/archive`.
    pub async fn archive(&self, id: &AgentId) -> Result<Agent, Error> {
        self.client
            .request(
                Method::POST,
                format!("/v1/agents/{}/archive", seg(id.as_str())),
            )
            .route("/v1/agents/{agent_id}/archive")
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET /v1/agents/{agent_id}/versions`: one snapshot per version.
    pub fn versions(&self, id: &AgentId, params: &PageParams) -> ListStream<Agent> {
        self.client
            .request(
                Method::GET,
                format!("/v1/agents/{}/versions", seg(id.as_str())),
            )
            .route("/v1/agents/{agent_id}/versions")
            .query(params)
            .list()
    }
}
