//! The resilient event stream against a test server that drops its SSE connections.
//!
//! The server holds one session whose 1,000 events are produced over time (three share each
//! `processed_at`, to exercise the `created_at[gte]` seam). Its stream sends only events
//! produced after the connect, like the API's, and each connection ends at a random point, in a
//! random way: a clean close, a reset (sometimes in the middle of a message), or a stall the
//! client's idle timeout must notice; some connects and some list pages fail with a 5xx. The
//! randomness is seeded: set `STEWARD_RESILIENCE_SEED` to replay a failing seed.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http::StatusCode;
use pretty_assertions::assert_eq;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use steward_core::{SessionId, Timestamp};
use steward_runtime::resilient::ResilientStats;
use steward_runtime::{Client, EventCursor, ResilientOptions, StartFrom};
use tokio::sync::watch;

use crate::support::{Recorded, json, serve};

const TOTAL: usize = 1000;
const HISTORY: usize = 100;

/// `processed_at` of event `i`: three events per millisecond, fixed width, so the server may
/// compare them as strings.
fn ts(i: usize) -> String {
    let ms = i / 3;
    format!("2026-04-01T00:00:{:02}.{:03}000Z", ms / 1000, ms % 1000)
}

fn event(i: usize) -> Value {
    if i % 10 == 9 {
        // An event type this version does not know: it must be de-duplicated and ordered too.
        json!({"type": "agent.hologram", "id": format!("sevt_{i:04}"), "processed_at": ts(i)})
    } else {
        json!({
            "type": "agent.message",
            "id": format!("sevt_{i:04}"),
            "processed_at": ts(i),
            "content": [{"type": "text", "text": format!("event {i}")}]
        })
    }
}

fn sse_frame(i: usize) -> String {
    let e = event(i);
    format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap())
}

/// One call to the list endpoint.
#[derive(Debug, Clone)]
struct ListCall {
    query: String,
    filtered: bool,
    /// Events returned (0 for an injected failure).
    returned: usize,
}

/// The simulated session.
struct Sim {
    seed: u64,
    produced: watch::Sender<usize>,
    connections: AtomicUsize,
    rng: Mutex<StdRng>,
    lists: Mutex<Vec<ListCall>>,
    chaos: bool,
}

impl Sim {
    fn new(seed: u64, history: usize, chaos: bool) -> Arc<Self> {
        Arc::new(Self {
            seed,
            produced: watch::channel(history).0,
            connections: AtomicUsize::new(0),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            lists: Mutex::default(),
            chaos,
        })
    }

    /// Produces the remaining events, one to three per millisecond.
    fn start_producing(self: &Arc<Self>) {
        let sim = self.clone();
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(sim.seed ^ 0x5eed);
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let n = rng.random_range(1..=3);
                let done = sim.produced.send_modify_ret(n);
                if done {
                    return;
                }
            }
        });
    }

    fn handle(self: &Arc<Self>, request: &Recorded) -> Response {
        if request.path.ends_with("/events/stream") {
            self.stream()
        } else if request.path.ends_with("/events") {
            self.list(request.query.as_deref().unwrap_or(""))
        } else {
            json(
                404,
                r#"{"type":"error","error":{"type":"not_found_error","message":"no"}}"#,
                &[],
            )
        }
    }

    fn stream(self: &Arc<Self>) -> Response {
        let k = self.connections.fetch_add(1, Ordering::SeqCst);
        let mut rng = StdRng::seed_from_u64(self.seed.wrapping_add(k as u64 * 7919));
        if self.chaos && k > 0 && rng.random_bool(0.1) {
            return json(
                500,
                r#"{"type":"error","error":{"type":"api_error","message":"x"}}"#,
                &[],
            );
        }
        let budget = if self.chaos {
            rng.random_range(0..80)
        } else {
            usize::MAX
        };
        let mode = rng.random_range(0..4u8);
        let state = StreamState {
            next: *self.produced.borrow(),
            sent: 0,
            budget,
            mode,
            produced: self.produced.subscribe(),
            ended: false,
            queue: VecDeque::new(),
        };
        let body = futures::stream::unfold(state, |mut s| async move {
            if let Some(item) = s.queue.pop_front() {
                return Some((item, s));
            }
            if s.ended {
                return None;
            }
            if s.sent == s.budget {
                s.ended = true;
                match s.mode {
                    // A clean close.
                    0 => return None,
                    // A reset right after a whole message.
                    1 => s.queue.push_back(Err(std::io::Error::other("reset"))),
                    // A reset in the middle of a message.
                    2 => {
                        let frame = sse_frame(s.next.min(TOTAL - 1));
                        let half = frame[..frame.len() / 2].to_owned();
                        s.queue.push_back(Ok(Bytes::from(half)));
                        s.queue.push_back(Err(std::io::Error::other("reset")));
                    }
                    // A stall: the connection stays open and silent.
                    _ => futures::future::pending::<()>().await,
                }
                let item = s.queue.pop_front()?;
                return Some((item, s));
            }
            if s.next >= TOTAL {
                futures::future::pending::<()>().await;
            }
            while *s.produced.borrow_and_update() <= s.next {
                if s.produced.changed().await.is_err() {
                    return None;
                }
            }
            let frame = sse_frame(s.next);
            s.next += 1;
            s.sent += 1;
            Some((Ok(Bytes::from(frame)), s))
        });
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(body))
            .unwrap()
    }

    fn list(&self, query: &str) -> Response {
        let url = reqwest::Url::parse(&format!("http://x/?{query}")).unwrap();
        let (mut gte, mut gt, mut page, mut limit, mut desc) = (None, None, 0, 100, false);
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "created_at[gte]" => gte = Some(value.into_owned()),
                "created_at[gt]" => gt = Some(value.into_owned()),
                "page" => page = value.parse().unwrap(),
                "limit" => limit = value.parse().unwrap(),
                "order" => desc = value == "desc",
                _ => {}
            }
        }
        let filtered = gte.is_some() || gt.is_some();
        let mut call = ListCall {
            query: query.to_owned(),
            filtered,
            returned: 0,
        };
        if self.chaos && filtered && self.rng.lock().unwrap().random_bool(0.15) {
            self.lists.lock().unwrap().push(call);
            return json(
                500,
                r#"{"type":"error","error":{"type":"api_error","message":"x"}}"#,
                &[],
            );
        }
        let visible = *self.produced.borrow();
        let mut matching: Vec<usize> = (0..visible)
            .filter(|&i| gte.as_deref().is_none_or(|t| ts(i).as_str() >= t))
            .filter(|&i| gt.as_deref().is_none_or(|t| ts(i).as_str() > t))
            .collect();
        if desc {
            matching.reverse();
        }
        let rest: Vec<usize> = matching.into_iter().skip(page).collect();
        let data: Vec<Value> = rest.iter().take(limit).map(|&i| event(i)).collect();
        let next = (rest.len() > limit).then(|| (page + limit).to_string());
        call.returned = data.len();
        self.lists.lock().unwrap().push(call);
        json(
            200,
            &json!({"data": data, "next_page": next}).to_string(),
            &[],
        )
    }
}

struct StreamState {
    next: usize,
    sent: usize,
    budget: usize,
    mode: u8,
    produced: watch::Receiver<usize>,
    ended: bool,
    /// Items to send before anything else (a half message, then a reset).
    queue: VecDeque<Result<Bytes, std::io::Error>>,
}

trait SendModifyRet {
    fn send_modify_ret(&self, n: usize) -> bool;
}

impl SendModifyRet for watch::Sender<usize> {
    /// Adds `n` (up to [`TOTAL`]) and tells whether all events are produced.
    fn send_modify_ret(&self, n: usize) -> bool {
        let mut done = false;
        self.send_modify(|produced| {
            *produced = (*produced + n).min(TOTAL);
            done = *produced == TOTAL;
        });
        done
    }
}

async fn serve_sim(sim: &Arc<Sim>) -> crate::support::Server {
    let handler_sim = sim.clone();
    serve(move |request, _| {
        let sim = handler_sim.clone();
        async move { sim.handle(&request) }
    })
    .await
}

fn seed() -> u64 {
    std::env::var("STEWARD_RESILIENCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random)
}

fn fast_options() -> ResilientOptions {
    ResilientOptions::default()
        .initial_backoff(Duration::from_millis(2))
        .max_backoff(Duration::from_millis(20))
        .idle_timeout(Duration::from_millis(150))
        .page_limit(50)
}

#[tokio::test]
async fn every_event_exactly_once_in_order_across_random_drops() {
    let seed = seed();
    let ctx = format!("seed {seed} (replay with STEWARD_RESILIENCE_SEED={seed})");
    let sim = Sim::new(seed, HISTORY, true);
    let server = serve_sim(&sim).await;
    let client = server.client();
    let mut stream = client.sessions().events().stream_resilient(
        &SessionId::new("sesn_1"),
        fast_options().start(StartFrom::Beginning),
    );
    sim.start_producing();

    let mut ids = Vec::with_capacity(TOTAL);
    let collect = async {
        while ids.len() < TOTAL {
            let event = stream.next().await;
            let event = event.unwrap_or_else(|| panic!("stream ended early; {ctx}"));
            let event = event.unwrap_or_else(|e| panic!("stream failed: {e:?}; {ctx}"));
            ids.push(event.raw_id().unwrap().to_owned());
        }
    };
    let finished = tokio::time::timeout(Duration::from_secs(30), collect).await;
    let expect: Vec<String> = (0..TOTAL).map(|i| format!("sevt_{i:04}")).collect();
    if finished.is_err() {
        let missing: Vec<&String> = expect
            .iter()
            .filter(|id| !ids.contains(id))
            .take(5)
            .collect();
        panic!(
            "timed out after {} events, first missing {missing:?}; {ctx}",
            ids.len()
        );
    }
    assert_eq!(ids, expect, "{ctx}");

    let stats: ResilientStats = stream.stats();
    let lists = sim.lists.lock().unwrap().clone();
    assert!(
        stats.reconnects >= 3,
        "the server dropped connections: {stats:?}; {ctx}"
    );
    // The server cannot tell a stream request the client's retry layer repeated (a reset
    // before the headers) from a reconnect, so "after the first connect" is read from the
    // calls themselves: one unfiltered walk of the history (its first page, then cursors),
    // and only filtered calls once it is done.
    let first_filtered = lists.iter().position(|c| c.filtered).unwrap_or(lists.len());
    let (walk, rest) = lists.split_at(first_filtered);
    assert!(
        walk.first().is_some_and(|c| !c.query.contains("page=")),
        "the first connect walks the history: {walk:?}; {ctx}"
    );
    assert!(
        walk[1..].iter().all(|c| c.query.contains("page=")),
        "one walk of the history, not a restart: {walk:?}; {ctx}"
    );
    for call in rest {
        assert!(
            call.filtered && call.query.contains("created_at%5Bgte%5D="),
            "after the first connect every gap fill is filtered with `gte`: {call:?}; {ctx}"
        );
    }
    let filtered: Vec<&ListCall> = lists.iter().filter(|c| c.filtered).collect();
    let returned: usize = filtered.iter().map(|c| c.returned).sum();
    // Incremental: each event is listed at most once as new, plus at most the three that share
    // the cursor's timestamp per request. A gap fill that re-read the history would blow this.
    assert!(
        returned <= TOTAL + 3 * filtered.len(),
        "{returned} events listed by {} gap-fill requests; {ctx}",
        filtered.len()
    );
    assert!(
        stats.listed_events > HISTORY as u64,
        "some gaps were filled from the list: {stats:?}; {ctx}"
    );
    assert_eq!(
        stream.cursor(),
        Some(EventCursor {
            processed_at: Timestamp::new(ts(TOTAL - 1)),
            ids: vec!["sevt_0999".into()],
        }),
        "{ctx}"
    );
}

#[tokio::test]
async fn start_now_yields_only_new_events_and_probes_the_newest_page_once() {
    let sim = Sim::new(1, 10, false);
    let server = serve_sim(&sim).await;
    let client = server.client();
    let mut stream = client
        .sessions()
        .events()
        .stream_resilient(&SessionId::new("sesn_1"), fast_options());
    // Produce once the client is connected, so the new events come on the stream.
    let producer = sim.clone();
    tokio::spawn(async move {
        while producer.connections.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        producer.produced.send_modify_ret(2);
    });
    let first: Vec<String> = (&mut stream)
        .take(2)
        .map_ok(|e| e.raw_id().unwrap().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first, ["sevt_0010", "sevt_0011"]);
    let lists = sim.lists.lock().unwrap().clone();
    assert_eq!(lists[0].query, "limit=100&order=desc", "{lists:?}");
    assert_eq!(
        lists[1].query, "created_at%5Bgte%5D=2026-04-01T00%3A00%3A00.003000Z&limit=50&order=asc",
        "then what came after the newest event: {lists:?}"
    );
    assert_eq!(lists.len(), 2);
    let order: Vec<String> = (0..3).map(|i| server.request(i).path).collect();
    assert_eq!(
        order,
        [
            "/v1/sessions/sesn_1/events",
            "/v1/sessions/sesn_1/events/stream",
            "/v1/sessions/sesn_1/events"
        ],
        "the probe comes before the stream opens, the gap fill after"
    );
    assert_eq!(
        stream.stats().duplicates,
        1,
        "sevt_0009 shares the cursor's timestamp"
    );
}

#[tokio::test]
async fn resuming_from_a_cursor_lists_after_it_and_drops_its_ids() {
    let sim = Sim::new(1, 12, false);
    let server = serve_sim(&sim).await;
    let cursor = EventCursor {
        processed_at: Timestamp::new(ts(7)),
        ids: vec!["sevt_0006".into(), "sevt_0007".into()],
    };
    let got: Vec<String> = server
        .client()
        .sessions()
        .events()
        .stream_resilient(
            &SessionId::new("sesn_1"),
            fast_options().start(StartFrom::After(cursor)),
        )
        .take(4)
        .map_ok(|e| e.raw_id().unwrap().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got, ["sevt_0008", "sevt_0009", "sevt_0010", "sevt_0011"]);
    let lists = sim.lists.lock().unwrap().clone();
    assert_eq!(
        lists[0].query,
        "created_at%5Bgte%5D=2026-04-01T00%3A00%3A00.002000Z&limit=50&order=asc"
    );
}

#[tokio::test]
async fn an_error_reconnecting_cannot_fix_ends_the_stream() {
    let server = serve(|_, _| async {
        json(
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"no session"}}"#,
            &[],
        )
    })
    .await;
    let mut stream = server
        .client()
        .sessions()
        .events()
        .stream_resilient(&SessionId::new("sesn_gone"), fast_options());
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert!(stream.next().await.is_none());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn retryable_failures_give_up_after_max_failures() {
    let server = serve(|_, _| async { json(503, "{}", &[("retry-after-ms", "1")]) }).await;
    let client: Client = server.builder().max_retries(0).build().unwrap();
    let mut stream = client
        .sessions()
        .events()
        .stream_resilient(&SessionId::new("sesn_1"), fast_options().max_failures(2));
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(stream.next().await.is_none());
    assert_eq!(server.hits(), 3, "the first connect and two reconnects");
    assert_eq!(stream.stats().reconnects, 2);
}

#[tokio::test]
async fn session_deleted_ends_the_stream() {
    let deleted = json!({"type": "session.deleted", "id": "sevt_9", "processed_at": ts(0)});
    let body = format!("event: session.deleted\ndata: {deleted}\n\n");
    let server = serve(move |request, _| {
        let body = body.clone();
        async move {
            if request.path.ends_with("/stream") {
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(
                        futures::stream::iter([Ok::<_, Infallible>(Bytes::from(body))])
                            .chain(futures::stream::pending()),
                    ))
                    .unwrap()
            } else {
                json(200, r#"{"data":[],"next_page":null}"#, &[])
            }
        }
    })
    .await;
    let events: Vec<_> = server
        .client()
        .sessions()
        .events()
        .stream_resilient(
            &SessionId::new("sesn_1"),
            fast_options().start(StartFrom::Beginning),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(matches!(
        events[0],
        steward_core::event::SessionEvent::SessionDeleted(_)
    ));
}
