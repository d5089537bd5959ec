//! The shared machinery: auth, error shapes, limits, request IDs, restart, the in-process router.

use serde_json::json;
use steward_platform::Platform;
use tower::ServiceExt;

use crate::support::{TestPlatform, client_with_key, read};

#[tokio::test]
async fn requests_without_a_valid_key_get_401_in_the_api_shape() {
    let platform = TestPlatform::start().await;
    let anonymous = reqwest::Client::new();
    let url = platform.url("/v1/agents");

    let missing = read(anonymous.get(&url).send().await.unwrap()).await;
    let message = missing.error(401, "authentication_error");
    assert!(message.contains("Authorization: Bearer"), "{message}");

    for request in [
        anonymous.get(&url).bearer_auth("sk-steward-wrong"),
        anonymous.get(&url).header("x-api-key", "sk-steward-wrong"),
        anonymous.get(&url).header("authorization", "Basic abc"),
    ] {
        let wrong = read(request.send().await.unwrap()).await;
        wrong.error(401, "authentication_error");
    }

    // Both header forms are accepted.
    let key = platform.handle.api_key();
    let bearer = read(anonymous.get(&url).bearer_auth(key).send().await.unwrap()).await;
    assert_eq!(bearer.ok()["data"], json!([]));
    let x_api_key = read(
        anonymous
            .get(&url)
            .header("x-api-key", key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(x_api_key.ok()["next_page"], json!(null));
}

#[tokio::test]
async fn the_first_start_writes_the_key_file_readable_only_by_its_owner() {
    let platform = TestPlatform::start().await;
    let path = platform.handle.api_key_file();
    let stored = std::fs::read_to_string(&path).unwrap();
    assert_eq!(stored.trim(), platform.handle.api_key());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The database stores a hash, never the key.
    let db = std::fs::read(platform.handle.data_dir().join("platform.db")).unwrap();
    let key = platform.handle.api_key().as_bytes();
    assert!(!db.windows(key.len()).any(|w| w == key));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_api_shape() {
    let platform = TestPlatform::start().await;
    let response = platform.get("/v1/nothing/here").await;
    let message = response.error(404, "not_found_error");
    assert!(message.contains("/v1/nothing/here"), "{message}");

    let response = platform.delete("/v1/agents").await;
    let message = response.error(405, "invalid_request_error");
    assert!(message.contains("DELETE"), "{message}");
    let response = platform
        .post("/v1/agents/agent_x/versions", json!({}))
        .await;
    response.error(405, "invalid_request_error");
}

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_problem() {
    let platform = TestPlatform::start().await;
    let response = platform.post_raw("/v1/agents", "{\"name\": ").await;
    let message = response.error(400, "invalid_request_error");
    assert!(message.starts_with("invalid JSON body"), "{message}");

    let response = platform.post_raw("/v1/agents", "").await;
    assert!(
        response
            .error(400, "invalid_request_error")
            .contains("empty")
    );

    let response = read(
        platform
            .client
            .post(platform.url("/v1/agents"))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        response
            .error(400, "invalid_request_error")
            .contains("Content-Type")
    );

    let response = read(
        platform
            .client
            .post(platform.url("/v1/agents"))
            .header("content-type", "application/json; charset=utf-16")
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "unsupported_charset");
}

#[tokio::test]
async fn oversize_bodies_are_413_in_the_api_shape() {
    let platform = TestPlatform::start().await;
    let big = format!(
        "{{\"name\": \"a\", \"model\": \"m\", \"system\": \"{}\"}}",
        "x".repeat(2 * 1024 * 1024 + 1)
    );
    let response = platform.post_raw("/v1/agents", big).await;
    let message = response.error(413, "invalid_request_error");
    assert!(message.contains("2097152"), "{message}");
    assert_eq!(response.error_code(), "request_too_large");

    // Just under the limit is fine.
    let fits = json!({"name": "a", "model": "m", "system": "x".repeat(1024 * 1024)});
    platform.post("/v1/agents", fits).await.ok();
}

#[tokio::test]
async fn every_response_carries_a_distinct_request_id() {
    let platform = TestPlatform::start().await;
    let first = platform.get("/v1/agents").await;
    let second = platform.get("/v1/agents").await;
    let a = first.headers["request-id"].to_str().unwrap().to_owned();
    let b = second.headers["request-id"].to_str().unwrap().to_owned();
    assert!(a.starts_with("req_") && b.starts_with("req_"));
    assert_ne!(a, b);
    let failed = platform.get("/v1/agents/agent_missing").await;
    failed.error(404, "not_found_error");
}

#[tokio::test]
async fn data_survives_a_restart_on_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = TestPlatform::from_handle(
        Platform::builder()
            .data_dir(dir.path())
            .start_ephemeral()
            .await
            .unwrap(),
    );
    let agent = first
        .post(
            "/v1/agents",
            json!({"name": "keeper", "model": "claude-sonnet-4-6"}),
        )
        .await
        .ok();
    let agent = first
        .post(
            &format!("/v1/agents/{}", agent["id"].as_str().unwrap()),
            json!({"system": "be brief"}),
        )
        .await
        .ok();
    let environment = first
        .post(
            "/v1/environments",
            json!({"name": "box", "config": {"type": "self_hosted"}}),
        )
        .await
        .ok();
    let key = first.handle.api_key().to_owned();
    first.handle.shutdown().await;

    let second = TestPlatform::from_handle(
        Platform::builder()
            .data_dir(dir.path())
            .start_ephemeral()
            .await
            .unwrap(),
    );
    assert_eq!(second.handle.api_key(), key, "the key file is reused");
    let agent_path = format!("/v1/agents/{}", agent["id"].as_str().unwrap());
    assert_eq!(second.get(&agent_path).await.ok(), agent);
    assert_eq!(
        second.get(&format!("{agent_path}/versions")).await.ok()["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let env_path = format!("/v1/environments/{}", environment["id"].as_str().unwrap());
    assert_eq!(second.get(&env_path).await.ok(), environment);
    second.handle.shutdown().await;
    assert!(
        dir.path().join("platform.db").exists(),
        "a given data dir is kept"
    );
}

#[tokio::test]
async fn an_ephemeral_directory_is_removed_at_shutdown() {
    let platform = TestPlatform::start().await;
    let dir = platform.handle.data_dir().to_path_buf();
    assert!(dir.join("platform.db").exists());
    platform.handle.shutdown().await;
    assert!(!dir.exists());
}

#[tokio::test]
async fn a_seeded_key_and_cli_created_keys_authenticate() {
    let handle = Platform::builder()
        .api_key("sk-steward-seeded-for-tests")
        .start_ephemeral()
        .await
        .unwrap();
    assert_eq!(handle.api_key(), "sk-steward-seeded-for-tests");
    let platform = TestPlatform::from_handle(handle);
    platform.get("/v1/agents").await.ok();

    // `keys create` against the running platform's directory adds a key it accepts at once.
    let mut out = Vec::new();
    steward_platform::cli::run(
        steward_platform::cli::Command::Keys {
            command: steward_platform::cli::KeysCommand::Create {
                name: None,
                data_dir: steward_platform::cli::DataDirArg {
                    data_dir: Some(platform.handle.data_dir().to_path_buf()),
                },
            },
        },
        &mut out,
    )
    .await
    .unwrap();
    let new_key = String::from_utf8(out).unwrap().trim().to_owned();
    let client = client_with_key(&new_key);
    let response = read(
        client
            .get(platform.url("/v1/environments"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    response.ok();
}

#[tokio::test]
async fn the_router_works_in_process_with_oneshot() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::builder()
        .data_dir(dir.path())
        .open()
        .await
        .unwrap();
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/environments")
        .header("authorization", format!("Bearer {}", platform.api_key()))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"name": "in-process"}"#))
        .unwrap();
    let response = platform.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("request-id"));
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["name"], "in-process");

    let unauthenticated = axum::http::Request::builder()
        .uri("/v1/environments")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = platform.router().oneshot(unauthenticated).await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_key_file_survives_a_deleted_database_but_not_a_revoked_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = Platform::builder()
        .data_dir(dir.path())
        .open()
        .await
        .unwrap();
    let key = first.api_key().to_owned();
    drop(first);
    for file in ["platform.db", "platform.db-wal", "platform.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    let second = Platform::builder()
        .data_dir(dir.path())
        .open()
        .await
        .unwrap();
    assert_eq!(
        second.api_key(),
        key,
        "a fresh database adopts the key file"
    );
    drop(second);

    // Another key exists and the file's key is unknown: a new key replaces the file's.
    for file in ["platform.db", "platform.db-wal", "platform.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    let seeded = Platform::builder()
        .data_dir(dir.path())
        .api_key("sk-steward-other")
        .open()
        .await
        .unwrap();
    drop(seeded);
    std::fs::write(dir.path().join("api_key"), "sk-steward-revoked\n").unwrap();
    let third = Platform::builder()
        .data_dir(dir.path())
        .open()
        .await
        .unwrap();
    assert_ne!(third.api_key(), "sk-steward-revoked");
    let file = std::fs::read_to_string(dir.path().join("api_key")).unwrap();
    assert_eq!(file.trim(), third.api_key());
}

/// h2c (HTTP/2 with prior knowledge) is served on the same port as HTTP/1.1, with room for more
/// concurrent streams on one connection than hyper's default of 200: a client holding 300 event
/// streams on one connection still gets its other requests through, and shutdown still ends.
#[tokio::test]
async fn h2c_carries_hundreds_of_event_streams_on_one_connection() {
    use futures::StreamExt;
    use std::time::Duration;

    let platform = TestPlatform::start().await;
    let env = platform
        .post("/v1/environments", json!({"name": "h2c"}))
        .await
        .ok();
    let agent = platform
        .post(
            "/v1/agents",
            json!({"name": "h2c", "model": "claude-sonnet-4-6"}),
        )
        .await
        .ok();
    let session = platform
        .post(
            "/v1/sessions",
            json!({"agent": agent["id"], "environment_id": env["id"]}),
        )
        .await
        .ok();
    let session = session["id"].as_str().unwrap().to_owned();

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", platform.handle.api_key())
            .parse()
            .unwrap(),
    );
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .default_headers(headers)
        .build()
        .unwrap();
    let stream_url = platform.url(&format!("/v1/sessions/{session}/events/stream"));
    let opened = futures::future::join_all((0..300).map(|_| {
        let request = h2.get(&stream_url).send();
        async move { tokio::time::timeout(Duration::from_secs(30), request).await }
    }))
    .await;
    let mut streams = Vec::new();
    for response in opened {
        let response = response.expect("a stream did not open").unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        assert_eq!(response.status(), 200);
        streams.push(response.bytes_stream());
    }

    // With every stream open, a request on the same connection is not queued behind them.
    let sent = tokio::time::timeout(
        Duration::from_secs(10),
        h2.post(platform.url(&format!("/v1/sessions/{session}/events")))
            .json(&json!({"events": [{"type": "user.message",
                "content": [{"type": "text", "text": "over h2c"}]}]}))
            .send(),
    )
    .await
    .expect("a request behind 300 open streams was held up")
    .unwrap();
    assert_eq!(sent.status(), 200);
    assert_eq!(sent.version(), reqwest::Version::HTTP_2);

    // The last stream opened sees the message.
    let last = streams.last_mut().unwrap();
    let mut seen = String::new();
    while !seen.contains("over h2c") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), last.next())
            .await
            .expect("the stream saw nothing")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    // HTTP/1.1 clients (the official SDKs) are served beside it.
    let listed = platform.get("/v1/agents").await;
    assert_eq!(listed.ok()["data"].as_array().unwrap().len(), 1);

    tokio::time::timeout(Duration::from_secs(20), platform.handle.shutdown())
        .await
        .expect("shutdown hung with h2c streams open");
}
