//! The config file (`config.toml`): the agent's model and system prompt, the shared store's
//! name, and an optional price table for `steward usage`.
//!
//! ```toml
//! model = "claude-sonnet-4-6"
//! system_prompt = "You are …"          # replaces the default prompt
//! shared_store = "shared"
//!
//! [prices."claude-sonnet-4-6"]          # USD per million tokens
//! input = 3.0
//! output = 15.0
//! cache_read = 0.3
//! cache_write = 3.75
//! ```
//!
//! Every key is optional; a missing file means every default. Unknown keys are an error (a
//! misspelt `modle` would otherwise be ignored in silence), as is a file that is not TOML: both
//! exit with code 2 and name the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::UserError;

/// The model used when the config file names none.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-6";

/// The shared read-only store's name when the config file names none.
pub const DEFAULT_SHARED_STORE: &str = "shared";

/// The agent's system prompt when the config file gives none: check memory first, record
/// durable facts.
pub const DEFAULT_SYSTEM_PROMPT: &str = "\
You are Steward, a personal assistant that remembers each user across conversations.

Each conversation mounts two memory stores (their paths are listed below): the user's own \
store, read-write, and a shared reference store, read-only.
- Before you answer, check the user's memory for anything relevant: preferences, facts about \
them, ongoing work. Let what you find shape the answer.
- When the user tells you something durable (a preference, a decision, a fact about themselves \
or their work that will matter next time), record it in their store as a small Markdown file, \
one topic per file, and say in one line that you did.
- Never record secrets, credentials or passing details.
- The shared store is reference material: read it, never write to it.";

/// Prices of one model, in USD per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Input tokens.
    #[serde(default)]
    pub input: f64,
    /// Output tokens.
    #[serde(default)]
    pub output: f64,
    /// Tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read: f64,
    /// Tokens written to the prompt cache.
    #[serde(default)]
    pub cache_write: f64,
}

/// The file as written: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    model: Option<String>,
    system_prompt: Option<String>,
    shared_store: Option<String>,
    #[serde(default)]
    prices: BTreeMap<String, Price>,
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The agent's model.
    pub model: String,
    /// The agent's system prompt.
    pub system_prompt: String,
    /// The name of the shared read-only memory store.
    pub shared_store: String,
    /// Prices per model ID, for cost estimates.
    pub prices: BTreeMap<String, Price>,
    /// The file it was read from, when one existed.
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.to_owned(),
            system_prompt: DEFAULT_SYSTEM_PROMPT.to_owned(),
            shared_store: DEFAULT_SHARED_STORE.to_owned(),
            prices: BTreeMap::new(),
            source: None,
        }
    }
}

impl Config {
    /// Reads the config file at `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, UserError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(UserError::usage(format!(
                    "cannot read the config file `{}`: {e}",
                    path.display()
                )));
            }
        };
        let mut config = Self::parse(&text).map_err(|message| {
            UserError::usage(format!(
                "invalid config file `{}`: {message}",
                path.display()
            ))
            .hint("see `steward --help` for the keys a config file may set")
        })?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses a config file's text; the error is one line with the position.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    format!("line {line}, column {column}: {message}")
                }
                None => message,
            }
        })?;
        let defaults = Self::default();
        let non_empty = |what: &str, value: Option<String>, default: String| match value {
            Some(v) if v.trim().is_empty() => Err(format!("`{what}` cannot be empty")),
            Some(v) => Ok(v),
            None => Ok(default),
        };
        Ok(Self {
            model: non_empty("model", file.model, defaults.model)?,
            system_prompt: non_empty("system_prompt", file.system_prompt, defaults.system_prompt)?,
            shared_store: non_empty("shared_store", file.shared_store, defaults.shared_store)?,
            prices: file.prices,
            source: None,
        })
    }
}

/// The 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn keys_override_defaults() {
        let config = Config::parse(
            "model = \"m\"\nsystem_prompt = \"p\"\nshared_store = \"team\"\n[prices.m]\ninput = 1.5\noutput = 2\n",
        )
        .unwrap();
        assert_eq!(config.model, "m");
        assert_eq!(config.system_prompt, "p");
        assert_eq!(config.shared_store, "team");
        assert_eq!(
            config.prices["m"],
            Price {
                input: 1.5,
                output: 2.0,
                ..Price::default()
            }
        );
    }

    #[test]
    fn errors_are_one_line_with_a_position() {
        let error = Config::parse("model = \"m\"\nmodle = \"x\"\n").unwrap_err();
        assert!(
            error.starts_with("line 2, column 1: unknown field `modle`"),
            "{error}"
        );
        let error = Config::parse("model = [\n").unwrap_err();
        assert!(error.starts_with("line "), "{error}");
        assert!(!error.contains('\n'));
        let error = Config::parse("model = \"\"").unwrap_err();
        assert_eq!(error, "`model` cannot be empty");
    }
}
