//! Request limits applied to every authenticated request: a per-key rate limit and the body size
//! limit as announced by `Content-Length`.
//!
//! * **Rate limit**: a token bucket per caller (per API key). Each request takes one token; the
//!   bucket holds at most [`RateLimit::burst`] tokens and refills at
//!   [`RateLimit::per_second`]. A request finding the bucket empty gets a 429
//!   `rate_limit_error` with `retry-after` (whole seconds, rounded up) and `retry-after-ms`
//!   (the headers the SDKs read before retrying). The default, [`DEFAULT_RATE_LIMIT`], is
//!   1000 requests per second with bursts of 2000: generous enough for the test suites and
//!   benchmarks of a local server, low enough to stop a runaway client loop from starving
//!   everyone else. Configure it with
//!   [`PlatformBuilder::rate_limit`](crate::PlatformBuilder::rate_limit) (`None` disables it).
//! * **Body size**: a request announcing a `Content-Length` over the configured limit gets a 413
//!   before any handler runs, so routes that never read their body (such as `archive`) refuse
//!   oversize bodies too. Bodies without a `Content-Length` are still capped when read
//!   ([`crate::extract::Json`] and axum's `DefaultBodyLimit`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use steward_core::ErrorType;

use crate::auth::Caller;
use crate::error::Error;
use crate::state::AppState;

/// The default per-key rate limit: 1000 requests per second, bursts of 2000.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit {
    per_second: 1000.0,
    burst: 2000,
};

/// A token-bucket rate limit: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second (tokens added per second). Must be positive.
    pub per_second: f64,
    /// Bucket size: how many requests may arrive at once. At least 1.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        DEFAULT_RATE_LIMIT
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Per-caller token buckets for one running platform.
#[derive(Debug, Clone, Default)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    buckets: Arc<Mutex<HashMap<Caller, Bucket>>>,
}

impl RateLimiter {
    /// A limiter enforcing `limit` (`None`: every request passes).
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            buckets: Arc::default(),
        }
    }

    /// Takes a token for `caller`; `Err(wait)` when the bucket is empty, with how long until the
    /// next token.
    pub fn check(&self, caller: &Caller, now: Instant) -> Result<(), Duration> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let per_second = if limit.per_second > 0.0 {
            limit.per_second
        } else {
            f64::MIN_POSITIVE
        };
        let burst = f64::from(limit.burst.max(1));
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(caller.clone()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            Err(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX))
        }
    }
}

/// The 429 answered when a caller's bucket is empty.
fn rate_limited(wait: Duration) -> Response {
    let millis = wait.as_millis().max(1);
    let seconds = millis.div_ceil(1000);
    let mut response = Error::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorType::RateLimit,
        format!("rate limit exceeded for this API key; retry in {millis} ms"),
    )
    .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        headers.insert(header::RETRY_AFTER, value);
    }
    if let Ok(value) = HeaderValue::from_str(&millis.to_string()) {
        headers.insert("retry-after-ms", value);
    }
    response
}

/// Middleware (inside [`require_key`](crate::auth::require_key)): rate limit per caller, then
/// refuse bodies announced larger than the limit.
pub(crate) async fn enforce(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(caller) = request.extensions().get::<Caller>() {
        if let Err(wait) = state.rate_limiter.check(caller, Instant::now()) {
            return rate_limited(wait);
        }
    }
    let limit = state.config.body_limit;
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|len| len > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Error::payload_too_large(limit).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use steward_core::ApiKeyId;

    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_refills() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 10.0,
            burst: 3,
        }));
        let caller = Caller::ApiKey(ApiKeyId::new("apikey_a"));
        let other = Caller::ApiKey(ApiKeyId::new("apikey_b"));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(&caller, t0), Ok(()));
        }
        let wait = limiter.check(&caller, t0).unwrap_err();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100));
        assert_eq!(limiter.check(&other, t0), Ok(()), "buckets are per key");
        assert_eq!(
            limiter.check(&caller, t0 + Duration::from_millis(100)),
            Ok(())
        );
        assert!(
            limiter
                .check(&caller, t0 + Duration::from_millis(100))
                .is_err()
        );
    }

    #[test]
    fn no_limit_lets_everything_through() {
        let limiter = RateLimiter::new(None);
        let caller = Caller::ApiKey(ApiKeyId::new("apikey_a"));
        let now = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(limiter.check(&caller, now), Ok(()));
        }
    }
}
