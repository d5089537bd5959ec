//! [`McpFixture`]: a local MCP server (the official `rmcp` SDK's streamable-HTTP server, in
//! stateless JSON mode) that requires a bearer token, with a local OAuth token endpoint, both on
//! one `127.0.0.1:0` listener.
//!
//! * `POST /mcp`: the MCP server. Every request must carry `Authorization: Bearer <token>` with
//!   a token the fixture accepts ([`McpFixture::accept`], or one its token endpoint issued and
//!   has not [revoked](McpFixture::revoke)); anything else gets `401` with
//!   `WWW-Authenticate: Bearer`. Its tools: `echo` (`{"text": string}`, answers
//!   `echo: <text>`) and `fail` (answers with `isError: true` and the text
//!   `the fail tool always fails`).
//! * `POST /token`: a `refresh_token` grant (form-encoded). A refresh token the fixture knows
//!   ([`McpFixture::add_refresh_token`]) gets a fresh access token (`<prefix>-<n>`, accepted
//!   from then on, `expires_in: 3600`) and, when [rotation](McpFixture::rotate_refresh_tokens)
//!   is on, a new refresh token that replaces the old one; anything else gets `400`
//!   `{"error": "invalid_grant", "error_description": "refresh token revoked"}`.
//!
//! Everything it receives is recorded ([`McpFixture::requests`]): method, path, the
//! `Authorization` header apart from the other headers, and the body, so a test can check
//! which token was sent, and that no secret travelled anywhere else. [`McpFixture::grants`]
//! counts the token endpoint's successful grants.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use steward_test_support::mcp::McpFixture;
//!
//! let fixture = McpFixture::start().await?;
//! fixture.accept("access-token");
//! // Point an MCP client at `fixture.mcp_url()` with `Authorization: Bearer access-token`.
//! # Ok(())
//! # }
//! ```

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Largest request body the fixture records.
const MAX_BODY: usize = 1024 * 1024;

/// One request the fixture received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// `POST`, `GET`, …
    pub method: String,
    /// The path (`/mcp`, `/token`).
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// Every other header, as `name: value` lines.
    pub headers: Vec<String>,
    /// The body, as text (lossy).
    pub body: String,
}

impl SeenRequest {
    /// Everything recorded but the `Authorization` header, as one text.
    pub fn without_authorization(&self) -> String {
        format!(
            "{} {}\n{}\n\n{}",
            self.method,
            self.path,
            self.headers.join("\n"),
            self.body
        )
    }
}

#[derive(Debug, Default)]
struct Shared {
    accepted: Mutex<HashSet<String>>,
    refresh_tokens: Mutex<HashSet<String>>,
    rotate: AtomicBool,
    issued: AtomicUsize,
    grants: AtomicUsize,
    tool_calls: AtomicUsize,
    prefix: Mutex<String>,
    requests: Mutex<Vec<SeenRequest>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running fixture; stops when dropped (or on [`McpFixture::stop`]).
#[derive(Debug)]
pub struct McpFixture {
    base: String,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
}

impl Drop for McpFixture {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl McpFixture {
    /// Starts the fixture on `127.0.0.1:0`.
    pub async fn start() -> io::Result<Self> {
        Self::start_on("127.0.0.1:0").await
    }

    /// Starts the fixture on `addr` (such as `127.0.0.1:0`).
    pub async fn start_on(addr: &str) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            prefix: Mutex::new("issued-access".to_owned()),
            ..Shared::default()
        });
        let shutdown = CancellationToken::new();
        let tools = Tools {
            shared: shared.clone(),
        };
        let mcp: StreamableHttpService<Tools, LocalSessionManager> = StreamableHttpService::new(
            move || Ok(tools.clone()),
            Arc::default(),
            StreamableHttpServerConfig::default()
                .with_sse_keep_alive(None)
                .with_legacy_session_mode(false)
                .with_json_response(true)
                .with_cancellation_token(shutdown.child_token()),
        );
        let guarded =
            Router::new()
                .nest_service("/mcp", mcp)
                .layer(middleware::from_fn_with_state(
                    shared.clone(),
                    require_bearer,
                ));
        let app = Router::new()
            .route("/token", post(token))
            .with_state(shared.clone())
            .merge(guarded)
            .layer(middleware::from_fn_with_state(shared.clone(), record));
        let listener = TcpListener::bind(addr).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        Ok(Self {
            base,
            shared,
            shutdown,
        })
    }

    /// The MCP server's URL (`http://127.0.0.1:<port>/mcp`).
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// The token endpoint's URL (`http://127.0.0.1:<port>/token`).
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base)
    }

    /// Makes the MCP server accept this access token.
    pub fn accept(&self, access_token: &str) {
        lock(&self.shared.accepted).insert(access_token.to_owned());
    }

    /// Makes the MCP server refuse this access token (as if it expired or was revoked).
    pub fn revoke(&self, access_token: &str) {
        lock(&self.shared.accepted).remove(access_token);
    }

    /// Makes the MCP server refuse every access token it accepts now.
    pub fn revoke_all(&self) {
        lock(&self.shared.accepted).clear();
    }

    /// Makes the token endpoint honour this refresh token.
    pub fn add_refresh_token(&self, refresh_token: &str) {
        lock(&self.shared.refresh_tokens).insert(refresh_token.to_owned());
    }

    /// Makes the token endpoint refuse this refresh token (`invalid_grant`).
    pub fn revoke_refresh_token(&self, refresh_token: &str) {
        lock(&self.shared.refresh_tokens).remove(refresh_token);
    }

    /// Whether each grant also returns a new refresh token (replacing the one used).
    pub fn rotate_refresh_tokens(&self, rotate: bool) {
        self.shared.rotate.store(rotate, Ordering::SeqCst);
    }

    /// The prefix of the access (and refresh) tokens the endpoint issues (default
    /// `issued-access`; rotated refresh tokens get `<prefix>-refresh-<n>`).
    pub fn issue_prefix(&self, prefix: &str) {
        *lock(&self.shared.prefix) = prefix.to_owned();
    }

    /// Successful grants of the token endpoint so far.
    pub fn grants(&self) -> usize {
        self.shared.grants.load(Ordering::SeqCst)
    }

    /// Tool calls the MCP server ran so far.
    pub fn tool_calls(&self) -> usize {
        self.shared.tool_calls.load(Ordering::SeqCst)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The `Authorization` headers of the MCP requests (not the token endpoint's) so far.
    pub fn mcp_authorizations(&self) -> Vec<Option<String>> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/mcp"))
            .map(|r| r.authorization)
            .collect()
    }

    /// Stops the server.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }
}

/// Records every request (the body is read and put back).
async fn record(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| *name != header::AUTHORIZATION)
        .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    lock(&shared.requests).push(SeenRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        authorization,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Lets through requests bearing an accepted token; answers the rest with 401.
async fn require_bearer(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let ok = token.is_some_and(|t| lock(&shared.accepted).contains(&t));
    if ok {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": "invalid_token"})),
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

/// The token endpoint (see the module docs).
async fn token(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let form: Vec<(String, String)> = form_pairs(&body);
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let refresh = field("refresh_token").unwrap_or_default();
    let known = field("grant_type").as_deref() == Some("refresh_token")
        && lock(&shared.refresh_tokens).contains(&refresh);
    if !known {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"error": "invalid_grant", "error_description": "refresh token revoked"}),
            ),
        )
            .into_response();
    }
    let n = shared.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let prefix = lock(&shared.prefix).clone();
    let access = format!("{prefix}-{n}");
    lock(&shared.accepted).insert(access.clone());
    let mut answer = json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600});
    if shared.rotate.load(Ordering::SeqCst) {
        let rotated = format!("{prefix}-refresh-{n}");
        let mut known = lock(&shared.refresh_tokens);
        known.remove(&refresh);
        known.insert(rotated.clone());
        answer["refresh_token"] = Value::String(rotated);
    }
    shared.grants.fetch_add(1, Ordering::SeqCst);
    axum::Json(answer).into_response()
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn form_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The MCP server's tools.
#[derive(Debug, Clone)]
struct Tools {
    shared: Arc<Shared>,
}

fn schema(value: Value) -> Arc<serde_json::Map<String, Value>> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::default(),
    }
}

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            Tool::new(
                "echo",
                "Echoes the text it is given.",
                schema(json!({"type": "object",
                    "properties": {"text": {"type": "string"}}, "required": ["text"]})),
            ),
            Tool::new(
                "fail",
                "Always fails.",
                schema(json!({"type": "object", "properties": {}})),
            ),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.shared.tool_calls.fetch_add(1, Ordering::SeqCst);
        let result = match request.name.as_ref() {
            "echo" => {
                let text = request
                    .arguments
                    .as_ref()
                    .and_then(|a| a.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                CallToolResult::success(vec![ContentBlock::text(format!("echo: {text}"))])
            }
            "fail" => CallToolResult::error(vec![ContentBlock::text("the fail tool always fails")]),
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no such tool: {other}"),
                    None,
                ));
            }
        };
        Ok(result.into())
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn form_values_are_percent_decoded() {
        assert_eq!(percent_decode("a%2Bb+c%3D"), "a+b c=");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
