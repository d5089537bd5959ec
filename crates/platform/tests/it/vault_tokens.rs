//! The [`TokenBroker`]: credential selection across a session's vaults, OAuth refresh (before
//! expiry, after a 401, rotated refresh tokens, each client authentication, single flight,
//! revocation) and `mcp_oauth_validate` with refresh, against a local OAuth token endpoint and a
//! local JSON-RPC MCP server that requires the bearer. And that no token leaks.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any unexpected error"
)]

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::VaultId;
use steward_platform::vaults::{Bearer, TokenBroker, TokenError};

use crate::support::{TestPlatform, id};

/// Canary secrets: none may ever appear in a response, an error or a `Debug` print.
const ACCESS: &str = "canary-access-5f2e91";
const REFRESH: &str = "canary-refresh-8c03d4";
const CLIENT_SECRET: &str = "canary-client secret+7a/1";
/// Prefix of every access token the test token endpoint issues (also canaries).
const ISSUED: &str = "canary-issued-at-";
/// Prefix of every refresh token the test token endpoint rotates to.
const ROTATED: &str = "canary-rotated-rt-";

fn canaries() -> [&'static str; 5] {
    [ACCESS, REFRESH, CLIENT_SECRET, ISSUED, ROTATED]
}

#[track_caller]
fn assert_no_canary(text: &str) {
    for canary in canaries() {
        assert!(!text.contains(canary), "`{canary}` leaked into: {text}");
    }
}

// ---- the local OAuth token endpoint ----

/// How the client must authenticate to the test token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    None,
    Basic,
    Post,
}

/// One grant request as the endpoint received it.
#[derive(Debug, Clone)]
struct SeenGrant {
    form: BTreeMap<String, String>,
    authorization: Option<String>,
}

struct Endpoint {
    client_id: String,
    auth: ClientAuth,
    /// The refresh token the endpoint accepts now.
    refresh_token: Mutex<String>,
    /// Whether each grant rotates the refresh token.
    rotate: bool,
    /// Whether the refresh token is revoked (`400 invalid_grant`).
    revoked: AtomicBool,
    /// `expires_in` of issued tokens.
    expires_in: u64,
    /// How long each grant takes (to make concurrent callers overlap).
    delay: Duration,
    grants: AtomicUsize,
    seen: Mutex<Vec<SeenGrant>>,
    /// Access tokens issued so far.
    issued: Mutex<Vec<String>>,
}

struct TokenServer {
    url: String,
    state: Arc<Endpoint>,
}

impl TokenServer {
    async fn start(auth: ClientAuth, client_id: &str, rotate: bool) -> Self {
        Self::start_with(auth, client_id, rotate, Duration::ZERO).await
    }

    async fn start_with(auth: ClientAuth, client_id: &str, rotate: bool, delay: Duration) -> Self {
        let state = Arc::new(Endpoint {
            client_id: client_id.to_owned(),
            auth,
            refresh_token: Mutex::new(REFRESH.to_owned()),
            rotate,
            revoked: AtomicBool::new(false),
            expires_in: 3600,
            delay,
            grants: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            issued: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/oauth/token", post(grant))
            .route(
                "/oauth/moved",
                post(|| async {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [("location", "/oauth/token")],
                    )
                }),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/oauth/token", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, state }
    }

    fn grants(&self) -> usize {
        self.state.grants.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<SeenGrant> {
        self.state.seen.lock().unwrap().clone()
    }

    fn last_issued(&self) -> String {
        self.state.issued.lock().unwrap().last().cloned().unwrap()
    }

    fn revoke(&self, revoked: bool) {
        self.state.revoked.store(revoked, Ordering::SeqCst);
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn grant(State(state): State<Arc<Endpoint>>, headers: HeaderMap, body: String) -> Response {
    let form: BTreeMap<String, String> = serde_html_form::from_str(&body).unwrap();
    let authorization = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    state.seen.lock().unwrap().push(SeenGrant {
        form: form.clone(),
        authorization: authorization.clone(),
    });
    state.grants.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(state.delay).await;
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "");
    }
    let client_ok = match state.auth {
        ClientAuth::None => {
            authorization.is_none() && form.get("client_id") == Some(&state.client_id)
        }
        ClientAuth::Post => {
            authorization.is_none()
                && form.get("client_id") == Some(&state.client_id)
                && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
        }
        ClientAuth::Basic => {
            // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
            let expected = format!(
                "{}:{}",
                serde_html_form_encode(&state.client_id),
                serde_html_form_encode(CLIENT_SECRET)
            );
            authorization == Some(format!("Basic {}", STANDARD.encode(expected)))
                && !form.contains_key("client_secret")
        }
    };
    if !client_ok {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "bad client");
    }
    let presented = form.get("refresh_token").cloned().unwrap_or_default();
    let current = state.refresh_token.lock().unwrap().clone();
    if state.revoked.load(Ordering::SeqCst) || presented != current {
        // An endpoint that quotes the token it rejects: the platform must scrub it.
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            &format!("refresh token {presented} revoked"),
        );
    }
    let n = state.grants.load(Ordering::SeqCst);
    let access_token = format!("{ISSUED}{n}");
    state.issued.lock().unwrap().push(access_token.clone());
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": state.expires_in,
    });
    if state.rotate {
        let next = format!("{ROTATED}{n}");
        *state.refresh_token.lock().unwrap() = next.clone();
        answer["refresh_token"] = json!(next);
    }
    axum::Json(answer).into_response()
}

/// `application/x-www-form-urlencoded` encoding of one value, as the test expects it.
fn serde_html_form_encode(value: &str) -> String {
    let encoded = serde_html_form::to_string([("v", value)]).unwrap();
    encoded.strip_prefix("v=").unwrap().to_owned()
}

// ---- the local MCP server (plain JSON-RPC over HTTP POST) ----

struct McpServer {
    url: String,
    /// Tokens the server accepts.
    accepted: Arc<Mutex<HashSet<String>>>,
    /// `Authorization` headers of every request, in order.
    seen: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone)]
struct McpState {
    accepted: Arc<Mutex<HashSet<String>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl McpServer {
    async fn start() -> Self {
        let state = McpState {
            accepted: Arc::new(Mutex::new(HashSet::new())),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let router = Router::new()
            .route("/mcp", post(mcp).delete(mcp_delete))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            url,
            accepted: state.accepted,
            seen: state.seen,
        }
    }

    fn accept(&self, token: &str) {
        self.accepted.lock().unwrap().insert(token.to_owned());
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn authorized(state: &McpState, headers: &HeaderMap) -> bool {
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    state.seen.lock().unwrap().push(auth.clone());
    auth.strip_prefix("Bearer ")
        .is_some_and(|t| state.accepted.lock().unwrap().contains(t))
}

async fn mcp(State(state): State<McpState>, headers: HeaderMap, body: String) -> Response {
    if !authorized(&state, &headers) {
        // Echo what was presented, as a careless server might: the platform must scrub it.
        let presented = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_token", "presented": presented})),
        )
            .into_response();
    }
    let request: Value = serde_json::from_str(&body).unwrap();
    let result = match request["method"].as_str().unwrap() {
        "initialize" => json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                               "serverInfo": {"name": "test", "version": "1"}}),
        "notifications/initialized" => return StatusCode::ACCEPTED.into_response(),
        "tools/list" => {
            assert_eq!(headers["mcp-session-id"], "sess-1");
            json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]})
        }
        other => panic!("unexpected method {other}"),
    };
    let mut response = axum::Json(json!({"jsonrpc": "2.0", "id": request["id"], "result": result}))
        .into_response();
    response
        .headers_mut()
        .insert("mcp-session-id", "sess-1".parse().unwrap());
    response
}

async fn mcp_delete(State(state): State<McpState>, headers: HeaderMap) -> StatusCode {
    if authorized(&state, &headers) {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// Calls the MCP server's `initialize` with a bearer, as the engine would; the HTTP status.
async fn call_mcp(url: &str, bearer: &Bearer) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("authorization", bearer.header_value())
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

// ---- platform helpers ----

fn broker(platform: &TestPlatform) -> TokenBroker {
    platform.handle.platform().state().tokens.clone()
}

/// Every response body the test saw, to check for canaries at the end.
#[derive(Default)]
struct Seen(Mutex<Vec<String>>);

impl Seen {
    fn add(&self, value: &Value) -> Value {
        let text = value.to_string();
        assert_no_canary(&text);
        self.0.lock().unwrap().push(text);
        value.clone()
    }
}

async fn vault(platform: &TestPlatform, name: &str) -> Value {
    platform
        .post("/v1/vaults", json!({"display_name": name}))
        .await
        .ok()
}

fn vault_id(vault: &Value) -> VaultId {
    VaultId::new(id(vault))
}

async fn credential(platform: &TestPlatform, vault: &Value, auth: Value) -> Value {
    let body = platform
        .post(
            &format!("/v1/vaults/{}/credentials", id(vault)),
            json!({ "auth": auth }),
        )
        .await
        .ok();
    assert_no_canary(&body.to_string());
    body
}

fn credential_path(credential: &Value) -> String {
    format!(
        "/v1/vaults/{}/credentials/{}",
        credential["vault_id"].as_str().unwrap(),
        id(credential)
    )
}

async fn retrieve(platform: &TestPlatform, credential: &Value) -> Value {
    let body = platform.get(&credential_path(credential)).await.ok();
    assert_no_canary(&body.to_string());
    body
}

fn static_bearer(url: &str, token: &str) -> Value {
    json!({"type": "static_bearer", "mcp_server_url": url, "token": token})
}

/// An `mcp_oauth` auth with refresh settings for `endpoint`, expiring in `expires_in_secs`.
fn oauth(url: &str, endpoint: &TokenServer, client_id: &str, expires_in_secs: i64) -> Value {
    let token_endpoint_auth = match endpoint.state.auth {
        ClientAuth::None => json!({"type": "none"}),
        ClientAuth::Basic => json!({"type": "client_secret_basic", "client_secret": CLIENT_SECRET}),
        ClientAuth::Post => json!({"type": "client_secret_post", "client_secret": CLIENT_SECRET}),
    };
    json!({
        "type": "mcp_oauth",
        "mcp_server_url": url,
        "access_token": ACCESS,
        "expires_at": in_seconds(expires_in_secs),
        "refresh": {
            "client_id": client_id,
            "token_endpoint": endpoint.url,
            "refresh_token": REFRESH,
            "token_endpoint_auth": token_endpoint_auth,
            "scope": "tools:read tools:call",
        },
    })
}

fn in_seconds(seconds: i64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn seconds_until(timestamp: &Value) -> i64 {
    let at = time::OffsetDateTime::parse(
        timestamp.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    (at - time::OffsetDateTime::now_utc()).whole_seconds()
}

/// The token inside a bearer, read back from its header value (the only way out).
fn token_of(bearer: &Bearer) -> String {
    bearer
        .header_value()
        .to_str()
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_owned()
}

// ---- tests ----

#[tokio::test]
async fn selection_follows_vault_order_then_creation_with_normalised_urls() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let url = "https://mcp.example.test/mcp";
    let (a, b, c) = (
        vault(&platform, "a").await,
        vault(&platform, "b").await,
        vault(&platform, "c").await,
    );
    let env = json!({"type": "environment_variable", "secret_name": "X", "secret_value": "v",
                     "networking": {"type": "unrestricted"}});
    credential(&platform, &a, env).await;
    let in_a = credential(
        &platform,
        &a,
        static_bearer("HTTPS://MCP.example.test:443/mcp/", "tok-a"),
    )
    .await;
    let first_b = credential(&platform, &b, static_bearer(url, "tok-b1")).await;
    credential(&platform, &b, static_bearer(url, "tok-b2")).await;
    credential(
        &platform,
        &b,
        static_bearer("https://other.example.test/mcp", "tok-other"),
    )
    .await;

    let bearer = tokens
        .bearer(&[vault_id(&a), vault_id(&b)], url)
        .await
        .unwrap();
    assert_eq!(bearer.credential_id.as_str(), id(&in_a));
    assert_eq!(bearer.vault_id.as_str(), id(&a));
    assert_eq!(token_of(&bearer), "tok-a");
    assert!(bearer.header_value().is_sensitive());

    let bearer = tokens
        .bearer(
            &[vault_id(&b), vault_id(&a)],
            "https://mcp.example.test/mcp/",
        )
        .await
        .unwrap();
    assert_eq!(
        bearer.credential_id.as_str(),
        id(&first_b),
        "vault order first, then the oldest credential"
    );

    // An archived credential is skipped, and so is an archived vault.
    platform
        .post_empty(&format!("{}/archive", credential_path(&first_b)))
        .await
        .ok();
    let bearer = tokens.bearer(&[vault_id(&b)], url).await.unwrap();
    assert_eq!(token_of(&bearer), "tok-b2");
    platform
        .post_empty(&format!("/v1/vaults/{}/archive", id(&a)))
        .await
        .ok();
    let bearer = tokens
        .bearer(&[vault_id(&a), vault_id(&b)], url)
        .await
        .unwrap();
    assert_eq!(token_of(&bearer), "tok-b2");

    // No match: an error naming the server, not a secret.
    let missing = VaultId::new("vlt_missing");
    for vaults in [vec![vault_id(&c)], vec![missing], vec![]] {
        let err = tokens.bearer(&vaults, url).await.unwrap_err();
        assert_eq!(
            err,
            TokenError::NoCredential {
                server_url: url.to_owned()
            }
        );
        assert!(err.to_string().contains(url), "{err}");
    }
    let err = tokens
        .bearer(&[vault_id(&b)], "https://mcp.example.test/mcp/other")
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::NoCredential { .. }));

    // A static bearer is not refreshable.
    let bearer = tokens.bearer(&[vault_id(&b)], url).await.unwrap();
    let err = tokens
        .refresh_after_unauthorized(&bearer)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::NotRefreshable { .. }), "{err}");
    platform.handle.shutdown().await;
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use_and_the_rotated_refresh_token_is_kept() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let endpoint = TokenServer::start(ClientAuth::None, "client-1", true).await;
    let mcp = McpServer::start().await;
    let v = vault(&platform, "v").await;
    // 30 s left: within the 60 s margin.
    let created = credential(&platform, &v, oauth(&mcp.url, &endpoint, "client-1", 30)).await;

    let bearer = tokens.bearer(&[vault_id(&v)], &mcp.url).await.unwrap();
    assert_eq!(endpoint.grants(), 1);
    assert_eq!(token_of(&bearer), endpoint.last_issued());
    mcp.accept(&endpoint.last_issued());
    assert_eq!(call_mcp(&mcp.url, &bearer).await, 200);
    let seen = endpoint.seen();
    assert_eq!(
        seen[0].form,
        BTreeMap::from([
            ("client_id".to_owned(), "client-1".to_owned()),
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), REFRESH.to_owned()),
            ("scope".to_owned(), "tools:read tools:call".to_owned()),
        ])
    );
    assert_eq!(seen[0].authorization, None);

    let stored = retrieve(&platform, &created).await;
    let left = seconds_until(&stored["auth"]["expires_at"]);
    assert!((3500..=3600).contains(&left), "expires in {left} s");
    assert!(stored["updated_at"].as_str() > created["updated_at"].as_str());
    assert_eq!(stored.get("refresh_error"), None);

    // Fresh now: no further grant.
    let again = tokens.bearer(&[vault_id(&v)], &mcp.url).await.unwrap();
    assert_eq!(token_of(&again), token_of(&bearer));
    assert_eq!(endpoint.grants(), 1);

    // The next refresh presents the rotated refresh token.
    let newer = tokens.refresh_after_unauthorized(&again).await.unwrap();
    assert_eq!(endpoint.grants(), 2);
    assert_eq!(
        endpoint.seen()[1].form["refresh_token"],
        format!("{ROTATED}1")
    );
    assert_ne!(token_of(&newer), token_of(&again));
    platform.handle.shutdown().await;
}

#[tokio::test]
async fn a_401_refreshes_once_and_the_retry_succeeds() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let endpoint = TokenServer::start(ClientAuth::None, "c", false).await;
    let mcp = McpServer::start().await;
    let v = vault(&platform, "v").await;
    credential(&platform, &v, oauth(&mcp.url, &endpoint, "c", 3600)).await;

    let stale = tokens.bearer(&[vault_id(&v)], &mcp.url).await.unwrap();
    assert_eq!(
        endpoint.grants(),
        0,
        "a fresh token is handed out as stored"
    );
    assert_eq!(token_of(&stale), ACCESS);
    assert_eq!(call_mcp(&mcp.url, &stale).await, 401);
    let fresh = tokens.refresh_after_unauthorized(&stale).await.unwrap();
    assert_eq!(endpoint.grants(), 1);
    mcp.accept(&token_of(&fresh));
    assert_eq!(call_mcp(&mcp.url, &fresh).await, 200);
    // Without rotation the stored refresh token stays and works again.
    let stale_again = tokens.refresh_after_unauthorized(&stale).await.unwrap();
    assert_eq!(
        token_of(&stale_again),
        token_of(&fresh),
        "a token that was already replaced is not refreshed again"
    );
    assert_eq!(endpoint.grants(), 1);
    tokens.refresh_after_unauthorized(&fresh).await.unwrap();
    assert_eq!(endpoint.grants(), 2);
    assert_eq!(endpoint.seen()[1].form["refresh_token"], REFRESH);

    // An mcp_oauth credential without refresh settings is not refreshable.
    let other = "https://plain.example.test/mcp";
    let plain = json!({"type": "mcp_oauth", "mcp_server_url": other, "access_token": ACCESS});
    credential(&platform, &v, plain).await;
    let bearer = tokens.bearer(&[vault_id(&v)], other).await.unwrap();
    let err = tokens
        .refresh_after_unauthorized(&bearer)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::NotRefreshable { .. }), "{err}");
    platform.handle.shutdown().await;
}

#[tokio::test]
async fn each_client_authentication_reaches_the_token_endpoint() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let v = vault(&platform, "v").await;
    // A client ID that needs form-urlencoding in HTTP Basic.
    let client_id = "client:id é";
    for auth in [ClientAuth::None, ClientAuth::Basic, ClientAuth::Post] {
        let endpoint = TokenServer::start(auth, client_id, false).await;
        let url = format!("https://mcp.example.test/{auth:?}");
        credential(&platform, &v, oauth(&url, &endpoint, client_id, 3600)).await;
        let stale = tokens.bearer(&[vault_id(&v)], &url).await.unwrap();
        let fresh = tokens
            .refresh_after_unauthorized(&stale)
            .await
            .unwrap_or_else(|e| panic!("{auth:?}: {e}"));
        assert_eq!(token_of(&fresh), endpoint.last_issued(), "{auth:?}");
        let seen = endpoint.seen();
        assert_eq!(seen.len(), 1, "{auth:?}");
        let form = &seen[0].form;
        match auth {
            ClientAuth::None => {
                assert_eq!(form["client_id"], client_id);
                assert!(!form.contains_key("client_secret"));
                assert_eq!(seen[0].authorization, None);
            }
            ClientAuth::Basic => {
                assert!(!form.contains_key("client_id") && !form.contains_key("client_secret"));
                let basic = seen[0].authorization.as_deref().unwrap();
                let decoded = STANDARD
                    .decode(basic.strip_prefix("Basic ").unwrap())
                    .unwrap();
                assert_eq!(
                    String::from_utf8(decoded).unwrap(),
                    "client%3Aid+%C3%A9:canary-client+secret%2B7a%2F1"
                );
            }
            ClientAuth::Post => {
                assert_eq!(form["client_id"], client_id);
                assert_eq!(form["client_secret"], CLIENT_SECRET);
                assert_eq!(seen[0].authorization, None);
            }
        }
    }
    platform.handle.shutdown().await;
}

#[tokio::test]
async fn twenty_concurrent_callers_post_one_grant() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let endpoint =
        TokenServer::start_with(ClientAuth::Post, "c", true, Duration::from_millis(200)).await;
    let v = vault(&platform, "v").await;
    let vaults = [vault_id(&v)];

    // Near expiry: 20 sessions ask for the token at once.
    let url = "https://mcp.example.test/expiring";
    credential(&platform, &v, oauth(url, &endpoint, "c", 10)).await;
    let calls = (0..20).map(|_| {
        let tokens = tokens.clone();
        let vaults = vaults.clone();
        tokio::spawn(async move { tokens.bearer(&vaults, url).await })
    });
    let bearers: Vec<Bearer> = futures_join(calls).await;
    assert_eq!(endpoint.grants(), 1);
    let issued = endpoint.last_issued();
    assert!(bearers.iter().all(|b| token_of(b) == issued));

    // After a 401: 20 sessions holding the same stale token.
    let endpoint =
        TokenServer::start_with(ClientAuth::Post, "c", true, Duration::from_millis(200)).await;
    let url = "https://mcp.example.test/unauthorized";
    credential(&platform, &v, oauth(url, &endpoint, "c", 3600)).await;
    let stale = tokens.bearer(&vaults, url).await.unwrap();
    let calls = (0..20).map(|_| {
        let tokens = tokens.clone();
        let stale = stale.clone();
        tokio::spawn(async move { tokens.refresh_after_unauthorized(&stale).await })
    });
    let bearers: Vec<Bearer> = futures_join(calls).await;
    assert_eq!(endpoint.grants(), 1, "one grant for twenty 401s");
    let issued = endpoint.last_issued();
    assert!(bearers.iter().all(|b| token_of(b) == issued));
    platform.handle.shutdown().await;
}

/// Awaits spawned calls and unwraps their results.
async fn futures_join<T: std::fmt::Debug>(
    calls: impl Iterator<Item = tokio::task::JoinHandle<Result<T, TokenError>>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        out.push(call.await.unwrap().unwrap());
    }
    out
}

#[tokio::test]
async fn a_revoked_refresh_token_fails_clearly_and_marks_the_credential() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let endpoint =
        TokenServer::start_with(ClientAuth::Basic, "c", false, Duration::from_millis(100)).await;
    let mcp = McpServer::start().await;
    let v = vault(&platform, "v").await;
    let created = credential(&platform, &v, oauth(&mcp.url, &endpoint, "c", 3600)).await;
    endpoint.revoke(true);

    let stale = tokens.bearer(&[vault_id(&v)], &mcp.url).await.unwrap();
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let tokens = tokens.clone();
            let stale = stale.clone();
            tokio::spawn(async move { tokens.refresh_after_unauthorized(&stale).await })
        })
        .collect();
    for call in calls {
        let err = call.await.unwrap().unwrap_err();
        let TokenError::RefreshFailed {
            credential_id,
            reason,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(credential_id.as_str(), id(&created));
        assert_eq!(reason, "invalid_grant: refresh token [redacted] revoked");
        assert_no_canary(&err.to_string());
        assert_no_canary(&format!("{err:?}"));
    }
    assert_eq!(endpoint.grants(), 1, "concurrent callers share the failure");

    let stored = retrieve(&platform, &created).await;
    let mark = &stored["refresh_error"];
    assert_eq!(mark["type"], "invalid_grant");
    assert_eq!(mark["message"], "refresh token [redacted] revoked");
    assert!(mark["occurred_at"].is_string());
    assert_eq!(
        stored["updated_at"], created["updated_at"],
        "a failure mark is not a change"
    );
    let listed = platform
        .get(&format!("/v1/vaults/{}/credentials", id(&v)))
        .await
        .ok();
    assert_no_canary(&listed.to_string());
    assert_eq!(listed["data"][0]["refresh_error"], *mark);

    // The same stale token again: the known failure, no new grant. A later tool call (a token
    // handed out after the failure) tries again, and fails again.
    let err = tokens.refresh_after_unauthorized(&stale).await.unwrap_err();
    assert!(matches!(err, TokenError::RefreshFailed { .. }));
    assert_eq!(endpoint.grants(), 1);
    let later = tokens.bearer(&[vault_id(&v)], &mcp.url).await.unwrap();
    let err = tokens.refresh_after_unauthorized(&later).await.unwrap_err();
    assert!(matches!(err, TokenError::RefreshFailed { .. }));
    assert_eq!(endpoint.grants(), 2);

    // Giving the credential a new refresh token clears the mark, and even the holder of the old
    // stale token gets a new attempt, which succeeds.
    let new_refresh = format!("{REFRESH}-new");
    *endpoint.state.refresh_token.lock().unwrap() = new_refresh.clone();
    endpoint.revoke(false);
    let updated = platform
        .post(
            &credential_path(&created),
            json!({"auth": {"type": "mcp_oauth", "refresh": {"refresh_token": new_refresh}}}),
        )
        .await
        .ok();
    assert_no_canary(&updated.to_string());
    assert_eq!(updated.get("refresh_error"), None);
    tokens.refresh_after_unauthorized(&stale).await.unwrap();
    assert_eq!(endpoint.grants(), 3);
    assert_eq!(endpoint.seen()[2].form["refresh_token"], new_refresh);
    assert_eq!(
        retrieve(&platform, &created).await.get("refresh_error"),
        None
    );

    // An unreachable endpoint is a failure too.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let mut auth = oauth("https://gone.example.test/mcp", &endpoint, "c", 20);
    auth["refresh"]["token_endpoint"] = json!(format!("http://{closed}/token"));
    let gone = credential(&platform, &v, auth).await;
    let err = tokens
        .bearer(&[vault_id(&v)], "https://gone.example.test/mcp")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TokenError::RefreshFailed { reason, .. } if reason.starts_with("connect_error:")),
        "{err}"
    );
    assert_eq!(
        retrieve(&platform, &gone).await["refresh_error"]["type"],
        "connect_error"
    );
    platform.handle.shutdown().await;
}

#[tokio::test]
async fn validate_refreshes_after_a_401_and_reports_it() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let endpoint = TokenServer::start(ClientAuth::Post, "c", true).await;
    let mcp = McpServer::start().await;
    let seen = Seen::default();
    let v = vault(&platform, "v").await;
    let created = seen.add(&credential(&platform, &v, oauth(&mcp.url, &endpoint, "c", 3600)).await);
    let validate_path = format!("{}/mcp_oauth_validate", credential_path(&created));

    // The stored token is rejected; the refreshed one is accepted.
    mcp.accept(&format!("{ISSUED}1"));
    let result = seen.add(&platform.post_empty(&validate_path).await.ok());
    assert_eq!(result["status"], "valid", "{result}");
    assert_eq!(result["mcp_probe"], Value::Null);
    assert_eq!(
        result["refresh"],
        json!({"status": "succeeded", "http_response": null})
    );
    assert_eq!(result["has_refresh_token"], true);
    assert_eq!(endpoint.grants(), 1);
    let requests = mcp.seen();
    assert_eq!(requests[0], format!("Bearer {ACCESS}"));
    assert_eq!(
        requests[1..],
        vec![format!("Bearer {ISSUED}1"); 4],
        "initialize, initialized, tools/list and DELETE with the new token"
    );
    // The refreshed token was stored: sessions get it without another grant.
    let bearer = tokens.bearer(&[vault_id(&v)], &mcp.url).await.unwrap();
    assert_eq!(token_of(&bearer), format!("{ISSUED}1"));
    let result = seen.add(&platform.post_empty(&validate_path).await.ok());
    assert_eq!(
        (result["status"].clone(), result["refresh"].clone()),
        (json!("valid"), Value::Null)
    );
    assert_eq!(endpoint.grants(), 1);

    // The refreshed token is rejected too: invalid, the retry's 401 (scrubbed) is reported.
    mcp.accepted.lock().unwrap().clear();
    let result = seen.add(&platform.post_empty(&validate_path).await.ok());
    assert_eq!(result["status"], "invalid");
    assert_eq!(result["refresh"]["status"], "succeeded");
    assert_eq!(result["mcp_probe"]["method"], "initialize");
    assert_eq!(
        result["mcp_probe"]["http_response"]["body"],
        "{\"error\":\"invalid_token\",\"presented\":\"Bearer [redacted]\"}"
    );

    // The token endpoint refuses: invalid, with its (scrubbed) answer.
    endpoint.revoke(true);
    let result = seen.add(&platform.post_empty(&validate_path).await.ok());
    assert_eq!(result["status"], "invalid");
    assert_eq!(result["mcp_probe"]["http_response"]["status_code"], 401);
    let refresh = &result["refresh"];
    assert_eq!(refresh["status"], "failed");
    assert_eq!(refresh["http_response"]["status_code"], 400);
    assert_eq!(refresh["http_response"]["content_type"], "application/json");
    let body: Value =
        serde_json::from_str(refresh["http_response"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        body["error_description"],
        "refresh token [redacted] revoked"
    );
    let stored = seen.add(&retrieve(&platform, &created).await);
    assert_eq!(stored["refresh_error"]["type"], "invalid_grant");
    seen.add(
        &platform
            .get(&format!("/v1/vaults/{}/credentials", id(&v)))
            .await
            .ok(),
    );
    platform.handle.shutdown().await;
}

#[tokio::test]
async fn bearers_and_token_errors_never_print_a_token() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let v = vault(&platform, "v").await;
    let url = "https://mcp.example.test/mcp";
    credential(&platform, &v, static_bearer(url, ACCESS)).await;
    let bearer = tokens.bearer(&[vault_id(&v)], url).await.unwrap();
    let debug = format!("{bearer:?}");
    assert_no_canary(&debug);
    assert_eq!(
        debug,
        format!(
            "Bearer {{ credential_id: {:?}, vault_id: {:?}, token: [redacted] }}",
            bearer.credential_id, bearer.vault_id
        )
    );
    assert_no_canary(&format!("{:?}", bearer.header_value()));
    assert_no_canary(&format!("{tokens:?}"));
    let errors = [
        TokenError::NoCredential {
            server_url: url.to_owned(),
        },
        TokenError::NotRefreshable {
            credential_id: bearer.credential_id.clone(),
        },
        tokens
            .refresh_after_unauthorized(&bearer)
            .await
            .unwrap_err(),
    ];
    for err in errors {
        assert_no_canary(&err.to_string());
        assert_no_canary(&format!("{err:?}"));
    }
    platform.handle.shutdown().await;
}

#[tokio::test]
async fn a_redirecting_token_endpoint_is_not_followed() {
    let platform = TestPlatform::start().await;
    let tokens = broker(&platform);
    let endpoint = TokenServer::start(ClientAuth::Post, "c", false).await;
    let v = vault(&platform, "v").await;
    let url = "https://mcp.example.test/mcp";
    let mut auth = oauth(url, &endpoint, "c", 3600);
    auth["refresh"]["token_endpoint"] = json!(endpoint.url.replace("/oauth/token", "/oauth/moved"));
    let created = credential(&platform, &v, auth).await;
    let stale = tokens.bearer(&[vault_id(&v)], url).await.unwrap();
    let err = tokens.refresh_after_unauthorized(&stale).await.unwrap_err();
    assert_eq!(
        err,
        TokenError::RefreshFailed {
            credential_id: stale.credential_id.clone(),
            reason: "http_error: the token endpoint answered HTTP 307".to_owned(),
        }
    );
    assert_eq!(
        endpoint.grants(),
        0,
        "the secret was not carried to the redirect target"
    );
    assert_eq!(
        retrieve(&platform, &created).await["refresh_error"]["type"],
        "http_error"
    );
    platform.handle.shutdown().await;
}
