//! The [`TokenBroker`]: which credential of a session's vaults authenticates to an MCP server,
//! and the OAuth `refresh_token` grant that keeps `mcp_oauth` tokens fresh.
//!
//! **Selection.** [`TokenBroker::bearer`] walks the session's `vault_ids` in order, skipping
//! vaults that are missing or archived, and in each vault its live (not archived) credentials
//! oldest first; the first `mcp_oauth` or `static_bearer` credential whose `mcp_server_url`
//! equals the server's URL wins. URLs are compared after [`normalize_url`]: scheme and host
//! lowercase, the scheme's default port dropped, a trailing `/` of the path ignored, the
//! fragment dropped (query kept).
//!
//! **Refresh.** An `mcp_oauth` credential is refreshable when it was created with refresh
//! settings and a refresh token is stored. Its token is refreshed
//! * before it is handed out, when `expires_at` is at most [`REFRESH_MARGIN`] away (or past);
//! * when the MCP server answered 401 to it ([`TokenBroker::refresh_after_unauthorized`]).
//!
//! A refresh POSTs `grant_type=refresh_token&refresh_token=…` (plus `scope` and `resource` when
//! configured) as a form to `token_endpoint`, authenticating the client as configured: `none`
//! sends `client_id` in the body, `client_secret_basic` sends HTTP Basic with the
//! form-urlencoded ID and secret (RFC 6749 §2.3.1), `client_secret_post` sends `client_id` and
//! `client_secret` in the body. Redirects are not followed (a redirect would carry the refresh
//! token elsewhere) and the exchange has [`REFRESH_TIMEOUT`]. A success stores, in one
//! transaction, the new access token, `expires_at` = now + `expires_in` (`null` when the
//! endpoint sends no `expires_in`), the rotated refresh token if one came back, clears
//! `refresh_error`, and bumps `updated_at`.
//!
//! **Single flight.** Every credential has one async lock and an attempt counter (its epoch)
//! shared by all sessions. A refresh takes the lock, re-reads the credential, and posts a grant
//! only if the token it was asked about is still the stored one (for a 401) or still near
//! expiry (before use); otherwise it returns the stored, newer token. When another attempt
//! *failed* since the caller's token was handed out, with the refresh token still stored, that
//! failure is returned without posting again (a caller that asks afresh later does post). So N concurrent callers post one grant. The grant and its storage run in a task of
//! their own, so a caller that goes away mid-refresh cannot lose a rotated refresh token.
//!
//! **Failure.** An error status, an unusable answer, or an unreachable endpoint is a failed
//! refresh: the credential gets a `refresh_error` (a Steward extension field of the credential
//! object: `{type, message, occurred_at}`, with `type` the OAuth `error` code such as
//! `invalid_grant`, or `http_error`, `invalid_response`, `connect_error`), which
//! `retrieve` and `list` show until a later refresh succeeds or the credential's access or
//! refresh token is updated. Marking a failure does not change `updated_at`. The caller gets
//! [`TokenError::RefreshFailed`].
//!
//! **Secrets.** Tokens live in [`Secret`]s and in [`Bearer`], whose `Debug` prints
//! `[redacted]`; error messages and `refresh_error` name the credential and the endpoint's
//! error code and description with every secret of the credential replaced by `[redacted]`.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use steward_core::vault::{
    Credential, CredentialAuth, CredentialRefreshError, McpOauthAuth, McpOauthRefresh,
    ProbeHttpResponse, Secret, TokenEndpointAuth,
};
use steward_core::{CredentialId, Nullable, Timestamp, VaultId};

use super::crypto::VaultKey;
use super::store::{self, CredentialSecrets};
use crate::db::Db;

/// How long before `expires_at` an `mcp_oauth` token is refreshed before use: 60 s, so that a
/// token handed out has at least this long to reach the server and be accepted.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Time allowed for one token endpoint exchange, response body included.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed to connect to the token endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Most bytes of a token endpoint response read.
const MAX_RESPONSE: usize = 64 * 1024;
/// Most characters of an endpoint's error description kept in a message.
const MAX_MESSAGE: usize = 300;
/// What replaces a secret in a message.
const REDACTED: &str = "[redacted]";

/// Hands out the bearer token for an MCP server from a session's vaults, refreshing
/// `mcp_oauth` tokens (see the module docs). Cheap to clone (`Arc` inside); lives in
/// [`AppState::tokens`](crate::state::AppState::tokens).
#[derive(Clone)]
pub struct TokenBroker {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    key: VaultKey,
    /// `None` when the HTTP client could not be built (then every grant fails as unreachable).
    http: Option<reqwest::Client>,
    flights: Mutex<HashMap<CredentialId, Arc<Flight>>>,
}

/// The single-flight state of one credential.
#[derive(Default)]
struct Flight {
    /// Completed refresh attempts (successful or not).
    epoch: AtomicU64,
    /// Held while a refresh is decided and run; holds the last attempt's failure, if it failed.
    lock: Arc<tokio::sync::Mutex<Option<LastFailure>>>,
}

/// The failure of a credential's last refresh attempt.
struct LastFailure {
    failure: Failure,
    /// The refresh token that attempt presented: the failure is shared only while it is
    /// still the stored one (a new refresh token deserves a new attempt).
    refresh_token: Secret,
}

impl fmt::Debug for TokenBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBroker").finish_non_exhaustive()
    }
}

/// A token to send to an MCP server. `Debug` prints
/// `Bearer { credential_id, vault_id, token: [redacted] }`; it has no `Display`.
#[derive(Clone)]
pub struct Bearer {
    /// The credential the token belongs to.
    pub credential_id: CredentialId,
    /// The vault holding the credential.
    pub vault_id: VaultId,
    token: Secret,
    /// The credential's refresh epoch when the token was read.
    epoch: u64,
    /// The server URL as the caller asked for it (for error messages).
    server_url: String,
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bearer")
            .field("credential_id", &self.credential_id)
            .field("vault_id", &self.vault_id)
            .field("token", &self.token)
            .finish()
    }
}

impl Bearer {
    /// The token itself (validation scrubs it from what it captures).
    pub(super) fn secret(&self) -> &Secret {
        &self.token
    }

    /// The `Authorization` header value (`Bearer <token>`), marked sensitive.
    pub fn header_value(&self) -> HeaderValue {
        // `Bearer::new` checked that the value is a valid header value.
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.token.expose()))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        value.set_sensitive(true);
        value
    }

    pub(super) fn new(
        credential: &Credential,
        token: Secret,
        epoch: u64,
        server_url: &str,
    ) -> Result<Self, TokenError> {
        if HeaderValue::from_str(&format!("Bearer {}", token.expose())).is_err() {
            return Err(TokenError::Internal(format!(
                "the token of credential `{}` cannot be sent in an HTTP header",
                credential.id
            )));
        }
        Ok(Self {
            credential_id: credential.id.clone(),
            vault_id: credential.vault_id.clone(),
            token,
            epoch,
            server_url: server_url.to_owned(),
        })
    }
}

/// Why no token could be handed out. Messages are safe to show the model and the logs: they
/// name the server URL or credential ID, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No live credential of the session's vaults is for this server.
    #[error("no credential in the session's vaults is for the MCP server `{server_url}`")]
    NoCredential {
        /// The server's URL as asked for.
        server_url: String,
    },
    /// The credential is a `static_bearer`, or an `mcp_oauth` without refresh settings or
    /// refresh token.
    #[error("credential `{credential_id}` cannot be refreshed (no refresh settings)")]
    NotRefreshable {
        /// The credential.
        credential_id: CredentialId,
    },
    /// The token endpoint refused or could not be reached; the credential's `refresh_error`
    /// says the same.
    #[error("refreshing the token of credential `{credential_id}` failed: {reason}")]
    RefreshFailed {
        /// The credential.
        credential_id: CredentialId,
        /// What the endpoint said (`invalid_grant: …`) or what happened, secrets redacted.
        reason: String,
    },
    /// Something went wrong inside the platform (database, stored data).
    #[error("internal error while looking up a credential: {0}")]
    Internal(String),
}

impl From<crate::error::Error> for TokenError {
    fn from(e: crate::error::Error) -> Self {
        Self::Internal(e.body().message.clone())
    }
}

/// A failed grant.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    /// `refresh_error.type`.
    pub(super) kind: String,
    /// `refresh_error.message`.
    pub(super) message: String,
    /// The endpoint's response, captured and scrubbed (absent when unreachable).
    pub(super) http_response: Option<ProbeHttpResponse>,
}

impl Failure {
    fn reason(&self) -> String {
        format!("{}: {}", self.kind, self.message)
    }

    /// Whether the endpoint could not be reached at all.
    pub(super) fn unreachable(&self) -> bool {
        self.http_response.is_none() && self.kind == "connect_error"
    }
}

/// What a refresh under the lock came to, when no token came of it.
#[derive(Debug)]
pub(super) enum Refusal {
    /// The credential cannot refresh.
    NotRefreshable,
    /// The credential is gone (deleted or archived).
    Gone,
    /// A grant failed (this attempt's or a concurrent one's).
    Failed(Failure),
    /// Database or stored-data trouble.
    Internal(String),
}

/// When to post a grant, decided on the credential as re-read under the lock.
enum Need {
    /// Only if the token is still within the margin of its expiry.
    NearExpiry,
    /// Only if the stored token is still this one.
    Replace(Secret),
}

impl TokenBroker {
    /// A broker over the platform's database and vault key.
    pub fn new(db: Db, key: VaultKey) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REFRESH_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .inspect_err(|e| tracing::error!(error = %e, "cannot build the token endpoint client"))
            .ok();
        Self {
            inner: Arc::new(Inner {
                db,
                key,
                http,
                flights: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The first live (not archived) credential, in the order of `vault_ids` then creation,
    /// whose `mcp_server_url` matches `server_url` (compared after [`normalize_url`]). An
    /// `mcp_oauth` token within [`REFRESH_MARGIN`] of `expires_at` (and refreshable) is
    /// refreshed before it is returned.
    pub async fn bearer(
        &self,
        vault_ids: &[VaultId],
        server_url: &str,
    ) -> Result<Bearer, TokenError> {
        let wanted = normalize_url(server_url);
        let (vault_ids, key) = (vault_ids.to_vec(), self.inner.key.clone());
        let found = self
            .inner
            .db
            .read(move |conn| select(conn, &key, &vault_ids, &wanted))
            .await?;
        let Some((credential, secrets)) = found else {
            return Err(TokenError::NoCredential {
                server_url: server_url.to_owned(),
            });
        };
        let epoch = self.flight(&credential.id).epoch.load(Ordering::SeqCst);
        match (&credential.auth, secrets) {
            (CredentialAuth::StaticBearer(_), CredentialSecrets::StaticBearer { token }) => {
                Bearer::new(&credential, token, epoch, server_url)
            }
            (
                CredentialAuth::McpOauth(auth),
                CredentialSecrets::McpOauth {
                    access_token,
                    refresh_token,
                    ..
                },
            ) => {
                if near_expiry(auth) && refreshable(auth, refresh_token.as_ref()) {
                    tracing::debug!(credential_id = %credential.id, "token near expiry; refreshing before use");
                    self.refresh(&credential, epoch, Need::NearExpiry, server_url)
                        .await
                        .map_err(|refusal| public_error(refusal, &credential.id, server_url))
                } else {
                    Bearer::new(&credential, access_token, epoch, server_url)
                }
            }
            _ => Err(TokenError::Internal(format!(
                "the stored secrets of credential `{}` do not match its type",
                credential.id
            ))),
        }
    }

    /// The server answered 401 to `stale`. Refresh once (single-flight per credential: when
    /// another task refreshed after `stale` was handed out, return that newer token without
    /// posting a grant) and return the new token. `static_bearer` or no refresh config ->
    /// [`TokenError::NotRefreshable`].
    pub async fn refresh_after_unauthorized(&self, stale: &Bearer) -> Result<Bearer, TokenError> {
        let (vault_id, id, key) = (
            stale.vault_id.clone(),
            stale.credential_id.clone(),
            self.inner.key.clone(),
        );
        let found = self
            .inner
            .db
            .read(move |conn| store::load_secrets(conn, &key, &vault_id, &id))
            .await?;
        let gone = || TokenError::NoCredential {
            server_url: stale.server_url.clone(),
        };
        let (credential, _) = found.ok_or_else(gone)?;
        if credential.archived_at.is_some() {
            return Err(gone());
        }
        if !matches!(credential.auth, CredentialAuth::McpOauth(_)) {
            return Err(TokenError::NotRefreshable {
                credential_id: credential.id,
            });
        }
        tracing::debug!(credential_id = %credential.id, "MCP server answered 401; refreshing");
        self.refresh(
            &credential,
            stale.epoch,
            Need::Replace(stale.token.clone()),
            &stale.server_url,
        )
        .await
        .map_err(|refusal| public_error(refusal, &credential.id, &stale.server_url))
    }

    /// The credential's refresh epoch: read it before reading a token that may later be
    /// passed to [`refresh_stale`](Self::refresh_stale).
    pub(super) fn epoch(&self, id: &CredentialId) -> u64 {
        self.flight(id).epoch.load(Ordering::SeqCst)
    }

    /// Like [`refresh_after_unauthorized`](Self::refresh_after_unauthorized) for a token read
    /// directly (validation): refreshes unless the stored token is no longer `stale`, under
    /// the same single flight. `seen_epoch` is [`epoch`](Self::epoch) from before the read.
    pub(super) async fn refresh_stale(
        &self,
        credential: &Credential,
        stale: &Secret,
        seen_epoch: u64,
    ) -> Result<Bearer, Refusal> {
        let server_url = match &credential.auth {
            CredentialAuth::McpOauth(auth) => auth.mcp_server_url.clone(),
            _ => return Err(Refusal::NotRefreshable),
        };
        self.refresh(
            credential,
            seen_epoch,
            Need::Replace(stale.clone()),
            &server_url,
        )
        .await
    }

    fn flight(&self, id: &CredentialId) -> Arc<Flight> {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        flights.entry(id.clone()).or_default().clone()
    }

    /// Takes the credential's lock and refreshes if `need` still holds; see the module docs.
    async fn refresh(
        &self,
        credential: &Credential,
        seen_epoch: u64,
        need: Need,
        server_url: &str,
    ) -> Result<Bearer, Refusal> {
        let flight = self.flight(&credential.id);
        let guard = flight.lock.clone().lock_owned().await;
        // The decision, the grant and its storage run in their own task: if the caller goes
        // away mid-grant, a rotated refresh token is still stored.
        let this = self.clone();
        let (vault_id, id) = (credential.vault_id.clone(), credential.id.clone());
        let server_url = server_url.to_owned();
        let task = tokio::spawn(async move {
            let mut guard = guard;
            this.refresh_locked(
                &flight,
                &mut guard,
                &vault_id,
                &id,
                seen_epoch,
                need,
                &server_url,
            )
            .await
        });
        task.await
            .unwrap_or_else(|e| Err(Refusal::Internal(format!("the refresh task failed: {e}"))))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the single-flight state and what the caller saw, passed apart"
    )]
    async fn refresh_locked(
        &self,
        flight: &Flight,
        last_failure: &mut Option<LastFailure>,
        vault_id: &VaultId,
        id: &CredentialId,
        seen_epoch: u64,
        need: Need,
        server_url: &str,
    ) -> Result<Bearer, Refusal> {
        let (vid, cid, key) = (vault_id.clone(), id.clone(), self.inner.key.clone());
        let (credential, secrets) = self
            .inner
            .db
            .read(move |conn| store::load_secrets(conn, &key, &vid, &cid))
            .await
            .map_err(|e| Refusal::Internal(e.body().message.clone()))?
            .ok_or(Refusal::Gone)?;
        if credential.archived_at.is_some() {
            return Err(Refusal::Gone);
        }
        let epoch = flight.epoch.load(Ordering::SeqCst);
        let (
            CredentialAuth::McpOauth(auth),
            CredentialSecrets::McpOauth {
                access_token,
                refresh_token,
                client_secret,
            },
        ) = (&credential.auth, &secrets)
        else {
            return Err(Refusal::NotRefreshable);
        };
        let current = || {
            Bearer::new(&credential, access_token.clone(), epoch, server_url)
                .map_err(|e| Refusal::Internal(e.to_string()))
        };
        match &need {
            Need::NearExpiry if !near_expiry(auth) => return current(),
            Need::Replace(stale) if stale != access_token => return current(),
            _ => {}
        }
        let (Nullable::Value(refresh), Some(refresh_token)) = (&auth.refresh, refresh_token) else {
            return Err(Refusal::NotRefreshable);
        };
        if epoch != seen_epoch
            && let Some(last) = last_failure.as_ref()
            && last.refresh_token == *refresh_token
        {
            return Err(Refusal::Failed(last.failure.clone()));
        }
        let scrub: Vec<String> = secrets.values().into_iter().map(str::to_owned).collect();
        let outcome = match &self.inner.http {
            Some(http) => {
                post_grant(http, refresh, refresh_token, client_secret.as_ref(), &scrub).await
            }
            None => Err(Failure {
                kind: "connect_error".to_owned(),
                message: "the platform could not build an HTTP client".to_owned(),
                http_response: None,
            }),
        };
        let stored = match outcome {
            Ok(grant) => self.store_grant(&credential, refresh_token, grant).await,
            Err(failure) => {
                self.store_failure(&credential, &failure).await;
                Err(Refusal::Failed(failure))
            }
        };
        flight.epoch.fetch_add(1, Ordering::SeqCst);
        let epoch = epoch + 1;
        match stored {
            Ok((credential, token)) => {
                *last_failure = None;
                tracing::info!(credential_id = %credential.id, "refreshed an mcp_oauth access token");
                Bearer::new(&credential, token, epoch, server_url)
                    .map_err(|e| Refusal::Internal(e.to_string()))
            }
            Err(refusal) => {
                if let Refusal::Failed(failure) = &refusal {
                    tracing::warn!(credential_id = %credential.id, error = %failure.reason(), "refreshing an mcp_oauth access token failed");
                    *last_failure = Some(LastFailure {
                        failure: failure.clone(),
                        refresh_token: refresh_token.clone(),
                    });
                }
                Err(refusal)
            }
        }
    }

    /// Stores a successful grant of the refresh token `presented`; returns the credential as
    /// stored and the new access token. A rotated refresh token replaces the stored one only if
    /// that is still `presented` (an update through the API during the grant wins).
    async fn store_grant(
        &self,
        credential: &Credential,
        presented: &Secret,
        grant: Grant,
    ) -> Result<(Credential, Secret), Refusal> {
        let presented = presented.clone();
        let key = self.inner.key.clone();
        let (vault_id, id) = (credential.vault_id.clone(), credential.id.clone());
        let token = grant.access_token.clone();
        self.inner
            .db
            .write(move |tx| {
                let (mut stored, mut secrets) = store::load_secrets(tx, &key, &vault_id, &id)?
                    .ok_or_else(|| crate::error::Error::object_not_found("credential", &id))?;
                let now = crate::clock::now();
                if let CredentialAuth::McpOauth(auth) = &mut stored.auth {
                    auth.expires_at = match grant.expires_in {
                        Some(seconds) => Nullable::Value(expires_at(&now, seconds)),
                        None => Nullable::Null,
                    };
                }
                if let CredentialSecrets::McpOauth {
                    access_token,
                    refresh_token,
                    ..
                } = &mut secrets
                {
                    *access_token = grant.access_token;
                    if let Some(rotated) = grant.refresh_token
                        && refresh_token.as_ref() == Some(&presented)
                    {
                        *refresh_token = Some(rotated);
                    }
                }
                stored.refresh_error = None;
                stored.updated_at = now;
                store::save_credential(tx, &key, &stored, &secrets)?;
                Ok(stored)
            })
            .await
            .map(|stored| (stored, token))
            .map_err(|e| Refusal::Internal(e.body().message.clone()))
    }

    /// Marks the credential with a failed refresh (best effort: a database error is logged).
    async fn store_failure(&self, credential: &Credential, failure: &Failure) {
        let (vault_id, id) = (credential.vault_id.clone(), credential.id.clone());
        let mark = CredentialRefreshError {
            kind: failure.kind.clone(),
            message: failure.message.clone(),
            occurred_at: crate::clock::now(),
        };
        let written = self
            .inner
            .db
            .write(move |tx| {
                if let Some(mut stored) = store::load_credential(tx, &vault_id, &id)? {
                    stored.refresh_error = Some(mark);
                    store::save_credential_body(tx, &stored)?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = written {
            tracing::error!(credential_id = %credential.id, error = %e.body().message, "cannot mark a failed refresh");
        }
    }
}

/// The public error for a refusal.
fn public_error(refusal: Refusal, id: &CredentialId, server_url: &str) -> TokenError {
    match refusal {
        Refusal::NotRefreshable => TokenError::NotRefreshable {
            credential_id: id.clone(),
        },
        Refusal::Gone => TokenError::NoCredential {
            server_url: server_url.to_owned(),
        },
        Refusal::Failed(failure) => TokenError::RefreshFailed {
            credential_id: id.clone(),
            reason: failure.reason(),
        },
        Refusal::Internal(message) => TokenError::Internal(message),
    }
}

/// The first matching live credential of the vaults, with its secrets.
fn select(
    conn: &rusqlite::Connection,
    key: &VaultKey,
    vault_ids: &[VaultId],
    wanted: &str,
) -> crate::Result<Option<(Credential, CredentialSecrets)>> {
    for vault_id in vault_ids {
        let live = store::load_vault(conn, vault_id)?.is_some_and(|v| v.archived_at.is_none());
        if !live {
            continue;
        }
        for credential in store::live_credentials(conn, vault_id)? {
            let url = match &credential.auth {
                CredentialAuth::McpOauth(auth) => &auth.mcp_server_url,
                CredentialAuth::StaticBearer(auth) => &auth.mcp_server_url,
                _ => continue,
            };
            if normalize_url(url) == wanted {
                return store::load_secrets(conn, key, vault_id, &credential.id);
            }
        }
    }
    Ok(None)
}

/// Whether the credential can refresh: refresh settings and a stored refresh token.
pub(super) fn refreshable(auth: &McpOauthAuth, refresh_token: Option<&Secret>) -> bool {
    matches!(auth.refresh, Nullable::Value(_)) && refresh_token.is_some()
}

/// Whether `expires_at` is at most [`REFRESH_MARGIN`] away (an unparseable time counts).
fn near_expiry(auth: &McpOauthAuth) -> bool {
    let Nullable::Value(at) = &auth.expires_at else {
        return false;
    };
    at.to_datetime().is_none_or(|at| {
        at - time::OffsetDateTime::now_utc()
            <= time::Duration::try_from(REFRESH_MARGIN).unwrap_or(time::Duration::ZERO)
    })
}

/// `now + seconds`.
fn expires_at(now: &Timestamp, seconds: u64) -> Timestamp {
    let base = now
        .to_datetime()
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    let seconds = i64::try_from(seconds)
        .unwrap_or(i64::MAX / 4)
        .min(100 * 365 * 86_400);
    Timestamp::from_datetime(base + time::Duration::seconds(seconds))
}

/// A URL as compared for selection: scheme and host lowercase, default port dropped, trailing
/// `/` of the path ignored, fragment dropped, query kept. Text that is no URL is only trimmed.
pub fn normalize_url(url: &str) -> String {
    let trimmed = url.trim();
    let Ok(parsed) = reqwest::Url::parse(trimmed) else {
        return trimmed.trim_end_matches('/').to_owned();
    };
    let mut out = format!("{}://", parsed.scheme());
    if !parsed.username().is_empty() {
        out.push_str(parsed.username());
        if let Some(password) = parsed.password() {
            out.push(':');
            out.push_str(password);
        }
        out.push('@');
    }
    out.push_str(&parsed.host_str().unwrap_or_default().to_ascii_lowercase());
    if let Some(port) = parsed.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(parsed.path().trim_end_matches('/'));
    if let Some(query) = parsed.query() {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of one name or value: ASCII alphanumerics and
/// `*-._` stay, space becomes `+`, every other byte `%XX`.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A form body from its pairs.
fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The HTTP Basic credentials of `client_secret_basic` (RFC 6749 §2.3.1: the ID and secret are
/// form-urlencoded before they are joined and base64-encoded).
fn basic_auth(client_id: &str, client_secret: &str) -> String {
    let joined = format!("{}:{}", form_encode(client_id), form_encode(client_secret));
    format!("Basic {}", STANDARD.encode(joined))
}

/// The form pairs and optional `Authorization` value of a refresh grant.
fn grant_request<'a>(
    refresh: &'a McpOauthRefresh,
    refresh_token: &'a Secret,
    client_secret: Option<&'a Secret>,
) -> (Vec<(&'static str, &'a str)>, Option<String>) {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
    ];
    let mut authorization = None;
    match &refresh.token_endpoint_auth {
        TokenEndpointAuth::ClientSecretBasic(_) => {
            let secret = client_secret.map(Secret::expose).unwrap_or_default();
            authorization = Some(basic_auth(&refresh.client_id, secret));
        }
        TokenEndpointAuth::ClientSecretPost(_) => {
            pairs.push(("client_id", &refresh.client_id));
            pairs.push((
                "client_secret",
                client_secret.map(Secret::expose).unwrap_or_default(),
            ));
        }
        _ => pairs.push(("client_id", &refresh.client_id)),
    }
    if let Nullable::Value(scope) = &refresh.scope
        && !scope.is_empty()
    {
        pairs.push(("scope", scope));
    }
    if let Nullable::Value(resource) = &refresh.resource
        && !resource.is_empty()
    {
        pairs.push(("resource", resource));
    }
    (pairs, authorization)
}

/// A successful grant.
struct Grant {
    access_token: Secret,
    expires_in: Option<u64>,
    refresh_token: Option<Secret>,
}

/// Posts the refresh grant and reads the answer. `scrub` lists the secrets to keep out of
/// messages and captures.
async fn post_grant(
    http: &reqwest::Client,
    refresh: &McpOauthRefresh,
    refresh_token: &Secret,
    client_secret: Option<&Secret>,
    scrub: &[String],
) -> Result<Grant, Failure> {
    let (pairs, authorization) = grant_request(refresh, refresh_token, client_secret);
    let mut request = http
        .post(&refresh.token_endpoint)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .body(form_body(&pairs));
    if let Some(value) = authorization {
        let mut value = HeaderValue::from_str(&value).map_err(|_| Failure {
            kind: "invalid_client".to_owned(),
            message: "the client credentials cannot be sent in an HTTP header".to_owned(),
            http_response: None,
        })?;
        value.set_sensitive(true);
        request = request.header(AUTHORIZATION, value);
    }
    let unreachable = |what: &str| Failure {
        kind: "connect_error".to_owned(),
        message: format!("the token endpoint {what}"),
        http_response: None,
    };
    let mut response = request.send().await.map_err(|e| {
        unreachable(if e.is_timeout() {
            "did not answer in time"
        } else {
            "could not be reached"
        })
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() >= MAX_RESPONSE {
                    break;
                }
            }
            Ok(None) => break,
            Err(_) => return Err(unreachable("broke off its answer")),
        }
    }
    let scrub: Vec<&str> = scrub.iter().map(String::as_str).collect();
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let failure = |kind: String, message: String| Failure {
        kind: clean(&kind, &scrub),
        message: clean(&message, &scrub),
        http_response: Some(super::probe::capture(
            status.as_u16(),
            &headers,
            &body,
            &scrub,
        )),
    };
    if status.is_success() {
        let access_token = json
            .as_ref()
            .and_then(|j| j.get("access_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        let Some(access_token) = access_token else {
            return Err(failure(
                "invalid_response".to_owned(),
                format!(
                    "the token endpoint answered HTTP {} without an access_token",
                    status.as_u16()
                ),
            ));
        };
        let json = json.as_ref();
        let expires_in = json.and_then(|j| j.get("expires_in")).and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        });
        let refresh_token = json
            .and_then(|j| j.get("refresh_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(Secret::from);
        return Ok(Grant {
            access_token: Secret::from(access_token),
            expires_in,
            refresh_token,
        });
    }
    let error = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty());
    match error {
        Some(code) => {
            let description = json
                .as_ref()
                .and_then(|j| j.get("error_description"))
                .and_then(Value::as_str)
                .map_or_else(
                    || format!("the token endpoint answered HTTP {}", status.as_u16()),
                    str::to_owned,
                );
            Err(failure(code.to_owned(), description))
        }
        None => Err(failure(
            "http_error".to_owned(),
            format!("the token endpoint answered HTTP {}", status.as_u16()),
        )),
    }
}

/// A message with the credential's secrets redacted, control characters dropped, and cut to
/// [`MAX_MESSAGE`] characters.
fn clean(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret, REDACTED);
    }
    let mut out: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE)
        .collect();
    if text.chars().count() > MAX_MESSAGE {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use steward_core::vault::{
        TokenEndpointAuthBasic, TokenEndpointAuthNone, TokenEndpointAuthPost,
    };

    use super::*;

    #[test]
    fn urls_normalise() {
        let same = [
            "https://MCP.Example.com/mcp",
            "https://mcp.example.com:443/mcp/",
            "HTTPS://mcp.example.com/mcp#frag",
            " https://mcp.example.com/mcp ",
        ];
        for url in same {
            assert_eq!(normalize_url(url), "https://mcp.example.com/mcp", "{url}");
        }
        assert_eq!(normalize_url("http://h:80/"), "http://h");
        assert_eq!(normalize_url("http://h:8080/a?x=1"), "http://h:8080/a?x=1");
        assert_ne!(normalize_url("http://h/a"), normalize_url("https://h/a"));
        assert_ne!(normalize_url("http://h/a"), normalize_url("http://h/A"));
        assert_ne!(normalize_url("http://h:81/a"), normalize_url("http://h/a"));
        assert_eq!(normalize_url("not a url/"), "not a url");
    }

    #[test]
    fn form_encoding_follows_the_html_rules() {
        assert_eq!(form_encode("aZ09*-._"), "aZ09*-._");
        assert_eq!(form_encode("a b+c/d:e%"), "a+b%2Bc%2Fd%3Ae%25");
        assert_eq!(form_encode("é"), "%C3%A9");
        assert_eq!(
            form_body(&[("grant_type", "refresh_token"), ("refresh_token", "r/1 2")]),
            "grant_type=refresh_token&refresh_token=r%2F1+2"
        );
        // RFC 6749 §2.3.1: `id:x` with secret `s p` becomes base64("id%3Ax:s+p").
        assert_eq!(
            basic_auth("id:x", "s p"),
            format!("Basic {}", STANDARD.encode("id%3Ax:s+p"))
        );
    }

    fn refresh_settings(auth: TokenEndpointAuth) -> McpOauthRefresh {
        McpOauthRefresh {
            client_id: "cid".to_owned(),
            token_endpoint: "http://t/token".to_owned(),
            token_endpoint_auth: auth,
            resource: Nullable::Null,
            scope: Nullable::Value("a b".to_owned()),
        }
    }

    #[test]
    fn grant_requests_per_client_auth() {
        let rt = Secret::new("rt");
        let cs = Secret::new("cs");
        let none = refresh_settings(TokenEndpointAuth::None(TokenEndpointAuthNone {}));
        let (pairs, auth) = grant_request(&none, &rt, None);
        assert_eq!(
            pairs,
            [
                ("grant_type", "refresh_token"),
                ("refresh_token", "rt"),
                ("client_id", "cid"),
                ("scope", "a b")
            ]
        );
        assert_eq!(auth, None);
        let basic = refresh_settings(TokenEndpointAuth::ClientSecretBasic(
            TokenEndpointAuthBasic {},
        ));
        let (pairs, auth) = grant_request(&basic, &rt, Some(&cs));
        assert!(
            !pairs
                .iter()
                .any(|(k, _)| *k == "client_id" || *k == "client_secret")
        );
        assert_eq!(auth, Some(basic_auth("cid", "cs")));
        let post = refresh_settings(TokenEndpointAuth::ClientSecretPost(
            TokenEndpointAuthPost {},
        ));
        let (pairs, auth) = grant_request(&post, &rt, Some(&cs));
        assert!(pairs.contains(&("client_id", "cid")) && pairs.contains(&("client_secret", "cs")));
        assert_eq!(auth, None);
    }

    #[test]
    fn messages_are_scrubbed_and_bounded() {
        assert_eq!(
            clean("token rt-1 revoked\n", &["rt-1", ""]),
            "token [redacted] revoked"
        );
        let long = clean(&"x".repeat(1000), &[]);
        assert_eq!(long.chars().count(), MAX_MESSAGE + 1);
    }

    #[test]
    fn expiry_margin() {
        let auth = |at: Nullable<Timestamp>| McpOauthAuth {
            mcp_server_url: "http://m".to_owned(),
            expires_at: at,
            refresh: Nullable::Null,
        };
        let now = Timestamp::now();
        assert!(near_expiry(&auth(Nullable::Value(expires_at(&now, 30)))));
        assert!(!near_expiry(&auth(Nullable::Value(expires_at(&now, 3600)))));
        assert!(!near_expiry(&auth(Nullable::Null)));
        assert!(near_expiry(&auth(Nullable::Value(Timestamp::new(
            "garbage"
        )))));
    }
}
