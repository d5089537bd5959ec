//! One `tracing` span per call (all attempts), with `method`, `route`, `status`, `request_id`
//! and `attempt` fields.
//!
//! The span is named `steward_request` at `INFO` level. The retry layer records `attempt` and
//! logs each retry inside it; this layer records the final `status` and `request_id` and emits a
//! `DEBUG` event when the call ends. Nothing here logs headers or bodies, so the API key never
//! reaches a subscriber.

mod future;
mod layer;

use std::task::{Context, Poll};

use tower::Service;

use super::{ApiRequest, ApiResponse};
use crate::error::Error;

pub use future::ResponseFuture;
pub use layer::TraceLayer;

/// Wraps each call in a span.
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
}

impl<S> Trace<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> Service<ApiRequest> for Trace<S>
where
    S: Service<ApiRequest, Response = ApiResponse, Error = Error>,
{
    type Response = ApiResponse;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ApiRequest) -> Self::Future {
        let span = tracing::info_span!(
            "steward_request",
            method = %request.method,
            route = %request.route,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        let future = span.in_scope(|| self.inner.call(request));
        ResponseFuture::new(future, span)
    }
}
