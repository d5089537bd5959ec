//! [`ResponseFuture`] of [`Trace`](super::Trace).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tracing::Span;

use crate::error::Error;
use crate::http::ApiResponse;

pin_project! {
    /// Polls the inner future inside the call's span and records the outcome.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Span,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, span: Span) -> Self {
        Self { inner, span }
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ApiResponse, Error>>,
{
    type Output = Result<ApiResponse, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let outcome = ready!(this.inner.poll(cx));
        match &outcome {
            Ok(response) => {
                this.span.record("status", response.status.as_u16());
                if let Some(id) = response.request_id() {
                    this.span.record("request_id", id);
                }
                tracing::debug!(status = response.status.as_u16(), "response received");
            }
            Err(error) => {
                tracing::debug!(%error, "request failed");
            }
        }
        Poll::Ready(outcome)
    }
}
