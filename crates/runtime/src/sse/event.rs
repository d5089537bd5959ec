//! [`EventStream`]: SSE messages turned into typed events by the SDK's rules.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use serde::de::DeserializeOwned;
use tokio::time::{Instant, Sleep};

use super::parser::{SseMessage, SseParser};
use crate::error::{ApiErrorInfo, Error, TimeoutScope};

/// A boxed stream of body chunks.
type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// A `Stream` of typed events decoded from an SSE body.
///
/// Rules (those of the official SDK's `Stream.fromSSEResponse`):
/// * a message with no `event:` line is dropped, and so is `event: ping`;
/// * `event: error` becomes [`Error::Api`] with no status, its `data` parsed as the error
///   envelope;
/// * any other message with non-empty `data` is decoded as one JSON `T`; a decode failure is
///   [`Error::Decode`] naming the event.
///
/// The stream ends after its first error. With [`EventStream::idle_timeout`], receiving no
/// bytes at all for that long (keep-alive comments and pings count) yields [`Error::Timeout`]
/// with [`TimeoutScope::Idle`]; there is no timeout on the stream as a whole. Dropping the
/// stream drops the HTTP response and closes the connection.
pub struct EventStream<T> {
    inner: Chunks,
    parser: SseParser,
    pending: VecDeque<SseMessage>,
    idle: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    done: bool,
    truncated: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("idle", &self.idle)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> EventStream<T> {
    /// Typed events from a stream of byte chunks (an HTTP response body).
    pub fn from_bytes<S>(bytes: S) -> Self
    where
        S: Stream<Item = Result<Bytes, Error>> + Send + 'static,
    {
        Self {
            inner: Box::pin(bytes),
            parser: SseParser::new(),
            pending: VecDeque::new(),
            idle: None,
            sleep: None,
            done: false,
            truncated: false,
            _marker: PhantomData,
        }
    }

    /// Fails the stream when no bytes arrive for `idle`.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = Some(idle);
        self
    }

    /// Whether the body ended in the middle of a message (known once the stream returned
    /// `None`).
    pub fn ended_mid_message(&self) -> bool {
        self.truncated
    }
}

/// Applies the event rules to one message: `None` when it is dropped.
pub(crate) fn decode_message<T: DeserializeOwned>(message: SseMessage) -> Option<Result<T, Error>> {
    let event = message.event?;
    match event.as_str() {
        "ping" => None,
        "error" => Some(Err(Error::Api(Box::new(ApiErrorInfo::from_event_data(
            &message.data,
        ))))),
        _ if message.data.is_empty() => None,
        _ => Some(
            serde_json::from_str(&message.data)
                .map_err(|e| Error::decode(format!("event `{event}`"), e)),
        ),
    }
}

impl<T: DeserializeOwned> Stream for EventStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            while let Some(message) = this.pending.pop_front() {
                if let Some(item) = decode_message(message) {
                    if item.is_err() {
                        this.done = true;
                        this.pending.clear();
                    }
                    return Poll::Ready(Some(item));
                }
            }
            if this.done {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if let (Some(idle), Some(sleep)) = (this.idle, this.sleep.as_mut()) {
                        sleep.as_mut().reset(Instant::now() + idle);
                    }
                    this.parser.feed(&chunk, &mut this.pending);
                }
                Poll::Ready(Some(Err(error))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    this.truncated = this.parser.finish();
                }
                Poll::Pending => {
                    // Nothing is pending while the stream waits: give the queue's room back (an
                    // idle session's stream would otherwise keep it for good).
                    if this.pending.capacity() > 0 {
                        this.pending = VecDeque::new();
                    }
                    let Some(idle) = this.idle else {
                        return Poll::Pending;
                    };
                    let sleep = this
                        .sleep
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                    if sleep.as_mut().poll(cx).is_ready() {
                        this.done = true;
                        return Poll::Ready(Some(Err(Error::Timeout {
                            scope: TimeoutScope::Idle,
                            after: idle,
                        })));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt, stream};
    use serde_json::Value;

    fn bytes(parts: &[&'static str]) -> impl Stream<Item = Result<Bytes, Error>> + Send + use<> {
        let parts: Vec<_> = parts
            .iter()
            .map(|p| Ok(Bytes::from_static(p.as_bytes())))
            .collect();
        stream::iter(parts)
    }

    #[tokio::test]
    async fn drops_pings_and_unnamed_messages_and_decodes_the_rest() {
        let events: Vec<Value> = EventStream::from_bytes(bytes(&[
            "data: {\"no\":\"event\"}\n\n",
            "event: ping\ndata: {}\n\n",
            "event: session.status_idle\ndata: {\"type\":\"session.status_idle\"}\n\n",
            "event: x\ndata:\n\n",
            ": comment\n\nevent: a\ndata: {\"n\":\n",
            "data: 1}\n\n",
        ]))
        .map(Result::unwrap)
        .collect()
        .await;
        assert_eq!(
            events,
            [
                serde_json::json!({"type": "session.status_idle"}),
                serde_json::json!({"n": 1})
            ]
        );
    }

    #[tokio::test]
    async fn error_events_become_api_errors_and_end_the_stream() {
        let mut events = EventStream::<Value>::from_bytes(bytes(&[
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n",
            "event: a\ndata: {}\n\n",
        ]));
        let error = events.next().await.unwrap().unwrap_err();
        assert_eq!(error.status(), None);
        assert_eq!(
            error.error_type(),
            Some(&steward_core::ErrorType::Overloaded)
        );
        assert!(events.next().await.is_none());
    }

    #[tokio::test]
    async fn invalid_json_is_a_decode_error_naming_the_event() {
        let mut events =
            EventStream::<Value>::from_bytes(bytes(&["event: agent.message\ndata: {oops\n\n"]));
        let error = events.next().await.unwrap().unwrap_err();
        assert!(
            matches!(&error, Error::Decode { what, .. } if what == "event `agent.message`"),
            "{error:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_fires_without_bytes_but_keep_alives_reset_it() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, Error>>();
        let mut events = EventStream::<Value>::from_bytes(rx).idle_timeout(Duration::from_secs(5));
        let feeder = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                tx.unbounded_send(Ok(Bytes::from_static(b":\n\n"))).unwrap();
            }
            tx.unbounded_send(Ok(Bytes::from_static(b"event: a\ndata: 1\n\n")))
                .unwrap();
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(tx);
        });
        let start = Instant::now();
        assert_eq!(events.next().await.unwrap().unwrap(), Value::from(1));
        assert_eq!(start.elapsed(), Duration::from_secs(12));
        let error = events.next().await.unwrap().unwrap_err();
        assert!(matches!(
            error,
            Error::Timeout {
                scope: TimeoutScope::Idle,
                ..
            }
        ));
        assert_eq!(start.elapsed(), Duration::from_secs(17));
        feeder.abort();
    }
}
