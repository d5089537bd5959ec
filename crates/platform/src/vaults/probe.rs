//! `POST …/credentials/{credential_id}/mcp_oauth_validate`: a live probe of an `mcp_oauth`
//! credential against its MCP server.
//!
//! What the probe does (and, as important, what it does not):
//! * It sends one MCP `initialize` JSON-RPC request to `mcp_server_url` with the stored access
//!   token as `Authorization: Bearer …` (plain HTTP POST, [`PROBE_TIMEOUT`] for the whole
//!   exchange, redirects not followed), and reads the reply as JSON or as an SSE stream. If
//!   the server opened an MCP session (`Mcp-Session-Id`), the probe ends it with a `DELETE`.
//! * It does **not** refresh the token on a 401, and does not go on to `tools/list`. The verdict
//!   is reported honestly in the API's shape:
//!
//! | Outcome of `initialize` | `status` | `mcp_probe` | `refresh` |
//! |---|---|---|---|
//! | a JSON-RPC `result` | `valid` | `null` | `null` |
//! | 401, no refresh token stored | `invalid` | the 401 | `{status: no_refresh_token}` |
//! | 401, a refresh token stored | `unknown` (a refresh might have recovered it; none was tried) | the 401 | `null` |
//! | 403 | `invalid` | the 403 | `null` |
//! | any other response (other status, JSON-RPC `error`, unreadable body) | `unknown` | that response | `null` |
//! | no response (connect error, DNS, TLS, timeout) | `unknown` | `http_response: null` | `null` |
//!
//! A captured body is cut to [`MAX_CAPTURED_BODY`] bytes (`body_truncated`) and has every
//! secret of the credential replaced by `[redacted]`, in case a server echoes the token.
//! Other credential types are a 400: only `mcp_oauth` has this endpoint.

use std::time::Duration;

use axum::extract::{Path, State};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};
use steward_core::vault::{
    CredentialAuth, CredentialValidation, CredentialValidationStatus, CredentialValidationType,
    McpProbe, ProbeHttpResponse, RefreshResult, RefreshStatus,
};
use steward_core::{CredentialId, VaultId};

use super::{CredentialSecrets, load_secrets};
use crate::error::{Error, Result};
use crate::extract::Json;
use crate::state::AppState;

/// Time allowed for the whole probe request, response body included.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of a response body kept in `http_response.body`.
pub const MAX_CAPTURED_BODY: usize = 4096;
/// Most bytes read from a response while looking for the JSON-RPC reply.
const MAX_READ: usize = 256 * 1024;
/// The MCP protocol version the probe offers.
const MCP_PROTOCOL_VERSION: &str = "2025-06-18";
/// The JSON-RPC `id` of the probe's request.
const REQUEST_ID: i64 = 1;

/// How the `initialize` request went.
#[derive(Debug)]
enum Outcome {
    /// A JSON-RPC `result` came back.
    Initialized,
    /// The server answered, but not with a result.
    Failed(ProbeHttpResponse),
    /// No response (connection, DNS, TLS, timeout).
    Unreachable,
}

pub(super) async fn validate(
    State(state): State<AppState>,
    Path((vault_id, id)): Path<(VaultId, CredentialId)>,
) -> Result<Json<CredentialValidation>> {
    let key = state.vault_key.clone();
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
    let outcome = initialize(
        &auth.mcp_server_url,
        access_token.expose(),
        &secrets.values(),
    )
    .await;
    tracing::debug!(credential_id = %id, outcome = outcome.label(), "probed an mcp_oauth credential");
    let (status, mcp_probe, refresh) = verdict(outcome, has_refresh_token);
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

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Self::Initialized => "initialized",
            Self::Failed(_) => "failed",
            Self::Unreachable => "unreachable",
        }
    }
}

/// The verdict for an outcome (see the table in the module docs).
fn verdict(
    outcome: Outcome,
    has_refresh_token: bool,
) -> (
    CredentialValidationStatus,
    Option<McpProbe>,
    Option<RefreshResult>,
) {
    let probe = |http_response| {
        Some(McpProbe {
            method: "initialize".to_owned(),
            http_response,
        })
    };
    match outcome {
        Outcome::Initialized => (CredentialValidationStatus::Valid, None, None),
        Outcome::Unreachable => (CredentialValidationStatus::Inconclusive, probe(None), None),
        Outcome::Failed(response) => match response.status_code {
            401 if has_refresh_token => (
                CredentialValidationStatus::Inconclusive,
                probe(Some(response)),
                None,
            ),
            401 => (
                CredentialValidationStatus::Invalid,
                probe(Some(response)),
                Some(RefreshResult {
                    status: RefreshStatus::NoRefreshToken,
                    http_response: None,
                }),
            ),
            403 => (
                CredentialValidationStatus::Invalid,
                probe(Some(response)),
                None,
            ),
            _ => (
                CredentialValidationStatus::Inconclusive,
                probe(Some(response)),
                None,
            ),
        },
    }
}

/// Sends `initialize` and reads the reply.
async fn initialize(url: &str, access_token: &str, secrets: &[&str]) -> Outcome {
    let client = match reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(_) => return Outcome::Unreachable,
    };
    let request = json!({
        "jsonrpc": "2.0",
        "id": REQUEST_ID,
        "method": "initialize",
        "params": {
            "protocolVersion": MCP_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "steward-platform", "version": env!("CARGO_PKG_VERSION")},
        },
    });
    let sent = client
        .post(url)
        .header(AUTHORIZATION, format!("Bearer {access_token}"))
        .header(ACCEPT, "application/json, text/event-stream")
        .json(&request)
        .send()
        .await;
    let Ok(mut response) = sent else {
        return Outcome::Unreachable;
    };
    let status = response.status();
    let headers = response.headers().clone();
    let event_stream = content_type(&headers).starts_with("text/event-stream");
    let mut body = Vec::new();
    let mut reply = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                // An SSE stream may stay open after the reply: stop as soon as it is in.
                if event_stream && status.is_success() {
                    reply = find_sse_reply(&body);
                    if reply.is_some() {
                        break;
                    }
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
    drop(response);
    end_session(&client, url, access_token, &headers).await;
    if status.is_success() {
        let reply = reply.or_else(|| {
            if event_stream {
                find_sse_reply(&body)
            } else {
                serde_json::from_slice::<Value>(&body).ok()
            }
        });
        if reply.as_ref().is_some_and(is_result) {
            return Outcome::Initialized;
        }
    }
    Outcome::Failed(capture(status.as_u16(), &headers, &body, secrets))
}

/// Ends the MCP session `initialize` may have opened (best effort).
async fn end_session(client: &reqwest::Client, url: &str, access_token: &str, headers: &HeaderMap) {
    let Some(session) = headers.get("mcp-session-id").cloned() else {
        return;
    };
    let _ = client
        .delete(url)
        .header(AUTHORIZATION, format!("Bearer {access_token}"))
        .header("mcp-session-id", session)
        .timeout(Duration::from_secs(2))
        .send()
        .await;
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Whether a JSON-RPC message is the successful reply to the probe.
fn is_result(message: &Value) -> bool {
    message.get("id").and_then(Value::as_i64) == Some(REQUEST_ID) && message.get("result").is_some()
}

/// The JSON-RPC reply to the probe (result or error) among the complete events of an SSE body.
fn find_sse_reply(body: &[u8]) -> Option<Value> {
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
        let is_reply = message.get("id").and_then(Value::as_i64) == Some(REQUEST_ID)
            && (message.get("result").is_some() || message.get("error").is_some());
        is_reply.then_some(message)
    })
}

/// A response as the validation reports it: truncated, with the credential's secrets scrubbed.
fn capture(
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
        assert!(find_sse_reply(partial).is_none());
        let complete = b": ping\n\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata: \"id\":1,\"result\":{}}\r\n\r\n";
        assert!(is_result(&find_sse_reply(complete).unwrap()));
        let other = b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n";
        assert!(find_sse_reply(other).is_none());
        let error = b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-1}}\n\n";
        assert!(!is_result(&find_sse_reply(error).unwrap()));
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
        use CredentialValidationStatus as S;
        assert_eq!(verdict(Outcome::Initialized, false), (S::Valid, None, None));
        let (status, probe, refresh) = verdict(Outcome::Failed(response(401)), false);
        assert_eq!(status, S::Invalid);
        assert_eq!(probe.unwrap().method, "initialize");
        assert_eq!(refresh.unwrap().status, RefreshStatus::NoRefreshToken);
        let (status, _, refresh) = verdict(Outcome::Failed(response(401)), true);
        assert_eq!((status, refresh), (S::Inconclusive, None));
        assert_eq!(verdict(Outcome::Failed(response(403)), true).0, S::Invalid);
        assert_eq!(
            verdict(Outcome::Failed(response(500)), false).0,
            S::Inconclusive
        );
        let (status, probe, _) = verdict(Outcome::Unreachable, false);
        assert_eq!(status, S::Inconclusive);
        assert_eq!(probe.unwrap().http_response, None);
    }
}
