//! Vaults and their credentials: `/v1/vaults` and `/v1/vaults/{vault_id}/credentials`.
//!
//! **Secrets.** `access_token`, `refresh_token`, `client_secret`, `token` and `secret_value`
//! are write-only. They never appear in a response, a log line or an error message: responses
//! are [`Credential`](steward_core::vault::Credential)s, which have no field for them; request
//! types print them as `[redacted]`; and bodies that carry them go through
//! `SecretJson` (module `body`), which scrubs every error message. At rest they are sealed
//! with ChaCha20-Poly1305 under the data directory's vault key ([`crypto`]); the rest of a
//! credential is plain JSON. Code that needs them (MCP connections) calls
//! `load_secrets`.
//!
//! **Using credentials** ([`tokens`]). Sessions reach MCP servers through the
//! [`TokenBroker`] in [`AppState::tokens`](crate::state::AppState::tokens):
//! * *Selection*: the first live credential, in the order of the session's `vault_ids` (missing
//!   and archived vaults skipped) and then oldest first, whose `mcp_server_url` matches the
//!   server's URL after normalisation (scheme and host lowercase, default port dropped,
//!   trailing `/` ignored). `mcp_oauth` sends its access token, `static_bearer` its token.
//! * *Refresh*: an `mcp_oauth` credential with refresh settings gets a new access token from
//!   its `token_endpoint` (`refresh_token` grant, client authentication `none`,
//!   `client_secret_basic` or `client_secret_post`) when `expires_at` is within 60 s, or after
//!   the server answered 401. One grant per credential at a time, shared by every session
//!   waiting on it; the new access token, `expires_at` and a rotated refresh token are sealed
//!   and stored in one transaction. A failed refresh sets the credential's `refresh_error`.
//!
//! Decisions where the SDK is silent:
//! * **`null` in updates** means the same as leaving the field out: the stored value stays.
//!   (The API's docs clear `scope` with `""`, not `null`, so `null` is no "clear".) A `scope`
//!   of `""` clears it.
//! * **Optional response fields** (`display_name`, `expires_at`, `refresh`, `resource`,
//!   `scope`) are always present, `null` when unset.
//! * **Immutable fields** (`mcp_server_url`, `secret_name`, and the refresh block's
//!   `client_id`, `token_endpoint`, `resource`) may be repeated in an update with their stored
//!   value; another value is a 400. An update `auth` of another `type` is a 400. Refresh
//!   settings exist only if given at create; a client secret can be replaced only when the
//!   token endpoint auth is `client_secret_basic` or `client_secret_post`, and that type stays
//!   whichever of the two is sent.
//! * **Validation.** `mcp_server_url` and `token_endpoint` are absolute `http(s)` URLs;
//!   `secret_name` is an environment variable name (`[A-Za-z_][A-Za-z0-9_]*`, ≤255); secrets
//!   are non-empty; `expires_at` (create and update) is RFC 3339 in the future; `allowed_hosts`
//!   holds at most 16 bare hostnames, IPv4 addresses or `*.` wildcards. Unknown `type`s of
//!   `auth`, `token_endpoint_auth` and `networking` are a 400.
//! * **`injection_location`** defaults to `{body: false, header: true}` on create (a header is
//!   where API keys travel, and the narrower choice exposes the secret less); after any create
//!   or update at least one location is enabled.
//! * **Archive.** Archiving (vault or credential) is idempotent and sets `updated_at`.
//!   Archived objects cannot be updated (400), and an archived vault takes no new or changed
//!   credentials (400); archiving a vault leaves its credentials' own `archived_at` alone.
//!   Lists leave archived objects out unless `include_archived=true`.
//! * **Delete.** Deleting a vault deletes its credentials. A credential is only found under its
//!   own vault (another vault's ID is a 404).
//! * **Lists** are newest first (`created_at`, then ID).
//! * **`mcp_oauth_validate`** probes with `initialize`, `notifications/initialized` and
//!   `tools/list`, refreshing once on a 401; see [`probe`] for exactly what each verdict means.
//! * **`refresh_error`** is a Steward extension field of the credential object (SDKs ignore
//!   it): why the last refresh of an `mcp_oauth` token failed, until a refresh succeeds or the
//!   access or refresh token is updated.
//! * An update that changes nothing (secrets included) leaves `updated_at` alone.

use std::path::Path;

use axum::Router;
use axum::routing::{get, post};

use crate::db::Db;
use crate::error::StartError;
use crate::migrations::Migration;
use crate::state::AppState;

mod body;
mod credentials;
pub mod crypto;
mod handlers;
pub mod probe;
mod store;
pub mod tokens;
mod validate;

pub use crypto::{KEY_FILE, VaultKey};
pub(crate) use store::{CredentialSecrets, load_secrets};
pub use tokens::{Bearer, TokenBroker, TokenError};

/// The `vaults` and `vault_credentials` tables. A credential row holds the wire object (no
/// secrets) as `body` and its sealed secrets as `secrets`.
pub(crate) const MIGRATION_VAULTS: Migration = Migration {
    name: "vaults_create",
    sql: "CREATE TABLE vaults (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        archived_at TEXT,
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX vaults_by_created ON vaults (created_at, id);
    CREATE TABLE vault_credentials (
        id TEXT PRIMARY KEY,
        vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        archived_at TEXT,
        body TEXT NOT NULL,
        secrets BLOB NOT NULL
    ) STRICT;
    CREATE INDEX vault_credentials_by_vault ON vault_credentials (vault_id, created_at, id);",
};

/// The vault and credential routes.
pub(crate) fn routes() -> Router<AppState> {
    const CREDENTIAL: &str = "/v1/vaults/{vault_id}/credentials/{credential_id}";
    Router::new()
        .route("/v1/vaults", post(handlers::create).get(handlers::list))
        .route(
            "/v1/vaults/{vault_id}",
            get(handlers::retrieve)
                .post(handlers::update)
                .delete(handlers::delete),
        )
        .route("/v1/vaults/{vault_id}/archive", post(handlers::archive))
        .route(
            "/v1/vaults/{vault_id}/credentials",
            post(credentials::create).get(credentials::list),
        )
        .route(
            CREDENTIAL,
            get(credentials::retrieve)
                .post(credentials::update)
                .delete(credentials::delete),
        )
        .route(&format!("{CREDENTIAL}/archive"), post(credentials::archive))
        .route(
            &format!("{CREDENTIAL}/mcp_oauth_validate"),
            post(probe::validate),
        )
}

/// Reads a stored vault, if it exists (for resources that refer to vaults, such as sessions).
pub fn load(
    conn: &rusqlite::Connection,
    id: &steward_core::VaultId,
) -> crate::Result<Option<steward_core::vault::Vault>> {
    store::load_vault(conn, id)
}

/// Reads a stored vault or fails with the API's 404.
pub fn require(
    conn: &rusqlite::Connection,
    id: &steward_core::VaultId,
) -> crate::Result<steward_core::vault::Vault> {
    handlers::require(conn, id)
}

/// Loads the vault key of `data_dir`, creating it on first start; refuses when it is unsafe or
/// missing for stored credentials (see [`crypto`]). Called once at start, after the database
/// is open.
pub fn open_key(db: &Db, data_dir: &Path) -> Result<VaultKey, StartError> {
    let holds_credentials = db
        .read_blocking(store::any_credentials)
        .map_err(StartError::Setup)?;
    crypto::load_or_create(data_dir, holds_credentials)
}

#[cfg(test)]
mod tests {
    use steward_core::vault::{
        Credential, CredentialAuth, CredentialType, Secret, StaticBearerAuth, Vault, VaultType,
    };
    use steward_core::{CredentialId, Nullable, VaultId};

    use super::*;

    #[test]
    fn load_secrets_opens_what_an_earlier_start_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let now = crate::clock::now();
        let vault = Vault {
            id: VaultId::new("vlt_test"),
            kind: VaultType::Vault,
            display_name: "v".to_owned(),
            metadata: Default::default(),
            created_at: now.clone(),
            updated_at: now.clone(),
            archived_at: None,
        };
        let credential = Credential {
            id: CredentialId::new("vcrd_test"),
            kind: CredentialType::VaultCredential,
            vault_id: vault.id.clone(),
            display_name: Nullable::Null,
            auth: CredentialAuth::StaticBearer(StaticBearerAuth {
                mcp_server_url: "https://m.test".to_owned(),
            }),
            metadata: Default::default(),
            created_at: now.clone(),
            updated_at: now,
            archived_at: None,
            refresh_error: None,
        };
        let secrets = CredentialSecrets::StaticBearer {
            token: Secret::new("tok-unit-1"),
        };
        {
            let db = Db::open(dir.path()).unwrap();
            let key = open_key(&db, dir.path()).unwrap();
            db.write_blocking(|tx| {
                store::save_vault(tx, &vault)?;
                store::save_credential(tx, &key, &credential, &secrets)
            })
            .unwrap();
        }
        let db = Db::open(dir.path()).unwrap();
        let key = open_key(&db, dir.path()).unwrap();
        let loaded = db
            .read_blocking(|conn| load_secrets(conn, &key, &vault.id, &credential.id))
            .unwrap();
        assert_eq!(loaded, Some((credential.clone(), secrets.clone())));
        assert_eq!(secrets.values(), ["tok-unit-1"]);
        assert_eq!(format!("{secrets:?}"), "StaticBearer { token: [redacted] }");
        let elsewhere = db
            .read_blocking(|conn| {
                load_secrets(conn, &key, &VaultId::new("vlt_other"), &credential.id)
            })
            .unwrap();
        assert_eq!(elsewhere, None);
        let wrong_key = db.read_blocking(|conn| {
            load_secrets(conn, &VaultKey::ephemeral(), &vault.id, &credential.id)
        });
        assert!(wrong_key.is_err());
    }
}
