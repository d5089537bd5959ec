//! What every response carries: a `request-id` header, and errors in the API's shape.
//!
//! The `envelope` middleware is the outermost layer. It assigns each request an ID
//! (`req_` + 24 base62 characters), makes it available to [`crate::Error`] rendering through
//! [`current_request_id`] (a task-local, so error bodies carry the same `request_id`), and sets
//! the `request-id` header on the response, successes and errors alike.
//!
//! It is also the safety net for errors the platform did not render itself (axum's plain-text
//! rejections such as a malformed path): any 4xx/5xx response without the `Shaped` marker is
//! rewritten into the API's error shape, keeping its status and its text as the message.
//! Unknown routes and wrong methods get their own handlers (`not_found`, `method_not_allowed`).

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::{Error, Shaped};

/// The response header holding the request ID.
pub const REQUEST_ID_HEADER: &str = "request-id";

/// How much of an unshaped error body is kept as the message.
const MAX_MESSAGE_BYTES: usize = 4096;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The ID of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The outermost middleware: request ID, error shaping, one log line per request.
pub(crate) async fn envelope(request: Request, next: Next) -> Response {
    let request_id = format!(
        "req_{}",
        crate::ids::random_base62(crate::ids::ID_RANDOM_LEN)
    );
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", %method, %path, request_id = %request_id);
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(
            request_id.clone(),
            async move { shape(next.run(request).await).await }.instrument(span.clone()),
        )
        .await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "handled request"
        );
    });
    response
}

/// Rewrites an error response the platform did not render into the API's error shape.
async fn shape(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<Shaped>().is_some()
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase()
    } else {
        text
    };
    let mut shaped = Error::from_status(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}

/// Router fallback: 404 for a path no route matches.
pub(crate) async fn not_found(method: Method, uri: Uri) -> Error {
    Error::not_found(format!("no route for {method} {}", uri.path()))
}

/// Method fallback: 405 for a path that exists with another method.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> Error {
    Error::new(
        StatusCode::METHOD_NOT_ALLOWED,
        steward_core::ErrorType::InvalidRequest,
        format!("method {method} is not allowed on {}", uri.path()),
    )
}
