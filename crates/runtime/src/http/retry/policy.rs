//! The classifier ([`should_retry`]) and the delay policy ([`RetryPolicy`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

use crate::error::{Error, TimeoutScope};
use crate::http::{ApiResponse, RetrySafety};

/// What the classifier decided about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAction {
    /// Send the request again.
    Retry {
        /// Why.
        reason: RetryReason,
        /// The delay the server asked for (`retry-after-ms` / `retry-after`), if any.
        after: Option<Duration>,
    },
    /// Hand the outcome to the caller.
    DontRetry,
}

/// Why an attempt is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// No connection could be made.
    Connect,
    /// The connection failed after sending.
    Transport,
    /// The attempt timed out.
    AttemptTimeout,
    /// The response had this retryable status.
    Status(StatusCode),
    /// The response carried `x-should-retry: true`.
    ServerAsked,
}

/// A classifier: the outcome of one attempt and the request's safety in, a decision out.
pub type Classifier =
    Arc<dyn Fn(&Result<ApiResponse, Error>, RetrySafety) -> RetryAction + Send + Sync>;

/// Classifies one attempt's outcome; see the [module docs](super) for the table.
pub fn should_retry(outcome: &Result<ApiResponse, Error>, safety: RetrySafety) -> RetryAction {
    let idempotent = safety == RetrySafety::Idempotent;
    let retry = |reason| RetryAction::Retry {
        reason,
        after: None,
    };
    let response = match outcome {
        Ok(response) => response,
        Err(Error::Connect(_)) => return retry(RetryReason::Connect),
        Err(Error::Transport(_)) if idempotent => return retry(RetryReason::Transport),
        Err(Error::Timeout {
            scope: TimeoutScope::Attempt,
            ..
        }) if idempotent => return retry(RetryReason::AttemptTimeout),
        Err(_) => return RetryAction::DontRetry,
    };
    let status = response.status;
    if status.is_success() {
        return RetryAction::DontRetry;
    }
    let after = server_delay(&response.headers);
    match response.headers.get("x-should-retry").map(|v| v.as_bytes()) {
        Some(b"true") => {
            return RetryAction::Retry {
                reason: RetryReason::ServerAsked,
                after,
            };
        }
        Some(b"false") => return RetryAction::DontRetry,
        _ => {}
    }
    let not_processed = status == StatusCode::TOO_MANY_REQUESTS
        || status.as_u16() == 529
        || (status == StatusCode::SERVICE_UNAVAILABLE && after.is_some());
    let retryable_if_idempotent =
        matches!(status.as_u16(), 408 | 409 | 429) || status.as_u16() >= 500;
    if not_processed || (idempotent && retryable_if_idempotent) {
        RetryAction::Retry {
            reason: RetryReason::Status(status),
            after,
        }
    } else {
        RetryAction::DontRetry
    }
}

/// The delay a response asks for: `retry-after-ms` (milliseconds), else `retry-after` (seconds
/// or an HTTP date). `None` when absent, unparsable, zero or in the past.
pub fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let positive = |secs: f64| {
        (secs.is_finite() && secs > 0.0)
            .then(|| Duration::try_from_secs_f64(secs).ok())
            .flatten()
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if let Some(delay) = positive(ms / 1000.0) {
            return Some(delay);
        }
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return positive(secs);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    date.duration_since(SystemTime::now())
        .ok()
        .filter(|d| !d.is_zero())
}

/// How many times to retry and how long to wait, plus the classifier to ask.
///
/// Built by value: `RetryPolicy::default().max_retries(4).initial_delay(ms(100))`.
#[derive(Clone)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_delay: Duration,
    max_delay: Duration,
    jitter: f64,
    max_server_delay: Duration,
    classifier: Classifier,
}

impl Default for RetryPolicy {
    /// Two retries, 0.5 s doubling up to 8 s, 25 % jitter, server delays up to 60 s honoured,
    /// classified by [`should_retry`].
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            jitter: 0.25,
            max_server_delay: Duration::from_secs(60),
            classifier: Arc::new(should_retry),
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_retries", &self.max_retries)
            .field("initial_delay", &self.initial_delay)
            .field("max_delay", &self.max_delay)
            .field("jitter", &self.jitter)
            .field("max_server_delay", &self.max_server_delay)
            .finish_non_exhaustive()
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// Retries after the first attempt (so `n + 1` attempts at most).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The wait before the first retry, doubled for each later one.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The longest computed wait.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The share of a computed wait taken off at random, in `0.0..=1.0` (clamped).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self
    }

    /// The longest server-requested delay obeyed; longer ones fall back to the computed wait.
    pub fn max_server_delay(mut self, delay: Duration) -> Self {
        self.max_server_delay = delay;
        self
    }

    /// Replaces the classifier (default [`should_retry`]).
    pub fn classifier<F>(mut self, classifier: F) -> Self
    where
        F: Fn(&Result<ApiResponse, Error>, RetrySafety) -> RetryAction + Send + Sync + 'static,
    {
        self.classifier = Arc::new(classifier);
        self
    }

    /// The retry budget.
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    /// Asks the classifier.
    pub fn classify(
        &self,
        outcome: &Result<ApiResponse, Error>,
        safety: RetrySafety,
    ) -> RetryAction {
        (self.classifier)(outcome, safety)
    }

    /// The wait before retry number `retries_done + 1`, given the server's request.
    pub fn delay(&self, retries_done: u32, server: Option<Duration>) -> Duration {
        if let Some(server) = server.filter(|d| !d.is_zero() && *d <= self.max_server_delay) {
            return server;
        }
        let factor = 2u32.saturating_pow(retries_done.min(31));
        let base = self
            .initial_delay
            .saturating_mul(factor)
            .min(self.max_delay);
        base.mul_f64(1.0 - rand::random::<f64>() * self.jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::RetrySafety::{Idempotent, NotIdempotent};
    use pretty_assertions::assert_eq;

    fn response(status: u16, headers: &[(&'static str, &str)]) -> Result<ApiResponse, Error> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        Ok(ApiResponse::new(
            StatusCode::from_u16(status).unwrap(),
            map,
            "",
        ))
    }

    fn retried(outcome: &Result<ApiResponse, Error>, safety: RetrySafety) -> bool {
        matches!(should_retry(outcome, safety), RetryAction::Retry { .. })
    }

    #[test]
    fn status_table() {
        // (status, idempotent retried, not idempotent retried)
        let table = [
            (200, false, false),
            (400, false, false),
            (401, false, false),
            (404, false, false),
            (408, true, false),
            (409, true, false),
            (429, true, true),
            (500, true, false),
            (502, true, false),
            (503, true, false),
            (504, true, false),
            (529, true, true),
        ];
        for (status, idem, not_idem) in table {
            let outcome = response(status, &[]);
            assert_eq!(retried(&outcome, Idempotent), idem, "{status} idempotent");
            assert_eq!(
                retried(&outcome, NotIdempotent),
                not_idem,
                "{status} not idempotent"
            );
        }
        let shedding = response(503, &[("retry-after", "1")]);
        assert!(retried(&shedding, NotIdempotent), "503 with retry-after");
    }

    #[test]
    fn x_should_retry_wins() {
        let no = response(429, &[("x-should-retry", "false")]);
        assert_eq!(should_retry(&no, Idempotent), RetryAction::DontRetry);
        let yes = response(
            400,
            &[("x-should-retry", "true"), ("retry-after-ms", "250")],
        );
        assert_eq!(
            should_retry(&yes, NotIdempotent),
            RetryAction::Retry {
                reason: RetryReason::ServerAsked,
                after: Some(Duration::from_millis(250))
            }
        );
        let conflict = response(409, &[("x-should-retry", "false")]);
        assert!(!retried(&conflict, Idempotent));
    }

    #[test]
    fn errors() {
        let connect: Result<ApiResponse, Error> = Err(Error::Connect("refused".into()));
        assert!(retried(&connect, NotIdempotent));
        let transport: Result<ApiResponse, Error> = Err(Error::Transport("reset".into()));
        assert!(retried(&transport, Idempotent));
        assert!(!retried(&transport, NotIdempotent));
        let attempt: Result<ApiResponse, Error> = Err(Error::Timeout {
            scope: TimeoutScope::Attempt,
            after: Duration::from_secs(1),
        });
        assert!(retried(&attempt, Idempotent));
        assert!(!retried(&attempt, NotIdempotent));
        let total: Result<ApiResponse, Error> = Err(Error::Timeout {
            scope: TimeoutScope::Total,
            after: Duration::from_secs(1),
        });
        assert!(!retried(&total, Idempotent));
        let layer: Result<ApiResponse, Error> = Err(Error::Layer("x".into()));
        assert!(!retried(&layer, Idempotent));
    }

    #[test]
    fn server_delay_headers() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        assert_eq!(
            server_delay(&headers(&[
                ("retry-after-ms", "1500"),
                ("retry-after", "9")
            ])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            server_delay(&headers(&[
                ("retry-after-ms", "nope"),
                ("retry-after", "2.5")
            ])),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(server_delay(&headers(&[("retry-after", "0")])), None);
        assert_eq!(server_delay(&headers(&[("retry-after", "-3")])), None);
        assert_eq!(server_delay(&headers(&[])), None);
        let future = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(future);
        let delay = server_delay(&headers(&[("retry-after", &date)])).unwrap();
        assert!(
            delay > Duration::from_secs(28) && delay <= Duration::from_secs(30),
            "{delay:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(server_delay(&headers(&[("retry-after", &past)])), None);
    }

    #[test]
    fn backoff_doubles_caps_and_jitters_down() {
        let policy = RetryPolicy::default().jitter(0.0);
        let delays: Vec<_> = (0..6).map(|n| policy.delay(n, None)).collect();
        let ms = Duration::from_millis;
        assert_eq!(
            delays,
            [ms(500), ms(1000), ms(2000), ms(4000), ms(8000), ms(8000)]
        );
        assert_eq!(policy.delay(40, None), ms(8000), "no overflow");
        assert_eq!(policy.delay(0, Some(ms(70))), ms(70), "server delay wins");
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(3600))),
            ms(500),
            "absurd server delay ignored"
        );
        let jittered = RetryPolicy::default();
        for _ in 0..100 {
            let d = jittered.delay(1, None);
            assert!(d > ms(750) && d <= ms(1000), "{d:?}");
        }
    }
}
