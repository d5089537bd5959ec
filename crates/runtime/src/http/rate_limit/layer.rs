//! [`RateLimitLayer`].

use std::sync::{Arc, Mutex};

use tower::Layer;

use super::{Buckets, RateLimit, RateLimitService};

/// Applies [`RateLimitService`]; services made from one layer (and from its clones) share the
/// same buckets, so every clone of a client draws on one budget.
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    config: RateLimit,
    buckets: Arc<Mutex<Buckets>>,
}

impl RateLimitLayer {
    /// A layer enforcing `config`.
    pub fn new(config: RateLimit) -> Self {
        let buckets = Arc::new(Mutex::new(Buckets::new(&config)));
        Self { config, buckets }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService::new(inner, self.config.clone(), self.buckets.clone())
    }
}
