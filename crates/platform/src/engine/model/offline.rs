//! The offline model: a deterministic test and demo model, used when no model provider is
//! configured. It is not a language model: it follows fixed rules, acting only through the
//! tools it is offered and the events the loop emits for them, so the same message and the same
//! memory always give the same events and text, and transcripts can be snapshot-tested. Its
//! replies start with `[offline model]`, and the platform logs at start that it is in use.
//!
//! For the last user message of the conversation it works in steps, one model call each:
//!
//! 1. **Look through memory.** When memory stores are mounted (it reads them from the memory
//!    section of the system prompt, written by the engine's `prompt.rs`) and `glob` is offered, it
//!    globs every store (`**/*`). Then, for the message's words of four or more letters, it
//!    greps every store that has files for those words (whole words, any case); without
//!    `grep` it reads each listed file (at most 20) instead.
//! 2. **Act**, by the first rule that applies:
//!    * **Custom and MCP tools.** When the message names one or more of the agent's custom
//!      tools or MCP tools (as whole words; an MCP tool by the name the model sees,
//!      `mcp__<server>__<tool>`, see the engine's `mcp` module), it calls all of them in one
//!      turn, each with the JSON object that follows its name (after optional `:` or `with`),
//!      or `{}`, and once every result is in, answers with the results' text (`- <name>: <text>`,
//!      or `- <name> failed: <text>` for an error result).
//!    * **A durable fact.** When the message contains `remember`, `I prefer`, `from now on`,
//!      `always`, `never` or `my … is`, it writes the first sentence that does into the first
//!      read-write store (or, when every store is read-only, the first store, and reports the
//!      tool's error) at `<mount>/<topic>.md`: the topic is what follows `my` in `my … is`,
//!      otherwise the sentence's last word of four or more letters other than the trigger
//!      words. When the file exists it reads it first and appends the sentence as a new line
//!      (or says it is already on record). It confirms in one line.
//!    * **Otherwise** it answers with the memory lines that matched, or says that it has
//!      nothing on record.
//!
//! Usage is an estimate (a token per four characters of input and output); the offline model
//! has no price, so it never adds to a session's list cost.

use std::collections::BTreeSet;

use async_trait::async_trait;
use regex::Regex;
use serde_json::{Value, json};
use steward_core::event::JsonObject;
use steward_core::usage::ModelUsage;

use super::{
    Block, Message, ModelError, ModelProvider, ModelRequest, ModelResponse, Role, ToolCall,
    ToolResultBlock,
};
use crate::engine::prompt::parse_mounts;

/// How the offline model introduces each reply.
pub const REPLY_PREFIX: &str = "[offline model] ";

/// The names of the built-in toolset's tools; every other offered tool is a custom or MCP tool
/// (called by the same rule).
const TOOLSET: [&str; 6] = ["bash", "read", "write", "edit", "glob", "grep"];

/// Most files read when there is no `grep`.
const MAX_READS: usize = 20;

/// Words that make a message a durable fact, and are never a topic.
const TRIGGER_WORDS: [&str; 4] = ["remember", "prefer", "always", "never"];

/// The offline model (see the [module docs](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineModel;

impl OfflineModel {
    /// The provider's name.
    pub const NAME: &'static str = "offline";
}

#[async_trait]
impl ModelProvider for OfflineModel {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn complete(&self, request: ModelRequest) -> Result<ModelResponse, ModelError> {
        Ok(respond(&request))
    }
}

/// The offline model's answer to a request (pure).
pub(crate) fn respond(request: &ModelRequest) -> ModelResponse {
    let content = Turn::read(request).next();
    let usage = estimate(request, &content);
    ModelResponse {
        content,
        usage,
        list_cost: None,
    }
}

/// A tool call of the current turn and its result, once settled.
type Call<'a> = (&'a ToolCall, Option<&'a ToolResultBlock>);

/// What the model knows at this step of the turn.
struct Turn<'a> {
    /// The user's message.
    text: String,
    /// Mounted stores: (mount path, read-only).
    mounts: Vec<(String, bool)>,
    /// Offered tools.
    tools: BTreeSet<&'a str>,
    /// The tool calls made since the message, in order.
    calls: Vec<Call<'a>>,
}

impl<'a> Turn<'a> {
    fn read(request: &'a ModelRequest) -> Self {
        let messages = &request.messages;
        let last_user = messages
            .iter()
            .rposition(|m| m.role == Role::User && m.content.iter().any(|b| b.as_text().is_some()));
        let (text, since) = match last_user {
            Some(i) => (message_text(&messages[i]), &messages[i + 1..]),
            None => (String::new(), &messages[..0]),
        };
        let results: Vec<&ToolResultBlock> = since
            .iter()
            .flat_map(|m| &m.content)
            .filter_map(|b| match b {
                Block::ToolResult(result) => Some(result),
                _ => None,
            })
            .collect();
        let calls = since
            .iter()
            .filter(|m| m.role == Role::Assistant)
            .flat_map(|m| &m.content)
            .filter_map(|b| match b {
                Block::ToolUse(call) => Some(call),
                _ => None,
            })
            .map(|call| {
                let result = results.iter().copied().find(|r| r.tool_use_id == call.id);
                (call, result)
            })
            .collect();
        Self {
            text,
            mounts: parse_mounts(&request.system),
            tools: request.tools.iter().map(|t| t.name.as_str()).collect(),
            calls,
        }
    }

    fn has(&self, tool: &str) -> bool {
        self.tools.contains(tool)
    }

    /// The calls of `tool` made so far.
    fn calls_of(&self, tool: &str) -> impl Iterator<Item = &Call<'a>> + '_ {
        let tool = tool.to_owned();
        self.calls.iter().filter(move |(call, _)| call.name == tool)
    }

    /// The last call of `tool` on `file_path`.
    fn call_on(&self, tool: &str, file_path: &str) -> Option<&Call<'a>> {
        self.calls_of(tool)
            .filter(|(call, _)| {
                call.input.get("file_path").and_then(Value::as_str) == Some(file_path)
            })
            .last()
    }

    /// The next step.
    fn next(&self) -> Vec<Block> {
        if let Some(step) = self.look_through_memory() {
            return step;
        }
        let custom = self.named_custom_tools();
        if !custom.is_empty() {
            return self.call_custom_tools(custom);
        }
        if let Some(sentence) = fact_sentence(&self.text) {
            return self.remember(&sentence);
        }
        self.recall()
    }

    /// Globs, then greps (or reads) the stores; `None` once that is done.
    fn look_through_memory(&self) -> Option<Vec<Block>> {
        if self.mounts.is_empty() || !self.has("glob") {
            return None;
        }
        if self.calls_of("glob").next().is_none() {
            return Some(
                self.mounts
                    .iter()
                    .map(|(path, _)| use_tool("glob", json!({"pattern": "**/*", "path": path})))
                    .collect(),
            );
        }
        let words = words(&self.text);
        let files = self.files();
        if words.is_empty() || files.is_empty() {
            return None;
        }
        if self.has("grep") {
            if self.calls_of("grep").next().is_some() {
                return None;
            }
            let pattern = word_pattern(&words);
            let searched: Vec<Block> = self
                .mounts
                .iter()
                .filter(|(mount, _)| files.iter().any(|f| f.starts_with(&format!("{mount}/"))))
                .map(|(mount, _)| use_tool("grep", json!({"pattern": pattern, "path": mount})))
                .collect();
            return (!searched.is_empty()).then_some(searched);
        }
        if self.has("read") && self.calls_of("read").next().is_none() {
            return Some(
                files
                    .iter()
                    .take(MAX_READS)
                    .map(|file| use_tool("read", json!({"file_path": file})))
                    .collect(),
            );
        }
        None
    }

    /// Every file the globs listed.
    fn files(&self) -> Vec<String> {
        let mut files = Vec::new();
        for (_, result) in self.calls_of("glob") {
            let Some(result) = result.filter(|r| !r.is_error) else {
                continue;
            };
            for line in result.text().lines() {
                if line.starts_with('/') && !files.iter().any(|f| f == line) {
                    files.push(line.to_owned());
                }
            }
        }
        files
    }

    /// The memory lines that share a word with the message: (file, line).
    fn matching_lines(&self) -> Vec<(String, String)> {
        let words = words(&self.text);
        if words.is_empty() {
            return Vec::new();
        }
        let mut found = Vec::new();
        let hit = Regex::new(r"^(/.*?):(\d+):(.*)$").ok();
        for (_, result) in self.calls_of("grep") {
            let (Some(result), Some(hit)) = (result.filter(|r| !r.is_error), &hit) else {
                continue;
            };
            for line in result.text().lines() {
                if let Some(parts) = hit.captures(line) {
                    found.push((parts[1].to_owned(), parts[3].trim().to_owned()));
                }
            }
        }
        let Ok(word) = Regex::new(&word_pattern(&words)) else {
            return found;
        };
        for (call, result) in self.calls_of("read") {
            let (Some(result), Some(file)) = (
                result.filter(|r| !r.is_error),
                call.input.get("file_path").and_then(Value::as_str),
            ) else {
                continue;
            };
            for line in result.text().lines() {
                if word.is_match(line) {
                    found.push((file.to_owned(), line.trim().to_owned()));
                }
            }
        }
        found.retain(|(_, line)| !line.is_empty());
        found
    }

    /// The custom tools the message names, in order of first mention, with their inputs.
    fn named_custom_tools(&self) -> Vec<(String, JsonObject)> {
        let mut named: Vec<(usize, String, JsonObject)> = Vec::new();
        for tool in self.tools.iter().filter(|t| !TOOLSET.contains(t)) {
            if let Some((at, input)) = mention(&self.text, tool) {
                named.push((at, (*tool).to_owned(), input));
            }
        }
        named.sort_by_key(|(at, _, _)| *at);
        named
            .into_iter()
            .map(|(_, name, input)| (name, input))
            .collect()
    }

    fn call_custom_tools(&self, named: Vec<(String, JsonObject)>) -> Vec<Block> {
        let made: Vec<&Call<'a>> = self
            .calls
            .iter()
            .filter(|(call, _)| named.iter().any(|(name, _)| *name == call.name))
            .collect();
        if made.is_empty() {
            return named
                .into_iter()
                .map(|(name, input)| {
                    Block::ToolUse(ToolCall {
                        id: String::new(),
                        name,
                        input,
                    })
                })
                .collect();
        }
        let mut reply = String::from("Tool results:");
        for (call, result) in made {
            match result {
                Some(result) if result.is_error => {
                    reply.push_str(&format!("\n- {} failed: {}", call.name, result.text()));
                }
                Some(result) => reply.push_str(&format!("\n- {}: {}", call.name, result.text())),
                None => reply.push_str(&format!("\n- {}: no result", call.name)),
            }
        }
        say(reply)
    }

    /// Writes a durable fact into memory (see the module docs).
    fn remember(&self, sentence: &str) -> Vec<Block> {
        let Some((mount, _)) = self
            .mounts
            .iter()
            .find(|(_, read_only)| !read_only)
            .or(self.mounts.first())
        else {
            return say("I cannot remember that: no memory store is mounted in this session.");
        };
        if !self.has("write") {
            return say("I cannot remember that: the write tool is not enabled for this agent.");
        }
        let path = format!("{mount}/{}.md", topic(sentence));
        if let Some((_, result)) = self.call_on("write", &path) {
            return match result {
                Some(result) if !result.is_error => say(format!("Noted in {path}: {sentence}")),
                Some(result) => say(format!("I could not save that: {}", result.text())),
                None => say(format!("I could not save that: {path} was not written.")),
            };
        }
        let existing = if self.files().contains(&path) {
            match self.call_on("read", &path) {
                Some((_, Some(result))) if !result.is_error => Some(result.text()),
                Some((_, Some(result))) => {
                    return say(format!("I could not read {path}: {}", result.text()));
                }
                _ if self.has("read") => return vec![use_tool("read", json!({"file_path": path}))],
                _ => {
                    return say(format!(
                        "I cannot add to {path}: the read tool is not enabled for this agent."
                    ));
                }
            }
        } else {
            None
        };
        let content = match existing {
            Some(text) if text.lines().any(|line| line.trim() == sentence) => {
                return say(format!(
                    "I already have that on record in {path}: {sentence}"
                ));
            }
            Some(text) if !text.trim().is_empty() => {
                format!("{}\n{sentence}\n", text.trim_end_matches('\n'))
            }
            _ => format!("{sentence}\n"),
        };
        vec![use_tool(
            "write",
            json!({"file_path": path, "content": content}),
        )]
    }

    /// Answers from the memory lines that matched.
    fn recall(&self) -> Vec<Block> {
        let lines = self.matching_lines();
        if lines.is_empty() {
            return say("I have nothing on record about that.");
        }
        let mut reply = String::from("Here is what I have on record:");
        for (file, line) in lines {
            reply.push_str(&format!("\n- {line} ({file})"));
        }
        say(reply)
    }
}

/// Every text block of a message, joined with newlines.
fn message_text(message: &Message) -> String {
    message
        .content
        .iter()
        .filter_map(Block::as_text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A reply of the offline model.
fn say(text: impl AsRef<str>) -> Vec<Block> {
    vec![Block::text(format!("{REPLY_PREFIX}{}", text.as_ref()))]
}

/// A call of a toolset tool.
fn use_tool(name: &str, input: Value) -> Block {
    let input = match input {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    };
    Block::ToolUse(ToolCall {
        id: String::new(),
        name: name.to_owned(),
        input,
    })
}

/// The message's distinct words of four or more letters, lowercased, in order.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphabetic()) {
        let word = word.to_lowercase();
        if word.chars().count() >= 4 && !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// A regex matching any of `words` as a whole word, in any case.
fn word_pattern(words: &[String]) -> String {
    format!("(?i)\\b(?:{})\\b", words.join("|"))
}

/// The first sentence of `text` that states a durable fact, trimmed to one line.
fn fact_sentence(text: &str) -> Option<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c == '\n' {
            sentences.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
        if matches!(c, '.' | '!' | '?') {
            sentences.push(std::mem::take(&mut current));
        }
    }
    sentences.push(current);
    let my_is = Regex::new(r"(?i)\bmy\s+\S.*?\s+is\b").ok()?;
    sentences
        .into_iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|sentence| {
            let lower = sentence.to_lowercase();
            let has_word = |w: &str| lower.split(|c: char| !c.is_alphabetic()).any(|x| x == w);
            has_word("remember")
                || has_word("always")
                || has_word("never")
                || lower.contains("i prefer")
                || lower.contains("from now on")
                || my_is.is_match(sentence)
        })
}

/// The topic of a fact: what follows `my` in `my … is`, else the last word of four or more
/// letters that is not a trigger word; `notes` when there is none. Lowercase, `-`-joined.
fn topic(sentence: &str) -> String {
    if let Some(parts) = Regex::new(r"(?i)\bmy\s+(\S.*?)\s+is\b")
        .ok()
        .and_then(|re| re.captures(sentence))
    {
        let slug: Vec<String> = parts[1]
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if !slug.is_empty() {
            return slug.join("-");
        }
    }
    sentence
        .split(|c: char| !c.is_alphabetic())
        .map(str::to_lowercase)
        .rfind(|w| w.chars().count() >= 4 && !TRIGGER_WORDS.contains(&w.as_str()))
        .unwrap_or_else(|| "notes".to_owned())
}

/// Where `text` first names `tool` as a whole word, and the JSON object that follows (after an
/// optional `:` or `with`), or `{}`.
fn mention(text: &str, tool: &str) -> Option<(usize, JsonObject)> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let at = text.match_indices(tool).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + tool.len()..].chars().next();
        !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
    })?;
    let mut rest = text[at + tool.len()..].trim_start();
    rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case("with ") {
        rest = rest[5..].trim_start();
    }
    let input = if rest.starts_with('{') {
        serde_json::Deserializer::from_str(rest)
            .into_iter::<Value>()
            .next()
            .and_then(Result::ok)
            .and_then(|value| match value {
                Value::Object(map) => Some(map),
                _ => None,
            })
            .unwrap_or_default()
    } else {
        JsonObject::new()
    };
    Some((at, input))
}

/// A token per four characters of what the call read and wrote.
fn estimate(request: &ModelRequest, output: &[Block]) -> ModelUsage {
    fn chars(block: &Block) -> usize {
        match block {
            Block::Content(content) => content.as_text().map_or(0, |t| t.chars().count()),
            Block::ToolUse(call) => {
                call.name.len()
                    + Value::Object(call.input.clone())
                        .to_string()
                        .chars()
                        .count()
            }
            Block::ToolResult(result) => result.text().chars().count(),
            Block::Thinking(_) => 0,
        }
    }
    let input: usize = request.system.chars().count()
        + request
            .tools
            .iter()
            .map(|t| t.name.len() + t.description.len() + t.input_schema.to_string().len())
            .sum::<usize>()
        + request
            .messages
            .iter()
            .flat_map(|m| &m.content)
            .map(chars)
            .sum::<usize>();
    let output: usize = output.iter().map(chars).sum();
    ModelUsage {
        input_tokens: input.div_ceil(4) as u64,
        output_tokens: output.div_ceil(4) as u64,
        ..ModelUsage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_lowercase_and_long_enough() {
        assert_eq!(
            words("Remember: I prefer OAT milk, milk in my coffee!"),
            vec!["remember", "prefer", "milk", "coffee"]
        );
        assert!(words("I am a cat").is_empty());
    }

    #[test]
    fn facts_are_recognised_with_their_topic() {
        for (text, sentence, expected_topic) in [
            (
                "Hello there. Remember: I prefer oat milk in my coffee. Thanks!",
                "Remember: I prefer oat milk in my coffee.",
                "coffee",
            ),
            (
                "My favourite colour is green",
                "My favourite colour is green",
                "favourite-colour",
            ),
            (
                "From now on, answer in French.",
                "From now on, answer in French.",
                "french",
            ),
            (
                "Never book meetings before noon!",
                "Never book meetings before noon!",
                "noon",
            ),
            ("I always remember", "I always remember", "notes"),
        ] {
            let found = fact_sentence(text).unwrap();
            assert_eq!(found, sentence);
            assert_eq!(topic(&found), expected_topic, "{text}");
        }
        assert_eq!(fact_sentence("What do I like in my coffee?"), None);
        assert_eq!(fact_sentence("Is my order late?"), None);
    }

    #[test]
    fn tools_are_found_by_whole_name_with_their_input() {
        let text = r#"Please call lookup_order with {"id": 42} and get_time."#;
        assert_eq!(
            mention(text, "lookup_order"),
            Some((12, json!({"id": 42}).as_object().unwrap().clone()))
        );
        assert_eq!(mention(text, "get_time"), Some((45, JsonObject::new())));
        assert_eq!(mention(text, "order"), None);
        assert_eq!(
            mention("weather: {not json", "weather"),
            Some((0, JsonObject::new()))
        );
    }
}
