//! The `openai` provider: any server of OpenAI's chat completions API
//! (`POST {base_url}/chat/completions` with `tools`, streamed), such as a local model server.
//!
//! **Request.** The agent's model name goes through the configured model map
//! ([`OpenAiConfig::map_model`]). The system prompt is the first message (`role: system`);
//! the tools are `function` tools with their JSON Schemas as `parameters`. Each assistant step
//! is one `assistant` message with its text and `tool_calls` (arguments as a JSON string);
//! its results follow as `tool` messages (`tool_call_id`, the result's text, prefixed `Error:`
//! when the call failed, since the format has no error flag). User turns are text, or parts
//! with `image_url` (data URLs for inline images) when they hold images; a document is sent as
//! its text when it has one; an uploaded file, which the server cannot see, becomes a note.
//! A `system.message` becomes a user message starting `[system message]` (many local chat
//! templates refuse a system message that is not the first). `stream_options.include_usage`
//! asks for the token counts; `max_tokens` is sent only when configured.
//!
//! **Response.** `data: {chat.completion.chunk}` lines until `data: [DONE]`: `content` deltas
//! become the `agent.message`, `tool_calls` deltas (by `index`, with the arguments in
//! fragments) the tool calls, and `reasoning_content` / `reasoning` deltas (which local
//! reasoning models send) an `agent.thinking`. A `finish_reason` of `content_filter` is a
//! refusal. Usage maps `prompt_tokens` minus the cached ones to `input_tokens` and
//! `prompt_tokens_details.cached_tokens` to `cache_read_input_tokens`. A server that answers a
//! streamed request with a whole `chat.completion` object (JSON) is understood too. The
//! provider has no prices: sessions on it track tokens, not cost.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use steward_core::content::{ContentBlock, DocumentSource, ImageSource};
use steward_core::event::JsonObject;
use steward_core::usage::ModelUsage;

use super::anthropic::SYSTEM_MESSAGE_PREFIX;
use super::config::{ConfigError, OpenAiConfig};
use super::transport::{self, HttpFailure, SseEvent};
use super::{
    Block, Message, ModelError, ModelErrorKind, ModelProvider, ModelRequest, ModelResponse, Role,
    ThinkingBlock, ToolCall, ToolResultBlock,
};

/// Any chat completions server (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    config: OpenAiConfig,
    client: reqwest::Client,
    url: String,
}

impl OpenAiProvider {
    /// The provider's name.
    pub const NAME: &'static str = "openai";

    /// A provider with these settings (the base URL must be http(s)).
    pub fn new(config: OpenAiConfig) -> Result<Self, ConfigError> {
        let base =
            transport::base_url(&config.base_url).map_err(|reason| ConfigError::BaseUrl {
                provider: Self::NAME,
                url: config.base_url.clone(),
                reason,
            })?;
        if config.max_tokens == Some(0) {
            return Err(ConfigError::Invalid("max_tokens must be at least 1".into()));
        }
        let client = transport::client(&base).map_err(ConfigError::Client)?;
        Ok(Self {
            url: transport::endpoint(&base, "/chat/completions"),
            config,
            client,
        })
    }

    /// The JSON body of the chat completions request for a model call.
    pub fn request_body(&self, request: &ModelRequest) -> Value {
        let mut body = Map::new();
        body.insert(
            "model".into(),
            json!(self.config.map_model(request.model.id.as_str())),
        );
        let mut messages = Vec::new();
        if !request.system.is_empty() {
            messages.push(json!({"role": "system", "content": request.system}));
        }
        messages.extend(encode_messages(&request.messages));
        body.insert("messages".into(), Value::Array(messages));
        if !request.tools.is_empty() {
            let tools: Vec<Value> = request
                .tools
                .iter()
                .map(|tool| {
                    json!({"type": "function", "function": {"name": tool.name,
                        "description": tool.description, "parameters": tool.input_schema}})
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
        }
        if let Some(max_tokens) = self.config.max_tokens {
            body.insert("max_tokens".into(), json!(max_tokens));
        }
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
        Value::Object(body)
    }

    async fn call(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let body = self.request_body(request);
        let mut builder = self
            .client
            .post(&self.url)
            .header("accept", "text/event-stream")
            .json(&body);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        let response = transport::send(builder, Self::NAME, &self.url).await?;
        if !response.status().is_success() {
            let failure = HttpFailure::read(response).await;
            return Err(failure.into_error(Self::NAME, self.config.api_key.as_ref()));
        }
        let whole = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let mut stream = StreamState::default();
        if whole {
            let text = response.text().await.map_err(|error| {
                ModelError::new(
                    ModelErrorKind::Failed,
                    format!(
                        "openai: the response broke off: {}",
                        transport::chain(&error)
                    ),
                )
            })?;
            stream.whole(&text)?;
        } else {
            transport::read_events(response, Self::NAME, |event| stream.on_event(event)).await?;
        }
        stream.finish().map_err(|mut error| {
            error.message = transport::redact(&error.message, self.config.api_key.as_ref());
            error
        })
    }
}

#[async_trait]
impl ModelProvider for OpenAiProvider {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn complete(&self, request: ModelRequest) -> Result<ModelResponse, ModelError> {
        transport::with_timeout(Self::NAME, self.config.timeout, self.call(&request)).await
    }

    fn describe(&self) -> String {
        let map: Vec<String> = self
            .config
            .model_map
            .iter()
            .map(|(from, to)| format!("{from}={to}"))
            .collect();
        format!(
            "openai (chat completions at {}, {}, model map: {})",
            self.url,
            if self.config.api_key.is_some() {
                "with an API key"
            } else {
                "without an API key"
            },
            if map.is_empty() {
                "none".to_owned()
            } else {
                map.join(",")
            }
        )
    }
}

/// The conversation as chat completions `messages` (without the system prompt).
fn encode_messages(messages: &[Message]) -> Vec<Value> {
    let mut out = Vec::new();
    for message in messages {
        match message.role {
            Role::Assistant => {
                let text: Vec<&str> = message
                    .content
                    .iter()
                    .filter_map(Block::as_text)
                    .filter(|t| !t.is_empty())
                    .collect();
                let calls: Vec<Value> = message
                    .content
                    .iter()
                    .filter_map(|block| match block {
                        Block::ToolUse(call) => Some(json!({"id": call.id, "type": "function",
                            "function": {"name": call.name,
                                "arguments": Value::Object(call.input.clone()).to_string()}})),
                        _ => None,
                    })
                    .collect();
                if text.is_empty() && calls.is_empty() {
                    continue;
                }
                let mut object = Map::new();
                object.insert("role".into(), json!("assistant"));
                object.insert(
                    "content".into(),
                    if text.is_empty() {
                        Value::Null
                    } else {
                        json!(text.join("\n"))
                    },
                );
                if !calls.is_empty() {
                    object.insert("tool_calls".into(), Value::Array(calls));
                }
                out.push(Value::Object(object));
            }
            Role::User => {
                for block in &message.content {
                    if let Block::ToolResult(result) = block {
                        out.push(json!({"role": "tool", "tool_call_id": result.tool_use_id,
                            "content": result_text(result)}));
                    }
                }
                let parts: Vec<Value> = message
                    .content
                    .iter()
                    .filter_map(|block| match block {
                        Block::Content(content) => content_part(content),
                        _ => None,
                    })
                    .collect();
                if let Some(content) = user_content(parts) {
                    out.push(json!({"role": "user", "content": content}));
                }
            }
            Role::System => {
                let text: Vec<&str> = message.content.iter().filter_map(Block::as_text).collect();
                out.push(json!({"role": "user",
                    "content": format!("{SYSTEM_MESSAGE_PREFIX}\n{}", text.join("\n"))}));
            }
        }
    }
    out
}

/// A tool result as the text of a `tool` message.
fn result_text(result: &ToolResultBlock) -> String {
    let parts: Vec<String> = result
        .content
        .iter()
        .filter_map(content_part)
        .map(|part| match part["type"].as_str() {
            Some("text") => part["text"].as_str().unwrap_or_default().to_owned(),
            _ => "[image]".to_owned(),
        })
        .collect();
    let text = parts.join("\n");
    if result.is_error {
        format!("Error: {text}")
    } else {
        text
    }
}

/// A user content block as a message part (`text` or `image_url`); `None` for one that
/// carries nothing.
fn content_part(block: &ContentBlock) -> Option<Value> {
    let text = |text: String| Some(json!({"type": "text", "text": text}));
    let note =
        |kind: &str, what: &str| text(format!("[{kind} {what}: not available to this model]"));
    match block {
        ContentBlock::Text(t) if t.text.is_empty() => None,
        ContentBlock::Text(t) => text(t.text.clone()),
        ContentBlock::Image(image) => match &image.source {
            ImageSource::Base64(source) => Some(json!({"type": "image_url", "image_url":
                {"url": format!("data:{};base64,{}", source.media_type, source.data)}})),
            ImageSource::Url(source) => {
                Some(json!({"type": "image_url", "image_url": {"url": source.url}}))
            }
            ImageSource::File(file) => note("image", file.file_id.as_str()),
            ImageSource::Unknown(_) => None,
        },
        ContentBlock::Document(document) => match &document.source {
            DocumentSource::Text(source) => {
                let title = document
                    .title
                    .value()
                    .map(|t| format!("{t}\n"))
                    .unwrap_or_default();
                text(format!("{title}{}", source.data))
            }
            DocumentSource::Url(source) => note("document", &source.url),
            DocumentSource::File(file) => note("document", file.file_id.as_str()),
            DocumentSource::Base64(source) => note("document", &source.media_type),
            DocumentSource::Unknown(_) => None,
        },
        ContentBlock::SearchResult(result) => {
            let body: Vec<&str> = result.content.iter().filter_map(|c| c.as_text()).collect();
            text(format!(
                "{} ({})\n{}",
                result.title,
                result.source,
                body.join("\n")
            ))
        }
        ContentBlock::Redacted(_) | ContentBlock::Unknown(_) => None,
    }
}

/// A user message's content: a string when it is all text, else the parts.
fn user_content(parts: Vec<Value>) -> Option<Value> {
    if parts.is_empty() {
        return None;
    }
    if parts.iter().all(|p| p["type"] == "text") {
        let text: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        return Some(json!(text.join("\n")));
    }
    Some(Value::Array(parts))
}

/// A tool call being streamed.
#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// What the stream has said so far.
#[derive(Debug, Default)]
struct StreamState {
    text: String,
    reasoning: String,
    calls: BTreeMap<u64, PartialCall>,
    finish_reason: Option<String>,
    usage: ModelUsage,
    done: bool,
}

impl StreamState {
    /// Takes one event; returns whether to keep reading.
    fn on_event(&mut self, event: SseEvent) -> Result<bool, ModelError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(false);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| {
            ModelError::new(
                ModelErrorKind::Failed,
                format!("openai: undecodable stream chunk: {e}"),
            )
        })?;
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            let message = error["message"]
                .as_str()
                .map_or_else(|| error.to_string(), str::to_owned);
            let kind = match error["code"].as_str().or(error["type"].as_str()) {
                Some("rate_limit_exceeded" | "rate_limit_error") => ModelErrorKind::RateLimited,
                Some("overloaded_error" | "server_overloaded") => ModelErrorKind::Overloaded,
                _ => ModelErrorKind::Failed,
            };
            return Err(ModelError::new(
                kind,
                format!("openai: error during the response: {message}"),
            ));
        }
        self.take_usage(&chunk["usage"]);
        let Some(choice) = chunk["choices"].as_array().and_then(|c| c.first()) else {
            return Ok(true);
        };
        let delta = &choice["delta"];
        if let Some(text) = delta["content"].as_str() {
            self.text.push_str(text);
        }
        for field in ["reasoning_content", "reasoning"] {
            if let Some(text) = delta[field].as_str() {
                self.reasoning.push_str(text);
            }
        }
        for (position, call) in delta["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let index = call["index"].as_u64().unwrap_or(position as u64);
            let partial = self.calls.entry(index).or_default();
            // Some servers repeat the ID and name in every fragment of a call.
            if let Some(id) = call["id"].as_str().filter(|_| partial.id.is_empty()) {
                partial.id = id.to_owned();
            }
            if let Some(name) = call["function"]["name"].as_str() {
                if name != partial.name {
                    partial.name.push_str(name);
                }
            }
            if let Some(arguments) = call["function"]["arguments"].as_str() {
                partial.arguments.push_str(arguments);
            }
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            self.finish_reason = Some(reason.to_owned());
        }
        Ok(true)
    }

    /// Takes a whole (unstreamed) `chat.completion`.
    fn whole(&mut self, text: &str) -> Result<(), ModelError> {
        let completion: Value = serde_json::from_str(text).map_err(|e| {
            ModelError::new(
                ModelErrorKind::Failed,
                format!("openai: undecodable response: {e}"),
            )
        })?;
        self.take_usage(&completion["usage"]);
        let choice = &completion["choices"][0];
        let message = &choice["message"];
        self.text = message["content"].as_str().unwrap_or_default().to_owned();
        self.reasoning = message["reasoning_content"]
            .as_str()
            .or(message["reasoning"].as_str())
            .unwrap_or_default()
            .to_owned();
        for (index, call) in message["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            self.calls.insert(
                index as u64,
                PartialCall {
                    id: call["id"].as_str().unwrap_or_default().to_owned(),
                    name: call["function"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    arguments: call["function"]["arguments"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                },
            );
        }
        self.finish_reason = choice["finish_reason"].as_str().map(str::to_owned);
        self.done = true;
        Ok(())
    }

    fn take_usage(&mut self, usage: &Value) {
        if !usage.is_object() {
            return;
        }
        let count = |v: &Value| v.as_u64().unwrap_or(0);
        let prompt = count(&usage["prompt_tokens"]);
        let cached = count(&usage["prompt_tokens_details"]["cached_tokens"]).min(prompt);
        self.usage = ModelUsage {
            input_tokens: prompt - cached,
            output_tokens: count(&usage["completion_tokens"]),
            cache_read_input_tokens: cached,
            ..ModelUsage::default()
        };
    }

    /// The response, once the stream has ended.
    fn finish(self) -> Result<ModelResponse, ModelError> {
        if !self.done && self.finish_reason.is_none() {
            return Err(ModelError::new(
                ModelErrorKind::Failed,
                "openai: the response stream ended before its finish_reason",
            ));
        }
        if self.finish_reason.as_deref() == Some("content_filter") {
            return Err(ModelError::new(
                ModelErrorKind::Refusal {
                    category: None,
                    explanation: None,
                },
                "openai: the reply was stopped by the server's content filter",
            )
            .with_usage(self.usage));
        }
        let mut content = Vec::new();
        if !self.reasoning.is_empty() {
            content.push(Block::Thinking(ThinkingBlock {
                thinking: self.reasoning,
                ..ThinkingBlock::default()
            }));
        }
        if !self.text.is_empty() {
            content.push(Block::text(self.text));
        }
        for call in self.calls.into_values() {
            let input: JsonObject = if call.arguments.trim().is_empty() {
                JsonObject::new()
            } else {
                match serde_json::from_str::<Value>(&call.arguments) {
                    Ok(Value::Object(input)) => input,
                    _ => {
                        return Err(ModelError::new(
                            ModelErrorKind::Failed,
                            format!(
                                "openai: the arguments of the {} call are not a JSON object: {}",
                                call.name, call.arguments
                            ),
                        )
                        .with_usage(self.usage));
                    }
                }
            };
            content.push(Block::ToolUse(ToolCall {
                id: call.id,
                name: call.name,
                input,
            }));
        }
        Ok(ModelResponse {
            content,
            usage: self.usage,
            list_cost: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_become_tool_messages_before_the_users_text() {
        let messages = vec![
            Message {
                role: Role::Assistant,
                content: vec![
                    Block::text("Looking."),
                    Block::ToolUse(ToolCall {
                        id: "sevt_1".into(),
                        name: "glob".into(),
                        input: json!({"pattern": "*"}).as_object().unwrap().clone(),
                    }),
                ],
            },
            Message {
                role: Role::User,
                content: vec![
                    Block::ToolResult(ToolResultBlock {
                        tool_use_id: "sevt_1".into(),
                        content: vec![ContentBlock::text("no matches")],
                        is_error: true,
                    }),
                    Block::text("and?"),
                    Block::Content(ContentBlock::image_base64("image/png", "AAAA")),
                ],
            },
            Message {
                role: Role::System,
                content: vec![Block::text("hurry")],
            },
        ];
        assert_eq!(
            Value::Array(encode_messages(&messages)),
            json!([
                {"role": "assistant", "content": "Looking.", "tool_calls": [{"id": "sevt_1",
                    "type": "function",
                    "function": {"name": "glob", "arguments": "{\"pattern\":\"*\"}"}}]},
                {"role": "tool", "tool_call_id": "sevt_1", "content": "Error: no matches"},
                {"role": "user", "content": [{"type": "text", "text": "and?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
                {"role": "user", "content": "[system message]\nhurry"},
            ])
        );
    }

    #[test]
    fn repeated_ids_and_names_in_fragments_are_taken_once() {
        let mut state = StreamState::default();
        for fragment in [r#"{"city""#, r#": "Oslo"}"#] {
            let chunk = json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0,
                "id": "call_9", "type": "function",
                "function": {"name": "get_weather", "arguments": fragment}}]},
                "finish_reason": null}]});
            let event = SseEvent {
                event: None,
                data: chunk.to_string(),
            };
            assert!(state.on_event(event).unwrap());
        }
        let done = SseEvent {
            event: None,
            data: "[DONE]".into(),
        };
        assert!(!state.on_event(done).unwrap());
        assert_eq!(
            state.finish().unwrap().content,
            vec![Block::ToolUse(ToolCall {
                id: "call_9".into(),
                name: "get_weather".into(),
                input: json!({"city": "Oslo"}).as_object().unwrap().clone(),
            })]
        );
    }

    #[test]
    fn whole_completions_are_understood() {
        let mut state = StreamState::default();
        state
            .whole(
                r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,
                "message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1",
                "type":"function","function":{"name":"read","arguments":"{\"file_path\":\"a\"}"}}]},
                "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":3,
                "prompt_tokens_details":{"cached_tokens":4}}}"#,
            )
            .unwrap();
        let response = state.finish().unwrap();
        assert_eq!(
            response.content,
            vec![Block::ToolUse(ToolCall {
                id: "call_1".into(),
                name: "read".into(),
                input: json!({"file_path": "a"}).as_object().unwrap().clone(),
            })]
        );
        assert_eq!(
            (
                response.usage.input_tokens,
                response.usage.cache_read_input_tokens,
                response.usage.output_tokens
            ),
            (6, 4, 3)
        );
    }
}
