//! [`ToolOutput`], what a successful tool call returns, and [`custom_tool_result`], which turns a
//! call's outcome into the `user.custom_tool_result` event that answers it.

use serde::Serialize;
use steward_core::EventId;
use steward_core::content::ContentBlock;
use steward_core::event::UserEvent;

use crate::ToolError;

/// The result of a successful tool call: plain text, or content blocks (`text`, `image`,
/// `document`, `search_result`) as a `user.custom_tool_result` carries them.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    /// Plain text, sent as one `text` block.
    Text(String),
    /// Content blocks, sent as they are.
    Content(Vec<ContentBlock>),
}

impl ToolOutput {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// Content blocks.
    pub fn content(blocks: Vec<ContentBlock>) -> Self {
        Self::Content(blocks)
    }

    /// A value as pretty-printed JSON text.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, ToolError> {
        serde_json::to_string_pretty(value)
            .map(Self::Text)
            .map_err(|e| ToolError::other("failed to encode the result as JSON").with_source(e))
    }

    /// The text of the output: the text itself, or the `text` blocks joined by newlines
    /// (other blocks are skipped). Meant for logs and tests.
    pub fn to_text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Content(blocks) => blocks
                .iter()
                .filter_map(ContentBlock::as_text)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The content of the `user.custom_tool_result` (or `user.tool_result`) that carries this
    /// output.
    pub fn into_content(self) -> Vec<ContentBlock> {
        match self {
            Self::Text(text) => vec![ContentBlock::text(text)],
            Self::Content(blocks) => blocks,
        }
    }
}

impl From<String> for ToolOutput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for ToolOutput {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Vec<ContentBlock>> for ToolOutput {
    fn from(blocks: Vec<ContentBlock>) -> Self {
        Self::Content(blocks)
    }
}

impl From<ToolOutput> for Vec<ContentBlock> {
    fn from(output: ToolOutput) -> Self {
        output.into_content()
    }
}

/// The `user.custom_tool_result` answering the `agent.custom_tool_use` event
/// `custom_tool_use_id`: the output's content with `is_error: false`, or the error's model text
/// ([`ToolError::model_text`]) with `is_error: true`.
pub fn custom_tool_result(
    custom_tool_use_id: impl Into<EventId>,
    result: Result<ToolOutput, ToolError>,
) -> UserEvent {
    match result {
        Ok(output) => {
            UserEvent::custom_tool_result_blocks(custom_tool_use_id, output.into_content(), false)
        }
        Err(error) => {
            UserEvent::custom_tool_result_blocks(custom_tool_use_id, error.into_content(), true)
        }
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    #[test]
    fn text_output_becomes_one_text_block_of_a_successful_result() {
        let event = custom_tool_result("sevt_1", Ok(ToolOutput::text("42")));
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({
                "type": "user.custom_tool_result",
                "custom_tool_use_id": "sevt_1",
                "content": [{"type": "text", "text": "42"}],
                "is_error": false
            })
        );
    }

    #[test]
    fn error_becomes_kind_and_message_of_a_failed_result() {
        let event = custom_tool_result(
            "sevt_2",
            Err(ToolError::not_found("no such city").with_source(std::io::Error::other("x"))),
        );
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({
                "type": "user.custom_tool_result",
                "custom_tool_use_id": "sevt_2",
                "content": [{"type": "text", "text": "not_found: no such city"}],
                "is_error": true
            })
        );
    }

    #[test]
    fn content_blocks_are_kept_as_they_are() {
        let blocks = vec![
            ContentBlock::text("chart:"),
            ContentBlock::image_base64("image/png", "iVBORw0KGgo="),
        ];
        let output = ToolOutput::content(blocks.clone());
        assert_eq!(output.to_text(), "chart:");
        assert_eq!(output.into_content(), blocks);
    }

    #[test]
    fn json_output_is_pretty_text() {
        let output = ToolOutput::json(&json!({"a": 1})).unwrap();
        assert_eq!(output, ToolOutput::text("{\n  \"a\": 1\n}"));
    }
}
