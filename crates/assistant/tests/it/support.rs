//! [`CliTest`]: a temporary data directory, the `steward` binary run in it, and the `insta`
//! filters (IDs, times, the temporary directory) bound for the test's lifetime.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Variables removed from every child, so the developer's environment cannot leak in.
const CLEARED: [&str; 9] = [
    "STEWARD_PLATFORM_DATA_DIR",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "STEWARD_DATA_DIR",
    "STEWARD_CONFIG",
    "STEWARD_MCP_ACCESS_TOKEN",
    "STEWARD_MCP_REFRESH_TOKEN",
    "STEWARD_MCP_CLIENT_SECRET",
    "RUST_LOG",
];

/// What one run of the binary gave.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code.
    pub(crate) code: i32,
    /// Stdout.
    pub(crate) stdout: String,
    /// Stderr.
    pub(crate) stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Stdout and stderr in one text, for snapshots.
    pub(crate) fn both(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A temporary data directory and the binary run against it.
pub(crate) struct CliTest {
    dir: tempfile::TempDir,
    _settings: insta::internals::SettingsBindDropGuard,
}

impl CliTest {
    /// A fresh data directory, with snapshot filters for it.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = insta::Settings::clone_current();
        let tmp = dir.path().to_string_lossy().into_owned();
        settings.add_filter(&regex::escape(&tmp), "[TMP]");
        settings.add_filter(
            r"\b(env|agent|memstore|memver|mem|apikey|vlt|vcrd|sesn|sevt|sthr)_[A-Za-z0-9]{12,}",
            "[$1]",
        );
        settings.add_filter(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?",
            "[TIME]",
        );
        settings.add_filter(r"\b[0-9a-f]{12}…", "[HASH]…");
        settings.add_filter(r"\b[0-9a-f]{64}\b", "[SHA256]");
        let guard = settings.bind_to_scope();
        Self {
            dir,
            _settings: guard,
        }
    }

    /// The temporary directory (the data directory is `data/` inside it).
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory.
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The binary with `--data-dir` and a clean environment.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        self.command_in(&self.data_dir(), args)
    }

    /// The binary with another data directory.
    pub(crate) fn command_in(&self, data_dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
        command.arg("--data-dir").arg(data_dir).args(args);
        for name in CLEARED {
            command.env_remove(name);
        }
        command.env("NO_COLOR", "1");
        command.stdin(Stdio::null());
        command
    }

    /// Runs the binary.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().unwrap().into()
    }

    /// Runs the binary with `input` on stdin.
    pub(crate) fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().into()
    }

    /// Runs the binary, expects success, returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "steward {args:?} failed:\n{}", run.both());
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        run.stdout
    }

    /// Runs the binary with `--json`, expects success, parses stdout.
    pub(crate) fn json(&self, args_in: &[&str]) -> serde_json::Value {
        // First, so that it is not taken as part of a trailing message.
        let mut args = vec!["--json"];
        args.extend_from_slice(args_in);
        let stdout = self.ok(&args);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("steward {args:?} printed no JSON ({e}):\n{stdout}"))
    }

    /// Runs the binary, expects failure with `code` and one `error:` line; returns stderr.
    pub(crate) fn fails(&self, args: &[&str], code: i32) -> String {
        let run = self.run(args);
        check_failure(&run, code);
        run.stderr
    }

    /// Writes a file under the temporary directory and returns its path.
    pub(crate) fn write(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }
}

/// A failure: the code, exactly one `error:` line, no panic, nothing on stdout.
pub(crate) fn check_failure(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{}", run.both());
    assert!(!run.stderr.contains("panicked"), "{}", run.both());
    let errors = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .count();
    assert_eq!(errors, 1, "{}", run.both());
    assert_eq!(run.stdout, "", "{}", run.both());
}

/// The `id` of the `n`th item of a JSON array.
pub(crate) fn id_at(value: &serde_json::Value, n: usize) -> String {
    value[n]["id"].as_str().unwrap().to_owned()
}
