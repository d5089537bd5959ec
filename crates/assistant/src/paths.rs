//! Where the CLI keeps things: the config file, the state file and the embedded platform's
//! data.
//!
//! By default these follow the XDG base directories (through the `directories` crate):
//! `~/.config/steward/config.toml`, `~/.local/share/steward/state.json` and
//! `~/.local/share/steward/platform/` (the same directory `steward-platform serve` uses).
//! `--data-dir DIR` puts all three under `DIR`; `--config FILE` names the config file alone.

use std::path::{Path, PathBuf};

use crate::error::UserError;

/// The name of the config file inside the config (or data) directory.
pub const CONFIG_FILE: &str = "config.toml";

/// The name of the state file inside the data directory.
pub const STATE_FILE: &str = "state.json";

/// The embedded platform's directory inside the data directory.
pub const PLATFORM_DIR: &str = "platform";

/// The resolved locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The data directory (state, platform data).
    pub data_dir: PathBuf,
    /// The config file (it need not exist).
    pub config_file: PathBuf,
}

impl Paths {
    /// Resolves the locations from `--data-dir` and `--config` (either may be absent).
    pub fn resolve(data_dir: Option<&Path>, config: Option<&Path>) -> Result<Self, UserError> {
        let (data_dir, config_dir) = match data_dir {
            Some(dir) => (dir.to_path_buf(), dir.to_path_buf()),
            None => {
                let dirs = directories::ProjectDirs::from("", "", "steward").ok_or_else(|| {
                    UserError::usage("cannot find a home directory for steward's data")
                        .hint("pass `--data-dir DIR`")
                })?;
                (
                    dirs.data_dir().to_path_buf(),
                    dirs.config_dir().to_path_buf(),
                )
            }
        };
        let config_file = config
            .map(Path::to_path_buf)
            .unwrap_or_else(|| config_dir.join(CONFIG_FILE));
        Ok(Self {
            data_dir,
            config_file,
        })
    }

    /// The state file.
    pub fn state_file(&self) -> PathBuf {
        self.data_dir.join(STATE_FILE)
    }

    /// The embedded platform's data directory.
    pub fn platform_dir(&self) -> PathBuf {
        self.data_dir.join(PLATFORM_DIR)
    }

    /// Creates the data directory if needed; a failure is a clear error naming the path.
    pub fn ensure_data_dir(&self) -> Result<(), UserError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            UserError::failure(format!(
                "cannot create the data directory `{}`: {e}",
                self.data_dir.display()
            ))
            .hint("pass a writable directory with `--data-dir DIR`")
        })?;
        // A directory that exists but cannot be written fails here rather than halfway.
        let probe = self.data_dir.join(".steward-write-test");
        std::fs::write(&probe, b"")
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(|e| {
                UserError::failure(format!(
                    "the data directory `{}` is not writable: {e}",
                    self.data_dir.display()
                ))
                .hint("pass a writable directory with `--data-dir DIR`")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_holds_everything_unless_config_is_given() {
        let paths = Paths::resolve(Some(Path::new("/d")), None).unwrap();
        assert_eq!(paths.config_file, Path::new("/d/config.toml"));
        assert_eq!(paths.state_file(), Path::new("/d/state.json"));
        assert_eq!(paths.platform_dir(), Path::new("/d/platform"));
        let paths = Paths::resolve(Some(Path::new("/d")), Some(Path::new("/c.toml"))).unwrap();
        assert_eq!(paths.config_file, Path::new("/c.toml"));
    }

    #[test]
    fn an_unwritable_data_dir_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let paths = Paths::resolve(Some(&file.join("sub")), None).unwrap();
        let error = paths.ensure_data_dir().unwrap_err();
        assert!(
            error
                .message
                .starts_with("cannot create the data directory"),
            "{error}"
        );
    }
}
