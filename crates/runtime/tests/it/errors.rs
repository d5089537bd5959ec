//! Error responses parsed into `Error`.

use http::StatusCode;
use pretty_assertions::assert_eq;
use serde_json::Value;
use steward_core::ErrorType;
use steward_runtime::Error;

use crate::support::{json, serve};

#[tokio::test]
async fn api_errors_keep_status_type_message_and_request_id() {
    let server = serve(|_, _| async {
        json(
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"agent agent_x not found"},"request_id":"req_body"}"#,
            &[("request-id", "req_011CZ")],
        )
    })
    .await;
    let error = server
        .client()
        .get::<Value>("/v1/agents/agent_x")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(error.error_type(), Some(&ErrorType::NotFound));
    assert_eq!(error.request_id(), Some("req_011CZ"));
    let Error::Api(info) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(info.message, "agent agent_x not found");
    assert_eq!(
        error.to_string(),
        "api returned 404 not_found_error: agent agent_x not found (request-id req_011CZ)"
    );
    assert_eq!(server.hits(), 1, "404 is not retried");
}

#[tokio::test]
async fn error_details_and_conflict_fields_survive() {
    let server = serve(|_, _| async {
        json(
            409,
            r#"{"type":"error","error":{"type":"memory_path_conflict_error","message":"taken","conflicting_memory_id":"mem_1","conflicting_path":"/a"},"request_id":"req_9"}"#,
            &[("x-should-retry", "false")],
        )
    })
    .await;
    let error = server
        .client()
        .post::<_, Value>("/v1/memory_stores/m/memories", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        error.request_id(),
        Some("req_9"),
        "from the body without a header"
    );
    let api = error.api().unwrap().error.clone().unwrap();
    assert_eq!(api.conflicting_memory_id.as_deref(), Some("mem_1"));
    assert_eq!(api.error_type, ErrorType::MemoryPathConflict);
}

#[tokio::test]
async fn non_json_error_bodies_are_kept_as_text() {
    let server = serve(|_, _| async {
        axum::response::Response::builder()
            .status(502)
            .body(axum::body::Body::from("<html>bad gateway</html>"))
            .unwrap()
    })
    .await;
    let client = server.builder().max_retries(0).build().unwrap();
    let error = client.get::<Value>("/v1/agents").await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(error.error_type(), None);
    assert_eq!(error.api().unwrap().message, "<html>bad gateway</html>");
}

#[tokio::test]
async fn a_wrong_success_body_is_a_decode_error() {
    let server = serve(|_, _| async { json(200, r#"{"id": 5}"#, &[]) }).await;
    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "only decoding is tested")]
    struct Agent {
        id: String,
    }
    let error = server
        .client()
        .request(http::Method::GET, "/v1/agents/agent_1")
        .route("/v1/agents/{agent_id}")
        .send::<Agent>()
        .await
        .unwrap_err();
    let Error::Decode { what, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(what, "response of GET /v1/agents/{agent_id}");
    assert_eq!(server.hits(), 1, "decode errors are not retried");
}

#[tokio::test]
async fn the_key_is_not_in_any_error() {
    let server = serve(|_, _| async { json(401, "{}", &[]) }).await;
    let client = server
        .builder()
        .api_key("sk-ant-hidden-777")
        .build()
        .unwrap();
    let error = client.get::<Value>("/v1/agents").await.unwrap_err();
    assert!(!format!("{error} {error:?} {client:?}").contains("hidden-777"));
    assert_eq!(server.request(0).headers["x-api-key"], "sk-ant-hidden-777");
}
