//! Parses a small transcript of a custom-tool turn, prints one line per event, and shows that an
//! event type this version does not know is kept and written back unchanged.
//!
//! Run with `cargo run -p steward-core --example protocol_demo`.

#![expect(
    clippy::print_stdout,
    reason = "an example prints its output for the reader"
)]

use steward_core::event::{SessionEvent, UserEvent};

/// One turn as the event stream delivers it, one JSON object per line; the last event has a type
/// from a future version of the API.
const TRANSCRIPT: &str = r#"
{"type":"user.message","id":"sevt_01","content":[{"type":"text","text":"Where is order #1234?"}],"processed_at":null}
{"type":"session.status_running","id":"sevt_02","processed_at":"2026-04-01T12:00:01Z"}
{"type":"agent.custom_tool_use","id":"sevt_03","name":"get_order_status","input":{"order_id":"1234"},"processed_at":"2026-04-01T12:00:02Z"}
{"type":"session.status_idle","id":"sevt_04","processed_at":"2026-04-01T12:00:02Z","stop_reason":{"type":"requires_action","event_ids":["sevt_03"]},"stop_details":null}
{"type":"user.custom_tool_result","id":"sevt_05","custom_tool_use_id":"sevt_03","content":[{"type":"text","text":"shipped"}],"is_error":false}
{"type":"agent.message","id":"sevt_06","content":[{"type":"text","text":"Order #1234 has shipped."}],"processed_at":"2026-04-01T12:00:04Z"}
{"type":"session.status_idle","id":"sevt_07","processed_at":"2026-04-01T12:00:04Z","stop_reason":{"type":"end_turn"},"stop_details":null}
{"type":"agent.hologram","id":"sevt_08","processed_at":"2026-04-01T12:00:05Z","depth":{"layers":3}}
"#;

/// The key field of an event, for display.
fn describe(event: &SessionEvent) -> String {
    match event {
        SessionEvent::UserMessage(message) => {
            let text: Vec<&str> = message.content.iter().filter_map(|b| b.as_text()).collect();
            format!("{:?}", text.concat())
        }
        SessionEvent::AgentCustomToolUse(call) => {
            format!(
                "{}({})",
                call.name,
                serde_json::Value::Object(call.input.clone())
            )
        }
        SessionEvent::UserCustomToolResult(result) => {
            format!("answers {}", result.custom_tool_use_id)
        }
        SessionEvent::AgentMessage(message) => format!("{:?}", message.text()),
        SessionEvent::SessionStatusIdle(idle) => match idle.stop_reason.event_ids() {
            Some(ids) => {
                let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
                format!("requires_action on [{}]", ids.join(", "))
            }
            None => idle.stop_reason.type_name().to_owned(),
        },
        SessionEvent::Unknown(_) => "unknown to this version: kept as raw JSON".to_owned(),
        _ => String::new(),
    }
}

fn main() -> Result<(), serde_json::Error> {
    for line in TRANSCRIPT.lines().filter(|line| !line.trim().is_empty()) {
        let event: SessionEvent = serde_json::from_str(line)?;
        let terminal = if event.is_terminal() {
            "  [turn over]"
        } else {
            ""
        };
        println!("{:<28} {}{terminal}", event.type_name(), describe(&event));

        // What the client would send back when the agent asks for a custom tool.
        if let SessionEvent::AgentCustomToolUse(call) = &event {
            let reply = UserEvent::custom_tool_result(call.id.clone(), "shipped", false);
            println!("{:<28} {}", "  -> send", serde_json::to_string(&reply)?);
        }

        if event.is_unknown() {
            let written = serde_json::to_string(&event)?;
            println!("{:<28} {written}", "  written back");
            println!("{:<28} {}", "  unchanged", written == line);
        }
    }
    Ok(())
}
