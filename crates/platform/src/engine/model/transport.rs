//! What the HTTP providers share: the client, sending a request, reading a streamed response
//! as server-sent events, and turning failures into [`ModelError`]s.
//!
//! **Classification** (apart from timing, which the loop owns): 429 is `RateLimited`, 529 and
//! 503 are `Overloaded` (both retried), every other failure (another status, a connection
//! that fails, a timeout, a stream that breaks off) is `Failed`, which ends the turn. The
//! server's `retry-after-ms` or `retry-after` (seconds or an HTTP date) travels with the error.
//!
//! **Keys never leak.** Keys go only into request headers; an upstream message that quotes
//! the key has it replaced by `[redacted]` before it reaches a `session.error` or a log.

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::time::Instant;

use super::{ModelError, ModelErrorKind};

/// A provider's API key. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// Replaces every occurrence of the key (if any, and long enough to be one) in `text`.
pub(super) fn redact(text: &str, key: Option<&ApiKey>) -> String {
    match key {
        Some(key) if key.0.len() >= 8 => text.replace(&key.0, "[redacted]"),
        _ => text.to_owned(),
    }
}

/// The HTTP client of a provider sending to `base_url`. A loopback URL bypasses any proxy
/// from the environment.
pub(super) fn client(base_url: &reqwest::Url) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("steward-platform/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30));
    if is_loopback(base_url) {
        builder.no_proxy().build()
    } else {
        builder.build()
    }
}

/// Whether a URL names this machine (`localhost`, `127.0.0.0/8`, `::1`).
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// Parses a configured base URL (`http` or `https`), without a trailing slash.
pub(super) fn base_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim_end_matches('/')).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not {}",
            url.scheme()
        ));
    }
    Ok(url)
}

/// `base` joined with `path` (`/v1/messages`), keeping any path `base` has.
pub(super) fn endpoint(base: &reqwest::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// What a failed request says about itself.
#[derive(Debug)]
pub(super) struct HttpFailure {
    /// The HTTP status.
    pub(super) status: u16,
    /// The API's error type (`rate_limit_error`, `invalid_request_error`), when it gave one.
    pub(super) error_type: Option<String>,
    /// The API's message, or the start of the body.
    pub(super) message: String,
    /// How long it asked to wait.
    pub(super) retry_after: Option<Duration>,
}

impl HttpFailure {
    /// Reads a failed response: its status, `retry-after`, and the error in its body, whether
    /// in Anthropic's shape (`{"type":"error","error":{"type","message"}}`) or OpenAI's
    /// (`{"error":{"message","type","code"}}`).
    pub(super) async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let reason = response
            .status()
            .canonical_reason()
            .unwrap_or("error")
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        let body: Option<Value> = serde_json::from_str(&text).ok();
        let error = body.as_ref().and_then(|b| b.get("error"));
        let error_type = error
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let message = match error {
            Some(Value::String(message)) => message.clone(),
            Some(error) => error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_owned),
            None if text.trim().is_empty() => reason,
            None => excerpt(&text),
        };
        Self {
            status,
            error_type,
            message,
            retry_after,
        }
    }

    /// What kind of failure this is: by status, else by the API's error type.
    pub(super) fn kind(&self) -> ModelErrorKind {
        match (self.status, self.error_type.as_deref()) {
            (429, _) | (_, Some("rate_limit_error")) => ModelErrorKind::RateLimited,
            (529 | 503, _) | (_, Some("overloaded_error")) => ModelErrorKind::Overloaded,
            _ => ModelErrorKind::Failed,
        }
    }

    /// The error for the loop: `provider: <status> <type>: <message>`, with the key redacted.
    pub(super) fn into_error(self, provider: &str, key: Option<&ApiKey>) -> ModelError {
        let kind = self.kind();
        let label = match &self.error_type {
            Some(kind) => format!("{} {kind}", self.status),
            None => self.status.to_string(),
        };
        let message = redact(&format!("{provider}: {label}: {}", self.message), key);
        ModelError::new(kind, message).with_retry_after(self.retry_after)
    }
}

/// The first 500 characters of a body, on one line.
fn excerpt(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(500) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

/// The delay a response asks for: `retry-after-ms` (milliseconds), else `retry-after`
/// (seconds, possibly fractional, or an HTTP date).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let at =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = at - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// Sends a request, mapping a transport failure to a `Failed` error.
pub(super) async fn send(
    request: reqwest::RequestBuilder,
    provider: &str,
    url: &str,
) -> Result<reqwest::Response, ModelError> {
    request.send().await.map_err(|error| {
        ModelError::new(
            ModelErrorKind::Failed,
            format!("{provider}: could not reach {url}: {}", chain(&error)),
        )
    })
}

/// An error and its sources, joined with `: `.
pub(super) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

/// The error of a call that took longer than its timeout.
pub(super) fn timed_out(provider: &str, timeout: Duration) -> ModelError {
    ModelError::new(
        ModelErrorKind::Failed,
        format!(
            "{provider}: the model request timed out after {}",
            human(timeout)
        ),
    )
}

/// A duration as `1.5 s` or `250 ms`.
fn human(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{} s", duration.as_secs_f64())
    }
}

/// One server-sent event: its `event:` name (if any) and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SseEvent {
    /// The event name.
    pub(super) event: Option<String>,
    /// The data.
    pub(super) data: String,
}

/// An incremental decoder of a `text/event-stream` body, fed chunks at any boundaries.
#[derive(Debug, Default)]
pub(super) struct SseDecoder {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// Whether the last byte seen was a `\r` (a `\n` right after it ends no new line).
    after_cr: bool,
    event: Option<String>,
    data: Vec<String>,
}

impl SseDecoder {
    /// Feeds bytes; returns the events they complete.
    pub(super) fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in bytes {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.line_done(&String::from_utf8_lossy(&line)) {
                        events.push(event);
                    }
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(byte);
                }
            }
        }
        events
    }

    /// Ends the stream: an event left without its blank line is still dispatched.
    pub(super) fn finish(&mut self) -> Option<SseEvent> {
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            if let Some(event) = self.line_done(&String::from_utf8_lossy(&line)) {
                return Some(event);
            }
        }
        self.line_done("")
    }

    fn line_done(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = self.event.take();
            if self.data.is_empty() {
                return None;
            }
            let data = std::mem::take(&mut self.data).join("\n");
            return Some(SseEvent { event, data });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => self.data.push(value.to_owned()),
            _ => {}
        }
        None
    }
}

/// Reads a streamed response to its end as server-sent events, handing each to `on_event`
/// (which returns `false` to stop reading). Fails when the connection breaks.
pub(super) async fn read_events(
    mut response: reqwest::Response,
    provider: &str,
    mut on_event: impl FnMut(SseEvent) -> Result<bool, ModelError>,
) -> Result<(), ModelError> {
    let mut decoder = SseDecoder::default();
    loop {
        let chunk = response.chunk().await.map_err(|error| {
            ModelError::new(
                ModelErrorKind::Failed,
                format!(
                    "{provider}: the response stream broke off: {}",
                    chain(&error)
                ),
            )
        })?;
        let Some(chunk) = chunk else {
            if let Some(event) = decoder.finish() {
                on_event(event)?;
            }
            return Ok(());
        };
        for event in decoder.push(&chunk) {
            if !on_event(event)? {
                return Ok(());
            }
        }
    }
}

/// Runs `call` with a deadline of `timeout` from now.
pub(super) async fn with_timeout<T>(
    provider: &str,
    timeout: Duration,
    call: impl Future<Output = Result<T, ModelError>>,
) -> Result<T, ModelError> {
    match tokio::time::timeout_at(Instant::now() + timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(provider, timeout)),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn sse_events_survive_any_chunking() {
        let body = "event: message_start\r\ndata: {\"a\":1}\r\n\r\n: comment\n\nevent: ping\ndata: {}\n\ndata: x\ndata:y\n\ndata: [DONE]";
        let expected = vec![
            SseEvent {
                event: Some("message_start".into()),
                data: "{\"a\":1}".into(),
            },
            SseEvent {
                event: Some("ping".into()),
                data: "{}".into(),
            },
            SseEvent {
                event: None,
                data: "x\ny".into(),
            },
            SseEvent {
                event: None,
                data: "[DONE]".into(),
            },
        ];
        for size in 1..body.len() {
            let mut decoder = SseDecoder::default();
            let mut events = Vec::new();
            for chunk in body.as_bytes().chunks(size) {
                events.extend(decoder.push(chunk));
            }
            events.extend(decoder.finish());
            assert_eq!(events, expected, "chunks of {size}");
        }
    }

    #[test]
    fn retry_after_reads_milliseconds_seconds_and_dates() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_str(value).unwrap());
            }
            map
        };
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&headers(&[
                ("retry-after", "0.5"),
                ("retry-after-ms", "1500")
            ])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn keys_are_redacted_and_hidden_from_debug() {
        let key = ApiKey::new("sk-ant-secret-123");
        assert_eq!(
            redact("bad key sk-ant-secret-123 given", Some(&key)),
            "bad key [redacted] given"
        );
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        assert!(is_loopback(&base_url("http://127.0.0.1:9/").unwrap()));
        assert!(is_loopback(&base_url("http://[::1]:9").unwrap()));
        assert!(is_loopback(&base_url("http://LOCALHOST:11434/v1").unwrap()));
        assert!(!is_loopback(
            &base_url("https://api.anthropic.com").unwrap()
        ));
        assert!(base_url("ftp://x").is_err());
        assert_eq!(
            endpoint(&base_url("http://h:1/v1/").unwrap(), "/chat/completions"),
            "http://h:1/v1/chat/completions"
        );
    }
}
