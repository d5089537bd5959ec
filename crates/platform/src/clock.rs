//! Timestamps that never repeat or go backwards within one process.
//!
//! Lists sort by `created_at` and then by ID. Two objects created in the same microsecond would
//! otherwise tie, and their order would depend on their random IDs; handing out strictly
//! increasing timestamps keeps "created later" equal to "listed later".

use std::sync::atomic::{AtomicI64, Ordering};

use steward_core::Timestamp;
use time::OffsetDateTime;

static LAST_MICROS: AtomicI64 = AtomicI64::new(0);

/// The current time (UTC, microsecond precision), strictly later than any earlier call.
pub fn now() -> Timestamp {
    let wall = micros_since_epoch(OffsetDateTime::now_utc());
    let mut last = LAST_MICROS.load(Ordering::Relaxed);
    let next = loop {
        let candidate = wall.max(last + 1);
        match LAST_MICROS.compare_exchange_weak(
            last,
            candidate,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => break candidate,
            Err(seen) => last = seen,
        }
    };
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(next) * 1000)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    Timestamp::from_datetime(at)
}

fn micros_since_epoch(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_strictly_increase() {
        let stamps: Vec<_> = (0..1000).map(|_| now()).collect();
        for pair in stamps.windows(2) {
            assert!(pair[0].as_str() < pair[1].as_str(), "{pair:?}");
        }
    }
}

/// How a time filter rounds a bound to the stored microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Round down: for `gt` and `lte` bounds.
    Floor,
    /// Round up: for `gte` and `lt` bounds.
    Ceil,
}

/// Turns a time filter from a query (`created_at[gte]=…`, any RFC 3339 form and offset) into
/// the stored text form, so that comparing text compares time. A value that is not RFC 3339 is a
/// 400 naming `field`.
pub fn filter_bound(field: &str, value: &Timestamp, rounding: Rounding) -> crate::Result<String> {
    let at = value.to_datetime().ok_or_else(|| {
        crate::Error::invalid_request(format!("`{field}`: `{value}` is not an RFC 3339 timestamp"))
    })?;
    let sub_micro = at.nanosecond() % 1000;
    let at = at - time::Duration::nanoseconds(i64::from(sub_micro));
    let at = if rounding == Rounding::Ceil && sub_micro != 0 {
        at + time::Duration::microseconds(1)
    } else {
        at
    };
    Ok(Timestamp::from_datetime(at).as_str().to_owned())
}

#[cfg(test)]
mod bound_tests {
    use super::*;

    #[test]
    fn bounds_normalise_and_round() {
        let bound = |s: &str, r| filter_bound("t", &Timestamp::new(s), r).unwrap();
        assert_eq!(
            bound("2026-01-01T00:00:00Z", Rounding::Floor),
            "2026-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            bound("2026-01-01T02:00:00+02:00", Rounding::Ceil),
            "2026-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            bound("2026-01-01T00:00:00.0000005Z", Rounding::Floor),
            "2026-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            bound("2026-01-01T00:00:00.0000005Z", Rounding::Ceil),
            "2026-01-01T00:00:00.000001Z"
        );
        let err = filter_bound(
            "created_at[gte]",
            &Timestamp::new("yesterday"),
            Rounding::Ceil,
        )
        .unwrap_err();
        assert!(err.body().message.contains("`created_at[gte]`"));
    }
}
