//! What the platform benches share: the `steward-platform` binary of the same build, started as
//! a child process in a temporary data directory.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

/// The platform child process; killed when dropped.
pub(crate) struct PlatformProcess {
    child: Child,
    /// Kept open so that the platform's writes to stdout never fail.
    _stdout: BufReader<ChildStdout>,
    /// `http://127.0.0.1:<port>`, as the platform printed it.
    pub(crate) base_url: String,
    /// The key the platform wrote to its data directory.
    pub(crate) api_key: String,
    _data_dir: tempfile::TempDir,
}

impl PlatformProcess {
    /// Starts `steward-platform serve` on a free port in a new temporary directory named
    /// `<prefix>…`, and waits for its first line.
    pub(crate) fn start(prefix: &str) -> Self {
        let data_dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_steward-platform"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let base_url = line
            .trim()
            .strip_prefix("steward-platform listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the platform: {line:?}"))
            .to_owned();
        let api_key = std::fs::read_to_string(data_dir.path().join("api_key"))
            .unwrap()
            .trim()
            .to_owned();
        Self {
            child,
            _stdout: stdout,
            base_url,
            api_key,
            _data_dir: data_dir,
        }
    }

    /// The platform's `/proc/<pid>/status`.
    pub(crate) fn status_path(&self) -> PathBuf {
        PathBuf::from("/proc")
            .join(self.child.id().to_string())
            .join("status")
    }
}

impl Drop for PlatformProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
