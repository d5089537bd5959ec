//! The one error type every handler returns, rendered in the API's error shape.
//!
//! [`Error`] carries an HTTP status and a [`steward_core::ApiError`] body. Rendering it produces
//! `{"type":"error","error":{"type","message",…},"request_id":…}` with the request ID of the
//! request being answered (see [`crate::envelope`]), and adds `x-should-retry: false` to every
//! 409 so the SDK does not retry a conflict that will not go away.
//!
//! Build errors with the constructors named for the status (`Error::invalid_request`,
//! `Error::not_found`, `Error::conflict`, …) and refine them with [`Error::with_code`] and
//! [`Error::with_detail`]. Database and serialization failures convert into a 500 `api_error`
//! with `?`; their detail is logged, never sent.

use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use steward_core::error::ErrorDetails;
use steward_core::{ApiError, ErrorResponse, ErrorType};

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The header the SDK reads to decide whether to retry.
pub const SHOULD_RETRY_HEADER: &str = "x-should-retry";

/// An error answered to the client: a status and the API's error body.
///
/// Boxed inside, so that `Result<T, Error>` stays small.
#[derive(Debug)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    body: ApiError,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// Marks a response whose body is already in the API's error shape, so
/// [`crate::envelope`] leaves it alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shaped;

impl Error {
    /// An error with any status and type.
    pub fn new(status: StatusCode, error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                status,
                body: ErrorResponse::new(error_type, message).error,
                source: None,
            }),
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorType::InvalidRequest, message)
    }

    /// 401 `authentication_error`.
    pub fn authentication(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorType::Authentication, message)
    }

    /// 403 `permission_error`.
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorType::Permission, message)
    }

    /// 404 `not_found_error` with a free message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorType::NotFound, message)
    }

    /// 404 `not_found_error` for an object: "agent `agent_…` not found".
    pub fn object_not_found(kind: &str, id: impl fmt::Display) -> Self {
        Self::not_found(format!("{kind} `{id}` not found"))
    }

    /// 409 `conflict_error` (sent with `x-should-retry: false`).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorType::Conflict, message)
    }

    /// 413 `invalid_request_error` with `details.error_code = "request_too_large"` (the SDK's
    /// `ErrorType` list has no type of its own for 413; it maps the status).
    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::InvalidRequest,
            format!("request body exceeds the maximum of {limit_bytes} bytes"),
        )
        .with_code("request_too_large")
    }

    /// 500 `api_error`. The source is logged when the error is rendered, never sent.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::Api,
            "internal server error",
        );
        error.inner.source = Some(source.into());
        error
    }

    /// Sets `error.details.error_code` (for example `invalid_metadata`).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.details().error_code = Some(code.into());
        self
    }

    /// Adds a field to `error.details` (for example `current_state`).
    pub fn with_detail(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.details().extra.insert(key.into(), value);
        self
    }

    /// Mutable access to the body, for fields outside `details` (such as `conflicting_path`).
    pub fn body_mut(&mut self) -> &mut ApiError {
        &mut self.inner.body
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.inner.status
    }

    /// The `error` object of the body.
    pub fn body(&self) -> &ApiError {
        &self.inner.body
    }

    /// `error.details.error_code`, if set.
    pub fn code(&self) -> Option<&str> {
        self.inner.body.details.as_ref()?.error_code.as_deref()
    }

    fn details(&mut self) -> &mut ErrorDetails {
        self.inner.body.details.get_or_insert_with(|| ErrorDetails {
            error_code: None,
            extra: serde_json::Map::new(),
        })
    }

    /// The error for a status that has no richer error attached (axum's own rejections,
    /// unknown routes): the type that goes with the status and the given message.
    pub(crate) fn from_status(status: StatusCode, message: impl Into<String>) -> Self {
        let error_type = match status.as_u16() {
            401 => ErrorType::Authentication,
            402 => ErrorType::Billing,
            403 => ErrorType::Permission,
            404 => ErrorType::NotFound,
            408 => ErrorType::Timeout,
            409 => ErrorType::Conflict,
            429 => ErrorType::RateLimit,
            529 => ErrorType::Overloaded,
            500..=599 => ErrorType::Api,
            _ => ErrorType::InvalidRequest,
        };
        Self::new(status, error_type, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        write!(
            f,
            "{} {}: {}",
            inner.status.as_u16(),
            inner.body.error_type,
            inner.body.message
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let Inner {
            status,
            body,
            source,
        } = *self.inner;
        if let Some(source) = &source {
            tracing::error!(error = %source, "request failed");
        }
        let body = ErrorResponse {
            kind: "error".to_owned(),
            error: body,
            request_id: crate::envelope::current_request_id(),
        };
        let bytes = match serde_json::to_vec(&body) {
            Ok(bytes) => bytes,
            Err(_) => br#"{"type":"error","error":{"type":"api_error","message":"internal server error"},"request_id":null}"#.to_vec(),
        };
        let mut response = (status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if status == StatusCode::CONFLICT {
            headers.insert(SHOULD_RETRY_HEADER, HeaderValue::from_static("false"));
        }
        response.extensions_mut().insert(Shaped);
        response
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::internal(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::internal(e)
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(e)
    }
}

/// Why the platform could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No data directory was given and the platform has no default one.
    #[error("no data directory: pass one explicitly")]
    NoDataDir,
    /// A file or directory could not be created or read.
    #[error("failed to access {path}")]
    Io {
        /// The path involved.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The listen address could not be bound.
    #[error("failed to listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or migrated.
    #[error("failed to open the database")]
    Database(#[source] rusqlite::Error),
    /// The database holds a schema this build does not know.
    #[error("database schema mismatch: {0}")]
    Schema(String),
    /// Setting up the platform failed in some other way.
    #[error("failed to set up the platform")]
    Setup(#[source] Error),
}

impl From<rusqlite::Error> for StartError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(e)
    }
}
