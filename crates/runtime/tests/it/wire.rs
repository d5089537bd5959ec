//! Endpoints the local platform does not serve (session threads and their events, the
//! self-hosted work queue), checked against a test server that answers with the core fixtures
//! (the SDK's wire format): method, path, query, headers and body of every call, and the
//! decoded answer.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use futures::TryStreamExt;
use http::Method;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::event::{DeltaType, SessionEvent, StreamParams};
use steward_core::thread::{SessionThreadStatus, ThreadListParams};
use steward_core::work::{WorkHeartbeatParams, WorkPollParams, WorkStop, WorkUpdate};
use steward_core::{EnvironmentId, PageParams, SessionId, SessionThreadId, WorkId};

use crate::support::{Recorded, json, serve};

fn fixture(kind: &str, name: &str) -> String {
    let path = format!(
        "{}/../core/tests/fixtures/{kind}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn value(kind: &str, name: &str) -> Value {
    serde_json::from_str(&fixture(kind, name)).unwrap()
}

/// One call as the server saw it: method, path, query.
fn line(r: &Recorded) -> (Method, String, Option<String>) {
    (r.method.clone(), r.path.clone(), r.query.clone())
}

#[tokio::test]
async fn session_threads_list_retrieve_archive() {
    let thread = fixture("objects", "thread");
    let server = serve(move |request, _| {
        let thread = thread.clone();
        async move {
            match (request.method.as_str(), request.query.as_deref()) {
                ("GET", Some(q)) if q.contains("page=c2") => {
                    json(200, r#"{"data":[],"next_page":null}"#, &[])
                }
                ("GET", Some(_)) => json(
                    200,
                    &format!(r#"{{"data":[{thread}],"next_page":"c2"}}"#),
                    &[],
                ),
                _ => json(200, &thread, &[]),
            }
        }
    })
    .await;
    let client = server.client();
    let session = SessionId::new("sesn_1");
    let id = SessionThreadId::new("sthr_1");
    let threads = client.sessions().threads();

    let listed: Vec<_> = threads
        .list(
            &session,
            &ThreadListParams {
                limit: Some(5),
                statuses: vec![SessionThreadStatus::Running, SessionThreadStatus::Idle],
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        serde_json::to_value(&listed[0]).unwrap(),
        value("objects", "thread")
    );
    let fetched = threads.retrieve(&session, &id).await.unwrap();
    assert_eq!(fetched, listed[0]);
    let archived = threads.archive(&session, &id).await.unwrap();
    assert_eq!(archived, fetched);

    let seen: Vec<_> = (0..4).map(|i| line(&server.request(i))).collect();
    assert_eq!(
        seen,
        [
            (
                Method::GET,
                "/v1/sessions/sesn_1/threads".into(),
                Some("limit=5&statuses%5B%5D=running&statuses%5B%5D=idle".into())
            ),
            (
                Method::GET,
                "/v1/sessions/sesn_1/threads".into(),
                Some("limit=5&statuses%5B%5D=running&statuses%5B%5D=idle&page=c2".into())
            ),
            (
                Method::GET,
                "/v1/sessions/sesn_1/threads/sthr_1".into(),
                None
            ),
            (
                Method::POST,
                "/v1/sessions/sesn_1/threads/sthr_1/archive".into(),
                None
            ),
        ]
    );
    let archive = server.request(3);
    assert!(archive.body.is_empty(), "archive sends no body");
    assert_eq!(archive.headers["content-length"], "0");
    assert!(archive.headers.get("content-type").is_none());
    for i in 0..4 {
        assert_eq!(
            server.request(i).headers["anthropic-beta"],
            "managed-agents-2026-04-01"
        );
    }
}

#[tokio::test]
async fn session_thread_events_list_and_stream() {
    let message = value("events", "agent.message");
    let idle = value("events", "session.thread_status_idle");
    let page = json!({"data": [message, idle], "next_page": null}).to_string();
    let sse = [&message, &idle]
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect::<String>();
    let server = serve(move |request, _| {
        let (page, sse) = (page.clone(), sse.clone());
        async move {
            if request.path.ends_with("/stream") {
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from(format!(
                        ": hi\n\nevent: ping\ndata: {{}}\n\n{sse}"
                    )))
                    .unwrap()
            } else {
                json(200, &page, &[])
            }
        }
    })
    .await;
    let client = server.client();
    let session = SessionId::new("sesn_1");
    let thread = SessionThreadId::new("sthr_1");
    let events = client.sessions().threads().events();

    let listed: Vec<SessionEvent> = events
        .list(
            &session,
            &thread,
            &PageParams {
                limit: Some(2),
                page: None,
            },
        )
        .try_collect()
        .await
        .unwrap();
    let streamed: Vec<SessionEvent> = events
        .stream(
            &session,
            &thread,
            &StreamParams {
                event_deltas: vec![DeltaType::AgentThinking],
            },
        )
        .await
        .unwrap()
        .idle_timeout(Duration::from_secs(10))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, streamed);
    assert!(matches!(listed[0], SessionEvent::AgentMessage(_)));
    assert!(matches!(
        listed[1],
        SessionEvent::SessionThreadStatusIdle(_)
    ));
    assert_eq!(serde_json::to_value(&listed[0]).unwrap(), message);

    assert_eq!(
        line(&server.request(0)),
        (
            Method::GET,
            "/v1/sessions/sesn_1/threads/sthr_1/events".into(),
            Some("limit=2".into())
        )
    );
    let stream = server.request(1);
    assert_eq!(
        line(&stream),
        (
            Method::GET,
            "/v1/sessions/sesn_1/threads/sthr_1/stream".into(),
            Some("event_deltas%5B%5D=agent.thinking".into())
        ),
        "a thread's stream is `/stream`, not `/events/stream`"
    );
    assert_eq!(stream.headers["accept"], "application/json");
}

#[tokio::test]
async fn work_queue_calls() {
    let work = fixture("objects", "work");
    let heartbeat = fixture("objects", "work_heartbeat");
    let stats = fixture("objects", "work_queue_stats");
    let page = fixture("objects", "work_page");
    let server = serve(move |request, i| {
        let (work, heartbeat, stats, page) =
            (work.clone(), heartbeat.clone(), stats.clone(), page.clone());
        async move {
            let path = request.path.as_str();
            if path.ends_with("/work/poll") {
                // The first poll finds nothing (`null`), the second an empty 204, then work.
                return match i {
                    0 => json(200, "null", &[]),
                    1 => Response::builder().status(204).body(Body::empty()).unwrap(),
                    _ => json(200, &work, &[]),
                };
            }
            let body = if path.ends_with("/heartbeat") {
                heartbeat
            } else if path.ends_with("/stats") {
                stats
            } else if path.ends_with("/work") {
                page
            } else {
                work
            };
            json(200, &body, &[])
        }
    })
    .await;
    let client = server.client();
    let env = EnvironmentId::new("env_1");
    let id = WorkId::new("work_1");
    let queue = client.environments().work();

    let poll = WorkPollParams {
        block_ms: Some(500),
        reclaim_older_than_ms: None,
        worker_id: Some("worker-7".into()),
    };
    assert_eq!(queue.poll(&env, &poll).await.unwrap(), None);
    assert_eq!(
        queue.poll(&env, &WorkPollParams::default()).await.unwrap(),
        None
    );
    let polled = queue.poll(&env, &poll).await.unwrap().expect("work");
    assert_eq!(
        serde_json::to_value(&polled).unwrap(),
        value("objects", "work")
    );
    let acked = queue.ack(&env, &polled.id).await.unwrap();
    let beat = queue
        .heartbeat(&env, &id, &WorkHeartbeatParams::claim(Some(300)))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&beat).unwrap(),
        value("objects", "work_heartbeat")
    );
    queue
        .stop(&env, &id, &WorkStop { force: Some(true) })
        .await
        .unwrap();
    queue.stop(&env, &id, &WorkStop::default()).await.unwrap();
    let stats = queue.stats(&env).await.unwrap();
    assert_eq!(
        serde_json::to_value(&stats).unwrap(),
        value("objects", "work_queue_stats")
    );
    assert_eq!(queue.retrieve(&env, &id).await.unwrap(), acked);
    queue
        .update(
            &env,
            &id,
            &WorkUpdate {
                metadata: [("k".to_owned(), None)].into(),
            },
        )
        .await
        .unwrap();
    let listed: Vec<_> = queue
        .list(&env, &PageParams::default())
        .try_collect()
        .await
        .unwrap();
    assert!(!listed.is_empty());

    let work_path = format!("/v1/environments/env_1/work/{}", polled.id);
    let seen: Vec<_> = (0..server.hits())
        .map(|i| line(&server.request(i)))
        .collect();
    assert_eq!(
        seen,
        [
            (
                Method::GET,
                "/v1/environments/env_1/work/poll".into(),
                Some("block_ms=500".into())
            ),
            (Method::GET, "/v1/environments/env_1/work/poll".into(), None),
            (
                Method::GET,
                "/v1/environments/env_1/work/poll".into(),
                Some("block_ms=500".into())
            ),
            (Method::POST, format!("{work_path}/ack"), None),
            (
                Method::POST,
                "/v1/environments/env_1/work/work_1/heartbeat".into(),
                Some("desired_ttl_seconds=300&expected_last_heartbeat=NO_HEARTBEAT".into())
            ),
            (
                Method::POST,
                "/v1/environments/env_1/work/work_1/stop".into(),
                None
            ),
            (
                Method::POST,
                "/v1/environments/env_1/work/work_1/stop".into(),
                None
            ),
            (
                Method::GET,
                "/v1/environments/env_1/work/stats".into(),
                None
            ),
            (
                Method::GET,
                "/v1/environments/env_1/work/work_1".into(),
                None
            ),
            (
                Method::POST,
                "/v1/environments/env_1/work/work_1".into(),
                None
            ),
            (Method::GET, "/v1/environments/env_1/work".into(), None),
        ]
    );
    assert_eq!(server.request(0).headers["anthropic-worker-id"], "worker-7");
    assert!(
        server
            .request(1)
            .headers
            .get("anthropic-worker-id")
            .is_none()
    );
    assert!(server.request(3).body.is_empty(), "ack sends no body");
    assert!(server.request(4).body.is_empty(), "heartbeat sends no body");
    let body = |i: usize| serde_json::from_slice::<Value>(&server.request(i).body).unwrap();
    assert_eq!(body(5), json!({"force": true}));
    assert_eq!(body(6), json!({}), "a graceful stop sends `{{}}`");
    assert_eq!(body(9), json!({"metadata": {"k": null}}));
}
