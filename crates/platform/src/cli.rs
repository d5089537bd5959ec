//! Command-line interface of `steward-platform` (`serve`, `keys create`, `keys list`).
//!
//! Kept in the library so that the assistant can offer the same commands as
//! `steward platform …`: parse [`Cli`] (or embed [`Command`] in another clap parser) and call
//! [`run`]. Data goes to the writer given to [`run`] (stdout in the binary); logs go through
//! `tracing`.
//!
//! `serve` takes the model provider's settings from flags or, for each flag, an environment
//! variable ([`ModelArgs`]; the names are the `*_ENV` constants here), and from the `[model]`
//! table of the platform's config file ([`ConfigFile`]: `--config FILE`, by default
//! `<data_dir>/platform.toml` when it exists). For each setting a flag wins over its
//! environment variable, which wins over the file, which wins over the built-in default. API
//! keys are read only from flags and the environment, never from the file. A file that does not
//! parse, has an unknown key or names an unknown provider stops `serve` with one line naming
//! the file and the problem. This is the only place the platform reads these settings: the
//! library itself takes a [`ProviderConfig`].

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::db::Db;
use crate::engine::model::config::{
    DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_MAX_TOKENS, DEFAULT_OPENAI_BASE_URL, DEFAULT_TIMEOUT,
    ModelFileConfig, parse_model_map,
};
use crate::engine::{
    AnthropicConfig, ApiKey, ConfigError, EngineOptions, OpenAiConfig, ProviderConfig,
    ProviderKind, RetryPolicy,
};
use crate::error::StartError;
use crate::server::{DEFAULT_LISTEN, Platform, default_data_dir};

/// Environment variable that overrides the default data directory.
pub const DATA_DIR_ENV: &str = "STEWARD_PLATFORM_DATA_DIR";

/// Environment variable choosing the model provider (`offline`, `anthropic`, `openai`).
pub const MODEL_PROVIDER_ENV: &str = "STEWARD_MODEL_PROVIDER";

/// Environment variable with the Messages API's base URL.
pub const ANTHROPIC_BASE_URL_ENV: &str = "ANTHROPIC_BASE_URL";

/// Environment variable with the Messages API's key.
pub const ANTHROPIC_API_KEY_ENV: &str = "ANTHROPIC_API_KEY";

/// Environment variable with the chat completions server's base URL (`/v1` included).
pub const OPENAI_BASE_URL_ENV: &str = "OPENAI_BASE_URL";

/// Environment variable with the chat completions server's key.
pub const OPENAI_API_KEY_ENV: &str = "OPENAI_API_KEY";

/// Environment variable with the `openai` provider's model map (`agent=local,...`).
pub const OPENAI_MODEL_MAP_ENV: &str = "STEWARD_OPENAI_MODEL_MAP";

/// Environment variable with the timeout of one model request, in seconds.
pub const MODEL_TIMEOUT_ENV: &str = "STEWARD_MODEL_TIMEOUT";

/// Environment variable with the `max_tokens` of model requests.
pub const MODEL_MAX_TOKENS_ENV: &str = "STEWARD_MODEL_MAX_TOKENS";

/// Environment variable with how often a rate-limited or overloaded model call is retried.
pub const MODEL_MAX_RETRIES_ENV: &str = "STEWARD_MODEL_MAX_RETRIES";

/// Environment variable turning prompt caching on or off (`true`, `false`).
pub const PROMPT_CACHING_ENV: &str = "STEWARD_PROMPT_CACHING";

/// Name of the config file `serve` reads from the data directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "platform.toml";

/// `steward-platform`: a local server of the Managed Agents API.
#[derive(Debug, clap::Parser)]
#[command(name = "steward-platform", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A subcommand.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve the API until interrupted (Ctrl-C).
    ///
    /// Sessions run on the model provider chosen with --model-provider (or
    /// STEWARD_MODEL_PROVIDER, or `provider` in the config file); the platform logs which one
    /// it uses at start.
    #[command(after_long_help = SERVE_AFTER_HELP)]
    Serve(ServeArgs),
    /// Manage API keys.
    Keys {
        /// What to do with keys.
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// Where the platform keeps its data.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDirArg {
    /// Data directory (default: the XDG data directory `steward/platform`).
    #[arg(long, env = DATA_DIR_ENV)]
    pub data_dir: Option<PathBuf>,
}

impl DataDirArg {
    fn resolve(&self) -> Result<PathBuf, StartError> {
        self.data_dir
            .clone()
            .or_else(default_data_dir)
            .ok_or(StartError::NoDataDir)
    }
}

/// Arguments of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value_t = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Data directory.
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Config file (TOML) [default: <data_dir>/platform.toml, if it exists]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Requests per second each API key may send, with bursts of twice that; `off` for no
    /// limit [default: 1000]
    #[arg(long, env = RATE_LIMIT_ENV, value_name = "PER_SECOND|off", value_parser = parse_rate_limit)]
    pub rate_limit: Option<RateLimitArg>,
    /// The model provider.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Environment variable with the per-key rate limit of `serve` (`--rate-limit`).
pub const RATE_LIMIT_ENV: &str = "STEWARD_RATE_LIMIT";

/// The `--rate-limit` setting of `serve`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateLimitArg {
    /// No limit.
    Off,
    /// A limit of this many requests per second, with bursts of twice that.
    PerSecond(u32),
}

impl RateLimitArg {
    /// The limit the platform enforces (`None`: none).
    pub fn limit(self) -> Option<crate::limits::RateLimit> {
        match self {
            Self::Off => None,
            Self::PerSecond(n) => Some(crate::limits::RateLimit {
                per_second: f64::from(n),
                burst: n.saturating_mul(2),
            }),
        }
    }
}

/// Parses `--rate-limit`: `off`, or a whole number of requests per second above zero.
fn parse_rate_limit(value: &str) -> Result<RateLimitArg, String> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(RateLimitArg::Off);
    }
    match value.parse::<u32>() {
        Ok(n) if n > 0 => Ok(RateLimitArg::PerSecond(n)),
        _ => Err(format!(
            "expected `off` or a whole number of requests per second above 0, not `{value}`"
        )),
    }
}

/// The end of `serve --help`.
const SERVE_AFTER_HELP: &str = "\
Model providers:
  offline    A deterministic test and demo model (the default). It follows fixed rules, uses
             the memory stores through the file tools, and starts every reply with
             \"[offline model]\". No network, no key.
  anthropic  Claude through the Messages API (POST <ANTHROPIC_BASE_URL>/v1/messages, streamed).
             The agent's model is sent as is. Needs ANTHROPIC_API_KEY for the hosted API.
             Prompt caching marks the tool definitions, the system prompt (with its memory
             note) and the conversation so far. Token usage, cache writes and reads included,
             is recorded per model request and summed into the session's usage; the session's
             list_cost is estimated from an approximate built-in price table (Anthropic's
             published list prices, early 2026; not a bill).
  openai     Any server of OpenAI's chat completions API (POST <OPENAI_BASE_URL>/chat/completions,
             streamed, with tools), such as Ollama, vLLM or llama.cpp: give the base URL with
             /v1, as OpenAI's SDKs expect (http://127.0.0.1:11434/v1). The key is optional.
             --openai-model-map maps agent model names to the server's (`*` maps the rest).
             No prices: sessions track tokens only.

Failures: a 429 or 529 (or 503) is retried with exponential backoff, waiting at least what the
server's retry-after asks, up to --model-max-retries times; then the session gets a
session.error and goes idle with retries_exhausted. Any other error status ends the turn with a
session.error carrying the server's message (never the key). A refusal ends the turn with the
refusal stop reason. A request taking longer than --model-timeout fails the same way.

Config file (--config FILE, default <data_dir>/platform.toml if it exists), TOML:
  [model]
  provider = \"openai\"                      # offline, anthropic or openai
  base_url = \"http://127.0.0.1:11434/v1\"   # the base URL of that provider
  timeout_secs = 600                       # --model-timeout
  max_tokens = 4096                        # --model-max-tokens
  max_retries = 3                          # --model-max-retries
  prompt_caching = true                    # --prompt-caching
  [model.openai]
  models = { \"claude-sonnet-4-6\" = \"llama3.1:8b\", \"*\" = \"qwen3:8b\" }   # --openai-model-map
Every key is optional; an unknown key, an unknown provider or a malformed file stops serve.
API keys are never read from the file: set ANTHROPIC_API_KEY or OPENAI_API_KEY.
base_url is used only when the provider in effect is the file's provider.
Precedence, for each setting: command-line flag > environment variable > config file > default.

Examples:
  ANTHROPIC_API_KEY=sk-ant-... steward-platform serve --model-provider anthropic
  STEWARD_MODEL_PROVIDER=openai OPENAI_BASE_URL=http://127.0.0.1:11434/v1 \\
    STEWARD_OPENAI_MODEL_MAP='*=qwen3:8b' steward-platform serve";

/// The model provider's settings (`serve`). Each flag may instead be given by the environment
/// variable its help names; a setting given by neither is `None` here and is taken from the
/// config file's `[model]` table, then from the default ([`Self::provider_config`]).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Model provider")]
pub struct ModelArgs {
    /// Which model runs sessions [default: offline]
    #[arg(long, env = MODEL_PROVIDER_ENV, value_enum)]
    pub model_provider: Option<ProviderKind>,
    /// Base URL of the Messages API (anthropic) [default: https://api.anthropic.com]
    #[allow(
        rustdoc::bare_urls,
        reason = "this text is the --help line, where a URL prints as is"
    )]
    #[arg(long, env = ANTHROPIC_BASE_URL_ENV)]
    pub anthropic_base_url: Option<String>,
    /// Key of the Messages API, sent as x-api-key (anthropic); prefer the environment
    /// variable, since other users can see a process's arguments
    #[arg(long, env = ANTHROPIC_API_KEY_ENV, hide_env_values = true)]
    pub anthropic_api_key: Option<String>,
    /// Whether Messages API requests carry prompt-cache breakpoints (anthropic) [default: true]
    #[arg(long, env = PROMPT_CACHING_ENV, action = clap::ArgAction::Set)]
    pub prompt_caching: Option<bool>,
    /// Base URL of the chat completions server, /v1 included (openai) [default:
    /// https://api.openai.com/v1]
    #[allow(
        rustdoc::bare_urls,
        reason = "this text is the --help line, where a URL prints as is"
    )]
    #[arg(long, env = OPENAI_BASE_URL_ENV)]
    pub openai_base_url: Option<String>,
    /// Key of the chat completions server, sent as a bearer token, if it needs one (openai)
    #[arg(long, env = OPENAI_API_KEY_ENV, hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// Maps an agent's model name to the server's: AGENT_MODEL=LOCAL_MODEL, repeatable or
    /// comma-separated; `*=LOCAL_MODEL` maps every other model; unmapped names are sent as
    /// they are (openai)
    #[arg(long, env = OPENAI_MODEL_MAP_ENV, value_name = "AGENT=LOCAL", value_delimiter = ',')]
    pub openai_model_map: Option<Vec<String>>,
    /// Longest time one model request may take, response stream included, in seconds
    /// [default: 600]
    #[arg(long, env = MODEL_TIMEOUT_ENV, value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..))]
    pub model_timeout: Option<u64>,
    /// max_tokens of every model request [default: 8192 for anthropic; the server's own for
    /// openai]
    #[arg(long, env = MODEL_MAX_TOKENS_ENV, value_parser = clap::value_parser!(u32).range(1..))]
    pub model_max_tokens: Option<u32>,
    /// How often a rate-limited or overloaded model request is retried [default: 3]
    #[arg(long, env = MODEL_MAX_RETRIES_ENV)]
    pub model_max_retries: Option<u32>,
}

impl ModelArgs {
    /// The provider configuration these settings describe, each setting missing here taken
    /// from the config file's `[model]` table `file`, then from its default.
    pub fn provider_config(&self, file: &ModelFileConfig) -> Result<ProviderConfig, ConfigError> {
        let key = |key: &Option<String>| {
            key.as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(ApiKey::new)
        };
        let kind = self.model_provider.or(file.provider).unwrap_or_default();
        // The file's base URL belongs to the file's provider.
        let file_base_url = file
            .base_url
            .clone()
            .filter(|_| file.provider == Some(kind));
        let timeout = self
            .model_timeout
            .or(file.timeout_secs)
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
        let max_tokens = self.model_max_tokens.or(file.max_tokens);
        Ok(match kind {
            ProviderKind::Offline => ProviderConfig::Offline,
            ProviderKind::Anthropic => ProviderConfig::Anthropic(AnthropicConfig {
                base_url: self
                    .anthropic_base_url
                    .clone()
                    .or(file_base_url)
                    .unwrap_or_else(|| DEFAULT_ANTHROPIC_BASE_URL.to_owned()),
                api_key: key(&self.anthropic_api_key),
                max_tokens: max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
                timeout,
                prompt_caching: self.prompt_caching.or(file.prompt_caching).unwrap_or(true),
            }),
            ProviderKind::OpenAi => ProviderConfig::OpenAi(OpenAiConfig {
                base_url: self
                    .openai_base_url
                    .clone()
                    .or(file_base_url)
                    .unwrap_or_else(|| DEFAULT_OPENAI_BASE_URL.to_owned()),
                api_key: key(&self.openai_api_key),
                model_map: match &self.openai_model_map {
                    Some(items) => parse_model_map(items.iter().map(String::as_str))?,
                    None => file.openai_model_map().unwrap_or_default(),
                },
                max_tokens,
                timeout,
            }),
        })
    }

    /// The engine options: the provider (none for `offline`, which the engine then uses and
    /// announces) and the retry policy, with the same precedence as
    /// [`provider_config`](Self::provider_config).
    pub fn engine_options(&self, file: &ModelFileConfig) -> Result<EngineOptions, ConfigError> {
        let config = self.provider_config(file)?;
        let provider: Option<Arc<dyn crate::engine::ModelProvider>> = match config {
            ProviderConfig::Offline => None,
            config => Some(config.build()?),
        };
        let retry = RetryPolicy::default();
        Ok(EngineOptions {
            provider,
            retry: RetryPolicy {
                max_retries: self
                    .model_max_retries
                    .or(file.max_retries)
                    .unwrap_or(retry.max_retries),
                ..retry
            },
            ..EngineOptions::default()
        })
    }
}

/// The platform's config file (TOML). Only a `[model]` table for now ([`ModelFileConfig`]);
/// unknown tables and keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The model provider's settings.
    #[serde(default)]
    pub model: ModelFileConfig,
}

impl ConfigFile {
    /// Parses and checks a config file's text. The error is one line: where (`line L, column
    /// C`, when known) and what.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: Self = toml::from_str(text).map_err(|error| {
            let message = error.message().trim();
            let message = if message.starts_with("unknown field `api_key`") {
                "API keys are not read from the config file; set ANTHROPIC_API_KEY or \
                 OPENAI_API_KEY in the environment"
            } else {
                message
            };
            let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
            match error.span() {
                Some(span) => {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!("line {line}, column {column}: {message}")
                }
                None => message,
            }
        })?;
        file.model.validate().map_err(|e| e.to_string())?;
        Ok(file)
    }

    /// Reads and parses the config file at `path`.
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let error = |message: String| CliError::ConfigFile {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        Self::parse(&text).map_err(error)
    }

    /// The file `serve` reads: `explicit` (`--config`), or `<data_dir>/platform.toml` when it
    /// exists, or none.
    pub fn path(explicit: Option<&Path>, data_dir: &Path) -> Option<PathBuf> {
        match explicit {
            Some(path) => Some(path.to_path_buf()),
            None => Some(data_dir.join(DEFAULT_CONFIG_FILE)).filter(|path| path.exists()),
        }
    }
}

/// Subcommands of `keys`.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a new API key and print it (the only time it is shown).
    Create {
        /// A label for the key.
        #[arg(long)]
        name: Option<String>,
        /// Data directory.
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// List the IDs, labels and creation times of the stored keys.
    List {
        /// Data directory.
        #[command(flatten)]
        data_dir: DataDirArg,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The platform could not start or the data directory could not be opened.
    #[error(transparent)]
    Start(#[from] StartError),
    /// Writing output failed.
    #[error("failed to write output")]
    Output(#[source] std::io::Error),
    /// A database operation failed.
    #[error("database operation failed")]
    Database(#[source] crate::Error),
    /// The model provider's settings are invalid.
    #[error("invalid model provider settings")]
    Model(#[from] ConfigError),
    /// The config file could not be read, does not parse or holds an invalid setting.
    #[error("config file {}: {message}", path.display())]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, on one line.
        message: String,
    },
}

/// Runs a command, writing its output to `out`.
pub async fn run<W: Write + Send>(command: Command, out: &mut W) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => serve(args, out).await,
        Command::Keys { command } => tokio::task::spawn_blocking(move || {
            let mut buffer = Vec::new();
            keys(command, &mut buffer).map(|()| buffer)
        })
        .await
        .map_err(|e| CliError::Database(crate::Error::internal(e)))
        .and_then(|result| result)
        .and_then(|buffer| out.write_all(&buffer).map_err(CliError::Output)),
    }
}

async fn serve<W: Write + Send>(args: ServeArgs, out: &mut W) -> Result<(), CliError> {
    let data_dir = args.data_dir.resolve()?;
    let file = match ConfigFile::path(args.config.as_deref(), &data_dir) {
        Some(path) => {
            let file = ConfigFile::load(&path)?;
            tracing::info!(path = %path.display(), "read the config file");
            file
        }
        None => ConfigFile::default(),
    };
    let engine = args.model.engine_options(&file.model)?;
    let mut builder = Platform::builder()
        .data_dir(&data_dir)
        .listen(args.listen)
        .engine(engine);
    if let Some(rate_limit) = args.rate_limit {
        builder = builder.rate_limit(rate_limit.limit());
    }
    let handle = builder.start().await?;
    writeln!(out, "steward-platform listening on {}", handle.base_url())
        .map_err(CliError::Output)?;
    writeln!(out, "API key file: {}", handle.api_key_file().display()).map_err(CliError::Output)?;
    out.flush().map_err(CliError::Output)?;
    let token = handle.shutdown_token();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; shutting down"),
        () = token.cancelled() => {}
    }
    handle.shutdown().await;
    Ok(())
}

fn open_db(data_dir: &Path) -> Result<Db, CliError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    Ok(Db::open(data_dir)?)
}

fn keys(command: KeysCommand, out: &mut Vec<u8>) -> Result<(), CliError> {
    match command {
        KeysCommand::Create { name, data_dir } => {
            let db = open_db(&data_dir.resolve()?)?;
            let key = crate::auth::generate_key();
            let stored = key.clone();
            let id = db
                .write_blocking(move |tx| crate::auth::insert_key(tx, &stored, name.as_deref()))
                .map_err(CliError::Database)?;
            tracing::info!(id = %id, "created an API key");
            writeln!(out, "{key}").map_err(CliError::Output)
        }
        KeysCommand::List { data_dir } => {
            let db = open_db(&data_dir.resolve()?)?;
            let keys = db
                .read_blocking(crate::auth::list_keys)
                .map_err(CliError::Database)?;
            for key in keys {
                writeln!(
                    out,
                    "{}\t{}\t{}",
                    key.id,
                    key.created_at,
                    key.name.unwrap_or_default()
                )
                .map_err(CliError::Output)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn parses_serve_and_keys() {
        let cli = Cli::try_parse_from([
            "steward-platform",
            "serve",
            "--listen",
            "127.0.0.1:9999",
            "--data-dir",
            "/tmp/x",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.listen.port(), 9999);
        assert_eq!(args.data_dir.data_dir.as_deref(), Some(Path::new("/tmp/x")));
        let cli =
            Cli::try_parse_from(["steward-platform", "keys", "create", "--name", "ci"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Keys {
                command: KeysCommand::Create { .. }
            }
        ));
    }

    #[test]
    fn serve_takes_a_rate_limit_or_off() {
        let rate = |value: &str| {
            let flag = format!("--rate-limit={value}");
            Cli::try_parse_from(["steward-platform", "serve", flag.as_str()]).map(|cli| {
                match cli.command {
                    Command::Serve(args) => args.rate_limit,
                    Command::Keys { .. } => panic!("expected serve"),
                }
            })
        };
        assert_eq!(rate("off").unwrap(), Some(RateLimitArg::Off));
        assert_eq!(rate("OFF").unwrap().unwrap().limit(), None);
        let limit = rate("50").unwrap().unwrap().limit().unwrap();
        assert_eq!((limit.per_second, limit.burst), (50.0, 100));
        for bad in ["0", "-3", "fast", "1.5", ""] {
            let error = rate(bad).unwrap_err().to_string();
            assert!(error.contains("requests per second"), "{bad}: {error}");
        }
    }

    #[test]
    fn serve_takes_the_model_provider_settings() {
        let no_file = ModelFileConfig::default();
        // Every setting is given as a flag, so the test's environment cannot change it.
        let parse = |provider: &str, extra: &[&str]| {
            let mut argv = vec![
                "steward-platform",
                "serve",
                "--model-provider",
                provider,
                "--anthropic-base-url",
                "http://127.0.0.1:9/",
                "--anthropic-api-key",
                "",
                "--openai-base-url",
                "http://127.0.0.1:11434/v1",
                "--openai-api-key",
                " sk-local ",
                "--openai-model-map",
                "",
                "--model-timeout",
                "30",
                "--model-max-retries",
                "5",
                "--prompt-caching",
                "false",
            ];
            argv.extend(extra);
            let Command::Serve(args) = Cli::try_parse_from(argv).unwrap().command else {
                panic!("expected serve");
            };
            args.model
        };
        let openai = parse(
            "openai",
            &[
                "--openai-model-map",
                "claude-sonnet-4-6=qwen3:8b,*=llama3.1",
            ],
        );
        assert_eq!(
            openai.provider_config(&no_file).unwrap(),
            ProviderConfig::OpenAi(OpenAiConfig {
                base_url: "http://127.0.0.1:11434/v1".into(),
                api_key: Some(ApiKey::new("sk-local")),
                model_map: [("*", "llama3.1"), ("claude-sonnet-4-6", "qwen3:8b")]
                    .into_iter()
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .collect(),
                max_tokens: None,
                timeout: Duration::from_secs(30),
            })
        );
        let options = openai.engine_options(&no_file).unwrap();
        assert_eq!(options.retry.max_retries, 5);
        assert_eq!(options.provider.unwrap().name(), "openai");

        let anthropic = parse("anthropic", &["--model-max-tokens", "1024"]);
        assert_eq!(
            anthropic.provider_config(&no_file).unwrap(),
            ProviderConfig::Anthropic(AnthropicConfig {
                base_url: "http://127.0.0.1:9/".into(),
                api_key: None,
                max_tokens: 1024,
                timeout: Duration::from_secs(30),
                prompt_caching: false,
            })
        );
        assert!(
            parse("offline", &[])
                .engine_options(&no_file)
                .unwrap()
                .provider
                .is_none()
        );
        let bad = parse("openai", &["--openai-model-map", "oops"]);
        assert!(matches!(
            bad.engine_options(&no_file),
            Err(ConfigError::ModelMap(_))
        ));
        assert!(
            Cli::try_parse_from(["steward-platform", "serve", "--model-provider", "bedrock"])
                .is_err()
        );
    }

    /// A config file setting every `[model]` key.
    const FULL_FILE: &str = r#"
# The platform's settings.
[model]
provider = "openai"
base_url = "http://127.0.0.1:11434/v1"
timeout_secs = 42
max_tokens = 2048
max_retries = 7
prompt_caching = false

[model.openai]
models = { "claude-sonnet-4-6" = "llama3.1:8b", "*" = " qwen3:8b " }
"#;

    fn map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn config_files_parse() {
        let file = ConfigFile::parse(FULL_FILE).unwrap();
        assert_eq!(file.model.provider, Some(ProviderKind::OpenAi));
        assert_eq!(
            file.model.base_url.as_deref(),
            Some("http://127.0.0.1:11434/v1")
        );
        assert_eq!(file.model.timeout_secs, Some(42));
        assert_eq!(file.model.max_tokens, Some(2048));
        assert_eq!(file.model.max_retries, Some(7));
        assert_eq!(file.model.prompt_caching, Some(false));
        assert_eq!(
            file.model.openai_model_map(),
            Some(map(&[
                ("*", "qwen3:8b"),
                ("claude-sonnet-4-6", "llama3.1:8b")
            ]))
        );
        // Empty files and tables are fine; the provider name is case-insensitive.
        assert_eq!(ConfigFile::parse("").unwrap(), ConfigFile::default());
        assert_eq!(
            ConfigFile::parse("[model]\n").unwrap(),
            ConfigFile::default()
        );
        assert_eq!(
            ConfigFile::parse("[model]\nprovider = \"Anthropic\"")
                .unwrap()
                .model
                .provider,
            Some(ProviderKind::Anthropic)
        );
    }

    #[test]
    fn config_file_errors_are_one_line_and_name_the_problem() {
        let error = |text: &str| {
            let message = ConfigFile::parse(text).unwrap_err();
            assert!(!message.contains('\n'), "{message}");
            message
        };
        let message = error("[model]\nprovider = \"openai\"\ntimeout = 5\n");
        assert!(
            message.starts_with("line 3, column 1: unknown field `timeout`")
                && message.contains("timeout_secs"),
            "{message}"
        );
        let message = error("[model]\nprovider = \"bedrock\"\n");
        assert!(
            message.starts_with("line 2, column 12: unknown model provider `bedrock`")
                && message.contains("offline, anthropic or openai"),
            "{message}"
        );
        assert!(error("[server]\nlisten = 1\n").contains("unknown field `server`"));
        assert!(error("[model.openai]\nmodel = {}\n").contains("unknown field `model`"));
        assert!(error("[model]\ntimeout_secs = \"ten\"\n").starts_with("line 2, column 16:"));
        assert!(error("[model]\ntimeout_secs = -1\n").starts_with("line 2, column 16:"));
        assert!(error("[model\n").starts_with("line 1, column "));
        assert!(error("[model]\ntimeout_secs = 0\n").contains("model.timeout_secs"));
        assert!(error("[model]\nmax_tokens = 0\n").contains("model.max_tokens"));
        assert!(error("[model]\nbase_url = \"http://x\"\n").contains("needs model.provider"));
        assert!(error("[model.openai]\nmodels = { \" \" = \"x\" }\n").contains("model map"));
        for text in [
            "[model]\napi_key = \"sk-secret\"\n",
            "[model.openai]\napi_key = \"sk-secret\"\n",
        ] {
            let message = error(text);
            assert!(
                message.contains("API keys are not read from the config file")
                    && message.contains("OPENAI_API_KEY")
                    && !message.contains("sk-secret"),
                "{message}"
            );
        }
    }

    #[test]
    fn config_files_are_found_and_their_errors_name_them() {
        let dir = tempfile::tempdir().unwrap();
        let explicit = dir.path().join("elsewhere.toml");
        assert_eq!(ConfigFile::path(None, dir.path()), None);
        assert_eq!(
            ConfigFile::path(Some(&explicit), dir.path()),
            Some(explicit.clone())
        );
        let default = dir.path().join(DEFAULT_CONFIG_FILE);
        std::fs::write(&default, "[model]\nprovider = \"anthropic\"\n").unwrap();
        assert_eq!(ConfigFile::path(None, dir.path()), Some(default.clone()));
        assert_eq!(
            ConfigFile::load(&default).unwrap().model.provider,
            Some(ProviderKind::Anthropic)
        );
        // A missing explicit file is an error, not an empty configuration.
        let message = ConfigFile::load(&explicit).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!("config file {}: ", explicit.display())),
            "{message}"
        );
        std::fs::write(&default, "[model]\nprovider = \"bedrock\"\n").unwrap();
        let message = ConfigFile::load(&default).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "config file {}: line 2, column 12: unknown model provider `bedrock` (expected \
                 offline, anthropic or openai)",
                default.display()
            )
        );
        let cli = Cli::try_parse_from(["steward-platform", "serve", "--config", "/etc/p.toml"]);
        let Command::Serve(args) = cli.unwrap().command else {
            panic!("expected serve");
        };
        assert_eq!(args.config, Some(PathBuf::from("/etc/p.toml")));
    }

    #[tokio::test]
    async fn serve_stops_on_a_bad_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(DEFAULT_CONFIG_FILE),
            "[model]\nprovidr = 1\n",
        )
        .unwrap();
        let args = ServeArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: DataDirArg {
                data_dir: Some(dir.path().to_path_buf()),
            },
            config: None,
            rate_limit: None,
            model: ModelArgs::default(),
        };
        let error = run(Command::Serve(args), &mut Vec::new())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, CliError::ConfigFile { message, .. }
                if message.contains("unknown field `providr`")),
            "{error}"
        );
    }

    #[test]
    fn flags_and_environment_win_over_the_config_file_which_wins_over_defaults() {
        let file = ConfigFile::parse(FULL_FILE).unwrap().model;
        // Nothing from flags or the environment: the file decides.
        let from_file = ModelArgs::default();
        assert_eq!(
            from_file.provider_config(&file).unwrap(),
            ProviderConfig::OpenAi(OpenAiConfig {
                base_url: "http://127.0.0.1:11434/v1".into(),
                api_key: None,
                model_map: map(&[("*", "qwen3:8b"), ("claude-sonnet-4-6", "llama3.1:8b")]),
                max_tokens: Some(2048),
                timeout: Duration::from_secs(42),
            })
        );
        assert_eq!(
            from_file.engine_options(&file).unwrap().retry.max_retries,
            7
        );
        // Values a flag or environment variable gave (clap puts either into `ModelArgs`).
        let given = ModelArgs {
            openai_base_url: Some("http://10.0.0.2:8000/v1".into()),
            openai_api_key: Some("sk-env".into()),
            openai_model_map: Some(vec!["*=mistral".into()]),
            model_timeout: Some(5),
            model_max_tokens: Some(100),
            model_max_retries: Some(0),
            ..ModelArgs::default()
        };
        assert_eq!(
            given.provider_config(&file).unwrap(),
            ProviderConfig::OpenAi(OpenAiConfig {
                base_url: "http://10.0.0.2:8000/v1".into(),
                api_key: Some(ApiKey::new("sk-env")),
                model_map: map(&[("*", "mistral")]),
                max_tokens: Some(100),
                timeout: Duration::from_secs(5),
            })
        );
        assert_eq!(given.engine_options(&file).unwrap().retry.max_retries, 0);
        // An empty map given on the command line empties the file's.
        let emptied = ModelArgs {
            openai_model_map: Some(vec![String::new()]),
            ..ModelArgs::default()
        };
        let ProviderConfig::OpenAi(config) = emptied.provider_config(&file).unwrap() else {
            panic!("expected openai");
        };
        assert!(config.model_map.is_empty());
        // Another provider chosen outside the file does not get the file's base URL, but does
        // get its other settings.
        let anthropic = ModelArgs {
            model_provider: Some(ProviderKind::Anthropic),
            ..ModelArgs::default()
        };
        assert_eq!(
            anthropic.provider_config(&file).unwrap(),
            ProviderConfig::Anthropic(AnthropicConfig {
                base_url: DEFAULT_ANTHROPIC_BASE_URL.into(),
                api_key: None,
                max_tokens: 2048,
                timeout: Duration::from_secs(42),
                prompt_caching: false,
            })
        );
        let offline = ModelArgs {
            model_provider: Some(ProviderKind::Offline),
            ..ModelArgs::default()
        };
        assert_eq!(
            offline.provider_config(&file).unwrap(),
            ProviderConfig::Offline
        );
        // Neither: the defaults.
        let none = ModelFileConfig::default();
        assert_eq!(
            ModelArgs::default().provider_config(&none).unwrap(),
            ProviderConfig::Offline
        );
        assert_eq!(
            anthropic.provider_config(&none).unwrap(),
            ProviderConfig::Anthropic(AnthropicConfig::default())
        );
        let openai = ModelArgs {
            model_provider: Some(ProviderKind::OpenAi),
            ..ModelArgs::default()
        };
        assert_eq!(
            openai.provider_config(&none).unwrap(),
            ProviderConfig::OpenAi(OpenAiConfig::default())
        );
        assert_eq!(
            ModelArgs::default()
                .engine_options(&none)
                .unwrap()
                .retry
                .max_retries,
            RetryPolicy::default().max_retries
        );
        // The file's anthropic base URL is used when the file names anthropic.
        let file = ConfigFile::parse(
            "[model]\nprovider = \"anthropic\"\nbase_url = \"http://127.0.0.1:9\"\n",
        )
        .unwrap()
        .model;
        let ProviderConfig::Anthropic(config) = anthropic.provider_config(&file).unwrap() else {
            panic!("expected anthropic");
        };
        assert_eq!(config.base_url, "http://127.0.0.1:9");
        assert_eq!(config.max_tokens, DEFAULT_MAX_TOKENS);
        assert!(config.prompt_caching);
    }

    #[test]
    fn serve_help_documents_the_providers_and_hides_keys() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        let serve = cli.find_subcommand_mut("serve").unwrap();
        let help = serve.render_long_help().to_string();
        for needle in [
            "[env: STEWARD_MODEL_PROVIDER=",
            "offline",
            "anthropic",
            "openai",
            "[env: ANTHROPIC_BASE_URL=",
            "[env: ANTHROPIC_API_KEY]",
            "[env: OPENAI_BASE_URL=",
            "[env: OPENAI_API_KEY]",
            "[env: STEWARD_OPENAI_MODEL_MAP=",
            "[env: STEWARD_MODEL_TIMEOUT=",
            "[env: STEWARD_MODEL_MAX_TOKENS=",
            "[env: STEWARD_MODEL_MAX_RETRIES=",
            "[env: STEWARD_PROMPT_CACHING=",
            "retry-after",
            "retries_exhausted",
            "approximate",
            "logs which one it uses at start",
            "--config <FILE>",
            "<data_dir>/platform.toml",
            "[model.openai]",
            "API keys are never read from the file",
            "command-line flag > environment variable > config file > default",
        ] {
            assert!(help.contains(needle), "missing {needle:?} in:\n{help}");
        }
        // The defaults written in the help are the ones used.
        for default in [
            format!("retried [default: {}]", RetryPolicy::default().max_retries),
            format!("seconds [default: {}]", DEFAULT_TIMEOUT.as_secs()),
            format!("[default: {DEFAULT_ANTHROPIC_BASE_URL}]"),
            format!("[default: {DEFAULT_OPENAI_BASE_URL}]"),
            format!("[default: {DEFAULT_MAX_TOKENS} for anthropic"),
        ] {
            let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&default), "missing {default:?} in:\n{help}");
        }
    }

    #[tokio::test]
    async fn keys_create_then_list() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = DataDirArg {
            data_dir: Some(dir.path().to_path_buf()),
        };
        let mut out = Vec::new();
        run(
            Command::Keys {
                command: KeysCommand::Create {
                    name: Some("ci".into()),
                    data_dir: data_dir.clone(),
                },
            },
            &mut out,
        )
        .await
        .unwrap();
        let key = String::from_utf8(out).unwrap().trim().to_owned();
        assert!(key.starts_with(crate::auth::KEY_PREFIX));
        let mut out = Vec::new();
        run(
            Command::Keys {
                command: KeysCommand::List { data_dir },
            },
            &mut out,
        )
        .await
        .unwrap();
        let listing = String::from_utf8(out).unwrap();
        assert!(
            listing.starts_with("apikey_") && listing.trim_end().ends_with("\tci"),
            "{listing}"
        );
        assert!(!listing.contains(&key));
    }
}
