//! SQL for vaults and credentials, and the decrypted secrets of a credential.
//!
//! Rows keep the wire object as JSON `body` (a [`Credential`] has no secret fields, so the body
//! never holds one) and, for credentials, the sealed secrets in `secrets` (see
//! [`crypto`](super::crypto)). Every write of a credential's secrets seals them afresh.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use steward_core::vault::{Credential, Secret, Vault};
use steward_core::{CredentialId, VaultId};

use super::crypto::VaultKey;
use crate::db::{from_json, load_body, optional, to_json};
use crate::error::{Error, Result};

/// The secrets of one credential, decrypted. Which ones exist depends on the auth type.
///
/// `Debug` shows `[redacted]` for every value ([`Secret`]); call [`Secret::expose`] where a
/// value is really needed (building an `Authorization` header), and never log it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum CredentialSecrets {
    /// `mcp_oauth`.
    McpOauth {
        /// The access token sent to the MCP server.
        access_token: Secret,
        /// The refresh token, when refresh settings exist.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token: Option<Secret>,
        /// The client secret, when the token endpoint auth is `client_secret_basic` or
        /// `client_secret_post`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret: Option<Secret>,
    },
    /// `static_bearer`.
    StaticBearer {
        /// The bearer token sent to the MCP server.
        token: Secret,
    },
    /// `environment_variable`.
    EnvironmentVariable {
        /// The value substituted into outbound requests.
        secret_value: Secret,
    },
}

impl CredentialSecrets {
    /// Every secret value held, for scrubbing them out of captured text.
    pub(crate) fn values(&self) -> Vec<&str> {
        match self {
            Self::McpOauth {
                access_token,
                refresh_token,
                client_secret,
            } => std::iter::once(access_token)
                .chain(refresh_token)
                .chain(client_secret)
                .map(Secret::expose)
                .collect(),
            Self::StaticBearer { token } => vec![token.expose()],
            Self::EnvironmentVariable { secret_value } => vec![secret_value.expose()],
        }
    }
}

/// A stored vault, if it exists.
pub(super) fn load_vault(conn: &Connection, id: &VaultId) -> Result<Option<Vault>> {
    load_body(conn, "vaults", id.as_str())
}

/// Inserts or replaces a vault.
pub(super) fn save_vault(conn: &Connection, vault: &Vault) -> Result<()> {
    conn.execute(
        "INSERT INTO vaults (id, created_at, archived_at, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET archived_at = excluded.archived_at, body = excluded.body",
        rusqlite::params![
            vault.id.as_str(),
            vault.created_at.as_str(),
            vault.archived_at.as_ref().map(|t| t.as_str()),
            to_json(vault)?,
        ],
    )?;
    Ok(())
}

/// Deletes a vault and (by cascade) its credentials. Returns whether it existed.
pub(super) fn delete_vault(conn: &Connection, id: &VaultId) -> Result<bool> {
    Ok(conn.execute("DELETE FROM vaults WHERE id = ?1", [id.as_str()])? > 0)
}

/// A stored credential of `vault_id`, if it exists there.
pub(super) fn load_credential(
    conn: &Connection,
    vault_id: &VaultId,
    id: &CredentialId,
) -> Result<Option<Credential>> {
    let body = optional(conn.query_row(
        "SELECT body FROM vault_credentials WHERE id = ?1 AND vault_id = ?2",
        [id.as_str(), vault_id.as_str()],
        |row| row.get::<_, String>(0),
    ))?;
    body.as_deref().map(from_json).transpose()
}

/// The live (not archived) credentials of `vault_id`, oldest first (credential selection).
pub(super) fn live_credentials(conn: &Connection, vault_id: &VaultId) -> Result<Vec<Credential>> {
    let mut statement = conn.prepare_cached(
        "SELECT body FROM vault_credentials WHERE vault_id = ?1 AND archived_at IS NULL
         ORDER BY created_at, id",
    )?;
    let bodies = statement
        .query_map([vault_id.as_str()], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies.iter().map(|body| from_json(body)).collect()
}

/// A credential of `vault_id` with its decrypted secrets, if it exists there.
///
/// This is how code that uses a credential (MCP connections, secret substitution) gets its
/// secrets; nothing else decrypts them.
pub(crate) fn load_secrets(
    conn: &Connection,
    key: &VaultKey,
    vault_id: &VaultId,
    id: &CredentialId,
) -> Result<Option<(Credential, CredentialSecrets)>> {
    let row = optional(conn.query_row(
        "SELECT body, secrets FROM vault_credentials WHERE id = ?1 AND vault_id = ?2",
        [id.as_str(), vault_id.as_str()],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?)),
    ))?;
    let Some((body, sealed)) = row else {
        return Ok(None);
    };
    let credential: Credential = from_json(&body)?;
    let plaintext = key.open(id.as_str(), &sealed)?;
    // The plaintext holds secrets: map the error so that no serde message can quote it.
    let secrets = serde_json::from_slice(&plaintext).map_err(|_| {
        Error::internal(format!(
            "the sealed secrets of `{id}` are not in the expected form"
        ))
    })?;
    Ok(Some((credential, secrets)))
}

/// Inserts or replaces a credential with its secrets, sealed afresh.
pub(super) fn save_credential(
    conn: &Connection,
    key: &VaultKey,
    credential: &Credential,
    secrets: &CredentialSecrets,
) -> Result<()> {
    let plaintext = serde_json::to_vec(secrets)
        .map_err(|_| Error::internal("failed to encode credential secrets"))?;
    let sealed = key.seal(credential.id.as_str(), &plaintext)?;
    conn.execute(
        "INSERT INTO vault_credentials (id, vault_id, created_at, archived_at, body, secrets)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET archived_at = excluded.archived_at,
             body = excluded.body, secrets = excluded.secrets",
        rusqlite::params![
            credential.id.as_str(),
            credential.vault_id.as_str(),
            credential.created_at.as_str(),
            credential.archived_at.as_ref().map(|t| t.as_str()),
            to_json(credential)?,
            sealed,
        ],
    )?;
    Ok(())
}

/// Replaces the stored object of an existing credential, keeping its sealed secrets.
pub(super) fn save_credential_body(conn: &Connection, credential: &Credential) -> Result<()> {
    conn.execute(
        "UPDATE vault_credentials SET archived_at = ?2, body = ?3 WHERE id = ?1",
        rusqlite::params![
            credential.id.as_str(),
            credential.archived_at.as_ref().map(|t| t.as_str()),
            to_json(credential)?,
        ],
    )?;
    Ok(())
}

/// Deletes a credential of `vault_id`. Returns whether it existed there.
pub(super) fn delete_credential(
    conn: &Connection,
    vault_id: &VaultId,
    id: &CredentialId,
) -> Result<bool> {
    Ok(conn.execute(
        "DELETE FROM vault_credentials WHERE id = ?1 AND vault_id = ?2",
        [id.as_str(), vault_id.as_str()],
    )? > 0)
}

/// Whether any credential is stored (start-up: a missing key must not be replaced then).
pub(super) fn any_credentials(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM vault_credentials)",
        [],
        |row| row.get(0),
    )?)
}
