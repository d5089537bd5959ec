//! Choosing the model provider: [`ProviderConfig`] and what each provider needs.
//!
//! The configuration is plain data, filled in by whoever starts the platform (the CLI reads it
//! from flags, environment variables and the `[model]` table of the platform's config file, see
//! [`crate::cli`]); nothing here reads the process environment or a file.
//! [`ProviderConfig::build`] checks it and returns the provider for
//! [`EngineOptions::provider`](crate::engine::EngineOptions::provider).
//!
//! [`ModelFileConfig`] is that `[model]` table as written (every key optional, unknown keys
//! refused). It holds no API key: keys come only from the environment (or a flag).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::ModelProvider;
use super::anthropic::AnthropicProvider;
use super::offline::OfflineModel;
use super::openai::OpenAiProvider;
pub use super::transport::ApiKey;

/// The hosted Messages API.
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";

/// OpenAI's API (a local server is given as, for example, `http://127.0.0.1:11434/v1`).
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Default longest time one model request may take, response stream included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Default `max_tokens` of a Messages API request.
pub const DEFAULT_MAX_TOKENS: u32 = 8192;

/// Which provider runs sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProviderKind {
    /// The deterministic offline test and demo model.
    #[default]
    Offline,
    /// Claude through the Messages API.
    Anthropic,
    /// Any server of OpenAI's chat completions API.
    #[value(name = "openai")]
    OpenAi,
}

impl ProviderKind {
    /// The provider's name (`offline`, `anthropic`, `openai`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offline => OfflineModel::NAME,
            Self::Anthropic => AnthropicProvider::NAME,
            Self::OpenAi => OpenAiProvider::NAME,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Read from a config file as its name, like [`FromStr`] (`"openai"`, case-insensitive).
impl<'de> serde::Deserialize<'de> for ProviderKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for ProviderKind {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "offline" => Ok(Self::Offline),
            "anthropic" => Ok(Self::Anthropic),
            "openai" => Ok(Self::OpenAi),
            other => Err(ConfigError::UnknownProvider(other.to_owned())),
        }
    }
}

/// The `anthropic` provider's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AnthropicConfig {
    /// Where the Messages API is (`POST {base_url}/v1/messages`).
    pub base_url: String,
    /// The key sent as `x-api-key`; required by the hosted API.
    pub api_key: Option<ApiKey>,
    /// `max_tokens` of every request.
    pub max_tokens: u32,
    /// Longest time one request may take, from sending it to the end of its stream.
    pub timeout: Duration,
    /// Whether requests carry prompt-cache breakpoints (on the tool definitions, the system
    /// prompt and the conversation so far).
    pub prompt_caching: bool,
}

impl Default for AnthropicConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_ANTHROPIC_BASE_URL.to_owned(),
            api_key: None,
            max_tokens: DEFAULT_MAX_TOKENS,
            timeout: DEFAULT_TIMEOUT,
            prompt_caching: true,
        }
    }
}

/// The `openai` provider's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiConfig {
    /// Where the API is, `/v1` included as OpenAI's SDKs expect
    /// (`POST {base_url}/chat/completions`).
    pub base_url: String,
    /// The key sent as `Authorization: Bearer`, if the server wants one.
    pub api_key: Option<ApiKey>,
    /// Agent model name -> the server's model name. `*` maps every model not listed; a model
    /// that maps to nothing is sent as it is.
    pub model_map: BTreeMap<String, String>,
    /// `max_tokens` of every request; `None` leaves it to the server.
    pub max_tokens: Option<u32>,
    /// Longest time one request may take, from sending it to the end of its stream.
    pub timeout: Duration,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_OPENAI_BASE_URL.to_owned(),
            api_key: None,
            model_map: BTreeMap::new(),
            max_tokens: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl OpenAiConfig {
    /// The server's name for an agent's model.
    pub fn map_model<'a>(&'a self, model: &'a str) -> &'a str {
        self.model_map
            .get(model)
            .or_else(|| self.model_map.get("*"))
            .map_or(model, String::as_str)
    }
}

/// Parses a model map written as `agent=local` pairs separated by commas (or given one per
/// item): `claude-sonnet-4-6=qwen3:8b,*=llama3.1`.
pub fn parse_model_map<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut map = BTreeMap::new();
    for item in items.into_iter().flat_map(|i| i.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        match item.split_once('=') {
            Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
                map.insert(from.trim().to_owned(), to.trim().to_owned());
            }
            _ => return Err(ConfigError::ModelMap(item.to_owned())),
        }
    }
    Ok(map)
}

/// The `[model]` table of the platform's config file (`platform.toml`): the file's defaults for
/// the model provider's settings, below flags and environment variables. Every key is optional
/// and an unknown key is refused. API keys are not read from the file.
///
/// ```toml
/// [model]
/// provider = "openai"                     # offline, anthropic or openai
/// base_url = "http://127.0.0.1:11434/v1"  # the base URL of `provider`
/// timeout_secs = 600
/// max_retries = 3
///
/// [model.openai]
/// models = { "claude-sonnet-4-6" = "llama3.1:8b", "*" = "qwen3:8b" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFileConfig {
    /// Which provider runs sessions (`--model-provider`).
    pub provider: Option<ProviderKind>,
    /// The base URL of the provider named by [`provider`](Self::provider) (the Messages API's
    /// for `anthropic`, the chat completions server's, `/v1` included, for `openai`). Not used
    /// when a flag or environment variable chooses another provider.
    pub base_url: Option<String>,
    /// Longest time one model request may take, in seconds (`--model-timeout`).
    pub timeout_secs: Option<u64>,
    /// `max_tokens` of every model request (`--model-max-tokens`).
    pub max_tokens: Option<u32>,
    /// How often a rate-limited or overloaded model request is retried
    /// (`--model-max-retries`).
    pub max_retries: Option<u32>,
    /// Whether Messages API requests carry prompt-cache breakpoints (`--prompt-caching`).
    pub prompt_caching: Option<bool>,
    /// The `[model.openai]` table.
    #[serde(default)]
    pub openai: OpenAiFileConfig,
}

/// The `[model.openai]` table of the platform's config file.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiFileConfig {
    /// Agent model name -> the server's model name, `*` mapping every other model
    /// (`--openai-model-map`).
    pub models: Option<BTreeMap<String, String>>,
}

impl ModelFileConfig {
    /// Checks the values serde cannot: positive timeout and `max_tokens`, no blank model names.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.timeout_secs == Some(0) {
            return Err(ConfigError::Invalid(
                "model.timeout_secs must be at least 1".into(),
            ));
        }
        if self.max_tokens == Some(0) {
            return Err(ConfigError::Invalid(
                "model.max_tokens must be at least 1".into(),
            ));
        }
        if let Some(base_url) = &self.base_url {
            if self.provider.is_none() {
                return Err(ConfigError::Invalid(format!(
                    "model.base_url `{base_url}` needs model.provider (whose base URL it is)"
                )));
            }
        }
        for (from, to) in self.openai.models.iter().flatten() {
            if from.trim().is_empty() || to.trim().is_empty() {
                return Err(ConfigError::ModelMap(format!("{from:?} = {to:?}")));
            }
        }
        Ok(())
    }

    /// The `[model.openai] models` map with names trimmed, if the file has one.
    pub fn openai_model_map(&self) -> Option<BTreeMap<String, String>> {
        self.openai.models.as_ref().map(|models| {
            models
                .iter()
                .map(|(from, to)| (from.trim().to_owned(), to.trim().to_owned()))
                .collect()
        })
    }
}

/// The model provider to run sessions on, with its settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ProviderConfig {
    /// The offline model.
    #[default]
    Offline,
    /// The Messages API.
    Anthropic(AnthropicConfig),
    /// A chat completions server.
    OpenAi(OpenAiConfig),
}

impl ProviderConfig {
    /// Which provider this is.
    pub fn kind(&self) -> ProviderKind {
        match self {
            Self::Offline => ProviderKind::Offline,
            Self::Anthropic(_) => ProviderKind::Anthropic,
            Self::OpenAi(_) => ProviderKind::OpenAi,
        }
    }

    /// Checks the settings and makes the provider.
    pub fn build(&self) -> Result<Arc<dyn ModelProvider>, ConfigError> {
        Ok(match self {
            Self::Offline => Arc::new(OfflineModel),
            Self::Anthropic(config) => Arc::new(AnthropicProvider::new(config.clone())?),
            Self::OpenAi(config) => Arc::new(OpenAiProvider::new(config.clone())?),
        })
    }
}

/// Why a provider configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The provider name is not one of `offline`, `anthropic`, `openai`.
    #[error("unknown model provider `{0}` (expected offline, anthropic or openai)")]
    UnknownProvider(String),
    /// A base URL does not parse or is not http(s).
    #[error("invalid {provider} base URL `{url}`: {reason}")]
    BaseUrl {
        /// The provider.
        provider: &'static str,
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The hosted Messages API needs a key and none was given.
    #[error(
        "the anthropic provider needs an API key for {url} (set ANTHROPIC_API_KEY, or point \
         ANTHROPIC_BASE_URL at a server that needs none)"
    )]
    MissingApiKey {
        /// The base URL.
        url: String,
    },
    /// A model map entry is not `agent=local`.
    #[error("invalid model map entry `{0}` (expected agent-model=local-model)")]
    ModelMap(String),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Invalid(String),
    /// The HTTP client could not be built.
    #[error("failed to build the HTTP client")]
    Client(#[source] reqwest::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_maps_parse_and_fall_back() {
        let map = parse_model_map(["claude-sonnet-4-6=qwen3:8b, *=llama3.1", "a=b"]).unwrap();
        let config = OpenAiConfig {
            model_map: map,
            ..OpenAiConfig::default()
        };
        assert_eq!(config.map_model("claude-sonnet-4-6"), "qwen3:8b");
        assert_eq!(config.map_model("a"), "b");
        assert_eq!(config.map_model("claude-opus-4-6"), "llama3.1");
        assert_eq!(
            OpenAiConfig::default().map_model("claude-opus-4-6"),
            "claude-opus-4-6"
        );
        assert!(matches!(
            parse_model_map(["nope"]),
            Err(ConfigError::ModelMap(entry)) if entry == "nope"
        ));
        assert!(parse_model_map(["=x"]).is_err());
    }

    #[test]
    fn model_tables_deserialize_strictly_and_validate() {
        let table: ModelFileConfig = toml::from_str(
            "provider = \"OpenAI\"\nbase_url = \"http://h/v1\"\n[openai]\nmodels = { a = \" b \" }",
        )
        .unwrap();
        assert_eq!(table.provider, Some(ProviderKind::OpenAi));
        assert_eq!(table.base_url.as_deref(), Some("http://h/v1"));
        assert_eq!(
            table.openai_model_map(),
            Some(BTreeMap::from([("a".to_owned(), "b".to_owned())]))
        );
        table.validate().unwrap();
        assert_eq!(ModelFileConfig::default().openai_model_map(), None);
        let unknown = toml::from_str::<ModelFileConfig>("provider = \"bedrock\"").unwrap_err();
        assert!(
            unknown
                .message()
                .contains("unknown model provider `bedrock`"),
            "{unknown}"
        );
        assert!(toml::from_str::<ModelFileConfig>("provider = 1").is_err());
        assert!(toml::from_str::<ModelFileConfig>("[openai]\nmodelz = {}").is_err());
        assert!(toml::from_str::<ModelFileConfig>("api_key = \"k\"").is_err());
        let invalid = |text: &str| {
            toml::from_str::<ModelFileConfig>(text)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string()
        };
        assert!(invalid("timeout_secs = 0").contains("timeout_secs"));
        assert!(invalid("max_tokens = 0").contains("max_tokens"));
        assert!(invalid("base_url = \"http://h\"").contains("needs model.provider"));
        assert!(invalid("[openai]\nmodels = { \"*\" = \"\" }").contains("model map"));
    }

    #[test]
    fn providers_are_named_and_checked() {
        assert_eq!(
            "OpenAI".parse::<ProviderKind>().unwrap(),
            ProviderKind::OpenAi
        );
        assert!("bedrock".parse::<ProviderKind>().is_err());
        let hosted = ProviderConfig::Anthropic(AnthropicConfig::default());
        assert!(matches!(
            hosted.build(),
            Err(ConfigError::MissingApiKey { .. })
        ));
        let local = ProviderConfig::Anthropic(AnthropicConfig {
            base_url: "http://127.0.0.1:1".into(),
            ..AnthropicConfig::default()
        });
        assert_eq!(local.build().unwrap().name(), "anthropic");
        let bad = ProviderConfig::OpenAi(OpenAiConfig {
            base_url: "not a url".into(),
            ..OpenAiConfig::default()
        });
        assert!(matches!(bad.build(), Err(ConfigError::BaseUrl { .. })));
        assert_eq!(ProviderConfig::default().build().unwrap().name(), "offline");
    }
}
