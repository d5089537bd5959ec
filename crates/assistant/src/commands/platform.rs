//! `steward platform …`: the platform's own command line (`serve`, `keys create`, `keys list`),
//! parsed by `steward_platform::cli` and run in this process.
//!
//! The arguments are passed through unparsed by steward's parser (the platform's `--data-dir`
//! would clash with steward's global one) and parsed here with the platform's own parser. When
//! neither `--data-dir` nor `STEWARD_PLATFORM_DATA_DIR` names a directory, the platform uses
//! steward's (`<data dir>/platform`), the one the embedded platform uses, so
//! `steward platform serve` serves the same data that commands without `ANTHROPIC_API_KEY` see.

use std::ffi::OsString;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _};
use steward_platform::cli::{Cli, Command, KeysCommand};

use crate::paths::Paths;

/// Parses the platform's arguments, printing help or a usage error and exiting as clap does.
pub fn parse(args: &[OsString]) -> Cli {
    let command = Cli::command()
        .name("steward platform")
        .bin_name("steward platform");
    let argv = std::iter::once(OsString::from("steward platform")).chain(args.iter().cloned());
    match command
        .try_get_matches_from(argv)
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    }
}

/// Fills in steward's platform directory where no data directory was given.
pub fn default_data_dir(command: &mut Command, paths: &Paths) {
    let arg = match command {
        Command::Serve(args) => &mut args.data_dir,
        Command::Keys {
            command: KeysCommand::Create { data_dir, .. } | KeysCommand::List { data_dir },
        } => data_dir,
    };
    if arg.data_dir.is_none() {
        arg.data_dir = Some(paths.platform_dir());
    }
}

/// `steward platform ARGS…`.
pub async fn run(args: &[OsString], paths: &Paths) -> anyhow::Result<()> {
    let mut cli = parse(args);
    default_data_dir(&mut cli.command, paths);
    let mut stdout = std::io::stdout();
    steward_platform::cli::run(cli.command, &mut stdout)
        .await
        .context("platform command failed")
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    #[test]
    fn the_data_dir_defaults_to_stewards() {
        let paths = Paths::resolve(Some(Path::new("/d")), None).unwrap();
        let mut cli = parse(&["keys".into(), "list".into()]);
        default_data_dir(&mut cli.command, &paths);
        let Command::Keys {
            command: KeysCommand::List { data_dir },
        } = cli.command
        else {
            panic!("expected keys list");
        };
        assert_eq!(data_dir.data_dir, Some(PathBuf::from("/d/platform")));

        let mut cli = parse(&["serve".into(), "--data-dir".into(), "/x".into()]);
        default_data_dir(&mut cli.command, &paths);
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.data_dir.data_dir, Some(PathBuf::from("/x")));
    }
}
