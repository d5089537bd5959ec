//! `POST …/credentials/{credential_id}/mcp_oauth_validate`: a live probe of an `mcp_oauth`
//! credential against its MCP server.
//!
//! What the probe does:
//! * It speaks MCP's streamable HTTP transport as a plain JSON-RPC client, with the stored
//!   access token as `Authorization: Bearer …`: `initialize`, then the
//!   `notifications/initialized` notification, then `tools/list` (each POST with
//!   [`PROBE_TIMEOUT`], redirects not followed; replies read as JSON or as an SSE stream, which
//!   is left as soon as the reply is in). If the server opened an MCP session
//!   (`Mcp-Session-Id`), later requests carry it and the probe ends it with a `DELETE`.
//! * When a step answers 401 and the credential is refreshable, it refreshes the token through
//!   the [`TokenBroker`](super::TokenBroker) (so the new token is stored, and a refresh another
//!   session makes at the same time is shared), then runs the whole probe once more with the new
//!   token. A failed refresh marks the credential's `refresh_error` as any refresh does.
//!
//! The verdict, in the API's shape (`mcp_probe` is the failing step of the *last* probe run;
//! `refresh` the refresh attempted after a 401, if any):
//!
//! | What happened | `status` | `mcp_probe` | `refresh` |
//! |---|---|---|---|
//! | every step answered | `valid` | `null` | `null` |
//! | 401, no refresh settings or token | `invalid` | the 401 | `{status: no_refresh_token}` |
//! | 401, refresh succeeded, the retry answered every step | `valid` | `null` | `{status: succeeded}` |
//! | 401, refresh succeeded, the retry got 401 or 403 | `invalid` | the retry's response | `{status: succeeded}` |
//! | 401, refresh succeeded, the retry failed otherwise | `unknown` | the retry's failure | `{status: succeeded}` |
//! | 401, the token endpoint answered with an error | `invalid` | the 401 | `{status: failed, http_response}` |
//! | 401, the token endpoint could not be reached | `unknown` | the 401 | `{status: connect_error}` |
//! | 403 (no refresh is tried: the token was accepted, the access refused) | `invalid` | the 403 | `null` |
//! | any other response (other status, JSON-RPC `error`, unreadable body) | `unknown` | that response | `null` |
//! | no response (connect error, DNS, TLS, timeout) | `unknown` | `http_response: null` | `null` |
//!
//! A captured body is cut to [`MAX_CAPTURED_BODY`] bytes (`body_truncated`) and has every
//! secret of the credential (and a refreshed token) replaced by `[redacted]`, in case a server
//! echoes the token. Other credential types are a 400: only `mcp_oauth` has this endpoint.

use std::time::Duration;

use axum::extract::{Path, State};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use steward_core::vault::{
    CredentialAuth, CredentialValidation, CredentialValidationStatus, CredentialValidationType,
    McpProbe, ProbeHttpResponse, RefreshResult, RefreshStatus,
};
use steward_core::{CredentialId, VaultId};

use super::tokens::{Bearer, Refusal, refreshable};
use super::{CredentialSecrets, load_secrets};
use crate::error::{Error, Result};
use crate::extract::Json;
use crate::state::AppState;

/// Time allowed for each probe request, response body included.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of a response body kept in `http_response.body`.
pub const MAX_CAPTURED_BODY: usize = 4096;
/// Most bytes read from a response while looking for the JSON-RPC reply.
const MAX_READ: usize = 256 * 1024;
/// The MCP protocol version the probe offers.
const MCP_PROTOCOL_VERSION: &str = "2025-06-18";
/// The JSON-RPC `id` of `initialize`.
const INITIALIZE_ID: i64 = 1;
/// The JSON-RPC `id` of `tools/list`.
const TOOLS_LIST_ID: i64 = 2;

/// How one probe run went.
#[derive(Debug)]
enum Outcome {
    /// Every step answered as it should.
    Passed,
    /// A step answered, but not as it should.
    Failed(&'static str, ProbeHttpResponse),
    /// A step got no response (connection, DNS, TLS, timeout).
    Unreachable(&'static str),
}

/// How the refresh after a 401 went.
#[derive(Debug)]
enum Refreshed {
    /// Nothing to refresh with.
    NotRefreshable,
    /// A new token; the probe ran again with it.
    Succeeded(Outcome),
    /// The token endpoint answered with an error (its response, if captured).
    Failed(Option<ProbeHttpResponse>),
    /// The token endpoint could not be reached.
    ConnectError,
}

pub(super) async fn validate(
    State(state): State<AppState>,
    Path((vault_id, id)): Path<(VaultId, CredentialId)>,
) -> Result<Json<CredentialValidation>> {
    let key = state.vault_key.clone();
    let epoch = state.tokens.epoch(&id);
    let (credential, secrets) = {
        let (vault_id, id) = (vault_id.clone(), id.clone());
        state
            .db
            .read(move |conn| {
                super::handlers::require(conn, &vault_id)?;
                load_secrets(conn, &key, &vault_id, &id)?
                    .ok_or_else(|| Error::object_not_found("credential", &id))
            })
            .await?
    };
    let CredentialAuth::McpOauth(auth) = &credential.auth else {
        return Err(Error::invalid_request(format!(
            "credential `{id}` is `{}`; only `mcp_oauth` credentials can be validated",
            credential.auth.type_name()
        )));
    };
    let CredentialSecrets::McpOauth {
        access_token,
        refresh_token,
        ..
    } = &secrets
    else {
        return Err(Error::internal(
            "stored secrets do not match an `mcp_oauth` credential",
        ));
    };
    let has_refresh_token = refresh_token.is_some();
    let mut scrub: Vec<String> = secrets.values().into_iter().map(str::to_owned).collect();
    let client = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| Error::internal("cannot build the probe's HTTP client"))?;
    let url = auth.mcp_server_url.as_str();
    let first = match Bearer::new(&credential, access_token.clone(), epoch, url) {
        Ok(bearer) => probe(&client, url, &bearer.header_value(), &scrub).await,
        // A token that cannot go into a header cannot authenticate.
        Err(_) => Outcome::Failed("initialize", unsendable_token()),
    };
    let refreshed = match &first {
        Outcome::Failed(_, response) if response.status_code == 401 => {
            Some(if refreshable(auth, refresh_token.as_ref()) {
                match state
                    .tokens
                    .refresh_stale(&credential, access_token, epoch)
                    .await
                {
                    Ok(bearer) => {
                        scrub.push(bearer.secret().expose().to_owned());
                        Refreshed::Succeeded(
                            probe(&client, url, &bearer.header_value(), &scrub).await,
                        )
                    }
                    Err(Refusal::Failed(failure)) if failure.unreachable() => {
                        Refreshed::ConnectError
                    }
                    Err(Refusal::Failed(failure)) => Refreshed::Failed(failure.http_response),
                    Err(Refusal::NotRefreshable) => Refreshed::NotRefreshable,
                    Err(Refusal::Gone) => {
                        return Err(Error::object_not_found("credential", &id));
                    }
                    Err(Refusal::Internal(message)) => return Err(Error::internal(message)),
                }
            } else {
                Refreshed::NotRefreshable
            })
        }
        _ => None,
    };
    tracing::debug!(
        credential_id = %id,
        outcome = first.label(),
        refreshed = refreshed.as_ref().map(Refreshed::label),
        "probed an mcp_oauth credential"
    );
    let (status, mcp_probe, refresh) = verdict(first, refreshed);
    Ok(Json(CredentialValidation {
        kind: CredentialValidationType::VaultCredentialValidation,
        credential_id: id,
        vault_id,
        status,
        has_refresh_token,
        mcp_probe,
        refresh,
        validated_at: crate::clock::now(),
    }))
}

/// The capture reported when the stored token cannot be sent at all.
fn unsendable_token() -> ProbeHttpResponse {
    ProbeHttpResponse {
        status_code: 401,
        content_type: String::new(),
        body: "the stored access token is not a valid HTTP header value".to_owned(),
        body_truncated: false,
    }
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed(..) => "failed",
            Self::Unreachable(_) => "unreachable",
        }
    }
}

impl Refreshed {
    fn label(&self) -> &'static str {
        match self {
            Self::NotRefreshable => "not_refreshable",
            Self::Succeeded(_) => "succeeded",
            Self::Failed(_) => "failed",
            Self::ConnectError => "connect_error",
        }
    }
}

type Verdict = (
    CredentialValidationStatus,
    Option<McpProbe>,
    Option<RefreshResult>,
);

/// The verdict for a probe and the refresh after its 401 (see the table in the module docs).
fn verdict(first: Outcome, refreshed: Option<Refreshed>) -> Verdict {
    use CredentialValidationStatus as S;
    let refresh = |status, http_response| {
        Some(RefreshResult {
            status,
            http_response,
        })
    };
    let step = |method: &str, http_response| {
        Some(McpProbe {
            method: method.to_owned(),
            http_response,
        })
    };
    // The verdict of one probe run, with no refresh in the picture.
    let plain = |outcome: Outcome| match outcome {
        Outcome::Passed => (S::Valid, None),
        Outcome::Unreachable(method) => (S::Inconclusive, step(method, None)),
        Outcome::Failed(method, response) => {
            let status = if matches!(response.status_code, 401 | 403) {
                S::Invalid
            } else {
                S::Inconclusive
            };
            (status, step(method, Some(response)))
        }
    };
    match refreshed {
        None => {
            let (status, probe) = plain(first);
            (status, probe, None)
        }
        Some(Refreshed::Succeeded(retry)) => {
            let (status, probe) = plain(retry);
            (status, probe, refresh(RefreshStatus::Succeeded, None))
        }
        Some(other) => {
            let (status, probe) = plain(first);
            match other {
                Refreshed::NotRefreshable => {
                    (status, probe, refresh(RefreshStatus::NoRefreshToken, None))
                }
                Refreshed::Failed(response) => {
                    (S::Invalid, probe, refresh(RefreshStatus::Failed, response))
                }
                // `Succeeded` was matched above.
                Refreshed::ConnectError | Refreshed::Succeeded(_) => (
                    S::Inconclusive,
                    probe,
                    refresh(RefreshStatus::ConnectError, None),
                ),
            }
        }
    }
}

/// How one request of the probe went.
enum Step {
    /// A 2xx with the expected reply (for a notification: any 2xx); the response headers.
    Answered(HeaderMap),
    /// Any other response, captured.
    Failed(ProbeHttpResponse),
    /// No response.
    Unreachable,
}

/// Runs `initialize`, `notifications/initialized` and `tools/list` with `authorization`.
async fn probe(
    client: &reqwest::Client,
    url: &str,
    authorization: &HeaderValue,
    scrub: &[String],
) -> Outcome {
    let scrub: Vec<&str> = scrub.iter().map(String::as_str).collect();
    let mut exchange = Exchange {
        client,
        url,
        authorization,
        session: None,
        protocol_version: None,
        scrub: &scrub,
    };
    let initialize = json!({
        "jsonrpc": "2.0",
        "id": INITIALIZE_ID,
        "method": "initialize",
        "params": {
            "protocolVersion": MCP_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "steward-platform", "version": env!("CARGO_PKG_VERSION")},
        },
    });
    let outcome = async {
        let headers = match exchange.send(&initialize, Some(INITIALIZE_ID)).await {
            Step::Answered(headers) => headers,
            Step::Failed(response) => return Outcome::Failed("initialize", response),
            Step::Unreachable => return Outcome::Unreachable("initialize"),
        };
        exchange.session = headers.get("mcp-session-id").cloned();
        exchange.protocol_version = Some(MCP_PROTOCOL_VERSION);
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        const INITIALIZED: &str = "notifications/initialized";
        match exchange.send(&initialized, None).await {
            Step::Answered(_) => {}
            Step::Failed(response) => return Outcome::Failed(INITIALIZED, response),
            Step::Unreachable => return Outcome::Unreachable(INITIALIZED),
        }
        let list =
            json!({"jsonrpc": "2.0", "id": TOOLS_LIST_ID, "method": "tools/list", "params": {}});
        match exchange.send(&list, Some(TOOLS_LIST_ID)).await {
            Step::Answered(_) => Outcome::Passed,
            Step::Failed(response) => Outcome::Failed("tools/list", response),
            Step::Unreachable => Outcome::Unreachable("tools/list"),
        }
    }
    .await;
    exchange.end_session().await;
    outcome
}

/// The connection settings of one probe run.
struct Exchange<'a> {
    client: &'a reqwest::Client,
    url: &'a str,
    authorization: &'a HeaderValue,
    session: Option<HeaderValue>,
    protocol_version: Option<&'static str>,
    scrub: &'a [&'a str],
}

impl Exchange<'_> {
    fn request(&self, method: reqwest::Method) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .request(method, self.url)
            .header(AUTHORIZATION, self.authorization.clone());
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session.clone());
        }
        if let Some(version) = self.protocol_version {
            request = request.header("mcp-protocol-version", version);
        }
        request
    }

    /// Posts one JSON-RPC message; `reply_id` is the `id` of the expected result (`None` for a
    /// notification, which needs only a 2xx).
    async fn send(&self, message: &Value, reply_id: Option<i64>) -> Step {
        let sent = self
            .request(reqwest::Method::POST)
            .header(ACCEPT, "application/json, text/event-stream")
            .json(message)
            .send()
            .await;
        let Ok(mut response) = sent else {
            return Step::Unreachable;
        };
        let status = response.status();
        let headers = response.headers().clone();
        let event_stream = content_type(&headers).starts_with("text/event-stream");
        let Some(reply_id) = reply_id else {
            if status.is_success() {
                return Step::Answered(headers);
            }
            let body = read_body(&mut response, false, 0).await.0;
            return Step::Failed(capture(status.as_u16(), &headers, &body, self.scrub));
        };
        let (body, reply) =
            read_body(&mut response, event_stream && status.is_success(), reply_id).await;
        drop(response);
        if status.is_success() {
            let reply = reply.or_else(|| {
                if event_stream {
                    find_sse_reply(&body, reply_id)
                } else {
                    serde_json::from_slice::<Value>(&body).ok()
                }
            });
            if reply.as_ref().is_some_and(|r| is_result(r, reply_id)) {
                return Step::Answered(headers);
            }
        }
        Step::Failed(capture(status.as_u16(), &headers, &body, self.scrub))
    }

    /// Ends the MCP session the probe may have opened (best effort).
    async fn end_session(&self) {
        if self.session.is_none() {
            return;
        }
        let _ = self
            .request(reqwest::Method::DELETE)
            .timeout(Duration::from_secs(2))
            .send()
            .await;
    }
}

/// Reads a response body up to [`MAX_READ`]; with `sse`, stops as soon as the reply with
/// `reply_id` is in (an SSE stream may stay open after it) and returns it.
async fn read_body(
    response: &mut reqwest::Response,
    sse: bool,
    reply_id: i64,
) -> (Vec<u8>, Option<Value>) {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if sse && let Some(reply) = find_sse_reply(&body, reply_id) {
                    return (body, Some(reply));
                }
                if body.len() >= MAX_READ {
                    break;
                }
            }
            Ok(None) => break,
            // A body cut off by the timeout or the connection: judge what arrived.
            Err(_) => break,
        }
    }
    (body, None)
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Whether a JSON-RPC message is the successful reply with `id`.
fn is_result(message: &Value, id: i64) -> bool {
    message.get("id").and_then(Value::as_i64) == Some(id) && message.get("result").is_some()
}

/// The JSON-RPC reply with `id` (result or error) among the complete events of an SSE body.
fn find_sse_reply(body: &[u8], id: i64) -> Option<Value> {
    let text = String::from_utf8_lossy(body)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    // Only complete events (terminated by a blank line) count.
    let complete = &text[..text.rfind("\n\n")?];
    complete.split("\n\n").find_map(|event| {
        let data: Vec<&str> = event
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        let message: Value = serde_json::from_str(&data.join("\n")).ok()?;
        let is_reply = message.get("id").and_then(Value::as_i64) == Some(id)
            && (message.get("result").is_some() || message.get("error").is_some());
        is_reply.then_some(message)
    })
}

/// A response as the validation reports it: truncated, with the credential's secrets scrubbed.
pub(super) fn capture(
    status_code: u16,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[&str],
) -> ProbeHttpResponse {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret, "[redacted]");
    }
    let body_truncated = text.len() > MAX_CAPTURED_BODY;
    if body_truncated {
        let mut end = MAX_CAPTURED_BODY;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    ProbeHttpResponse {
        status_code,
        content_type: headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: text,
        body_truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_replies_are_found_only_when_complete() {
        let partial = b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";
        assert!(find_sse_reply(partial, 1).is_none());
        let complete = b": ping\n\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata: \"id\":1,\"result\":{}}\r\n\r\n";
        assert!(is_result(&find_sse_reply(complete, 1).unwrap(), 1));
        assert!(
            find_sse_reply(complete, 2).is_none(),
            "another id is not the reply"
        );
        let other = b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n";
        assert!(find_sse_reply(other, 1).is_none());
        let error = b"data: {\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-1}}\n\n";
        assert!(!is_result(&find_sse_reply(error, 2).unwrap(), 2));
    }

    #[test]
    fn captures_are_scrubbed_and_truncated() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        let body = format!("bad token tok-123 {}", "é".repeat(MAX_CAPTURED_BODY));
        let captured = capture(401, &headers, body.as_bytes(), &["tok-123"]);
        assert!(captured.body.starts_with("bad token [redacted] "));
        assert!(captured.body_truncated);
        assert!(captured.body.len() <= MAX_CAPTURED_BODY);
        assert_eq!(captured.content_type, "text/plain");
        let short = capture(500, &HeaderMap::new(), b"oops", &[]);
        assert_eq!(
            (
                short.body.as_str(),
                short.body_truncated,
                short.content_type.as_str()
            ),
            ("oops", false, "")
        );
    }

    #[test]
    fn verdicts() {
        let response = |code| ProbeHttpResponse {
            status_code: code,
            content_type: String::new(),
            body: String::new(),
            body_truncated: false,
        };
        let failed = |method, code| Outcome::Failed(method, response(code));
        use CredentialValidationStatus as S;
        assert_eq!(verdict(Outcome::Passed, None), (S::Valid, None, None));
        let (status, probe, refresh) =
            verdict(failed("initialize", 401), Some(Refreshed::NotRefreshable));
        assert_eq!(status, S::Invalid);
        assert_eq!(probe.unwrap().method, "initialize");
        assert_eq!(refresh.unwrap().status, RefreshStatus::NoRefreshToken);
        let (status, probe, refresh) = verdict(
            failed("tools/list", 401),
            Some(Refreshed::Succeeded(Outcome::Passed)),
        );
        assert_eq!((status, probe), (S::Valid, None));
        assert_eq!(refresh.unwrap().status, RefreshStatus::Succeeded);
        let (status, probe, _) = verdict(
            failed("initialize", 401),
            Some(Refreshed::Succeeded(failed("tools/list", 401))),
        );
        assert_eq!(status, S::Invalid);
        assert_eq!(probe.unwrap().method, "tools/list");
        let (status, _, _) = verdict(
            failed("initialize", 401),
            Some(Refreshed::Succeeded(Outcome::Unreachable("initialize"))),
        );
        assert_eq!(status, S::Inconclusive);
        let (status, probe, refresh) = verdict(
            failed("initialize", 401),
            Some(Refreshed::Failed(Some(response(400)))),
        );
        assert_eq!(status, S::Invalid);
        assert_eq!(probe.unwrap().http_response.unwrap().status_code, 401);
        let refresh = refresh.unwrap();
        assert_eq!(refresh.status, RefreshStatus::Failed);
        assert_eq!(refresh.http_response.unwrap().status_code, 400);
        let (status, _, refresh) =
            verdict(failed("initialize", 401), Some(Refreshed::ConnectError));
        assert_eq!(status, S::Inconclusive);
        assert_eq!(refresh.unwrap().status, RefreshStatus::ConnectError);
        assert_eq!(verdict(failed("initialize", 403), None).0, S::Invalid);
        assert_eq!(verdict(failed("tools/list", 500), None).0, S::Inconclusive);
        let (status, probe, _) = verdict(Outcome::Unreachable("initialize"), None);
        assert_eq!(status, S::Inconclusive);
        assert_eq!(probe.unwrap().http_response, None);
    }
}
