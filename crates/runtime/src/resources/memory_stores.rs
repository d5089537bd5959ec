//! `client.memory_stores()`: `/v1/memory_stores`, with `.memories()` and `.memory_versions()`.
//!
//! Every call sends the beta [`steward_core::AGENT_MEMORY_BETA`] (`agent-memory-2026-07-22`),
//! the one the SDK's memory endpoints default to.

use http::Method;
use steward_core::AGENT_MEMORY_BETA;
use steward_core::memory::{
    DeletedMemory, DeletedMemoryStore, Memory, MemoryCreate, MemoryDeleteParams, MemoryListItem,
    MemoryListParams, MemoryRetrieveParams, MemoryStore, MemoryStoreCreate, MemoryStoreListParams,
    MemoryStoreUpdate, MemoryUpdate, MemoryVersion, MemoryVersionListParams,
    MemoryVersionRetrieveParams,
};
use steward_core::{MemoryId, MemoryStoreId, MemoryVersionId};

use super::seg;
use crate::client::Client;
use crate::error::Error;
use crate::http::RetrySafety;
use crate::pagination::ListStream;
use crate::request::RequestBuilder;

/// The memory stores resource.
#[derive(Debug, Clone, Copy)]
pub struct MemoryStores<'a> {
    client: &'a Client,
}

impl Client {
    /// The memory stores resource.
    pub fn memory_stores(&self) -> MemoryStores<'_> {
        MemoryStores { client: self }
    }
}

/// A request with the memory beta.
fn request(client: &Client, method: Method, path: String, route: &'static str) -> RequestBuilder {
    client
        .request(method, path)
        .route(route)
        .beta(AGENT_MEMORY_BETA)
}

impl<'a> MemoryStores<'a> {
    /// The memories of a store.
    pub fn memories(&self) -> Memories<'a> {
        Memories {
            client: self.client,
        }
    }

    /// The version history of a store's memories.
    pub fn memory_versions(&self) -> MemoryVersions<'a> {
        MemoryVersions {
            client: self.client,
        }
    }

    /// `POST /v1/memory_stores`: creates a store (not retried once it may have been processed).
    pub async fn create(&self, body: &MemoryStoreCreate) -> Result<MemoryStore, Error> {
        request(
            self.client,
            Method::POST,
            "/v1/memory_stores".into(),
            "/v1/memory_stores",
        )
        .json(body)
        .retry_safety(RetrySafety::NotIdempotent)
        .send()
        .await
    }

    /// `GET /v1/memory_stores/{memory_store_id}`.
    pub async fn retrieve(&self, id: &MemoryStoreId) -> Result<MemoryStore, Error> {
        request(
            self.client,
            Method::GET,
            store_path(id),
            "/v1/memory_stores/{memory_store_id}",
        )
        .send()
        .await
    }

    /// `POST /v1/memory_stores/{memory_store_id}`: name, description, metadata patch.
    pub async fn update(
        &self,
        id: &MemoryStoreId,
        body: &MemoryStoreUpdate,
    ) -> Result<MemoryStore, Error> {
        request(
            self.client,
            Method::POST,
            store_path(id),
            "/v1/memory_stores/{memory_store_id}",
        )
        .json(body)
        .retry_safety(RetrySafety::Idempotent)
        .send()
        .await
    }

    /// `GET /v1/memory_stores`: every store matching `params`, page after page.
    pub fn list(&self, params: &MemoryStoreListParams) -> ListStream<MemoryStore> {
        request(
            self.client,
            Method::GET,
            "/v1/memory_stores".into(),
            "/v1/memory_stores",
        )
        .query(params)
        .list()
    }

    /// `DELETE /v1/memory_stores/{memory_store_id}`: the store, its memories and versions.
    pub async fn delete(&self, id: &MemoryStoreId) -> Result<DeletedMemoryStore, Error> {
        request(
            self.client,
            Method::DELETE,
            store_path(id),
            "/v1/memory_stores/{memory_store_id}",
        )
        .send()
        .await
    }

    /// `POST /v1/memory_stores/{memory_store_id}/archive` (irreversible).
    pub async fn archive(&self, id: &MemoryStoreId) -> Result<MemoryStore, Error> {
        request(
            self.client,
            Method::POST,
            format!("{}/archive", store_path(id)),
            "/v1/memory_stores/{memory_store_id}/archive",
        )
        .retry_safety(RetrySafety::Idempotent)
        .send()
        .await
    }
}

/// The memories of a memory store.
#[derive(Debug, Clone, Copy)]
pub struct Memories<'a> {
    client: &'a Client,
}

impl Memories<'_> {
    /// `POST …/memories`: writes a memory at a new path (the answer in the default `basic`
    /// view). Not retried once it may have been processed.
    pub async fn create(
        &self,
        store: &MemoryStoreId,
        body: &MemoryCreate,
    ) -> Result<Memory, Error> {
        self.create_with(store, body, &MemoryRetrieveParams::default())
            .await
    }

    /// Like [`Memories::create`], with `?view=` choosing what the answer includes.
    pub async fn create_with(
        &self,
        store: &MemoryStoreId,
        body: &MemoryCreate,
        params: &MemoryRetrieveParams,
    ) -> Result<Memory, Error> {
        request(
            self.client,
            Method::POST,
            memories_path(store),
            "/v1/memory_stores/{memory_store_id}/memories",
        )
        .query(params)
        .json(body)
        .retry_safety(RetrySafety::NotIdempotent)
        .send()
        .await
    }

    /// `GET …/memories/{memory_id}` (default view `full`, with content).
    pub async fn retrieve(&self, store: &MemoryStoreId, id: &MemoryId) -> Result<Memory, Error> {
        self.retrieve_with(store, id, &MemoryRetrieveParams::default())
            .await
    }

    /// Like [`Memories::retrieve`], with `?view=`.
    pub async fn retrieve_with(
        &self,
        store: &MemoryStoreId,
        id: &MemoryId,
        params: &MemoryRetrieveParams,
    ) -> Result<Memory, Error> {
        request(
            self.client,
            Method::GET,
            memory_path(store, id),
            "/v1/memory_stores/{memory_store_id}/memories/{memory_id}",
        )
        .query(params)
        .send()
        .await
    }

    /// `POST …/memories/{memory_id}`: new content and/or path, optionally under a
    /// `content_sha256` precondition (409 `memory_precondition_failed_error` on mismatch).
    /// Idempotent: writing the same content and path again changes nothing.
    pub async fn update(
        &self,
        store: &MemoryStoreId,
        id: &MemoryId,
        body: &MemoryUpdate,
    ) -> Result<Memory, Error> {
        self.update_with(store, id, body, &MemoryRetrieveParams::default())
            .await
    }

    /// Like [`Memories::update`], with `?view=`.
    pub async fn update_with(
        &self,
        store: &MemoryStoreId,
        id: &MemoryId,
        body: &MemoryUpdate,
        params: &MemoryRetrieveParams,
    ) -> Result<Memory, Error> {
        request(
            self.client,
            Method::POST,
            memory_path(store, id),
            "/v1/memory_stores/{memory_store_id}/memories/{memory_id}",
        )
        .query(params)
        .json(body)
        .retry_safety(RetrySafety::Idempotent)
        .send()
        .await
    }

    /// `GET …/memories`: memories (and, with `depth=1`, `memory_prefix` rollups) matching
    /// `params`, page after page.
    pub fn list(
        &self,
        store: &MemoryStoreId,
        params: &MemoryListParams,
    ) -> ListStream<MemoryListItem> {
        request(
            self.client,
            Method::GET,
            memories_path(store),
            "/v1/memory_stores/{memory_store_id}/memories",
        )
        .query(params)
        .list()
    }

    /// `DELETE …/memories/{memory_id}` (versions are kept; a `deleted` version is added).
    pub async fn delete(
        &self,
        store: &MemoryStoreId,
        id: &MemoryId,
    ) -> Result<DeletedMemory, Error> {
        self.delete_with(store, id, &MemoryDeleteParams::default())
            .await
    }

    /// Like [`Memories::delete`], only if the content still has the expected hash.
    pub async fn delete_with(
        &self,
        store: &MemoryStoreId,
        id: &MemoryId,
        params: &MemoryDeleteParams,
    ) -> Result<DeletedMemory, Error> {
        request(
            self.client,
            Method::DELETE,
            memory_path(store, id),
            "/v1/memory_stores/{memory_store_id}/memories/{memory_id}",
        )
        .query(params)
        .send()
        .await
    }
}

/// The version history of a memory store.
#[derive(Debug, Clone, Copy)]
pub struct MemoryVersions<'a> {
    client: &'a Client,
}

impl MemoryVersions<'_> {
    /// `GET …/memory_versions`: versions matching `params`, page after page.
    pub fn list(
        &self,
        store: &MemoryStoreId,
        params: &MemoryVersionListParams,
    ) -> ListStream<MemoryVersion> {
        request(
            self.client,
            Method::GET,
            versions_path(store),
            "/v1/memory_stores/{memory_store_id}/memory_versions",
        )
        .query(params)
        .list()
    }

    /// `GET …/memory_versions/{memory_version_id}` (default view `full`).
    pub async fn retrieve(
        &self,
        store: &MemoryStoreId,
        id: &MemoryVersionId,
    ) -> Result<MemoryVersion, Error> {
        self.retrieve_with(store, id, &MemoryVersionRetrieveParams::default())
            .await
    }

    /// Like [`MemoryVersions::retrieve`], with `?view=`.
    pub async fn retrieve_with(
        &self,
        store: &MemoryStoreId,
        id: &MemoryVersionId,
        params: &MemoryVersionRetrieveParams,
    ) -> Result<MemoryVersion, Error> {
        request(
            self.client,
            Method::GET,
            version_path(store, id),
            "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}",
        )
        .query(params)
        .send()
        .await
    }

    /// `POST …/memory_versions/{memory_version_id}/redact`: clears the version's content.
    pub async fn redact(
        &self,
        store: &MemoryStoreId,
        id: &MemoryVersionId,
    ) -> Result<MemoryVersion, Error> {
        request(
            self.client,
            Method::POST,
            format!("{}/redact", version_path(store, id)),
            "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}/redact",
        )
        .retry_safety(RetrySafety::Idempotent)
        .send()
        .await
    }
}

fn store_path(id: &MemoryStoreId) -> String {
    format!("/v1/memory_stores/{}", seg(id.as_str()))
}

fn memories_path(store: &MemoryStoreId) -> String {
    format!("{}/memories", store_path(store))
}

fn memory_path(store: &MemoryStoreId, id: &MemoryId) -> String {
    format!("{}/{}", memories_path(store), seg(id.as_str()))
}

fn versions_path(store: &MemoryStoreId) -> String {
    format!("{}/memory_versions", store_path(store))
}

fn version_path(store: &MemoryStoreId, id: &MemoryVersionId) -> String {
    format!("{}/{}", versions_path(store), seg(id.as_str()))
}
