//! [`ChaosProxy`]: an HTTP/1 proxy on `127.0.0.1:0` in front of an upstream base URL that
//! injects faults at points chosen by a seed, to test clients against an unreliable network.
//!
//! What it injects (each with a probability of [`ChaosConfig`]):
//!
//! * **event streams** (`GET …/events/stream`): drops the connection mid-stream (in the middle
//!   of a chunk, so the client holds half an SSE frame), or stalls it for
//!   [`ChaosConfig::stall`] (longer than the client's idle timeout) while upstream keeps
//!   producing, then ends it;
//! * **event posts** (`POST …/events`): fails them with 500, 503 or 429 (each with
//!   `retry-after: 0`) or a closed connection, either *before* forwarding (upstream never saw
//!   the post) or *after* (upstream processed it, the client sees a failure: the hard case for
//!   exactly-once delivery). Posts carrying a `user.message` (the caller's input, which the
//!   client cannot safely repeat) only get 429s before forwarding unless
//!   [`ChaosConfig::fault_input_posts`] is set;
//! * **any request**: a delay of up to [`ChaosConfig::max_delay`] before it is forwarded.
//!
//! Responses are forwarded chunk by chunk as they arrive (never buffered), so streams stay live.
//! Every decision is drawn from one [`StdRng`] seeded with [`ChaosConfig::seed`]; the sequence
//! of decisions is fixed by the seed, but which request gets which decision depends on the
//! order requests arrive in, so a replay with the same seed is close to, not exactly, the same
//! run. [`ChaosProxy::counts`] says what was injected.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use steward_test_support::chaos::{ChaosConfig, ChaosProxy};
//!
//! let proxy = ChaosProxy::start("http://127.0.0.1:8080", ChaosConfig::new(7)).await?;
//! // Point the client at `proxy.url()` instead of the upstream.
//! # let _ = proxy.url();
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The body of every response of the proxy.
type ProxyBody = BoxBody<Bytes, io::Error>;

/// What the proxy injects, and how often. Probabilities are in `0.0..=1.0`.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// The seed of every decision.
    pub seed: u64,
    /// The chance that an event stream is dropped after a few chunks.
    pub sse_drop: f64,
    /// The chance that an event stream stalls after a few chunks.
    pub sse_stall: f64,
    /// How long a stalled stream stalls before it ends (set it past the client's idle timeout).
    pub stall: Duration,
    /// The most chunks a stream carries before its drop or stall (at least one).
    pub max_chunks_before_fault: usize,
    /// The chance that an event post fails before it is forwarded.
    pub post_fail_before: f64,
    /// The chance that an event post fails after upstream processed it.
    pub post_fail_after: f64,
    /// Fault posts carrying a `user.message` like any other (by default they only get 429s
    /// before forwarding, which a client retries safely).
    pub fault_input_posts: bool,
    /// The chance that a request is delayed.
    pub delay: f64,
    /// The longest delay.
    pub max_delay: Duration,
}

impl ChaosConfig {
    /// Moderate chaos: a quarter of streams dropped and a tenth stalled (for 2 s), a tenth of
    /// posts failed before and a tenth after forwarding, a fifth of requests delayed (up to
    /// 50 ms).
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            sse_drop: 0.25,
            sse_stall: 0.1,
            stall: Duration::from_secs(2),
            max_chunks_before_fault: 8,
            post_fail_before: 0.1,
            post_fail_after: 0.1,
            fault_input_posts: false,
            delay: 0.2,
            max_delay: Duration::from_millis(50),
        }
    }
}

/// How a post is failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// An error response with this status and `retry-after: 0`.
    Status(u16),
    /// The connection is closed without a response.
    Reset,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(f, "{status}"),
            Self::Reset => f.write_str("reset"),
        }
    }
}

/// One kind of injected fault, the key of [`ChaosProxy::counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// An event stream was dropped mid-stream.
    SseDropped,
    /// An event stream stalled.
    SseStalled,
    /// An event post failed before it was forwarded.
    PostBefore(Failure),
    /// An event post failed after upstream processed it.
    PostAfter(Failure),
    /// A request was delayed.
    Delayed,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SseDropped => f.write_str("stream dropped"),
            Self::SseStalled => f.write_str("stream stalled"),
            Self::PostBefore(failure) => write!(f, "post failed before forwarding ({failure})"),
            Self::PostAfter(failure) => write!(f, "post failed after forwarding ({failure})"),
            Self::Delayed => f.write_str("delayed"),
        }
    }
}

/// When a post fails.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Before,
    After,
}

/// What happens to one event stream.
#[derive(Debug, Clone, Copy)]
enum StreamPlan {
    Pass,
    Drop { after: usize },
    Stall { after: usize },
}

struct State {
    upstream: String,
    http: reqwest::Client,
    config: ChaosConfig,
    rng: Mutex<StdRng>,
    counts: Mutex<BTreeMap<Fault, u64>>,
    requests: AtomicU64,
}

impl State {
    fn rng(&self) -> MutexGuard<'_, StdRng> {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self, fault: Fault) {
        *self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(fault)
            .or_default() += 1;
    }

    fn decide_delay(&self) -> Option<Duration> {
        let mut rng = self.rng();
        if self.config.delay > 0.0 && rng.random_bool(self.config.delay.min(1.0)) {
            let max = self.config.max_delay.as_millis().max(1);
            let millis = u64::try_from(rng.random_range(0..=max)).unwrap_or(u64::MAX);
            Some(Duration::from_millis(millis))
        } else {
            None
        }
    }

    fn decide_stream(&self) -> StreamPlan {
        let mut rng = self.rng();
        let after = rng.random_range(1..=self.config.max_chunks_before_fault.max(1));
        let roll: f64 = rng.random();
        if roll < self.config.sse_drop {
            StreamPlan::Drop { after }
        } else if roll < self.config.sse_drop + self.config.sse_stall {
            StreamPlan::Stall { after }
        } else {
            StreamPlan::Pass
        }
    }

    fn decide_post(&self, body: &[u8]) -> Option<(Phase, Failure)> {
        let mut rng = self.rng();
        let roll: f64 = rng.random();
        let input = contains(body, b"\"user.message\"");
        if input && !self.config.fault_input_posts {
            return (roll < self.config.post_fail_before)
                .then_some((Phase::Before, Failure::Status(429)));
        }
        let phase = if roll < self.config.post_fail_before {
            Phase::Before
        } else if roll < self.config.post_fail_before + self.config.post_fail_after {
            Phase::After
        } else {
            return None;
        };
        let failure = match rng.random_range(0..4u8) {
            0 => Failure::Status(500),
            1 => Failure::Status(503),
            2 => Failure::Status(429),
            _ => Failure::Reset,
        };
        Some((phase, failure))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The fault-injecting proxy (see the [module docs](self)). Stops serving when dropped.
pub struct ChaosProxy {
    url: String,
    state: Arc<State>,
    shutdown: CancellationToken,
}

impl fmt::Debug for ChaosProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChaosProxy")
            .field("url", &self.url)
            .field("upstream", &self.state.upstream)
            .field("config", &self.state.config)
            .finish_non_exhaustive()
    }
}

impl ChaosProxy {
    /// Starts a proxy on `127.0.0.1:0` in front of `upstream` (a base URL such as
    /// `http://127.0.0.1:8080`; request paths are appended to it). Must be called within a
    /// tokio runtime.
    pub async fn start(upstream: impl Into<String>, config: ChaosConfig) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(io::Error::other)?;
        let state = Arc::new(State {
            upstream: upstream.into().trim_end_matches('/').to_owned(),
            http,
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            config,
            counts: Mutex::new(BTreeMap::new()),
            requests: AtomicU64::new(0),
        });
        let shutdown = CancellationToken::new();
        tokio::spawn(accept(listener, state.clone(), shutdown.clone()));
        Ok(Self {
            url: format!("http://{addr}"),
            state,
            shutdown,
        })
    }

    /// The proxy's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many faults of each kind were injected so far.
    pub fn counts(&self) -> BTreeMap<Fault, u64> {
        self.state
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many faults were injected so far, delays included.
    pub fn total_faults(&self) -> u64 {
        self.counts().values().sum()
    }

    /// How many requests reached the proxy.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// One line per kind of fault injected: `stream dropped: 12`.
    pub fn report(&self) -> String {
        let mut out = format!("requests: {}\n", self.requests());
        for (fault, n) in self.counts() {
            out.push_str(&format!("{fault}: {n}\n"));
        }
        out
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn accept(listener: TcpListener, state: Arc<State>, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let state = state.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            // Cancelled by a handler to close the connection without a response.
            let reset = CancellationToken::new();
            let handler_reset = reset.clone();
            let service =
                service_fn(move |request| handle(state.clone(), handler_reset.clone(), request));
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "chaos proxy connection ended");
                    }
                }
                () = reset.cancelled() => {}
                () = shutdown.cancelled() => {}
            }
        });
    }
}

async fn handle(
    state: Arc<State>,
    reset: CancellationToken,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(delay) = state.decide_delay() {
        state.count(Fault::Delayed);
        tokio::time::sleep(delay).await;
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let target = format!(
        "{}{}",
        state.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Ok(bad_gateway(&error.to_string())),
    };
    let is_stream = parts.method == Method::GET && path.ends_with("/events/stream");
    let post_fault = (parts.method == Method::POST && path.ends_with("/events"))
        .then(|| state.decide_post(&body))
        .flatten();

    if let Some((Phase::Before, failure)) = post_fault {
        state.count(Fault::PostBefore(failure));
        return Ok(fail(failure, &reset).await);
    }

    let mut forward = state.http.request(parts.method.clone(), &target);
    for (name, value) in &parts.headers {
        if name != HOST && name != CONTENT_LENGTH && name != CONNECTION && name != TRANSFER_ENCODING
        {
            forward = forward.header(name, value);
        }
    }
    let upstream = match forward.body(body).send().await {
        Ok(response) => response,
        Err(error) => return Ok(bad_gateway(&error.to_string())),
    };

    if let Some((Phase::After, failure)) = post_fault {
        // Let upstream finish processing (read its whole answer), then fail.
        let _ = upstream.bytes().await;
        state.count(Fault::PostAfter(failure));
        return Ok(fail(failure, &reset).await);
    }

    let plan = if is_stream && upstream.status().is_success() {
        state.decide_stream()
    } else {
        StreamPlan::Pass
    };
    let mut response = Response::builder().status(upstream.status());
    for (name, value) in upstream.headers() {
        if name != CONTENT_LENGTH && name != CONNECTION && name != TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let body = pump(state, upstream, plan);
    Ok(response
        .body(body)
        .unwrap_or_else(|error| bad_gateway(&error.to_string())))
}

/// Forwards upstream's body chunk by chunk, applying the stream's plan.
fn pump(state: Arc<State>, upstream: reqwest::Response, plan: StreamPlan) -> ProxyBody {
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(16);
    let stall = state.config.stall;
    tokio::spawn(async move {
        let mut chunks = upstream.bytes_stream();
        let mut seen = 0usize;
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    let _ = tx.send(Err(io::Error::other(error))).await;
                    return;
                }
            };
            seen += 1;
            match plan {
                StreamPlan::Drop { after } if seen >= after => {
                    state.count(Fault::SseDropped);
                    let half = chunk.slice(..chunk.len() / 2);
                    if !half.is_empty() {
                        let _ = tx.send(Ok(half)).await;
                    }
                    let _ = tx
                        .send(Err(io::Error::new(
                            io::ErrorKind::ConnectionReset,
                            "chaos: stream dropped",
                        )))
                        .await;
                    return;
                }
                StreamPlan::Stall { after } if seen >= after => {
                    state.count(Fault::SseStalled);
                    if tx.send(Ok(chunk)).await.is_err() {
                        return;
                    }
                    // Hold the upstream stream open, send nothing, then end.
                    tokio::select! {
                        () = tokio::time::sleep(stall) => {}
                        () = tx.closed() => {}
                    }
                    return;
                }
                _ => {}
            }
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
    });
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item.map(Frame::data), rx))
    });
    BodyExt::boxed(StreamBody::new(frames))
}

/// A failure: an error response, or a closed connection (the returned future never resolves;
/// the connection's task drops it).
async fn fail(failure: Failure, reset: &CancellationToken) -> Response<ProxyBody> {
    match failure {
        Failure::Status(status) => {
            let kind = match status {
                429 => "rate_limit_error",
                503 | 529 => "overloaded_error",
                _ => "api_error",
            };
            let body = format!(
                r#"{{"type":"error","error":{{"type":"{kind}","message":"chaos: injected {status}"}}}}"#
            );
            let mut response = Response::new(full(body));
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let headers = response.headers_mut();
            headers.insert("retry-after", HeaderValue::from_static("0"));
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            response
        }
        Failure::Reset => {
            reset.cancel();
            futures::future::pending().await
        }
    }
}

fn bad_gateway(message: &str) -> Response<ProxyBody> {
    let mut response = Response::new(full(format!(
        r#"{{"type":"error","error":{{"type":"api_error","message":"chaos proxy: {}"}}}}"#,
        message.replace('"', "'")
    )));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

fn full(body: String) -> ProxyBody {
    BodyExt::boxed(Full::new(Bytes::from(body)).map_err(|never| match never {}))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// An upstream that counts posts and streams `chunks` chunks for any GET.
    async fn upstream(posts: Arc<AtomicUsize>, chunks: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let posts = posts.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let posts = posts.clone();
                        async move {
                            if request.method() == Method::POST {
                                posts.fetch_add(1, Ordering::SeqCst);
                                return Ok::<_, Infallible>(Response::new(full("{}".into())));
                            }
                            let frames = futures::stream::iter(0..chunks).then(|i| async move {
                                tokio::time::sleep(Duration::from_millis(5)).await;
                                Ok::<_, io::Error>(Frame::data(Bytes::from(format!(
                                    "data: {i}\n\n"
                                ))))
                            });
                            Ok(Response::new(BodyExt::boxed(StreamBody::new(frames))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        format!("http://{addr}")
    }

    fn quiet(seed: u64) -> ChaosConfig {
        ChaosConfig {
            sse_drop: 0.0,
            sse_stall: 0.0,
            post_fail_before: 0.0,
            post_fail_after: 0.0,
            delay: 0.0,
            ..ChaosConfig::new(seed)
        }
    }

    #[tokio::test]
    async fn without_faults_streams_pass_through_whole() {
        let posts = Arc::new(AtomicUsize::new(0));
        let proxy = ChaosProxy::start(upstream(posts, 20).await, quiet(1))
            .await
            .unwrap();
        let url = format!("{}/v1/sessions/s/events/stream", proxy.url());
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        let expected: String = (0..20).map(|i| format!("data: {i}\n\n")).collect();
        assert_eq!(text, expected);
        assert_eq!(proxy.total_faults(), 0);
    }

    #[tokio::test]
    async fn a_dropped_stream_ends_in_an_error_mid_chunk() {
        let posts = Arc::new(AtomicUsize::new(0));
        let config = ChaosConfig {
            sse_drop: 1.0,
            ..quiet(2)
        };
        let proxy = ChaosProxy::start(upstream(posts, 20).await, config)
            .await
            .unwrap();
        let url = format!("{}/v1/sessions/s/events/stream", proxy.url());
        let response = reqwest::get(&url).await.unwrap();
        let mut body = response.bytes_stream();
        let mut received = Vec::new();
        let mut failed = false;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => received.extend_from_slice(&chunk),
                Err(_) => failed = true,
            }
        }
        assert!(failed, "the stream should end in an error");
        assert!(!received.ends_with(b"\n\n"), "cut mid-frame: {received:?}");
        assert_eq!(proxy.counts().get(&Fault::SseDropped), Some(&1));
    }

    #[tokio::test]
    async fn posts_fail_before_or_after_upstream_sees_them() {
        for (before, after, seen) in [(1.0, 0.0, 0), (0.0, 1.0, 1)] {
            let posts = Arc::new(AtomicUsize::new(0));
            let config = ChaosConfig {
                post_fail_before: before,
                post_fail_after: after,
                ..quiet(3)
            };
            let proxy = ChaosProxy::start(upstream(posts.clone(), 0).await, config)
                .await
                .unwrap();
            let url = format!("{}/v1/sessions/s/events", proxy.url());
            let response = reqwest::Client::new()
                .post(&url)
                .body(r#"{"events":[{"type":"user.custom_tool_result"}]}"#)
                .send()
                .await;
            if let Ok(response) = response {
                assert!(!response.status().is_success());
                assert_eq!(response.headers()["retry-after"], "0");
            }
            assert_eq!(posts.load(Ordering::SeqCst), seen);
            assert_eq!(proxy.total_faults(), 1);
        }
    }
}
