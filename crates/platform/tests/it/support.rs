//! Shared fixture: an ephemeral platform in a temporary directory and a client holding its key.

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;
use steward_platform::{Platform, PlatformHandle};

/// A running platform and a client that authenticates to it.
pub(crate) struct TestPlatform {
    pub(crate) handle: PlatformHandle,
    pub(crate) client: reqwest::Client,
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl TestPlatform {
    /// Starts a platform on a free port in a fresh temporary directory.
    pub(crate) async fn start() -> Self {
        Self::from_handle(Platform::builder().start_ephemeral().await.unwrap())
    }

    /// Wraps a running platform with an authenticated client.
    pub(crate) fn from_handle(handle: PlatformHandle) -> Self {
        let client = client_with_key(handle.api_key());
        Self { handle, client }
    }

    /// Full URL of a path (`/v1/agents`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        read(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Response {
        read(
            self.client
                .post(self.url(path))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A POST without a body, as the SDK sends archive.
    pub(crate) async fn post_empty(&self, path: &str) -> Response {
        read(self.client.post(self.url(path)).send().await.unwrap()).await
    }

    /// A POST with a raw body and content type.
    pub(crate) async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Response {
        read(
            self.client
                .post(self.url(path))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub(crate) async fn delete(&self, path: &str) -> Response {
        read(self.client.delete(self.url(path)).send().await.unwrap()).await
    }

    /// Follows `next_page` from the first page of `path` (which may carry a query) to the end;
    /// returns every page.
    pub(crate) async fn walk(&self, path: &str) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut pages = vec![self.get(path).await.ok()];
        while let Some(next) = pages.last().unwrap()["next_page"].as_str() {
            let next = format!("{path}{separator}page={next}");
            pages.push(self.get(&next).await.ok());
            assert!(pages.len() < 100, "pagination does not end");
        }
        pages
    }

    /// A session's events in order (the first 1,000).
    pub(crate) async fn history(&self, session: &str) -> Vec<Value> {
        let page = self
            .get(&format!("/v1/sessions/{session}/events?limit=1000"))
            .await
            .ok();
        page["data"].as_array().unwrap().clone()
    }

    /// Sends events to a session; returns how many events its history then holds at least.
    pub(crate) async fn send_events(&self, session: &str, events: Value) -> usize {
        let before = self.history(session).await.len();
        let sent = events.as_array().unwrap().len();
        self.post(
            &format!("/v1/sessions/{session}/events"),
            serde_json::json!({ "events": events }),
        )
        .await
        .ok();
        before + sent
    }

    /// Waits, for at most `patience`, until the history holds more than `after` events, ends
    /// with a `session.status_idle`, and stays so for 100 ms; returns it. `what` names the case
    /// in the failure message.
    pub(crate) async fn wait_idle(
        &self,
        session: &str,
        after: usize,
        patience: std::time::Duration,
        what: &str,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let history = self.history(session).await;
            if history.len() > after && history.last().unwrap()["type"] == "session.status_idle" {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                if self.history(session).await == history {
                    return history;
                }
                continue;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}the session never went idle: {history:#?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The `id` of an object.
pub(crate) fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

/// A client that sends `Authorization: Bearer <key>` on every request.
pub(crate) fn client_with_key(key: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {key}")).unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Reads a response; a non-JSON body is a test failure.
pub(crate) async fn read(response: reqwest::Response) -> Response {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {status} {text}"))
    };
    Response {
        status,
        headers,
        body,
    }
}

impl Response {
    /// Asserts a 200 and returns the body.
    #[track_caller]
    pub(crate) fn ok(self) -> Value {
        assert_eq!(
            self.status, 200,
            "expected 200, got {}: {}",
            self.status, self.body
        );
        assert!(self.headers.contains_key("request-id"));
        self.body
    }

    /// Asserts an error in the API's shape with this status and `error.type`, and that the
    /// body's `request_id` matches the `request-id` header. Returns the message.
    #[track_caller]
    pub(crate) fn error(&self, status: u16, error_type: &str) -> String {
        assert_eq!(self.status, status, "unexpected status: {}", self.body);
        assert_eq!(self.body["type"], "error", "{}", self.body);
        assert_eq!(self.body["error"]["type"], error_type, "{}", self.body);
        let header = self.headers["request-id"].to_str().unwrap();
        assert!(header.starts_with("req_"), "{header}");
        assert_eq!(self.body["request_id"], header);
        assert_eq!(self.headers["content-type"], "application/json");
        self.body["error"]["message"].as_str().unwrap().to_owned()
    }

    /// `error.details.error_code`.
    pub(crate) fn error_code(&self) -> &str {
        self.body["error"]["details"]["error_code"]
            .as_str()
            .unwrap_or("")
    }
}
