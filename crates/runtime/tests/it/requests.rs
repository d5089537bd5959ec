//! What goes on the wire: headers, bodies, query strings, layers.

use std::sync::{Arc, Mutex};

use http::Method;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_runtime::http::{ApiRequest, HttpService};
use steward_runtime::{Client, RetrySafety};
use tower::ServiceExt;

use crate::support::{json, serve};

#[tokio::test]
async fn every_call_sends_auth_version_and_beta() {
    let server = serve(|_, _| async { json(200, r#"{"ok":true}"#, &[]) }).await;
    let client = server.client();

    let got: Value = client.get("/v1/agents/agent_1").await.unwrap();
    assert_eq!(got, json!({"ok": true}));
    let _: Value = client
        .request(Method::GET, "/v1/memory_stores/memstore_1")
        .beta(steward_core::AGENT_MEMORY_BETA)
        .send()
        .await
        .unwrap();

    let first = server.request(0);
    assert_eq!(first.method, Method::GET);
    assert_eq!(first.path, "/v1/agents/agent_1");
    assert_eq!(first.headers["x-api-key"], "sk-ant-test-key");
    assert_eq!(first.headers["anthropic-version"], "2026-10-21");
    assert_eq!(
        first.headers["anthropic-version"],
        steward_core::ANTHROPIC_VERSION
    );
    assert_eq!(first.headers["anthropic-beta"], "managed-agents-2026-04-01");
    assert_eq!(first.headers["accept"], "application/json");
    assert!(first.headers.get("content-type").is_none());
    assert!(first.headers.get("authorization").is_none());
    assert_eq!(
        server.request(1).headers["anthropic-beta"],
        "agent-memory-2026-07-22"
    );
}

#[tokio::test]
async fn client_betas_come_first_and_extra_headers_are_sent() {
    let server = serve(|_, _| async { json(200, "{}", &[]) }).await;
    let client = server
        .builder()
        .beta("files-api-2025-04-14")
        .header("anthropic-workspace-id", "wrkspc_1")
        .build()
        .unwrap();
    let _: Value = client.get("/v1/sessions").await.unwrap();
    let seen = server.request(0);
    assert_eq!(
        seen.headers["anthropic-beta"],
        "files-api-2025-04-14,managed-agents-2026-04-01"
    );
    assert_eq!(seen.headers["anthropic-workspace-id"], "wrkspc_1");
}

#[tokio::test]
async fn bearer_tokens_replace_the_api_key() {
    let server = serve(|_, _| async { json(200, "null", &[]) }).await;
    let client = Client::builder()
        .auth_token("sk-ant-req-token")
        .base_url(&server.url)
        .build()
        .unwrap();
    let got: Option<Value> = client
        .get("/v1/environments/env_1/work/poll")
        .await
        .unwrap();
    assert_eq!(got, None, "a `null` body decodes");
    let seen = server.request(0);
    assert_eq!(seen.headers["authorization"], "Bearer sk-ant-req-token");
    assert!(seen.headers.get("x-api-key").is_none());
}

#[tokio::test]
async fn post_sends_json_and_post_empty_sends_no_body() {
    let server = serve(|_, _| async { json(200, r#"{"id":"agent_1"}"#, &[]) }).await;
    let client = server.client();
    let _: Value = client
        .post(
            "/v1/agents",
            &json!({"name": "a", "model": "claude-opus-4-7"}),
        )
        .await
        .unwrap();
    let _: Value = client
        .post_empty("/v1/agents/agent_1/archive")
        .await
        .unwrap();
    let _: Value = client.delete("/v1/environments/env_1").await.unwrap();

    let create = server.request(0);
    assert_eq!(create.method, Method::POST);
    assert_eq!(create.headers["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body, json!({"name": "a", "model": "claude-opus-4-7"}));

    let archive = server.request(1);
    assert_eq!(archive.method, Method::POST);
    assert!(archive.body.is_empty());
    assert!(archive.headers.get("content-type").is_none());
    assert_eq!(
        archive
            .headers
            .get("content-length")
            .map(|v| v.to_str().unwrap()),
        Some("0"),
        "no body at all"
    );
    assert_eq!(server.request(2).method, Method::DELETE);
}

#[tokio::test]
async fn query_strings_are_encoded_like_the_sdk() {
    let server = serve(|_, _| async { json(200, "{}", &[]) }).await;
    let client = server.client();
    let _: Value = client
        .get_with_query(
            "/v1/sessions",
            &json!({
                "statuses": ["idle", "running"],
                "created_at": {"gte": "2026-01-01T00:00:00Z"},
                "include_archived": false,
                "limit": 2,
                "agent_id": null,
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        server.request(0).query.as_deref(),
        Some(
            "statuses%5B%5D=idle&statuses%5B%5D=running&created_at%5Bgte%5D=2026-01-01T00%3A00%3A00Z\
             &include_archived=false&limit=2&agent_id="
        )
    );

    #[derive(serde::Serialize)]
    struct Params {
        #[serde(rename = "types[]")]
        types: Vec<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        page: Option<String>,
    }
    let _: Value = client
        .get_with_query(
            "/v1/sessions/sesn_1/events",
            &Params {
                types: vec!["agent.message"],
                page: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        server.request(1).query.as_deref(),
        Some("types%5B%5D=agent.message")
    );
}

#[tokio::test]
async fn user_layers_see_every_attempt_but_never_the_key() {
    let server = serve(|_, i| async move {
        if i == 0 {
            json(500, "{}", &[])
        } else {
            json(200, "{}", &[])
        }
    })
    .await;
    let seen: Arc<Mutex<Vec<(u32, bool, String)>>> = Arc::default();
    let log = seen.clone();
    let client = server
        .builder()
        .layer(tower::layer::layer_fn(move |inner: HttpService| {
            let log = log.clone();
            HttpService::new(tower::service_fn(move |mut request: ApiRequest| {
                log.lock().unwrap().push((
                    request.attempt,
                    request.headers.contains_key("x-api-key"),
                    request.route.to_string(),
                ));
                request.headers.insert("x-layer", "1".parse().unwrap());
                inner.clone().oneshot(request)
            }))
        }))
        .build()
        .unwrap();
    let _: Value = client
        .request(Method::GET, "/v1/agents/agent_9")
        .route("/v1/agents/{agent_id}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (1, false, "/v1/agents/{agent_id}".to_owned()),
            (2, false, "/v1/agents/{agent_id}".to_owned())
        ]
    );
    assert_eq!(server.request(1).headers["x-layer"], "1");
    assert_eq!(server.request(1).headers["x-api-key"], "sk-ant-test-key");
}

#[tokio::test]
async fn a_custom_transport_replaces_reqwest() {
    let transport = tower::service_fn(|request: ApiRequest| async move {
        assert_eq!(request.headers["x-api-key"], "k");
        assert_eq!(request.retry_safety, RetrySafety::NotIdempotent);
        let body = format!(r#"{{"url":"{}"}}"#, request.url);
        Ok(steward_runtime::ApiResponse::new(
            http::StatusCode::OK,
            http::HeaderMap::new(),
            body,
        ))
    });
    let client = Client::builder()
        .api_key("k")
        .base_url("http://in-process")
        .transport(transport)
        .build()
        .unwrap();
    let got: Value = client.post("/v1/vaults", &json!({})).await.unwrap();
    assert_eq!(got, json!({"url": "http://in-process/v1/vaults"}));
}
