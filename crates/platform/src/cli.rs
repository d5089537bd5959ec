//! Command-line interface of `steward-platform` (`serve`, `keys create`, `keys list`).
//!
//! Kept in the library so that the assistant can offer the same commands as
//! `steward platform …`: parse [`Cli`] (or embed [`Command`] in another clap parser) and call
//! [`run`]. Data goes to the writer given to [`run`] (stdout in the binary); logs go through
//! `tracing`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::db::Db;
use crate::error::StartError;
use crate::server::{DEFAULT_LISTEN, Platform, default_data_dir};

/// Environment variable that overrides the default data directory.
pub const DATA_DIR_ENV: &str = "STEWARD_PLATFORM_DATA_DIR";

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
    let handle = Platform::builder()
        .data_dir(&data_dir)
        .listen(args.listen)
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
