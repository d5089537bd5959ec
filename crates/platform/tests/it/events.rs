//! Session events over HTTP: send, list, the SSE stream and the primary thread.
//!
//! The session engine runs while these tests do: every accepted request wakes it, and it may
//! answer with status, span and agent events. Assertions therefore look at the event types a
//! test sent (`types[]` filters), wait for the engine to go quiet before comparing whole
//! histories ([`Fixture::settle`]), and create pending tool uses by hand through the
//! crate's [`Emitter`], which wakes nothing.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "the fixture's helpers fail the test on any unexpected response"
)]

use std::collections::HashSet;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::SessionId;
use steward_core::event::{SendEventsResponse, SessionEvent};
use steward_platform::events::{Awaiting, Emitter, ToolUseKind, pending_tool_uses};

use crate::support::{TestPlatform, id};

/// How long a test waits for something the server should do promptly.
const PATIENCE: Duration = Duration::from_secs(10);

/// A platform with a cloud and a self-hosted environment and one agent, streams pinging
/// every 100 ms.
struct Fixture {
    platform: TestPlatform,
    cloud: String,
    self_hosted: String,
    agent: String,
}

impl Fixture {
    async fn start() -> Self {
        let platform = TestPlatform::start().await;
        platform
            .handle
            .platform()
            .state()
            .events
            .set_ping_interval(Duration::from_millis(100));
        let cloud = platform
            .post("/v1/environments", json!({"name": "cloud"}))
            .await
            .ok();
        let self_hosted = platform
            .post(
                "/v1/environments",
                json!({"name": "box", "config": {"type": "self_hosted"}}),
            )
            .await
            .ok();
        let agent = platform
            .post(
                "/v1/agents",
                json!({"name": "helper", "model": "claude-sonnet-4-6"}),
            )
            .await
            .ok();
        Self {
            cloud: id(&cloud).to_owned(),
            self_hosted: id(&self_hosted).to_owned(),
            agent: id(&agent).to_owned(),
            platform,
        }
    }

    /// A new session in the cloud environment; returns its ID.
    async fn session(&self) -> String {
        self.session_in(&self.cloud.clone()).await
    }

    async fn session_in(&self, environment: &str) -> String {
        let session = self
            .platform
            .post(
                "/v1/sessions",
                json!({"agent": self.agent, "environment_id": environment}),
            )
            .await
            .ok();
        id(&session).to_owned()
    }

    async fn send(&self, session: &str, events: Value) -> crate::support::Response {
        self.platform
            .post(
                &format!("/v1/sessions/{session}/events"),
                json!({ "events": events }),
            )
            .await
    }

    /// Sends events that must be accepted; returns the echoes.
    async fn send_ok(&self, session: &str, events: Value) -> Vec<Value> {
        let body = self.send(session, events).await.ok();
        body["data"].as_array().unwrap().clone()
    }

    /// Every event of the session, in order (one page of up to 1000).
    async fn history(&self, session: &str) -> Vec<Value> {
        let page = self
            .platform
            .get(&format!("/v1/sessions/{session}/events?limit=1000"))
            .await
            .ok();
        assert_eq!(page["next_page"], Value::Null);
        page["data"].as_array().unwrap().clone()
    }

    /// The history of the given types only.
    async fn history_of(&self, session: &str, types: &[&str]) -> Vec<Value> {
        let query: String = types.iter().map(|t| format!("&types[]={t}")).collect();
        let page = self
            .platform
            .get(&format!("/v1/sessions/{session}/events?limit=1000{query}"))
            .await
            .ok();
        page["data"].as_array().unwrap().clone()
    }

    /// Waits until the engine has stopped adding to the session's history; returns it.
    async fn settle(&self, session: &str) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut last = self.history(session).await;
        let mut stable = 0;
        while stable < 3 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the session never settled"
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
            let now = self.history(session).await;
            if now == last {
                stable += 1;
            } else {
                stable = 0;
                last = now;
            }
        }
        last
    }

    /// Stores a server event by hand, as the engine would (nothing is woken); returns it.
    async fn insert(&self, session: &str, event: Value) -> Value {
        let state = self.platform.handle.platform().state().clone();
        let session_id = SessionId::new(session);
        let event: SessionEvent = serde_json::from_value(event).unwrap();
        let out = state
            .db
            .write(move |tx| {
                let mut out = Emitter::new(session_id);
                out.emit(tx, event)?;
                Ok(out)
            })
            .await
            .unwrap();
        let stored = out.events().next().unwrap().clone();
        state.events.publish(out);
        serde_json::to_value(stored).unwrap()
    }

    async fn custom_tool_use(&self, session: &str) -> String {
        let event = self
            .insert(
                session,
                json!({"type": "agent.custom_tool_use", "id": "x", "name": "get_weather",
                    "input": {"city": "Paris"}, "processed_at": "2000-01-01T00:00:00Z"}),
            )
            .await;
        id(&event).to_owned()
    }

    async fn tool_use(&self, session: &str, permission: &str) -> String {
        let event = self
            .insert(
                session,
                json!({"type": "agent.tool_use", "id": "x", "name": "bash",
                    "input": {"command": "ls"}, "processed_at": "2000-01-01T00:00:00Z",
                    "evaluated_permission": permission}),
            )
            .await;
        id(&event).to_owned()
    }

    async fn pending(&self, session: &str) -> Vec<(String, ToolUseKind, Awaiting)> {
        let state = self.platform.handle.platform().state().clone();
        let session_id = SessionId::new(session);
        let pending = state
            .db
            .read(move |conn| pending_tool_uses(conn, &session_id))
            .await
            .unwrap();
        pending
            .into_iter()
            .map(|p| (p.id.as_str().to_owned(), p.kind, p.awaiting))
            .collect()
    }

    async fn stream(&self, path: &str) -> SseReader {
        SseReader::open(&self.platform, path).await
    }
}

fn text(text: &str) -> Value {
    json!({"type": "user.message", "content": [{"type": "text", "text": text}]})
}

/// An echo without its `processed_at`, which the engine sets when it has read the event.
fn unprocessed(event: &Value) -> Value {
    let mut event = event.clone();
    if event["type"] != "user.define_outcome" {
        event.as_object_mut().unwrap().remove("processed_at");
    }
    event
}

fn ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| id(e).to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// A tiny SSE reader (the platform's tests must not depend on the runtime).
// ---------------------------------------------------------------------------------------------

/// One SSE message: its `event:` name and `data:` text.
#[derive(Debug, Clone, PartialEq)]
struct Message {
    event: String,
    data: String,
}

/// Reads SSE messages from a streaming response.
struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    /// Opens a stream (as the SDK does, with `Accept: application/json`) and checks the headers.
    async fn open(platform: &TestPlatform, path: &str) -> Self {
        let response = tokio::time::timeout(
            PATIENCE,
            platform
                .client
                .get(platform.url(path))
                .header("accept", "application/json")
                .send(),
        )
        .await
        .expect("the stream's headers never came")
        .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next message, or `None` at the end of the stream.
    async fn message(&mut self) -> Option<Message> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut message = Message {
                    event: String::new(),
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        message.event = value.trim_start().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        if !message.data.is_empty() {
                            message.data.push('\n');
                        }
                        message
                            .data
                            .push_str(value.strip_prefix(' ').unwrap_or(value));
                    }
                }
                return Some(message);
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("the stream went silent (not even a ping)")
                .unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event (pings skipped), checking that its `event:` name is its type and its
    /// data one line; `None` at the end of the stream.
    async fn event(&mut self) -> Option<Value> {
        loop {
            let message = self.message().await?;
            assert!(!message.event.is_empty(), "a message without `event:`");
            if message.event == "ping" {
                continue;
            }
            assert!(!message.data.contains('\n'), "multi-line data: {message:?}");
            let event: Value = serde_json::from_str(&message.data).unwrap();
            assert_eq!(event["type"], message.event.as_str());
            return Some(event);
        }
    }

    /// Reads events until every ID of `wanted` was seen; returns all events read.
    async fn until_seen(&mut self, wanted: &[String]) -> Vec<Value> {
        let mut seen = Vec::new();
        while !wanted
            .iter()
            .all(|w| seen.iter().any(|e: &Value| id(e) == w))
        {
            let event = self.event().await.expect("the stream ended early");
            seen.push(event);
        }
        seen
    }
}

// ---------------------------------------------------------------------------------------------
// Sending and listing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn send_echoes_with_ids_and_list_returns_them() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let body = f
        .send(
            &session,
            json!([
                text("hello"),
                {"type": "system.message", "content": [{"type": "text", "text": "be brief"}]},
            ]),
        )
        .await
        .ok();
    // The response parses as the SDK's `BetaManagedAgentsSendSessionEvents`.
    let parsed: SendEventsResponse = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(parsed.data.as_ref().unwrap().len(), 2);
    let echoes = body["data"].as_array().unwrap();
    let message_id = id(&echoes[0]);
    assert!(message_id.starts_with("sevt_"), "{message_id}");
    assert_eq!(
        echoes[0],
        json!({"type": "user.message", "id": message_id,
            "content": [{"type": "text", "text": "hello"}], "processed_at": null})
    );
    assert_eq!(
        echoes[1],
        json!({"type": "system.message", "id": id(&echoes[1]),
            "content": [{"type": "text", "text": "be brief"}], "processed_at": null})
    );

    let outcome = f
        .send_ok(
            &session,
            json!([{"type": "user.define_outcome", "description": "a haiku",
                "rubric": {"type": "text", "content": "5-7-5"}}]),
        )
        .await;
    let outcome = &outcome[0];
    let outcome_id = outcome["outcome_id"].as_str().unwrap();
    assert!(outcome_id.starts_with("outc_"), "{outcome_id}");
    assert_eq!(
        outcome,
        &json!({"type": "user.define_outcome", "id": id(outcome), "description": "a haiku",
            "max_iterations": null, "outcome_id": outcome_id,
            "processed_at": outcome["processed_at"],
            "rubric": {"type": "text", "content": "5-7-5"}})
    );
    assert!(outcome["processed_at"].as_str().unwrap().ends_with('Z'));
    let stored = f
        .platform
        .get(&format!("/v1/sessions/{session}"))
        .await
        .ok();
    let evaluation = stored["outcome_evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["outcome_id"] == outcome_id)
        .unwrap()
        .clone();
    assert_eq!(evaluation["description"], "a haiku");

    let confirmation_and_interrupt = f
        .send_ok(
            &session,
            json!([{"type": "user.interrupt"}, {"type": "user.interrupt",
                "session_thread_id": session.replacen("sesn_", "sthr_", 1)}]),
        )
        .await;
    assert_eq!(
        confirmation_and_interrupt[0],
        json!({"type": "user.interrupt", "id": id(&confirmation_and_interrupt[0]),
            "processed_at": null})
    );

    // The list returns the echoes as sent back, in order, with the same IDs.
    let listed = f
        .history_of(
            &session,
            &[
                "user.message",
                "system.message",
                "user.define_outcome",
                "user.interrupt",
            ],
        )
        .await;
    let mut sent: Vec<String> = ids(echoes);
    sent.push(id(outcome).to_owned());
    sent.extend(ids(&confirmation_and_interrupt));
    assert_eq!(ids(&listed), sent);
    // The same events; the engine may have processed the echoes meanwhile.
    for (listed, echo) in listed.iter().zip(echoes.iter().chain([outcome])) {
        assert_eq!(unprocessed(listed), unprocessed(echo));
    }
    assert_eq!(&listed[2], outcome);
    let all = f.history(&session).await;
    let unique: HashSet<&str> = all.iter().map(id).collect();
    assert_eq!(unique.len(), all.len(), "duplicate IDs in the history");
}

#[tokio::test]
async fn an_interrupt_cancels_the_turn_signal() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let state = f.platform.handle.platform().state().clone();
    let signal = state.events.turn_signal(&SessionId::new(session.clone()));
    assert!(!signal.is_cancelled());
    f.send_ok(&session, json!([{"type": "user.interrupt"}]))
        .await;
    assert!(signal.is_cancelled());
}

#[tokio::test]
async fn refused_requests_change_nothing() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let custom = f.custom_tool_use(&session).await;
    let ask = f.tool_use(&session, "ask").await;
    let allowed = f.tool_use(&session, "allow").await;
    assert_eq!(
        f.pending(&session).await,
        [
            (custom.clone(), ToolUseKind::Custom, Awaiting::Result),
            (ask.clone(), ToolUseKind::Toolset, Awaiting::Confirmation),
        ]
    );
    let before = f.history(&session).await;
    assert_eq!(before.len(), 3);

    let system = json!({"type": "system.message", "content": [{"type": "text", "text": "s"}]});
    let result = |id: &str| {
        json!({"type": "user.custom_tool_result", "custom_tool_use_id": id,
        "content": [{"type": "text", "text": "sunny"}]})
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!([{"type": "user.hologram"}]), "`events[0].type`"),
        (
            json!([text("ok"), {"type": "user.hologram"}]),
            "user.hologram",
        ),
        (
            json!([{"type": "session.status_idle"}]),
            "session.status_idle",
        ),
        (json!([]), "at least one event"),
        (json!([text("ok"), result("sevt_missing")]), "sevt_missing"),
        (json!([result(&ask)]), "agent.custom_tool_use"),
        (
            json!([result(&custom), result(&custom)]),
            "`events[1].custom_tool_use_id`",
        ),
        (
            json!([{"type": "user.tool_confirmation", "tool_use_id": custom, "result": "allow"}]),
            "confirmation",
        ),
        (
            json!([{"type": "user.tool_confirmation", "tool_use_id": allowed, "result": "allow"}]),
            "`events[0].tool_use_id`",
        ),
        (
            json!([{"type": "user.tool_result", "tool_use_id": allowed,
                "content": [{"type": "text", "text": "x"}]}]),
            "self_hosted",
        ),
        (json!([system]), "directly follow"),
        (json!([text("a"), system, text("b")]), "last event"),
        (
            json!([{"type": "user.interrupt"}, system]),
            "directly follow",
        ),
        (
            json!([{"type": "user.interrupt", "session_thread_id": "sthr_other"}]),
            "sthr_other",
        ),
        (json!([{"type": "user.message", "content": []}]), "content"),
    ];
    for (events, needle) in cases {
        let response = f.send(&session, events.clone()).await;
        let message = response.error(400, "invalid_request_error");
        assert!(message.contains(needle), "{events}: {message}");
        assert_eq!(
            f.history(&session).await,
            before,
            "{events} changed the history"
        );
    }
    // Unknown sessions are a 404.
    f.send("sesn_missing", json!([text("hi")]))
        .await
        .error(404, "not_found_error");

    // The real answer is accepted once; the same answer again is refused.
    let echoes = f.send_ok(&session, json!([result(&custom)])).await;
    assert_eq!(
        echoes[0],
        json!({"type": "user.custom_tool_result", "id": id(&echoes[0]),
            "custom_tool_use_id": custom, "content": [{"type": "text", "text": "sunny"}],
            "processed_at": null})
    );
    let settled = f.settle(&session).await;
    let message = f
        .send(&session, json!([result(&custom)]))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("already answered"), "{message}");
    assert_eq!(f.history(&session).await, settled);

    // Archived sessions refuse everything.
    f.platform
        .post_empty(&format!("/v1/sessions/{session}/archive"))
        .await
        .ok();
    let settled = f.settle(&session).await;
    let message = f
        .send(&session, json!([text("anyone?")]))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("archived"), "{message}");
    assert_eq!(f.history(&session).await, settled);
}

#[tokio::test]
async fn confirmations_and_worker_results_follow_the_tool_use() {
    let f = Fixture::start().await;
    let session = f.session_in(&f.self_hosted.clone()).await;
    let ask = f.tool_use(&session, "ask").await;
    let allowed = f.tool_use(&session, "allow").await;
    let denied = f.tool_use(&session, "deny").await;
    assert_eq!(
        f.pending(&session).await,
        [
            (ask.clone(), ToolUseKind::Toolset, Awaiting::Confirmation),
            (allowed.clone(), ToolUseKind::Toolset, Awaiting::Result),
        ]
    );
    let tool_result = |id: &str| {
        json!({"type": "user.tool_result", "tool_use_id": id,
        "content": [{"type": "text", "text": "done"}], "is_error": false})
    };
    let before = f.history(&session).await;
    for events in [
        json!([tool_result(&ask)]),
        json!([tool_result(&denied)]),
        json!([{"type": "user.custom_tool_result", "custom_tool_use_id": allowed}]),
    ] {
        f.send(&session, events)
            .await
            .error(400, "invalid_request_error");
    }
    assert_eq!(f.history(&session).await, before);

    // Allowing the held call makes it wait for the worker's result; both go in one request.
    let echoes = f
        .send_ok(
            &session,
            json!([
                {"type": "user.tool_confirmation", "tool_use_id": ask, "result": "allow"},
                tool_result(&ask),
                tool_result(&allowed),
                {"type": "system.message", "content": [{"type": "text", "text": "carry on"}]},
            ]),
        )
        .await;
    assert_eq!(
        echoes[0],
        json!({"type": "user.tool_confirmation", "id": id(&echoes[0]), "result": "allow",
            "tool_use_id": ask, "processed_at": null})
    );
    assert_eq!(
        echoes[1],
        json!({"type": "user.tool_result", "id": id(&echoes[1]), "tool_use_id": ask,
            "content": [{"type": "text", "text": "done"}], "is_error": false,
            "processed_at": null})
    );
    assert_eq!(echoes.len(), 4);
    assert!(
        f.pending(&session)
            .await
            .iter()
            .all(|(id, ..)| id != &ask && id != &allowed)
    );
}

#[tokio::test]
async fn list_filters_and_pages() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let outcome = |i: usize| {
        json!({"type": "user.define_outcome", "description": format!("o{i}"),
        "rubric": {"type": "text", "content": "r"}, "max_iterations": 2})
    };
    let mut sent = Vec::new();
    for i in 0..25 {
        sent.extend(f.send_ok(&session, json!([outcome(i)])).await);
    }
    let path = format!("/v1/sessions/{session}/events?types[]=user.define_outcome");

    // Pages of 10 walk every event once, in order; `desc` walks them backwards.
    let pages = f.platform.walk(&format!("{path}&limit=10")).await;
    assert_eq!(pages.len(), 3);
    let walked: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .collect();
    assert_eq!(walked, sent);
    let backwards: Vec<Value> = f
        .platform
        .walk(&format!("{path}&limit=7&order=desc"))
        .await
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .collect();
    let mut reversed = sent.clone();
    reversed.reverse();
    assert_eq!(backwards, reversed);
    // The default page is 20; the runner's limit=1000 is accepted.
    let first = f.platform.get(&path).await.ok();
    assert_eq!(first["data"].as_array().unwrap().len(), 20);
    let all = f.platform.get(&format!("{path}&limit=1000")).await.ok();
    assert_eq!(all["data"].as_array().unwrap(), &sent);
    assert_eq!(all["next_page"], Value::Null);

    // Time bounds compare `processed_at`.
    let at = |i: usize| sent[i]["processed_at"].as_str().unwrap().to_owned();
    let cases = [
        (format!("created_at[gt]={}", at(20)), 21..25),
        (format!("created_at[gte]={}", at(20)), 20..25),
        (format!("created_at[lt]={}", at(3)), 0..3),
        (format!("created_at[lte]={}", at(3)), 0..4),
        (
            format!("created_at[gt]={}&created_at[lte]={}", at(5), at(8)),
            6..9,
        ),
    ];
    for (bounds, range) in cases {
        let page = f
            .platform
            .get(&format!("{path}&limit=100&{bounds}"))
            .await
            .ok();
        assert_eq!(
            page["data"].as_array().unwrap(),
            &sent[range.clone()],
            "{bounds}"
        );
    }

    // Bad queries are 400s.
    for bad in [
        "types[]=event_delta",
        "types[]=agent.hologram",
        "order=sideways",
        "limit=0",
        "page=garbage!",
        "created_at[gt]=yesterday",
    ] {
        f.platform
            .get(&format!("/v1/sessions/{session}/events?{bad}"))
            .await
            .error(400, "invalid_request_error");
    }
    f.platform
        .get("/v1/sessions/sesn_missing/events")
        .await
        .error(404, "not_found_error");
}

// ---------------------------------------------------------------------------------------------
// The stream
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn streams_deliver_every_event_in_order_to_every_subscriber() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let path = format!("/v1/sessions/{session}/events/stream");
    let mut first = f.stream(&path).await;
    let mut second = f
        .stream(&format!("{path}?event_deltas[]=agent.message"))
        .await;
    let mut sent = Vec::new();
    for word in ["one", "two", "three"] {
        sent.extend(ids(&f.send_ok(&session, json!([text(word)])).await));
    }
    let custom = f.custom_tool_use(&session).await;
    sent.push(custom);

    let mut received = Vec::new();
    for stream in [&mut first, &mut second] {
        let events = stream.until_seen(&sent).await;
        // Every streamed event was stored first.
        let stored: HashSet<String> = ids(&f.history(&session).await).into_iter().collect();
        for event in &events {
            assert!(
                stored.contains(id(event)),
                "streamed before stored: {event}"
            );
        }
        received.push(events);
    }
    // In storage order: the streamed events are a prefix-ordered subsequence of the history.
    let history = ids(&f.history(&session).await);
    for events in &received {
        let positions: Vec<usize> = events
            .iter()
            .map(|e| history.iter().position(|h| h == id(e)).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        let mine: Vec<String> = ids(events)
            .into_iter()
            .filter(|e| sent.contains(e))
            .collect();
        assert_eq!(mine, sent);
    }
    // Both streams got the same events in the same order (as far as each has read).
    let common = received[0].len().min(received[1].len());
    assert_eq!(ids(&received[0][..common]), ids(&received[1][..common]));
}

#[tokio::test]
async fn streams_ping_and_answer_headers_at_once() {
    // The default 15 s keep-alive: the headers must not wait for the first message.
    let platform = TestPlatform::start().await;
    let environment = platform
        .post("/v1/environments", json!({"name": "e"}))
        .await
        .ok();
    let agent = platform
        .post(
            "/v1/agents",
            json!({"name": "a", "model": "claude-sonnet-4-6"}),
        )
        .await
        .ok();
    let session = platform
        .post(
            "/v1/sessions",
            json!({"agent": id(&agent), "environment_id": id(&environment)}),
        )
        .await
        .ok();
    let path = format!("/v1/sessions/{}/events/stream", id(&session));
    let opened = tokio::time::timeout(
        Duration::from_secs(3),
        platform.client.get(platform.url(&path)).send(),
    )
    .await
    .expect("headers were held back")
    .unwrap();
    assert_eq!(opened.status(), 200);
    assert_eq!(opened.headers()["content-type"], "text/event-stream");
    drop(opened);

    let f = Fixture::start().await;
    let session = f.session().await;
    let mut stream = f
        .stream(&format!("/v1/sessions/{session}/events/stream"))
        .await;
    let message = stream.message().await.unwrap();
    assert_eq!(
        message,
        Message {
            event: "ping".into(),
            data: r#"{"type":"ping"}"#.into()
        }
    );
    for bad in ["sesn_missing/events/stream", "sesn_missing/threads"] {
        f.platform
            .get(&format!("/v1/sessions/{bad}"))
            .await
            .error(404, "not_found_error");
    }
    f.platform
        .get(&format!(
            "/v1/sessions/{session}/events/stream?event_deltas[]=agent.hologram"
        ))
        .await
        .error(400, "invalid_request_error");
}

#[tokio::test]
async fn a_reconnecting_client_sees_every_event_once() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let path = format!("/v1/sessions/{session}/events/stream");
    let mut seen: Vec<Value> = Vec::new();

    let mut stream = f.stream(&path).await;
    let first = ids(&f.send_ok(&session, json!([text("before")])).await);
    seen.extend(stream.until_seen(&first).await);
    drop(stream);

    // Sent while disconnected.
    let missed = ids(&f.send_ok(&session, json!([text("while away")])).await);

    // Reconnect as the SDK's runner does: attach, then read the history, then follow.
    let mut stream = f.stream(&path).await;
    seen.extend(f.history(&session).await);
    let last = ids(&f.send_ok(&session, json!([text("after")])).await);
    seen.extend(stream.until_seen(&last).await);

    let mut unique = Vec::new();
    let mut known = HashSet::new();
    for event in &seen {
        if known.insert(id(event).to_owned()) {
            unique.push(id(event).to_owned());
        }
    }
    let messages: Vec<String> = unique
        .iter()
        .filter(|u| first.contains(u) || missed.contains(u) || last.contains(u))
        .cloned()
        .collect();
    assert_eq!(messages, [first, missed, last].concat());
    // Everything in the history was seen, once.
    let history = ids(&f.settle(&session).await);
    let before_last = &history[..history.iter().position(|h| h == &messages[2]).unwrap()];
    assert!(before_last.iter().all(|h| known.contains(h)));
}

#[tokio::test]
async fn deleting_the_session_ends_its_streams() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let session_id = SessionId::new(session.clone());
    let mut events = f
        .stream(&format!("/v1/sessions/{session}/events/stream"))
        .await;
    let thread = session.replacen("sesn_", "sthr_", 1);
    let mut thread_events = f
        .stream(&format!("/v1/sessions/{session}/threads/{thread}/stream"))
        .await;
    let hub = f.platform.handle.platform().state().events.clone();
    assert_eq!(hub.subscriber_count(&session_id), 2);

    f.platform
        .delete(&format!("/v1/sessions/{session}"))
        .await
        .ok();
    for stream in [&mut events, &mut thread_events] {
        let deleted = stream.event().await.unwrap();
        assert_eq!(deleted["type"], "session.deleted");
        assert!(id(&deleted).starts_with("sevt_"));
        assert!(stream.event().await.is_none(), "the stream went on");
    }
    assert_eq!(hub.subscriber_count(&session_id), 0);
    f.platform
        .get(&format!("/v1/sessions/{session}/events/stream"))
        .await
        .error(404, "not_found_error");
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let mut stream = f
        .stream(&format!("/v1/sessions/{session}/events/stream"))
        .await;
    let Fixture { platform, .. } = f;
    let TestPlatform { handle, .. } = platform;
    let stopped = tokio::time::timeout(Duration::from_secs(5), handle.shutdown()).await;
    assert!(stopped.is_ok(), "shutdown waited for the stream");
    while let Some(message) = stream.message().await {
        assert_eq!(message.event, "ping");
    }
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_primary_thread_mirrors_the_session() {
    let f = Fixture::start().await;
    let session = f.session().await;
    let custom = f.custom_tool_use(&session).await;
    let thread_id = session.replacen("sesn_", "sthr_", 1);
    let base = format!("/v1/sessions/{session}/threads");

    let page = f.platform.get(&base).await.ok();
    assert_eq!(page["next_page"], Value::Null);
    let threads = page["data"].as_array().unwrap();
    assert_eq!(threads.len(), 1);
    let thread = &threads[0];
    let stored = f
        .platform
        .get(&format!("/v1/sessions/{session}"))
        .await
        .ok();
    assert_eq!(thread["id"], thread_id.as_str());
    assert_eq!(thread["type"], "session_thread");
    assert_eq!(thread["session_id"], session.as_str());
    assert_eq!(thread["parent_thread_id"], Value::Null);
    assert_eq!(thread["status"], "idle");
    assert_eq!(thread["agent"]["type"], "agent");
    assert_eq!(thread["agent"]["id"], f.agent.as_str());
    assert_eq!(thread["workflow_run_id"], Value::Null);
    assert_eq!(thread["created_at"], stored["created_at"]);
    assert_eq!(thread["archived_at"], Value::Null);
    let retrieved = f.platform.get(&format!("{base}/{thread_id}")).await.ok();
    assert_eq!(retrieved["id"], thread["id"]);
    assert_eq!(retrieved["agent"], thread["agent"]);

    // Status filters.
    let running = f
        .platform
        .get(&format!("{base}?statuses[]=running"))
        .await
        .ok();
    assert_eq!(running["data"], json!([]));
    let idle = f
        .platform
        .get(&format!("{base}?statuses[]=idle&statuses[]=running"))
        .await
        .ok();
    assert_eq!(idle["data"].as_array().unwrap().len(), 1);
    f.platform
        .get(&format!("{base}?statuses[]=napping"))
        .await
        .error(400, "invalid_request_error");

    // The thread's events are the session's.
    let events = f
        .platform
        .get(&format!("{base}/{thread_id}/events"))
        .await
        .ok();
    assert_eq!(ids(events["data"].as_array().unwrap()), [custom]);
    assert_eq!(events["data"], json!(f.history(&session).await));

    for missing in [
        format!("{base}/sthr_other"),
        format!("{base}/sthr_other/events"),
        format!("{base}/sthr_other/stream"),
    ] {
        f.platform.get(&missing).await.error(404, "not_found_error");
    }

    // The thread's stream carries the session's events.
    let mut stream = f.stream(&format!("{base}/{thread_id}/stream")).await;
    let sent = ids(&f.send_ok(&session, json!([text("via thread")])).await);
    stream.until_seen(&sent).await;
}
