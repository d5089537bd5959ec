//! Assembles the service stack in the order documented in [`crate::http`].

use std::sync::Arc;
use std::time::Duration;

use tower::Layer;
use tower::limit::ConcurrencyLimitLayer;

use super::HttpService;
use super::auth::{AuthLayer, Credential};
use super::rate_limit::{RateLimit, RateLimitLayer};
use super::retry::{RetryLayer, RetryPolicy};
use super::timeout::TimeoutLayer;
use super::trace::TraceLayer;
use crate::error::{Error, TimeoutScope};

/// A user layer, applied to the boxed service below it.
pub(crate) type LayerFn = Arc<dyn Fn(HttpService) -> HttpService + Send + Sync>;

/// Everything the stack is built from.
pub(crate) struct StackConfig {
    pub(crate) transport: HttpService,
    pub(crate) credential: Credential,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) concurrency_limit: Option<usize>,
    pub(crate) rate_limit: Option<RateLimit>,
    /// In the order added; the first is the outermost.
    pub(crate) layers: Vec<LayerFn>,
}

/// Builds the stack, innermost first.
pub(crate) fn build(config: StackConfig) -> Result<HttpService, Error> {
    let mut service = config.transport;
    service = HttpService::new(AuthLayer::new(&config.credential)?.layer(service));
    for layer in config.layers.iter().rev() {
        service = layer(service);
    }
    if let Some(after) = config.attempt_timeout {
        service = HttpService::new(TimeoutLayer::new(after, TimeoutScope::Attempt).layer(service));
    }
    if let Some(limit) = config.concurrency_limit {
        service = HttpService::new(ConcurrencyLimitLayer::new(limit).layer(service));
    }
    if let Some(rate_limit) = config.rate_limit {
        service = HttpService::new(RateLimitLayer::new(rate_limit).layer(service));
    }
    service = HttpService::new(RetryLayer::new(config.retry).layer(service));
    if let Some(after) = config.total_timeout {
        service = HttpService::new(TimeoutLayer::new(after, TimeoutScope::Total).layer(service));
    }
    Ok(HttpService::new(TraceLayer::new().layer(service)))
}
