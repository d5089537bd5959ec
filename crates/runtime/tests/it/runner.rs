//! The session runner against a scripted session server (and, at the end, against the local
//! platform's engine).
//!
//! The scripted server ([`Fake`]) serves one session: the SSE stream, the event list and
//! `POST …/events`. Its "model" reacts to what is posted: a `user.message` such as
//! `call get_weather {"city":"Lisbon"}; clock {}` emits one `agent.custom_tool_use` per call and
//! waits (`requires_action`); once every call is answered it replies with the results and ends
//! the turn. `ask bash {…}` emits an `agent.tool_use` held for confirmation. In loop mode every
//! result is answered with another call. A hook can fail posts without processing them.

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use futures::StreamExt;
use futures::future::BoxFuture;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::SessionId;
use steward_runtime::Client;
use steward_runtime::runner::{
    CallKind, Confirmation, ConfirmationRequest, FileLedger, Outcome, ResultOrigin, SessionRunner,
    SessionRunnerBuilder, Transcript, TurnStop, TurnStream,
};
use steward_tools::{Registry, Tool, ToolContext, ToolError, ToolOutput};
use tokio::sync::{Barrier, Notify, broadcast};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::support::fast_retries;

const SESSION: &str = "sesn_runner_test";

// ---------------------------------------------------------------------------------------------
// The scripted server
// ---------------------------------------------------------------------------------------------

/// How the fake model answers tool results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reply once every call of the step is answered.
    Answer,
    /// Answer every result with another call of the same tool (a runaway agent).
    Loop,
}

type FailHook = Arc<dyn Fn(&[Value]) -> Option<u16> + Send + Sync>;

struct FakeState {
    mode: Mode,
    events: Vec<Value>,
    next: u64,
    /// Open calls: tool-use ID → name.
    open: Vec<(String, String)>,
    /// Accepted results: (tool-use ID, text, is_error).
    results: Vec<(String, String, bool)>,
    /// Every POST body's events, accepted or not.
    posts: Vec<Vec<Value>>,
    /// Request log: `GET stream`, `GET list`, `POST <types>`.
    log: Vec<String>,
    /// Every list request: its query and how many events it returned.
    lists: Vec<(String, usize)>,
    fail: Option<FailHook>,
    usage_tokens: u64,
    /// For each coming stream connection, how many frames it carries before it is closed.
    stream_limits: std::collections::VecDeque<usize>,
}

#[derive(Clone)]
struct Fake {
    url: String,
    state: Arc<Mutex<FakeState>>,
    tx: broadcast::Sender<String>,
}

impl Fake {
    async fn start(mode: Mode) -> Self {
        let (tx, _) = broadcast::channel(4096);
        let fake = Self {
            url: String::new(),
            state: Arc::new(Mutex::new(FakeState {
                mode,
                events: Vec::new(),
                next: 0,
                open: Vec::new(),
                results: Vec::new(),
                posts: Vec::new(),
                log: Vec::new(),
                lists: Vec::new(),
                fail: None,
                usage_tokens: 0,
                stream_limits: std::collections::VecDeque::new(),
            })),
            tx,
        };
        let app = axum::Router::new()
            .route("/v1/sessions/{id}/events/stream", get(sse))
            .route("/v1/sessions/{id}/events", get(list).post(post))
            .route("/v1/sessions/{id}", get(retrieve))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url: format!("http://{addr}"),
            ..fake
        }
    }

    fn client(&self) -> Client {
        Client::builder()
            .api_key("sk-ant-test")
            .base_url(&self.url)
            .retry_policy(fast_retries())
            .build()
            .unwrap()
    }

    fn runner(&self, registry: Registry) -> SessionRunnerBuilder {
        SessionRunner::builder(self.client(), registry)
            .send_backoff(Duration::from_millis(10), Duration::from_millis(50))
    }

    fn fail_with(&self, hook: impl Fn(&[Value]) -> Option<u16> + Send + Sync + 'static) {
        self.state.lock().unwrap().fail = Some(Arc::new(hook));
    }

    fn results(&self) -> Vec<(String, String, bool)> {
        self.state.lock().unwrap().results.clone()
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    fn lists(&self) -> Vec<(String, usize)> {
        self.state.lock().unwrap().lists.clone()
    }

    /// Every posted event of this type, accepted or not.
    fn posted(&self, kind: &str) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        state
            .posts
            .iter()
            .flatten()
            .filter(|e| e["type"] == kind)
            .cloned()
            .collect()
    }

    fn events_of(&self, kind: &str) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        state
            .events
            .iter()
            .filter(|e| e["type"] == kind)
            .cloned()
            .collect()
    }
}

impl FakeState {
    /// Stores and broadcasts an event; returns it with its ID and time.
    fn push(&mut self, tx: &broadcast::Sender<String>, mut event: Value) -> Value {
        self.next += 1;
        let n = self.next;
        let object = event.as_object_mut().unwrap();
        object.insert("id".into(), json!(format!("sevt_{n:024}")));
        object.insert(
            "processed_at".into(),
            json!(format!(
                "2026-04-01T00:{:02}:{:02}.{:03}Z",
                n / 60_000,
                (n / 1000) % 60,
                n % 1000
            )),
        );
        self.events.push(event.clone());
        let frame = format!(
            "event: {}\ndata: {}\n\n",
            event["type"].as_str().unwrap(),
            event
        );
        let _ = tx.send(frame);
        event
    }

    /// One model step: start and end spans with usage.
    fn model_step(&mut self, tx: &broadcast::Sender<String>) {
        let start = self.push(tx, json!({"type": "span.model_request_start"}));
        self.usage_tokens += 110;
        self.push(
            tx,
            json!({
                "type": "span.model_request_end",
                "model_request_start_id": start["id"],
                "is_error": false,
                "model_usage": {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                                "input_tokens": 100, "output_tokens": 10}
            }),
        );
    }

    fn call(&mut self, tx: &broadcast::Sender<String>, name: &str, input: Value) -> Value {
        let event = self.push(
            tx,
            json!({"type": "agent.custom_tool_use", "name": name, "input": input}),
        );
        let id = event["id"].as_str().unwrap().to_owned();
        self.open.push((id, name.to_owned()));
        event
    }

    fn wait(&mut self, tx: &broadcast::Sender<String>) {
        let ids: Vec<&str> = self.open.iter().map(|(id, _)| id.as_str()).collect();
        let idle = json!({
            "type": "session.status_idle",
            "stop_reason": {"type": "requires_action", "event_ids": ids},
            "stop_details": null
        });
        self.push(tx, idle);
    }

    fn end_turn(&mut self, tx: &broadcast::Sender<String>, text: &str) {
        self.push(
            tx,
            json!({"type": "agent.message", "content": [{"type": "text", "text": text}]}),
        );
        self.push(
            tx,
            json!({"type": "session.status_idle", "stop_reason": {"type": "end_turn"}, "stop_details": null}),
        );
    }

    /// The model's reaction to an accepted event.
    fn react(&mut self, tx: &broadcast::Sender<String>, echo: &Value) {
        match echo["type"].as_str().unwrap() {
            "user.message" => {
                let text = echo["content"][0]["text"].as_str().unwrap().to_owned();
                self.push(tx, json!({"type": "session.status_running"}));
                self.model_step(tx);
                if let Some(calls) = text.strip_prefix("call ") {
                    for call in calls.split("; ") {
                        let (name, input) = call.split_once(' ').unwrap();
                        self.call(tx, name, serde_json::from_str(input).unwrap());
                    }
                    self.wait(tx);
                } else if let Some(call) = text.strip_prefix("run ") {
                    let (name, input) = call.split_once(' ').unwrap();
                    let input: Value = serde_json::from_str(input).unwrap();
                    let event = self.push(
                        tx,
                        json!({
                            "type": "agent.tool_use", "name": name, "input": input,
                            "evaluated_permission": "allow", "evaluation": {"type": "always_allow"}
                        }),
                    );
                    let id = event["id"].as_str().unwrap().to_owned();
                    self.open.push((id, name.to_owned()));
                    self.wait(tx);
                } else if let Some(call) = text.strip_prefix("ask ") {
                    let (name, input) = call.split_once(' ').unwrap();
                    let input: Value = serde_json::from_str(input).unwrap();
                    let event = self.push(
                        tx,
                        json!({
                            "type": "agent.tool_use", "name": name, "input": input,
                            "evaluated_permission": "ask", "evaluation": {"type": "always_ask"}
                        }),
                    );
                    let id = event["id"].as_str().unwrap().to_owned();
                    self.open.push((id, name.to_owned()));
                    self.wait(tx);
                } else {
                    self.end_turn(tx, "no tools needed");
                }
            }
            "user.custom_tool_result" | "user.tool_result" => {
                let id = echo["custom_tool_use_id"]
                    .as_str()
                    .or(echo["tool_use_id"].as_str())
                    .unwrap()
                    .to_owned();
                let text = echo["content"][0]["text"].as_str().unwrap_or("").to_owned();
                let is_error = echo["is_error"].as_bool().unwrap_or(false);
                let name = self
                    .open
                    .iter()
                    .find(|(open, _)| *open == id)
                    .map(|(_, name)| name.clone())
                    .unwrap();
                self.open.retain(|(open, _)| *open != id);
                self.results.push((id, text, is_error));
                if self.mode == Mode::Loop {
                    self.push(tx, json!({"type": "session.status_running"}));
                    self.model_step(tx);
                    self.call(tx, &name, json!({}));
                    self.wait(tx);
                } else if self.open.is_empty() {
                    self.push(tx, json!({"type": "session.status_running"}));
                    self.model_step(tx);
                    let texts: Vec<String> = self
                        .results
                        .iter()
                        .map(|(_, text, _)| text.clone())
                        .collect();
                    let reply = format!("results: {}", texts.join(" | "));
                    self.end_turn(tx, &reply);
                } else {
                    self.wait(tx);
                }
            }
            "user.tool_confirmation" => {
                let id = echo["tool_use_id"].as_str().unwrap().to_owned();
                self.open.retain(|(open, _)| *open != id);
                let allowed = echo["result"] == "allow";
                let (text, is_error) = if allowed {
                    ("file.txt".to_owned(), false)
                } else {
                    (
                        echo["deny_message"].as_str().unwrap_or("denied").to_owned(),
                        true,
                    )
                };
                self.push(
                    tx,
                    json!({"type": "agent.tool_result", "tool_use_id": id,
                           "content": [{"type": "text", "text": text}], "is_error": is_error}),
                );
                self.push(tx, json!({"type": "session.status_running"}));
                self.end_turn(
                    tx,
                    &format!("confirmation: {}", echo["result"].as_str().unwrap()),
                );
            }
            "user.interrupt" => {
                self.open.clear();
                self.push(
                    tx,
                    json!({"type": "session.status_idle", "stop_reason": {"type": "end_turn"}, "stop_details": null}),
                );
            }
            _ => {}
        }
    }
}

fn reply(status: u16, body: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn sse(State(fake): State<Fake>) -> Response {
    // Subscribe before answering: everything processed from now on goes to this stream.
    let rx = fake.tx.subscribe();
    let limit = {
        let mut state = fake.state.lock().unwrap();
        state.log.push("GET stream".into());
        state.stream_limits.pop_front().unwrap_or(usize::MAX)
    };
    let body = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(frame) => return Some((Ok::<_, Infallible>(Bytes::from(frame)), rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .take(limit);
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}

/// Percent-decodes a query component.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

async fn list(State(fake): State<Fake>, uri: Uri) -> Response {
    let mut types = HashSet::new();
    let mut gte: Option<String> = None;
    for pair in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(key).as_str() {
            "types[]" => {
                types.insert(decode(value));
            }
            "created_at[gte]" => gte = Some(decode(value)),
            _ => {}
        }
    }
    let mut state = fake.state.lock().unwrap();
    state.log.push("GET list".into());
    let data: Vec<Value> = state
        .events
        .iter()
        .filter(|e| types.is_empty() || types.contains(e["type"].as_str().unwrap()))
        .filter(|e| {
            gte.as_deref()
                .is_none_or(|gte| e["processed_at"].as_str().unwrap() >= gte)
        })
        .cloned()
        .collect();
    let query = decode(uri.query().unwrap_or(""));
    state.lists.push((query, data.len()));
    reply(200, json!({"data": data, "next_page": null}))
}

async fn post(State(fake): State<Fake>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap();
    let events = body["events"].as_array().unwrap().clone();
    let mut state = fake.state.lock().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let line = format!("POST {}", kinds.join(","));
    state.log.push(line);
    state.posts.push(events.clone());
    if let Some(status) = state.fail.clone().and_then(|fail| fail(&events)) {
        return reply(
            status,
            json!({"type": "error", "error": {"type": "api_error", "message": "scripted failure"}}),
        );
    }
    // A result for a call that is not open is refused, as the API refuses a second answer.
    for event in &events {
        let answered = event["custom_tool_use_id"]
            .as_str()
            .or(event["tool_use_id"].as_str());
        if let (Some(id), false) = (answered, event["type"] == "user.tool_confirmation") {
            if !state.open.iter().any(|(open, _)| open == id) {
                return reply(
                    400,
                    json!({"type": "error", "error": {"type": "invalid_request_error", "message": "no such open call"}}),
                );
            }
        }
    }
    let mut echoes = Vec::new();
    for event in events {
        let echo = state.push(&fake.tx, event);
        echoes.push(echo);
    }
    for echo in &echoes {
        state.react(&fake.tx, echo);
    }
    reply(200, json!({"data": echoes}))
}

async fn retrieve(State(fake): State<Fake>) -> Response {
    let mut session: Value = serde_json::from_str(include_str!(
        "../../../core/tests/fixtures/objects/session.json"
    ))
    .unwrap();
    let tokens = fake.state.lock().unwrap().usage_tokens;
    session["usage"] = json!({"input_tokens": tokens, "output_tokens": 0});
    reply(200, session)
}

// ---------------------------------------------------------------------------------------------
// Test tools
// ---------------------------------------------------------------------------------------------

type ToolFn = Arc<
    dyn Fn(Value, ToolContext) -> BoxFuture<'static, Result<ToolOutput, ToolError>> + Send + Sync,
>;

/// A tool made of a closure.
struct FnTool {
    name: &'static str,
    idempotent: bool,
    f: ToolFn,
}

#[steward_tools::async_trait]
impl Tool for FnTool {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        "a test tool"
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object"})
    }

    fn idempotent(&self) -> bool {
        self.idempotent
    }

    async fn call(&self, input: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        (self.f)(input, ctx.clone()).await
    }
}

fn tool<F, Fut>(name: &'static str, f: F) -> FnTool
where
    F: Fn(Value, ToolContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
{
    FnTool {
        name,
        idempotent: false,
        f: Arc::new(move |input, ctx| Box::pin(f(input, ctx))),
    }
}

fn registry(tools: impl IntoIterator<Item = FnTool>) -> Registry {
    let mut registry = Registry::new();
    for tool in tools {
        registry.insert(Arc::new(tool)).unwrap();
    }
    registry
}

/// `get_weather`: `18°C in <city>`, counting its runs.
fn weather(runs: Arc<AtomicUsize>) -> FnTool {
    tool("get_weather", move |input, _ctx| {
        runs.fetch_add(1, Ordering::SeqCst);
        async move {
            let city = input["city"].as_str().unwrap_or("nowhere").to_owned();
            Ok(ToolOutput::text(format!("18°C in {city}")))
        }
    })
}

fn session() -> SessionId {
    SessionId::new(SESSION)
}

/// Bounds a test step, so that a runner bug fails the test instead of hanging it.
async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish in time"))
}

// ---------------------------------------------------------------------------------------------
// Tests against the scripted server
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_custom_tool_round_trip_opens_the_stream_first_and_ends_on_end_turn() {
    let fake = Fake::start(Mode::Answer).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = fake.runner(registry([weather(runs.clone())])).build();
    let transcript = Transcript::new();
    let result = within(
        "the turn",
        runner
            .turn(&session())
            .message(r#"call get_weather {"city":"Lisbon"}"#)
            .transcript(&transcript)
            .run(),
    )
    .await
    .unwrap();

    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(result.final_text(), "results: 18°C in Lisbon");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(result.tool_calls.len(), 1);
    let call = &result.tool_calls[0];
    assert_eq!(call.call.name, "get_weather");
    assert_eq!(call.call.kind, CallKind::Custom);
    assert_eq!(call.text(), "18°C in Lisbon");
    assert!(!call.is_error && call.posted);
    assert_eq!(call.origin, ResultOrigin::Ran);
    assert_eq!(result.turn_usage.input_tokens, 200, "two model steps");
    assert_eq!(
        fake.results(),
        [(
            call.call.tool_use_id.to_string(),
            "18°C in Lisbon".to_owned(),
            false
        )]
    );
    assert_eq!(
        fake.log(),
        [
            "GET stream",
            "GET list",
            "POST user.message",
            "POST user.custom_tool_result"
        ],
        "the stream is open before anything is sent"
    );
    assert!(!runner.is_driving(&session()));
    insta::assert_snapshot!(transcript.render(), @r#"
    <event-1> user.message content=[{"type":"text","text":"call get_weather {\"city\":\"Lisbon\"}"}]
    <event-2> session.status_running
    <event-3> span.model_request_start
    <event-4> span.model_request_end is_error=false model_request_start_id="<event-3>" model_usage={"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":100,"output_tokens":10}
    <event-5> agent.custom_tool_use input={"city":"Lisbon"} name="get_weather"
    <event-6> session.status_idle stop_details=null stop_reason={"type":"requires_action","event_ids":["<event-5>"]}
    <event-7> user.custom_tool_result custom_tool_use_id="<event-5>" content=[{"type":"text","text":"18°C in Lisbon"}] is_error=false
    <event-8> session.status_running
    <event-9> span.model_request_start
    <event-10> span.model_request_end is_error=false model_request_start_id="<event-9>" model_usage={"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":100,"output_tokens":10}
    <event-11> agent.message content=[{"type":"text","text":"results: 18°C in Lisbon"}]
    <event-12> session.status_idle stop_details=null stop_reason={"type":"end_turn"}
    "#);
}

#[tokio::test]
async fn the_outcome_stream_reports_calls_results_and_messages_in_order() {
    let fake = Fake::start(Mode::Answer).await;
    let runner = fake.runner(registry([weather(Arc::default())])).build();
    let outcomes: Vec<Outcome> = within(
        "the turn",
        runner
            .turn(&session())
            .message(r#"call get_weather {"city":"Porto"}"#)
            .stream()
            .map(Result::unwrap)
            .collect(),
    )
    .await;
    let summary: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Event(_) => None,
            Outcome::ToolStarted(call) => Some(format!("started {}", call.name)),
            Outcome::ToolFinished(record) => Some(format!("finished {}", record.text())),
            Outcome::ResultPosted { posted, .. } => Some(format!("posted {posted}")),
            Outcome::Message { text, .. } => Some(format!("message {text}")),
            Outcome::Finished(result) => Some(format!("finished turn {:?}", result.stop)),
            other => Some(format!("{other:?}")),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "started get_weather",
            "finished 18°C in Porto",
            "posted true",
            "message results: 18°C in Porto",
            "finished turn EndTurn"
        ]
    );
    let events = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Event(_)))
        .count();
    assert_eq!(events, 12, "every event once");
}

#[tokio::test]
async fn a_lost_stream_is_resumed_from_the_last_event_without_double_dispatch() {
    let fake = Fake::start(Mode::Answer).await;
    // The first connection ends after the echo, `session.status_running` and the span start,
    // before the tool use; the second after one more frame.
    fake.state.lock().unwrap().stream_limits = [3, 1].into();
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = fake.runner(registry([weather(runs.clone())])).build();
    let outcomes: Vec<Outcome> = within(
        "the turn",
        runner
            .turn(&session())
            .message(r#"call get_weather {"city":"Sintra"}"#)
            .stream()
            .map(Result::unwrap)
            .collect(),
    )
    .await;
    let Some(Outcome::Finished(result)) = outcomes.last() else {
        panic!("no result: {outcomes:?}");
    };
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(result.final_text(), "results: 18°C in Sintra");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(fake.posted("user.custom_tool_result").len(), 1);
    let ids: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Event(event) => event.raw_id().map(str::to_owned),
            _ => None,
        })
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "every event once: {ids:?}");
    assert_eq!(ids.len(), 12, "and none missing");
    let streams = fake.log().iter().filter(|l| *l == "GET stream").count();
    assert!(streams >= 3, "reconnected twice: {:?}", fake.log());
}

#[tokio::test]
async fn two_calls_run_concurrently() {
    let fake = Fake::start(Mode::Answer).await;
    // Each tool waits for the other: run one after the other, they would never finish.
    let barrier = Arc::new(Barrier::new(2));
    /// When each tool ran.
    type Spans = Arc<Mutex<Vec<(&'static str, Instant, Instant)>>>;
    let spans: Spans = Arc::default();
    let make = |name: &'static str| {
        let barrier = barrier.clone();
        let spans = spans.clone();
        tool(name, move |_input, _ctx| {
            let barrier = barrier.clone();
            let spans = spans.clone();
            async move {
                let start = Instant::now();
                barrier.wait().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                spans.lock().unwrap().push((name, start, Instant::now()));
                Ok(ToolOutput::text(format!("{name} done")))
            }
        })
    };
    let runner = fake.runner(registry([make("alpha"), make("beta")])).build();
    let result = within(
        "two concurrent tools",
        runner.run_turn(&session(), "call alpha {}; beta {}"),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    let spans = spans.lock().unwrap().clone();
    assert_eq!(spans.len(), 2);
    let (a, b) = (&spans[0], &spans[1]);
    assert!(a.1 < b.2 && b.1 < a.2, "the runs overlap: {spans:?}");
    let mut texts: Vec<String> = fake.results().into_iter().map(|r| r.1).collect();
    texts.sort();
    assert_eq!(texts, ["alpha done", "beta done"]);
}

#[tokio::test]
async fn the_concurrency_limit_serializes_tools() {
    let fake = Fake::start(Mode::Answer).await;
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let make = |name: &'static str| {
        let running = running.clone();
        let peak = peak.clone();
        tool(name, move |_input, _ctx| {
            let running = running.clone();
            let peak = peak.clone();
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(ToolOutput::text("ok"))
            }
        })
    };
    let runner = fake
        .runner(registry([make("a"), make("b"), make("c")]))
        .max_concurrent_tools(1)
        .build();
    let result = within(
        "the turn",
        runner.run_turn(&session(), "call a {}; b {}; c {}"),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(result.tool_calls.len(), 3);
    assert_eq!(peak.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn failing_panicking_and_hanging_tools_become_error_results() {
    let fake = Fake::start(Mode::Answer).await;
    let runner = fake
        .runner(registry([
            tool("fails", |_input, _ctx| async {
                Err(ToolError::unavailable("the weather service is down"))
            }),
            tool("panics", |_input, _ctx| async {
                if true {
                    panic!("index out of bounds in the tool");
                }
                Ok(ToolOutput::text("unreachable"))
            }),
            tool("hangs", |_input, _ctx| async {
                std::future::pending::<()>().await;
                Ok(ToolOutput::text("unreachable"))
            }),
        ]))
        .tool_timeout(Duration::from_millis(200))
        .build();
    let result = within(
        "the turn",
        runner.run_turn(&session(), "call fails {}; panics {}; hangs {}; missing {}"),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn, "the runner keeps going");
    let mut results: Vec<(String, bool)> = fake
        .results()
        .into_iter()
        .map(|(_, text, is_error)| (text, is_error))
        .collect();
    results.sort();
    assert_eq!(
        results,
        [
            (
                "not_found: this host has no tool named `missing`; use one of the tools you were given".to_owned(),
                true
            ),
            (
                "other: the tool `panics` failed unexpectedly (it crashed); calling it again with the same input will likely fail the same way".to_owned(),
                true
            ),
            (
                "timeout: the tool `hangs` did not finish within 200ms and was stopped; try a smaller request, or another approach".to_owned(),
                true
            ),
            ("unavailable: the weather service is down".to_owned(), true),
        ]
    );
    let origins: HashSet<ResultOrigin> = result.tool_calls.iter().map(|c| c.origin).collect();
    assert!(origins.contains(&ResultOrigin::UnknownTool));
    assert!(result.tool_calls.iter().all(|c| c.is_error && c.posted));
}

#[tokio::test]
async fn a_step_cap_stops_a_runaway_loop_with_an_interrupt() {
    let fake = Fake::start(Mode::Loop).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let runner = fake
        .runner(registry([tool("again", move |_input, _ctx| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok(ToolOutput::text("once more")) }
        })]))
        .max_tool_calls_per_turn(3)
        .build();
    let result = within(
        "the capped loop",
        runner.run_turn(&session(), "call again {}"),
    )
    .await
    .unwrap();
    let TurnStop::StepLimit { limit, refused } = &result.stop else {
        panic!("expected a step limit, got {:?}", result.stop);
    };
    assert_eq!(*limit, 3);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(result.tool_calls.len(), 3);
    assert_eq!(
        fake.posted("user.interrupt").len(),
        1,
        "the runner interrupted"
    );
    let calls = fake.events_of("agent.custom_tool_use");
    assert_eq!(calls.len(), 4);
    assert_eq!(
        calls[3]["id"],
        refused.as_str(),
        "the fourth call was refused"
    );
    assert_eq!(fake.results().len(), 3);
}

#[tokio::test]
async fn a_result_post_that_fails_twice_is_delivered_once_and_the_tool_runs_once() {
    let fake = Fake::start(Mode::Answer).await;
    let failures = Arc::new(AtomicUsize::new(0));
    let seen = failures.clone();
    fake.fail_with(move |events| {
        let is_result = events
            .iter()
            .any(|e| e["type"] == "user.custom_tool_result");
        (is_result && seen.fetch_add(1, Ordering::SeqCst) < 2).then_some(500)
    });
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = fake.runner(registry([weather(runs.clone())])).build();
    let result = within(
        "the turn",
        runner.run_turn(&session(), r#"call get_weather {"city":"Faro"}"#),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the tool ran once");
    assert_eq!(
        fake.posted("user.custom_tool_result").len(),
        3,
        "two failures, one success"
    );
    assert_eq!(fake.results().len(), 1, "delivered once");
    assert!(result.tool_calls[0].posted);
    // Before each repeat the runner looked for the result in the history.
    let log = fake.log();
    let posts: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == "POST user.custom_tool_result")
        .map(|(i, _)| i)
        .collect();
    for pair in posts.windows(2) {
        assert!(
            log[pair[0]..pair[1]].contains(&"GET list".to_owned()),
            "{log:?}"
        );
    }
}

#[tokio::test]
async fn a_result_already_in_the_history_is_not_sent_again() {
    // The first post is processed but its response is lost (500): the repeat must not happen.
    let fake = Fake::start(Mode::Answer).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = fake.runner(registry([weather(runs.clone())])).build();
    let state = fake.state.clone();
    let tx = fake.tx.clone();
    let lost = Arc::new(AtomicBool::new(false));
    let flag = lost.clone();
    fake.fail_with(move |events| {
        let result = events
            .iter()
            .find(|e| e["type"] == "user.custom_tool_result")?;
        if flag.swap(true, Ordering::SeqCst) {
            return None;
        }
        // Process it behind the scenes (the lock is held by the handler: defer to a task).
        let result = result.clone();
        let state = state.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut state = state.lock().unwrap();
            let echo = state.push(&tx, result);
            state.react(&tx, &echo);
        });
        Some(500)
    });
    let result = within(
        "the turn",
        runner.run_turn(&session(), r#"call get_weather {"city":"Braga"}"#),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(
        fake.posted("user.custom_tool_result").len(),
        1,
        "not repeated"
    );
    assert_eq!(fake.results().len(), 1);
    assert!(result.tool_calls[0].posted);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// Drops a turn's stream (the runner is "killed") and waits until the runner has let go of
/// the session.
async fn kill(runner: &SessionRunner, stream: TurnStream) {
    drop(stream);
    within("the runner to let go", async {
        while runner.is_driving(&session()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // Let aborted tasks unwind before the test changes the server's behaviour.
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_result_computed_before_a_crash_is_resent_not_recomputed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let fake = Fake::start(Mode::Answer).await;
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    fake.fail_with(move |events| {
        let is_result = events
            .iter()
            .any(|e| e["type"] == "user.custom_tool_result");
        (is_result && flag.load(Ordering::SeqCst)).then_some(503)
    });
    let runs = Arc::new(AtomicUsize::new(0));

    let first = fake
        .runner(registry([weather(runs.clone())]))
        .ledger(FileLedger::open(&path).await.unwrap())
        .build();
    let mut stream = first
        .turn(&session())
        .message(r#"call get_weather {"city":"Evora"}"#)
        .stream();
    within("the first run", async {
        while !matches!(stream.next().await, Some(Ok(Outcome::ToolFinished(_)))) {}
    })
    .await;
    kill(&first, stream).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(fake.results().is_empty(), "nothing was delivered");

    down.store(false, Ordering::SeqCst);
    let second = fake
        .runner(registry([weather(runs.clone())]))
        .ledger(FileLedger::open(&path).await.unwrap())
        .build();
    let result = within("the restart", second.attach(&session()).run())
        .await
        .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "not recomputed");
    assert_eq!(result.tool_calls.len(), 1);
    assert_eq!(result.tool_calls[0].origin, ResultOrigin::Replayed);
    assert!(result.tool_calls[0].posted);
    let results: Vec<(String, bool)> = fake.results().into_iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(results, [("18°C in Evora".to_owned(), false)]);
    assert_eq!(result.final_text(), "results: 18°C in Evora");

    // Delivered: the next opening of the ledger compacts it away.
    drop(second);
    let ledger = FileLedger::open(&path).await.unwrap();
    assert!(ledger.entries().is_empty(), "{:?}", ledger.entries());
}

#[tokio::test]
async fn a_call_cut_short_by_a_crash_is_rerun_only_when_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let fake = Fake::start(Mode::Answer).await;
    let charges = Arc::new(AtomicUsize::new(0));
    let lookups = Arc::new(AtomicUsize::new(0));
    // The first run of each tool never returns.
    let tools = |charges: Arc<AtomicUsize>, lookups: Arc<AtomicUsize>| {
        let charge = tool("charge_card", move |_input, _ctx| {
            let n = charges.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    std::future::pending::<()>().await;
                }
                Ok(ToolOutput::text("charged again"))
            }
        });
        let mut lookup = tool("lookup", move |_input, _ctx| {
            let n = lookups.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    std::future::pending::<()>().await;
                }
                Ok(ToolOutput::text("found it"))
            }
        });
        lookup.idempotent = true;
        registry([charge, lookup])
    };

    let first = fake
        .runner(tools(charges.clone(), lookups.clone()))
        .ledger(FileLedger::open(&path).await.unwrap())
        .build();
    let stream = first
        .turn(&session())
        .message("call charge_card {}; lookup {}")
        .stream();
    // Kill the runner once both tools are inside their `call`.
    within("both tools to start", async {
        while charges.load(Ordering::SeqCst) + lookups.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    kill(&first, stream).await;
    assert_eq!(charges.load(Ordering::SeqCst), 1);
    assert_eq!(lookups.load(Ordering::SeqCst), 1);

    let second = fake
        .runner(tools(charges.clone(), lookups.clone()))
        .ledger(FileLedger::open(&path).await.unwrap())
        .build();
    let result = within("the restart", second.attach(&session()).run())
        .await
        .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(charges.load(Ordering::SeqCst), 1, "not charged twice");
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        2,
        "the idempotent lookup ran again"
    );
    let mut origins: Vec<(String, ResultOrigin)> = result
        .tool_calls
        .iter()
        .map(|c| (c.call.name.clone(), c.origin))
        .collect();
    origins.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        origins,
        [
            ("charge_card".to_owned(), ResultOrigin::OutcomeUnknown),
            ("lookup".to_owned(), ResultOrigin::Rerun)
        ]
    );
    let mut results: Vec<(String, bool)> = fake.results().into_iter().map(|r| (r.1, r.2)).collect();
    results.sort();
    assert_eq!(
        results,
        [
            ("found it".to_owned(), false),
            (
                "other: the host restarted while the tool `charge_card` was running, so the outcome of this call is unknown: it may or may not have taken effect. Check before calling it again".to_owned(),
                true
            ),
        ]
    );
}

#[tokio::test]
async fn an_interrupt_from_elsewhere_cancels_a_running_tool() {
    let fake = Fake::start(Mode::Answer).await;
    let token: Arc<Mutex<Option<CancellationToken>>> = Arc::default();
    let started = Arc::new(Notify::new());
    let (slot, signal) = (token.clone(), started.clone());
    let runner = fake
        .runner(registry([tool("slow", move |_input, ctx| {
            *slot.lock().unwrap() = Some(ctx.cancel.clone());
            let signal = signal.clone();
            async move {
                signal.notify_one();
                ctx.cancel.cancelled().await;
                Ok(ToolOutput::text("late"))
            }
        })]))
        .build();
    let turn = tokio::spawn({
        let runner = runner.clone();
        async move { runner.run_turn(&session(), "call slow {}").await }
    });
    within("the tool to start", started.notified()).await;
    fake.client()
        .sessions()
        .events()
        .send(
            &session(),
            &steward_core::event::SendEvents::new([steward_core::event::UserEvent::interrupt()]),
        )
        .await
        .unwrap();
    let result = within("the interrupted turn", turn).await.unwrap().unwrap();
    assert_eq!(result.stop, TurnStop::Interrupted);
    assert!(fake.results().is_empty(), "no result after the interrupt");
    assert!(result.tool_calls.is_empty());
    let token = token.lock().unwrap().clone().unwrap();
    assert!(token.is_cancelled(), "the tool was told to stop");
}

#[tokio::test]
async fn calls_held_for_approval_go_to_the_confirmation_policy() {
    let fake = Fake::start(Mode::Answer).await;
    let asked: Arc<Mutex<Vec<ConfirmationRequest>>> = Arc::default();
    let log = asked.clone();
    let runner = fake
        .runner(Registry::new())
        .confirmation_policy(move |request: &ConfirmationRequest| {
            log.lock().unwrap().push(request.clone());
            Confirmation::Allow
        })
        .build();
    let result = within(
        "the turn",
        runner.run_turn(&session(), r#"ask bash {"command":"ls"}"#),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(result.final_text(), "confirmation: allow");
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].name, "bash");
    assert_eq!(asked[0].input["command"], "ls");
    let confirmations = fake.posted("user.tool_confirmation");
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0]["result"], "allow");
    assert!(
        fake.posted("user.tool_result").is_empty(),
        "the server runs it"
    );

    // The default policy denies, with a message the model can read.
    let fake = Fake::start(Mode::Answer).await;
    let runner = fake.runner(Registry::new()).build();
    let result = within("the turn", runner.run_turn(&session(), r#"ask bash {}"#))
        .await
        .unwrap();
    assert_eq!(result.final_text(), "confirmation: deny");
    let denial = &fake.posted("user.tool_confirmation")[0];
    assert_eq!(
        denial["deny_message"],
        steward_runtime::runner::policy::NO_POLICY_MESSAGE
    );
}

#[tokio::test]
async fn a_token_budget_read_from_the_session_usage_stops_the_turn() {
    let fake = Fake::start(Mode::Loop).await;
    let runner = fake
        .runner(registry([tool("again", |_input, _ctx| async {
            Ok(ToolOutput::text("more"))
        })]))
        .token_budget(300)
        .build();
    let result = within(
        "the budgeted turn",
        runner.run_turn(&session(), "call again {}"),
    )
    .await
    .unwrap();
    // Each model step uses 110 tokens: the third step crosses 300.
    assert_eq!(
        result.stop,
        TurnStop::TokenBudget {
            limit: 300,
            used: 330
        }
    );
    assert_eq!(fake.posted("user.interrupt").len(), 1);

    // Already over budget: nothing is sent at all.
    let posts = fake.posted("user.message").len();
    let result = within(
        "the second turn",
        runner.run_turn(&session(), "call again {}"),
    )
    .await
    .unwrap();
    assert!(matches!(result.stop, TurnStop::TokenBudget { used, .. } if used >= 300));
    assert_eq!(fake.posted("user.message").len(), posts);
}

#[tokio::test]
async fn idle_time_and_busy_sessions_are_bounded() {
    let fake = Fake::start(Mode::Answer).await;
    // Nobody answers `unknown`: the session waits forever.
    let runner = fake
        .runner(Registry::new())
        .answer_unknown_tools(false)
        .max_idle(Duration::from_millis(200))
        .build();
    let mut stream = runner.turn(&session()).message("call unknown {}").stream();
    let mut skipped = false;
    let result = within("the idle turn", async {
        loop {
            match stream.next().await.unwrap().unwrap() {
                Outcome::ToolSkipped(call) => {
                    assert_eq!(call.name, "unknown");
                    // While this turn runs, the session is busy for this runner.
                    let busy = runner.run_turn(&session(), "hi").await.unwrap_err();
                    assert!(busy.to_string().contains("already being driven"), "{busy}");
                    skipped = true;
                }
                Outcome::Finished(result) => break result,
                _ => {}
            }
        }
    })
    .await;
    assert!(skipped);
    assert_eq!(
        result.stop,
        TurnStop::IdleTimeout {
            after: Duration::from_millis(200)
        }
    );
    assert!(fake.results().is_empty());
}

#[tokio::test]
async fn attaching_to_a_settled_session_ends_at_once() {
    let fake = Fake::start(Mode::Answer).await;
    let runner = fake.runner(Registry::new()).build();
    let result = within("attach", runner.attach(&session()).run())
        .await
        .unwrap();
    assert_eq!(result.stop, TurnStop::Idle, "a session that never ran");
    let result = within("a turn", runner.run_turn(&session(), "hello"))
        .await
        .unwrap();
    assert_eq!(result.final_text(), "no tools needed");
    let result = within("attach", runner.attach(&session()).run())
        .await
        .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn, "the last turn's stop");
    assert!(result.messages.is_empty());
}

/// The `created_at[gte]` bound of a list query, if any.
fn gte(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("created_at[gte]="))
}

#[tokio::test]
async fn a_later_turn_lists_only_what_came_after_the_last_one() {
    let fake = Fake::start(Mode::Answer).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = fake.runner(registry([weather(runs.clone())])).build();
    for city in ["Lisbon", "Porto", "Faro"] {
        let result = within(
            "a turn",
            runner.run_turn(
                &session(),
                format!(r#"call get_weather {{"city":"{city}"}}"#),
            ),
        )
        .await
        .unwrap();
        assert_eq!(result.stop, TurnStop::EndTurn);
        assert_eq!(result.tool_calls.len(), 1, "{city}");
        assert_eq!(result.tool_calls[0].text(), format!("18°C in {city}"));
        assert!(result.tool_calls[0].posted);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3, "each call ran once");
    assert_eq!(fake.results().len(), 3, "each result delivered once");

    let lists = fake.lists();
    assert_eq!(lists.len(), 3, "one list per turn: {lists:?}");
    assert_eq!(
        gte(&lists[0].0),
        None,
        "the first drive reads the whole history"
    );
    assert_eq!(lists[0].1, 0);
    // Each later drive lists from the last event the one before folded (the `end_turn` idle),
    // which is all the list returns: nothing was added between the turns.
    let ends: Vec<String> = fake
        .events_of("session.status_idle")
        .into_iter()
        .filter(|e| e["stop_reason"]["type"] == "end_turn")
        .map(|e| e["processed_at"].as_str().unwrap().to_owned())
        .collect();
    for (n, (query, returned)) in lists.iter().enumerate().skip(1) {
        assert_eq!(gte(query), Some(ends[n - 1].as_str()), "{query}");
        assert!(query.contains("order=asc"), "{query}");
        assert_eq!(*returned, 1, "drive {n} listed the history again: {query}");
    }

    // Attaching ends at once on the last turn's stop, again without the whole history.
    let result = within("attach", runner.attach(&session()).run())
        .await
        .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    let (query, returned) = fake.lists().last().unwrap().clone();
    assert_eq!(gte(&query), Some(ends[2].as_str()));
    assert_eq!(returned, 1);

    // Events added while no drive ran are read by the next one (and only those): another
    // client's turn, here sent directly.
    fake.client()
        .sessions()
        .events()
        .send(
            &session(),
            &steward_core::event::SendEvents::new([steward_core::event::UserEvent::message(
                "hello",
            )]),
        )
        .await
        .unwrap();
    let result = within("attach", runner.attach(&session()).run())
        .await
        .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    let (_, returned) = fake.lists().last().unwrap().clone();
    assert_eq!(
        returned,
        1 + 6,
        "the cursor event, then the message, running, two spans, the reply and the idle"
    );

    // Another runner knows nothing of the session: it reads everything.
    let other = fake.runner(registry([weather(runs.clone())])).build();
    let result = within("attach", other.attach(&session()).run())
        .await
        .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    let (query, returned) = fake.lists().last().unwrap().clone();
    assert_eq!(gte(&query), None);
    assert_eq!(returned, fake.state.lock().unwrap().events.len());
    assert_eq!(runs.load(Ordering::SeqCst), 3, "nothing ran again");
}

#[tokio::test]
async fn a_call_left_waiting_by_one_drive_is_answered_by_the_next() {
    let fake = Fake::start(Mode::Answer).await;
    // The result post is refused (a final 4xx) until `down` is cleared: the first drive keeps
    // the result in its ledger and gives up waiting.
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    fake.fail_with(move |events| {
        let is_result = events
            .iter()
            .any(|e| e["type"] == "user.custom_tool_result");
        (is_result && flag.load(Ordering::SeqCst)).then_some(400)
    });
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = fake
        .runner(registry([weather(runs.clone())]))
        .max_idle(Duration::from_millis(200))
        .build();
    let result = within(
        "the first drive",
        runner.run_turn(&session(), r#"call get_weather {"city":"Beja"}"#),
    )
    .await
    .unwrap();
    assert_eq!(
        result.stop,
        TurnStop::IdleTimeout {
            after: Duration::from_millis(200)
        }
    );
    assert!(!result.tool_calls[0].posted);
    assert!(fake.results().is_empty());

    down.store(false, Ordering::SeqCst);
    let result = within("the second drive", runner.attach(&session()).run())
        .await
        .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "not recomputed");
    assert_eq!(result.tool_calls.len(), 1);
    assert_eq!(result.tool_calls[0].origin, ResultOrigin::Replayed);
    assert!(result.tool_calls[0].posted);
    assert_eq!(fake.results().len(), 1);
    assert_eq!(result.final_text(), "results: 18°C in Beja");
    // The second drive knew of the call from the first one's fold, not from the history.
    let (query, returned) = fake.lists().last().unwrap().clone();
    assert!(gte(&query).is_some(), "{query}");
    assert_eq!(returned, 1, "only the cursor event: {query}");
}

#[tokio::test]
async fn self_hosted_toolset_calls_run_here_and_are_answered_with_tool_results() {
    let fake = Fake::start(Mode::Answer).await;
    let read = tool("read", |input, ctx| async move {
        Ok(ToolOutput::text(format!(
            "contents of {} (key {})",
            input["path"].as_str().unwrap(),
            ctx.idempotency_key()
        )))
    });
    let runner = fake.runner(registry([read])).self_hosted(true).build();
    let result = within(
        "the turn",
        runner.run_turn(&session(), r#"run read {"path":"/etc/motd"}"#),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(result.tool_calls[0].call.kind, CallKind::Toolset);
    let posted = fake.posted("user.tool_result");
    assert_eq!(posted.len(), 1);
    let key = posted[0]["tool_use_id"].as_str().unwrap();
    assert_eq!(
        posted[0]["content"][0]["text"],
        format!("contents of /etc/motd (key {key})"),
        "the tool-use ID is the call's idempotency key"
    );
    assert_eq!(posted[0]["is_error"], false);
    assert!(fake.posted("user.custom_tool_result").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Tests against the local platform's engine (offline model)
// ---------------------------------------------------------------------------------------------

/// A platform with an agent declaring the registry's tools, and a session of it.
struct PlatformSession {
    _dir: tempfile::TempDir,
    _handle: steward_platform::PlatformHandle,
    client: Client,
    session: SessionId,
}

async fn platform_session(registry: &Registry) -> PlatformSession {
    let dir = tempfile::tempdir().unwrap();
    let handle = steward_platform::Platform::builder()
        .data_dir(dir.path())
        .start_ephemeral()
        .await
        .unwrap();
    let client = Client::builder()
        .api_key(handle.api_key())
        .base_url(handle.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let mut agent: steward_core::agent::AgentCreate =
        serde_json::from_value(json!({"name": "weather desk", "model": "claude-opus-4-7"}))
            .unwrap();
    agent.tools = Some(registry.agent_tools());
    let agent = client.agents().create(&agent).await.unwrap();
    let environment: steward_core::environment::EnvironmentCreate =
        serde_json::from_value(json!({"name": "local"})).unwrap();
    let environment = client.environments().create(&environment).await.unwrap();
    let session = client
        .sessions()
        .create(&steward_core::session::SessionCreate::new(
            agent.id,
            environment.id,
        ))
        .await
        .unwrap();
    PlatformSession {
        _dir: dir,
        _handle: handle,
        client,
        session: session.id,
    }
}

/// Tools in these tests take 100 ms at least: a result sent before the engine has gone idle
/// (`requires_action`) is valid, but would make the transcript depend on timing.
const TOOL_LATENCY: Duration = Duration::from_millis(100);

#[tokio::test]
async fn platform_custom_tool_round_trip() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let tools = registry([tool("get_weather", move |input, _ctx| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::time::sleep(TOOL_LATENCY).await;
            let city = input["city"].as_str().unwrap_or("nowhere").to_owned();
            Ok(ToolOutput::text(format!("18°C in {city}")))
        }
    })]);
    let p = platform_session(&tools).await;
    let runner = SessionRunner::new(p.client.clone(), tools);
    let transcript = Transcript::new();
    let result = within(
        "the turn",
        runner
            .turn(&p.session)
            .message(r#"get_weather {"city":"Lisbon"}"#)
            .transcript(&transcript)
            .run(),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        result.final_text(),
        "[offline model] Tool results:\n- get_weather: 18°C in Lisbon"
    );
    assert!(result.tool_calls[0].posted);
    insta::assert_snapshot!("platform_custom_tool_round_trip", transcript.render());
}

/// One runner over one h2c connection drives more sessions at once than hyper's default limit
/// of 200 concurrent streams per connection: every turn's stream stays open while the others
/// start, every tool runs once and every turn ends.
#[tokio::test]
async fn platform_many_sessions_over_h2c() {
    const SESSIONS: usize = 240;
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let tools = registry([tool("get_weather", move |_input, _ctx| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move { Ok(ToolOutput::text("Sun")) }
    })]);
    let p = platform_session(&tools).await;
    let client = Client::builder()
        .api_key(p._handle.api_key())
        .base_url(p._handle.base_url())
        .http_version(steward_runtime::HttpVersion::Http2)
        .build()
        .unwrap();
    let first = client.sessions().retrieve(&p.session).await.unwrap();
    let mut sessions = vec![p.session.clone()];
    for _ in 1..SESSIONS {
        let create = steward_core::session::SessionCreate::new(
            first.agent.id.clone(),
            first.environment_id.clone(),
        );
        sessions.push(client.sessions().create(&create).await.unwrap().id);
    }
    let runner = SessionRunner::builder(client, tools).build();
    // Every turn is started before any is awaited: all their streams are open together.
    let turns: Vec<_> = sessions
        .iter()
        .map(|id| {
            runner
                .turn(id)
                .message(r#"get_weather {"city":"Porto"}"#)
                .stream()
        })
        .collect();
    let results = tokio::time::timeout(
        Duration::from_secs(120),
        futures::future::join_all(turns.into_iter().map(|turn| turn.result())),
    )
    .await
    .expect("the turns did not end");
    for result in results {
        let result = result.unwrap();
        assert_eq!(result.stop, TurnStop::EndTurn);
        assert!(result.tool_calls[0].posted);
    }
    assert_eq!(runs.load(Ordering::SeqCst), SESSIONS);
}

#[tokio::test]
async fn platform_two_concurrent_tools() {
    // Both wait for each other (so they must overlap), then `get_weather` answers first.
    let barrier = Arc::new(Barrier::new(2));
    let make = |name: &'static str, delay: u64, text: &'static str| {
        let barrier = barrier.clone();
        tool(name, move |_input, _ctx| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                tokio::time::sleep(TOOL_LATENCY + Duration::from_millis(delay)).await;
                Ok(ToolOutput::text(text))
            }
        })
    };
    let tools = registry([
        make("get_weather", 0, "Rain"),
        make("get_time", 300, "09:30"),
    ]);
    let p = platform_session(&tools).await;
    let runner = SessionRunner::new(p.client.clone(), tools);
    let transcript = Transcript::new();
    let result = within(
        "the turn",
        runner
            .turn(&p.session)
            .message(r#"Call get_weather {"city":"Oslo"} and get_time {"city":"Oslo"}"#)
            .transcript(&transcript)
            .run(),
    )
    .await
    .unwrap();
    assert_eq!(result.stop, TurnStop::EndTurn);
    let names: Vec<&str> = result
        .tool_calls
        .iter()
        .map(|c| c.call.name.as_str())
        .collect();
    assert_eq!(names, ["get_weather", "get_time"]);
    insta::assert_snapshot!("platform_two_concurrent_tools", transcript.render());
}

#[tokio::test]
async fn one_runner_drives_many_sessions_at_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let tools = registry([weather(runs.clone())]);
    let p = platform_session(&tools).await;
    let agent = p.client.sessions().retrieve(&p.session).await.unwrap();
    let mut sessions = vec![p.session.clone()];
    for _ in 1..40 {
        let create = steward_core::session::SessionCreate::new(
            agent.agent.id.clone(),
            agent.environment_id.clone(),
        );
        sessions.push(p.client.sessions().create(&create).await.unwrap().id);
    }
    let runner = SessionRunner::new(p.client.clone(), tools);
    let turns = sessions.iter().enumerate().map(|(i, session)| {
        let runner = runner.clone();
        async move {
            runner
                .run_turn(session, format!(r#"get_weather {{"city":"City {i}"}}"#))
                .await
        }
    });
    let results = within("forty turns", futures::future::join_all(turns)).await;
    for (i, result) in results.into_iter().enumerate() {
        let result = result.unwrap();
        assert_eq!(result.stop, TurnStop::EndTurn);
        assert_eq!(
            result.final_text(),
            format!("[offline model] Tool results:\n- get_weather: 18°C in City {i}")
        );
    }
    assert_eq!(runs.load(Ordering::SeqCst), 40);
}
