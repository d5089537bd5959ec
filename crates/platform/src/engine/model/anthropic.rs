//! The `anthropic` provider: Claude through the Messages API (`POST /v1/messages`, streamed).
//!
//! **Request.** The agent's model passes through as `model`; `max_tokens` comes from the
//! configuration. The system prompt (the agent's, with the platform's notes and the memory
//! section) is one `system` text block; the enabled toolset tools and the agent's custom tools
//! become `tools` (name, description, `input_schema`). The conversation maps block for block:
//! text, images and documents as they are (an image or document that refers to an uploaded
//! file, which the Messages API cannot see, becomes a text note), tool calls as `tool_use`,
//! results as `tool_result` with `is_error`; a `system.message` becomes a user turn starting
//! `[system message]`, since the Messages API has no system role in `messages`; consecutive
//! turns of one role are merged, tool results first.
//!
//! **Prompt caching.** With caching on (the default), three `cache_control: {"type":
//! "ephemeral"}` breakpoints mark the end of the tool definitions, the system prompt (which
//! holds the memory note) and the conversation so far, so every call of an agent loop reads the
//! stable prefix and the previous steps from the cache. The usage of each call, cache writes and
//! reads included, lands on its `span.model_request_end` and in the session's `usage`; the
//! [`pricing`](super::pricing) table turns it into `list_cost`.
//!
//! **Response.** The stream's `text` blocks become the `agent.message`, `tool_use` blocks the
//! tool calls (run by the platform as `agent.tool_use`, or sent to the client as
//! `agent.custom_tool_use`), `thinking` and `redacted_thinking` blocks an `agent.thinking`. A
//! `stop_reason` of `refusal` is a [`ModelErrorKind::Refusal`] with the `stop_details`'
//! category and explanation. An `error` event inside the stream is classified like an HTTP
//! error (`overloaded_error` is retried). HTTP errors are classified as for every provider:
//! 429 and 529 (and 503) are retried after `retry-after`, any other status ends the turn with
//! the API's message.
//!
//! Not sent: `thinking` (the platform does not keep thinking blocks with their signatures in
//! the history, which a thinking model needs to continue after tool calls), the agent's
//! `effort` and `speed` (which not every model accepts).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use steward_core::agent::ModelConfig;
use steward_core::content::{ContentBlock, DocumentSource, ImageSource};
use steward_core::event::{JsonObject, RefusalCategory};
use steward_core::usage::ModelUsage;

use super::config::{AnthropicConfig, ConfigError, DEFAULT_ANTHROPIC_BASE_URL};
use super::pricing::{Price, claude_price};
use super::transport::{self, HttpFailure, SseEvent};
use super::{
    Block, Message, ModelError, ModelErrorKind, ModelProvider, ModelRequest, ModelResponse, Role,
    ThinkingBlock, ToolCall, ToolResultBlock,
};

/// The `anthropic-version` header sent.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The text a `system.message` turn starts with.
pub(super) const SYSTEM_MESSAGE_PREFIX: &str = "[system message]";

/// Claude through the Messages API (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    config: AnthropicConfig,
    client: reqwest::Client,
    url: String,
}

impl AnthropicProvider {
    /// The provider's name.
    pub const NAME: &'static str = "anthropic";

    /// A provider with these settings: the base URL must be http(s), and the hosted API needs
    /// a key.
    pub fn new(config: AnthropicConfig) -> Result<Self, ConfigError> {
        let base =
            transport::base_url(&config.base_url).map_err(|reason| ConfigError::BaseUrl {
                provider: Self::NAME,
                url: config.base_url.clone(),
                reason,
            })?;
        let hosted = transport::base_url(DEFAULT_ANTHROPIC_BASE_URL)
            .is_ok_and(|hosted| hosted.host_str() == base.host_str());
        if hosted && config.api_key.is_none() {
            return Err(ConfigError::MissingApiKey {
                url: config.base_url,
            });
        }
        if config.max_tokens == 0 {
            return Err(ConfigError::Invalid("max_tokens must be at least 1".into()));
        }
        let client = transport::client(&base).map_err(ConfigError::Client)?;
        Ok(Self {
            url: transport::endpoint(&base, "/v1/messages"),
            config,
            client,
        })
    }

    /// The JSON body of the Messages API request for a model call.
    pub fn request_body(&self, request: &ModelRequest) -> Value {
        let caching = self.config.prompt_caching;
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model.id.as_str()));
        body.insert("max_tokens".into(), json!(self.config.max_tokens));
        let mut system = json!({"type": "text", "text": request.system});
        if caching {
            mark_cache(&mut system);
        }
        if !request.system.is_empty() {
            body.insert("system".into(), json!([system]));
        }
        let mut messages = encode_messages(&request.messages);
        if caching {
            if let Some(last) = messages
                .last_mut()
                .and_then(|m| m["content"].as_array_mut())
                .and_then(|blocks| blocks.last_mut())
                .filter(|block| {
                    !matches!(
                        block["type"].as_str(),
                        Some("thinking" | "redacted_thinking")
                    )
                })
            {
                mark_cache(last);
            }
        }
        body.insert("messages".into(), Value::Array(messages));
        if !request.tools.is_empty() {
            let mut tools: Vec<Value> = request
                .tools
                .iter()
                .map(|tool| {
                    json!({"name": tool.name, "description": tool.description,
                        "input_schema": tool.input_schema})
                })
                .collect();
            if caching {
                if let Some(last) = tools.last_mut() {
                    mark_cache(last);
                }
            }
            body.insert("tools".into(), Value::Array(tools));
        }
        body.insert("stream".into(), json!(true));
        Value::Object(body)
    }

    async fn call(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let body = self.request_body(request);
        let mut builder = self
            .client
            .post(&self.url)
            .header("anthropic-version", ANTHROPIC_VERSION)
            .header("accept", "text/event-stream")
            .json(&body);
        if let Some(key) = &self.config.api_key {
            builder = builder.header("x-api-key", key.expose());
        }
        let response = transport::send(builder, Self::NAME, &self.url).await?;
        if !response.status().is_success() {
            let failure = HttpFailure::read(response).await;
            return Err(failure.into_error(Self::NAME, self.config.api_key.as_ref()));
        }
        let mut stream = StreamState::default();
        transport::read_events(response, Self::NAME, |event| stream.on_event(event))
            .await
            .map_err(|e| self.redacted(e))?;
        stream.finish().map_err(|e| self.redacted(e))
    }

    fn redacted(&self, mut error: ModelError) -> ModelError {
        error.message = transport::redact(&error.message, self.config.api_key.as_ref());
        error
    }
}

#[async_trait]
impl ModelProvider for AnthropicProvider {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn complete(&self, request: ModelRequest) -> Result<ModelResponse, ModelError> {
        transport::with_timeout(Self::NAME, self.config.timeout, self.call(&request)).await
    }

    fn describe(&self) -> String {
        format!(
            "anthropic (Messages API at {}, {}, prompt caching {})",
            self.url,
            if self.config.api_key.is_some() {
                "with an API key"
            } else {
                "without an API key"
            },
            if self.config.prompt_caching {
                "on"
            } else {
                "off"
            }
        )
    }

    fn price(&self, model: &ModelConfig) -> Option<Price> {
        claude_price(model.id.as_str())
    }
}

/// Adds an ephemeral cache breakpoint to a block.
fn mark_cache(block: &mut Value) {
    if let Some(object) = block.as_object_mut() {
        object.insert("cache_control".into(), json!({"type": "ephemeral"}));
    }
}

/// The conversation as Messages API `messages`.
pub(super) fn encode_messages(messages: &[Message]) -> Vec<Value> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, mut blocks) = match message.role {
            Role::Assistant => ("assistant", encode_blocks(&message.content)),
            Role::User => ("user", encode_blocks(&message.content)),
            Role::System => {
                let text: Vec<&str> = message.content.iter().filter_map(Block::as_text).collect();
                let text = format!("{SYSTEM_MESSAGE_PREFIX}\n{}", text.join("\n"));
                ("user", vec![json!({"type": "text", "text": text})])
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, content)) if *last == role => {
                content.append(&mut blocks);
                content.sort_by_key(|b| b["type"] != "tool_result");
            }
            _ => out.push((role, blocks)),
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

fn encode_blocks(blocks: &[Block]) -> Vec<Value> {
    blocks.iter().filter_map(encode_block).collect()
}

fn encode_block(block: &Block) -> Option<Value> {
    match block {
        Block::Content(content) => encode_content(content),
        Block::ToolUse(call) => Some(json!({"type": "tool_use", "id": call.id,
            "name": call.name, "input": call.input})),
        Block::ToolResult(result) => Some(encode_result(result)),
        Block::Thinking(thinking) => match (&thinking.redacted_data, &thinking.signature) {
            (Some(data), _) => Some(json!({"type": "redacted_thinking", "data": data})),
            (None, Some(signature)) => Some(json!({"type": "thinking",
                "thinking": thinking.thinking, "signature": signature})),
            (None, None) => None,
        },
    }
}

fn encode_result(result: &ToolResultBlock) -> Value {
    let mut content: Vec<Value> = result.content.iter().filter_map(encode_content).collect();
    if content.is_empty() {
        // An empty result is allowed, but a result with no blocks reads better to the model
        // as a word.
        content.push(
            json!({"type": "text", "text": if result.is_error { "error" } else { "(no output)" }}),
        );
    }
    json!({"type": "tool_result", "tool_use_id": result.tool_use_id, "content": content,
        "is_error": result.is_error})
}

/// A content block as the Messages API takes it; `None` for one it cannot take and that
/// carries nothing (empty text, redacted content).
fn encode_content(block: &ContentBlock) -> Option<Value> {
    match block {
        ContentBlock::Text(text) if text.text.is_empty() => None,
        ContentBlock::Text(text) => Some(json!({"type": "text", "text": text.text})),
        ContentBlock::Image(image) => match &image.source {
            ImageSource::File(file) => Some(file_note("image", file.file_id.as_str())),
            _ => serde_json::to_value(block).ok(),
        },
        ContentBlock::Document(document) => match &document.source {
            DocumentSource::File(file) => Some(file_note("document", file.file_id.as_str())),
            _ => serde_json::to_value(block).ok(),
        },
        ContentBlock::SearchResult(_) => serde_json::to_value(block).ok(),
        ContentBlock::Redacted(_) | ContentBlock::Unknown(_) => None,
    }
}

/// The text that stands in for an uploaded file the model cannot see.
pub(super) fn file_note(kind: &str, file_id: &str) -> Value {
    json!({"type": "text", "text": format!("[{kind} {file_id}: uploaded files are not available to this model]")})
}

/// A content block of the response being streamed.
#[derive(Debug)]
enum Partial {
    Text(String),
    ToolUse {
        id: String,
        name: String,
        start: Option<JsonObject>,
        json: String,
    },
    Thinking(ThinkingBlock),
    Other,
}

/// What the stream has said so far.
#[derive(Debug, Default)]
struct StreamState {
    blocks: BTreeMap<u64, Partial>,
    usage: ModelUsage,
    stop_reason: Option<String>,
    stop_details: Option<Value>,
    started: bool,
    stopped: bool,
}

impl StreamState {
    /// Takes one event; returns whether to keep reading.
    fn on_event(&mut self, event: SseEvent) -> Result<bool, ModelError> {
        let value: Value = serde_json::from_str(&event.data).map_err(|e| {
            ModelError::new(
                ModelErrorKind::Failed,
                format!("anthropic: undecodable stream event: {e}"),
            )
        })?;
        let kind = value["type"]
            .as_str()
            .or(event.event.as_deref())
            .unwrap_or_default();
        let index = value["index"].as_u64().unwrap_or_default();
        match kind {
            "message_start" => {
                self.started = true;
                update_usage(&mut self.usage, &value["message"]["usage"]);
            }
            "content_block_start" => {
                let block = &value["content_block"];
                let partial = match block["type"].as_str() {
                    Some("text") => Partial::Text(block["text"].as_str().unwrap_or("").to_owned()),
                    Some("tool_use") => Partial::ToolUse {
                        id: block["id"].as_str().unwrap_or_default().to_owned(),
                        name: block["name"].as_str().unwrap_or_default().to_owned(),
                        start: block["input"].as_object().cloned(),
                        json: String::new(),
                    },
                    Some("thinking") => Partial::Thinking(ThinkingBlock {
                        thinking: block["thinking"].as_str().unwrap_or("").to_owned(),
                        signature: block["signature"]
                            .as_str()
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned),
                        redacted_data: None,
                    }),
                    Some("redacted_thinking") => Partial::Thinking(ThinkingBlock {
                        redacted_data: Some(block["data"].as_str().unwrap_or("").to_owned()),
                        ..ThinkingBlock::default()
                    }),
                    other => {
                        tracing::debug!(block = ?other, "ignoring a content block");
                        Partial::Other
                    }
                };
                self.blocks.insert(index, partial);
            }
            "content_block_delta" => {
                let delta = &value["delta"];
                let text = |field: &str| delta[field].as_str().unwrap_or("");
                match (self.blocks.get_mut(&index), delta["type"].as_str()) {
                    (Some(Partial::Text(out)), Some("text_delta")) => out.push_str(text("text")),
                    (Some(Partial::ToolUse { json, .. }), Some("input_json_delta")) => {
                        json.push_str(text("partial_json"));
                    }
                    (Some(Partial::Thinking(out)), Some("thinking_delta")) => {
                        out.thinking.push_str(text("thinking"));
                    }
                    (Some(Partial::Thinking(out)), Some("signature_delta")) => {
                        out.signature
                            .get_or_insert_with(String::new)
                            .push_str(text("signature"));
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = value["delta"]["stop_reason"].as_str() {
                    self.stop_reason = Some(reason.to_owned());
                }
                if value["delta"]["stop_details"].is_object() {
                    self.stop_details = Some(value["delta"]["stop_details"].clone());
                }
                update_usage(&mut self.usage, &value["usage"]);
            }
            "message_stop" => {
                self.stopped = true;
                return Ok(false);
            }
            "error" => {
                let error = &value["error"];
                let error_type = error["type"].as_str().unwrap_or("error");
                let kind = match error_type {
                    "overloaded_error" => ModelErrorKind::Overloaded,
                    "rate_limit_error" => ModelErrorKind::RateLimited,
                    _ => ModelErrorKind::Failed,
                };
                let message = error["message"].as_str().unwrap_or("no message");
                return Err(ModelError::new(
                    kind,
                    format!("anthropic: {error_type} during the response: {message}"),
                ));
            }
            _ => {}
        }
        Ok(true)
    }

    /// The response, once the stream has ended.
    fn finish(self) -> Result<ModelResponse, ModelError> {
        if !self.stopped {
            let what = if self.started {
                "ended before message_stop"
            } else {
                "ended before message_start"
            };
            return Err(ModelError::new(
                ModelErrorKind::Failed,
                format!("anthropic: the response stream {what}"),
            ));
        }
        if self.stop_reason.as_deref() == Some("refusal") {
            let details = self.stop_details.unwrap_or(Value::Null);
            let category = details["category"].as_str().map(RefusalCategory::from);
            let explanation = details["explanation"].as_str().map(str::to_owned);
            return Err(ModelError::new(
                ModelErrorKind::Refusal {
                    category,
                    explanation,
                },
                "anthropic: the model refused",
            )
            .with_usage(self.usage));
        }
        let mut content = Vec::new();
        for partial in self.blocks.into_values() {
            match partial {
                Partial::Text(text) => content.push(Block::text(text)),
                Partial::ToolUse {
                    id,
                    name,
                    start,
                    json,
                } => {
                    let input = if json.trim().is_empty() {
                        start.unwrap_or_default()
                    } else {
                        match serde_json::from_str::<Value>(&json) {
                            Ok(Value::Object(input)) => input,
                            _ => {
                                let why = if self.stop_reason.as_deref() == Some("max_tokens") {
                                    " (the reply reached max_tokens)"
                                } else {
                                    ""
                                };
                                return Err(ModelError::new(
                                    ModelErrorKind::Failed,
                                    format!("anthropic: the input of the {name} call is not a JSON object{why}"),
                                )
                                .with_usage(self.usage));
                            }
                        }
                    };
                    content.push(Block::ToolUse(ToolCall { id, name, input }));
                }
                Partial::Thinking(thinking) => content.push(Block::Thinking(thinking)),
                Partial::Other => {}
            }
        }
        Ok(ModelResponse {
            content,
            usage: self.usage,
            list_cost: None,
        })
    }
}

/// Applies a `usage` object: every count it carries replaces the one so far (the counts of
/// `message_delta` are cumulative).
fn update_usage(usage: &mut ModelUsage, value: &Value) {
    let set = |field: &mut u64, name: &str| {
        if let Some(n) = value[name].as_u64() {
            *field = n;
        }
    };
    set(&mut usage.input_tokens, "input_tokens");
    set(&mut usage.output_tokens, "output_tokens");
    set(
        &mut usage.cache_creation_input_tokens,
        "cache_creation_input_tokens",
    );
    set(
        &mut usage.cache_read_input_tokens,
        "cache_read_input_tokens",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_messages_become_user_turns_and_roles_merge_results_first() {
        let messages = vec![
            Message {
                role: Role::User,
                content: vec![Block::text("hi"), Block::text("")],
            },
            Message {
                role: Role::Assistant,
                content: vec![Block::ToolUse(ToolCall {
                    id: "sevt_1".into(),
                    name: "read".into(),
                    input: JsonObject::new(),
                })],
            },
            Message {
                role: Role::System,
                content: vec![Block::text("be brief")],
            },
            Message {
                role: Role::User,
                content: vec![Block::ToolResult(ToolResultBlock {
                    tool_use_id: "sevt_1".into(),
                    content: vec![],
                    is_error: true,
                })],
            },
        ];
        assert_eq!(
            Value::Array(encode_messages(&messages)),
            json!([
                {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "sevt_1",
                    "name": "read", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "sevt_1",
                        "content": [{"type": "text", "text": "error"}], "is_error": true},
                    {"type": "text", "text": "[system message]\nbe brief"},
                ]},
            ])
        );
    }

    #[test]
    fn uploaded_files_become_notes() {
        assert_eq!(
            encode_content(&ContentBlock::image_file("file_1")),
            Some(json!({"type": "text",
                "text": "[image file_1: uploaded files are not available to this model]"}))
        );
        assert_eq!(
            encode_content(&ContentBlock::document_text("x")),
            Some(json!({"type": "document",
                "source": {"type": "text", "data": "x", "media_type": "text/plain"}}))
        );
        assert_eq!(encode_content(&ContentBlock::redacted()), None);
    }
}
