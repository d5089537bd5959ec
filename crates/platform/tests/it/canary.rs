//! A canary secret in every secret field of a vault's credentials must never come out: not in
//! a response body or header, not in an event (listed or streamed), not in a log line at TRACE
//! for every target, not even base64-, URL- or hex-encoded.
//!
//! The test runs its own tokio runtime whose every thread (workers and the blocking pool) has a
//! TRACE subscriber as its default, writing into one buffer; the platform runs in that runtime,
//! so its request spans and every event it logs land there. It then drives the vaults API end
//! to end (create, retrieve, list, update, rotate, bad updates that fail deserialization
//! around a secret, archive, delete, the errors after), and sessions that carry the vault
//! (create, retrieve, list, a turn of the offline model, the event list and the SSE stream),
//! and greps everything it saw.

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::{Value, json};
use tracing::dispatcher::{DefaultGuard, Dispatch};
use tracing_subscriber::fmt::format::FmtSpan;

use crate::support::TestPlatform;

/// The secret put in every secret field: `+`, `/` and `=` make its encodings differ from it.
const CANARY: &str = "cAnArY+9f3b/Secret=Q7x-0a41";
/// The secret the updates rotate to.
const CANARY2: &str = "cAnArY+rotated/7d2e=Kp-55c0";

/// A shared, growing byte buffer: the log.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

thread_local! {
    /// Keeps the subscriber the default of a runtime thread for the thread's life.
    static DEFAULT: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// Every form in which a secret could leak: as is, base64 (standard and URL-safe, at every
/// alignment inside a longer encoded string, so `user:secret` in a basic auth header counts),
/// percent-encoded (upper and lower case hex) and hex.
fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned(), hex::encode(secret)];
    for offset in 0..3 {
        let mut bytes = vec![b'x'; offset];
        bytes.extend_from_slice(secret.as_bytes());
        for engine in [&STANDARD, &URL_SAFE] {
            let encoded = engine.encode(&bytes);
            // The first and last four characters may depend on the bytes around the secret.
            out.push(encoded[4..encoded.len() - 4].to_owned());
        }
    }
    let mut upper = String::new();
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            upper.push(char::from(byte));
        } else {
            upper.push_str(&format!("%{byte:02X}"));
        }
    }
    out.push(upper.clone());
    out.push(
        upper
            .replace("%2B", "%2b")
            .replace("%2F", "%2f")
            .replace("%3D", "%3d"),
    );
    out.retain(|form| form.len() >= 8);
    out
}

/// What the test saw: every response (status line, headers, body) and stream read.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    /// Sends a request; records the whole response; returns the status and the body.
    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let mut record = format!("{status}\n");
        for (name, value) in response.headers() {
            record.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        let text = response.text().await.unwrap();
        record.push_str(&text);
        self.0.push(record);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[test]
fn the_encoded_forms_catch_a_secret_inside_longer_text() {
    let basic = STANDARD.encode(format!("client-id:{CANARY}"));
    let url = format!(
        "https://x.test/?token={}",
        forms(CANARY)[forms(CANARY).len() - 2]
    );
    for leak in [
        format!("Authorization: Basic {basic}"),
        format!("token={}", URL_SAFE.encode(format!("ab{CANARY}cd"))),
        url,
        format!("key {}", hex::encode(CANARY)),
    ] {
        assert!(
            forms(CANARY).iter().any(|form| leak.contains(form)),
            "{leak}"
        );
    }
}

#[test]
fn the_canary_secret_appears_in_no_response_event_or_log_line() {
    let log = Buffer::default();
    let dispatch = Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_span_events(FmtSpan::FULL)
            .with_writer(log.clone())
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
    let seen = runtime.block_on(scenario());

    let log = log.text();
    assert!(
        log.contains("/v1/vaults") && log.contains("/v1/sessions"),
        "the log was captured: {} bytes",
        log.len()
    );
    let mut texts = seen.0;
    texts.push(log);
    for secret in [CANARY, CANARY2] {
        for form in forms(secret) {
            for text in &texts {
                assert!(
                    !text.contains(&form),
                    "{secret} leaked (as {form:?}) into: {}",
                    text.chars().take(4000).collect::<String>()
                );
            }
        }
    }
}

fn oauth(secret: &str) -> Value {
    json!({
        "type": "mcp_oauth",
        "mcp_server_url": "https://mcp.example.test/mcp",
        "access_token": secret,
        "expires_at": "2099-01-01T00:00:00Z",
        "refresh": {
            "client_id": "cid",
            "token_endpoint": "https://auth.example.test/token",
            "refresh_token": secret,
            "token_endpoint_auth": {"type": "client_secret_basic", "client_secret": secret},
            "scope": "read",
        },
    })
}

/// Drives the API; returns everything it received.
async fn scenario() -> Seen {
    let platform = TestPlatform::start().await;
    let http = platform.client.clone();
    let url = |path: &str| platform.url(path);
    let mut seen = Seen::default();

    let (_, vault) = seen
        .send(
            http.post(url("/v1/vaults"))
                .json(&json!({"display_name": "canary", "metadata": {"owner": "test"}})),
        )
        .await;
    let vault = vault["id"].as_str().unwrap().to_owned();
    let credentials = format!("/v1/vaults/{vault}/credentials");
    let mut made = Vec::new();
    for auth in [
        oauth(CANARY),
        json!({"type": "static_bearer", "mcp_server_url": "https://tracker.example.test/mcp",
            "token": CANARY}),
        json!({"type": "environment_variable", "secret_name": "API_TOKEN", "secret_value": CANARY,
            "networking": {"type": "limited", "allowed_hosts": ["api.example.test"]}}),
    ] {
        let (status, credential) = seen
            .send(
                http.post(url(&credentials))
                    .json(&json!({"display_name": "c", "auth": auth})),
            )
            .await;
        assert_eq!(status, 200, "{credential}");
        made.push(format!(
            "{credentials}/{}",
            credential["id"].as_str().unwrap()
        ));
    }

    // Reads.
    for path in made.iter().chain([
        &credentials,
        &format!("{credentials}?limit=1"),
        &format!("/v1/vaults/{vault}"),
        &"/v1/vaults".to_owned(),
    ]) {
        let (status, _) = seen.send(http.get(url(path))).await;
        assert_eq!(status, 200, "{path}");
    }

    // Rotations, then updates that fail around a secret.
    let rotations = [
        json!({"auth": {"type": "mcp_oauth", "access_token": CANARY2,
            "refresh": {"refresh_token": CANARY2,
                "token_endpoint_auth": {"type": "client_secret_basic", "client_secret": CANARY2}}}}),
        json!({"auth": {"type": "static_bearer", "token": CANARY2}}),
        json!({"auth": {"type": "environment_variable", "secret_value": CANARY2}}),
    ];
    for (path, body) in made.iter().zip(rotations) {
        let (status, answer) = seen.send(http.post(url(path)).json(&body)).await;
        assert_eq!(status, 200, "{answer}");
    }
    let bad_updates = [
        format!(r#"{{"auth": {{"type": "static_bearer", "token": "{CANARY}""#),
        format!(r#"{{"auth": {{"type": "static_bearer", "token": 7, "extra": "{CANARY}"}}}}"#),
        format!(r#"{{"auth": {{"type": "kerberos", "ticket": "{CANARY}"}}}}"#),
        format!(r#"{{"auth": "{CANARY}"}}"#),
        format!(r#"{{"display_name": ["{CANARY}"]}}"#),
        format!(
            r#"{{"auth": {{"type": "mcp_oauth", "access_token": "{CANARY}", "mcp_server_url": "https://{CANARY}.test"}}}}"#
        ),
        format!(
            r#"{{"auth": {{"type": "mcp_oauth", "access_token": "{CANARY}", "expires_at": "{CANARY}"}}}}"#
        ),
        format!(
            r#"{{"auth": {{"type": "mcp_oauth", "refresh": {{"token_endpoint_auth": {{"type": "client_secret_basic", "client_secret": {{"v": "{CANARY}"}}}}}}}}}}"#
        ),
        format!(r#"{{"auth": {{"type": "environment_variable", "secret_value": ["{CANARY}"]}}}}"#),
    ];
    for path in &made {
        for body in &bad_updates {
            let (status, answer) = seen
                .send(
                    http.post(url(path))
                        .header("content-type", "application/json")
                        .body(body.clone()),
                )
                .await;
            assert_eq!(status, 400, "{body} -> {answer}");
        }
    }
    let bad_creates = [
        format!(
            r#"{{"auth": {{"type": "static_bearer", "token": "{CANARY}", "mcp_server_url": 5}}}}"#
        ),
        format!(
            r#"{{"auth": {{"type": "environment_variable", "secret_name": "1X", "secret_value": "{CANARY}"}}}}"#
        ),
        format!(r#"{{"auth": {{"type": "static_bearer", "token": "{CANARY}"#),
    ];
    for body in &bad_creates {
        let (status, answer) = seen
            .send(
                http.post(url(&credentials))
                    .header("content-type", "application/json")
                    .body(body.clone()),
            )
            .await;
        assert_eq!(status, 400, "{body} -> {answer}");
    }

    // Sessions that carry the vault.
    let (_, environment) = seen
        .send(
            http.post(url("/v1/environments"))
                .json(&json!({"name": "env"})),
        )
        .await;
    let (_, agent) = seen
        .send(http.post(url("/v1/agents")).json(&json!({
            "name": "a", "model": "claude-sonnet-4-6",
            "tools": [{"type": "agent_toolset_20260401"}]})))
        .await;
    let (status, session) = seen
        .send(http.post(url("/v1/sessions")).json(&json!({
            "agent": agent["id"], "environment_id": environment["id"], "vault_ids": [vault]})))
        .await;
    assert_eq!(status, 200, "{session}");
    let session = session["id"].as_str().unwrap().to_owned();
    let stream = http
        .get(url(&format!("/v1/sessions/{session}/events/stream")))
        .send()
        .await
        .unwrap();
    let (status, _) = seen
        .send(
            http.post(url(&format!("/v1/sessions/{session}/events")))
                .json(
                    &json!({"events": [{"type": "user.message", "content": [{"type": "text",
                    "text": "Remember that my token is in the vault."}]}]}),
                ),
        )
        .await;
    assert_eq!(status, 200);
    let mut stream_text = format!("{}\n", stream.status());
    let mut stream = stream;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !stream_text.contains("session.status_idle") {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => stream_text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    assert!(stream_text.contains("session.status_idle"), "{stream_text}");
    seen.0.push(stream_text);
    for path in [
        format!("/v1/sessions/{session}"),
        format!("/v1/sessions/{session}/events?limit=1000"),
        "/v1/sessions".to_owned(),
    ] {
        let (status, _) = seen.send(http.get(url(&path))).await;
        assert_eq!(status, 200, "{path}");
    }

    // Archive and delete, and the errors after.
    let (status, _) = seen
        .send(http.post(url(&format!("{}/archive", made[0]))))
        .await;
    assert_eq!(status, 200);
    let (status, _) = seen
        .send(
            http.post(url(&made[0]))
                .json(&json!({"auth": {"type": "mcp_oauth", "access_token": CANARY}})),
        )
        .await;
    assert!(status >= 400, "updating an archived credential");
    let (status, _) = seen.send(http.delete(url(&made[1]))).await;
    assert_eq!(status, 200);
    let (status, _) = seen.send(http.get(url(&made[1]))).await;
    assert_eq!(status, 404);
    let (status, _) = seen
        .send(http.post(url(&format!("/v1/vaults/{vault}/archive"))))
        .await;
    assert_eq!(status, 200);
    for path in made.iter().chain([&credentials]) {
        seen.send(http.get(url(path))).await;
    }
    let (status, _) = seen
        .send(
            http.post(url(&credentials))
                .json(&json!({"auth": {"type": "static_bearer",
                    "mcp_server_url": "https://x.example.test/mcp", "token": CANARY}})),
        )
        .await;
    assert!(status >= 400, "a credential in an archived vault");
    let (status, _) = seen
        .send(http.post(url("/v1/sessions")).json(&json!({
            "agent": agent["id"], "environment_id": environment["id"], "vault_ids": [vault]})))
        .await;
    assert!(status >= 400, "a session with an archived vault");
    let (status, _) = seen
        .send(http.delete(url(&format!("/v1/vaults/{vault}"))))
        .await;
    assert_eq!(status, 200);
    seen.send(http.get(url(&format!("/v1/vaults/{vault}"))))
        .await;
    platform.handle.shutdown().await;
    seen
}
