//! The session engine over HTTP: whole transcripts of the offline model (snapshots), model
//! errors and budgets with scripted providers, interrupts, restarts and many sessions at once.
//!
//! Transcripts are the session's event list with every event ID replaced by `[event N]` (N its
//! position in the list, so references such as `tool_use_id` stay readable) and every
//! `processed_at` by `[time]`.
#![expect(
    clippy::unwrap_used,
    reason = "the fixture's helpers fail the test on any unexpected response"
)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::Money;
use steward_core::event::RefusalCategory;
use steward_core::usage::ModelUsage;
use steward_platform::Platform;
use steward_platform::engine::model::{Block, ToolCall};
use steward_platform::engine::{
    EngineOptions, ModelError, ModelErrorKind, ModelProvider, ModelRequest, ModelResponse,
    RetryPolicy,
};

use crate::support::{TestPlatform, id};

/// How long a test waits for the engine.
const PATIENCE: Duration = Duration::from_secs(15);

/// A platform with one environment.
struct Fixture {
    platform: TestPlatform,
    environment: String,
}

impl Fixture {
    async fn start() -> Self {
        Self::with(TestPlatform::start().await).await
    }

    /// A platform whose engine uses `provider`, retrying quickly.
    async fn with_provider(provider: Arc<dyn ModelProvider>, max_retries: u32) -> Self {
        let options = EngineOptions {
            provider: Some(provider),
            retry: RetryPolicy {
                max_retries,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
            },
            max_steps_per_turn: 3,
        };
        let handle = Platform::builder()
            .engine(options)
            .start_ephemeral()
            .await
            .unwrap();
        Self::with(TestPlatform::from_handle(handle)).await
    }

    async fn with(platform: TestPlatform) -> Self {
        let environment = platform
            .post("/v1/environments", json!({"name": "env"}))
            .await
            .ok();
        Self {
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
                json!({"name": "helper", "model": "claude-sonnet-4-6", "tools": tools}),
            )
            .await
            .ok();
        id(&agent).to_owned()
    }

    /// A memory store; returns its ID.
    async fn store(&self, name: &str, description: &str) -> String {
        let store = self
            .platform
            .post(
                "/v1/memory_stores",
                json!({"name": name, "description": description}),
            )
            .await
            .ok();
        id(&store).to_owned()
    }

    /// A session of `agent` with these resources, and `extra` fields; returns its ID.
    async fn session(&self, agent: &str, resources: Value, extra: Value) -> String {
        let mut body =
            json!({"agent": agent, "environment_id": self.environment, "resources": resources});
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        let session = self.platform.post("/v1/sessions", body).await.ok();
        id(&session).to_owned()
    }

    async fn history(&self, session: &str) -> Vec<Value> {
        self.platform.history(session).await
    }

    /// Sends events; returns how many events the history then holds at least.
    async fn send(&self, session: &str, events: Value) -> usize {
        self.platform.send_events(session, events).await
    }

    /// Sends a user message and waits for the session to go idle; returns the history.
    async fn say(&self, session: &str, text: &str) -> Vec<Value> {
        let after = self.send(session, json!([message(text)])).await;
        self.idle(session, after).await
    }

    /// Waits until the history holds more than `after` events, ends with a
    /// `session.status_idle`, and stays so; returns it.
    async fn idle(&self, session: &str, after: usize) -> Vec<Value> {
        self.platform.wait_idle(session, after, PATIENCE, "").await
    }

    async fn get(&self, path: &str) -> Value {
        self.platform.get(path).await.ok()
    }
}

fn message(text: &str) -> Value {
    json!({"type": "user.message", "content": [{"type": "text", "text": text}]})
}

fn custom_result(tool_use: &str, text: &str) -> Value {
    json!({"type": "user.custom_tool_result", "custom_tool_use_id": tool_use,
        "content": [{"type": "text", "text": text}], "is_error": false})
}

fn store_resource(store: &str, access: &str) -> Value {
    json!({"type": "memory_store", "memory_store_id": store, "access": access})
}

fn custom_tool(name: &str, description: &str) -> Value {
    json!({"type": "custom", "name": name, "description": description,
        "input_schema": {"type": "object", "properties": {}}})
}

/// The history for a snapshot: event IDs numbered by position, times replaced.
fn transcript(events: &[Value]) -> Value {
    let mut text = serde_json::to_string(events).unwrap();
    for (i, event) in events.iter().enumerate() {
        text = text.replace(id(event), &format!("[event {i}]"));
    }
    let mut value: Value = serde_json::from_str(&text).unwrap();
    for event in value.as_array_mut().unwrap() {
        if event["processed_at"].is_string() {
            event["processed_at"] = json!("[time]");
        }
    }
    value
}

/// The types of a slice of the history.
fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// The events of the given type.
fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// The text of the last `agent.message`.
fn last_reply(events: &[Value]) -> String {
    of_type(events, "agent.message").last().unwrap()["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Transcripts of the offline model
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_preference_stated_in_one_session_is_recalled_in_another() {
    let f = Fixture::start().await;
    let store = f.store("user-preferences", "What the user likes").await;
    let agent = f.agent(json!([{"type": "agent_toolset_20260401"}])).await;
    let first = f
        .session(
            &agent,
            json!([store_resource(&store, "read_write")]),
            json!({}),
        )
        .await;
    let told = f
        .say(&first, "Hello! Remember: I prefer oat milk in my coffee.")
        .await;
    insta::assert_json_snapshot!("preference_stated", transcript(&told));

    let second = f
        .session(
            &agent,
            json!([store_resource(&store, "read_write")]),
            json!({}),
        )
        .await;
    let recalled = f.say(&second, "How do I take my coffee?").await;
    insta::assert_json_snapshot!("preference_recalled", transcript(&recalled));
    assert_eq!(
        last_reply(&recalled),
        "[offline model] Here is what I have on record:\n- Remember: I prefer oat milk in my \
         coffee. (/mnt/memory/user-preferences/coffee.md)"
    );

    // A second fact on the same topic is appended (read, then written with its hash).
    let appended = f
        .say(&second, "Remember that I never take sugar in my coffee.")
        .await;
    let tools: Vec<&str> = of_type(&appended, "agent.tool_use")
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["glob", "grep", "glob", "grep", "read", "write"]);
    assert_eq!(
        last_reply(&appended),
        "[offline model] Noted in /mnt/memory/user-preferences/coffee.md: Remember that I \
         never take sugar in my coffee."
    );

    // The store holds one memory, changed once by each session.
    let memories = f
        .get(&format!("/v1/memory_stores/{store}/memories?view=full"))
        .await;
    let memories = memories["data"].as_array().unwrap();
    assert_eq!(memories.len(), 1);
    assert_eq!(memories[0]["path"], "/coffee.md");
    assert_eq!(
        memories[0]["content"],
        "Remember: I prefer oat milk in my coffee.\nRemember that I never take sugar in my \
         coffee.\n"
    );
    let versions = f
        .get(&format!(
            "/v1/memory_stores/{store}/memory_versions?order=asc"
        ))
        .await;
    let by: Vec<(&str, &str, &str)> = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["operation"].as_str().unwrap(),
                v["created_by"]["type"].as_str().unwrap(),
                v["created_by"]["session_id"].as_str().unwrap(),
            )
        })
        .collect();
    let mut by = by;
    by.sort_by_key(|(operation, ..)| *operation != "created");
    assert_eq!(
        by,
        [
            ("created", "session_actor", first.as_str()),
            ("modified", "session_actor", second.as_str()),
        ]
    );

    // The session's usage is the sum of its model calls.
    let session = f.get(&format!("/v1/sessions/{first}")).await;
    let spans = of_type(&told, "span.model_request_end");
    let input: u64 = spans
        .iter()
        .map(|s| s["model_usage"]["input_tokens"].as_u64().unwrap())
        .sum();
    assert!(input > 0);
    assert_eq!(session["usage"]["input_tokens"], input);
    assert_eq!(session["status"], "idle");
    assert!(session["stats"]["active_seconds"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn a_custom_tool_round_trip() {
    let f = Fixture::start().await;
    let agent = f
        .agent(json!([custom_tool(
            "get_weather",
            "Current weather in a city"
        )]))
        .await;
    let session = f.session(&agent, json!([]), json!({})).await;
    let asked = f
        .say(
            &session,
            r#"What's the weather like? Call get_weather with {"city": "Paris"}"#,
        )
        .await;
    let tool_use = of_type(&asked, "agent.custom_tool_use")[0];
    assert_eq!(tool_use["input"], json!({"city": "Paris"}));
    let status = f.get(&format!("/v1/sessions/{session}")).await;
    assert_eq!(status["status"], "idle");

    let after = f
        .send(
            &session,
            json!([custom_result(id(tool_use), "Sunny, 21 °C")]),
        )
        .await;
    let answered = f.idle(&session, after).await;
    insta::assert_json_snapshot!("custom_tool_round_trip", transcript(&answered));
    assert_eq!(
        last_reply(&answered),
        "[offline model] Tool results:\n- get_weather: Sunny, 21 °C"
    );
}

#[tokio::test]
async fn two_custom_tools_wait_under_one_requires_action() {
    let f = Fixture::start().await;
    let agent = f
        .agent(json!([
            custom_tool("get_weather", "Current weather in a city"),
            custom_tool("get_time", "Current time in a city"),
        ]))
        .await;
    let session = f.session(&agent, json!([]), json!({})).await;
    let asked = f
        .say(
            &session,
            r#"Use get_time: {"city": "Tokyo"} and get_weather: {"city": "Tokyo"}"#,
        )
        .await;
    let uses = of_type(&asked, "agent.custom_tool_use");
    assert_eq!(uses.len(), 2);
    let (time, weather) = (id(uses[0]).to_owned(), id(uses[1]).to_owned());

    // Answering one re-emits the idle with the other; answering both resumes the session.
    let after = f
        .send(&session, json!([custom_result(&weather, "Rain")]))
        .await;
    let partial = f.idle(&session, after).await;
    assert_eq!(
        partial.last().unwrap()["stop_reason"],
        json!({"type": "requires_action", "event_ids": [time]})
    );
    let after = f
        .send(&session, json!([custom_result(&time, "09:30")]))
        .await;
    let done = f.idle(&session, after).await;
    insta::assert_json_snapshot!("two_custom_tools", transcript(&done));
}

#[tokio::test]
async fn a_denied_confirmation_is_settled_as_an_error_result() {
    let f = Fixture::start().await;
    let store = f.store("user-preferences", "").await;
    let agent = f
        .agent(json!([{"type": "agent_toolset_20260401",
            "default_config": {"permission_policy": {"type": "always_ask"}}}]))
        .await;
    let session = f
        .session(
            &agent,
            json!([store_resource(&store, "read_write")]),
            json!({}),
        )
        .await;
    let asked = f.say(&session, "What is my favourite colour?").await;
    let glob = of_type(&asked, "agent.tool_use")[0];
    assert_eq!(glob["evaluated_permission"], "ask");
    let after = f
        .send(
            &session,
            json!([{"type": "user.tool_confirmation", "tool_use_id": id(glob),
                "result": "deny", "deny_message": "Not my memory, please."}]),
        )
        .await;
    let denied = f.idle(&session, after).await;
    insta::assert_json_snapshot!("denied_confirmation", transcript(&denied));

    // An allowed call runs: the fact is written after two confirmations.
    let mut history = f
        .say(&session, "Remember: my favourite colour is green.")
        .await;
    for expected in ["glob", "write"] {
        let call = *of_type(&history, "agent.tool_use").last().unwrap();
        assert_eq!(call["name"], expected);
        let after = f
            .send(
                &session,
                json!([{"type": "user.tool_confirmation", "tool_use_id": id(call),
                    "result": "allow"}]),
            )
            .await;
        history = f.idle(&session, after).await;
    }
    assert_eq!(
        last_reply(&history),
        "[offline model] Noted in /mnt/memory/user-preferences/favourite-colour.md: Remember: \
         my favourite colour is green."
    );
    let memories = f.get(&format!("/v1/memory_stores/{store}/memories")).await;
    assert_eq!(memories["data"][0]["path"], "/favourite-colour.md");
}

#[tokio::test]
async fn an_interrupt_ends_the_turn() {
    let f = Fixture::start().await;
    let agent = f
        .agent(json!([custom_tool("lookup_order", "Finds an order")]))
        .await;
    let session = f.session(&agent, json!([]), json!({})).await;
    let asked = f
        .say(&session, r#"Where is my parcel? lookup_order {"id": 7}"#)
        .await;
    let tool_use = id(of_type(&asked, "agent.custom_tool_use")[0]).to_owned();
    let after = f.send(&session, json!([{"type": "user.interrupt"}])).await;
    let interrupted = f.idle(&session, after).await;
    insta::assert_json_snapshot!("interrupted_turn", transcript(&interrupted));

    // The abandoned call may still be answered, but the answer does not resume the turn.
    let after = f
        .send(&session, json!([custom_result(&tool_use, "shipped")]))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let history = f.history(&session).await;
    assert_eq!(history.len(), after);
    // The next message starts a new turn that sees it.
    let next = f.say(&session, "Thanks, that is all.").await;
    assert_eq!(
        next.last().unwrap()["stop_reason"],
        json!({"type": "end_turn"})
    );
    assert!(
        next.iter()
            .filter(|e| e["type"] == "user.custom_tool_result")
            .all(|e| e["processed_at"].is_string())
    );
}

#[tokio::test]
async fn a_write_to_a_read_only_store_fails_and_changes_nothing() {
    let f = Fixture::start().await;
    let store = f.store("team-policies", "Shared rules").await;
    f.platform
        .post(
            &format!("/v1/memory_stores/{store}/memories"),
            json!({"path": "/travel.md", "content": "Book trains for trips under 4 hours.\n"}),
        )
        .await
        .ok();
    let agent = f.agent(json!([{"type": "agent_toolset_20260401"}])).await;
    let session = f
        .session(
            &agent,
            json!([store_resource(&store, "read_only")]),
            json!({}),
        )
        .await;
    let versions_before = f
        .get(&format!("/v1/memory_stores/{store}/memory_versions"))
        .await;
    let refused = f
        .say(&session, "Remember: I prefer green tea on trips.")
        .await;
    insta::assert_json_snapshot!("read_only_write", transcript(&refused));
    let memories = f
        .get(&format!("/v1/memory_stores/{store}/memories?view=full"))
        .await;
    assert_eq!(memories["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        memories["data"][0]["content"],
        "Book trains for trips under 4 hours.\n"
    );
    let versions_after = f
        .get(&format!("/v1/memory_stores/{store}/memory_versions"))
        .await;
    assert_eq!(versions_after, versions_before);
}

#[tokio::test]
async fn a_self_hosted_worker_runs_the_toolset_calls() {
    let f = Fixture::start().await;
    let worker_env = f
        .platform
        .post(
            "/v1/environments",
            json!({"name": "box", "config": {"type": "self_hosted"}}),
        )
        .await
        .ok();
    let store = f.store("notes", "").await;
    let agent = f.agent(json!([{"type": "agent_toolset_20260401"}])).await;
    let session = f
        .session(
            &agent,
            json!([store_resource(&store, "read_write")]),
            json!({"environment_id": id(&worker_env)}),
        )
        .await;
    let asked = f.say(&session, "What do you know about lunch?").await;
    let glob = of_type(&asked, "agent.tool_use")[0];
    assert_eq!(glob["evaluated_permission"], "allow");
    assert!(of_type(&asked, "agent.tool_result").is_empty());
    assert_eq!(
        asked.last().unwrap()["stop_reason"],
        json!({"type": "requires_action", "event_ids": [id(glob)]})
    );
    let after = f
        .send(
            &session,
            json!([{"type": "user.tool_result", "tool_use_id": id(glob),
                "content": [{"type": "text", "text": "/mnt/memory/notes/food.md"}]}]),
        )
        .await;
    let searched = f.idle(&session, after).await;
    let grep = *of_type(&searched, "agent.tool_use").last().unwrap();
    assert_eq!(grep["name"], "grep");
    let after = f
        .send(
            &session,
            json!([{"type": "user.tool_result", "tool_use_id": id(grep),
                "content": [{"type": "text", "text": "/mnt/memory/notes/food.md:3:Lunch is at noon."}]}]),
        )
        .await;
    let answered = f.idle(&session, after).await;
    assert_eq!(
        last_reply(&answered),
        "[offline model] Here is what I have on record:\n- Lunch is at noon. \
         (/mnt/memory/notes/food.md)"
    );
}

#[tokio::test]
async fn the_stream_carries_the_same_turn_as_the_list() {
    let f = Fixture::start().await;
    let agent = f.agent(json!([])).await;
    let session = f.session(&agent, json!([]), json!({})).await;
    let response = f
        .platform
        .client
        .get(
            f.platform
                .url(&format!("/v1/sessions/{session}/events/stream")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reader = tokio::spawn(read_until_idle(response));
    let history = f.say(&session, "Anything new?").await;
    let streamed = tokio::time::timeout(PATIENCE, reader)
        .await
        .unwrap()
        .unwrap();
    // The stream carried every event as it was stored (the message before it was processed).
    let ids = |events: &[Value]| events.iter().map(|e| id(e).to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&streamed), ids(&history));
    assert_eq!(streamed[0]["processed_at"], Value::Null);
    assert_eq!(streamed[1..], history[1..]);
    assert_eq!(
        types(&history),
        [
            "user.message",
            "session.status_running",
            "span.model_request_start",
            "agent.message",
            "span.model_request_end",
            "session.status_idle"
        ]
    );
    assert_eq!(
        last_reply(&history),
        "[offline model] I have nothing on record about that."
    );
}

/// Reads SSE events until a `session.status_idle`.
async fn read_until_idle(mut response: reqwest::Response) -> Vec<Value> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            if block.starts_with("event: ping") {
                continue;
            }
            let event: Value = serde_json::from_str(data).unwrap();
            let idle = event["type"] == "session.status_idle";
            events.push(event);
            if idle {
                return events;
            }
        }
        let chunk = response.chunk().await.unwrap().unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
// Scripted providers: errors, retries, refusals, budgets, interrupts mid-call
// ---------------------------------------------------------------------------------------------

/// A provider that answers from a script, one entry per call (then plain text), and records
/// what it was asked.
#[derive(Debug, Default)]
struct Script {
    replies: Mutex<VecDeque<Result<ModelResponse, ModelError>>>,
    requests: Mutex<Vec<ModelRequest>>,
}

impl Script {
    fn new(replies: Vec<Result<ModelResponse, ModelError>>) -> Arc<Self> {
        Arc::new(Self {
            replies: Mutex::new(replies.into()),
            requests: Mutex::default(),
        })
    }
}

#[async_trait]
impl ModelProvider for Script {
    fn name(&self) -> &str {
        "script"
    }

    async fn complete(&self, request: ModelRequest) -> Result<ModelResponse, ModelError> {
        self.requests.lock().unwrap().push(request);
        let next = self.replies.lock().unwrap().pop_front();
        next.unwrap_or_else(|| Ok(text_reply("done", None)))
    }
}

fn text_reply(text: &str, cost: Option<u64>) -> ModelResponse {
    ModelResponse {
        content: vec![Block::text(text)],
        usage: ModelUsage {
            input_tokens: 10,
            output_tokens: 2,
            ..ModelUsage::default()
        },
        list_cost: cost.map(Money::usd_cents),
    }
}

fn error(kind: ModelErrorKind, message: &str) -> Result<ModelResponse, ModelError> {
    Err(ModelError::new(kind, message))
}

#[tokio::test]
async fn retryable_errors_are_retried_then_exhausted() {
    let script = Script::new(vec![
        error(ModelErrorKind::Overloaded, "overloaded"),
        Ok(text_reply("recovered", None)),
        error(ModelErrorKind::RateLimited, "slow down"),
        error(ModelErrorKind::RateLimited, "slow down"),
        error(ModelErrorKind::Failed, "bad request"),
    ]);
    let f = Fixture::with_provider(script.clone(), 1).await;
    let agent = f.agent(json!([])).await;
    let session = f.session(&agent, json!([]), json!({})).await;

    let recovered = f.say(&session, "one").await;
    assert_eq!(
        types(&recovered[1..]),
        [
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
        ]
    );
    assert_eq!(recovered[3]["is_error"], true);
    assert_eq!(
        recovered[4]["error"],
        json!({"type": "model_overloaded_error", "message": "overloaded",
            "retry_status": {"type": "retrying"}})
    );
    assert_eq!(recovered[9]["is_error"], false);
    assert_eq!(recovered[10]["stop_reason"], json!({"type": "end_turn"}));

    let before = recovered.len();
    let exhausted = f.say(&session, "two").await;
    let turn = &exhausted[before..];
    assert_eq!(
        types(turn),
        [
            "user.message",
            "session.status_running",
            "span.model_request_start",
            "span.model_request_end",
            "session.error",
            "session.status_rescheduled",
            "session.status_running",
            "span.model_request_start",
            "span.model_request_end",
            "session.error",
            "session.status_idle",
        ]
    );
    assert_eq!(
        turn[9]["error"]["retry_status"],
        json!({"type": "exhausted"})
    );
    assert_eq!(turn[9]["error"]["type"], "model_rate_limited_error");
    assert_eq!(
        turn[10]["stop_reason"],
        json!({"type": "retries_exhausted"})
    );
    assert!(turn[0]["processed_at"].is_string(), "the input is flushed");

    let before = exhausted.len();
    let failed = f.say(&session, "three").await;
    let turn = &failed[before..];
    assert_eq!(
        turn[4]["error"],
        json!({"type": "model_request_failed_error", "message": "bad request",
            "retry_status": {"type": "exhausted"}})
    );
    assert_eq!(turn[5]["stop_reason"], json!({"type": "retries_exhausted"}));
    let session = f.get(&format!("/v1/sessions/{session}")).await;
    assert_eq!(session["status"], "idle");
    assert_eq!(session["usage"]["input_tokens"], 10);
}

#[tokio::test]
async fn refusals_and_budgets_end_the_turn() {
    let tool_call = ModelResponse {
        content: vec![Block::ToolUse(ToolCall {
            id: "toolu_1".into(),
            name: "confirm".into(),
            input: serde_json::Map::new(),
        })],
        usage: ModelUsage::default(),
        list_cost: Some(Money::usd_cents(5)),
    };
    let script = Script::new(vec![
        error(
            ModelErrorKind::Refusal {
                category: Some(RefusalCategory::Cyber),
                explanation: Some("no".into()),
            },
            "refused",
        ),
        Ok(tool_call),
    ]);
    let f = Fixture::with_provider(script.clone(), 0).await;
    let agent = f
        .agent(json!([custom_tool("confirm", "Asks the user")]))
        .await;
    let session = f
        .session(
            &agent,
            json!([]),
            json!({"budget": {"type": "limit", "max_list_cost": {"amount": "5", "currency": "USD"}}}),
        )
        .await;
    let refused = f.say(&session, "hack something").await;
    assert_eq!(
        refused.last().unwrap()["stop_reason"],
        json!({"type": "refusal"})
    );
    assert_eq!(
        refused.last().unwrap()["stop_details"],
        json!({"type": "refusal", "category": "cyber", "explanation": "no"})
    );

    // The tool call costs the whole budget: once it is answered, no model call follows.
    let asked = f.say(&session, "ask me").await;
    let call = id(of_type(&asked, "agent.custom_tool_use")[0]).to_owned();
    let after = f.send(&session, json!([custom_result(&call, "ok")])).await;
    let stopped = f.idle(&session, after).await;
    assert_eq!(
        stopped.last().unwrap()["stop_reason"],
        json!({"type": "budget_reached"})
    );
    assert_eq!(script.requests.lock().unwrap().len(), 2);
    let session = f.get(&format!("/v1/sessions/{session}")).await;
    assert_eq!(
        session["usage"]["list_cost"],
        json!({"amount": "5", "currency": "USD"})
    );
    // The request carried the custom tool and the conversation so far.
    let requests = script.requests.lock().unwrap();
    assert_eq!(requests[1].tools[0].name, "confirm");
    assert_eq!(requests[1].messages.len(), 1);
}

#[tokio::test]
async fn a_turn_stops_at_its_step_limit_and_unknown_tools_are_refused() {
    let call = |name: &str| {
        Ok(ModelResponse {
            content: vec![Block::ToolUse(ToolCall {
                id: "toolu_1".into(),
                name: name.into(),
                input: serde_json::Map::new(),
            })],
            ..ModelResponse::default()
        })
    };
    let script = Script::new(vec![call("frobnicate"), call("bash"), call("read")]);
    let f = Fixture::with_provider(script.clone(), 0).await;
    let agent = f
        .agent(json!([{"type": "agent_toolset_20260401",
            "configs": [{"name": "read", "enabled": false}]}]))
        .await;
    let session = f.session(&agent, json!([]), json!({})).await;
    let history = f.say(&session, "loop").await;
    let results: Vec<(&str, &str)> = of_type(&history, "agent.tool_use")
        .iter()
        .zip(of_type(&history, "agent.tool_result"))
        .map(|(call, result)| {
            assert_eq!(result["tool_use_id"], call["id"]);
            assert_eq!(result["is_error"], true);
            (
                call["evaluated_permission"].as_str().unwrap(),
                result["content"][0]["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(results[0], ("deny", "frobnicate: no such tool"));
    assert_eq!(results[1].0, "allow");
    assert!(
        results[1]
            .1
            .starts_with("bash: disabled: this platform runs no sandbox")
    );
    assert_eq!(
        results[2],
        ("deny", "read: this tool is not enabled for this agent")
    );
    assert!(
        of_type(&history, "agent.tool_use")[0]
            .get("evaluation")
            .is_none()
    );
    let tail = &history[history.len() - 2..];
    assert_eq!(
        tail[0]["error"],
        json!({"type": "tool_use_limit_reached_error",
            "message": "the turn reached its limit of 3 model requests",
            "retry_status": {"type": "exhausted"}})
    );
    assert_eq!(tail[1]["stop_reason"], json!({"type": "retries_exhausted"}));
    let requests = script.requests.lock().unwrap();
    assert_eq!(requests.len(), 3);
    let offered: Vec<&str> = requests[0].tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(offered, ["bash", "write", "edit", "glob", "grep"]);
}

/// A provider whose calls never finish.
#[derive(Debug)]
struct Stuck;

#[async_trait]
impl ModelProvider for Stuck {
    fn name(&self) -> &str {
        "stuck"
    }

    async fn complete(&self, _: ModelRequest) -> Result<ModelResponse, ModelError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn an_interrupt_stops_a_model_call_in_flight() {
    let f = Fixture::with_provider(Arc::new(Stuck), 0).await;
    let agent = f.agent(json!([])).await;
    let session = f.session(&agent, json!([]), json!({})).await;
    let after = f.send(&session, json!([message("think hard")])).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while f.history(&session).await.len() < after + 2 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        f.get(&format!("/v1/sessions/{session}")).await["status"],
        "running"
    );
    let after = f.send(&session, json!([{"type": "user.interrupt"}])).await;
    let history = f.idle(&session, after).await;
    assert_eq!(
        types(&history),
        [
            "user.message",
            "session.status_running",
            "span.model_request_start",
            "user.interrupt",
            "span.model_request_end",
            "session.status_idle",
        ]
    );
    assert_eq!(history[4]["is_error"], Value::Null);
    assert_eq!(history[5]["stop_reason"], json!({"type": "end_turn"}));
    assert!(history.iter().all(|e| e["processed_at"].is_string()));
}

#[tokio::test]
async fn a_restart_sets_sessions_left_running_back_to_idle() {
    let dir = tempfile::tempdir().unwrap();
    let handle = Platform::builder()
        .data_dir(dir.path())
        .engine(EngineOptions {
            provider: Some(Arc::new(Stuck)),
            ..EngineOptions::default()
        })
        .start_ephemeral()
        .await
        .unwrap();
    let f = Fixture::with(TestPlatform::from_handle(handle)).await;
    let agent = f.agent(json!([])).await;
    let session = f.session(&agent, json!([]), json!({})).await;
    let after = f.send(&session, json!([message("hello?")])).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while f.history(&session).await.len() < after + 2 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Fixture { platform, .. } = f;
    platform.handle.shutdown().await;
    // The directory of a session deleted while no engine ran is removed at the next start.
    let orphan = dir
        .path()
        .join("sessions/sesn_000000000000000000000000/workspace");
    std::fs::create_dir_all(&orphan).unwrap();

    let handle = Platform::builder()
        .data_dir(dir.path())
        .start_ephemeral()
        .await
        .unwrap();
    let f = Fixture::with(TestPlatform::from_handle(handle)).await;
    let history = f.idle(&session, after + 2).await;
    let tail = &history[after + 2..];
    assert_eq!(types(tail), ["session.error", "session.status_idle"]);
    assert_eq!(tail[0]["error"]["type"], "unknown_error");
    assert_eq!(
        tail[0]["error"]["retry_status"],
        json!({"type": "exhausted"})
    );
    assert_eq!(tail[1]["stop_reason"], json!({"type": "retries_exhausted"}));
    assert_eq!(
        f.get(&format!("/v1/sessions/{session}")).await["status"],
        "idle"
    );
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while orphan.exists() {
        assert!(tokio::time::Instant::now() < deadline, "the orphan stayed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The session works again on the new platform (the offline model).
    let next = f.say(&session, "still there?").await;
    assert_eq!(
        last_reply(&next),
        "[offline model] I have nothing on record about that."
    );
}

#[tokio::test]
async fn many_sessions_run_at_once_and_each_one_turn_at_a_time() {
    let f = Fixture::start().await;
    let agent = f.agent(json!([])).await;
    let mut sessions = Vec::new();
    for _ in 0..8 {
        sessions.push(f.session(&agent, json!([]), json!({})).await);
    }
    // Three requests per session, back to back, before waiting on any.
    for round in 0..3 {
        for session in &sessions {
            f.send(session, json!([message(&format!("message {round}"))]))
                .await;
        }
    }
    for session in &sessions {
        let history = f.idle(session, 3).await;
        assert!(
            history.iter().all(|e| e["processed_at"].is_string()),
            "every message was processed: {history:#?}"
        );
        // Spans never overlap: each start is closed before the next one opens.
        let mut open = None;
        for event in &history {
            match event["type"].as_str().unwrap() {
                "span.model_request_start" => {
                    assert_eq!(open, None, "{history:#?}");
                    open = Some(id(event).to_owned());
                }
                "span.model_request_end" => {
                    assert_eq!(
                        open.take().as_deref(),
                        event["model_request_start_id"].as_str()
                    );
                }
                _ => {}
            }
        }
        let replies = of_type(&history, "agent.message").len();
        assert!((1..=3).contains(&replies), "{history:#?}");
        assert_eq!(
            history.last().unwrap()["stop_reason"],
            json!({"type": "end_turn"})
        );
    }
}
