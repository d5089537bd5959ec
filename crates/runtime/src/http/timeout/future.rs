//! [`ResponseFuture`] of [`Timeout`](super::Timeout).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Sleep;

use crate::error::{Error, TimeoutScope};

pin_project! {
    /// The inner future raced against a sleep.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Sleep,
        after: Duration,
        scope: TimeoutScope,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, sleep: Sleep, after: Duration, scope: TimeoutScope) -> Self {
        Self {
            inner,
            sleep,
            after,
            scope,
        }
    }
}

impl<F, T> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, Error>>,
{
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            return Poll::Ready(result);
        }
        match this.sleep.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Error::Timeout {
                scope: *this.scope,
                after: *this.after,
            })),
            Poll::Pending => Poll::Pending,
        }
    }
}
