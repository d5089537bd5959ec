//! The command line, as `clap` parses it.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::env;

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// Shown after `steward --help`: exit codes, environment, config file.
const AFTER_HELP: &str = "\
Exit codes:
  0    success
  1    the operation failed (API error, platform unreachable, file I/O, an import that did not verify)
  2    usage error (invalid arguments, unknown user, malformed config file)
  130  interrupted

Environment:
  ANTHROPIC_API_KEY   use the hosted API instead of the embedded platform
  ANTHROPIC_BASE_URL  the API's base URL (with ANTHROPIC_API_KEY)
  STEWARD_DATA_DIR    same as --data-dir
  STEWARD_CONFIG      same as --config
  RUST_LOG            log filter for stderr (overrides --verbose)
  NO_COLOR            no colour

Config file (TOML, every key optional):
  model = \"claude-sonnet-4-6\"
  system_prompt = \"...\"
  shared_store = \"shared\"
  [prices.\"claude-sonnet-4-6\"]   # USD per million tokens, for `steward usage`
  input = 3.0
  output = 15.0
  cache_read = 0.3
  cache_write = 3.75";

/// A personal assistant that remembers each user.
///
/// Without ANTHROPIC_API_KEY, steward starts an embedded platform in-process (data in the data
/// directory, sessions on its offline model); with it, steward talks to the hosted API.
#[derive(Debug, Parser)]
#[command(name = "steward", version, after_long_help = AFTER_HELP)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Keep state, config file and the embedded platform's data in DIR [default: XDG directories]
    #[arg(long, global = true, value_name = "DIR", env = env::STEWARD_DATA_DIR, help_heading = GLOBAL)]
    pub data_dir: Option<PathBuf>,
    /// Read the config file FILE [default: config.toml in the config directory]
    #[arg(long, global = true, value_name = "FILE", env = env::STEWARD_CONFIG, help_heading = GLOBAL)]
    pub config: Option<PathBuf>,
    /// Print data as JSON
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,
    /// Log more on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// Print no notes on stderr (warnings and errors still appear)
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,
}

/// A command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the environment, the agent and the shared store, or update the agent when the config changed
    Setup,
    /// Talk to the assistant as a user: one turn with a message, an interactive loop without
    Chat(ChatArgs),
    /// Manage users (each has a read-write memory store)
    User {
        /// What to do.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the shared read-only reference store
    Shared {
        /// What to do.
        #[command(subcommand)]
        command: SharedCommand,
    },
    /// Inspect and manage a user's memory
    Memory {
        /// What to do.
        #[command(subcommand)]
        command: MemoryCommand,
    },
    /// Manage a user's vault of MCP credentials
    Vault {
        /// What to do.
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// Show tokens used per user and per session
    Usage(UsageArgs),
    /// Run the platform's own commands: `serve`, `keys create`, `keys list`
    #[command(disable_help_flag = true)]
    Platform {
        /// The platform command and its arguments (see `steward platform --help`).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            num_args = 0..,
            value_name = "ARGS"
        )]
        args: Vec<OsString>,
    },
}

/// Which user.
#[derive(Debug, Clone, Args)]
pub struct UserArg {
    /// The user
    #[arg(long, short = 'u', value_name = "USER")]
    pub user: String,
}

/// `steward user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user: their memory store, seeded with preferences
    Add {
        /// The user's name (lowercase letters, digits, `-`, `_`)
        user: String,
        /// A preference to remember, as a small file (repeatable)
        #[arg(long = "pref", value_name = "TEXT")]
        prefs: Vec<String>,
    },
    /// List the users
    #[command(alias = "ls")]
    List,
}

/// `steward shared …`.
#[derive(Debug, Subcommand)]
pub enum SharedCommand {
    /// Write a file into the shared store
    Put {
        /// The memory path, such as `/policies/travel.md`
        path: String,
        /// The file to read, or `-` for stdin
        source: String,
    },
    /// List the shared store
    #[command(alias = "list")]
    Ls,
    /// Print a shared memory
    Cat {
        /// The memory path
        path: String,
    },
}

/// `steward memory …`.
#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// List a user's memories
    #[command(alias = "list")]
    Ls {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// Only paths under this directory, such as `/preferences/`
        prefix: Option<String>,
    },
    /// Print a memory's content
    Cat {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// The memory path
        path: String,
    },
    /// Write a memory from a file or stdin (a new version when it exists)
    Put {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// The memory path
        path: String,
        /// The file to read, or `-` for stdin
        source: String,
    },
    /// Delete a memory (its versions stay in the history)
    Rm {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// The memory path
        path: String,
    },
    /// Show versions with operation, actor and time, or the diff between two versions
    History {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// Only the versions of the memory at this path (or that once had it)
        path: Option<String>,
        /// Show the diff between two versions instead
        #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
        diff: Option<Vec<String>>,
    },
    /// Write an old version's content back as a new version
    Restore {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// The version to restore (`memver_…`)
        version: String,
    },
    /// Scrub a version's content, keeping the audit trail (who wrote it, when)
    Redact {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// The version to redact (`memver_…`)
        version: String,
    },
    /// Write a user's memories and a manifest of their hashes into a new directory
    Export {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// The directory to create (it must not exist, or be empty)
        dir: PathBuf,
    },
    /// Read an export back after verifying every hash (creates the user if needed)
    Import {
        /// Whose memory.
        #[command(flatten)]
        user: UserArg,
        /// The directory `steward memory export` wrote
        dir: PathBuf,
    },
}

/// `steward vault …`.
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Create the user's vault (attached to every session of the user)
    Create {
        /// Whose vault.
        #[command(flatten)]
        user: UserArg,
    },
    /// List the credentials in the user's vault
    #[command(alias = "ls")]
    List {
        /// Whose vault.
        #[command(flatten)]
        user: UserArg,
    },
    /// Add an MCP OAuth credential; the tokens come from STEWARD_MCP_* variables or stdin, never from the command line
    AddMcpOauth(AddMcpOauthArgs),
    /// Probe a credential against its MCP server (refreshing its token on a 401) and print the verdict
    Validate {
        /// Whose vault.
        #[command(flatten)]
        user: UserArg,
        /// The credential's ID (`vcrd_…`), as `steward vault list` shows it
        #[arg(value_name = "CREDENTIAL")]
        credential: String,
    },
}

/// How the OAuth client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenEndpointAuth {
    /// A public client: no secret.
    None,
    /// HTTP Basic with the client secret (from STEWARD_MCP_CLIENT_SECRET or stdin).
    #[value(alias = "basic")]
    ClientSecretBasic,
    /// The client secret in the form body (from STEWARD_MCP_CLIENT_SECRET or stdin).
    #[value(alias = "post")]
    ClientSecretPost,
}

/// `steward vault add-mcp-oauth`.
#[derive(Debug, Clone, Args)]
pub struct AddMcpOauthArgs {
    /// Whose vault.
    #[command(flatten)]
    pub user: UserArg,
    /// The MCP server's URL
    #[arg(long, value_name = "URL", alias = "server-url")]
    pub mcp_server_url: String,
    /// Read the secrets from stdin instead of the STEWARD_MCP_* variables: a JSON object with `access_token`, `refresh_token`, `client_secret`, or lines in that order
    #[arg(long, alias = "stdin")]
    pub token_stdin: bool,
    /// When the access token expires (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<String>,
    /// The OAuth client ID; with it the credential refreshes itself (refresh token from STEWARD_MCP_REFRESH_TOKEN or stdin)
    #[arg(long, value_name = "ID", requires = "token_endpoint")]
    pub client_id: Option<String>,
    /// The OAuth token endpoint
    #[arg(long, value_name = "URL", requires = "client_id")]
    pub token_endpoint: Option<String>,
    /// How the client authenticates at the token endpoint
    #[arg(long, value_enum, default_value_t = TokenEndpointAuth::None, requires = "client_id", alias = "client-auth")]
    pub token_endpoint_auth: TokenEndpointAuth,
    /// The scope to request on refresh
    #[arg(long, requires = "client_id")]
    pub scope: Option<String>,
    /// The resource indicator to send on refresh
    #[arg(long, requires = "client_id")]
    pub resource: Option<String>,
    /// A name to show for the credential
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// `steward chat`.
#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// Who is talking
    #[arg(long, short = 'u', value_name = "USER")]
    pub user: String,
    /// The message (words are joined; put it after `--` if it starts with `-`); without one, an interactive loop starts
    #[arg(value_name = "MESSAGE")]
    pub message: Vec<String>,
}

/// `steward usage`.
#[derive(Debug, Clone, Args)]
pub struct UsageArgs {
    /// Only this user's sessions
    #[arg(long, short = 'u', value_name = "USER")]
    pub user: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn platform_arguments_pass_through() {
        let cli = Cli::try_parse_from([
            "steward",
            "--data-dir",
            "/d",
            "platform",
            "serve",
            "--data-dir",
            "/x",
            "--help",
        ])
        .unwrap();
        assert_eq!(
            cli.global.data_dir.as_deref(),
            Some(std::path::Path::new("/d"))
        );
        let Command::Platform { args } = cli.command else {
            panic!("expected platform");
        };
        assert_eq!(args, ["serve", "--data-dir", "/x", "--help"]);
    }

    #[test]
    fn chat_words_are_the_message_and_flags_still_work() {
        let cli =
            Cli::try_parse_from(["steward", "chat", "-u", "a", "what", "time", "--json"]).unwrap();
        assert!(cli.global.json);
        let Command::Chat(args) = cli.command else {
            panic!("expected chat");
        };
        assert_eq!(args.message, ["what", "time"]);
        let cli = Cli::try_parse_from(["steward", "chat", "-u", "a", "--", "-v", "x"]).unwrap();
        let Command::Chat(args) = cli.command else {
            panic!("expected chat");
        };
        assert_eq!(args.message, ["-v", "x"]);
    }

    #[test]
    fn diff_takes_two_versions() {
        let cli = Cli::try_parse_from([
            "steward", "memory", "history", "-u", "alice", "--diff", "a", "b",
        ])
        .unwrap();
        let Command::Memory {
            command: MemoryCommand::History { diff, path, .. },
        } = cli.command
        else {
            panic!("expected history");
        };
        assert_eq!(diff, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(path, None);
    }
}
