//! The request path: a `tower` stack around a replayable request.
//!
//! A call becomes one [`ApiRequest`] (method, URL, headers, body as [`Bytes`]), which is cheap to
//! clone, so the retry layer can send it again. The stack, outermost first (see
//! `MIDDLEWARE.md`):
//!
//! ```text
//! trace          one span per call: method, route, status, request_id, attempt
//! timeout        total deadline, all attempts and waits (TimeoutScope::Total)
//! retry          classify (should_retry) + back off (RetryPolicy)
//! rate limit     optional requests-per-minute budgets per class (token buckets, jittered)
//! concurrency    optional limit on attempts in flight
//! timeout        deadline of one attempt (TimeoutScope::Attempt)
//! user layers    ClientBuilder::layer, first added = outermost; see every attempt
//! auth           adds x-api-key (marked sensitive); user layers never see the key
//! transport      reqwest (or ClientBuilder::transport)
//! ```
//!
//! Every service in the stack is a `Service<ApiRequest, Response = ApiResponse, Error = Error>`.

pub mod auth;
pub mod rate_limit;
pub mod retry;
pub(crate) mod stack;
pub mod timeout;
pub mod trace;
mod transport;

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::{HeaderMap, Method, StatusCode};
use tower::util::BoxCloneSyncService;

use crate::error::Error;

pub use transport::ReqwestService;

/// The type-erased service every layer wraps and returns.
pub type HttpService = BoxCloneSyncService<ApiRequest, ApiResponse, Error>;

/// A stream of body chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// Whether a request may be sent again after a failure that might have come after the server
/// processed it. See [`retry`] for how this decides retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetrySafety {
    /// Sending it twice has the same effect as once (GET, DELETE, updates, archive).
    #[default]
    Idempotent,
    /// Sending it twice could do it twice (create, send events): retried only when the failure
    /// shows the server did not process it.
    NotIdempotent,
}

/// How the transport hands back a successful body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResponseMode {
    /// Read the whole body inside the attempt (so the attempt timeout covers it, and a body cut
    /// short is retried like any transport failure).
    #[default]
    Buffered,
    /// Hand back the body as a stream once the headers arrived (SSE). Error bodies (non-2xx)
    /// are still read whole.
    Streaming,
}

/// A replayable request: everything needed to send it again.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// The full URL, query included.
    pub url: reqwest::Url,
    /// The route template for logs and metrics, such as `/v1/sessions/{session_id}`.
    pub route: Cow<'static, str>,
    /// Headers (without the API key, which the auth layer adds last).
    pub headers: HeaderMap,
    /// The body; `None` sends no body at all.
    pub body: Option<Bytes>,
    /// Whether a retry could duplicate the request's effect.
    pub retry_safety: RetrySafety,
    /// Buffered or streamed response body.
    pub response_mode: ResponseMode,
    /// The attempt number, from 1; the retry layer sets it.
    pub attempt: u32,
}

impl ApiRequest {
    /// A request with no headers and no body, first attempt.
    pub fn new(method: Method, url: reqwest::Url) -> Self {
        Self {
            route: Cow::Owned(url.path().to_owned()),
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            retry_safety: RetrySafety::default(),
            response_mode: ResponseMode::default(),
            attempt: 1,
        }
    }
}

/// A response as it leaves the transport.
pub struct ApiResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, whole or streaming.
    pub body: ResponseBody,
}

impl fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

impl ApiResponse {
    /// A response with a whole body.
    pub fn new(status: StatusCode, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers,
            body: ResponseBody::Full(body.into()),
        }
    }

    /// The `request-id` header, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.headers.get("request-id").and_then(|v| v.to_str().ok())
    }

    /// The body as bytes, reading a stream to its end.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        match self.body {
            ResponseBody::Full(bytes) => Ok(bytes),
            ResponseBody::Stream(mut stream) => {
                let mut all = Vec::new();
                while let Some(chunk) = stream.next().await {
                    all.extend_from_slice(&chunk?);
                }
                Ok(Bytes::from(all))
            }
        }
    }

    /// The body as a stream of chunks (a whole body is one chunk).
    pub fn into_stream(self) -> ByteStream {
        match self.body {
            ResponseBody::Full(bytes) => Box::pin(futures::stream::iter(
                (!bytes.is_empty()).then_some(Ok(bytes)),
            )),
            ResponseBody::Stream(stream) => stream,
        }
    }
}

/// A response body.
pub enum ResponseBody {
    /// Read whole.
    Full(Bytes),
    /// Still arriving.
    Stream(ByteStream),
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(bytes) => write!(f, "Full({} bytes)", bytes.len()),
            Self::Stream(_) => f.write_str("Stream"),
        }
    }
}
