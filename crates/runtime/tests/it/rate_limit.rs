//! The client-wide rate limiter, with a transport double under paused time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::join_all;
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use steward_runtime::http::rate_limit::{Budget, RateLimit};
use steward_runtime::{ApiRequest, ApiResponse, Client, Error};
use tokio::time::Instant;

/// When each attempt left (since the client was built), by method.
type Sent = Arc<Mutex<Vec<(Method, Duration)>>>;

/// A client whose transport records when each attempt left.
fn client(limit: RateLimit) -> (Client, Sent) {
    let start = Instant::now();
    let sent = Sent::default();
    let log = sent.clone();
    let transport = tower::service_fn(move |request: ApiRequest| {
        log.lock().unwrap().push((request.method, start.elapsed()));
        async { Ok::<_, Error>(ApiResponse::new(StatusCode::OK, HeaderMap::new(), "{}")) }
    });
    let client = Client::builder()
        .api_key("k")
        .transport(transport)
        .rate_limit(limit)
        .build()
        .unwrap();
    (client, sent)
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_reads_is_paced_and_spread_across_clones() {
    let (client, sent) = client(
        RateLimit::new()
            .reads(Budget::per_minute(60).burst(5))
            .creates(Budget::per_minute(6).burst(1)),
    );
    let reads = (0..20).map(|_| {
        let client = client.clone();
        async move { client.get::<Value>("/v1/agents").await.unwrap() }
    });
    let creates = (0..2).map(|_| {
        let client = client.clone();
        async move {
            client
                .post::<_, Value>("/v1/agents", &serde_json::json!({}))
                .await
                .unwrap()
        }
    });
    let (_, _) = tokio::join!(join_all(reads), join_all(creates));

    let sent = sent.lock().unwrap().clone();
    let mut gets: Vec<Duration> = sent
        .iter()
        .filter(|(m, _)| m == Method::GET)
        .map(|(_, t)| *t)
        .collect();
    gets.sort_unstable();
    assert_eq!(gets.len(), 20);
    let second = Duration::from_secs(1);
    for (k, at) in gets.iter().enumerate() {
        if k < 5 {
            assert_eq!(*at, Duration::ZERO, "the burst goes at once");
        } else {
            // Token k is due at (k-4) s; jitter adds less than one interval.
            let due = second * (k as u32 - 4);
            assert!(*at >= due && *at < due + second, "read {k} at {at:?}");
        }
    }
    let spread = gets[5..].windows(2).all(|w| w[0] < w[1]);
    assert!(spread, "waiting reads leave one by one: {gets:?}");

    let posts: Vec<Duration> = sent
        .iter()
        .filter(|(m, _)| m == Method::POST)
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0], Duration::ZERO, "creates have their own bucket");
    assert!(posts[1] >= Duration::from_secs(10), "{posts:?}");
}

#[tokio::test(start_paused = true)]
async fn unlimited_classes_and_no_jitter_when_a_token_is_there() {
    let (client, sent) = client(RateLimit::new().creates(Budget::per_minute(1)));
    for _ in 0..10 {
        client.get::<Value>("/v1/agents").await.unwrap();
        client.delete::<Value>("/v1/agents/a").await.unwrap();
    }
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 20);
    assert!(
        sent.iter().all(|(_, t)| t.is_zero()),
        "reads and writes are not limited"
    );
}
