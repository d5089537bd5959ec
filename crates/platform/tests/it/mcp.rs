//! MCP tools end to end: a real MCP server (`rmcp`, requiring a bearer token) and a local
//! OAuth token endpoint ([`McpFixture`]), an agent with an `mcp_toolset`, sessions with
//! `vault_ids`, and the offline model calling the server's tools (`mcp__fixture__echo`).
//!
//! Covered: the vault's token is injected; results reach the events (snapshot); a token near
//! expiry is refreshed before use, a `401` triggers one refresh and one retry, a rotated
//! refresh token is kept; two sessions sharing a credential post one grant; a revoked refresh
//! token and a missing credential are tool errors naming the server; `always_ask` waits for a
//! confirmation (and an interrupt settles a call still waiting); canary tokens appear in no event, response, trace-level log line, or request
//! the server saw (but in the `Authorization` header and the token endpoint's grant).
#![expect(
    clippy::unwrap_used,
    reason = "the fixture's helpers fail the test on any unexpected response"
)]

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_test_support::mcp::McpFixture;
use tracing::dispatcher::{DefaultGuard, Dispatch};
use tracing_subscriber::fmt::format::FmtSpan;

use crate::support::{TestPlatform, id};

/// How long a test waits for the engine.
const PATIENCE: Duration = Duration::from_secs(20);

/// The access token the fixture accepts at first.
const ACCESS: &str = "canary-mcp-access-5b1f0c9e";

/// The refresh token the fixture's token endpoint honours at first.
const REFRESH: &str = "canary-mcp-refresh-a73e24d8";

/// The tool the offline model is asked to call.
const ECHO: &str = "mcp__fixture__echo";

/// A platform, an environment and an MCP fixture.
struct Flow {
    platform: TestPlatform,
    environment: String,
    mcp: McpFixture,
}

impl Flow {
    async fn start() -> Self {
        let mcp = McpFixture::start().await.unwrap();
        mcp.accept(ACCESS);
        mcp.add_refresh_token(REFRESH);
        let platform = TestPlatform::start().await;
        let environment = platform
            .post("/v1/environments", json!({"name": "env"}))
            .await
            .ok();
        Self {
            environment: id(&environment).to_owned(),
            platform,
            mcp,
        }
    }

    /// A vault holding an `mcp_oauth` credential for the fixture, whose token expires at
    /// `expires_at`; returns (vault ID, credential path).
    async fn vault(&self, expires_at: &str) -> (String, String) {
        let vault = self
            .platform
            .post("/v1/vaults", json!({"display_name": "mcp"}))
            .await
            .ok();
        let auth = json!({
            "type": "mcp_oauth",
            "mcp_server_url": self.mcp.mcp_url(),
            "access_token": ACCESS,
            "expires_at": expires_at,
            "refresh": {
                "client_id": "steward-test",
                "token_endpoint": self.mcp.token_url(),
                "refresh_token": REFRESH,
                "token_endpoint_auth": {"type": "none"},
            },
        });
        let path = format!("/v1/vaults/{}/credentials", id(&vault));
        let credential = self.platform.post(&path, json!({"auth": auth})).await.ok();
        (id(&vault).to_owned(), format!("{path}/{}", id(&credential)))
    }

    /// An agent whose `mcp_toolset` for the fixture has this `default_config` and `configs`.
    async fn agent(&self, default_config: Value, configs: Value) -> String {
        let agent = self
            .platform
            .post(
                "/v1/agents",
                json!({
                    "name": "mcp user",
                    "model": "claude-sonnet-4-6",
                    "mcp_servers": [{"type": "url", "name": "fixture", "url": self.mcp.mcp_url()}],
                    "tools": [{"type": "mcp_toolset", "mcp_server_name": "fixture",
                        "default_config": default_config, "configs": configs}],
                }),
            )
            .await
            .ok();
        id(&agent).to_owned()
    }

    async fn allowing_agent(&self) -> String {
        self.agent(
            json!({"permission_policy": {"type": "always_allow"}}),
            json!([]),
        )
        .await
    }

    async fn session(&self, agent: &str, vault_ids: &[&str]) -> String {
        let session = self
            .platform
            .post(
                "/v1/sessions",
                json!({"agent": agent, "environment_id": self.environment,
                    "vault_ids": vault_ids}),
            )
            .await
            .ok();
        id(&session).to_owned()
    }

    async fn send(&self, session: &str, events: Value) -> usize {
        self.platform.send_events(session, events).await
    }

    async fn say(&self, session: &str, text: &str) -> Vec<Value> {
        let after = self.send(session, json!([message(text)])).await;
        self.idle(session, after).await
    }

    /// Waits until the history holds more than `after` events and ends idle, and stays so.
    async fn idle(&self, session: &str, after: usize) -> Vec<Value> {
        self.platform.wait_idle(session, after, PATIENCE, "").await
    }
}

fn message(text: &str) -> Value {
    json!({"type": "user.message", "content": [{"type": "text", "text": text}]})
}

/// An RFC 3339 time `seconds` from now.
fn from_now(seconds: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

fn last_reply(events: &[Value]) -> String {
    of_type(events, "agent.message").last().unwrap()["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The text of the last `agent.mcp_tool_result` and its `is_error`.
fn last_result(events: &[Value]) -> (String, bool) {
    let result = *of_type(events, "agent.mcp_tool_result").last().unwrap();
    (
        result["content"][0]["text"].as_str().unwrap().to_owned(),
        result["is_error"].as_bool().unwrap(),
    )
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

fn echo(text: &str) -> String {
    format!(r#"Please call {ECHO} with {{"text": "{text}"}}"#)
}

#[tokio::test]
async fn an_mcp_tool_runs_on_the_server_with_the_vault_token() {
    let f = Flow::start().await;
    let (vault, _) = f.vault(&from_now(3600)).await;
    let agent = f.allowing_agent().await;
    let session = f.session(&agent, &[&vault]).await;

    let history = f.say(&session, &echo("hello")).await;
    insta::assert_json_snapshot!("mcp_tool_call", transcript(&history));
    let call = of_type(&history, "agent.mcp_tool_use")[0];
    assert_eq!(
        (&call["mcp_server_name"], &call["name"], &call["input"]),
        (&json!("fixture"), &json!("echo"), &json!({"text": "hello"}))
    );
    assert_eq!(last_result(&history), ("echo: hello".to_owned(), false));
    assert_eq!(
        last_reply(&history),
        format!("[offline model] Tool results:\n- {ECHO}: echo: hello")
    );
    // initialize, initialized, tools/list, tools/call: every one with the vault's token.
    let seen = f.mcp.mcp_authorizations();
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(
        seen.iter()
            .all(|a| a.as_deref() == Some(&format!("Bearer {ACCESS}"))),
        "{seen:?}"
    );
    assert_eq!((f.mcp.tool_calls(), f.mcp.grants()), (1, 0));

    // A tool that reports an error gives an error result; the session goes on.
    let history = f.say(&session, "Now call mcp__fixture__fail").await;
    assert_eq!(
        last_result(&history),
        ("the fail tool always fails".to_owned(), true)
    );
    assert_eq!(
        last_reply(&history),
        "[offline model] Tool results:\n- mcp__fixture__fail failed: the fail tool always fails"
    );
    assert_eq!(
        history.last().unwrap()["stop_reason"],
        json!({"type": "end_turn"})
    );
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use_and_a_401_refreshes_and_retries_once() {
    let f = Flow::start().await;
    f.mcp.rotate_refresh_tokens(true);
    // Within the broker's refresh margin: refreshed before the first request.
    let (vault, _) = f.vault(&from_now(20)).await;
    let agent = f.allowing_agent().await;
    let session = f.session(&agent, &[&vault]).await;

    let history = f.say(&session, &echo("one")).await;
    assert_eq!(last_result(&history), ("echo: one".to_owned(), false));
    assert_eq!(f.mcp.grants(), 1);
    let seen = f.mcp.mcp_authorizations();
    assert!(
        seen.iter()
            .all(|a| a.as_deref() == Some("Bearer issued-access-1")),
        "the stale token was sent: {seen:?}"
    );

    // The server stops accepting the token: the call is refused with 401, the credential is
    // refreshed with the rotated refresh token (the fixture no longer honours the first one),
    // and the request is sent again once.
    f.mcp.revoke_all();
    let before = f.mcp.requests().len();
    let history = f.say(&session, &echo("two")).await;
    assert_eq!(last_result(&history), ("echo: two".to_owned(), false));
    assert_eq!(f.mcp.grants(), 2);
    let mcp: Vec<Option<String>> = f.mcp.requests()[before..]
        .iter()
        .filter(|r| r.path.starts_with("/mcp"))
        .map(|r| r.authorization.clone())
        .collect();
    assert_eq!(
        mcp.first().unwrap().as_deref(),
        Some("Bearer issued-access-1"),
        "{mcp:?}"
    );
    assert_eq!(
        mcp.iter()
            .filter(|a| a.as_deref() == Some("Bearer issued-access-1"))
            .count(),
        1,
        "one request with the refused token, then the retry: {mcp:?}"
    );
    assert!(
        mcp[1..]
            .iter()
            .all(|a| a.as_deref() == Some("Bearer issued-access-2")),
        "{mcp:?}"
    );
    let grants: Vec<String> = f
        .mcp
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .map(|r| r.body)
        .collect();
    assert!(grants[0].contains(REFRESH), "{grants:?}");
    assert!(
        grants[1].contains("issued-access-refresh-1"),
        "the rotated refresh token was not kept: {grants:?}"
    );

    // A fresh token is not refreshed again.
    let history = f.say(&session, &echo("three")).await;
    assert_eq!(last_result(&history), ("echo: three".to_owned(), false));
    assert_eq!(f.mcp.grants(), 2);
}

#[tokio::test]
async fn two_sessions_sharing_a_credential_post_one_grant() {
    let f = Flow::start().await;
    let (vault, _) = f.vault(&from_now(20)).await;
    let agent = f.allowing_agent().await;
    let one = f.session(&agent, &[&vault]).await;
    let two = f.session(&agent, &[&vault]).await;
    let (after_one, after_two) = tokio::join!(
        f.send(&one, json!([message(&echo("a"))])),
        f.send(&two, json!([message(&echo("b"))])),
    );
    let (a, b) = tokio::join!(f.idle(&one, after_one), f.idle(&two, after_two));
    assert_eq!(last_result(&a), ("echo: a".to_owned(), false));
    assert_eq!(last_result(&b), ("echo: b".to_owned(), false));
    assert_eq!(f.mcp.grants(), 1);
    assert_eq!(f.mcp.tool_calls(), 2);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_a_clear_tool_error_and_the_session_goes_on() {
    let f = Flow::start().await;
    let (vault, credential) = f.vault(&from_now(3600)).await;
    let agent = f.allowing_agent().await;
    let session = f.session(&agent, &[&vault]).await;
    let history = f.say(&session, &echo("before")).await;
    assert_eq!(last_result(&history), ("echo: before".to_owned(), false));

    f.mcp.revoke_all();
    f.mcp.revoke_refresh_token(REFRESH);
    let history = f.say(&session, &echo("after")).await;
    let (text, is_error) = last_result(&history);
    assert!(is_error, "{text}");
    let credential_id = credential.rsplit('/').next().unwrap();
    for part in [
        "MCP server `fixture`",
        "invalid_grant",
        "refresh token revoked",
        credential_id,
    ] {
        assert!(text.contains(part), "{part:?} missing from {text:?}");
    }
    assert_eq!(
        history.last().unwrap()["stop_reason"],
        json!({"type": "end_turn"})
    );
    let retrieved = f.platform.get(&credential).await.ok();
    assert_eq!(retrieved["refresh_error"]["type"], "invalid_grant");
    assert_eq!(f.mcp.tool_calls(), 1);

    // The session goes on.
    let history = f.say(&session, "Thanks anyway.").await;
    assert_eq!(
        history.last().unwrap()["stop_reason"],
        json!({"type": "end_turn"})
    );
}

#[tokio::test]
async fn without_a_credential_the_call_fails_naming_the_server() {
    let f = Flow::start().await;
    // The tool is named in `configs`, so it is offered although the server cannot be listed.
    let agent = f
        .agent(
            json!({"permission_policy": {"type": "always_allow"}}),
            json!([{"name": "echo"}]),
        )
        .await;
    let session = f.session(&agent, &[]).await;
    let history = f.say(&session, &echo("hi")).await;
    let (text, is_error) = last_result(&history);
    assert!(is_error);
    assert_eq!(
        text,
        format!(
            "MCP server `fixture` ({url}): no credential in the session's vaults is for the MCP \
             server `{url}`",
            url = f.mcp.mcp_url()
        )
    );
    assert!(f.mcp.requests().is_empty(), "{:?}", f.mcp.requests());
}

#[tokio::test]
async fn always_ask_tools_wait_for_a_confirmation() {
    let f = Flow::start().await;
    let (vault, _) = f.vault(&from_now(3600)).await;
    let agent = f
        .agent(
            json!({"permission_policy": {"type": "always_ask"}}),
            json!([]),
        )
        .await;
    let session = f.session(&agent, &[&vault]).await;

    let asked = f.say(&session, &echo("allowed")).await;
    let call = *of_type(&asked, "agent.mcp_tool_use").last().unwrap();
    assert_eq!(call["evaluated_permission"], "ask");
    assert_eq!(call["evaluation"], json!({"type": "always_ask"}));
    assert_eq!(
        asked.last().unwrap()["stop_reason"],
        json!({"type": "requires_action", "event_ids": [id(call)]})
    );
    assert_eq!(f.mcp.tool_calls(), 0);
    let after = f
        .send(
            &session,
            json!([{"type": "user.tool_confirmation", "tool_use_id": id(call), "result": "allow"}]),
        )
        .await;
    let allowed = f.idle(&session, after).await;
    assert_eq!(last_result(&allowed), ("echo: allowed".to_owned(), false));
    assert_eq!(f.mcp.tool_calls(), 1);

    let asked = f.say(&session, &echo("denied")).await;
    let call = *of_type(&asked, "agent.mcp_tool_use").last().unwrap();
    let after = f
        .send(
            &session,
            json!([{"type": "user.tool_confirmation", "tool_use_id": id(call), "result": "deny",
                "deny_message": "Not now."}]),
        )
        .await;
    let denied = f.idle(&session, after).await;
    assert_eq!(last_result(&denied), ("Not now.".to_owned(), true));
    assert_eq!(f.mcp.tool_calls(), 1);
    assert_eq!(
        last_reply(&denied),
        format!("[offline model] Tool results:\n- {ECHO} failed: Not now.")
    );

    // An interrupt settles a call still waiting for its confirmation, and ends the turn.
    let asked = f.say(&session, &echo("interrupted")).await;
    let call = *of_type(&asked, "agent.mcp_tool_use").last().unwrap();
    let after = f.send(&session, json!([{"type": "user.interrupt"}])).await;
    let interrupted = f.idle(&session, after).await;
    let result = *of_type(&interrupted, "agent.mcp_tool_result")
        .last()
        .unwrap();
    assert_eq!(result["mcp_tool_use_id"], call["id"]);
    assert_eq!(
        last_result(&interrupted),
        (
            "interrupted: the user interrupted the turn before this call ran".to_owned(),
            true
        )
    );
    assert_eq!(
        interrupted.last().unwrap()["stop_reason"],
        json!({"type": "end_turn"})
    );
    assert_eq!(f.mcp.tool_calls(), 1);
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

thread_local! {
    /// The subscriber guard of a runtime thread of the leak test.
    static DEFAULT: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// Every thread of the leak test's runtime (workers and blocking pool, where the platform, the
/// fixture and the database work run) logs at TRACE, for every target, into one buffer.
#[test]
fn the_tokens_never_leak() {
    let logs = Buffer::default();
    let writer = logs.clone();
    let dispatch = Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    );
    let for_threads = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            let guard = tracing::dispatcher::set_default(&for_threads);
            DEFAULT.with(|slot| *slot.borrow_mut() = Some(guard));
        })
        .on_thread_stop(|| DEFAULT.with(|slot| drop(slot.borrow_mut().take())))
        .build()
        .unwrap();
    let _main = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(leak_scenario(&logs));
}

async fn leak_scenario(logs: &Buffer) {
    let f = Flow::start().await;
    let (vault, credential) = f.vault(&from_now(3600)).await;
    let agent = f.allowing_agent().await;
    let session = f.session(&agent, &[&vault]).await;
    // A call, a 401 with refresh and retry, then a failing refresh.
    f.say(&session, &echo("one")).await;
    f.mcp.revoke_all();
    f.say(&session, &echo("two")).await;
    f.mcp.revoke_all();
    f.mcp.revoke_refresh_token(REFRESH);
    let history = f.say(&session, &echo("three")).await;
    assert_eq!(f.mcp.grants(), 1);
    assert!(last_result(&history).1);

    let mut responses: Vec<Value> = history.clone();
    for path in [
        credential.clone(),
        format!("/v1/vaults/{vault}/credentials"),
        format!("/v1/sessions/{session}"),
        format!("/v1/sessions/{session}/events"),
        format!("/v1/agents/{agent}"),
    ] {
        responses.push(f.platform.get(&path).await.ok());
    }
    let validated = f
        .platform
        .post_empty(&format!("{credential}/mcp_oauth_validate"))
        .await;
    responses.push(validated.body);
    for canary in [ACCESS, REFRESH] {
        for form in forms(canary) {
            for response in &responses {
                assert!(
                    !response.to_string().contains(&form),
                    "{canary} leaked: {response}"
                );
            }
            for request in f.mcp.requests() {
                let seen = request.without_authorization();
                if request.path == "/token" && canary == REFRESH {
                    continue; // the grant carries the refresh token to the token endpoint
                }
                assert!(!seen.contains(&form), "{canary} sent: {seen}");
            }
        }
    }
    let log = logs.text();
    assert!(
        log.contains("rmcp") && log.contains("hyper"),
        "the trace log should hold rmcp and hyper lines"
    );
    for canary in [ACCESS, REFRESH] {
        for form in forms(canary) {
            let leaked: Vec<&str> = log.lines().filter(|l| l.contains(&form)).collect();
            assert!(leaked.is_empty(), "{canary} logged: {leaked:#?}");
        }
    }
}

/// A secret as it may be written: plain, base64, hex.
fn forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    vec![
        secret.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(secret),
        hex::encode(secret),
    ]
}
