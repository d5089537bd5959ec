//! [`ResilientEventStream`]: a session's events that survive dropped connections.
//!
//! `client.sessions().events().stream_resilient(&id, options)` reads the SSE stream
//! (`GET /v1/sessions/{id}/events/stream`) and, whenever the connection ends (a reset, a clean
//! close, an `event: error`, an error status on connect, or no bytes for
//! [`ResilientOptions::idle_timeout`]), waits a jittered, growing delay, opens the stream again
//! and fills the gap from the event list (`GET /v1/sessions/{id}/events`).
//!
//! # The contract
//!
//! * **Exactly once.** Every event with an `id` is yielded at most once: an event the list and
//!   the stream both deliver, or that a reconnected stream repeats, is dropped by its ID. IDs are
//!   remembered in a window of the last [`ResilientOptions::dedup_window`] events; a repeat older
//!   than that could pass. Nothing is lost as long as the list keeps the history: every event
//!   processed while no stream was open is listed by the next gap fill.
//! * **In order.** Within one connection, events come in the order of the gap fill (ascending
//!   `processed_at`, the list's order) and then in the order the stream sends them. Across the
//!   seam this is the server's processing order, because each (re)connect opens the stream
//!   *first* and lists *second*: an event processed before the stream opened is in the list, an
//!   event processed after it is on the stream and, if the list saw it too, is yielded from the
//!   list and dropped from the stream. So events with a `processed_at` come with non-decreasing
//!   `processed_at`, provided the server streams in processing order. Events that share a
//!   timestamp come in the list's order within that timestamp.
//! * **Incremental gap fill.** The list is asked only for what came after the last event
//!   yielded: `created_at[gte]=<its processed_at>` (the list compares `created_at[…]` with
//!   `processed_at`), dropping the IDs already yielded at exactly that timestamp (`gte` rather
//!   than `gt`, because several events may share one timestamp and some of them may not have
//!   been yielded yet). Without any event yielded yet, the list has no filter (everything is
//!   new), which only happens before the first event.
//! * **Where it starts** ([`StartFrom`]): `Now` (the default) yields what is processed after the
//!   first connect (before opening the stream it reads the newest page of the list once, in
//!   descending order, to learn where "now" is); `Beginning` yields the whole history first; `After` resumes from an
//!   [`EventCursor`] saved from an earlier stream ([`ResilientEventStream::cursor`]).
//! * **Not covered.** Stream-only previews (`event_start`, `event_delta`) have no ID and are not
//!   in the list: they are passed through as they come, and a preview cut by a reconnect is not
//!   completed (the buffered event it previews arrives whole). Client echoes not yet processed
//!   (`processed_at: null`) are de-duplicated by ID but do not move the cursor.
//!
//! # Ending
//!
//! The stream ends after yielding `session.deleted` (nothing can follow), when the consumer
//! drops it (the connection is closed), or after yielding an error that reconnecting cannot fix:
//! a 4xx other than 408, 409 and 429 (the session is gone, the key is wrong), an event that does
//! not decode, or [`ResilientOptions::max_failures`] consecutive failed reconnects. Transport
//! failures, timeouts, 408/409/429/5xx/529 and `event: error` of the overloaded, rate-limit,
//! timeout and api kinds are retried. A terminal `session.status_idle` does not end it: the
//! session may run again; stop reading when you have what you need.

use std::cmp::Ordering;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use http::StatusCode;
use steward_core::event::{DeltaType, EventListParams, EventOrder, SessionEvent, StreamParams};
use steward_core::{ErrorType, SessionId, Timestamp};

use crate::client::Client;
use crate::error::Error;
use crate::pagination::ListStream;
use crate::sse::EventStream;

/// Where a [`ResilientEventStream`] starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StartFrom {
    /// Events processed after the first connect (the stream's own semantics).
    #[default]
    Now,
    /// The whole history first, then live events.
    Beginning,
    /// Events after this cursor (saved with [`ResilientEventStream::cursor`]).
    After(EventCursor),
}

/// How far a stream has read: the `processed_at` of the latest event yielded and the IDs
/// yielded at exactly that timestamp. The next gap fill lists `created_at[gte]=processed_at`
/// and drops `ids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCursor {
    /// The latest `processed_at` yielded.
    pub processed_at: Timestamp,
    /// The event IDs yielded with exactly that `processed_at`.
    pub ids: Vec<String>,
}

/// Options of a [`ResilientEventStream`]. Every setter takes and returns the options by value.
#[derive(Debug, Clone)]
pub struct ResilientOptions {
    start: StartFrom,
    event_deltas: Vec<DeltaType>,
    idle_timeout: Option<Duration>,
    initial_backoff: Duration,
    max_backoff: Duration,
    jitter: f64,
    max_failures: Option<u32>,
    page_limit: Option<u32>,
    dedup_window: usize,
}

impl Default for ResilientOptions {
    fn default() -> Self {
        Self {
            start: StartFrom::Now,
            event_deltas: Vec::new(),
            idle_timeout: Some(Duration::from_secs(90)),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            jitter: 0.5,
            max_failures: None,
            page_limit: Some(1000),
            dedup_window: 10_000,
        }
    }
}

impl ResilientOptions {
    /// Where to start (default [`StartFrom::Now`]).
    pub fn start(mut self, start: StartFrom) -> Self {
        self.start = start;
        self
    }

    /// Stream-only previews to ask for (`event_deltas[]`); default none.
    pub fn event_deltas(mut self, deltas: Vec<DeltaType>) -> Self {
        self.event_deltas = deltas;
        self
    }

    /// Reconnect when no bytes at all (keep-alives included) arrive for this long. Default 90 s.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// Sets or removes the idle timeout.
    pub fn set_idle_timeout(&mut self, idle: Option<Duration>) -> &mut Self {
        self.idle_timeout = idle;
        self
    }

    /// The first wait before reconnecting (default 0.5 s); it doubles after each connection
    /// that yielded nothing new, up to [`ResilientOptions::max_backoff`], and starts over once
    /// one did.
    pub fn initial_backoff(mut self, delay: Duration) -> Self {
        self.initial_backoff = delay;
        self
    }

    /// The longest wait between reconnects (default 30 s).
    pub fn max_backoff(mut self, delay: Duration) -> Self {
        self.max_backoff = delay;
        self
    }

    /// The share of each wait taken off at random, `0.0..=1.0` (default 0.5), so a fleet of
    /// clients dropped at once does not reconnect at once.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// Give up after this many consecutive reconnects that failed to connect or fill the gap
    /// (yielding the last error). Default: never give up on a retryable failure.
    pub fn max_failures(mut self, n: u32) -> Self {
        self.max_failures = Some(n);
        self
    }

    /// `limit` of each gap-fill page (default 1000, as the SDK's runner asks).
    pub fn page_limit(mut self, limit: u32) -> Self {
        self.page_limit = Some(limit);
        self
    }

    /// How many recent event IDs are remembered to drop repeats (default 10 000, at least 1).
    pub fn dedup_window(mut self, n: usize) -> Self {
        self.dedup_window = n.max(1);
        self
    }
}

/// Counters of a [`ResilientEventStream`], for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResilientStats {
    /// Streams opened successfully.
    pub connects: u64,
    /// Times the stream was lost or failed to open and a reconnect was scheduled.
    pub reconnects: u64,
    /// Gap-fill list walks started (each may fetch several pages).
    pub gap_fills: u64,
    /// Events yielded from the list rather than the stream.
    pub listed_events: u64,
    /// Events dropped because they were already yielded.
    pub duplicates: u64,
}

#[derive(Debug, Default)]
struct Shared {
    cursor: Option<EventCursor>,
    stats: ResilientStats,
}

type SharedRef = Arc<Mutex<Shared>>;

fn with_shared<R>(shared: &SharedRef, f: impl FnOnce(&mut Shared) -> R) -> R {
    f(&mut shared.lock().unwrap_or_else(PoisonError::into_inner))
}

/// A `Stream` of a session's events that reconnects and fills gaps; see the
/// [module docs](self) for the contract.
pub struct ResilientEventStream {
    inner: BoxStream<'static, Result<SessionEvent, Error>>,
    shared: SharedRef,
}

impl fmt::Debug for ResilientEventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResilientEventStream")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ResilientEventStream {
    /// A stream of `session`'s events through `client`. Nothing is sent until it is polled.
    pub fn new(client: Client, session: SessionId, options: ResilientOptions) -> Self {
        let shared = SharedRef::default();
        let driver = Driver::new(client, session, options, shared.clone());
        let inner = futures::stream::unfold(driver, |mut driver| async move {
            let item = driver.next().await?;
            Some((item, driver))
        })
        .boxed();
        Self { inner, shared }
    }

    /// Where the stream has got to: pass it to [`StartFrom::After`] to resume later. `None`
    /// before the first event with a `processed_at`.
    pub fn cursor(&self) -> Option<EventCursor> {
        with_shared(&self.shared, |s| s.cursor.clone())
    }

    /// The counters so far.
    pub fn stats(&self) -> ResilientStats {
        with_shared(&self.shared, |s| s.stats)
    }
}

impl Stream for ResilientEventStream {
    type Item = Result<SessionEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Recent IDs, bounded: the oldest is forgotten first.
#[derive(Debug)]
struct Window {
    order: VecDeque<String>,
    set: HashSet<String>,
    capacity: usize,
}

impl Window {
    fn new(capacity: usize) -> Self {
        Self {
            order: VecDeque::new(),
            set: HashSet::new(),
            capacity,
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    fn insert(&mut self, id: String) {
        if self.set.insert(id.clone()) {
            self.order.push_back(id);
            while self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// Where a connection is.
enum Phase {
    /// No stream open; the next step connects (after a wait unless it is the first).
    Disconnected,
    /// The stream is open; the gap fill is yielded first.
    Filling {
        stream: EventStream<SessionEvent>,
        gap: ListStream<SessionEvent>,
    },
    /// The gap is filled; events come from the stream.
    Live { stream: EventStream<SessionEvent> },
}

struct Driver {
    client: Client,
    session: SessionId,
    options: ResilientOptions,
    shared: SharedRef,
    phase: Phase,
    seen: Window,
    /// The latest `processed_at` yielded and the IDs yielded at it.
    high: Option<(Timestamp, HashSet<String>)>,
    /// Whether the start-up step (`Now`'s probe) is done.
    started: bool,
    /// Whether a connect was attempted before (the next one waits).
    attempted: bool,
    /// Doublings of the wait: grows after a connection that yielded nothing new.
    backoff_step: u32,
    /// Consecutive failed connects or gap fills.
    failures: u32,
    /// Whether the current connection yielded anything.
    yielded: bool,
    done: bool,
}

impl Driver {
    fn new(
        client: Client,
        session: SessionId,
        options: ResilientOptions,
        shared: SharedRef,
    ) -> Self {
        let high = match &options.start {
            StartFrom::After(cursor) => Some((
                cursor.processed_at.clone(),
                cursor.ids.iter().cloned().collect(),
            )),
            _ => None,
        };
        let started = !matches!(options.start, StartFrom::Now);
        let seen = Window::new(options.dedup_window);
        let driver = Self {
            client,
            session,
            options,
            shared,
            phase: Phase::Disconnected,
            seen,
            high,
            started,
            attempted: false,
            backoff_step: 0,
            failures: 0,
            yielded: false,
            done: false,
        };
        driver.publish_cursor();
        driver
    }

    async fn next(&mut self) -> Option<Result<SessionEvent, Error>> {
        loop {
            if self.done {
                return None;
            }
            match std::mem::replace(&mut self.phase, Phase::Disconnected) {
                Phase::Disconnected => {
                    if let Err(error) = self.connect().await {
                        if let Some(error) = self.failed(error) {
                            return Some(Err(error));
                        }
                    }
                }
                Phase::Filling { stream, mut gap } => match gap.next().await {
                    Some(Ok(event)) => {
                        self.phase = Phase::Filling { stream, gap };
                        if let Some(event) = self.accept(event, true) {
                            return Some(Ok(event));
                        }
                    }
                    Some(Err(error)) => {
                        if let Some(error) = self.failed(error) {
                            return Some(Err(error));
                        }
                    }
                    None => {
                        self.failures = 0;
                        self.phase = Phase::Live { stream };
                    }
                },
                Phase::Live { mut stream } => match stream.next().await {
                    Some(Ok(event)) => {
                        self.phase = Phase::Live { stream };
                        if let Some(event) = self.accept(event, false) {
                            return Some(Ok(event));
                        }
                    }
                    Some(Err(error)) => {
                        if let Some(error) = self.lost(error) {
                            return Some(Err(error));
                        }
                    }
                    None => {
                        tracing::debug!(session_id = %self.session, "event stream closed by the server");
                        self.reconnect_later();
                    }
                },
            }
        }
    }

    /// Waits if this is a reconnect, opens the stream, then starts the gap fill.
    async fn connect(&mut self) -> Result<(), Error> {
        if self.attempted {
            let delay = self.delay();
            tracing::debug!(
                session_id = %self.session,
                delay_ms = delay.as_millis() as u64,
                "event stream reconnecting"
            );
            tokio::time::sleep(delay).await;
        }
        self.attempted = true;
        self.yielded = false;
        if !self.started {
            // Before the stream opens: an event processed after the probe is then listed by the
            // gap fill or sent on the stream, never taken for history.
            self.probe_now().await?;
            self.started = true;
        }
        let params = StreamParams {
            event_deltas: self.options.event_deltas.clone(),
        };
        let mut stream = self
            .client
            .sessions()
            .events()
            .stream_with(&self.session, &params)
            .await?;
        if let Some(idle) = self.options.idle_timeout {
            stream = stream.idle_timeout(idle);
        }
        with_shared(&self.shared, |s| s.stats.connects += 1);
        let gap = self.gap_fill();
        with_shared(&self.shared, |s| s.stats.gap_fills += 1);
        self.phase = Phase::Filling { stream, gap };
        Ok(())
    }

    /// `StartFrom::Now`: learns the newest events (one descending page) without yielding them.
    async fn probe_now(&mut self) -> Result<(), Error> {
        let params = EventListParams {
            order: Some(EventOrder::Desc),
            limit: Some(100),
            ..EventListParams::default()
        };
        let first = self
            .client
            .sessions()
            .events()
            .pages(&self.session, &params)
            .next()
            .await
            .transpose()?;
        // The page is newest first: remember it oldest first, so the cursor ends on the newest.
        let events = first.map(|page| page.data).unwrap_or_default();
        for event in events.iter().rev() {
            self.remember(event);
        }
        self.publish_cursor();
        Ok(())
    }

    /// The list of what came after the cursor (everything when there is none yet).
    fn gap_fill(&self) -> ListStream<SessionEvent> {
        let params = EventListParams {
            created_at_gte: self.high.as_ref().map(|(at, _)| at.clone()),
            order: Some(EventOrder::Asc),
            limit: self.options.page_limit,
            ..EventListParams::default()
        };
        self.client.sessions().events().list(&self.session, &params)
    }

    /// Drops repeats; records what is yielded.
    fn accept(&mut self, event: SessionEvent, listed: bool) -> Option<SessionEvent> {
        if let Some(id) = event.raw_id() {
            let at_high = self.high.as_ref().is_some_and(|(_, ids)| ids.contains(id));
            if self.seen.contains(id) || at_high {
                with_shared(&self.shared, |s| s.stats.duplicates += 1);
                return None;
            }
        }
        self.remember(&event);
        self.publish_cursor();
        if listed {
            with_shared(&self.shared, |s| s.stats.listed_events += 1);
        }
        self.yielded = true;
        if matches!(event, SessionEvent::SessionDeleted(_)) {
            self.done = true;
        }
        Some(event)
    }

    fn remember(&mut self, event: &SessionEvent) {
        let id = event.raw_id().map(str::to_owned);
        if let Some(id) = &id {
            self.seen.insert(id.clone());
        }
        let Some(at) = processed_at(event) else {
            return;
        };
        let ids = id.into_iter().collect::<HashSet<_>>();
        match &mut self.high {
            Some((high, high_ids)) => match compare(&at, high) {
                Ordering::Greater => self.high = Some((at, ids)),
                Ordering::Equal => high_ids.extend(ids),
                Ordering::Less => {}
            },
            None => self.high = Some((at, ids)),
        }
    }

    fn publish_cursor(&self) {
        let cursor = self.high.as_ref().map(|(at, ids)| {
            let mut ids: Vec<String> = ids.iter().cloned().collect();
            ids.sort_unstable();
            EventCursor {
                processed_at: at.clone(),
                ids,
            }
        });
        with_shared(&self.shared, |s| s.cursor = cursor);
    }

    /// A connect or gap fill failed: retry later, or give up with the error.
    fn failed(&mut self, error: Error) -> Option<Error> {
        self.failures += 1;
        let give_up = self
            .options
            .max_failures
            .is_some_and(|max| self.failures > max);
        if give_up || !is_retryable(&error) {
            self.done = true;
            return Some(error);
        }
        tracing::debug!(session_id = %self.session, error = %error, failures = self.failures, "event stream failed");
        self.reconnect_later();
        None
    }

    /// A live stream failed: reconnect, unless reconnecting cannot help.
    fn lost(&mut self, error: Error) -> Option<Error> {
        if !is_retryable(&error) {
            self.done = true;
            return Some(error);
        }
        tracing::debug!(session_id = %self.session, error = %error, "event stream lost");
        self.reconnect_later();
        None
    }

    fn reconnect_later(&mut self) {
        self.phase = Phase::Disconnected;
        if self.yielded {
            self.backoff_step = 0;
        } else {
            self.backoff_step = self.backoff_step.saturating_add(1);
        }
        with_shared(&self.shared, |s| s.stats.reconnects += 1);
    }

    fn delay(&self) -> Duration {
        let step = self.backoff_step.saturating_sub(1).min(30);
        let base = self
            .options
            .initial_backoff
            .saturating_mul(1u32 << step)
            .min(self.options.max_backoff);
        base.mul_f64(1.0 - rand::random::<f64>() * self.options.jitter)
    }
}

/// `processed_at` of any event, unknown types included.
fn processed_at(event: &SessionEvent) -> Option<Timestamp> {
    match event {
        SessionEvent::Unknown(raw) => raw
            .get("processed_at")
            .and_then(serde_json::Value::as_str)
            .map(Timestamp::new),
        known => known.processed_at().cloned(),
    }
}

/// Chronological order when both parse as RFC 3339, else the strings' order.
fn compare(a: &Timestamp, b: &Timestamp) -> Ordering {
    match (a.to_datetime(), b.to_datetime()) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => a.as_str().cmp(b.as_str()),
    }
}

/// Whether reconnecting may help.
fn is_retryable(error: &Error) -> bool {
    match error {
        Error::Connect(_) | Error::Transport(_) | Error::Timeout { .. } => true,
        Error::Api(info) => match info.status {
            Some(status) => {
                status.is_server_error()
                    || matches!(
                        status,
                        StatusCode::REQUEST_TIMEOUT
                            | StatusCode::CONFLICT
                            | StatusCode::TOO_MANY_REQUESTS
                    )
            }
            None => matches!(
                info.error_type,
                None | Some(
                    ErrorType::Overloaded
                        | ErrorType::RateLimit
                        | ErrorType::Timeout
                        | ErrorType::Api
                )
            ),
        },
        Error::Config(_) | Error::Build(_) | Error::Decode { .. } | Error::Layer(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> SessionEvent {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_window_forgets_the_oldest_id() {
        let mut window = Window::new(2);
        window.insert("a".into());
        window.insert("b".into());
        window.insert("a".into());
        window.insert("c".into());
        assert!(!window.contains("a"));
        assert!(window.contains("b") && window.contains("c"));
    }

    #[test]
    fn timestamps_compare_chronologically_across_offsets() {
        let a = Timestamp::new("2026-04-01T12:00:00+02:00");
        let b = Timestamp::new("2026-04-01T11:00:00Z");
        assert_eq!(compare(&a, &b), Ordering::Less);
        assert_eq!(
            compare(
                &Timestamp::new("2026-04-01T10:00:00.5Z"),
                &Timestamp::new("2026-04-01T10:00:00.50Z")
            ),
            Ordering::Equal
        );
    }

    #[test]
    fn unknown_events_have_a_processed_at_too() {
        let e = event(
            serde_json::json!({"type": "x.new", "id": "e1", "processed_at": "2026-04-01T00:00:00Z"}),
        );
        assert_eq!(
            processed_at(&e),
            Some(Timestamp::new("2026-04-01T00:00:00Z"))
        );
    }

    #[test]
    fn retryable_errors() {
        let api = |status: Option<u16>, kind: Option<ErrorType>| {
            Error::Api(Box::new(crate::ApiErrorInfo {
                status: status.map(|s| StatusCode::from_u16(s).unwrap()),
                error_type: kind,
                message: String::new(),
                request_id: None,
                error: None,
            }))
        };
        assert!(is_retryable(&api(Some(503), None)));
        assert!(is_retryable(&api(Some(429), None)));
        assert!(!is_retryable(&api(Some(404), None)));
        assert!(!is_retryable(&api(Some(401), None)));
        assert!(is_retryable(&api(None, Some(ErrorType::Overloaded))));
        assert!(!is_retryable(&api(None, Some(ErrorType::InvalidRequest))));
        assert!(is_retryable(&Error::Timeout {
            scope: crate::TimeoutScope::Idle,
            after: Duration::from_secs(1)
        }));
    }

    #[test]
    fn delays_grow_and_are_capped_and_jittered() {
        let client = Client::builder().api_key("k").build().unwrap();
        let options = ResilientOptions::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350))
            .jitter(0.5);
        let mut driver = Driver::new(
            client,
            SessionId::new("sesn_1"),
            options,
            SharedRef::default(),
        );
        for (step, max) in [(0, 100), (1, 100), (2, 200), (3, 350), (40, 350)] {
            driver.backoff_step = step;
            for _ in 0..50 {
                let delay = driver.delay();
                assert!(
                    delay <= Duration::from_millis(max),
                    "step {step}: {delay:?}"
                );
                assert!(
                    delay >= Duration::from_millis(max / 2),
                    "step {step}: {delay:?}"
                );
            }
        }
    }
}
