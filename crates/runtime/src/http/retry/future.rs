//! [`ResponseFuture`] of [`Retry`](super::Retry): call, classify, wait, get ready, call again.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower::Service;

use super::{RetryAction, RetryPolicy};
use crate::error::Error;
use crate::http::{ApiRequest, ApiResponse};

pin_project! {
    /// The state machine of one call with its retries.
    pub struct ResponseFuture<S, F> {
        service: S,
        request: ApiRequest,
        policy: RetryPolicy,
        retries: u32,
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        // An attempt is in flight.
        Called { #[pin] future: F },
        // Waiting before the next attempt.
        Waiting { #[pin] sleep: Sleep },
        // Waiting for the service to be ready for the next attempt.
        Checking,
    }
}

impl<S, F> ResponseFuture<S, F>
where
    S: Service<ApiRequest, Future = F>,
{
    pub(crate) fn start(mut service: S, mut request: ApiRequest, policy: RetryPolicy) -> Self {
        request.attempt = 1;
        tracing::Span::current().record("attempt", 1);
        let future = service.call(request.clone());
        Self {
            service,
            request,
            policy,
            retries: 0,
            state: State::Called { future },
        }
    }
}

impl<S, F> Future for ResponseFuture<S, F>
where
    S: Service<ApiRequest, Response = ApiResponse, Error = Error, Future = F>,
    F: Future<Output = Result<ApiResponse, Error>>,
{
    type Output = Result<ApiResponse, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Called { future } => {
                    let outcome = ready!(future.poll(cx));
                    let action = this.policy.classify(&outcome, this.request.retry_safety);
                    let RetryAction::Retry { reason, after } = action else {
                        return Poll::Ready(outcome);
                    };
                    if *this.retries >= this.policy.retries() {
                        return Poll::Ready(outcome);
                    }
                    let delay = this.policy.delay(*this.retries, after);
                    *this.retries += 1;
                    tracing::info!(
                        attempt = this.request.attempt,
                        ?reason,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "retrying request"
                    );
                    drop(outcome);
                    this.state.set(State::Waiting {
                        sleep: tokio::time::sleep(delay),
                    });
                }
                StateProj::Waiting { sleep } => {
                    ready!(sleep.poll(cx));
                    this.state.set(State::Checking);
                }
                StateProj::Checking => {
                    ready!(this.service.poll_ready(cx))?;
                    this.request.attempt = *this.retries + 1;
                    tracing::Span::current().record("attempt", this.request.attempt);
                    let future = this.service.call(this.request.clone());
                    this.state.set(State::Called { future });
                }
            }
        }
    }
}
