//! The one error type of the client, grouped by what the caller can do about it.
//!
//! Each variant says whether the request may have reached the server, because that decides
//! whether repeating it is safe (see [`crate::http::retry`]). Messages are lowercase fragments
//! and keep their `#[source]` chain; no variant holds the API key, and the key is never part of
//! a URL, so neither `Debug` nor `Display` can show it.

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use steward_core::{ApiError, ErrorResponse, ErrorType};

/// A boxed error from a transport or a custom layer.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A specialised `Result` for client calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client configuration is invalid (bad base URL, missing key). Nothing was sent.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The request could not be built: its body or query did not serialize, or a header value
    /// was invalid. Nothing was sent.
    #[error("failed to build request")]
    Build(#[source] BoxError),
    /// No connection could be made. Nothing was sent, so any request may be repeated.
    #[error("failed to connect")]
    Connect(#[source] BoxError),
    /// The connection failed after the request may have been sent (reset, closed early, body
    /// read failed). The server may have processed it.
    #[error("failed to send request or read the response")]
    Transport(#[source] BoxError),
    /// A deadline passed. For [`TimeoutScope::Attempt`] and [`TimeoutScope::Total`] the server
    /// may have processed the request.
    #[error("{scope} timed out after {after:?}")]
    Timeout {
        /// Which deadline passed.
        scope: TimeoutScope,
        /// The configured duration.
        after: Duration,
    },
    /// The API answered with an error: a non-2xx status, or an `event: error` on a stream.
    #[error(transparent)]
    Api(Box<ApiErrorInfo>),
    /// A 2xx response or a stream event was not the JSON expected.
    #[error("failed to decode {what}")]
    Decode {
        /// What was being decoded, such as `response of GET /v1/agents` or `event agent.message`.
        what: String,
        /// The JSON error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A custom layer added with [`ClientBuilder::layer`](crate::ClientBuilder::layer) failed.
    /// Never retried.
    #[error("custom layer failed")]
    Layer(#[source] BoxError),
}

impl Error {
    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiErrorInfo> {
        match self {
            Self::Api(info) => Some(info),
            _ => None,
        }
    }

    /// The HTTP status of an API error (`None` for other errors and for stream `event: error`).
    pub fn status(&self) -> Option<StatusCode> {
        self.api().and_then(|info| info.status)
    }

    /// The `request-id` of an API error, when the server sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(|info| info.request_id.as_deref())
    }

    /// The `error.type` of an API error, when the body carried the error envelope.
    pub fn error_type(&self) -> Option<&ErrorType> {
        self.api().and_then(|info| info.error_type.as_ref())
    }

    /// Whether a deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// Whether the request certainly did not reach the server.
    pub fn is_not_sent(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Build(_) | Self::Connect(_))
    }

    pub(crate) fn decode(what: impl Into<String>, source: serde_json::Error) -> Self {
        Self::Decode {
            what: what.into(),
            source,
        }
    }
}

/// Which deadline a [`Error::Timeout`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutScope {
    /// One attempt: from sending until the response headers (and, for JSON calls, the whole
    /// body) arrived.
    Attempt,
    /// The whole call, all attempts and the waits between them.
    Total,
    /// The wait for the next event of a stream.
    Idle,
}

impl fmt::Display for TimeoutScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Attempt => "request attempt",
            Self::Total => "request",
            Self::Idle => "event stream",
        })
    }
}

/// What the API said went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErrorInfo {
    /// The HTTP status; `None` for an `event: error` inside a stream.
    pub status: Option<StatusCode>,
    /// `error.type`, when the body was the API's error envelope.
    pub error_type: Option<ErrorType>,
    /// `error.message`, or the raw body (cut to 1 KiB) when it was not the envelope.
    pub message: String,
    /// The `request-id` header, else the body's `request_id`.
    pub request_id: Option<String>,
    /// The whole parsed `error` object, with `details` and conflict fields.
    pub error: Option<ApiError>,
}

/// The longest raw body kept as a message when the body is not the error envelope.
const MAX_RAW_MESSAGE: usize = 1024;

impl ApiErrorInfo {
    /// Builds the error of a non-2xx response from its status, headers and body.
    pub fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let header_id = headers
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut info = Self::from_body(body);
        info.status = Some(status);
        if header_id.is_some() {
            info.request_id = header_id;
        }
        if info.message.is_empty() {
            info.message = status
                .canonical_reason()
                .unwrap_or("no error message")
                .to_owned();
        }
        info
    }

    /// Builds the error of an `event: error` stream message from its `data`.
    pub fn from_event_data(data: &str) -> Self {
        Self::from_body(data.as_bytes())
    }

    fn from_body(body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorResponse>(body) {
            Ok(parsed) => Self {
                status: None,
                error_type: Some(parsed.error.error_type.clone()),
                message: parsed.error.message.clone(),
                request_id: parsed.request_id,
                error: Some(parsed.error),
            },
            Err(_) => Self {
                status: None,
                error_type: None,
                message: raw_message(body),
                request_id: None,
                error: None,
            },
        }
    }
}

fn raw_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.len() <= MAX_RAW_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_RAW_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl fmt::Display for ApiErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "api returned {}", status.as_u16())?,
            None => f.write_str("api sent an error event")?,
        }
        if let Some(kind) = &self.error_type {
            write!(f, " {kind}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request-id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiErrorInfo {}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn parses_the_envelope_and_prefers_the_header_request_id() {
        let mut headers = HeaderMap::new();
        headers.insert("request-id", "req_header".parse().unwrap());
        let body = br#"{"type":"error","error":{"type":"not_found_error","message":"no agent","details":{"error_code":"x"}},"request_id":"req_body"}"#;
        let info = ApiErrorInfo::from_response(StatusCode::NOT_FOUND, &headers, body);
        assert_eq!(info.status, Some(StatusCode::NOT_FOUND));
        assert_eq!(info.error_type, Some(ErrorType::NotFound));
        assert_eq!(info.message, "no agent");
        assert_eq!(info.request_id.as_deref(), Some("req_header"));
        let details = info
            .error
            .as_ref()
            .and_then(|e| e.details.as_ref())
            .unwrap();
        assert_eq!(details.error_code.as_deref(), Some("x"));
        assert_eq!(
            Error::Api(Box::new(info)).to_string(),
            "api returned 404 not_found_error: no agent (request-id req_header)"
        );
    }

    #[test]
    fn falls_back_to_the_body_request_id_and_raw_text() {
        let body = br#"{"type":"error","error":{"type":"brand_new_error","message":"m"},"request_id":"req_b"}"#;
        let info = ApiErrorInfo::from_response(StatusCode::CONFLICT, &HeaderMap::new(), body);
        assert_eq!(info.request_id.as_deref(), Some("req_b"));
        assert_eq!(
            info.error_type,
            Some(ErrorType::Unknown("brand_new_error".into()))
        );

        let info =
            ApiErrorInfo::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b" <html>");
        assert_eq!(info.error_type, None);
        assert_eq!(info.message, "<html>");

        let info = ApiErrorInfo::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"");
        assert_eq!(info.message, "Bad Gateway");

        let long = "é".repeat(2000);
        let info = ApiErrorInfo::from_response(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            long.as_bytes(),
        );
        assert!(info.message.len() <= MAX_RAW_MESSAGE + "…".len());
    }

    #[test]
    fn event_errors_have_no_status() {
        let info = ApiErrorInfo::from_event_data(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
        );
        assert_eq!(info.status, None);
        assert_eq!(
            info.to_string(),
            "api sent an error event overloaded_error: busy"
        );
    }
}
