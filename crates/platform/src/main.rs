//! The `steward-platform` binary: a local server of the Managed Agents API.
//!
//! `steward-platform serve --listen 127.0.0.1:4610 --data-dir DIR` serves until Ctrl-C;
//! `steward-platform keys create` prints a new API key. Logs go to stderr, filtered by
//! `RUST_LOG` (default `info`).

use std::process::ExitCode;

use clap::Parser;
use steward_platform::cli::{Cli, run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut stdout = std::io::stdout();
    match run(cli.command, &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

#[expect(
    clippy::print_stderr,
    reason = "the binary reports its fatal error on stderr"
)]
fn report(error: &dyn std::error::Error) {
    eprintln!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
}
