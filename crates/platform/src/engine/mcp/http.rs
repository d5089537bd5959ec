//! The HTTP side of the MCP client: rmcp's [`StreamableHttpClient`] over the platform's own
//! `reqwest` 0.12 client, with the session's credential injected.
//!
//! rmcp's built-in client is `reqwest` 0.13; this small implementation keeps the workspace on
//! one `reqwest` and is the **one place a token is attached**: every request asks the
//! [`TokenBroker`] for the bearer of the server ([`TokenBroker::bearer`], which refreshes an
//! `mcp_oauth` token near its expiry) and sends it as `Authorization` (a header value marked
//! sensitive, so `Debug` output and logs show none of it). rmcp never sees a token (the
//! transport's own `auth_header` is not used). A `401` answer triggers
//! [`TokenBroker::refresh_after_unauthorized`] and one retry of the same request; a second
//! `401` is final.
//!
//! When the broker refuses (no credential, refresh failed), or the server rejects the token,
//! the failure is kept in the connection's [`AuthState`] as well as returned, because rmcp
//! folds transport errors into its own, less precise, ones: the engine reports what
//! [`AuthState::take_failure`] says.
//!
//! Response handling follows rmcp's `reqwest` client: `202`/`204` is accepted, a JSON body is
//! one JSON-RPC message (at most [`StreamableHttpResponseLimits::max_json_response_size`]
//! bytes), `text/event-stream` is an SSE stream, `404` on a session is an expired session,
//! `429`/`5xx` become [`HttpStatusError`]s, a JSON-RPC error in a failed response is passed on
//! as a message. Redirects are not followed (a redirect would carry the token elsewhere).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    HttpStatusError, SseError, StreamableHttpClient, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use sse_stream::{Sse, SseStream};
use steward_core::{CredentialId, VaultId};

use crate::vaults::{Bearer, TokenBroker, TokenError};

const SESSION_ID: &str = "mcp-session-id";
const LAST_EVENT_ID: &str = "last-event-id";
const EVENT_STREAM: &str = "text/event-stream";
const JSON: &str = "application/json";

/// How long one HTTP exchange with an MCP server may take before it fails (connect timeout is
/// shorter).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why an MCP request failed on the HTTP side.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum HttpError {
    /// The broker had no token to give.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The server answered 401 to the token (after one refresh, if the credential has one).
    #[error("the server rejected the credential `{credential_id}` (HTTP 401)")]
    Unauthorized {
        /// The credential sent.
        credential_id: CredentialId,
    },
    /// The server could not be reached, or the exchange broke off.
    #[error("{0}")]
    Transport(String),
}

/// The credential side of one MCP connection: the session's vaults, the server, and the last
/// failure.
#[derive(Debug)]
pub(crate) struct AuthState {
    tokens: TokenBroker,
    vault_ids: Vec<VaultId>,
    server_url: String,
    failure: Mutex<Option<HttpError>>,
}

impl AuthState {
    /// The credential side of a connection to `server_url` for a session with `vault_ids`.
    pub(crate) fn new(tokens: TokenBroker, vault_ids: Vec<VaultId>, server_url: String) -> Self {
        Self {
            tokens,
            vault_ids,
            server_url,
            failure: Mutex::new(None),
        }
    }

    /// The failure of the last request that failed on the credential, taken.
    pub(crate) fn take_failure(&self) -> Option<HttpError> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn fail(&self, error: HttpError) -> HttpError {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
        error
    }

    /// The bearer to send now.
    async fn bearer(&self) -> std::result::Result<Bearer, HttpError> {
        self.tokens
            .bearer(&self.vault_ids, &self.server_url)
            .await
            .map_err(|e| self.fail(HttpError::Token(e)))
    }
}

/// rmcp's HTTP client interface over the platform's `reqwest` client, with the session's
/// credential (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct AuthedClient {
    http: reqwest::Client,
    auth: Arc<AuthState>,
}

/// The `reqwest` client of MCP connections: no redirects, bounded waits.
pub(crate) fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(REQUEST_TIMEOUT)
        .build()
}

type Result<T> = std::result::Result<T, StreamableHttpError<HttpError>>;

fn transport(error: &reqwest::Error) -> StreamableHttpError<HttpError> {
    StreamableHttpError::Client(HttpError::Transport(describe(error)))
}

/// A `reqwest` error without its URL, with its causes.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "the request timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    let mut last = String::new();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !cause_text.is_empty() && cause_text != last {
            text.push_str(": ");
            text.push_str(&cause_text);
            last = cause_text;
        }
        source = cause.source();
    }
    text
}

fn media_type_is(value: &HeaderValue, expected: &str) -> bool {
    value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

impl AuthedClient {
    /// A client for one connection.
    pub(crate) fn new(http: reqwest::Client, auth: Arc<AuthState>) -> Self {
        Self { http, auth }
    }

    /// Sends a request built by `build` with the bearer; on 401 refreshes and sends it again
    /// once.
    async fn send(&self, build: impl Fn() -> reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let bearer = self
            .auth
            .bearer()
            .await
            .map_err(StreamableHttpError::Client)?;
        let response = build()
            .header(AUTHORIZATION, bearer.header_value())
            .send()
            .await
            .map_err(|e| transport(&e))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        drop(response);
        tracing::debug!(credential_id = %bearer.credential_id, "the MCP server answered 401; refreshing the token");
        let fresh = match self.auth.tokens.refresh_after_unauthorized(&bearer).await {
            Ok(fresh) => fresh,
            Err(TokenError::NotRefreshable { credential_id }) => {
                return Err(StreamableHttpError::Client(
                    self.auth.fail(HttpError::Unauthorized { credential_id }),
                ));
            }
            Err(error) => {
                return Err(StreamableHttpError::Client(
                    self.auth.fail(HttpError::Token(error)),
                ));
            }
        };
        let response = build()
            .header(AUTHORIZATION, fresh.header_value())
            .send()
            .await
            .map_err(|e| transport(&e))?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(StreamableHttpError::Client(self.auth.fail(
                HttpError::Unauthorized {
                    credential_id: fresh.credential_id,
                },
            )));
        }
        Ok(response)
    }
}

/// Adds rmcp's protocol headers (it never passes `Authorization` here: the transport's
/// `auth_header` is unset).
fn with_headers(
    mut builder: reqwest::RequestBuilder,
    headers: &HashMap<HeaderName, HeaderValue>,
) -> reqwest::RequestBuilder {
    for (name, value) in headers {
        if name != AUTHORIZATION {
            builder = builder.header(name, value.clone());
        }
    }
    builder
}

/// Reads a whole body of at most `limit` bytes.
async fn read_limited(response: reqwest::Response, limit: usize) -> Result<Vec<u8>> {
    if response
        .content_length()
        .is_some_and(|len| usize::try_from(len).map_or(true, |len| len > limit))
    {
        return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: limit });
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| transport(&e))?;
        if body.len() + chunk.len() > limit {
            return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn sse(response: reqwest::Response) -> BoxStream<'static, std::result::Result<Sse, SseError>> {
    SseStream::from_bytes_stream(response.bytes_stream()).boxed()
}

fn status_error(status: StatusCode, response: &reqwest::Response) -> Option<HttpStatusError> {
    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
        return None;
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Some(HttpStatusError::new(status.as_u16(), retry_after))
}

impl StreamableHttpClient for AuthedClient {
    type Error = HttpError;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            None,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse> {
        let body = serde_json::to_vec(&message)?;
        let awaits_no_response = !matches!(message, ClientJsonRpcMessage::Request(_));
        let response = self
            .send(|| {
                let mut builder = self
                    .http
                    .post(uri.as_ref())
                    .header(ACCEPT, format!("{EVENT_STREAM}, {JSON}"))
                    .header(CONTENT_TYPE, JSON)
                    .body(body.clone());
                if let Some(session_id) = &session_id {
                    builder = builder.header(SESSION_ID, session_id.as_ref());
                }
                with_headers(builder, &custom_headers)
            })
            .await?;
        let status = response.status();
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_id.is_some() {
            return Err(StreamableHttpError::SessionExpired);
        }
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        let is_json = content_type
            .as_ref()
            .is_some_and(|ct| media_type_is(ct, JSON));
        let new_session = response
            .headers()
            .get(SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !status.is_success() {
            let status_error = status_error(status, &response);
            if is_json && status != StatusCode::TOO_MANY_REQUESTS {
                let body = read_limited(response, limits.max_json_response_size).await?;
                if let Ok(message @ JsonRpcMessage::Error(_)) =
                    serde_json::from_slice::<ServerJsonRpcMessage>(&body)
                {
                    return Ok(StreamableHttpPostResponse::Json(message, new_session));
                }
            }
            if let Some(error) = status_error {
                return Err(error.into());
            }
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                format!("HTTP {status}"),
            )));
        }
        if status.is_success() && response.content_length() == Some(0) && awaits_no_response {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        match content_type {
            Some(ct) if media_type_is(&ct, EVENT_STREAM) => {
                Ok(StreamableHttpPostResponse::Sse(sse(response), new_session))
            }
            Some(ct) if media_type_is(&ct, JSON) => {
                let body = read_limited(response, limits.max_json_response_size).await?;
                match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
                    Ok(message) => Ok(StreamableHttpPostResponse::Json(message, new_session)),
                    Err(_) if awaits_no_response => Ok(StreamableHttpPostResponse::Accepted),
                    Err(e) => Err(StreamableHttpError::Deserialize(e)),
                }
            }
            _ if awaits_no_response => Ok(StreamableHttpPostResponse::Accepted),
            other => {
                Err(StreamableHttpError::UnexpectedContentType(other.map(|v| {
                    String::from_utf8_lossy(v.as_bytes()).into_owned()
                })))
            }
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<()> {
        let response = self
            .send(|| {
                let builder = self
                    .http
                    .delete(uri.as_ref())
                    .header(SESSION_ID, session_id.as_ref());
                with_headers(builder, &custom_headers)
            })
            .await?;
        let status = response.status();
        if status.is_success() || status == StatusCode::METHOD_NOT_ALLOWED {
            return Ok(());
        }
        Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
            format!("HTTP {status}"),
        )))
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, std::result::Result<Sse, SseError>>> {
        let response = self
            .send(|| {
                let mut builder = self
                    .http
                    .get(uri.as_ref())
                    .header(ACCEPT, format!("{EVENT_STREAM}, {JSON}"));
                if let Some(session_id) = &session_id {
                    builder = builder.header(SESSION_ID, session_id.as_ref());
                }
                if let Some(last) = &last_event_id {
                    builder = builder.header(LAST_EVENT_ID, last.as_str());
                }
                with_headers(builder, &custom_headers)
            })
            .await?;
        let status = response.status();
        if status == StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if let Some(error) = status_error(status, &response) {
            return Err(error.into());
        }
        if !status.is_success() {
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                format!("HTTP {status}"),
            )));
        }
        match response.headers().get(CONTENT_TYPE) {
            Some(ct) if media_type_is(ct, EVENT_STREAM) || media_type_is(ct, JSON) => {
                Ok(sse(response))
            }
            other => {
                Err(StreamableHttpError::UnexpectedContentType(other.map(|v| {
                    String::from_utf8_lossy(v.as_bytes()).into_owned()
                })))
            }
        }
    }
}
