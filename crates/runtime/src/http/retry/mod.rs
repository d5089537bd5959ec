//! Retries with exponential backoff, jitter and the server's `retry-after` hints.
//!
//! Two parts, kept apart so each can be reused or replaced:
//! * the classifier [`should_retry`] looks at one attempt's outcome and says
//!   [`RetryAction::Retry`] (with the delay the server asked for) or [`RetryAction::DontRetry`];
//! * the [`RetryPolicy`] counts retries and computes the wait.
//!
//! # Which requests are retried
//!
//! The API has no idempotency header, so a request whose effect could be duplicated
//! ([`RetrySafety::NotIdempotent`](super::RetrySafety::NotIdempotent): creates, sending events)
//! is retried only when the failure shows the server did not process it:
//!
//! | Outcome | Idempotent | Not idempotent |
//! |---|---|---|
//! | connect error (nothing sent) | retry | retry |
//! | `x-should-retry: true` | retry | retry (the server says it is safe) |
//! | `x-should-retry: false` | no | no |
//! | 429 rate limited, 529 overloaded | retry | retry (rejected before processing) |
//! | 503 with `retry-after`/`retry-after-ms` | retry | retry (load shedding) |
//! | 408, 409, other 5xx | retry | no (may have been processed) |
//! | connection dropped after sending, attempt timeout | retry | no |
//! | other 4xx, total timeout, build and decode errors | no | no |
//!
//! Idempotent requests follow the official SDK (408, 409, 429 and every 5xx, unless
//! `x-should-retry` says otherwise).
//!
//! # Delay
//!
//! `retry-after-ms` (milliseconds), else `retry-after` (seconds or an HTTP date), when positive
//! and at most [`RetryPolicy::max_server_delay`] (60 s by default, as the Python SDK); else
//! `min(initial · 2^n, max)` minus up to 25 % jitter (0.5 s, 1 s, 2 s, … capped at 8 s).

mod future;
mod layer;
mod policy;

use std::task::{Context, Poll};

use tower::Service;

use super::{ApiRequest, ApiResponse};
use crate::error::Error;

pub use future::ResponseFuture;
pub use layer::RetryLayer;
pub use policy::{Classifier, RetryAction, RetryPolicy, RetryReason, server_delay, should_retry};

/// Sends a request again while the classifier says so and the policy allows.
#[derive(Debug, Clone)]
pub struct Retry<S> {
    inner: S,
    policy: RetryPolicy,
}

impl<S> Retry<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
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

impl<S> Service<ApiRequest> for Retry<S>
where
    S: Service<ApiRequest, Response = ApiResponse, Error = Error> + Clone,
{
    type Response = ApiResponse;
    type Error = Error;
    type Future = ResponseFuture<S, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ApiRequest) -> Self::Future {
        // The ready service takes this call; later attempts go through `poll_ready` again.
        let clone = self.inner.clone();
        let service = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::start(service, request, self.policy.clone())
    }
}
