//! Session events: a fixture for every event type of the reference round-trips, unknown types and
//! values survive byte for byte, bad input names the field, and the helpers answer as documented.

use std::collections::BTreeSet;
use std::path::Path;

use pretty_assertions::assert_eq;
use serde_json::json;
use steward_core::content::{ContentBlock, TextContent};
use steward_core::event::{
    AgentCustomToolUse, DeltaType, EventListParams, EventOrder, RetryStatus, SendEvents,
    SendEventsResponse, SessionErrorObject, SessionEvent, StopReason, StreamParams, ToolEvaluation,
    UserEvent,
};
use steward_core::{EventId, SessionThreadId, Timestamp};

use crate::support::{fixture, fixtures_dir, parse_error, roundtrip};

/// Parses the fixture `events/<name>.json` as a [`SessionEvent`], checking the round trip.
fn event(name: &str) -> SessionEvent {
    roundtrip::<SessionEvent>(&format!("events/{name}.json"))
}

/// Parses a JSON string as a [`SessionEvent`] and checks it serializes back to the same bytes.
#[track_caller]
fn same_bytes(raw: &str) -> SessionEvent {
    let parsed: SessionEvent =
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("{raw} does not parse: {e}"));
    let written =
        serde_json::to_string(&parsed).unwrap_or_else(|e| panic!("{raw} does not write: {e}"));
    assert_eq!(written, raw);
    parsed
}

/// The event types listed in `tests/fixtures/reference-event-types.txt`, in order.
fn listed_types() -> Vec<String> {
    let path = fixtures_dir().join("reference-event-types.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Extracts the event types of `events.md`: the backticked types of the first column of its
/// tables (expanding `a.b_c / _d` and `a.b_c / b_d` shorthands), then the stream-only previews
/// written as `` `name {fields}` `` in the "Stream-only" paragraph.
fn extract_reference_types(text: &str) -> Vec<String> {
    fn backticked(token: &str) -> Option<&str> {
        token.strip_prefix('`')?.strip_suffix('`')
    }
    let mut types = Vec::new();
    for line in text.lines().filter(|line| line.starts_with('|')) {
        let Some(first) = line.split('|').nth(1) else {
            continue;
        };
        let tokens: Option<Vec<&str>> = first.trim().split(" / ").map(backticked).collect();
        let Some(tokens) = tokens else { continue };
        let Some(&base) = tokens.first() else {
            continue;
        };
        if !base.contains('.') {
            continue; // a table of stop reasons or other values, not of event types
        }
        for token in tokens {
            // `_rescheduled` replaces the last `_…` of the first type; `status_idle` replaces
            // everything after its `.`.
            let full = match (token.starts_with('_'), token.contains('.')) {
                (true, _) => base.rfind('_').map(|at| format!("{}{token}", &base[..at])),
                (false, false) => base.find('.').map(|at| format!("{}{token}", &base[..=at])),
                (false, true) => Some(token.to_owned()),
            };
            types.push(full.unwrap_or_else(|| panic!("cannot expand `{token}` after `{base}`")));
        }
    }
    let Some(start) = text.find("**Stream-only**") else {
        panic!("the reference has no Stream-only paragraph");
    };
    let paragraph = &text[start..];
    let paragraph = &paragraph[..paragraph.find("\n\n").unwrap_or(paragraph.len())];
    for span in paragraph.split('`').skip(1).step_by(2) {
        if let Some((name, _)) = span.split_once(" {") {
            if name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                types.push(name.to_owned());
            }
        }
    }
    types
}

#[test]
fn every_fixture_round_trips_as_its_type() {
    let dir = fixtures_dir().join("events");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() > 44, "fixtures missing from {}", dir.display());
    for name in names {
        let rel = format!("events/{name}");
        if let Some(ty) = name.strip_suffix(".params.json") {
            let parsed = roundtrip::<UserEvent>(&rel);
            assert_eq!(parsed.type_name(), ty, "{rel}");
            assert!(!parsed.is_unknown(), "{rel}");
        } else if name.ends_with(".request.json") {
            let body = roundtrip::<SendEvents>(&rel);
            assert!(body.events.iter().all(|e| !e.is_unknown()), "{rel}");
        } else if name.ends_with(".response.json") {
            let response = roundtrip::<SendEventsResponse>(&rel);
            assert!(response.data.unwrap().iter().all(|e| !e.is_unknown()));
        } else {
            let stem = name.strip_suffix(".json").unwrap();
            let ty = stem.split_once("--").map_or(stem, |(ty, _variant)| ty);
            let parsed = roundtrip::<SessionEvent>(&rel);
            assert_eq!(parsed.type_name(), ty, "{rel}");
            assert!(!parsed.is_unknown(), "{rel}");
        }
    }
}

#[test]
fn every_reference_type_has_a_fixture_and_a_variant() {
    let listed = listed_types();
    let mut missing = Vec::new();
    for ty in &listed {
        if !fixtures_dir().join(format!("events/{ty}.json")).exists() {
            missing.push(format!("no fixture events/{ty}.json"));
        }
        if !SessionEvent::KNOWN_TYPES.contains(&ty.as_str()) {
            missing.push(format!("{ty} is not in SessionEvent::KNOWN_TYPES"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    let listed: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    let known: BTreeSet<&str> = SessionEvent::KNOWN_TYPES.iter().copied().collect();
    assert_eq!(
        known, listed,
        "SessionEvent knows types the reference does not list"
    );
    assert_eq!(
        SessionEvent::KNOWN_TYPES.len(),
        listed.len(),
        "duplicate tags"
    );

    for ty in UserEvent::KNOWN_TYPES {
        assert!(
            fixtures_dir()
                .join(format!("events/{ty}.params.json"))
                .exists(),
            "no fixture events/{ty}.params.json"
        );
        assert!(listed.contains(ty), "{ty} is sendable but has no echo");
    }
}

#[test]
fn type_list_matches_the_reference() {
    let reference =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/events.md");
    let Ok(text) = std::fs::read_to_string(&reference) else {
        // The reference lives outside the repository; without it the list file is the record.
        return;
    };
    assert_eq!(
        extract_reference_types(&text),
        listed_types(),
        "{} changed: update tests/fixtures/reference-event-types.txt, the fixtures and SessionEvent",
        reference.display()
    );
}

#[test]
fn extraction_expands_the_reference_shorthands() {
    let text = "\
| type | Extra fields |
|---|---|
| `a.status_running` / `a.status_idle` | none |
| `b.thread_status_running` / `_rescheduled` | x |
| `c.status_running` / `status_idle` | y |

| type | Meaning |
|---|---|
| `end_turn` | not an event |

The **Stream-only** ones: `event_start {event}` and
`event_delta {event_id, delta}`; `GET …?types[]=` is not one.

`later {x}` is in another paragraph.
";
    assert_eq!(
        extract_reference_types(text),
        [
            "a.status_running",
            "a.status_idle",
            "b.thread_status_running",
            "b.thread_status_rescheduled",
            "c.status_running",
            "c.status_idle",
            "event_start",
            "event_delta",
        ]
    );
}

#[test]
fn unknown_event_type_round_trips_byte_for_byte() {
    let raw = r#"{"type":"agent.hologram","id":"sevt_9","processed_at":"2026-04-01T12:00:00Z","depth":{"z":[1,2.5,null],"a":"é"},"b":true}"#;
    let event = same_bytes(raw);
    assert!(event.is_unknown());
    assert_eq!(event.type_name(), "agent.hologram");
    assert_eq!(event.id(), None);
    assert_eq!(event.raw_id(), Some("sevt_9"));
    assert_eq!(event.processed_at(), None);
    assert!(!event.is_terminal());
    assert_eq!(event.requires_action_event_ids(), None);
}

#[test]
fn unknown_stop_reason_round_trips_and_ends_the_turn() {
    let raw = r#"{"type":"session.status_idle","id":"sevt_1","processed_at":"2026-04-01T12:00:00Z","stop_details":null,"stop_reason":{"type":"coffee_break","minutes":15}}"#;
    let event = same_bytes(raw);
    let SessionEvent::SessionStatusIdle(idle) = &event else {
        panic!("expected session.status_idle, got {event:?}");
    };
    assert!(idle.stop_reason.is_unknown());
    assert_eq!(idle.stop_reason.type_name(), "coffee_break");
    assert!(event.is_terminal(), "an unknown stop reason ends the turn");
    assert_eq!(event.requires_action_event_ids(), None);

    let raw = r#"{"type":"session.status_idle","id":"sevt_2","processed_at":"2026-04-01T12:00:00Z","stop_details":{"type":"quota","limit":3},"stop_reason":{"type":"end_turn"}}"#;
    let event = same_bytes(raw);
    let SessionEvent::SessionStatusIdle(idle) = &event else {
        panic!("expected session.status_idle, got {event:?}");
    };
    assert!(idle.stop_details.as_ref().unwrap().is_unknown());
}

#[test]
fn unknown_content_block_round_trips_byte_for_byte() {
    let raw = r#"{"type":"agent.message","id":"sevt_3","content":[{"type":"text","text":"see "},{"type":"chart","spec":{"kind":"bar","values":[3,1]}},{"type":"text","text":"above"}],"processed_at":"2026-04-01T12:00:00Z"}"#;
    let event = same_bytes(raw);
    let SessionEvent::AgentMessage(message) = &event else {
        panic!("expected agent.message, got {event:?}");
    };
    assert!(message.content[1].is_unknown());
    assert_eq!(message.content[1].type_name(), "chart");
    assert_eq!(message.text(), "see above");

    let source = r#"{"type":"image","source":{"type":"s3","bucket":"b","key":"k.png"}}"#;
    let block: ContentBlock = serde_json::from_str(source).unwrap();
    let ContentBlock::Image(image) = &block else {
        panic!("expected an image, got {block:?}");
    };
    assert!(image.source.is_unknown());
    assert_eq!(serde_json::to_string(&block).unwrap(), source);
}

#[test]
fn unknown_session_error_round_trips_and_keeps_its_advice() {
    let raw = r#"{"type":"session.error","id":"sevt_4","error":{"type":"sandbox_melted_error","message":"The sandbox melted.","retry_status":{"type":"exhausted"},"temperature_c":1200},"processed_at":"2026-04-01T12:00:00Z"}"#;
    let event = same_bytes(raw);
    let SessionEvent::SessionError(error) = &event else {
        panic!("expected session.error, got {event:?}");
    };
    assert!(error.error.is_unknown());
    assert_eq!(error.error.type_name(), "sandbox_melted_error");
    assert_eq!(error.error.message(), Some("The sandbox melted."));
    assert!(matches!(
        error.error.retry_status(),
        Some(RetryStatus::Exhausted(_))
    ));

    let raw = r#"{"type":"model_overloaded_error","message":"busy","retry_status":{"type":"later","after_s":5}}"#;
    let error: SessionErrorObject = serde_json::from_str(raw).unwrap();
    assert!(error.retry_status().unwrap().is_unknown());
    assert_eq!(serde_json::to_string(&error).unwrap(), raw);
}

#[test]
fn every_session_error_fixture_exposes_message_and_retry_status() {
    let dir = fixtures_dir().join("events");
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.starts_with("session.error") {
            continue;
        }
        let SessionEvent::SessionError(event) = event(name.strip_suffix(".json").unwrap()) else {
            panic!("{name} is not a session.error");
        };
        assert!(!event.error.is_unknown(), "{name}");
        assert!(event.error.message().is_some_and(|m| !m.is_empty()));
        assert!(!event.error.retry_status().unwrap().is_unknown());
        seen.insert(event.error.type_name().to_owned());
    }
    let known: BTreeSet<String> = SessionErrorObject::KNOWN_TYPES
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    assert_eq!(seen, known, "every session error type has a fixture");
}

#[test]
fn bad_input_names_the_field() {
    let err = parse_error::<SessionEvent>(
        r#"{"type":"agent.custom_tool_use","id":"sevt_1","input":{},"processed_at":"2026-04-01T12:00:00Z"}"#,
    );
    assert!(err.contains("agent.custom_tool_use"), "{err}");
    assert!(err.contains("missing field `name`"), "{err}");

    let err = parse_error::<SessionEvent>(
        r#"{"type":"span.outcome_evaluation_start","id":"sevt_1","iteration":"first","outcome_id":"outc_1","processed_at":"2026-04-01T12:00:00Z"}"#,
    );
    assert!(err.contains("span.outcome_evaluation_start"), "{err}");
    assert!(err.contains("invalid type: string \"first\""), "{err}");

    let err = parse_error::<SessionEvent>(
        r#"{"type":"session.status_idle","id":"sevt_1","processed_at":"2026-04-01T12:00:00Z","stop_details":null,"stop_reason":{"type":"requires_action"}}"#,
    );
    assert!(err.contains("requires_action"), "{err}");
    assert!(err.contains("missing field `event_ids`"), "{err}");

    let err = parse_error::<SessionEvent>(
        r#"{"type":"agent.tool_use","id":"sevt_1","name":"bash","input":"ls","processed_at":"2026-04-01T12:00:00Z"}"#,
    );
    assert!(err.contains("expected a map"), "{err}");

    let err = parse_error::<SessionEvent>(r#"{"id":"sevt_1"}"#);
    assert!(err.contains("missing field `type`"), "{err}");

    let err = parse_error::<UserEvent>(r#"{"type":"user.custom_tool_result","content":[]}"#);
    assert!(err.contains("missing field `custom_tool_use_id`"), "{err}");
}

#[test]
fn terminal_events() {
    let cases = [
        ("session.status_idle", false),
        ("session.status_idle--end_turn", true),
        ("session.status_idle--refusal", true),
        ("session.status_idle--retries_exhausted", true),
        ("session.status_idle--budget_reached", true),
        ("session.status_terminated", true),
        ("session.deleted", true),
        ("session.thread_status_idle", false),
        ("session.thread_status_terminated", false),
        ("session.status_running", false),
        ("session.error", false),
        ("agent.message", false),
    ];
    for (name, terminal) in cases {
        assert_eq!(event(name).is_terminal(), terminal, "{name}");
    }
}

#[test]
fn requires_action_lists_the_blocking_events() {
    let idle = event("session.status_idle");
    assert_eq!(
        idle.requires_action_event_ids(),
        Some(
            &[
                EventId::new("sevt_011CZkZeXq1w2e3r4t5y6u7i"),
                EventId::new("sevt_011CZkZdQ2pBnRz7e4KvWxYz"),
            ][..]
        )
    );
    assert_eq!(
        event("session.status_idle--end_turn").requires_action_event_ids(),
        None
    );
    let SessionEvent::SessionThreadStatusIdle(thread_idle) = event("session.thread_status_idle")
    else {
        panic!("expected session.thread_status_idle");
    };
    assert_eq!(
        thread_idle.stop_reason.event_ids().unwrap()[0],
        "sevt_011CZkZeXq1w2e3r4t5y6u7j"
    );
    assert_eq!(
        StopReason::requires_action([EventId::new("sevt_1")]),
        serde_json::from_value(json!({"type": "requires_action", "event_ids": ["sevt_1"]}))
            .unwrap()
    );
}

#[test]
fn common_fields_of_every_kind_of_event() {
    let message = event("agent.message");
    assert_eq!(
        message.id(),
        Some(&EventId::new("sevt_011CZkZj6rTyUiOpAsDfGhJk"))
    );
    assert_eq!(
        message.processed_at(),
        Some(&Timestamp::new("2026-04-01T12:00:11.204000Z"))
    );
    let SessionEvent::AgentMessage(agent_message) = &message else {
        panic!("expected agent.message");
    };
    assert_eq!(
        agent_message.text(),
        "Your order #1234 shipped with UPS and should arrive on April 3."
    );

    // A user message is "processed" only once the agent has handled it.
    assert_eq!(event("user.message").processed_at(), None);
    assert!(event("user.message--processed").processed_at().is_some());
    assert!(event("user.define_outcome").processed_at().is_some());

    // Stream-only previews have no ID of their own.
    for name in ["event_start", "event_delta"] {
        let preview = event(name);
        assert!(preview.is_stream_only(), "{name}");
        assert_eq!(preview.id(), None, "{name}");
        assert_eq!(preview.raw_id(), None, "{name}");
        assert_eq!(preview.processed_at(), None, "{name}");
    }
    let SessionEvent::EventStart(start) = event("event_start") else {
        panic!("expected event_start");
    };
    assert_eq!(start.event.id(), Some("sevt_011CZkZj6rTyUiOpAsDfGhJk"));

    let thread = SessionThreadId::new("sthr_011CZkZVWa6oJjw1rgXZpnBt");
    for name in [
        "agent.tool_use",
        "agent.custom_tool_use--cross-posted",
        "user.custom_tool_result",
        "user.interrupt",
        "session.thread_created",
        "session.thread_status_idle",
    ] {
        assert_eq!(event(name).session_thread_id(), Some(&thread), "{name}");
    }
    for name in [
        "agent.custom_tool_use",
        "user.tool_confirmation",
        "agent.message",
    ] {
        assert_eq!(event(name).session_thread_id(), None, "{name}");
    }
}

#[test]
fn tool_use_inputs_and_permissions() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct OrderArgs {
        order_id: String,
        include_history: bool,
    }
    let SessionEvent::AgentCustomToolUse(call) = event("agent.custom_tool_use") else {
        panic!("expected agent.custom_tool_use");
    };
    assert_eq!(
        call.input_as::<OrderArgs>().unwrap(),
        OrderArgs {
            order_id: "1234".into(),
            include_history: false
        }
    );
    let err = call.input_as::<Vec<String>>().unwrap_err();
    assert!(err.to_string().contains("invalid type: map"), "{err}");

    let SessionEvent::AgentToolUse(ask) = event("agent.tool_use") else {
        panic!("expected agent.tool_use");
    };
    assert_eq!(ask.evaluated_permission.as_ref().unwrap().as_str(), "ask");
    let Some(ToolEvaluation::Auto(auto)) = &ask.evaluation else {
        panic!("expected an auto evaluation, got {:?}", ask.evaluation);
    };
    assert_eq!(auto.evaluated_permission.type_name(), "ask");

    let SessionEvent::AgentToolUse(refused) = event("agent.tool_use--refused") else {
        panic!("expected agent.tool_use");
    };
    assert_eq!(refused.evaluation, None);
}

#[test]
fn user_event_constructors_write_the_wire_shape() {
    let cases = [
        (
            UserEvent::message("hi"),
            json!({"type": "user.message", "content": [{"type": "text", "text": "hi"}]}),
        ),
        (UserEvent::interrupt(), json!({"type": "user.interrupt"})),
        (
            UserEvent::interrupt_thread("sthr_1"),
            json!({"type": "user.interrupt", "session_thread_id": "sthr_1"}),
        ),
        (
            UserEvent::custom_tool_result("sevt_1", "42", false),
            json!({"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_1",
                   "content": [{"type": "text", "text": "42"}], "is_error": false}),
        ),
        (
            UserEvent::tool_result("sevt_2", vec![ContentBlock::text("boom")], true),
            json!({"type": "user.tool_result", "tool_use_id": "sevt_2",
                   "content": [{"type": "text", "text": "boom"}], "is_error": true}),
        ),
        (
            UserEvent::allow("sevt_3"),
            json!({"type": "user.tool_confirmation", "result": "allow", "tool_use_id": "sevt_3"}),
        ),
        (
            UserEvent::deny("sevt_3", Some("no".into())),
            json!({"type": "user.tool_confirmation", "result": "deny", "tool_use_id": "sevt_3",
                   "deny_message": "no"}),
        ),
        (
            UserEvent::define_outcome(
                "a report",
                steward_core::event::Rubric::text("- cites sources"),
            ),
            json!({"type": "user.define_outcome", "description": "a report",
                   "rubric": {"type": "text", "content": "- cites sources"}}),
        ),
        (
            UserEvent::system_message("be brief"),
            json!({"type": "system.message", "content": [{"type": "text", "text": "be brief"}]}),
        ),
    ];
    for (event, expected) in cases {
        assert_eq!(serde_json::to_value(&event).unwrap(), expected);
        assert_eq!(
            serde_json::from_value::<UserEvent>(expected).unwrap(),
            event
        );
    }

    let body = SendEvents::new([UserEvent::message("hi"), UserEvent::system_message("sys")]);
    let expected = fixture("events/send_events.request.json");
    assert_eq!(body.events.len(), 2);
    assert_eq!(
        serde_json::to_value(&body).unwrap()["events"][1]["type"],
        expected["events"][1]["type"]
    );
    assert_eq!(TextContent::text("x").as_text(), Some("x"));

    // An event type newer than this version can still be sent as raw JSON.
    let future = json!({"type": "user.nudge", "strength": 2});
    let raw: UserEvent = serde_json::from_value(future.clone()).unwrap();
    assert!(raw.is_unknown());
    assert_eq!(serde_json::to_value(&raw).unwrap(), future);
}

#[test]
fn list_and_stream_queries() {
    let params = EventListParams {
        created_at_gte: Some(Timestamp::new("2026-04-01T00:00:00Z")),
        created_at_lt: Some(Timestamp::new("2026-04-02T00:00:00Z")),
        order: Some(EventOrder::Desc),
        limit: Some(50),
        types: vec!["agent.message".into(), "session.status_idle".into()],
        ..Default::default()
    };
    let value = serde_json::to_value(&params).unwrap();
    assert_eq!(
        value,
        json!({
            "created_at[gte]": "2026-04-01T00:00:00Z",
            "created_at[lt]": "2026-04-02T00:00:00Z",
            "limit": 50,
            "order": "desc",
            "types": ["agent.message", "session.status_idle"],
        })
    );
    assert_eq!(
        serde_json::from_value::<EventListParams>(value).unwrap(),
        params
    );
    assert_eq!(
        serde_json::to_value(EventListParams::default()).unwrap(),
        json!({})
    );

    let stream = StreamParams {
        event_deltas: vec![DeltaType::AgentMessage, DeltaType::AgentThinking],
    };
    assert_eq!(
        serde_json::to_value(&stream).unwrap(),
        json!({"event_deltas": ["agent.message", "agent.thinking"]})
    );
    assert_eq!(
        serde_json::to_value(StreamParams::default()).unwrap(),
        json!({})
    );
}

#[test]
fn snapshots_of_representative_events() {
    insta::assert_debug_snapshot!("agent_message", event("agent.message"));
    insta::assert_debug_snapshot!("agent_custom_tool_use", event("agent.custom_tool_use"));
    insta::assert_debug_snapshot!(
        "session_status_idle_requires_action",
        event("session.status_idle")
    );
    insta::assert_debug_snapshot!("session_error", event("session.error"));
    let unknown: SessionEvent = serde_json::from_str(
        r#"{"type":"agent.hologram","id":"sevt_9","processed_at":"2026-04-01T12:00:00Z","depth":3}"#,
    )
    .unwrap();
    insta::assert_debug_snapshot!("unknown_event", unknown);
}

#[test]
fn session_updated_carries_a_typed_agent_snapshot_and_budget() {
    let SessionEvent::SessionUpdated(update) = event("session.updated") else {
        panic!("expected session.updated");
    };
    let agent = update.agent.value().unwrap();
    assert_eq!(agent.name, "Order support");
    assert_eq!(agent.tools.len(), 2);
    assert!(agent.tools.iter().all(|tool| !tool.is_unknown()));
    let budget = update.budget.value().unwrap();
    assert_eq!(budget.max_list_cost().unwrap().minor_units(), Some(2500));
    assert_eq!(update.metadata.unwrap()["tier"], "enterprise");

    let SessionEvent::SessionUpdated(cleared) = event("session.updated--cleared") else {
        panic!("expected session.updated");
    };
    assert!(cleared.agent.is_absent());
    assert!(cleared.budget.is_null());
    assert!(cleared.title.is_null());
    assert_eq!(cleared.metadata, None);
}

#[test]
fn a_custom_tool_use_is_built_from_plain_fields() {
    // Building an event by hand (as the local platform does) gives the fixture's wire shape.
    let built = SessionEvent::AgentCustomToolUse(AgentCustomToolUse {
        id: EventId::new("sevt_011CZkZeXq1w2e3r4t5y6u7i"),
        input: serde_json::from_value(json!({"order_id": "1234", "include_history": false}))
            .unwrap(),
        name: "get_order_status".into(),
        processed_at: Timestamp::new("2026-04-01T12:00:06.778000Z"),
        session_thread_id: steward_core::Nullable::Absent,
    });
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        fixture("events/agent.custom_tool_use.json")
    );
}
