//! `http_request` against a local axum server: the secret header is added by the tool, only
//! allow-listed hosts are reached, echoed secrets are redacted, and a canary secret appears in
//! no output, error or log line.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_tools::builtin::{HttpRequest, HttpRequestConfig, SecretHeaderRule};
use steward_tools::{Env, Tool, ToolError, ToolErrorKind};

use crate::support::{LogCapture, ctx, serve};

/// The API key the host holds; must never reach the model or a log.
const CANARY: &str = "canary-7Hq2/sEcReT+Zx9";
/// A bearer token the host holds, sent as `authorization: Bearer <token>`.
const TOKEN: &str = "tok-canary-Bq5r";

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Server {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn record(
    State(server): State<Server>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    server.seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: uri.path().to_owned(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_owned())
    };
    match uri.path() {
        // Echoes everything it received, the credentials included, in the body and in headers.
        "/echo" => {
            let received: serde_json::Map<String, Value> = headers
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(v.to_str().unwrap_or(""))))
                .collect();
            let echoed = HeaderValue::from_str(&header("x-api-key").unwrap_or_default()).unwrap();
            (
                StatusCode::OK,
                [(HeaderName::from_static("x-echo-key"), echoed)],
                axum::Json(json!({"method": method.as_str(), "headers": received, "body": body})),
            )
                .into_response()
        }
        // Quotes the key URL-encoded, as an error page might.
        "/quote" => (
            StatusCode::UNAUTHORIZED,
            format!(
                "bad key: {} (sent as ?key={})",
                header("x-api-key").unwrap_or_default(),
                header("x-api-key")
                    .unwrap_or_default()
                    .replace('/', "%2F")
                    .replace('+', "%2B")
            ),
        )
            .into_response(),
        "/redirect" => (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                HeaderValue::from_static("https://elsewhere.example/steal"),
            )],
        )
            .into_response(),
        "/binary" => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )],
            vec![0xff_u8, 0xfe, 0x00, 0x01],
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Returns a long body with the key placed across the response size limit.
async fn big(headers: HeaderMap) -> String {
    let key = headers
        .get("x-api-key")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    // LIMIT is 64: the key starts 4 bytes before it.
    format!("{}{key}{}", "a".repeat(60), "b".repeat(100))
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(10)).await;
    "late"
}

const LIMIT: usize = 64;

async fn start() -> (Server, SocketAddr) {
    let server = Server::default();
    let router = Router::new()
        .route("/big", get(big))
        .route("/slow", get(slow))
        .fallback(any(record))
        .with_state(server.clone());
    let addr = serve(router).await;
    (server, addr)
}

fn config(addr: SocketAddr) -> HttpRequestConfig {
    HttpRequestConfig {
        rules: vec![
            SecretHeaderRule::new("127.0.0.1", "X-Api-Key", "TEST_API_KEY").port(addr.port()),
            SecretHeaderRule::new("127.0.0.1", "authorization", "TEST_TOKEN")
                .port(addr.port())
                .value_prefix("Bearer "),
        ],
        timeout: Duration::from_millis(500),
        max_response_bytes: LIMIT,
    }
}

fn env() -> Env {
    Env::from_pairs([("TEST_API_KEY", CANARY), ("TEST_TOKEN", TOKEN)])
}

fn tool(addr: SocketAddr) -> HttpRequest {
    HttpRequest::new(config(addr), env()).unwrap()
}

async fn call(tool: &HttpRequest, input: Value) -> Result<String, ToolError> {
    tool.call(input, &ctx()).await.map(|out| out.to_text())
}

#[tokio::test]
async fn the_tool_adds_the_secret_headers_itself() {
    let (server, addr) = start().await;
    let out = call(
        &tool(addr),
        json!({
            "method": "post",
            "url": format!("http://127.0.0.1:{}/echo?q=1", addr.port()),
            "headers": {"content-type": "text/plain", "x-request-id": "r1"},
            "body": "hello"
        }),
    )
    .await
    .unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/echo");
    assert_eq!(request.body, "hello");
    assert_eq!(request.headers["x-api-key"], CANARY);
    assert_eq!(request.headers["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(request.headers["x-request-id"], "r1");
    assert!(out.starts_with("HTTP 200 OK\n"), "{out}");
}

#[tokio::test]
async fn echoed_secrets_are_redacted_from_headers_and_body() {
    let (_server, addr) = start().await;
    let tool = HttpRequest::new(
        HttpRequestConfig {
            max_response_bytes: 64 * 1024,
            ..config(addr)
        },
        env(),
    )
    .unwrap();
    let out = call(
        &tool,
        json!({"url": format!("http://127.0.0.1:{}/echo", addr.port())}),
    )
    .await
    .unwrap();
    assert!(!out.contains(CANARY) && !out.contains(TOKEN), "{out}");
    assert!(out.contains("x-echo-key: [REDACTED]\n"), "{out}");
    let body: Value = serde_json::from_str(out.split("\n\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["headers"]["x-api-key"], "[REDACTED]");
    assert_eq!(body["headers"]["authorization"], "[REDACTED]");
    assert_eq!(body["method"], "GET");

    let out = call(
        &tool,
        json!({"url": format!("http://127.0.0.1:{}/quote", addr.port())}),
    )
    .await
    .unwrap();
    assert_eq!(
        out.split("\n\n").nth(1).unwrap(),
        "bad key: [REDACTED] (sent as ?key=[REDACTED])"
    );
    assert!(out.starts_with("HTTP 401 Unauthorized\n"), "{out}");
}

#[tokio::test]
async fn a_secret_across_the_size_limit_is_redacted_not_cut() {
    let (_server, addr) = start().await;
    let out = call(
        &tool(addr),
        json!({"url": format!("http://127.0.0.1:{}/big", addr.port())}),
    )
    .await
    .unwrap();
    let body = out.split("\n\n").nth(1).unwrap();
    assert_eq!(
        body,
        format!(
            "{}[REDACTED]\n[body truncated: only the first {LIMIT} bytes are shown]",
            "a".repeat(60)
        )
    );
    // Not even a prefix of the key survives.
    assert!(!out.contains(&CANARY[..4]), "{out}");
}

#[tokio::test]
async fn hosts_off_the_allow_list_are_refused_without_a_request() {
    let (server, addr) = start().await;
    let tool = tool(addr);
    let allowed = format!("127.0.0.1:{}", addr.port());
    let cases = [
        (
            "https://example.com/".to_owned(),
            ToolErrorKind::PermissionDenied,
            format!("`example.com` is not an allowed host; allowed: {allowed}"),
        ),
        (
            format!("http://localhost:{}/echo", addr.port()),
            ToolErrorKind::PermissionDenied,
            format!(
                "`localhost:{}` is not an allowed host; allowed: {allowed}",
                addr.port()
            ),
        ),
        (
            "http://127.0.0.1:1/echo".to_owned(),
            ToolErrorKind::PermissionDenied,
            format!("`127.0.0.1:1` is not an allowed host; allowed: {allowed}"),
        ),
        (
            "file:///etc/passwd".to_owned(),
            ToolErrorKind::InvalidInput,
            "unsupported URL scheme `file`: only https (and http to localhost) URLs are allowed"
                .to_owned(),
        ),
        (
            "not a url".to_owned(),
            ToolErrorKind::InvalidInput,
            "`url` is not an absolute URL: relative URL without a base".to_owned(),
        ),
    ];
    for (url, kind, message) in cases {
        let err = call(&tool, json!({"url": url})).await.unwrap_err();
        assert_eq!(
            (err.kind(), err.message()),
            (kind, message.as_str()),
            "{url}"
        );
    }
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn the_model_cannot_set_the_secret_header_or_http_owned_headers() {
    let (server, addr) = start().await;
    let tool = tool(addr);
    let url = format!("http://127.0.0.1:{}/echo", addr.port());
    for (name, message) in [
        (
            "X-API-KEY",
            "the header `x-api-key` carries this host's credential and is added by the host; leave it out",
        ),
        (
            "Authorization",
            "the header `authorization` carries this host's credential and is added by the host; leave it out",
        ),
        (
            "Host",
            "the header `host` is set by HTTP itself; leave it out",
        ),
        ("bad name", "`bad name` is not a valid header name"),
    ] {
        let err = call(&tool, json!({"url": url, "headers": {name: "x"}}))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::InvalidInput);
        assert_eq!(err.message(), message);
    }
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let (server, addr) = start().await;
    let out = call(
        &tool(addr),
        json!({"url": format!("http://127.0.0.1:{}/redirect", addr.port())}),
    )
    .await
    .unwrap();
    assert!(out.starts_with("HTTP 302 Found\n"), "{out}");
    assert!(
        out.contains("location: https://elsewhere.example/steal\n"),
        "{out}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn slow_servers_time_out() {
    let (_server, addr) = start().await;
    let err = call(
        &tool(addr),
        json!({"url": format!("http://127.0.0.1:{}/slow", addr.port())}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Timeout);
    assert_eq!(
        err.message(),
        "the request to `127.0.0.1` did not complete within 0.5 s"
    );
}

#[tokio::test]
async fn binary_bodies_are_described_not_dumped() {
    let (_server, addr) = start().await;
    let out = call(
        &tool(addr),
        json!({"url": format!("http://127.0.0.1:{}/binary", addr.port())}),
    )
    .await
    .unwrap();
    assert!(
        out.ends_with("\n\n[the body is not UTF-8 text: 4 bytes not shown]"),
        "{out}"
    );
}

#[tokio::test]
async fn a_missing_credential_is_unavailable_without_naming_the_variable() {
    let (server, addr) = start().await;
    let (logs, _guard) = LogCapture::install();
    let tool = HttpRequest::new(config(addr), Env::from_pairs([("TEST_TOKEN", TOKEN)])).unwrap();
    let err = call(
        &tool,
        json!({"url": format!("http://127.0.0.1:{}/echo", addr.port())}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Unavailable);
    assert_eq!(
        err.message(),
        "no credential is configured on this host for `127.0.0.1`"
    );
    // The operator learns which variable to set from the log, the model does not.
    assert!(logs.text().contains("TEST_API_KEY"), "{}", logs.text());
    assert!(server.seen().is_empty());
}

/// Every path through the tool, with the secret values as canaries: none may appear in an
/// output, an error (model text, `Debug`, source chain), the tool's `Debug` or the log.
#[tokio::test]
async fn the_canary_appears_in_no_output_error_or_log() {
    let (server, addr) = start().await;
    let (logs, _guard) = LogCapture::install();
    // A port that was free a moment ago: connecting to it is refused, a transport error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = config(addr);
    config
        .rules
        .push(SecretHeaderRule::new("127.0.0.1", "x-api-key", "TEST_API_KEY").port(closed));
    let tool = HttpRequest::new(config, env()).unwrap();
    let base = format!("http://127.0.0.1:{}", addr.port());
    let inputs = [
        json!({"url": format!("{base}/echo"), "method": "PUT", "body": "x"}),
        json!({"url": format!("{base}/quote")}),
        json!({"url": format!("{base}/big")}),
        json!({"url": format!("{base}/redirect")}),
        json!({"url": format!("{base}/binary")}),
        json!({"url": format!("{base}/missing")}),
        json!({"url": format!("{base}/slow")}),
        json!({"url": "https://example.com/"}),
        json!({"url": format!("{base}/echo"), "headers": {"x-api-key": "guess"}}),
        json!({"url": format!("{base}/echo"), "method": "TRACE"}),
        json!({"url": 42}),
        json!({"url": format!("http://127.0.0.1:{closed}/")}),
    ];
    let mut texts = vec![format!("{tool:?}")];
    for input in inputs {
        match call(&tool, input).await {
            Ok(out) => texts.push(out),
            Err(err) => {
                texts.push(err.model_text());
                texts.push(format!("{err:?}"));
                let mut source = std::error::Error::source(&err);
                while let Some(s) = source {
                    texts.push(s.to_string());
                    source = s.source();
                }
            }
        }
    }
    texts.push(logs.text());
    assert_eq!(server.seen().len(), 5, "the recording routes were reached");
    for text in &texts {
        for secret in [CANARY, TOKEN] {
            for form in encoded_forms(secret) {
                assert!(
                    !text.contains(&form),
                    "secret leaked (as {form:?}) into: {text}"
                );
            }
        }
    }
}

/// A secret as is, percent-encoded (upper- and lowercase hex) and base64-encoded (standard and
/// URL-safe alphabets, at each of the three alignments it can have inside a longer encoded
/// string, without the edge characters that depend on its neighbours).
fn encoded_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    let mut percent = String::new();
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            percent.push(char::from(byte));
        } else {
            percent.push_str(&format!("%{byte:02X}"));
        }
    }
    forms.push(percent.clone());
    let mut lower = String::new();
    let mut rest = percent.as_str();
    while let Some(at) = rest.find('%') {
        lower.push_str(&rest[..at]);
        lower.push_str(&rest[at..at + 3].to_lowercase());
        rest = &rest[at + 3..];
    }
    lower.push_str(rest);
    forms.push(lower);
    for offset in 0..3 {
        let mut bytes = vec![b'x'; offset];
        bytes.extend_from_slice(secret.as_bytes());
        let standard = base64(&bytes);
        let inner = standard[4..standard.len() - 4].to_owned();
        forms.push(inner.replace('+', "-").replace('/', "_"));
        forms.push(inner);
    }
    forms
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn the_encoded_forms_are_those_a_leak_would_take() {
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    assert_eq!(base64(b"client:secret"), "Y2xpZW50OnNlY3JldA==");
    let forms = encoded_forms(CANARY);
    assert!(forms.contains(&"canary-7Hq2%2FsEcReT%2BZx9".to_owned()));
    assert!(forms.contains(&"canary-7Hq2%2fsEcReT%2bZx9".to_owned()));
    let basic = base64(format!("user:{CANARY}").as_bytes());
    assert!(forms.iter().any(|form| basic.contains(form)), "{basic}");
}
