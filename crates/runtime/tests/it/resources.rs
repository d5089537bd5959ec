//! Typed resources: paths, routes, retry safety, typed events.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use futures::TryStreamExt;
use http::{Method, StatusCode};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::agent::{AgentCreate, AgentListParams, AgentRetrieveParams, AgentUpdate};
use steward_core::event::{
    DeltaType, EventListParams, SendEvents, SessionEvent, StreamParams, UserEvent,
};
use steward_core::{AgentId, SessionId};

use crate::support::{json, serve};

const AGENT: &str = include_str!("../../../core/tests/fixtures/objects/agent.json");

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../core/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn agents_create_is_not_retried_after_a_5xx_but_update_is() {
    let server = serve(|request, i| async move {
        if request.path == "/v1/agents" || i == 1 {
            json(500, "{}", &[])
        } else {
            json(200, AGENT, &[])
        }
    })
    .await;
    let client = server.client();
    let create: AgentCreate =
        serde_json::from_value(json!({"name": "a", "model": "claude-opus-4-7"})).unwrap();
    let error = client.agents().create(&create).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(server.hits(), 1);
    let body: Value = serde_json::from_slice(&server.request(0).body).unwrap();
    assert_eq!(body, json!({"name": "a", "model": "claude-opus-4-7"}));

    let id = AgentId::new("agent_01/x");
    let agent = client
        .agents()
        .update(&id, &AgentUpdate::default())
        .await
        .unwrap();
    assert_eq!(server.hits(), 3, "the update was retried once");
    assert_eq!(server.request(2).path, "/v1/agents/agent_01%2Fx");
    assert_eq!(server.request(2).method, Method::POST);
    let fixture: Value = serde_json::from_str(AGENT).unwrap();
    assert_eq!(serde_json::to_value(&agent).unwrap(), fixture);
}

#[tokio::test]
async fn agents_retrieve_list_archive_and_versions() {
    let page = format!(r#"{{"data":[{AGENT}],"next_page":null}}"#);
    let server = serve(move |request, _| {
        let page = page.clone();
        async move {
            if request.method == Method::GET && request.path.ends_with("versions")
                || request.path == "/v1/agents"
            {
                json(200, &page, &[])
            } else {
                json(200, AGENT, &[])
            }
        }
    })
    .await;
    let client = server.client();
    let id = AgentId::new("agent_1");
    client
        .agents()
        .retrieve_with(&id, &AgentRetrieveParams { version: Some(3) })
        .await
        .unwrap();
    let listed: Vec<_> = client
        .agents()
        .list(&AgentListParams {
            created_at_gte: Some(steward_core::Timestamp::new("2026-01-01T00:00:00Z")),
            include_archived: Some(true),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    client.agents().archive(&id).await.unwrap();
    let versions: Vec<_> = client
        .agents()
        .versions(&id, &Default::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(versions.len(), 1);

    let seen: Vec<(Method, String, Option<String>)> = (0..4)
        .map(|i| {
            let r = server.request(i);
            (r.method, r.path, r.query)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                Method::GET,
                "/v1/agents/agent_1".into(),
                Some("version=3".into())
            ),
            (
                Method::GET,
                "/v1/agents".into(),
                Some("created_at%5Bgte%5D=2026-01-01T00%3A00%3A00Z&include_archived=true".into())
            ),
            (Method::POST, "/v1/agents/agent_1/archive".into(), None),
            (Method::GET, "/v1/agents/agent_1/versions".into(), None),
        ]
    );
    assert!(server.request(2).body.is_empty());
}

#[tokio::test]
async fn session_events_stream_typed_events() {
    let running = fixture("session.status_running");
    let message = fixture("agent.message");
    let idle = fixture("session.status_idle--end_turn");
    let future = json!({"type": "agent.hologram", "id": "sevt_new", "depth": 3});
    let body = [&running, &message, &future, &idle]
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect::<Vec<_>>()
        .join("event: ping\ndata: {\"type\":\"ping\"}\n\n");
    let server = serve(move |_, _| {
        let body = body.clone();
        async move {
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from(body))
                .unwrap()
        }
    })
    .await;
    let client = server.client();
    let id = SessionId::new("sesn_1");
    let events: Vec<SessionEvent> = client
        .sessions()
        .events()
        .stream_with(
            &id,
            &StreamParams {
                event_deltas: vec![DeltaType::AgentMessage],
            },
        )
        .await
        .unwrap()
        .idle_timeout(Duration::from_secs(30))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(events.len(), 4);
    assert!(matches!(events[0], SessionEvent::SessionStatusRunning(_)));
    assert!(matches!(events[1], SessionEvent::AgentMessage(_)));
    assert!(matches!(events[2], SessionEvent::Unknown(_)));
    assert_eq!(serde_json::to_value(&events[2]).unwrap(), future);
    assert!(matches!(events[3], SessionEvent::SessionStatusIdle(_)));
    assert_eq!(serde_json::to_value(&events[1]).unwrap(), message);

    let seen = server.request(0);
    assert_eq!(seen.path, "/v1/sessions/sesn_1/events/stream");
    assert_eq!(
        seen.query.as_deref(),
        Some("event_deltas%5B%5D=agent.message")
    );
}

#[tokio::test]
async fn session_events_list_and_send() {
    let message = fixture("agent.message");
    let echo = fixture("send_events.response");
    let page = json!({"data": [message], "next_page": null}).to_string();
    let echo_body = echo.to_string();
    let server = serve(move |request, _| {
        let (page, echo_body) = (page.clone(), echo_body.clone());
        async move {
            match request.method {
                Method::GET => json(200, &page, &[]),
                _ => json(200, &echo_body, &[]),
            }
        }
    })
    .await;
    let client = server.client();
    let id = SessionId::new("sesn_1");
    let history: Vec<SessionEvent> = client
        .sessions()
        .events()
        .list(
            &id,
            &EventListParams {
                types: vec!["agent.message".into(), "session.status_idle".into()],
                limit: Some(1000),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        server.request(0).query.as_deref(),
        Some("limit=1000&types%5B%5D=agent.message&types%5B%5D=session.status_idle")
    );

    let sent = client
        .sessions()
        .events()
        .send(&id, &SendEvents::new([UserEvent::message("hi")]))
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&sent).unwrap(), echo);
    let posted = server.request(1);
    assert_eq!(posted.path, "/v1/sessions/sesn_1/events");
    let body: Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(body["events"][0]["type"], "user.message");
}

#[tokio::test]
async fn sending_events_is_not_retried_after_a_plain_503() {
    let server = serve(|_, _| async { json(503, "{}", &[]) }).await;
    let error = server
        .client()
        .sessions()
        .events()
        .send(
            &SessionId::new("sesn_1"),
            &SendEvents::new([UserEvent::message("hi")]),
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(
        server.hits(),
        1,
        "a 503 without retry-after may have been processed"
    );
}
