//! The token buckets: pure arithmetic over `tokio::time::Instant`, so paused-time tests drive it.

use std::time::Duration;

use tokio::time::Instant;

use super::Budget;

/// One token bucket that hands out reservations: a caller takes a token now and is told how long
/// to wait until it is really there. Waiting callers are therefore served in the order they
/// reserved, and a burst of reconnects is spread at the budget's pace.
#[derive(Debug)]
pub(crate) struct Bucket {
    /// Tokens available now; negative when tokens are reserved ahead.
    tokens: f64,
    capacity: f64,
    /// Time per token.
    interval: Duration,
    updated: Instant,
}

impl Bucket {
    /// A full bucket.
    pub(crate) fn new(budget: Budget, now: Instant) -> Self {
        let per_minute = budget.per_minute.max(1);
        let capacity = f64::from(budget.burst.max(1));
        Self {
            tokens: capacity,
            capacity,
            interval: Duration::from_secs(60) / per_minute,
            updated: now,
        }
    }

    /// Time per token.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Takes one token; returns how long until it is available (zero when it is now).
    pub(crate) fn reserve(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.updated);
        self.updated = now;
        let refill = elapsed.as_secs_f64() / self.interval.as_secs_f64();
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            self.interval.mul_f64(-self.tokens)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_free_then_tokens_come_at_the_pace() {
        let start = Instant::now();
        let mut bucket = Bucket::new(
            Budget {
                per_minute: 60,
                burst: 2,
            },
            start,
        );
        assert_eq!(bucket.reserve(start), Duration::ZERO);
        assert_eq!(bucket.reserve(start), Duration::ZERO);
        assert_eq!(bucket.reserve(start), Duration::from_secs(1));
        assert_eq!(
            bucket.reserve(start),
            Duration::from_secs(2),
            "queued behind"
        );
        // After 5 s the debt of two is paid and three more tokens have come, capped at 2.
        let later = start + Duration::from_secs(5);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert_eq!(bucket.reserve(later), Duration::from_secs(1));
    }
}
