//! The Server-Sent Events response of `GET …/events/stream` and `GET …/threads/{id}/stream`.
//!
//! The response (status 200, `content-type: text/event-stream`, whatever the request's
//! `Accept`) is sent at once; its body is written by a task per stream that forwards the
//! session's published events as `event: <type>\ndata: <single-line JSON>\n\n` messages and
//! sends `event: ping` keep-alives (`data: {"type":"ping"}`) at the hub's
//! [ping interval](super::EventHub::set_ping_interval). The body ends when the session is
//! deleted (after its `session.deleted` message), when the subscriber falls behind or its
//! channel is reset (the client reconnects and reads the gap from the list), and when the
//! platform shuts down. The task ends when the client goes away (its next write fails).
//!
//! The body is produced through an in-memory pipe (`tokio::io::duplex`): the task writes SSE
//! text into one end and the response streams the other. A client that stops reading fills
//! the pipe, the task stops receiving, and the subscriber lags and is ended.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use steward_core::SessionThreadId;
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::io::ReaderStream;
use tokio_util::sync::CancellationToken;

use super::hub::Subscription;

/// The keep-alive message.
const PING: &[u8] = b"event: ping\ndata: {\"type\":\"ping\"}\n\n";

/// Bytes a stream may have written but the client not yet read.
const PIPE_CAPACITY: usize = 64 * 1024;

/// Streams `subscription` as SSE. With `thread`, only the events of that (primary) thread are
/// sent: those naming no thread and those naming it.
pub(super) fn response(
    subscription: Subscription,
    ping: Duration,
    shutdown: CancellationToken,
    thread: Option<SessionThreadId>,
) -> Response {
    let (reader, writer) = tokio::io::duplex(PIPE_CAPACITY);
    tokio::spawn(pump(subscription, writer, ping, shutdown, thread));
    let mut response =
        (StatusCode::OK, Body::from_stream(ReaderStream::new(reader))).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Forwards published events and pings into the pipe until the stream has to end.
async fn pump(
    mut subscription: Subscription,
    mut writer: DuplexStream,
    ping: Duration,
    shutdown: CancellationToken,
    thread: Option<SessionThreadId>,
) {
    let mut ticker = tokio::time::interval_at(Instant::now() + ping, ping);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let (frame, last) = tokio::select! {
            () = shutdown.cancelled() => break,
            _ = ticker.tick() => (Bytes::from_static(PING), false),
            next = subscription.recv() => match next {
                Ok(published) => {
                    let wanted = match (&thread, &published.session_thread_id) {
                        (Some(primary), Some(named)) => primary.as_str() == named,
                        _ => true,
                    };
                    if !wanted {
                        continue;
                    }
                    (published.frame.clone(), published.ends_stream)
                }
                Err(closed) => {
                    tracing::debug!(?closed, "event stream ends");
                    break;
                }
            },
        };
        let written = tokio::select! {
            () = shutdown.cancelled() => break,
            written = writer.write_all(&frame) => written,
        };
        if written.is_err() || last {
            break;
        }
    }
    let _ = writer.shutdown().await;
}
