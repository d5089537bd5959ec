//! A deadline on the inner service's future, failing with [`Error::Timeout`].
//!
//! Used twice in the stack: around one attempt ([`TimeoutScope::Attempt`]) and around the whole
//! call with its retries ([`TimeoutScope::Total`]). Unlike `tower::timeout`, the error is the
//! client's own [`Error`], so the retry classifier can tell an attempt timeout apart.

mod future;
mod layer;

use std::task::{Context, Poll};
use std::time::Duration;

use tower::Service;

use crate::error::{Error, TimeoutScope};

pub use future::ResponseFuture;
pub use layer::TimeoutLayer;

/// Fails a call that takes longer than the deadline.
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    after: Duration,
    scope: TimeoutScope,
}

impl<S> Timeout<S> {
    /// Wraps `inner` with a deadline of `after`, reported as `scope`.
    pub fn new(inner: S, after: Duration, scope: TimeoutScope) -> Self {
        Self {
            inner,
            after,
            scope,
        }
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

impl<S, R> Service<R> for Timeout<S>
where
    S: Service<R, Error = Error>,
{
    type Response = S::Response;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        ResponseFuture::new(
            self.inner.call(request),
            tokio::time::sleep(self.after),
            self.after,
            self.scope,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::{ServiceExt, service_fn};

    #[tokio::test(start_paused = true)]
    async fn fails_slow_calls_with_its_scope() {
        let slow = service_fn(|d: u64| async move {
            tokio::time::sleep(Duration::from_secs(d)).await;
            Ok::<_, Error>(d)
        });
        let svc = Timeout::new(slow, Duration::from_secs(5), TimeoutScope::Attempt);
        assert_eq!(svc.clone().oneshot(4).await.unwrap(), 4);
        let err = svc.oneshot(6).await.unwrap_err();
        assert!(matches!(
            err,
            Error::Timeout {
                scope: TimeoutScope::Attempt,
                after
            } if after == Duration::from_secs(5)
        ));
    }
}
