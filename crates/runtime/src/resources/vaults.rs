//! `client.vaults()`: `/v1/vaults` and `.credentials()` (beta `managed-agents-2026-04-01`).
//! Responses never carry secrets.

use http::Method;
use steward_core::vault::{
    Credential, CredentialCreate, CredentialListParams, CredentialUpdate, CredentialValidation,
    DeletedCredential, DeletedVault, Vault, VaultCreate, VaultListParams, VaultUpdate,
};
use steward_core::{CredentialId, VaultId};

use super::seg;
use crate::client::Client;
use crate::error::Error;
use crate::http::RetrySafety;
use crate::pagination::ListStream;

/// The vaults resource.
#[derive(Debug, Clone, Copy)]
pub struct Vaults<'a> {
    client: &'a Client,
}

impl Client {
    /// The vaults resource.
    pub fn vaults(&self) -> Vaults<'_> {
        Vaults { client: self }
    }
}

impl<'a> Vaults<'a> {
    /// The credentials of a vault.
    pub fn credentials(&self) -> Credentials<'a> {
        Credentials {
            client: self.client,
        }
    }

    /// `POST /v1/vaults`: creates a vault (not retried once it may have been processed).
    pub async fn create(&self, body: &VaultCreate) -> Result<Vault, Error> {
        self.client
            .request(Method::POST, "/v1/vaults")
            .route("/v1/vaults")
            .json(body)
            .retry_safety(RetrySafety::NotIdempotent)
            .send()
            .await
    }

    /// `GET /v1/vaults/{vault_id}`.
    pub async fn retrieve(&self, id: &VaultId) -> Result<Vault, Error> {
        self.client
            .request(Method::GET, vault_path(id))
            .route("/v1/vaults/{vault_id}")
            .send()
            .await
    }

    /// `POST /v1/vaults/{vault_id}`: display name, metadata patch.
    pub async fn update(&self, id: &VaultId, body: &VaultUpdate) -> Result<Vault, Error> {
        self.client
            .request(Method::POST, vault_path(id))
            .route("/v1/vaults/{vault_id}")
            .json(body)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET /v1/vaults`: every vault matching `params`, page after page.
    pub fn list(&self, params: &VaultListParams) -> ListStream<Vault> {
        self.client
            .request(Method::GET, "/v1/vaults")
            .route("/v1/vaults")
            .query(params)
            .list()
    }

    /// `DELETE /v1/vaults/{vault_id}`.
    pub async fn delete(&self, id: &VaultId) -> Result<DeletedVault, Error> {
        self.client
            .request(Method::DELETE, vault_path(id))
            .route("/v1/vaults/{vault_id}")
            .send()
            .await
    }

    /// `POST /v1/vaults/{vault_id}/archive`.
    pub async fn archive(&self, id: &VaultId) -> Result<Vault, Error> {
        self.client
            .request(Method::POST, format!("{}/archive", vault_path(id)))
            .route("/v1/vaults/{vault_id}/archive")
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }
}

/// The credentials of a vault.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    client: &'a Client,
}

impl Credentials<'_> {
    /// `POST /v1/vaults/{vault_id}/credentials`: stores a credential (the answer has no
    /// secrets). Not retried once it may have been processed.
    pub async fn create(
        &self,
        vault: &VaultId,
        body: &CredentialCreate,
    ) -> Result<Credential, Error> {
        self.client
            .request(Method::POST, credentials_path(vault))
            .route("/v1/vaults/{vault_id}/credentials")
            .json(body)
            .retry_safety(RetrySafety::NotIdempotent)
            .send()
            .await
    }

    /// `GET /v1/vaults/{vault_id}/credentials/{credential_id}`.
    pub async fn retrieve(&self, vault: &VaultId, id: &CredentialId) -> Result<Credential, Error> {
        self.client
            .request(Method::GET, credential_path(vault, id))
            .route("/v1/vaults/{vault_id}/credentials/{credential_id}")
            .send()
            .await
    }

    /// `POST /v1/vaults/{vault_id}/credentials/{credential_id}`: new secrets (same `auth`
    /// type), display name, metadata patch.
    pub async fn update(
        &self,
        vault: &VaultId,
        id: &CredentialId,
        body: &CredentialUpdate,
    ) -> Result<Credential, Error> {
        self.client
            .request(Method::POST, credential_path(vault, id))
            .route("/v1/vaults/{vault_id}/credentials/{credential_id}")
            .json(body)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `GET /v1/vaults/{vault_id}/credentials`: every credential matching `params`.
    pub fn list(&self, vault: &VaultId, params: &CredentialListParams) -> ListStream<Credential> {
        self.client
            .request(Method::GET, credentials_path(vault))
            .route("/v1/vaults/{vault_id}/credentials")
            .query(params)
            .list()
    }

    /// `DELETE /v1/vaults/{vault_id}/credentials/{credential_id}`.
    pub async fn delete(
        &self,
        vault: &VaultId,
        id: &CredentialId,
    ) -> Result<DeletedCredential, Error> {
        self.client
            .request(Method::DELETE, credential_path(vault, id))
            .route("/v1/vaults/{vault_id}/credentials/{credential_id}")
            .send()
            .await
    }

    /// `POST /v1/vaults/{vault_id}/credentials/{credential_id}/archive`.
    pub async fn archive(&self, vault: &VaultId, id: &CredentialId) -> Result<Credential, Error> {
        self.client
            .request(
                Method::POST,
                format!("{}/archive", credential_path(vault, id)),
            )
            .route("/v1/vaults/{vault_id}/credentials/{credential_id}/archive")
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `POST /v1/vaults/{vault_id}/credentials/{credential_id}/mcp_oauth_validate`: probes the
    /// MCP server with an `mcp_oauth` credential (refreshing it on a 401) and reports how it
    /// went. Sends no body.
    pub async fn mcp_oauth_validate(
        &self,
        vault: &VaultId,
        id: &CredentialId,
    ) -> Result<CredentialValidation, Error> {
        self.client
            .request(
                Method::POST,
                format!("{}/mcp_oauth_validate", credential_path(vault, id)),
            )
            .route("/v1/vaults/{vault_id}/credentials/{credential_id}/mcp_oauth_validate")
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }
}

fn vault_path(id: &VaultId) -> String {
    format!("/v1/vaults/{}", seg(id.as_str()))
}

fn credentials_path(vault: &VaultId) -> String {
    format!("{}/credentials", vault_path(vault))
}

fn credential_path(vault: &VaultId, id: &CredentialId) -> String {
    format!("{}/{}", credentials_path(vault), seg(id.as_str()))
}
