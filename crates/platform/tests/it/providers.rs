//! The real-model providers against local servers that speak their wire formats.
//!
//! Each test starts a platform whose engine uses the `anthropic` or `openai` provider, pointed
//! at an axum server on 127.0.0.1 that answers the way the real service does, byte for byte:
//! the Messages API's streamed events (`message_start`, `content_block_start`,
//! `content_block_delta` with `text_delta` / `input_json_delta` / `thinking_delta`,
//! `content_block_stop`, `message_delta` with usage and `stop_reason`, `message_stop`, and
//! `ping`s between), the chat completions API's `data: {chat.completion.chunk}` lines ending in
//! `data: [DONE]`, and both APIs' error bodies and `retry-after` headers. The server cuts its
//! streams into small chunks at arbitrary boundaries, records every request, and answers from
//! a script. Most tests run once per wire format ([`Wire`]).
//!
//! The request bodies the platform sends are snapshots, with event IDs replaced by
//! `[event N]` (N the event's position in the session's history).
#![expect(
    clippy::unwrap_used,
    reason = "the fixture's helpers fail the test on any unexpected response"
)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_platform::Platform;
use steward_platform::engine::model::config::parse_model_map;
use steward_platform::engine::{
    AnthropicConfig, AnthropicProvider, ApiKey, EngineOptions, ModelProvider, OpenAiConfig,
    OpenAiProvider, RetryPolicy,
};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::support::{TestPlatform, id};

/// How long a test waits for the engine.
const PATIENCE: Duration = Duration::from_secs(20);

/// The key the platform is given; it must never show up in a session.
const ANTHROPIC_KEY: &str = "sk-ant-test-key-0123456789";

/// The key of the chat completions server.
const OPENAI_KEY: &str = "sk-local-test-key-0123456789";

/// The agents' model.
const MODEL: &str = "claude-sonnet-4-6";

// ---------------------------------------------------------------------------------------------
// The local model server
// ---------------------------------------------------------------------------------------------

/// One scripted answer of the model server.
#[derive(Debug, Clone)]
enum Reply {
    /// A response with this status, headers and body (streamed in small chunks).
    Raw {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// A stream that sends this much and then never ends.
    Stall(String),
}

/// A request the server received.
#[derive(Debug, Clone)]
struct Recorded {
    path: String,
    headers: HeaderMap,
    body: Value,
    at: Instant,
}

#[derive(Debug, Default)]
struct MockState {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

/// The model server: an axum server on 127.0.0.1 answering every POST from its script.
struct MockServer {
    base_url: String,
    state: Arc<MockState>,
}

impl MockServer {
    async fn start(replies: Vec<Reply>) -> Self {
        let state = Arc::new(MockState {
            replies: Mutex::new(replies.into()),
            requests: Mutex::default(),
        });
        let router = axum::Router::new()
            .fallback(answer)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }
}

async fn answer(
    axum::extract::State(state): axum::extract::State<Arc<MockState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.requests.lock().unwrap().push(Recorded {
        path: uri.path().to_owned(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: Instant::now(),
    });
    let reply = state.replies.lock().unwrap().pop_front();
    let (status, headers, body, stall) = match reply {
        Some(Reply::Raw {
            status,
            headers,
            body,
        }) => (status, headers, body, false),
        Some(Reply::Stall(prefix)) => (200, sse_headers(), prefix, true),
        None => (
            500,
            vec![("content-type", "application/json".to_owned())],
            r#"{"type":"error","error":{"type":"api_error","message":"the test script ran out"}}"#
                .to_owned(),
            false,
        ),
    };
    let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap());
    for (name, value) in headers {
        response = response.header(name, value);
    }
    response.body(chunked(body, stall)).unwrap()
}

/// A body written through a small pipe in 7-byte pieces, so the client reads it in chunks at
/// arbitrary boundaries; a stalled one never ends.
fn chunked(body: String, stall: bool) -> Body {
    let (mut writer, reader) = tokio::io::duplex(16);
    tokio::spawn(async move {
        for piece in body.as_bytes().chunks(7) {
            if writer.write_all(piece).await.is_err() {
                return;
            }
            tokio::task::yield_now().await;
        }
        if stall {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
    Body::from_stream(tokio_util::io::ReaderStream::new(reader))
}

fn sse_headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "content-type",
            "text/event-stream; charset=utf-8".to_owned(),
        ),
        ("cache-control", "no-cache".to_owned()),
    ]
}

// ---------------------------------------------------------------------------------------------
// The two wire formats
// ---------------------------------------------------------------------------------------------

/// Token counts of a scripted reply.
#[derive(Debug, Clone, Copy, Default)]
struct Tokens {
    input: u64,
    output: u64,
    cache_write: u64,
    cache_read: u64,
}

fn tokens(input: u64, output: u64) -> Tokens {
    Tokens {
        input,
        output,
        ..Tokens::default()
    }
}

/// A scripted tool call: the model's ID for it, the tool and its input.
type Call<'a> = (&'a str, &'a str, Value);

/// Which API the model server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Anthropic,
    OpenAi,
}

impl Wire {
    const ALL: [Wire; 2] = [Wire::Anthropic, Wire::OpenAi];

    fn name(self) -> &'static str {
        match self {
            Wire::Anthropic => "anthropic",
            Wire::OpenAi => "openai",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Wire::Anthropic => "/v1/messages",
            Wire::OpenAi => "/v1/chat/completions",
        }
    }

    /// The provider pointed at the model server.
    fn provider(self, server: &MockServer, timeout: Duration) -> Arc<dyn ModelProvider> {
        match self {
            Wire::Anthropic => Arc::new(
                AnthropicProvider::new(AnthropicConfig {
                    base_url: server.base_url.clone(),
                    api_key: Some(ApiKey::new(ANTHROPIC_KEY)),
                    timeout,
                    ..AnthropicConfig::default()
                })
                .unwrap(),
            ),
            Wire::OpenAi => Arc::new(
                OpenAiProvider::new(OpenAiConfig {
                    base_url: format!("{}/v1", server.base_url),
                    api_key: Some(ApiKey::new(OPENAI_KEY)),
                    model_map: parse_model_map([&*format!("{MODEL}=qwen3:8b")]).unwrap(),
                    timeout,
                    ..OpenAiConfig::default()
                })
                .unwrap(),
            ),
        }
    }

    /// A reply with optional thinking, text and tool calls.
    fn reply(
        self,
        thinking: Option<&str>,
        text: Option<&str>,
        calls: &[Call<'_>],
        t: Tokens,
    ) -> Reply {
        let body = match self {
            Wire::Anthropic => anthropic_stream(thinking, text, calls, t, None),
            Wire::OpenAi => openai_stream(thinking, text, calls, t, None),
        };
        Reply::Raw {
            status: 200,
            headers: sse_headers(),
            body,
        }
    }

    fn text(self, text: &str, t: Tokens) -> Reply {
        self.reply(None, Some(text), &[], t)
    }

    /// An error response as the API sends it.
    fn error(self, status: u16, message: &str, retry_after: Option<&str>) -> Reply {
        let body = match self {
            Wire::Anthropic => {
                let kind = match status {
                    429 => "rate_limit_error",
                    529 => "overloaded_error",
                    401 => "authentication_error",
                    _ => "invalid_request_error",
                };
                json!({"type": "error", "error": {"type": kind, "message": message},
                    "request_id": "req_011CTestRequest"})
            }
            Wire::OpenAi => {
                let code = match status {
                    429 => json!("rate_limit_exceeded"),
                    _ => Value::Null,
                };
                let kind = match status {
                    429 => "requests",
                    503 => "server_error",
                    _ => "invalid_request_error",
                };
                json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
            }
        };
        let mut headers = vec![("content-type", "application/json".to_owned())];
        if let Some(after) = retry_after {
            headers.push(("retry-after", after.to_owned()));
        }
        if self == Wire::Anthropic {
            headers.push(("request-id", "req_011CTestRequest".to_owned()));
            headers.push(("x-should-retry", (status >= 429).to_string()));
        }
        Reply::Raw {
            status,
            headers,
            body: body.to_string(),
        }
    }

    /// The status an overloaded server answers with.
    fn overloaded_status(self) -> u16 {
        match self {
            Wire::Anthropic => 529,
            Wire::OpenAi => 503,
        }
    }
}

/// One `event:`/`data:` pair of the Messages API's stream.
fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// `text` cut into pieces of about `n` characters.
fn pieces(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

/// A streamed Messages API response, as the service sends it.
fn anthropic_stream(
    thinking: Option<&str>,
    text: Option<&str>,
    calls: &[Call<'_>],
    t: Tokens,
    stop: Option<Value>,
) -> String {
    let mut out = event(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message", "role": "assistant", "model": MODEL, "content": [],
            "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": t.input,
            "cache_creation_input_tokens": t.cache_write, "cache_read_input_tokens": t.cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": t.cache_write,
                "ephemeral_1h_input_tokens": 0},
            "output_tokens": 1, "service_tier": "standard"}}}),
    );
    let mut index = 0;
    if let Some(thinking) = thinking {
        out += &event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        );
        for piece in pieces(thinking, 12) {
            out += &event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "thinking_delta", "thinking": piece}}),
            );
        }
        out += &event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}),
        );
        out += &event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        );
        index += 1;
    }
    if let Some(text) = text {
        out += &event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
                "content_block": {"type": "text", "text": ""}}),
        );
        out += &event("ping", json!({"type": "ping"}));
        for piece in pieces(text, 9) {
            out += &event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "text_delta", "text": piece}}),
            );
        }
        out += &event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        );
        index += 1;
    }
    for (call_id, name, input) in calls {
        out += &event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
                "content_block": {"type": "tool_use", "id": call_id, "name": name, "input": {}}}),
        );
        let mut fragments = vec![String::new()];
        fragments.extend(pieces(&input.to_string(), 5));
        for fragment in fragments {
            out += &event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": fragment}}),
            );
        }
        out += &event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        );
        index += 1;
    }
    let stop = stop.unwrap_or_else(|| {
        let reason = if calls.is_empty() {
            "end_turn"
        } else {
            "tool_use"
        };
        json!({"stop_reason": reason, "stop_sequence": null})
    });
    out += &event(
        "message_delta",
        json!({"type": "message_delta", "delta": stop, "usage": {"output_tokens": t.output}}),
    );
    out += &event("message_stop", json!({"type": "message_stop"}));
    out
}

/// One `data:` line of the chat completions stream.
fn chunk(delta: Value, finish: Option<&str>) -> String {
    let data = json!({"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk", "created": 1_741_570_283, "model": "qwen3:8b",
        "system_fingerprint": "fp_ollama",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
    format!("data: {data}\n\n")
}

/// A streamed chat completions response, as OpenAI-compatible servers send it.
fn openai_stream(
    thinking: Option<&str>,
    text: Option<&str>,
    calls: &[Call<'_>],
    t: Tokens,
    finish: Option<&str>,
) -> String {
    let mut out = chunk(json!({"role": "assistant", "content": ""}), None);
    if let Some(thinking) = thinking {
        for piece in pieces(thinking, 12) {
            out += &chunk(json!({"reasoning_content": piece}), None);
        }
    }
    if let Some(text) = text {
        for piece in pieces(text, 9) {
            out += &chunk(json!({"content": piece}), None);
        }
    }
    for (index, (call_id, name, input)) in calls.iter().enumerate() {
        out += &chunk(
            json!({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                "function": {"name": name, "arguments": ""}}]}),
            None,
        );
        for fragment in pieces(&input.to_string(), 5) {
            out += &chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}),
                None,
            );
        }
    }
    let finish = finish.unwrap_or(if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    });
    out += &chunk(json!({}), Some(finish));
    let usage = json!({"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk", "created": 1_741_570_283, "model": "qwen3:8b",
        "choices": [], "usage": {"prompt_tokens": t.input + t.cache_read,
            "completion_tokens": t.output, "total_tokens": t.input + t.cache_read + t.output,
            "prompt_tokens_details": {"cached_tokens": t.cache_read}}});
    out += &format!("data: {usage}\n\n");
    out += "data: [DONE]\n\n";
    out
}

// ---------------------------------------------------------------------------------------------
// The platform side
// ---------------------------------------------------------------------------------------------

/// A platform whose engine calls the model server, with one environment.
struct Fixture {
    wire: Wire,
    server: MockServer,
    platform: TestPlatform,
    environment: String,
}

impl Fixture {
    async fn start(wire: Wire, replies: Vec<Reply>) -> Self {
        Self::with(wire, replies, 2, Duration::from_secs(30)).await
    }

    async fn with(wire: Wire, replies: Vec<Reply>, max_retries: u32, timeout: Duration) -> Self {
        let server = MockServer::start(replies).await;
        let options = EngineOptions {
            provider: Some(wire.provider(&server, timeout)),
            retry: RetryPolicy {
                max_retries,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
            },
            max_steps_per_turn: 8,
        };
        let handle = Platform::builder()
            .engine(options)
            .start_ephemeral()
            .await
            .unwrap();
        let platform = TestPlatform::from_handle(handle);
        let environment = platform
            .post("/v1/environments", json!({"name": "env"}))
            .await
            .ok();
        Self {
            wire,
            server,
            environment: id(&environment).to_owned(),
            platform,
        }
    }

    /// An agent with these tools; returns its ID.
    async fn agent(&self, tools: Value) -> String {
        let agent = self
            .platform
            .post(
                "/v1/agents",
                json!({"name": "helper", "model": MODEL, "tools": tools,
                    "system": "You are a helpful assistant."}),
            )
            .await
            .ok();
        id(&agent).to_owned()
    }

    /// A memory store holding one memory; returns its ID.
    async fn store(&self, name: &str, path: &str, content: &str) -> String {
        let store = self
            .platform
            .post(
                "/v1/memory_stores",
                json!({"name": name, "description": "What the user likes"}),
            )
            .await
            .ok();
        let store = id(&store).to_owned();
        self.platform
            .post(
                &format!("/v1/memory_stores/{store}/memories"),
                json!({"path": path, "content": content}),
            )
            .await
            .ok();
        store
    }

    async fn session(&self, agent: &str, resources: Value) -> String {
        let body =
            json!({"agent": agent, "environment_id": self.environment, "resources": resources});
        let session = self.platform.post("/v1/sessions", body).await.ok();
        id(&session).to_owned()
    }

    /// Sends events; returns how many events the history then holds at least.
    async fn send(&self, session: &str, events: Value) -> usize {
        self.platform.send_events(session, events).await
    }

    async fn say(&self, session: &str, text: &str) -> Vec<Value> {
        let message = json!({"type": "user.message", "content": [{"type": "text", "text": text}]});
        let after = self.send(session, json!([message])).await;
        self.idle(session, after).await
    }

    /// Waits until the history holds more than `after` events and ends, stably, with a
    /// `session.status_idle`; returns it.
    async fn idle(&self, session: &str, after: usize) -> Vec<Value> {
        let what = format!("[{}] ", self.wire.name());
        self.platform
            .wait_idle(session, after, PATIENCE, &what)
            .await
    }

    async fn get(&self, path: &str) -> Value {
        self.platform.get(path).await.ok()
    }

    /// The request bodies the model server received, with event IDs as `[event N]`.
    fn bodies(&self, history: &[Value]) -> Vec<Value> {
        self.server
            .requests()
            .iter()
            .map(|r| {
                assert_eq!(r.path, self.wire.path());
                normalise(&r.body, history)
            })
            .collect()
    }
}

/// A value with every event ID of `history` replaced by `[event N]`.
fn normalise(value: &Value, history: &[Value]) -> Value {
    let mut text = value.to_string();
    for (i, event) in history.iter().enumerate() {
        text = text.replace(id(event), &format!("[event {i}]"));
    }
    serde_json::from_str(&text).unwrap()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

fn custom_tool(name: &str, description: &str) -> Value {
    json!({"type": "custom", "name": name, "description": description,
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"]}})
}

/// The toolset with only `read` and `glob` enabled.
fn read_and_glob() -> Value {
    json!({"type": "agent_toolset_20260401", "default_config": {"enabled": false},
        "configs": [{"name": "read", "enabled": true}, {"name": "glob", "enabled": true}]})
}

fn memory(store: &str) -> Value {
    json!([{"type": "memory_store", "memory_store_id": store, "access": "read_write",
        "instructions": "Keep one topic per file."}])
}

// ---------------------------------------------------------------------------------------------
// Answers and tool calls
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_text_answer() {
    for wire in Wire::ALL {
        let f = Fixture::start(
            wire,
            vec![wire.text("Hello! How can I help?", tokens(21, 9))],
        )
        .await;
        let agent = f.agent(json!([])).await;
        let session = f.session(&agent, json!([])).await;
        let history = f.say(&session, "Hi there").await;
        assert_eq!(
            types(&history),
            [
                "user.message",
                "session.status_running",
                "span.model_request_start",
                "agent.message",
                "span.model_request_end",
                "session.status_idle",
            ],
            "{}",
            wire.name()
        );
        assert_eq!(
            history[3]["content"],
            json!([{"type": "text", "text": "Hello! How can I help?"}])
        );
        assert_eq!(
            history[4]["model_usage"],
            json!({"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "input_tokens": 21, "output_tokens": 9})
        );
        assert_eq!(history[5]["stop_reason"], json!({"type": "end_turn"}));

        let requests = f.server.requests();
        assert_eq!(requests.len(), 1);
        let headers = &requests[0].headers;
        assert_eq!(headers["content-type"], "application/json");
        match wire {
            Wire::Anthropic => {
                assert_eq!(headers["x-api-key"], ANTHROPIC_KEY);
                assert_eq!(headers["anthropic-version"], "2023-06-01");
            }
            Wire::OpenAi => {
                assert_eq!(headers["authorization"], format!("Bearer {OPENAI_KEY}"));
            }
        }
        insta::assert_json_snapshot!(
            format!("text_answer_{}", wire.name()),
            f.bodies(&history)[0]
        );
    }
}

#[tokio::test]
async fn a_memory_tool_call_and_its_result_fed_back() {
    for wire in Wire::ALL {
        let replies = vec![
            wire.reply(
                Some("The user asks about coffee; memory may know."),
                Some("Let me check my notes."),
                &[(
                    "toolu_01A09q90qw90lq917835lq9",
                    "read",
                    json!({"file_path": "/mnt/memory/prefs/coffee.md"}),
                )],
                Tokens {
                    input: 20_000,
                    output: 1_000,
                    cache_write: 10_000,
                    cache_read: 0,
                },
            ),
            wire.text(
                "You take oat milk in your coffee.",
                Tokens {
                    input: 500,
                    output: 300,
                    cache_write: 200,
                    cache_read: 10_000,
                },
            ),
        ];
        let f = Fixture::start(wire, replies).await;
        let store = f
            .store("prefs", "/coffee.md", "Oat milk, no sugar.\n")
            .await;
        let agent = f
            .agent(json!([
                read_and_glob(),
                custom_tool("get_weather", "Current weather in a city")
            ]))
            .await;
        let session = f.session(&agent, memory(&store)).await;
        let history = f.say(&session, "How do I take my coffee?").await;
        assert_eq!(
            types(&history),
            [
                "user.message",
                "session.status_running",
                "span.model_request_start",
                "agent.thinking",
                "agent.message",
                "agent.tool_use",
                "span.model_request_end",
                "agent.tool_result",
                "span.model_request_start",
                "agent.message",
                "span.model_request_end",
                "session.status_idle",
            ],
            "{}",
            wire.name()
        );
        let call = &history[5];
        assert_eq!(call["name"], "read");
        assert_eq!(
            call["input"],
            json!({"file_path": "/mnt/memory/prefs/coffee.md"})
        );
        assert_eq!(call["evaluated_permission"], "allow");
        assert_eq!(history[7]["tool_use_id"], call["id"]);
        assert_eq!(
            history[7]["content"],
            json!([{"type": "text", "text": "Oat milk, no sugar.\n"}])
        );
        assert_eq!(history[7]["is_error"], false);
        assert_eq!(
            history[9]["content"][0]["text"],
            "You take oat milk in your coffee."
        );
        let bodies = f.bodies(&history);
        assert_eq!(bodies.len(), 2);
        insta::assert_json_snapshot!(format!("memory_tool_call_{}", wire.name()), bodies);
    }
}

#[tokio::test]
async fn a_custom_tool_goes_to_the_client_through_requires_action() {
    for wire in Wire::ALL {
        let replies = vec![
            wire.reply(
                None,
                None,
                &[("call_weather_1", "get_weather", json!({"city": "Paris"}))],
                tokens(300, 20),
            ),
            wire.text("It is sunny in Paris, 21 °C.", tokens(340, 15)),
        ];
        let f = Fixture::start(wire, replies).await;
        let agent = f
            .agent(json!([custom_tool(
                "get_weather",
                "Current weather in a city"
            )]))
            .await;
        let session = f.session(&agent, json!([])).await;
        let asked = f.say(&session, "What's the weather in Paris?").await;
        let uses = of_type(&asked, "agent.custom_tool_use");
        assert_eq!(uses.len(), 1, "{}", wire.name());
        assert_eq!(uses[0]["name"], "get_weather");
        assert_eq!(uses[0]["input"], json!({"city": "Paris"}));
        assert_eq!(
            asked.last().unwrap()["stop_reason"],
            json!({"type": "requires_action", "event_ids": [id(uses[0])]})
        );
        assert!(of_type(&asked, "agent.message").is_empty());

        let after = f
            .send(
                &session,
                json!([{"type": "user.custom_tool_result", "custom_tool_use_id": id(uses[0]),
                    "content": [{"type": "text", "text": "Sunny, 21 °C"}]}]),
            )
            .await;
        let history = f.idle(&session, after).await;
        assert_eq!(
            history.last().unwrap()["stop_reason"],
            json!({"type": "end_turn"})
        );
        let bodies = f.bodies(&history);
        // The second request carries the call and the client's answer to it.
        let call_event = history.iter().position(|e| e == uses[0]).unwrap();
        let call_id = format!("[event {call_event}]");
        match wire {
            Wire::Anthropic => {
                let messages = bodies[1]["messages"].as_array().unwrap();
                assert_eq!(
                    messages[1..],
                    [
                        json!({"role": "assistant", "content": [{"type": "tool_use",
                            "id": call_id, "name": "get_weather", "input": {"city": "Paris"}}]}),
                        json!({"role": "user", "content": [{"type": "tool_result",
                            "tool_use_id": call_id,
                            "content": [{"type": "text", "text": "Sunny, 21 °C"}],
                            "is_error": false, "cache_control": {"type": "ephemeral"}}]}),
                    ]
                );
            }
            Wire::OpenAi => {
                let messages = bodies[1]["messages"].as_array().unwrap();
                assert_eq!(
                    messages[2..],
                    [
                        json!({"role": "assistant", "content": null, "tool_calls": [{
                            "id": call_id, "type": "function", "function": {
                                "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}),
                        json!({"role": "tool", "tool_call_id": call_id,
                            "content": "Sunny, 21 °C"}),
                    ]
                );
            }
        }
    }
}

#[tokio::test]
async fn two_tool_calls_in_one_turn_run_and_are_answered_together() {
    for wire in Wire::ALL {
        let replies = vec![
            wire.reply(
                None,
                Some("Looking in two places."),
                &[
                    (
                        "call_a",
                        "glob",
                        json!({"pattern": "**/*.md", "path": "/mnt/memory/prefs"}),
                    ),
                    (
                        "call_b",
                        "read",
                        json!({"file_path": "/mnt/memory/prefs/tea.md"}),
                    ),
                ],
                tokens(900, 60),
            ),
            wire.text("Nothing about tea yet.", tokens(1_000, 10)),
        ];
        let f = Fixture::start(wire, replies).await;
        let store = f.store("prefs", "/coffee.md", "Oat milk.\n").await;
        let agent = f.agent(json!([read_and_glob()])).await;
        let session = f.session(&agent, memory(&store)).await;
        let history = f.say(&session, "And my tea?").await;
        let uses = of_type(&history, "agent.tool_use");
        let results = of_type(&history, "agent.tool_result");
        assert_eq!(uses.len(), 2, "{}", wire.name());
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["tool_use_id"], uses[0]["id"]);
        assert_eq!(
            results[0]["content"][0]["text"],
            "/mnt/memory/prefs/coffee.md"
        );
        assert_eq!(results[1]["tool_use_id"], uses[1]["id"]);
        assert_eq!(results[1]["is_error"], true);
        assert_eq!(
            history.last().unwrap()["stop_reason"],
            json!({"type": "end_turn"})
        );

        // Both results went back in the next request, in the order of the calls.
        let bodies = f.bodies(&history);
        let at = |event: &Value| {
            format!(
                "[event {}]",
                history.iter().position(|e| e == event).unwrap()
            )
        };
        let (first, second) = (at(uses[0]), at(uses[1]));
        match wire {
            Wire::Anthropic => {
                let last = bodies[1]["messages"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap()
                    .clone();
                let answered: Vec<&str> = last["content"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b["tool_use_id"].as_str().unwrap())
                    .collect();
                assert_eq!(answered, [first.as_str(), second.as_str()]);
            }
            Wire::OpenAi => {
                let messages = bodies[1]["messages"].as_array().unwrap();
                let tail: Vec<(&str, &str)> = messages[messages.len() - 2..]
                    .iter()
                    .map(|m| {
                        (
                            m["role"].as_str().unwrap(),
                            m["tool_call_id"].as_str().unwrap(),
                        )
                    })
                    .collect();
                assert_eq!(tail, [("tool", first.as_str()), ("tool", second.as_str())]);
                assert!(
                    messages[messages.len() - 1]["content"]
                        .as_str()
                        .unwrap()
                        .starts_with("Error: read: ")
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_rate_limit_is_retried_after_its_retry_after() {
    for wire in Wire::ALL {
        let replies = vec![
            wire.error(
                429,
                "Number of request tokens has exceeded your per-minute rate limit",
                Some("1"),
            ),
            wire.text("Back again.", tokens(10, 3)),
        ];
        let f = Fixture::start(wire, replies).await;
        let agent = f.agent(json!([])).await;
        let session = f.session(&agent, json!([])).await;
        let history = f.say(&session, "hello").await;
        assert_eq!(
            types(&history),
            [
                "user.message",
                "session.status_running",
                "span.model_request_start",
                "span.model_request_end",
                "session.error",
                "session.status_rescheduled",
                "session.status_running",
                "span.model_request_start",
                "agent.message",
                "span.model_request_end",
                "session.status_idle",
            ],
            "{}",
            wire.name()
        );
        let error = &history[4]["error"];
        assert_eq!(error["type"], "model_rate_limited_error");
        assert_eq!(error["retry_status"], json!({"type": "retrying"}));
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("429")
                && message
                    .contains("Number of request tokens has exceeded your per-minute rate limit"),
            "{message}"
        );
        // The policy asked for 10 ms; the server for a second.
        let requests = f.server.requests();
        assert_eq!(requests.len(), 2);
        let waited = requests[1].at - requests[0].at;
        assert!(waited >= Duration::from_secs(1), "{waited:?}");
        assert_eq!(
            history.last().unwrap()["stop_reason"],
            json!({"type": "end_turn"})
        );
    }
}

#[tokio::test]
async fn an_overloaded_model_is_retried_until_the_retries_run_out() {
    for wire in Wire::ALL {
        let status = wire.overloaded_status();
        let replies = vec![
            wire.error(status, "Overloaded", None),
            wire.error(status, "Overloaded", None),
            wire.error(status, "Overloaded", None),
        ];
        let f = Fixture::start(wire, replies).await;
        let agent = f.agent(json!([])).await;
        let session = f.session(&agent, json!([])).await;
        let history = f.say(&session, "hello").await;
        assert_eq!(f.server.requests().len(), 3, "{}", wire.name());
        let errors = of_type(&history, "session.error");
        let statuses: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| {
                (
                    e["error"]["type"].as_str().unwrap(),
                    e["error"]["retry_status"]["type"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            statuses,
            [
                ("model_overloaded_error", "retrying"),
                ("model_overloaded_error", "retrying"),
                ("model_overloaded_error", "exhausted"),
            ]
        );
        assert_eq!(
            history.last().unwrap()["stop_reason"],
            json!({"type": "retries_exhausted"})
        );
        let spans = of_type(&history, "span.model_request_end");
        assert!(spans.iter().all(|s| s["is_error"] == true));
        assert!(
            history[0]["processed_at"].is_string(),
            "the input is flushed"
        );
    }
}

#[tokio::test]
async fn a_bad_request_ends_the_turn_with_its_message_but_never_the_key() {
    for wire in Wire::ALL {
        let key = match wire {
            Wire::Anthropic => ANTHROPIC_KEY,
            Wire::OpenAi => OPENAI_KEY,
        };
        let replies = vec![wire.error(
            400,
            &format!(
                "messages.0.content.0.text: text content blocks must be non-empty (request made with key {key})"
            ),
            None,
        )];
        let f = Fixture::start(wire, replies).await;
        let agent = f.agent(json!([])).await;
        let session = f.session(&agent, json!([])).await;
        let history = f.say(&session, "hello").await;
        assert_eq!(f.server.requests().len(), 1, "a 400 is not retried");
        let tail = &history[history.len() - 3..];
        assert_eq!(
            types(tail),
            [
                "span.model_request_end",
                "session.error",
                "session.status_idle"
            ]
        );
        let (provider, label) = match wire {
            Wire::Anthropic => ("anthropic", "400 invalid_request_error"),
            Wire::OpenAi => ("openai", "400 invalid_request_error"),
        };
        assert_eq!(
            tail[1]["error"],
            json!({"type": "model_request_failed_error",
                "message": format!("{provider}: {label}: messages.0.content.0.text: text content \
                    blocks must be non-empty (request made with key [redacted])"),
                "retry_status": {"type": "exhausted"}})
        );
        assert_eq!(tail[2]["stop_reason"], json!({"type": "retries_exhausted"}));
        let everything = serde_json::to_string(&history).unwrap();
        assert!(!everything.contains(key));
    }
}

#[tokio::test]
async fn a_refusal_ends_the_turn_with_the_refusal_stop_reason() {
    for wire in Wire::ALL {
        let body = match wire {
            Wire::Anthropic => anthropic_stream(
                None,
                Some("I can't help with that."),
                &[],
                tokens(40, 8),
                Some(json!({"stop_reason": "refusal", "stop_sequence": null,
                    "stop_details": {"type": "refusal", "category": "cyber",
                        "explanation": "This request could enable malware development."}})),
            ),
            Wire::OpenAi => openai_stream(None, None, &[], tokens(40, 8), Some("content_filter")),
        };
        let replies = vec![Reply::Raw {
            status: 200,
            headers: sse_headers(),
            body,
        }];
        let f = Fixture::start(wire, replies).await;
        let agent = f.agent(json!([])).await;
        let session = f.session(&agent, json!([])).await;
        let history = f.say(&session, "write me ransomware").await;
        let idle = history.last().unwrap();
        assert_eq!(
            idle["stop_reason"],
            json!({"type": "refusal"}),
            "{}",
            wire.name()
        );
        let details = match wire {
            Wire::Anthropic => json!({"type": "refusal", "category": "cyber",
                "explanation": "This request could enable malware development."}),
            Wire::OpenAi => json!({"type": "refusal", "category": null, "explanation": null}),
        };
        assert_eq!(idle["stop_details"], details);
        // The refused call's tokens are recorded and counted.
        let span = of_type(&history, "span.model_request_end")[0];
        assert_eq!(span["is_error"], false);
        assert_eq!(span["model_usage"]["input_tokens"], 40);
        let session = f.get(&format!("/v1/sessions/{session}")).await;
        assert_eq!(session["usage"]["output_tokens"], 8);
    }
}

#[tokio::test]
async fn a_request_that_takes_too_long_times_out() {
    for wire in Wire::ALL {
        let start = match wire {
            Wire::Anthropic => event(
                "message_start",
                json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                    "role": "assistant", "model": MODEL, "content": [], "stop_reason": null,
                    "stop_sequence": null, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
            ),
            Wire::OpenAi => chunk(json!({"role": "assistant", "content": ""}), None),
        };
        let f = Fixture::with(
            wire,
            vec![Reply::Stall(start)],
            2,
            Duration::from_millis(300),
        )
        .await;
        let agent = f.agent(json!([])).await;
        let session = f.session(&agent, json!([])).await;
        let history = f.say(&session, "hello").await;
        let error = &of_type(&history, "session.error")[0]["error"];
        assert_eq!(
            error,
            &json!({"type": "model_request_failed_error",
                "message": format!("{}: the model request timed out after 300 ms", wire.name()),
                "retry_status": {"type": "exhausted"}})
        );
        assert_eq!(f.server.requests().len(), 1);
    }
}

#[tokio::test]
async fn an_overloaded_error_inside_the_stream_is_retried() {
    let broken = event(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
            "role": "assistant", "model": MODEL, "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
    ) + &event(
        "error",
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    );
    let replies = vec![
        Reply::Raw {
            status: 200,
            headers: sse_headers(),
            body: broken,
        },
        Wire::Anthropic.text("Fine now.", tokens(5, 2)),
    ];
    let f = Fixture::start(Wire::Anthropic, replies).await;
    let agent = f.agent(json!([])).await;
    let session = f.session(&agent, json!([])).await;
    let history = f.say(&session, "hello").await;
    let error = &of_type(&history, "session.error")[0]["error"];
    assert_eq!(
        error,
        &json!({"type": "model_overloaded_error",
            "message": "anthropic: overloaded_error during the response: Overloaded",
            "retry_status": {"type": "retrying"}})
    );
    assert_eq!(
        of_type(&history, "agent.message")[0]["content"][0]["text"],
        "Fine now."
    );
}

// ---------------------------------------------------------------------------------------------
// Usage and cost
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn usage_and_cache_tokens_are_summed_into_the_session() {
    for wire in Wire::ALL {
        let first = Tokens {
            input: 20_000,
            output: 1_000,
            cache_write: 10_000,
            cache_read: 0,
        };
        let second = Tokens {
            input: 500,
            output: 300,
            cache_write: 200,
            cache_read: 10_000,
        };
        let replies = vec![
            wire.reply(
                None,
                None,
                &[("c1", "glob", json!({"pattern": "*"}))],
                first,
            ),
            wire.text("Done.", second),
        ];
        let f = Fixture::start(wire, replies).await;
        let agent = f.agent(json!([read_and_glob()])).await;
        let session = f.session(&agent, json!([])).await;
        let history = f.say(&session, "list files").await;
        let spans: Vec<&Value> = of_type(&history, "span.model_request_end")
            .into_iter()
            .map(|s| &s["model_usage"])
            .collect();
        let mut session = f.get(&format!("/v1/sessions/{session}")).await;
        assert!(session["usage"]["active_seconds"].as_f64().unwrap() > 0.0);
        session["usage"]
            .as_object_mut()
            .unwrap()
            .remove("active_seconds");
        match wire {
            Wire::Anthropic => {
                assert_eq!(
                    spans,
                    [
                        &json!({"cache_creation_input_tokens": 10_000,
                            "cache_read_input_tokens": 0, "input_tokens": 20_000,
                            "output_tokens": 1_000}),
                        &json!({"cache_creation_input_tokens": 200,
                            "cache_read_input_tokens": 10_000, "input_tokens": 500,
                            "output_tokens": 300}),
                    ]
                );
                // Sonnet at $3 / $15 per million, writes $3.75, reads $0.30:
                // 20 500 in (6.15 ¢) + 1 300 out (1.95 ¢) + 10 200 written (3.825 ¢)
                // + 10 000 read (0.3 ¢) = 12.225 ¢.
                assert_eq!(
                    session["usage"],
                    json!({"cache_creation": {"ephemeral_5m_input_tokens": 10_200},
                        "cache_read_input_tokens": 10_000, "input_tokens": 20_500,
                        "list_cost": {"amount": "12", "currency": "USD"},
                        "output_tokens": 1_300})
                );
            }
            Wire::OpenAi => {
                // Cached prompt tokens are reads; the format reports no cache writes.
                assert_eq!(
                    spans,
                    [
                        &json!({"cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 0, "input_tokens": 20_000,
                            "output_tokens": 1_000}),
                        &json!({"cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 10_000, "input_tokens": 500,
                            "output_tokens": 300}),
                    ]
                );
                assert_eq!(
                    session["usage"],
                    json!({"cache_read_input_tokens": 10_000, "input_tokens": 20_500,
                        "output_tokens": 1_300})
                );
            }
        }
    }
}

#[tokio::test]
async fn a_budget_stops_a_session_on_a_priced_model() {
    let expensive = Tokens {
        input: 1_000_000,
        output: 0,
        cache_write: 0,
        cache_read: 0,
    };
    let replies = vec![
        Wire::Anthropic.reply(
            None,
            None,
            &[("c1", "glob", json!({"pattern": "*"}))],
            expensive,
        ),
        Wire::Anthropic.text("never sent", tokens(1, 1)),
    ];
    let f = Fixture::start(Wire::Anthropic, replies).await;
    let agent = f.agent(json!([read_and_glob()])).await;
    let body = json!({"agent": agent, "environment_id": f.environment,
        "budget": {"type": "limit", "max_list_cost": {"amount": "250", "currency": "USD"}}});
    let session = f.platform.post("/v1/sessions", body).await.ok();
    let session = id(&session).to_owned();
    let history = f.say(&session, "list files").await;
    assert_eq!(
        history.last().unwrap()["stop_reason"],
        json!({"type": "budget_reached"})
    );
    assert_eq!(f.server.requests().len(), 1);
    let session = f.get(&format!("/v1/sessions/{session}")).await;
    assert_eq!(
        session["usage"]["list_cost"],
        json!({"amount": "300", "currency": "USD"})
    );
}
