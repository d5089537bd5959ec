//! [`TimeoutLayer`].

use std::time::Duration;

use tower::Layer;

use super::Timeout;
use crate::error::TimeoutScope;

/// Applies [`Timeout`] to a service.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    after: Duration,
    scope: TimeoutScope,
}

impl TimeoutLayer {
    /// A deadline of `after`, reported as `scope`.
    pub fn new(after: Duration, scope: TimeoutScope) -> Self {
        Self { after, scope }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout::new(inner, self.after, self.scope)
    }
}
