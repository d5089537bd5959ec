//! Static checks of what a client sends: the `POST …/events` body and the list and stream
//! queries. Checks that need the session's history (is the tool use pending? is the
//! environment self-hosted?) are the handler's.

use serde::Deserialize;
use steward_core::content::{ContentBlock, DocumentSource, ImageSource, TextContent};
use steward_core::event::{
    DeltaType, EventListParams, EventOrder, Rubric, SendEvents, SessionEvent, StreamParams,
    ToolConfirmationResult, UserDefineOutcomeParams, UserEvent,
};
use steward_core::thread::{SessionThreadStatus, ThreadListParams};
use steward_core::{EventId, Nullable};

use crate::error::{Error, Result};
use crate::validate::{Validate, known, max_chars, non_empty};

/// Longest text rubric of a `user.define_outcome`, in characters.
pub const MAX_RUBRIC_CHARS: usize = 262_144;
/// Most evaluate-then-revise cycles an outcome may ask for.
pub const MAX_OUTCOME_ITERATIONS: u32 = 20;

fn invalid(field: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid_request(format!("`{field}`: {message}"))
}

impl Validate for SendEvents {
    fn validate(&self) -> Result<()> {
        if self.events.is_empty() {
            return Err(invalid("events", "must hold at least one event"));
        }
        for (i, event) in self.events.iter().enumerate() {
            let field = format!("events[{i}]");
            known(
                &format!("{field}.type"),
                event.is_unknown(),
                event.type_name(),
                UserEvent::KNOWN_TYPES,
            )?;
            match event {
                UserEvent::Message(message) => {
                    blocks(&field, &message.content, Blocks::Message)?;
                }
                UserEvent::Interrupt(_) => {}
                UserEvent::ToolConfirmation(confirmation) => {
                    tool_use_id(&format!("{field}.tool_use_id"), &confirmation.tool_use_id)?;
                    known(
                        &format!("{field}.result"),
                        confirmation.result.is_unknown(),
                        confirmation.result.as_str(),
                        ToolConfirmationResult::KNOWN,
                    )?;
                    if confirmation.result == ToolConfirmationResult::Allow
                        && matches!(confirmation.deny_message, Nullable::Value(_))
                    {
                        return Err(invalid(
                            &format!("{field}.deny_message"),
                            "only a `deny` confirmation takes a message",
                        ));
                    }
                }
                UserEvent::CustomToolResult(result) => {
                    tool_use_id(
                        &format!("{field}.custom_tool_use_id"),
                        &result.custom_tool_use_id,
                    )?;
                    if let Some(content) = &result.content {
                        blocks(&field, content, Blocks::ToolResult)?;
                    }
                }
                UserEvent::ToolResult(result) => {
                    tool_use_id(&format!("{field}.tool_use_id"), &result.tool_use_id)?;
                    if let Some(content) = &result.content {
                        blocks(&field, content, Blocks::ToolResult)?;
                    }
                }
                UserEvent::DefineOutcome(outcome) => define_outcome(&field, outcome)?,
                UserEvent::SystemMessage(system) => {
                    system_message_place(&self.events, i)?;
                    if system.content.is_empty() {
                        return Err(invalid(
                            &format!("{field}.content"),
                            "must hold at least one block",
                        ));
                    }
                    for (j, block) in system.content.iter().enumerate() {
                        known(
                            &format!("{field}.content[{j}].type"),
                            block.is_unknown(),
                            block.type_name(),
                            TextContent::KNOWN_TYPES,
                        )?;
                    }
                }
                UserEvent::Unknown(_) => {}
            }
        }
        Ok(())
    }
}

fn tool_use_id(field: &str, id: &EventId) -> Result<()> {
    non_empty(field, id.as_str())
}

/// A `system.message` must be the last event of the request (so at most one), right after the
/// `user.message`, `user.tool_result` or `user.custom_tool_result` it goes with.
fn system_message_place(events: &[UserEvent], index: usize) -> Result<()> {
    let field = format!("events[{index}]");
    if index + 1 != events.len() {
        return Err(invalid(
            &field,
            "a `system.message` must be the last event of the request (at most one per request)",
        ));
    }
    let follows = index.checked_sub(1).and_then(|i| events.get(i));
    if !matches!(
        follows,
        Some(UserEvent::Message(_) | UserEvent::ToolResult(_) | UserEvent::CustomToolResult(_))
    ) {
        return Err(invalid(
            &field,
            "a `system.message` must directly follow the `user.message`, `user.tool_result` or \
             `user.custom_tool_result` it goes with",
        ));
    }
    Ok(())
}

/// Which blocks a content list may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blocks {
    /// `user.message`: `text`, `image`, `document`, `redacted`.
    Message,
    /// Tool results: `text`, `image`, `document`, `search_result`.
    ToolResult,
}

/// Checks the content of a `user.message` (sent as an event or as an initial event of a new
/// session): at least one block, each a `text`, `image`, `document` or `redacted` block of a
/// known source type.
pub(crate) fn user_message_content(field: &str, content: &[ContentBlock]) -> Result<()> {
    blocks(field, content, Blocks::Message)
}

fn blocks(field: &str, content: &[ContentBlock], allowed: Blocks) -> Result<()> {
    if allowed == Blocks::Message && content.is_empty() {
        return Err(invalid(
            &format!("{field}.content"),
            "must hold at least one block",
        ));
    }
    for (i, block) in content.iter().enumerate() {
        let field = format!("{field}.content[{i}]");
        known(
            &format!("{field}.type"),
            block.is_unknown(),
            block.type_name(),
            ContentBlock::KNOWN_TYPES,
        )?;
        match block {
            ContentBlock::Text(_) => {}
            ContentBlock::Image(image) => known(
                &format!("{field}.source.type"),
                image.source.is_unknown(),
                image.source.type_name(),
                ImageSource::KNOWN_TYPES,
            )?,
            ContentBlock::Document(document) => known(
                &format!("{field}.source.type"),
                document.source.is_unknown(),
                document.source.type_name(),
                DocumentSource::KNOWN_TYPES,
            )?,
            ContentBlock::Redacted(_) if allowed == Blocks::Message => {}
            ContentBlock::SearchResult(_) if allowed == Blocks::ToolResult => {}
            ContentBlock::Redacted(_)
            | ContentBlock::SearchResult(_)
            | ContentBlock::Unknown(_) => {
                let expected = match allowed {
                    Blocks::Message => {
                        "a user message holds only `text`, `image`, `document` and `redacted` blocks"
                    }
                    Blocks::ToolResult => {
                        "a tool result holds only `text`, `image`, `document` and `search_result` blocks"
                    }
                };
                return Err(invalid(&format!("{field}.type"), expected));
            }
        }
    }
    Ok(())
}

/// Checks a `user.define_outcome` (sent as an event or as an initial event of a new session).
pub(crate) fn define_outcome(field: &str, outcome: &UserDefineOutcomeParams) -> Result<()> {
    non_empty(&format!("{field}.description"), &outcome.description)?;
    let rubric = &outcome.rubric;
    known(
        &format!("{field}.rubric.type"),
        rubric.is_unknown(),
        rubric.type_name(),
        Rubric::KNOWN_TYPES,
    )?;
    match rubric {
        Rubric::Text(text) => {
            let content = format!("{field}.rubric.content");
            non_empty(&content, &text.content)?;
            max_chars(&content, &text.content, MAX_RUBRIC_CHARS)?;
        }
        Rubric::File(file) => non_empty(&format!("{field}.rubric.file_id"), file.file_id.as_str())?,
        Rubric::Unknown(_) => {}
    }
    if let Nullable::Value(iterations) = outcome.max_iterations {
        if !(1..=MAX_OUTCOME_ITERATIONS).contains(&iterations) {
            return Err(invalid(
                &format!("{field}.max_iterations"),
                format!("must be 1 to {MAX_OUTCOME_ITERATIONS}"),
            ));
        }
    }
    Ok(())
}

/// The types `types[]` may name: every stored type (the stream-only previews are never listed).
fn listable(kind: &str) -> bool {
    SessionEvent::KNOWN_TYPES.contains(&kind) && !matches!(kind, "event_start" | "event_delta")
}

impl Validate for EventListParams {
    fn validate(&self) -> Result<()> {
        if let Some(order) = &self.order {
            known(
                "order",
                order.is_unknown(),
                order.as_str(),
                EventOrder::KNOWN,
            )?;
        }
        for kind in &self.types {
            if !listable(kind) {
                let expected: Vec<&str> = SessionEvent::KNOWN_TYPES
                    .iter()
                    .copied()
                    .filter(|k| listable(k))
                    .collect();
                return known("types", true, kind, &expected);
            }
        }
        Ok(())
    }
}

impl Validate for StreamParams {
    fn validate(&self) -> Result<()> {
        for delta in &self.event_deltas {
            known(
                "event_deltas",
                delta.is_unknown(),
                delta.as_str(),
                DeltaType::KNOWN,
            )?;
        }
        Ok(())
    }
}

impl Validate for ThreadListParams {
    fn validate(&self) -> Result<()> {
        for status in &self.statuses {
            known(
                "statuses",
                status.is_unknown(),
                status.as_str(),
                SessionThreadStatus::KNOWN,
            )?;
        }
        Ok(())
    }
}

/// Query of a thread's event list: the cursor parameters only.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ThreadEventsQuery {
    /// Maximum events per page.
    pub(crate) limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    pub(crate) page: Option<String>,
}

impl Validate for ThreadEventsQuery {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(events: serde_json::Value) -> Result<()> {
        let body: SendEvents = serde_json::from_value(json!({ "events": events })).unwrap();
        body.validate()
    }

    fn message(events: serde_json::Value) -> String {
        check(events).unwrap_err().body().message.clone()
    }

    #[test]
    fn system_messages_go_last_after_their_event() {
        let user = json!({"type": "user.message", "content": [{"type": "text", "text": "hi"}]});
        let system =
            json!({"type": "system.message", "content": [{"type": "text", "text": "be brief"}]});
        let result = json!({"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_1"});
        let interrupt = json!({"type": "user.interrupt"});
        assert!(check(json!([user, system])).is_ok());
        assert!(check(json!([result, system])).is_ok());
        assert!(message(json!([system])).contains("directly follow"));
        assert!(message(json!([interrupt, system])).contains("directly follow"));
        assert!(message(json!([user, system, user])).contains("last event"));
        assert!(message(json!([user, system, system])).contains("`events[1]`"));
    }

    #[test]
    fn unknown_and_malformed_events_are_refused() {
        assert!(message(json!([])).contains("at least one event"));
        let m = message(json!([{"type": "user.hologram"}]));
        assert!(
            m.contains("`events[0].type`") && m.contains("user.hologram"),
            "{m}"
        );
        let m = message(json!([{"type": "user.message", "content": []}]));
        assert!(m.contains("`events[0].content`"), "{m}");
        let m = message(json!([{"type": "user.message", "content": [
            {"type": "search_result", "source": "https://x", "title": "t", "content": [],
             "citations": {"enabled": false}}]}]));
        assert!(m.contains("`events[0].content[0].type`"), "{m}");
        let m = message(
            json!([{"type": "user.tool_confirmation", "tool_use_id": "sevt_1",
            "result": "allow", "deny_message": "no"}]),
        );
        assert!(m.contains("deny_message"), "{m}");
        let m = message(
            json!([{"type": "user.tool_confirmation", "tool_use_id": "sevt_1",
            "result": "maybe"}]),
        );
        assert!(m.contains("`events[0].result`"), "{m}");
        let m = message(json!([{"type": "user.define_outcome", "description": "d",
            "rubric": {"type": "text", "content": "r"}, "max_iterations": 21}]));
        assert!(m.contains("max_iterations"), "{m}");
        let m = message(json!([{"type": "user.custom_tool_result", "custom_tool_use_id": ""}]));
        assert!(m.contains("custom_tool_use_id"), "{m}");
    }

    #[test]
    fn list_types_exclude_previews() {
        let params = EventListParams {
            types: vec!["agent.message".into(), "user.message".into()],
            ..EventListParams::default()
        };
        assert!(params.validate().is_ok());
        for bad in ["event_delta", "event_start", "agent.hologram"] {
            let params = EventListParams {
                types: vec![bad.into()],
                ..EventListParams::default()
            };
            let err = params.validate().unwrap_err();
            assert!(err.body().message.contains(bad), "{}", err.body().message);
        }
    }
}
