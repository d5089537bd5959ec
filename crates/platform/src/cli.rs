//! Command-line interface of `steward-platform` (`serve`, `keys create`, `keys list`).
//!
//! Kept in the library so that the assistant can offer the same commands as
//! `steward platform …`: parse [`Cli`] (or embed [`Command`] in another clap parser) and call
//! [`run`]. Data goes to the writer given to [`run`] (stdout in the binary); logs go through
//! `tracing`.
//!
//! `serve` takes the model provider's settings from flags or, for each flag, an environment
//! variable ([`ModelArgs`]; the names are the `*_ENV` constants here). This is the only place
//! the platform reads them: the library itself takes a
//! [`ProviderConfig`].

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::db::Db;
use crate::engine::model::config::{
    DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_MAX_TOKENS, DEFAULT_OPENAI_BASE_URL, parse_model_map,
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
    /// STEWARD_MODEL_PROVIDER); the platform logs which one it uses at start.
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
    /// The model provider.
    #[command(flatten)]
    pub model: ModelArgs,
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

Examples:
  ANTHROPIC_API_KEY=sk-ant-... steward-platform serve --model-provider anthropic
  STEWARD_MODEL_PROVIDER=openai OPENAI_BASE_URL=http://127.0.0.1:11434/v1 \\
    STEWARD_OPENAI_MODEL_MAP='*=qwen3:8b' steward-platform serve";

/// The model provider's settings (`serve`). Each flag may instead be given by the environment
/// variable its help names.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Model provider")]
pub struct ModelArgs {
    /// Which model runs sessions
    #[arg(long, env = MODEL_PROVIDER_ENV, value_enum, default_value_t = ProviderKind::Offline)]
    pub model_provider: ProviderKind,
    /// Base URL of the Messages API (anthropic)
    #[arg(long, env = ANTHROPIC_BASE_URL_ENV, default_value = DEFAULT_ANTHROPIC_BASE_URL)]
    pub anthropic_base_url: String,
    /// Key of the Messages API, sent as x-api-key (anthropic); prefer the environment
    /// variable, since other users can see a process's arguments
    #[arg(long, env = ANTHROPIC_API_KEY_ENV, hide_env_values = true)]
    pub anthropic_api_key: Option<String>,
    /// Whether Messages API requests carry prompt-cache breakpoints (anthropic)
    #[arg(long, env = PROMPT_CACHING_ENV, default_value_t = true, action = clap::ArgAction::Set)]
    pub prompt_caching: bool,
    /// Base URL of the chat completions server, /v1 included (openai)
    #[arg(long, env = OPENAI_BASE_URL_ENV, default_value = DEFAULT_OPENAI_BASE_URL)]
    pub openai_base_url: String,
    /// Key of the chat completions server, sent as a bearer token, if it needs one (openai)
    #[arg(long, env = OPENAI_API_KEY_ENV, hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// Maps an agent's model name to the server's: AGENT_MODEL=LOCAL_MODEL, repeatable or
    /// comma-separated; `*=LOCAL_MODEL` maps every other model; unmapped names are sent as
    /// they are (openai)
    #[arg(long, env = OPENAI_MODEL_MAP_ENV, value_name = "AGENT=LOCAL", value_delimiter = ',')]
    pub openai_model_map: Vec<String>,
    /// Longest time one model request may take, response stream included, in seconds
    #[arg(long, env = MODEL_TIMEOUT_ENV, value_name = "SECONDS", default_value_t = 600,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub model_timeout: u64,
    /// max_tokens of every model request [default: 8192 for anthropic; the server's own for
    /// openai]
    #[arg(long, env = MODEL_MAX_TOKENS_ENV, value_parser = clap::value_parser!(u32).range(1..))]
    pub model_max_tokens: Option<u32>,
    /// How often a rate-limited or overloaded model request is retried
    #[arg(long, env = MODEL_MAX_RETRIES_ENV, default_value_t = RetryPolicy::default().max_retries)]
    pub model_max_retries: u32,
}

impl ModelArgs {
    /// The provider configuration these settings describe.
    pub fn provider_config(&self) -> Result<ProviderConfig, ConfigError> {
        let key = |key: &Option<String>| {
            key.as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(ApiKey::new)
        };
        let timeout = Duration::from_secs(self.model_timeout);
        Ok(match self.model_provider {
            ProviderKind::Offline => ProviderConfig::Offline,
            ProviderKind::Anthropic => ProviderConfig::Anthropic(AnthropicConfig {
                base_url: self.anthropic_base_url.clone(),
                api_key: key(&self.anthropic_api_key),
                max_tokens: self.model_max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
                timeout,
                prompt_caching: self.prompt_caching,
            }),
            ProviderKind::OpenAi => ProviderConfig::OpenAi(OpenAiConfig {
                base_url: self.openai_base_url.clone(),
                api_key: key(&self.openai_api_key),
                model_map: parse_model_map(self.openai_model_map.iter().map(String::as_str))?,
                max_tokens: self.model_max_tokens,
                timeout,
            }),
        })
    }

    /// The engine options: the provider (none for `offline`, which the engine then uses and
    /// announces) and the retry policy.
    pub fn engine_options(&self) -> Result<EngineOptions, ConfigError> {
        let config = self.provider_config()?;
        let provider: Option<Arc<dyn crate::engine::ModelProvider>> = match config {
            ProviderConfig::Offline => None,
            config => Some(config.build()?),
        };
        Ok(EngineOptions {
            provider,
            retry: RetryPolicy {
                max_retries: self.model_max_retries,
                ..RetryPolicy::default()
            },
            ..EngineOptions::default()
        })
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
    let engine = args.model.engine_options()?;
    let handle = Platform::builder()
        .data_dir(&data_dir)
        .listen(args.listen)
        .engine(engine)
        .start()
        .await?;
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
    fn serve_takes_the_model_provider_settings() {
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
            openai.provider_config().unwrap(),
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
        let options = openai.engine_options().unwrap();
        assert_eq!(options.retry.max_retries, 5);
        assert_eq!(options.provider.unwrap().name(), "openai");

        let anthropic = parse("anthropic", &["--model-max-tokens", "1024"]);
        assert_eq!(
            anthropic.provider_config().unwrap(),
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
                .engine_options()
                .unwrap()
                .provider
                .is_none()
        );
        let bad = parse("openai", &["--openai-model-map", "oops"]);
        assert!(matches!(
            bad.engine_options(),
            Err(ConfigError::ModelMap(_))
        ));
        assert!(
            Cli::try_parse_from(["steward-platform", "serve", "--model-provider", "bedrock"])
                .is_err()
        );
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
        ] {
            assert!(help.contains(needle), "missing {needle:?} in:\n{help}");
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
