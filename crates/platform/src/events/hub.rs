//! [`EventHub`]: the in-memory side of session events, shared through
//! [`AppState::events`](crate::state::AppState::events).
//!
//! * **Streams.** One `tokio::sync::broadcast` channel per session with open streams, each
//!   message an event already framed for SSE. [`EventHub::publish`] is called after a
//!   transaction that stored events commits; it does not send the emitter's events itself but
//!   wakes the session's *pump*, a task that reads the session's stored events past the last
//!   one it sent (`seq > last`) and broadcasts them in storage order. Since SQLite commits one
//!   writer at a time, a committed row is never followed by an earlier uncommitted one, so this
//!   is gap-free and ordered even when two writers of one session publish in the other order
//!   than they committed. A subscriber that falls more than [`CHANNEL_CAPACITY`] events behind
//!   is dropped: its stream ends and the client reconnects and fills the gap from the event
//!   list. A stream therefore never skips an event silently.
//! * **Wakeups.** An unbounded queue of session IDs that need the engine's attention
//!   ([`EventHub::wake`]); the engine takes the receiving end once at start
//!   ([`EventHub::take_wakeups`]).
//! * **Interrupts.** One [`CancellationToken`] per session ([`EventHub::turn_signal`]),
//!   cancelled by [`EventHub::interrupt`] when a `user.interrupt` is accepted, so a running turn
//!   can stop without polling the database.
//! * **Deletion.** [`EventHub::session_deleted`] sends `session.deleted` to every open stream
//!   of the session and ends them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use steward_core::event::{SessionDeleted, SessionEvent};
use steward_core::{EventId, SessionId};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::emit::Emitter;
use super::store::{STREAM_BATCH, stored_after};
use crate::db::Db;

/// How many published events a stream may fall behind before it is ended.
///
/// The channel allocates all its slots when a session's first stream opens, so this sets the
/// memory of every open stream (4,096 slots measured ~210 KiB per stream in `cargo xtask load`).
pub const CHANNEL_CAPACITY: usize = 1024;

/// Default interval of the `event: ping` keep-alives of event streams.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(15);

/// One event as streams send it: framed once, shared by every subscriber.
#[derive(Debug)]
pub(crate) struct Published {
    /// The SSE message: `event: <type>\ndata: <json>\n\n`.
    pub(crate) frame: Bytes,
    /// The event's thread, if it names one.
    pub(crate) session_thread_id: Option<String>,
    /// Whether the stream ends after this event (`session.deleted`).
    pub(crate) ends_stream: bool,
}

impl Published {
    fn new(event: &SessionEvent) -> Option<Self> {
        let json = match serde_json::to_string(event) {
            Ok(json) => json,
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize an event for streaming");
                return None;
            }
        };
        let frame = format!("event: {}\ndata: {json}\n\n", event.type_name());
        Some(Self {
            frame: Bytes::from(frame),
            session_thread_id: event.session_thread_id().map(|t| t.as_str().to_owned()),
            ends_stream: matches!(event, SessionEvent::SessionDeleted(_)),
        })
    }
}

/// The broadcast channel of one session and its pump's progress.
#[derive(Debug)]
struct Channel {
    sender: broadcast::Sender<Arc<Published>>,
    /// `seq` of the last stored event sent (or skipped as older than every subscriber).
    last_seq: i64,
    /// Whether a pump task runs for the channel.
    pumping: bool,
    /// Whether events were published since the pump last read.
    dirty: bool,
}

/// The in-memory hub of session events: stream channels, engine wakeups, interrupt signals.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    channels: Mutex<HashMap<SessionId, Channel>>,
    wake_tx: mpsc::UnboundedSender<SessionId>,
    wake_rx: Mutex<Option<mpsc::UnboundedReceiver<SessionId>>>,
    turns: Mutex<HashMap<SessionId, CancellationToken>>,
    ping_interval_ms: AtomicU64,
}

/// Locks a mutex, recovering the data of a poisoned one (every critical section here leaves
/// the maps consistent).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl EventHub {
    /// An empty hub over the platform's database, with the default ping interval.
    pub fn new(db: Db) -> Self {
        let (wake_tx, wake_rx) = mpsc::unbounded_channel();
        Self {
            inner: Arc::new(Inner {
                db,
                channels: Mutex::new(HashMap::new()),
                wake_tx,
                wake_rx: Mutex::new(Some(wake_rx)),
                turns: Mutex::new(HashMap::new()),
                ping_interval_ms: AtomicU64::new(millis(DEFAULT_PING_INTERVAL)),
            }),
        }
    }

    // --- streams ------------------------------------------------------------------------------

    /// Streams the events of a committed transaction to the session's open streams (with any
    /// other stored event they have not had yet, in storage order). Call it right after the
    /// transaction commits; never for one that rolled back. Needs a tokio runtime.
    pub fn publish(&self, out: Emitter) {
        let (session_id, _) = out.into_parts();
        self.poke(&session_id);
    }

    /// Makes the session's pump read and send what was stored since it last read.
    fn poke(&self, session_id: &SessionId) {
        let mut channels = lock(&self.inner.channels);
        let Some(channel) = channels.get_mut(session_id) else {
            return;
        };
        channel.dirty = true;
        if channel.pumping {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!("events published outside a tokio runtime are not streamed");
            return;
        };
        channel.pumping = true;
        runtime.spawn(self.clone().pump(session_id.clone()));
    }

    /// Sends the session's stored events past the channel's `last_seq`, until nothing new was
    /// published meanwhile. One pump per channel at a time.
    async fn pump(self, session_id: SessionId) {
        loop {
            let after = {
                let mut channels = lock(&self.inner.channels);
                let Some(channel) = channels.get_mut(&session_id) else {
                    return;
                };
                channel.dirty = false;
                channel.last_seq
            };
            let id = session_id.clone();
            let read = self
                .inner
                .db
                .read(move |conn| stored_after(conn, &id, after))
                .await;
            let rows = match read {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(
                        error = %e,
                        session_id = %session_id,
                        "cannot read events to stream; ending the streams"
                    );
                    lock(&self.inner.channels).remove(&session_id);
                    return;
                }
            };
            let mut channels = lock(&self.inner.channels);
            let Some(channel) = channels.get_mut(&session_id) else {
                return;
            };
            let full = rows.len() >= STREAM_BATCH;
            for (seq, event) in rows {
                if seq <= channel.last_seq {
                    continue;
                }
                channel.last_seq = seq;
                if let Some(published) = Published::new(&event) {
                    // An error means no subscriber is left; the channel is pruned below.
                    let _ = channel.sender.send(Arc::new(published));
                }
            }
            if channel.sender.receiver_count() == 0 {
                channels.remove(&session_id);
                return;
            }
            if !channel.dirty && !full {
                channel.pumping = false;
                return;
            }
        }
    }

    /// Subscribes to the session's events stored after `after_seq` (the session's last `seq`
    /// when the stream opened: see [`last_seq`](super::store::last_seq)). A stream that joins
    /// a session's open channel gets what the channel sends from now on.
    pub(crate) fn subscribe(&self, session_id: &SessionId, after_seq: i64) -> Subscription {
        let mut channels = lock(&self.inner.channels);
        let channel = channels
            .entry(session_id.clone())
            .or_insert_with(|| Channel {
                sender: broadcast::channel(CHANNEL_CAPACITY).0,
                last_seq: after_seq,
                pumping: false,
                dirty: false,
            });
        let receiver = channel.sender.subscribe();
        drop(channels);
        // Events stored between the caller's read and now are sent by this pump.
        self.poke(session_id);
        Subscription {
            receiver,
            session_id: session_id.clone(),
            hub: self.clone(),
        }
    }

    /// Number of open streams of a session (for tests and diagnostics).
    pub fn subscriber_count(&self, session_id: &SessionId) -> usize {
        lock(&self.inner.channels)
            .get(session_id)
            .map_or(0, |c| c.sender.receiver_count())
    }

    /// Removes a session's channel once its last subscriber is gone.
    fn prune(&self, session_id: &SessionId) {
        let mut channels = lock(&self.inner.channels);
        if channels
            .get(session_id)
            .is_some_and(|c| c.sender.receiver_count() == 0)
        {
            channels.remove(session_id);
        }
    }

    /// The session was deleted: sends `session.deleted` to its open streams, which end after
    /// it, and cancels its turn signal. The event is not stored (the session's history is gone
    /// with it).
    pub fn session_deleted(&self, session_id: &SessionId) {
        let event = SessionEvent::SessionDeleted(SessionDeleted {
            id: crate::ids::new_id(EventId::PREFIX),
            processed_at: crate::clock::now(),
        });
        if let Some(channel) = lock(&self.inner.channels).remove(session_id) {
            if let Some(published) = Published::new(&event) {
                let _ = channel.sender.send(Arc::new(published));
            }
        }
        if let Some(token) = lock(&self.inner.turns).remove(session_id) {
            token.cancel();
        }
    }

    /// Interval of the `event: ping` keep-alives of streams opened from now on.
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.inner.ping_interval_ms.load(Ordering::Relaxed))
    }

    /// Sets the keep-alive interval of streams opened from now on (default
    /// [`DEFAULT_PING_INTERVAL`]; at least 1 ms).
    pub fn set_ping_interval(&self, interval: Duration) {
        self.inner
            .ping_interval_ms
            .store(millis(interval).max(1), Ordering::Relaxed);
    }

    // --- engine wakeups -----------------------------------------------------------------------

    /// Tells the engine that a session has new input (accepted client events, or initial events
    /// of a new session).
    pub fn wake(&self, session_id: &SessionId) {
        // Fails only when the engine dropped its receiver (the platform is stopping).
        let _ = self.inner.wake_tx.send(session_id.clone());
    }

    /// The receiving end of the wakeups, for the engine's dispatcher. `Some` once; `None`
    /// after it was taken.
    pub fn take_wakeups(&self) -> Option<mpsc::UnboundedReceiver<SessionId>> {
        lock(&self.inner.wake_rx).take()
    }

    // --- interrupts ---------------------------------------------------------------------------

    /// The token the next [`interrupt`](Self::interrupt) of the session cancels.
    ///
    /// The engine takes it when a turn starts, *before* reading the session's pending input:
    /// an interrupt accepted after that cancels this token, and one accepted before is already
    /// in the history it reads. After an interrupt (or a session deletion) the next call
    /// returns a fresh token.
    pub fn turn_signal(&self, session_id: &SessionId) -> CancellationToken {
        lock(&self.inner.turns)
            .entry(session_id.clone())
            .or_default()
            .clone()
    }

    /// Signals a `user.interrupt`: cancels the session's current turn token, if any.
    pub fn interrupt(&self, session_id: &SessionId) {
        if let Some(token) = lock(&self.inner.turns).remove(session_id) {
            token.cancel();
        }
    }

    /// Forgets a session's turn token without cancelling it (the engine calls it when a session
    /// is done for good, to free the entry).
    pub fn forget_turn(&self, session_id: &SessionId) {
        lock(&self.inner.turns).remove(session_id);
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Why a subscription stopped delivering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// The channel closed (session deleted, or events arrived out of order).
    Ended,
    /// The subscriber fell too far behind.
    Lagged,
}

/// A stream's receiving end; unsubscribes (and prunes the channel) when dropped.
#[derive(Debug)]
pub(crate) struct Subscription {
    receiver: broadcast::Receiver<Arc<Published>>,
    session_id: SessionId,
    hub: EventHub,
}

impl Subscription {
    /// The next published event, or why there will be none.
    pub(crate) async fn recv(&mut self) -> Result<Arc<Published>, Closed> {
        match self.receiver.recv().await {
            Ok(published) => Ok(published),
            Err(broadcast::error::RecvError::Closed) => Err(Closed::Ended),
            Err(broadcast::error::RecvError::Lagged(_)) => Err(Closed::Lagged),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // The receiver is still alive here; replace it so the count drops before pruning.
        let receiver = std::mem::replace(&mut self.receiver, broadcast::channel(1).1);
        drop(receiver);
        self.hub.prune(&self.session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> (EventHub, tempfile::TempDir) {
        let (db, dir, _) = crate::events::store::test_db();
        (EventHub::new(db), dir)
    }

    fn message(text: &str) -> SessionEvent {
        serde_json::from_value(serde_json::json!({"type": "user.message", "id": "x",
            "content": [{"type": "text", "text": text}], "processed_at": null}))
        .unwrap()
    }

    /// Stores `texts` as messages in one transaction; returns the emitter to publish.
    fn store(hub: &EventHub, texts: &[&str]) -> Emitter {
        hub.inner
            .db
            .write_blocking(|tx| {
                let mut out = Emitter::new(SessionId::new("sesn_1"));
                for text in texts {
                    out.emit(tx, message(text))?;
                }
                Ok(out)
            })
            .unwrap()
    }

    async fn texts(sub: &mut Subscription, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..n {
            let published = tokio::time::timeout(Duration::from_secs(5), sub.recv())
                .await
                .unwrap()
                .unwrap();
            let frame = std::str::from_utf8(&published.frame).unwrap();
            let data = frame
                .lines()
                .nth(1)
                .unwrap()
                .strip_prefix("data: ")
                .unwrap();
            let event: serde_json::Value = serde_json::from_str(data).unwrap();
            out.push(event["content"][0]["text"].as_str().unwrap().to_owned());
        }
        out
    }

    #[tokio::test]
    async fn streams_follow_storage_order_whatever_the_publish_order() {
        let (hub, _dir) = hub();
        let session = SessionId::new("sesn_1");
        let before = store(&hub, &["old"]);
        hub.publish(before);
        let mut sub = hub.subscribe(&session, 1);
        let first = store(&hub, &["a", "b"]);
        let second = store(&hub, &["c"]);
        let unpublished = store(&hub, &["d"]);
        // Published in the other order than committed, one never published: the stream
        // still has every event stored after it opened, once, in storage order.
        hub.publish(second);
        hub.publish(first);
        drop(unpublished);
        assert_eq!(texts(&mut sub, 4).await, ["a", "b", "c", "d"]);
        hub.publish(store(&hub, &["e"]));
        assert_eq!(texts(&mut sub, 1).await, ["e"]);
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_ended() {
        let (hub, _dir) = hub();
        let session = SessionId::new("sesn_1");
        let mut slow = hub.subscribe(&session, 0);
        let mut fast = hub.subscribe(&session, 0);
        let texts_owned: Vec<String> = (0..CHANNEL_CAPACITY + 10).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = texts_owned.iter().map(String::as_str).collect();
        for chunk in refs.chunks(500) {
            hub.publish(store(&hub, chunk));
            // The fast one keeps up.
            assert_eq!(texts(&mut fast, chunk.len()).await, chunk);
        }
        loop {
            match slow.recv().await {
                Ok(_) => {}
                Err(closed) => {
                    assert_eq!(closed, Closed::Lagged);
                    break;
                }
            }
        }
    }

    #[test]
    fn turn_signals_are_per_generation() {
        let (hub, _dir) = hub();
        let session = SessionId::new("sesn_1");
        let first = hub.turn_signal(&session);
        assert!(!first.is_cancelled());
        assert!(!hub.turn_signal(&session).is_cancelled());
        hub.interrupt(&session);
        assert!(first.is_cancelled());
        let second = hub.turn_signal(&session);
        assert!(!second.is_cancelled());
        hub.forget_turn(&session);
        hub.interrupt(&session);
        assert!(!second.is_cancelled());
    }

    #[test]
    fn wakeups_are_taken_once() {
        let (hub, _dir) = hub();
        let mut rx = hub.take_wakeups().unwrap();
        assert!(hub.take_wakeups().is_none());
        hub.wake(&SessionId::new("sesn_1"));
        assert_eq!(rx.try_recv().unwrap(), SessionId::new("sesn_1"));
    }

    #[tokio::test]
    async fn subscribers_unsubscribe_on_drop() {
        let (hub, _dir) = hub();
        let session = SessionId::new("sesn_1");
        let a = hub.subscribe(&session, 0);
        let b = hub.subscribe(&session, 0);
        assert_eq!(hub.subscriber_count(&session), 2);
        drop(a);
        assert_eq!(hub.subscriber_count(&session), 1);
        drop(b);
        assert_eq!(hub.subscriber_count(&session), 0);
        assert!(lock(&hub.inner.channels).is_empty());
    }

    #[tokio::test]
    async fn deletion_reaches_subscribers_then_ends() {
        let (hub, _dir) = hub();
        let session = SessionId::new("sesn_1");
        let mut sub = hub.subscribe(&session, 0);
        hub.session_deleted(&session);
        let published = sub.recv().await.unwrap();
        assert!(published.ends_stream);
        assert!(
            published
                .frame
                .starts_with(b"event: session.deleted\ndata: {")
        );
        assert_eq!(sub.recv().await.unwrap_err(), Closed::Ended);
    }
}
