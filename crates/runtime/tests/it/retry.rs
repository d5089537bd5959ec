//! Retries, timeouts and the concurrency limit against real sockets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_runtime::{Error, RetryPolicy, RetrySafety, TimeoutScope};

use crate::support::{closed_port_url, json, serve, serve_raw};

const OK: &str = r#"{"ok":true}"#;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test]
async fn retries_429_after_the_retry_after_header() {
    let server = serve(|_, i| async move {
        if i == 0 {
            json(429, "{}", &[("retry-after", "0.3")])
        } else {
            json(200, OK, &[])
        }
    })
    .await;
    // The computed backoff is far longer than the header, so a quick success shows the header
    // was obeyed; a create (not idempotent) is retried because 429 means "not processed".
    let client = server
        .builder()
        .retry_policy(RetryPolicy::default().initial_delay(Duration::from_secs(30)))
        .build()
        .unwrap();
    let start = Instant::now();
    let got: Value = client.post("/v1/sessions", &json!({})).await.unwrap();
    let elapsed = start.elapsed();
    assert_eq!(got, json!({"ok": true}));
    assert_eq!(server.hits(), 2);
    assert!(
        elapsed >= ms(300) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    assert_eq!(
        server.request(0).body,
        server.request(1).body,
        "same body resent"
    );
}

#[tokio::test]
async fn retry_after_ms_wins_over_retry_after() {
    let server = serve(|_, i| async move {
        if i == 0 {
            json(
                503,
                "{}",
                &[("retry-after-ms", "50"), ("retry-after", "30")],
            )
        } else {
            json(200, OK, &[])
        }
    })
    .await;
    let start = Instant::now();
    let _: Value = server.client().get("/v1/agents").await.unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn retries_529_overloaded_even_for_a_create() {
    let server = serve(|_, i| async move {
        if i < 2 {
            json(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
                &[],
            )
        } else {
            json(200, OK, &[])
        }
    })
    .await;
    let _: Value = server
        .client()
        .post("/v1/agents", &json!({"name": "a"}))
        .await
        .unwrap();
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn retries_5xx_for_idempotent_requests_until_the_budget_runs_out() {
    let server = serve(|_, _| async { json(500, "{}", &[("request-id", "req_5")]) }).await;
    let error = server
        .client()
        .get::<Value>("/v1/agents")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(error.request_id(), Some("req_5"));
    assert_eq!(server.hits(), 3, "one attempt and two retries");

    let server = serve(|_, i| async move {
        if i == 0 {
            json(502, "{}", &[])
        } else {
            json(200, OK, &[])
        }
    })
    .await;
    let _: Value = server
        .client()
        .request(Method::POST, "/v1/agents/agent_1")
        .json(&json!({"name": "b"}))
        .retry_safety(RetrySafety::Idempotent)
        .send()
        .await
        .unwrap();
    assert_eq!(server.hits(), 2, "an update is idempotent");
}

#[tokio::test]
async fn does_not_retry_5xx_of_a_create() {
    let server = serve(|_, _| async { json(500, "{}", &[]) }).await;
    let error = server
        .client()
        .post::<_, Value>("/v1/sessions/sesn_1/events", &json!({"events": []}))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn x_should_retry_false_stops_retries() {
    let server = serve(|_, _| async { json(429, "{}", &[("x-should-retry", "false")]) }).await;
    let error = server
        .client()
        .get::<Value>("/v1/agents")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn x_should_retry_true_forces_a_retry() {
    let server = serve(|_, i| async move {
        if i == 0 {
            json(400, "{}", &[("x-should-retry", "true")])
        } else {
            json(200, OK, &[])
        }
    })
    .await;
    let _: Value = server.client().get("/v1/agents").await.unwrap();
    assert_eq!(server.hits(), 2);
}

const RESPONSE_OK: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}";

#[tokio::test]
async fn retries_a_dropped_connection_for_a_get() {
    let server = serve_raw(vec![None, Some(RESPONSE_OK)]).await;
    let client = steward_runtime::Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .retry_policy(crate::support::fast_retries())
        .build()
        .unwrap();
    let got: Value = client.get("/v1/agents").await.unwrap();
    assert_eq!(got, json!({"ok": true}));
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn does_not_retry_a_dropped_connection_for_a_create() {
    let server = serve_raw(vec![None, Some(RESPONSE_OK)]).await;
    let client = steward_runtime::Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .retry_policy(crate::support::fast_retries())
        .build()
        .unwrap();
    let error = client
        .post::<_, Value>("/v1/sessions", &json!({"agent": "agent_1"}))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    tokio::time::sleep(ms(100)).await;
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connect_errors_are_retried_and_reported() {
    let url = closed_port_url().await;
    let client = steward_runtime::Client::builder()
        .api_key("k")
        .base_url(&url)
        .retry_policy(crate::support::fast_retries())
        .build()
        .unwrap();
    let error = client
        .post::<_, Value>("/v1/sessions", &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Connect(_)), "{error:?}");
    assert!(error.is_not_sent());
}

#[tokio::test]
async fn per_attempt_timeout_cuts_a_slow_response_and_retries() {
    let server = serve(|_, i| async move {
        if i == 0 {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        json(200, OK, &[])
    })
    .await;
    let client = server.builder().timeout(ms(200)).build().unwrap();
    let start = Instant::now();
    let _: Value = client.get("/v1/agents").await.unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn does_not_retry_a_create_after_a_timeout() {
    let server = serve(|_, _| async {
        tokio::time::sleep(ms(400)).await;
        json(200, OK, &[])
    })
    .await;
    let client = server.builder().timeout(ms(100)).build().unwrap();
    let error = client
        .post::<_, Value>("/v1/sessions", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Timeout { scope: TimeoutScope::Attempt, after } if after == ms(100)),
        "{error:?}"
    );
    tokio::time::sleep(ms(300)).await;
    assert_eq!(server.hits(), 1, "the server may have processed it");
}

#[tokio::test]
async fn total_timeout_covers_every_attempt() {
    let server = serve(|_, _| async {
        tokio::time::sleep(ms(150)).await;
        json(500, "{}", &[])
    })
    .await;
    let client = server
        .builder()
        .max_retries(10)
        .total_timeout(ms(400))
        .build()
        .unwrap();
    let start = Instant::now();
    let error = client.get::<Value>("/v1/agents").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                scope: TimeoutScope::Total,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!((2..=3).contains(&server.hits()), "{}", server.hits());
}

#[tokio::test]
async fn concurrency_limit_bounds_requests_in_flight() {
    let current = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (c, p) = (current.clone(), peak.clone());
    let server = serve(move |_, _| {
        let (c, p) = (c.clone(), p.clone());
        async move {
            let now = c.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(ms(50)).await;
            c.fetch_sub(1, Ordering::SeqCst);
            json(200, OK, &[])
        }
    })
    .await;
    let client = server.builder().concurrency_limit(2).build().unwrap();
    let calls = (0..6).map(|_| {
        let client = client.clone();
        async move { client.get::<Value>("/v1/agents").await }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(server.hits(), 6);
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}
