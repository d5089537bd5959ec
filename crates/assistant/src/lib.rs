//! The `steward` CLI: a personal assistant that remembers each user across sessions.
//!
//! The environment and the agent are created once (`steward setup`) and their IDs kept in a
//! state file ([`state`]); each user has a read-write memory store (`steward user add`), and a
//! shared read-only store holds reference material (`steward shared`). `steward memory`
//! inspects and manages a user's memory from the host: history with actors and diffs,
//! restore under a precondition, redaction that keeps the audit trail, and export/import with
//! verified hashes. `steward vault` keeps a user's MCP OAuth credentials, `steward usage`
//! reports tokens, `steward platform` re-exposes the platform's own commands.
//!
//! Where it runs ([`connect`]): with `ANTHROPIC_API_KEY` set, against the hosted API (or
//! `ANTHROPIC_BASE_URL`); otherwise against the embedded platform, started in-process.
//!
//! Conventions: data on stdout (`--json` on every command), messages and logs on stderr
//! ([`output`]); one `error:` line, maybe a `hint:` line, and documented exit codes
//! ([`error`]); every environment variable in [`mod@env`].
//!
//! **Architecture invariant:** this crate is the only one that prints, installs a `tracing`
//! subscriber or uses `anyhow`; nothing depends on it.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connect;
pub mod env;
pub mod error;
pub mod memories;
pub mod output;
pub mod paths;
pub mod state;

use app::App;
use cli::{Cli, Command, MemoryCommand, SharedCommand, UserCommand, VaultCommand};
use commands::{chat, memory, platform, setup, shared, transfer, usage, user, vault};
use config::Config;
use connect::Backend;
use env::Lookup;
use output::Printer;
use paths::Paths;
use state::StateFile;

/// Runs a parsed command line.
pub async fn run(cli: Cli, env: Lookup, printer: Printer) -> anyhow::Result<()> {
    let paths = Paths::resolve(cli.global.data_dir.as_deref(), cli.global.config.as_deref())?;
    if let Command::Platform { args } = &cli.command {
        return platform::run(args, &paths).await;
    }
    paths.ensure_data_dir()?;
    let config = Config::load(&paths.config_file)?;
    let state = StateFile::load(&paths.state_file())?;

    // Checks that need no API come first, so that nothing starts for a command that cannot run.
    let mut verified = None;
    match &cli.command {
        Command::Memory {
            command: MemoryCommand::Export { dir, .. },
        } => transfer::check_export_dir(dir)?,
        Command::Memory {
            command: MemoryCommand::Import { dir, .. },
        } => verified = Some(transfer::verify(dir)?),
        _ => {}
    }

    let backend = Backend::connect(&paths, &env, &printer).await?;
    let mut app = App {
        printer,
        paths,
        config,
        env,
        state,
        backend,
    };
    let result = dispatch(&mut app, cli.command, verified).await;
    app.backend.shutdown().await;
    result
}

async fn dispatch(
    app: &mut App,
    command: Command,
    verified: Option<transfer::Verified>,
) -> anyhow::Result<()> {
    match command {
        Command::Setup => setup::run(app).await,
        Command::Chat(args) => {
            let message = (!args.message.is_empty()).then(|| args.message.join(" "));
            chat::run(app, &args.user, message).await
        }
        Command::User { command } => match command {
            UserCommand::Add { user, prefs } => user::add(app, &user, &prefs).await,
            UserCommand::List => user::list(app).await,
        },
        Command::Shared { command } => match command {
            SharedCommand::Put { path, source } => shared::put(app, &path, &source).await,
            SharedCommand::Ls => shared::ls(app).await,
            SharedCommand::Cat { path } => shared::cat(app, &path).await,
        },
        Command::Memory { command } => match command {
            MemoryCommand::Ls { user, prefix } => {
                memory::ls(app, &user.user, prefix.as_deref()).await
            }
            MemoryCommand::Cat { user, path } => memory::cat(app, &user.user, &path).await,
            MemoryCommand::Put { user, path, source } => {
                memory::put(app, &user.user, &path, &source).await
            }
            MemoryCommand::Rm { user, path } => memory::rm(app, &user.user, &path).await,
            MemoryCommand::History { user, path, diff } => {
                memory::history(app, &user.user, path.as_deref(), diff.as_deref()).await
            }
            MemoryCommand::Restore { user, version } => {
                memory::restore(app, &user.user, &version).await
            }
            MemoryCommand::Redact { user, version } => {
                memory::redact(app, &user.user, &version).await
            }
            MemoryCommand::Export { user, dir } => transfer::export(app, &user.user, &dir).await,
            MemoryCommand::Import { user, .. } => match verified {
                Some(verified) => transfer::import(app, &user.user, verified).await,
                None => anyhow::bail!("the export was not verified"),
            },
        },
        Command::Vault { command } => match command {
            VaultCommand::Create { user } => vault::create(app, &user.user).await,
            VaultCommand::List { user } => vault::list(app, &user.user).await,
            VaultCommand::AddMcpOauth(args) => vault::add_mcp_oauth(app, &args).await,
            VaultCommand::Validate { user, credential } => {
                vault::validate(app, &user.user, &credential).await
            }
        },
        Command::Usage(args) => usage::run(app, args.user.as_deref()).await,
        Command::Platform { .. } => anyhow::bail!("the platform command runs without an API"),
    }
}
