//! The `steward` binary: parses the command line, installs the `tracing` subscriber (stderr,
//! `RUST_LOG` or `--verbose`), runs the command and turns its error into one `error:` line, an
//! optional `hint:` line and an exit code (see [`steward_assistant::error`]).

use std::process::ExitCode;

use clap::Parser as _;
use steward_assistant::cli::Cli;
use steward_assistant::env::{self, Lookup};
use steward_assistant::error::{Exit, Report};
use steward_assistant::output::Printer;
use tracing_subscriber::EnvFilter;

// Tool plugins register themselves with `inventory`; a crate nothing names may be dropped by
// the linker together with its registrations (rust-lang/rust#64402), so name each one here.
use steward_plugin_aws as _;
use steward_tools as _;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Lookup::process();
    let printer = Printer::new(
        cli.global.json,
        cli.global.quiet,
        env.get(env::NO_COLOR).is_some(),
    );
    init_tracing(cli.global.verbose, &env, printer.color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            printer.error(format!("failed to start the async runtime: {e}"));
            return Exit::Failure.into();
        }
    };
    let result = runtime.block_on(steward_assistant::run(cli, env, printer));
    // Background tasks (an embedded server's connections) must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => Exit::Success.into(),
        Err(error) => {
            if is_broken_pipe(&error) {
                // `steward … | head`: the reader left; that is not a failure.
                return Exit::Success.into();
            }
            let report = Report::from_error(&error);
            printer.error(&report.message);
            if let Some(hint) = &report.hint {
                printer.hint(hint);
            }
            tracing::debug!(error = ?error, "command failed");
            report.exit.into()
        }
    }
}

/// Logs to stderr: `RUST_LOG` when set, else `warn`, `info`, `debug` or `trace` by `-v` count.
fn init_tracing(verbose: u8, env: &Lookup, color: bool) {
    let filter = match env.get(env::RUST_LOG) {
        Some(spec) => EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("warn")),
        None => EnvFilter::new(match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .init();
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
