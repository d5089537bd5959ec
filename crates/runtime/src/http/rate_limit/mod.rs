//! A client-wide requests-per-minute budget: one token bucket per [`RequestClass`].
//!
//! Opt in with [`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit). Every attempt
//! (retries included) takes a token of its class before it is sent; when the bucket is empty the
//! attempt waits for its reserved token, plus a random share (`jitter`) of one token's interval,
//! so callers released together (a fleet of event streams reconnecting after an outage) go out
//! spread over time rather than in lockstep. The wait happens inside the total timeout and
//! outside the attempt timeout. Buckets are shared by every clone of the client.

mod bucket;
mod layer;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use http::Method;
use tokio::time::Instant;
use tower::{Service, ServiceExt};

use self::bucket::Bucket;
use super::{ApiRequest, ApiResponse, RetrySafety};
use crate::error::Error;

pub use layer::RateLimitLayer;

/// What a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestClass {
    /// `GET` (lists, retrieves, stream connects, polls).
    Read,
    /// A `POST` that is not idempotent: creates and `POST …/events`.
    Create,
    /// Everything else: updates, archives, deletes.
    Write,
}

impl RequestClass {
    /// The class of a request.
    pub fn of(request: &ApiRequest) -> Self {
        if request.method == Method::GET || request.method == Method::HEAD {
            Self::Read
        } else if request.method == Method::POST
            && request.retry_safety == RetrySafety::NotIdempotent
        {
            Self::Create
        } else {
            Self::Write
        }
    }
}

/// A budget: `per_minute` tokens a minute, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Tokens per minute (at least 1).
    pub per_minute: u32,
    /// Tokens that may be spent at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl Budget {
    /// `n` a minute, with a burst of ten seconds' worth (at least 1).
    pub fn per_minute(n: u32) -> Self {
        Self {
            per_minute: n.max(1),
            burst: (n / 6).max(1),
        }
    }

    /// Sets the burst.
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }
}

/// The budgets of a [`RateLimitLayer`]; a class without a budget is not limited.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    reads: Option<Budget>,
    creates: Option<Budget>,
    writes: Option<Budget>,
    jitter: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            reads: None,
            creates: None,
            writes: None,
            jitter: 1.0,
        }
    }
}

impl RateLimit {
    /// No budgets yet (nothing is limited until one is set).
    pub fn new() -> Self {
        Self::default()
    }

    /// The budget of [`RequestClass::Read`].
    pub fn reads(mut self, budget: Budget) -> Self {
        self.reads = Some(budget);
        self
    }

    /// The budget of [`RequestClass::Create`].
    pub fn creates(mut self, budget: Budget) -> Self {
        self.creates = Some(budget);
        self
    }

    /// The budget of [`RequestClass::Write`].
    pub fn writes(mut self, budget: Budget) -> Self {
        self.writes = Some(budget);
        self
    }

    /// A waiting attempt also waits up to this share of one token's interval at random,
    /// `0.0..=1.0` (default 1.0). Attempts that get a token at once never wait.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    fn budget(&self, class: RequestClass) -> Option<Budget> {
        match class {
            RequestClass::Read => self.reads,
            RequestClass::Create => self.creates,
            RequestClass::Write => self.writes,
        }
    }
}

/// The buckets of the limited classes.
#[derive(Debug)]
pub(crate) struct Buckets {
    reads: Option<Bucket>,
    creates: Option<Bucket>,
    writes: Option<Bucket>,
}

impl Buckets {
    fn new(config: &RateLimit) -> Self {
        let now = Instant::now();
        let make = |class| config.budget(class).map(|b| Bucket::new(b, now));
        Self {
            reads: make(RequestClass::Read),
            creates: make(RequestClass::Create),
            writes: make(RequestClass::Write),
        }
    }

    /// Reserves a token of `class`: the wait and one token's interval, `None` when unlimited.
    fn reserve(&mut self, class: RequestClass) -> Option<(Duration, Duration)> {
        let bucket = match class {
            RequestClass::Read => self.reads.as_mut(),
            RequestClass::Create => self.creates.as_mut(),
            RequestClass::Write => self.writes.as_mut(),
        }?;
        Some((bucket.reserve(Instant::now()), bucket.interval()))
    }
}

/// Delays attempts to keep within the budgets; see the [module docs](self).
#[derive(Clone)]
pub struct RateLimitService<S> {
    inner: S,
    config: RateLimit,
    buckets: Arc<Mutex<Buckets>>,
}

impl<S> fmt::Debug for RateLimitService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S> RateLimitService<S> {
    fn new(inner: S, config: RateLimit, buckets: Arc<Mutex<Buckets>>) -> Self {
        Self {
            inner,
            config,
            buckets,
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

impl<S> Service<ApiRequest> for RateLimitService<S>
where
    S: Service<ApiRequest, Response = ApiResponse, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = ApiResponse;
    type Error = Error;
    type Future = BoxFuture<'static, Result<ApiResponse, Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // Readiness of the inner service is awaited after the wait, in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ApiRequest) -> Self::Future {
        let class = RequestClass::of(&request);
        let reserved = self
            .buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reserve(class);
        let wait = match reserved {
            Some((wait, interval)) if !wait.is_zero() => {
                wait + interval.mul_f64(rand::random::<f64>() * self.config.jitter)
            }
            _ => Duration::ZERO,
        };
        let inner = self.inner.clone();
        Box::pin(async move {
            if !wait.is_zero() {
                tracing::debug!(?class, wait_ms = wait.as_millis() as u64, "rate limited");
                tokio::time::sleep(wait).await;
            }
            inner.oneshot(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, safety: RetrySafety) -> ApiRequest {
        let mut request = ApiRequest::new(method, "http://h/v1/x".parse().unwrap());
        request.retry_safety = safety;
        request
    }

    #[test]
    fn classes() {
        use RetrySafety::*;
        assert_eq!(
            RequestClass::of(&request(Method::GET, Idempotent)),
            RequestClass::Read
        );
        assert_eq!(
            RequestClass::of(&request(Method::POST, NotIdempotent)),
            RequestClass::Create
        );
        assert_eq!(
            RequestClass::of(&request(Method::POST, Idempotent)),
            RequestClass::Write
        );
        assert_eq!(
            RequestClass::of(&request(Method::DELETE, Idempotent)),
            RequestClass::Write
        );
    }

    #[test]
    fn budgets_default_to_ten_seconds_of_burst() {
        assert_eq!(Budget::per_minute(600).burst, 100);
        assert_eq!(Budget::per_minute(3).burst, 1);
        assert_eq!(Budget::per_minute(0).per_minute, 1);
    }
}
