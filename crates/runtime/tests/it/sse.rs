//! SSE: parser properties and event streams over HTTP.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use http::{Method, StatusCode};
use pretty_assertions::assert_eq;
use proptest::prelude::*;
use serde_json::{Value, json};
use steward_runtime::Error;
use steward_runtime::sse::{SseMessage, SseParser};

use crate::support::{json, serve};

fn parse_chunked(input: &[u8], cuts: &[usize]) -> Vec<SseMessage> {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        let cut = cut.clamp(start, input.len());
        parser.feed(&input[start..cut], &mut out);
        start = cut;
    }
    parser.feed(&input[start..], &mut out);
    parser.finish();
    out
}

/// A realistic stream: BOM, CRLF, comments, multi-line data, ids, multi-byte UTF-8.
const REALISTIC: &str = "\u{feff}: hello\r\n\r\nevent: session.status_running\r\nid: 1\r\ndata: {\"type\":\"session.status_running\"}\r\n\r\nevent: ping\ndata: {}\n\nevent: agent.message\ndata: {\"type\":\"agent.message\",\ndata:  \"text\":\"héllo 🦀 ✓\"}\n\nretry: 10\rdata: x\r\r";

#[test]
fn every_single_split_of_a_realistic_stream_gives_the_same_messages() {
    let input = REALISTIC.as_bytes();
    let whole = SseParser::parse_all(input);
    assert_eq!(whole.len(), 4);
    assert_eq!(whole[0].event.as_deref(), Some("session.status_running"));
    assert_eq!(whole[0].id.as_deref(), Some("1"));
    assert_eq!(
        whole[2].data,
        "{\"type\":\"agent.message\",\n \"text\":\"héllo 🦀 ✓\"}"
    );
    assert_eq!(whole[3].event, None);
    for i in 0..=input.len() {
        assert_eq!(parse_chunked(input, &[i]), whole, "split at {i}");
    }
    for size in 1..8 {
        let cuts: Vec<usize> = (size..input.len()).step_by(size).collect();
        assert_eq!(parse_chunked(input, &cuts), whole, "chunks of {size}");
    }
}

/// A message as a generator describes it, with how to write it.
#[derive(Debug, Clone)]
struct Spec {
    event: Option<String>,
    data: Vec<String>,
    comment: bool,
}

fn line_text() -> impl Strategy<Value = String> {
    // Any text without line breaks, including multi-byte characters and colons.
    proptest::string::string_regex("[^\r\n]{0,24}").unwrap()
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::option::of("[a-z._]{1,16}"),
        proptest::collection::vec(line_text(), 1..4),
        any::<bool>(),
    )
        .prop_map(|(event, data, comment)| Spec {
            event,
            data,
            comment,
        })
}

fn render(specs: &[Spec], endings: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut k = 0;
    let mut end = |out: &mut Vec<u8>| {
        let mut ending: &[u8] = match endings[k % endings.len()] % 3 {
            0 => b"\n",
            1 => b"\r\n",
            _ => b"\r",
        };
        // A CR followed by an LF would be one line end, not two.
        if ending == b"\n" && out.last() == Some(&b'\r') {
            ending = b"\r\n";
        }
        k += 1;
        out.extend_from_slice(ending);
    };
    for spec in specs {
        if spec.comment {
            out.extend_from_slice(b": note");
            end(&mut out);
        }
        if let Some(event) = &spec.event {
            out.extend_from_slice(format!("event: {event}").as_bytes());
            end(&mut out);
        }
        for line in &spec.data {
            out.extend_from_slice(format!("data: {line}").as_bytes());
            end(&mut out);
        }
        end(&mut out);
    }
    out
}

proptest! {
    // 256 cases, or `PROPTEST_CASES` when set (`cargo xtask fuzz`): the default config reads it.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn arbitrary_chunkings_of_a_random_stream_give_the_written_messages(
        specs in proptest::collection::vec(spec(), 0..12),
        endings in proptest::collection::vec(any::<u8>(), 1..16),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
    ) {
        let input = render(&specs, &endings);
        // `data: <line>` loses exactly the one space after the colon.
        let expect: Vec<SseMessage> = specs
            .iter()
            .map(|s| SseMessage {
                event: s.event.clone(),
                data: s.data.join("\n"),
                id: None,
            })
            .collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(&parse_chunked(&input, &cuts), &expect);
        prop_assert_eq!(&SseParser::parse_all(&input), &expect);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_chunking_never_matters(
        input in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\n'), Just(b'\r'), Just(b':'), Just(b' ')],
            0..256,
        ),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..16),
    ) {
        let whole = SseParser::parse_all(&input);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(parse_chunked(&input, &cuts), whole);
    }
}

fn sse_response(chunks: Vec<&'static str>, delay: Duration) -> Response {
    let stream = futures::stream::iter(chunks).then(move |chunk| async move {
        tokio::time::sleep(delay).await;
        Ok::<_, std::convert::Infallible>(Bytes::from_static(chunk.as_bytes()))
    });
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

#[tokio::test]
async fn streams_typed_events_over_http() {
    let server = serve(|_, _| async {
        sse_response(
            vec![
                ": connected\n\n",
                "event: ping\ndata: {\"type\":\"ping\"}\n\n",
                "event: session.status_running\ndata: {\"type\":\"session.status_running\",",
                "\"id\":\"e1\"}\r\n\r\nevent: agent.mess",
                "age\ndata: {\"type\":\"agent.message\",\"id\":\"e2\"}\n\n",
                "data: {\"type\":\"no.event.line\"}\n\n",
                "event: session.status_idle\ndata: {\"type\":\"session.status_idle\",\"id\":\"e3\"}\n\n",
            ],
            Duration::from_millis(5),
        )
    })
    .await;
    let events: Vec<Value> = server
        .client()
        .request(Method::GET, "/v1/sessions/sesn_1/events/stream")
        .stream()
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    let ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["e1", "e2", "e3"]);
    let seen = server.request(0);
    assert_eq!(seen.headers["accept"], "application/json");
    assert_eq!(seen.headers["anthropic-beta"], "managed-agents-2026-04-01");
}

#[tokio::test]
async fn an_error_event_ends_the_stream_with_an_api_error() {
    let server = serve(|_, _| async {
        sse_response(
            vec![
                "event: a\ndata: {\"n\":1}\n\n",
                "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n",
                "event: a\ndata: {\"n\":2}\n\n",
            ],
            Duration::ZERO,
        )
    })
    .await;
    let mut events = server
        .client()
        .request(Method::GET, "/v1/sessions/sesn_1/events/stream")
        .stream::<Value>()
        .await
        .unwrap();
    assert_eq!(events.next().await.unwrap().unwrap(), json!({"n": 1}));
    let error = events.next().await.unwrap().unwrap_err();
    assert_eq!(
        error.error_type(),
        Some(&steward_core::ErrorType::Overloaded)
    );
    assert_eq!(error.status(), None);
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn a_failed_stream_request_is_an_api_error_with_its_status() {
    let server = serve(|_, _| async {
        json(
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"no session"}}"#,
            &[("request-id", "req_s")],
        )
    })
    .await;
    let error = server
        .client()
        .request(Method::GET, "/v1/sessions/sesn_x/events/stream")
        .stream::<Value>()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(error.request_id(), Some("req_s"));
}

#[tokio::test]
async fn the_attempt_timeout_does_not_cut_a_long_stream() {
    let server = serve(|_, _| async {
        sse_response(
            vec![
                "event: a\ndata: 1\n\n",
                "event: a\ndata: 2\n\n",
                "event: a\ndata: 3\n\n",
            ],
            Duration::from_millis(150),
        )
    })
    .await;
    let client = server
        .builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let events: Vec<u32> = client
        .request(Method::GET, "/v1/sessions/sesn_1/events/stream")
        .stream::<u32>()
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(events, [1, 2, 3]);
}

#[tokio::test]
async fn the_idle_timeout_ends_a_silent_stream() {
    let server = serve(|_, _| async {
        sse_response(
            vec!["event: a\ndata: 1\n\n", "event: a\ndata: 2\n\n"],
            Duration::from_millis(400),
        )
    })
    .await;
    let mut events = server
        .client()
        .request(Method::GET, "/v1/sessions/sesn_1/events/stream")
        .stream::<u32>()
        .await
        .unwrap()
        .idle_timeout(Duration::from_millis(100));
    let error = events.next().await.unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                scope: steward_runtime::TimeoutScope::Idle,
                ..
            }
        ),
        "{error:?}"
    );
}
