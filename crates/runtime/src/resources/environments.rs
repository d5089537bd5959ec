//! `client.environments()`: `/v1/environments` and its self-hosted work queue
//! (`client.environments().work()`, `/v1/environments/{environment_id}/work…`), beta
//! `managed-agents-2026-04-01`.

use http::Method;
use steward_core::environment::{
    Environment, EnvironmentCreate, EnvironmentDeleted, EnvironmentListParams, EnvironmentUpdate,
};
use steward_core::work::{
    Work, WorkHeartbeat, WorkHeartbeatParams, WorkListParams, WorkPollParams, WorkQueueStats,
    WorkStop, WorkUpdate,
};
use steward_core::{EnvironmentId, WorkId};

use super::seg;
use crate::client::Client;
use crate::error::Error;
use crate::http::RetrySafety;
use crate::pagination::ListStream;

/// The header a poll names its worker with (feeds `workers_polling` in the queue stats).
pub const WORKER_ID_HEADER: &str = "anthropic-worker-id";

/// The environments resource.
#[derive(Debug, Clone, Copy)]
pub struct Environments<'a> {
    client: &'a Client,
}

impl Client {
    /// The environments resource.
    pub fn environments(&self) -> Environments<'_> {
        Environments { client: self }
    }
}

impl<'a> Environments<'a> {
    /// The work queue of self-hosted environments.
    pub fn work(&self) -> EnvironmentWork<'a> {
        EnvironmentWork {
            client: self.client,
        }
    }

    /// `POST /v1/environments`: creates an environment (not retried once it may have been
    /// processed).
    pub async fn create(&self, body: &EnvironmentCreate) -> Result<Environment, Error> {
        self.client
            .request(Method::POST, "/v1/environments")
            .route("/v1/environments")
            .json(body)
            .retry_safety(RetrySafety::NotIdempotent)
            .send()
            .await
    }

    /// `GET /v1/environments/{environment_id}`.
    pub async fn retrieve(&self, id: &EnvironmentId) -> Result<Environment, Error> {
        self.client
            .request(Method::GET, env_path(id))
            .route("/v1/environments/{environment_id}")
            .send()
            .await
    }

    /// `POST /v1/environments/{environment_id}`: updates fields; `metadata` is a patch.
    pub async fn update(
        &self,
        id: &EnvironmentId,
        body: &EnvironmentUpdate,
    ) -> Result<Environment, Error> {
        self.client
            .request(Method::POST, env_path(id))
            .route("/v1/environments/{environment_id}")
            .json(body)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET /v1/environments`: every environment matching `params`, page after page.
    pub fn list(&self, params: &EnvironmentListParams) -> ListStream<Environment> {
        self.client
            .request(Method::GET, "/v1/environments")
            .route("/v1/environments")
            .query(params)
            .list()
    }

    /// `DELETE /v1/environments/{environment_id}`.
    pub async fn delete(&self, id: &EnvironmentId) -> Result<EnvironmentDeleted, Error> {
        self.client
            .request(Method::DELETE, env_path(id))
            .route("/v1/environments/{environment_id}")
            .send()
            .await
    }

    /// `POST /v1/environments/{environment_id}/archive`: no new sessions may use it.
    pub async fn archive(&self, id: &EnvironmentId) -> Result<Environment, Error> {
        self.client
            .request(Method::POST, format!("{}/archive", env_path(id)))
            .route("/v1/environments/{environment_id}/archive")
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }
}

/// The work queue of a self-hosted environment.
///
/// Which credential each call takes differs (see the protocol notes): `poll`, `ack` and `list`
/// use the environment key, `heartbeat` and `stop` the per-work sessions token or the
/// environment key, `retrieve`, `update` and `stats` an API key. Build a client per credential
/// ([`ClientBuilder::auth_token`](crate::ClientBuilder::auth_token)).
#[derive(Debug, Clone, Copy)]
pub struct EnvironmentWork<'a> {
    client: &'a Client,
}

impl EnvironmentWork<'_> {
    /// `GET …/work/poll`: the next work item, or `None` when there is none (the API answers
    /// `null`, or an empty 204). `params.worker_id` is sent as the `Anthropic-Worker-ID` header.
    pub async fn poll(
        &self,
        environment: &EnvironmentId,
        params: &WorkPollParams,
    ) -> Result<Option<Work>, Error> {
        let mut request = self
            .client
            .request(Method::GET, format!("{}/work/poll", env_path(environment)))
            .route("/v1/environments/{environment_id}/work/poll")
            .query(params);
        if let Some(worker) = &params.worker_id {
            request = request.header(WORKER_ID_HEADER, worker.as_str());
        }
        request.send().await
    }

    /// `POST …/work/{work_id}/ack`: takes the item off the queue (`queued` → `starting`).
    pub async fn ack(&self, environment: &EnvironmentId, work: &WorkId) -> Result<Work, Error> {
        self.client
            .request(
                Method::POST,
                format!("{}/ack", work_path(environment, work)),
            )
            .route("/v1/environments/{environment_id}/work/{work_id}/ack")
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `POST …/work/{work_id}/heartbeat`: extends the lease. With `expected_last_heartbeat`,
    /// a repeat after a lost response fails with 412 rather than applying twice.
    pub async fn heartbeat(
        &self,
        environment: &EnvironmentId,
        work: &WorkId,
        params: &WorkHeartbeatParams,
    ) -> Result<WorkHeartbeat, Error> {
        self.client
            .request(
                Method::POST,
                format!("{}/heartbeat", work_path(environment, work)),
            )
            .route("/v1/environments/{environment_id}/work/{work_id}/heartbeat")
            .query(params)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `POST …/work/{work_id}/stop`: asks the worker to stop (`force` skips the graceful
    /// shutdown). Stopping twice converges (the API answers 409 once stopped).
    pub async fn stop(
        &self,
        environment: &EnvironmentId,
        work: &WorkId,
        body: &WorkStop,
    ) -> Result<Work, Error> {
        self.client
            .request(
                Method::POST,
                format!("{}/stop", work_path(environment, work)),
            )
            .route("/v1/environments/{environment_id}/work/{work_id}/stop")
            .json(body)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET …/work/stats`: queue depth and pollers.
    pub async fn stats(&self, environment: &EnvironmentId) -> Result<WorkQueueStats, Error> {
        self.client
            .request(Method::GET, format!("{}/work/stats", env_path(environment)))
            .route("/v1/environments/{environment_id}/work/stats")
            .send()
            .await
    }

    /// `GET …/work/{work_id}` (its `secret` is `null` here).
    pub async fn retrieve(
        &self,
        environment: &EnvironmentId,
        work: &WorkId,
    ) -> Result<Work, Error> {
        self.client
            .request(Method::GET, work_path(environment, work))
            .route("/v1/environments/{environment_id}/work/{work_id}")
            .send()
            .await
    }

    /// `POST …/work/{work_id}`: patches the item's metadata.
    pub async fn update(
        &self,
        environment: &EnvironmentId,
        work: &WorkId,
        body: &WorkUpdate,
    ) -> Result<Work, Error> {
        self.client
            .request(Method::POST, work_path(environment, work))
            .route("/v1/environments/{environment_id}/work/{work_id}")
            .json(body)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET …/work`: every work item of the environment, page after page.
    pub fn list(&self, environment: &EnvironmentId, params: &WorkListParams) -> ListStream<Work> {
        self.client
            .request(Method::GET, format!("{}/work", env_path(environment)))
            .route("/v1/environments/{environment_id}/work")
            .query(params)
            .list()
    }
}

fn env_path(id: &EnvironmentId) -> String {
    format!("/v1/environments/{}", seg(id.as_str()))
}

fn work_path(environment: &EnvironmentId, work: &WorkId) -> String {
    format!("{}/work/{}", env_path(environment), seg(work.as_str()))
}
