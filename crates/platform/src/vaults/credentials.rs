//! The credential endpoints: create, retrieve, update, list, delete, archive; and how request
//! `auth` becomes the stored object plus its sealed secrets.

use axum::extract::{Path, State};
use rusqlite::Connection;
use serde_json::Value;
use steward_core::vault::{
    Credential, CredentialAuth, CredentialAuthCreate, CredentialAuthUpdate, CredentialCreate,
    CredentialListParams, CredentialType, CredentialUpdate, DeletedCredential,
    EnvironmentVariableAuth, EnvironmentVariableCreate, InjectionLocation, McpOauthAuth,
    McpOauthCreate, McpOauthRefresh, McpOauthRefreshCreate, McpOauthRefreshUpdate,
    StaticBearerAuth, StaticBearerCreate, TokenEndpointAuth, TokenEndpointAuthBasic,
    TokenEndpointAuthCreate, TokenEndpointAuthNone, TokenEndpointAuthPost, TokenEndpointAuthUpdate,
};
use steward_core::{CredentialId, DeletedType, Nullable, Page, VaultId};

use super::body::{SecretJson, scrub_error};
use super::handlers::{require as require_vault, require_active as require_active_vault};
use super::store::{self, CredentialSecrets};
use super::validate::no_injection_location;
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::metadata::{self, EmptyString};
use crate::pagination::{Filter, Limits, Listing, Order, PageRequest};
use crate::state::AppState;

/// `injection_location.body` when a create leaves it out.
pub(super) const DEFAULT_INJECT_BODY: bool = false;
/// `injection_location.header` when a create leaves it out.
pub(super) const DEFAULT_INJECT_HEADER: bool = true;

fn not_found(id: &CredentialId) -> Error {
    Error::object_not_found("credential", id)
}

/// A credential of a vault (404 for a missing vault, then for a credential not in it).
pub(super) fn require(
    conn: &Connection,
    vault_id: &VaultId,
    id: &CredentialId,
) -> Result<Credential> {
    require_vault(conn, vault_id)?;
    store::load_credential(conn, vault_id, id)?.ok_or_else(|| not_found(id))
}

/// `Absent` and `Null` both become `Null`, so optional fields always show in responses.
fn present<T>(value: Nullable<T>) -> Nullable<T> {
    match value {
        Nullable::Value(value) => Nullable::Value(value),
        Nullable::Absent | Nullable::Null => Nullable::Null,
    }
}

/// A `scope` as stored: `""` means none.
fn scope(value: Nullable<String>) -> Nullable<String> {
    match value {
        Nullable::Value(s) if s.is_empty() => Nullable::Null,
        other => present(other),
    }
}

/// Splits create `auth` into the stored (secret-free) object and the secrets.
fn resolve_create(auth: CredentialAuthCreate) -> Result<(CredentialAuth, CredentialSecrets)> {
    match auth {
        CredentialAuthCreate::McpOauth(McpOauthCreate {
            access_token,
            mcp_server_url,
            expires_at,
            refresh,
        }) => {
            let (refresh, refresh_token, client_secret) = match refresh {
                Nullable::Value(McpOauthRefreshCreate {
                    client_id,
                    refresh_token,
                    token_endpoint,
                    token_endpoint_auth,
                    resource,
                    scope: refresh_scope,
                }) => {
                    let (token_endpoint_auth, client_secret) = match token_endpoint_auth {
                        TokenEndpointAuthCreate::None(_) => {
                            (TokenEndpointAuth::None(TokenEndpointAuthNone {}), None)
                        }
                        TokenEndpointAuthCreate::ClientSecretBasic(basic) => (
                            TokenEndpointAuth::ClientSecretBasic(TokenEndpointAuthBasic {}),
                            Some(basic.client_secret),
                        ),
                        TokenEndpointAuthCreate::ClientSecretPost(post) => (
                            TokenEndpointAuth::ClientSecretPost(TokenEndpointAuthPost {}),
                            Some(post.client_secret),
                        ),
                        TokenEndpointAuthCreate::Unknown(_) => {
                            return Err(unknown_type("auth.refresh.token_endpoint_auth.type"));
                        }
                    };
                    let refresh = McpOauthRefresh {
                        client_id,
                        token_endpoint,
                        token_endpoint_auth,
                        resource: present(resource),
                        scope: scope(refresh_scope),
                    };
                    (Nullable::Value(refresh), Some(refresh_token), client_secret)
                }
                Nullable::Absent | Nullable::Null => (Nullable::Null, None, None),
            };
            let auth = CredentialAuth::McpOauth(McpOauthAuth {
                mcp_server_url,
                expires_at: present(expires_at),
                refresh,
            });
            let secrets = CredentialSecrets::McpOauth {
                access_token,
                refresh_token,
                client_secret,
            };
            Ok((auth, secrets))
        }
        CredentialAuthCreate::StaticBearer(StaticBearerCreate {
            token,
            mcp_server_url,
        }) => Ok((
            CredentialAuth::StaticBearer(StaticBearerAuth { mcp_server_url }),
            CredentialSecrets::StaticBearer { token },
        )),
        CredentialAuthCreate::EnvironmentVariable(EnvironmentVariableCreate {
            secret_name,
            secret_value,
            networking,
            injection_location,
        }) => {
            let params = injection_location.unwrap_or_default();
            let injection_location = InjectionLocation {
                body: params.body.unwrap_or(DEFAULT_INJECT_BODY),
                header: params.header.unwrap_or(DEFAULT_INJECT_HEADER),
            };
            if !injection_location.body && !injection_location.header {
                return Err(no_injection_location());
            }
            Ok((
                CredentialAuth::EnvironmentVariable(EnvironmentVariableAuth {
                    secret_name,
                    injection_location,
                    networking,
                }),
                CredentialSecrets::EnvironmentVariable { secret_value },
            ))
        }
        CredentialAuthCreate::Unknown(_) => Err(unknown_type("auth.type")),
    }
}

/// Validation rejects unknown types before resolution; this is the same 400 should one slip by.
fn unknown_type(field: &str) -> Error {
    Error::invalid_request(format!("`{field}`: unknown value"))
}

fn mismatch() -> Error {
    Error::internal("stored credential secrets do not match the credential's auth type")
}

/// The 400 unless an immutable field, if sent (and not `null`), equals the stored value.
fn unchanged(
    raw_auth: Option<&Value>,
    pointer: &str,
    field: &str,
    stored: Option<&str>,
) -> Result<()> {
    match raw_auth.and_then(|raw| raw.pointer(pointer)) {
        None | Some(Value::Null) => Ok(()),
        Some(sent) if sent.as_str().is_some() && sent.as_str() == stored => Ok(()),
        Some(_) => Err(Error::invalid_request(format!(
            "`{field}`: cannot change after the credential is created"
        ))),
    }
}

/// Applies an `auth` update to the stored object and secrets. `raw_auth` is the `auth` object
/// as sent, for the immutable fields the typed update has no place for.
fn apply_auth_update(
    auth: &mut CredentialAuth,
    secrets: &mut CredentialSecrets,
    update: CredentialAuthUpdate,
    raw_auth: Option<&Value>,
) -> Result<()> {
    if update.type_name() != auth.type_name() {
        return Err(Error::invalid_request(format!(
            "`auth.type`: a credential's type cannot change; this one is `{}`",
            auth.type_name()
        )));
    }
    match (auth, update) {
        (CredentialAuth::McpOauth(stored), CredentialAuthUpdate::McpOauth(update)) => {
            unchanged(
                raw_auth,
                "/mcp_server_url",
                "auth.mcp_server_url",
                Some(&stored.mcp_server_url),
            )?;
            let CredentialSecrets::McpOauth {
                access_token,
                refresh_token,
                client_secret,
            } = secrets
            else {
                return Err(mismatch());
            };
            if let Nullable::Value(token) = update.access_token {
                *access_token = token;
            }
            if let Nullable::Value(expires_at) = update.expires_at {
                stored.expires_at = Nullable::Value(expires_at);
            }
            if let Nullable::Value(refresh_update) = update.refresh {
                let Nullable::Value(refresh) = &mut stored.refresh else {
                    return Err(Error::invalid_request(
                        "`auth.refresh`: the credential has no refresh settings; they can only \
                         be set when it is created",
                    ));
                };
                let stored_resource = refresh.resource.value().map(String::as_str);
                unchanged(
                    raw_auth,
                    "/refresh/client_id",
                    "auth.refresh.client_id",
                    Some(&refresh.client_id),
                )?;
                unchanged(
                    raw_auth,
                    "/refresh/token_endpoint",
                    "auth.refresh.token_endpoint",
                    Some(&refresh.token_endpoint),
                )?;
                unchanged(
                    raw_auth,
                    "/refresh/resource",
                    "auth.refresh.resource",
                    stored_resource,
                )?;
                apply_refresh_update(refresh, refresh_token, client_secret, refresh_update)?;
            }
        }
        (CredentialAuth::StaticBearer(stored), CredentialAuthUpdate::StaticBearer(update)) => {
            unchanged(
                raw_auth,
                "/mcp_server_url",
                "auth.mcp_server_url",
                Some(&stored.mcp_server_url),
            )?;
            let CredentialSecrets::StaticBearer { token } = secrets else {
                return Err(mismatch());
            };
            if let Nullable::Value(new) = update.token {
                *token = new;
            }
        }
        (
            CredentialAuth::EnvironmentVariable(stored),
            CredentialAuthUpdate::EnvironmentVariable(update),
        ) => {
            unchanged(
                raw_auth,
                "/secret_name",
                "auth.secret_name",
                Some(&stored.secret_name),
            )?;
            let CredentialSecrets::EnvironmentVariable { secret_value } = secrets else {
                return Err(mismatch());
            };
            if let Nullable::Value(value) = update.secret_value {
                *secret_value = value;
            }
            if let Nullable::Value(networking) = update.networking {
                stored.networking = networking;
            }
            if let Some(params) = update.injection_location {
                let location = &mut stored.injection_location;
                location.body = params.body.unwrap_or(location.body);
                location.header = params.header.unwrap_or(location.header);
                if !location.body && !location.header {
                    return Err(no_injection_location());
                }
            }
        }
        _ => return Err(unknown_type("auth.type")),
    }
    Ok(())
}

fn apply_refresh_update(
    refresh: &mut McpOauthRefresh,
    refresh_token: &mut Option<steward_core::vault::Secret>,
    client_secret: &mut Option<steward_core::vault::Secret>,
    update: McpOauthRefreshUpdate,
) -> Result<()> {
    if let Nullable::Value(token) = update.refresh_token {
        *refresh_token = Some(token);
    }
    if let Nullable::Value(new_scope) = update.scope {
        refresh.scope = scope(Nullable::Value(new_scope));
    }
    if let Some(auth) = update.token_endpoint_auth {
        if matches!(refresh.token_endpoint_auth, TokenEndpointAuth::None(_)) {
            return Err(Error::invalid_request(
                "`auth.refresh.token_endpoint_auth`: the credential's token endpoint auth is \
                 `none`, which has no client secret (the auth type cannot change)",
            ));
        }
        // The stored type stays, whichever of the two was sent.
        let new_secret = match auth {
            TokenEndpointAuthUpdate::ClientSecretBasic(basic) => basic.client_secret,
            TokenEndpointAuthUpdate::ClientSecretPost(post) => post.client_secret,
            TokenEndpointAuthUpdate::Unknown(_) => {
                return Err(unknown_type("auth.refresh.token_endpoint_auth.type"));
            }
        };
        if let Nullable::Value(secret) = new_secret {
            *client_secret = Some(secret);
        }
    }
    Ok(())
}

/// Whether an update replaced the access token or the refresh token of an `mcp_oauth`
/// credential.
fn tokens_changed(before: &CredentialSecrets, after: &CredentialSecrets) -> bool {
    match (before, after) {
        (
            CredentialSecrets::McpOauth {
                access_token: a1,
                refresh_token: r1,
                ..
            },
            CredentialSecrets::McpOauth {
                access_token: a2,
                refresh_token: r2,
                ..
            },
        ) => a1 != a2 || r1 != r2,
        _ => false,
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    Path(vault_id): Path<VaultId>,
    request: SecretJson<CredentialCreate>,
) -> Result<Json<Credential>> {
    let SecretJson { body, raw } = request;
    let result = async {
        let (auth, secrets) = resolve_create(body.auth)?;
        let now = crate::clock::now();
        let credential = Credential {
            id: crate::ids::new_id(CredentialId::PREFIX),
            kind: CredentialType::VaultCredential,
            vault_id: vault_id.clone(),
            display_name: present(body.display_name),
            auth,
            metadata: body.metadata.unwrap_or_default(),
            created_at: now.clone(),
            updated_at: now,
            archived_at: None,
            refresh_error: None,
        };
        let key = state.vault_key.clone();
        state
            .db
            .write(move |tx| {
                require_active_vault(tx, &vault_id)?;
                store::save_credential(tx, &key, &credential, &secrets)?;
                Ok(credential)
            })
            .await
    }
    .await;
    result.map(Json).map_err(|e| scrub_error(e, &raw))
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path((vault_id, id)): Path<(VaultId, CredentialId)>,
) -> Result<Json<Credential>> {
    state
        .db
        .read(move |conn| require(conn, &vault_id, &id))
        .await
        .map(Json)
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path((vault_id, id)): Path<(VaultId, CredentialId)>,
    request: SecretJson<CredentialUpdate>,
) -> Result<Json<Credential>> {
    let SecretJson { body, raw } = request;
    let raw_auth = raw.get("auth").cloned();
    let key = state.vault_key.clone();
    state
        .db
        .write(move |tx| {
            require_active_vault(tx, &vault_id)?;
            let (stored, stored_secrets) =
                store::load_secrets(tx, &key, &vault_id, &id)?.ok_or_else(|| not_found(&id))?;
            if stored.archived_at.is_some() {
                return Err(Error::invalid_request(format!(
                    "credential `{id}` is archived and cannot be updated"
                )));
            }
            let mut next = stored.clone();
            let mut secrets = stored_secrets.clone();
            if let Some(auth) = body.auth {
                apply_auth_update(&mut next.auth, &mut secrets, auth, raw_auth.as_ref())?;
            }
            if tokens_changed(&stored_secrets, &secrets) {
                // New tokens make an earlier refresh failure moot.
                next.refresh_error = None;
            }
            if let Nullable::Value(name) = body.display_name {
                next.display_name = Nullable::Value(name);
            }
            if let Nullable::Value(patch) = &body.metadata {
                metadata::apply_patch(&mut next.metadata, patch, EmptyString::IsValue)?;
            }
            if next != stored || secrets != stored_secrets {
                next.updated_at = crate::clock::now();
                store::save_credential(tx, &key, &next, &secrets)?;
            }
            Ok(next)
        })
        .await
        .map(Json)
        .map_err(|e| scrub_error(e, &raw))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(vault_id): Path<VaultId>,
    Query(params): Query<CredentialListParams>,
) -> Result<Json<Page<Credential>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), Limits::STANDARD)?;
    let mut filter = Filter::new();
    filter.and_with("vault_id = ?", [vault_id.as_str().to_owned()]);
    if !params.include_archived.unwrap_or(false) {
        filter.and("archived_at IS NULL");
    }
    state
        .db
        .read(move |conn| {
            require_vault(conn, &vault_id)?;
            Listing::new("vault_credentials", "body", &filter)
                .order(Order::Desc)
                .page(conn, &request, |row| {
                    crate::db::from_json(&row.get::<_, String>(0)?)
                })
        })
        .await
        .map(Json)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path((vault_id, id)): Path<(VaultId, CredentialId)>,
) -> Result<Json<DeletedCredential>> {
    state
        .db
        .write(move |tx| {
            require_vault(tx, &vault_id)?;
            if !store::delete_credential(tx, &vault_id, &id)? {
                return Err(not_found(&id));
            }
            Ok(DeletedCredential {
                id,
                kind: DeletedType::VaultCredential,
            })
        })
        .await
        .map(Json)
}

pub(super) async fn archive(
    State(state): State<AppState>,
    Path((vault_id, id)): Path<(VaultId, CredentialId)>,
) -> Result<Json<Credential>> {
    state
        .db
        .write(move |tx| {
            let mut credential = require(tx, &vault_id, &id)?;
            if credential.archived_at.is_none() {
                let now = crate::clock::now();
                credential.archived_at = Some(now.clone());
                credential.updated_at = now;
                store::save_credential_body(tx, &credential)?;
            }
            Ok(credential)
        })
        .await
        .map(Json)
}
