//! The `agent_toolset_20260401` tools, run by the platform inside a session.
//!
//! `read`, `write`, `edit`, `glob` and `grep` behave as the SDK's Node implementation
//! (`tools/agent-toolset/node.ts`) documents them, with its inputs, outputs, limits and error
//! texts, over the session's virtual file system (see [`fs`]): the workspace directory
//! `/workspace` on disk and the memory stores mounted at `/mnt/memory/<store>/` (see
//! [`super::mounts`]). Every failure is a [`ToolError`] whose text the model sees as an error
//! result. Differences from the Node implementation, all deliberate:
//!
//! * **`bash` never runs.** The platform has no sandbox (such as bubblewrap) to confine a
//!   shell, so a `bash` call is answered with a tool error saying so, whatever the agent's
//!   configuration. `web_fetch` and `web_search` are server tools the platform does not
//!   implement: they are not offered to the model.
//! * **`grep` is built in** (no `rg`), with Rust's `regex` syntax (linear time, so no
//!   catastrophic backtracking) instead of JavaScript's; walk order is by file name, so the
//!   output is deterministic. The walk limits (depth 40, 50 000 entries, lines over 2000
//!   characters skipped, a file ends at its first NUL, 100 KiB of output, 60 s) are the SDK's.
//! * **`glob`** supports `*`, `?`, `**`, `[…]` and `{a,b}`; `*` also matches names starting
//!   with a dot; directories reached through symlinks are not descended into. Results are
//!   newest first by modification time (ties by path), at most 200.
//! * Text is decoded as UTF-8 with invalid sequences replaced (as Node's `'utf8'` decoding
//!   does).

pub(crate) mod fs;

mod edit;
mod glob;
mod grep;
mod read;
mod write;

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::json;
use steward_core::agent::{AgentTool, BuiltinToolName, PermissionPolicy};
use steward_core::event::JsonObject;
use steward_core::session::SessionAgent;

use self::fs::{WORKDIR, Workspace};
use super::model::ToolSpec;
use super::mounts::{MemoryFiles, Mount};

/// Size cap of a whole-file `read` and of `edit` (the SDK's default `maxFileBytes`).
pub(crate) const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024;

/// A failed tool call: the text the model receives as an error result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolError(pub(crate) String);

impl ToolError {
    /// An error with this text.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

/// What a tool call returns: the output text, or the error text.
pub(crate) type ToolResult = Result<String, ToolError>;

/// One enabled tool of the toolset with its resolved permission policy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnabledTool {
    /// The tool.
    pub(crate) name: BuiltinToolName,
    /// Its permission policy.
    pub(crate) policy: PermissionPolicy,
}

/// The toolset tools the platform can offer: the file tools and `bash` (which answers with an
/// error). The server tools `web_fetch`/`web_search` are left out.
fn offered(name: &BuiltinToolName) -> bool {
    matches!(
        name,
        BuiltinToolName::Bash
            | BuiltinToolName::Read
            | BuiltinToolName::Write
            | BuiltinToolName::Edit
            | BuiltinToolName::Glob
            | BuiltinToolName::Grep
    )
}

/// The enabled toolset tools of an agent snapshot, in the toolset's order, with their
/// policies: a per-tool config overrides the default one.
pub(crate) fn enabled_tools(agent: &SessionAgent) -> Vec<EnabledTool> {
    let mut tools: Vec<EnabledTool> = Vec::new();
    for tool in &agent.tools {
        let AgentTool::Toolset(toolset) = tool else {
            continue;
        };
        for name in [
            BuiltinToolName::Bash,
            BuiltinToolName::Read,
            BuiltinToolName::Write,
            BuiltinToolName::Edit,
            BuiltinToolName::Glob,
            BuiltinToolName::Grep,
        ] {
            let config = toolset.configs.iter().find(|config| config.name == name);
            let enabled = config.map_or(toolset.default_config.enabled, |c| c.enabled);
            let policy = config.map_or(&toolset.default_config.permission_policy, |c| {
                &c.permission_policy
            });
            if enabled && offered(&name) && !tools.iter().any(|t| t.name == name) {
                tools.push(EnabledTool {
                    name,
                    policy: policy.clone(),
                });
            }
        }
    }
    tools
}

/// How the model sees a toolset tool: its description and input schema (the SDK's).
pub(crate) fn spec(name: &BuiltinToolName) -> Option<ToolSpec> {
    let (description, schema) = match name {
        BuiltinToolName::Bash => (
            "Run a bash command in a persistent shell. State (cwd, env vars) persists across \
             calls. (This platform has no sandbox, so every call fails with an error.)",
            json!({"type": "object", "properties": {
                "command": {"type": "string", "description": "The command to run"},
                "restart": {"type": "boolean", "description": "Restart the persistent shell before running"},
                "timeout_ms": {"type": "integer", "description": "Per-call timeout in milliseconds"}
            }}),
        ),
        BuiltinToolName::Read => (
            "Read a UTF-8 text file relative to the workdir.",
            json!({"type": "object", "properties": {
                "file_path": {"type": "string"},
                "view_range": {"type": "array", "items": {"type": "integer"},
                    "description": "[start_line, end_line] 1-indexed inclusive"}
            }, "required": ["file_path"]}),
        ),
        BuiltinToolName::Write => (
            "Write a UTF-8 text file relative to the workdir, creating parent directories as needed.",
            json!({"type": "object", "properties": {
                "file_path": {"type": "string"}, "content": {"type": "string"}
            }, "required": ["file_path", "content"]}),
        ),
        BuiltinToolName::Edit => (
            "Replace old_string with new_string in a file. old_string must be unique unless replace_all.",
            json!({"type": "object", "properties": {
                "file_path": {"type": "string"}, "old_string": {"type": "string"},
                "new_string": {"type": "string"}, "replace_all": {"type": "boolean"}
            }, "required": ["file_path", "old_string", "new_string"]}),
        ),
        BuiltinToolName::Glob => (
            "Match files under the workdir against a glob pattern. Results are mtime-sorted, newest first.",
            json!({"type": "object", "properties": {
                "pattern": {"type": "string"},
                "path": {"type": "string", "description": "Directory to search in. Defaults to the workdir."}
            }, "required": ["pattern"]}),
        ),
        BuiltinToolName::Grep => (
            "Search file contents for a regex (Rust regex syntax). Output lines are path:line:text.",
            json!({"type": "object", "properties": {
                "pattern": {"type": "string"}, "path": {"type": "string"}
            }, "required": ["pattern"]}),
        ),
        _ => return None,
    };
    Some(ToolSpec {
        name: name.as_str().to_owned(),
        description: description.to_owned(),
        input_schema: schema,
    })
}

/// Where a path the agent gave leads.
#[derive(Debug)]
pub(crate) enum Target<'a> {
    /// A file or directory in the workspace: its canonical host path.
    Disk(PathBuf),
    /// A path in a mounted memory store: the memory path, `None` for the mount root.
    Memory {
        /// The mount.
        mount: &'a Mount,
        /// The memory path (`/a/b.md`), or `None` for the mount root.
        path: Option<String>,
    },
}

/// The toolset of one session: its workspace, its mounts, its limits.
#[derive(Debug, Clone)]
pub(crate) struct Toolset {
    workspace: Workspace,
    mounts: Vec<Mount>,
    memory: MemoryFiles,
    max_file_bytes: Option<u64>,
}

impl Toolset {
    /// The toolset over a workspace and the session's mounts.
    pub(crate) fn new(workspace: Workspace, mounts: Vec<Mount>, memory: MemoryFiles) -> Self {
        Self {
            workspace,
            mounts,
            memory,
            max_file_bytes: Some(DEFAULT_MAX_FILE_BYTES),
        }
    }

    /// Changes the size cap of whole-file reads and edits (`None`: no cap).
    #[cfg(test)]
    pub(crate) fn with_max_file_bytes(mut self, cap: Option<u64>) -> Self {
        self.max_file_bytes = cap;
        self
    }

    /// Runs the tool `name` with `input`.
    pub(crate) async fn run(&self, name: &str, input: &JsonObject) -> ToolResult {
        match BuiltinToolName::from(name) {
            BuiltinToolName::Read => read::run(self, decode("read", input)?).await,
            BuiltinToolName::Write => write::run(self, decode("write", input)?).await,
            BuiltinToolName::Edit => edit::run(self, decode("edit", input)?).await,
            BuiltinToolName::Glob => glob::run(self, decode("glob", input)?).await,
            BuiltinToolName::Grep => grep::run(self, decode("grep", input)?).await,
            BuiltinToolName::Bash => Err(ToolError::new(
                "bash: disabled: this platform runs no sandbox (such as bubblewrap), so it does \
                 not run shell commands; use the file tools (read, write, edit, glob, grep)",
            )),
            _ => Err(ToolError::new(format!(
                "{name}: this tool is not available on this platform"
            ))),
        }
    }

    /// Resolves a path the agent gave: in a mount, or confined to the workspace.
    pub(crate) fn resolve(&self, given: &str) -> Result<Target<'_>, ToolError> {
        let virtual_path = fs::resolve_virtual(given);
        if let Some(mount) = self.mounts.iter().find(|m| m.contains(&virtual_path)) {
            return Ok(Target::Memory {
                mount,
                path: mount.memory_path(&virtual_path),
            });
        }
        let outside = || {
            let permitted = if self.mounts.is_empty() {
                "the session's working directory"
            } else {
                "the session's working directory and its other permitted directories"
            };
            ToolError::new(format!("path {} is outside {permitted}", quoted(given)))
        };
        let host = self
            .workspace
            .host_path(&virtual_path)
            .ok_or_else(outside)?;
        match self.workspace.confine(&host) {
            Ok(Some(real)) => Ok(Target::Disk(real)),
            Ok(None) => Err(outside()),
            Err(e) => Err(ToolError::new(fs::resolve_error_message(
                &e,
                &format!("path {}", quoted(given)),
            ))),
        }
    }

    /// The workspace.
    pub(crate) fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// Access to the mounted stores.
    pub(crate) fn memory(&self) -> &MemoryFiles {
        &self.memory
    }

    /// The size cap of whole-file reads and edits.
    pub(crate) fn max_file_bytes(&self) -> Option<u64> {
        self.max_file_bytes
    }
}

/// The text of a string as JSON (`"a \"b\""`), as the SDK quotes paths in errors.
pub(crate) fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// Decodes a tool input into its argument type; a mismatch is a tool error.
fn decode<T: DeserializeOwned>(tool: &str, input: &JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(serde_json::Value::Object(input.clone()))
        .map_err(|e| ToolError::new(format!("{tool}: invalid input: {e}")))
}

/// Runs blocking file-system work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    tool: &str,
    work: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ToolError::new(format!("{tool}: internal error ({e})")))?
}

/// The message of an internal failure (database, task), without details the agent should
/// not see.
pub(crate) fn internal(tool: &str, error: &crate::Error) -> ToolError {
    tracing::error!(tool, error = ?error, "a tool failed on a platform error");
    ToolError::new(format!("{tool}: internal error"))
}

/// The path the SDK's `glob`/`grep` search when none is given: the workdir.
pub(crate) const DEFAULT_SEARCH_PATH: &str = WORKDIR;

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use serde_json::{Value, json};
    use steward_core::{MemoryStoreId, SessionId};

    use super::fs::Workspace;
    use super::*;
    use crate::db::Db;

    const STORE: &str = "memstore_0000000000000000000000aa";

    /// A toolset over a fresh workspace with one memory store mounted at `/mnt/memory/notes`.
    struct Fixture {
        _dir: tempfile::TempDir,
        db: Db,
        root: PathBuf,
        toolset: Toolset,
    }

    fn fixture(read_only: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let body = json!({"id": STORE, "type": "memory_store", "name": "notes",
            "description": "", "metadata": {}, "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z", "archived_at": null});
        db.write_blocking(|tx| {
            tx.execute(
                "INSERT INTO memory_stores (id, created_at, archived_at, body)
                 VALUES (?1, '2026-01-01T00:00:00Z', NULL, ?2)",
                [STORE, &body.to_string()],
            )?;
            Ok(())
        })
        .unwrap();
        let workspace = Workspace::open(&dir.path().join("ws")).unwrap();
        let root = std::fs::canonicalize(dir.path().join("ws")).unwrap();
        let mount = Mount {
            store_id: MemoryStoreId::new(STORE),
            name: "notes".into(),
            description: String::new(),
            instructions: None,
            path: "/mnt/memory/notes".into(),
            read_only,
        };
        let toolset = Toolset::new(workspace, vec![mount], session_files(&db, "sesn_a"));
        Fixture {
            _dir: dir,
            db,
            root,
            toolset,
        }
    }

    fn session_files(db: &Db, session: &str) -> MemoryFiles {
        MemoryFiles::new(db.clone(), SessionId::new(session), Arc::default())
    }

    impl Fixture {
        async fn run(&self, tool: &str, input: Value) -> ToolResult {
            let Value::Object(input) = input else {
                panic!("inputs are objects")
            };
            self.toolset.run(tool, &input).await
        }

        async fn ok(&self, tool: &str, input: Value) -> String {
            self.run(tool, input).await.unwrap()
        }

        async fn err(&self, tool: &str, input: Value) -> String {
            self.run(tool, input).await.unwrap_err().0
        }

        fn file(&self, rel: &str, content: &str) {
            let path = self.root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }

        /// (operation, actor type, actor id) of every memory version, oldest first.
        fn versions(&self) -> Vec<(String, String, String)> {
            self.db
                .read_blocking(|conn| {
                    let mut stmt = conn.prepare(
                        "SELECT operation, actor_type, actor_id FROM memory_versions
                         ORDER BY created_at, id",
                    )?;
                    let rows =
                        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
                    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
                })
                .unwrap()
        }
    }

    const OUTSIDE: &str =
        "is outside the session's working directory and its other permitted directories";

    #[tokio::test(flavor = "multi_thread")]
    async fn paths_are_confined_to_the_workspace_and_the_mounts() {
        let f = fixture(false);
        f.file("a.txt", "inside");
        for path in [
            "../../etc/passwd",
            "/etc/passwd",
            "/mnt/memory",
            "/mnt/memory/other/x",
            "/workspace/../etc",
        ] {
            assert_eq!(
                f.err("read", json!({"file_path": path})).await,
                format!("path {} {OUTSIDE}", quoted(path)),
            );
        }
        assert_eq!(f.ok("read", json!({"file_path": "a.txt"})).await, "inside");
        assert_eq!(
            f.ok("read", json!({"file_path": "/workspace/a.txt"})).await,
            "inside"
        );
        assert_eq!(
            f.ok("read", json!({"file_path": "sub/../a.txt"})).await,
            "inside"
        );
        assert_eq!(
            f.ok("read", json!({"file_path": "../workspace/a.txt"}))
                .await,
            "inside"
        );

        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("secret"), "secret").unwrap();
            std::os::unix::fs::symlink(outside.path(), f.root.join("escape")).unwrap();
            std::os::unix::fs::symlink(outside.path().join("new"), f.root.join("dangling"))
                .unwrap();
            std::os::unix::fs::symlink("a.txt", f.root.join("alias")).unwrap();
            assert_eq!(
                f.err("read", json!({"file_path": "escape/secret"})).await,
                format!("path \"escape/secret\" {OUTSIDE}")
            );
            assert_eq!(
                f.err("write", json!({"file_path": "dangling", "content": "x"}))
                    .await,
                format!("path \"dangling\" {OUTSIDE}")
            );
            assert!(!outside.path().join("new").exists());
            assert_eq!(
                f.err("grep", json!({"pattern": "secret", "path": "escape"}))
                    .await,
                format!("path \"escape\" {OUTSIDE}")
            );
            // A link that stays inside is followed.
            assert_eq!(f.ok("read", json!({"file_path": "alias"})).await, "inside");
            // The walks never follow a link out.
            assert_eq!(
                f.ok("grep", json!({"pattern": "secret"})).await,
                "no matches"
            );
            assert_eq!(
                f.ok("glob", json!({"pattern": "**/*"}))
                    .await
                    .lines()
                    .collect::<Vec<_>>()
                    .len(),
                2
            );
        }
        let toolset = Toolset::new(
            f.toolset.workspace.clone(),
            Vec::new(),
            session_files(&f.db, "sesn_a"),
        );
        let Value::Object(input) = json!({"file_path": "/etc/passwd"}) else {
            unreachable!()
        };
        assert_eq!(
            toolset.run("read", &input).await.unwrap_err().0,
            "path \"/etc/passwd\" is outside the session's working directory"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn read_selects_line_ranges_and_enforces_the_cap() {
        let mut f = fixture(false);
        f.file("lines.txt", "one\ntwo\nthree\nfour");
        let read = |range: Value| json!({"file_path": "lines.txt", "view_range": range});
        assert_eq!(f.ok("read", read(json!([2, 3]))).await, "two\nthree");
        assert_eq!(f.ok("read", read(json!([3, 0]))).await, "three\nfour");
        assert_eq!(f.ok("read", read(json!([3, -1]))).await, "three\nfour");
        assert_eq!(f.ok("read", read(json!([0, 1]))).await, "one");
        assert_eq!(f.ok("read", read(json!([9, 12]))).await, "");
        assert_eq!(f.ok("read", read(json!([]))).await, "one\ntwo\nthree\nfour");
        assert_eq!(
            f.err("read", read(json!([1]))).await,
            "read: view_range must be [start_line, end_line]"
        );
        assert_eq!(
            f.err("read", json!({})).await,
            "read: file_path is required"
        );
        assert_eq!(
            f.err("read", json!({"file_path": "nope.txt"})).await,
            "read: nope.txt: no such file or directory"
        );
        assert_eq!(
            f.err("read", json!({"file_path": "."})).await,
            "read: . is not a regular file"
        );

        f.toolset = f.toolset.clone().with_max_file_bytes(Some(9));
        assert_eq!(
            f.err("read", json!({"file_path": "lines.txt"})).await,
            "read: lines.txt is 18 bytes, exceeds 9-byte limit. Use the view_range parameter to \
             read specific line ranges, e.g. view_range: [1, 500]."
        );
        assert_eq!(f.ok("read", read(json!([2, 3]))).await, "two\nthree");
        assert_eq!(f.ok("read", read(json!([4, 0]))).await, "four");
        assert_eq!(
            f.err("read", read(json!([1, 3]))).await,
            "read: view_range [1, 3] of lines.txt exceeds 9-byte limit. Narrow the view_range \
             to read a smaller portion."
        );
        f.file("long.txt", "0123456789abc\nshort");
        assert_eq!(
            f.err(
                "read",
                json!({"file_path": "long.txt", "view_range": [1, 1]})
            )
            .await,
            "read: line 1 of long.txt alone exceeds 9-byte limit. The read tool cannot return \
             part of a line, so view_range cannot narrow this further."
        );
        assert_eq!(
            f.ok(
                "read",
                json!({"file_path": "long.txt", "view_range": [2, 2]})
            )
            .await,
            "short"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn write_and_edit_change_workspace_files() {
        let f = fixture(false);
        assert_eq!(
            f.ok(
                "write",
                json!({"file_path": "deep/dir/x.txt", "content": "a a b é"})
            )
            .await,
            "wrote 8 bytes to deep/dir/x.txt"
        );
        let edit = |old: &str, new: &str, all: bool| {
            json!({"file_path": "deep/dir/x.txt", "old_string": old, "new_string": new,
                "replace_all": all})
        };
        assert_eq!(
            f.err("edit", edit("a", "c", false)).await,
            "edit: old_string appears 2 times in deep/dir/x.txt (must be unique)"
        );
        assert_eq!(
            f.err("edit", edit("z", "c", false)).await,
            "edit: old_string not found in deep/dir/x.txt"
        );
        assert_eq!(
            f.err("edit", edit("", "c", false)).await,
            "edit: old_string is required"
        );
        assert_eq!(
            f.ok("edit", edit("b", "$&", false)).await,
            "edited deep/dir/x.txt (1 replacement(s))"
        );
        assert_eq!(
            f.ok("edit", edit("a", "c", true)).await,
            "edited deep/dir/x.txt (2 replacement(s))"
        );
        assert_eq!(
            std::fs::read_to_string(f.root.join("deep/dir/x.txt")).unwrap(),
            "c c $& é"
        );
        assert_eq!(
            f.err(
                "edit",
                json!({"file_path": "missing.txt", "old_string": "a", "new_string": ""})
            )
            .await,
            "edit: missing.txt: no such file or directory"
        );
        assert_eq!(
            f.err(
                "write",
                json!({"file_path": "deep/dir/x.txt/y", "content": ""})
            )
            .await,
            "write: deep/dir/x.txt/y: not a directory"
        );
        assert!(
            f.err("bash", json!({"command": "ls"}))
                .await
                .starts_with("bash: disabled:")
        );
        assert_eq!(
            f.err("read", json!({"file_path": 5})).await,
            "read: invalid input: invalid type: integer `5`, expected a string"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn glob_lists_newest_first_and_grep_reports_path_line_text() {
        let f = fixture(false);
        let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        for (rel, content, secs) in [
            ("old.md", "alpha\nbeta", 1_000),
            ("src/new.md", "Beta\nbeta gamma", 3_000),
            ("src/mid.txt", "beta", 2_000),
            (".git/config", "beta", 4_000),
            ("node_modules/m/x.md", "beta", 4_000),
        ] {
            f.file(rel, content);
            std::fs::File::options()
                .write(true)
                .open(f.root.join(rel))
                .unwrap()
                .set_modified(at(secs))
                .unwrap();
        }
        insta::assert_snapshot!(f.ok("glob", json!({"pattern": "**/*"})).await, @r"
        /workspace/src/new.md
        /workspace/src/mid.txt
        /workspace/old.md
        ");
        assert_eq!(
            f.ok("glob", json!({"pattern": "*.md", "path": "src"}))
                .await,
            "/workspace/src/new.md"
        );
        assert_eq!(f.ok("glob", json!({"pattern": "*.rs"})).await, "no matches");
        assert_eq!(
            f.err("glob", json!({"pattern": "/etc/*"})).await,
            "glob: absolute pattern not permitted; pass a relative pattern (and optionally path)"
        );
        assert_eq!(
            f.err("glob", json!({"pattern": "{a,..}/*"})).await,
            "glob: \"..\" is not permitted in the pattern"
        );
        assert_eq!(
            f.err("glob", json!({"pattern": "*", "path": "old.md"}))
                .await,
            "glob: old.md: not a directory"
        );
        insta::assert_snapshot!(f.ok("grep", json!({"pattern": "(?i)^beta"})).await, @r"
        /workspace/old.md:2:beta
        /workspace/src/mid.txt:1:beta
        /workspace/src/new.md:1:Beta
        /workspace/src/new.md:2:beta gamma
        ");
        assert_eq!(
            f.ok("grep", json!({"pattern": "gamma", "path": "src/new.md"}))
                .await,
            "/workspace/src/new.md:2:beta gamma"
        );
        assert_eq!(
            f.ok("grep", json!({"pattern": "delta"})).await,
            "no matches"
        );
        assert!(
            f.err("grep", json!({"pattern": "("}))
                .await
                .starts_with("grep: invalid regex: "),
        );
        f.file("bin.dat", "beta\0beta");
        assert_eq!(
            f.ok("grep", json!({"pattern": "beta", "path": "bin.dat"}))
                .await,
            "/workspace/bin.dat:1:beta"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn memory_files_are_versions_by_the_session() {
        let f = fixture(false);
        assert_eq!(
            f.ok(
                "glob",
                json!({"pattern": "**/*", "path": "/mnt/memory/notes"})
            )
            .await,
            "no matches"
        );
        assert_eq!(
            f.ok(
                "write",
                json!({"file_path": "/mnt/memory/notes/prefs/coffee.md",
                "content": "oat milk\n"})
            )
            .await,
            "wrote 9 bytes to /mnt/memory/notes/prefs/coffee.md"
        );
        assert_eq!(
            f.ok(
                "read",
                json!({"file_path": "/mnt/memory/notes/prefs/coffee.md"})
            )
            .await,
            "oat milk\n"
        );
        assert_eq!(
            f.err("read", json!({"file_path": "/mnt/memory/notes/prefs"}))
                .await,
            "read: /mnt/memory/notes/prefs is not a regular file"
        );
        assert_eq!(
            f.err(
                "write",
                json!({"file_path": "/mnt/memory/notes/prefs", "content": ""})
            )
            .await,
            "write: /mnt/memory/notes/prefs: is a directory"
        );
        assert_eq!(
            f.err(
                "write",
                json!({"file_path": "/mnt/memory/notes", "content": ""})
            )
            .await,
            "write: /mnt/memory/notes: is a directory"
        );
        assert_eq!(
            f.ok(
                "edit",
                json!({"file_path": "/mnt/memory/notes/prefs/coffee.md",
                "old_string": "oat", "new_string": "soy"})
            )
            .await,
            "edited /mnt/memory/notes/prefs/coffee.md (1 replacement(s))"
        );
        assert_eq!(
            f.ok(
                "glob",
                json!({"pattern": "**/*.md", "path": "/mnt/memory/notes"})
            )
            .await,
            "/mnt/memory/notes/prefs/coffee.md"
        );
        assert_eq!(
            f.ok(
                "grep",
                json!({"pattern": "soy", "path": "/mnt/memory/notes"})
            )
            .await,
            "/mnt/memory/notes/prefs/coffee.md:1:soy milk"
        );
        let actor = ("session_actor".to_owned(), "sesn_a".to_owned());
        assert_eq!(
            f.versions(),
            vec![
                ("created".to_owned(), actor.0.clone(), actor.1.clone()),
                ("modified".to_owned(), actor.0, actor.1),
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn read_only_stores_refuse_changes() {
        let f = fixture(true);
        for (tool, input) in [
            (
                "write",
                json!({"file_path": "/mnt/memory/notes/a.md", "content": "x"}),
            ),
            (
                "edit",
                json!({"file_path": "/mnt/memory/notes/a.md", "old_string": "x",
                "new_string": "y"}),
            ),
        ] {
            assert_eq!(
                f.err(tool, input).await,
                format!(
                    "{tool}: /mnt/memory/notes/a.md is inside read-only directory /mnt/memory/notes"
                )
            );
        }
        assert!(f.versions().is_empty());
        assert_eq!(
            f.err("read", json!({"file_path": "/mnt/memory/notes/a.md"}))
                .await,
            "read: /mnt/memory/notes/a.md: no such file or directory"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_sessions_never_lose_each_others_writes() {
        let mut f = fixture(false);
        let path = "/mnt/memory/notes/log.md";
        f.ok("write", json!({"file_path": path, "content": "one\n"}))
            .await;
        let other = Toolset::new(
            f.toolset.workspace.clone(),
            f.toolset.mounts.clone(),
            session_files(&f.db, "sesn_b"),
        );
        let Value::Object(append) = json!({"file_path": path, "content": "one\nthree\n"}) else {
            unreachable!()
        };
        let Value::Object(b_write) = json!({"file_path": path, "content": "one\ntwo\n"}) else {
            unreachable!()
        };

        // A write based on a stale read fails instead of overwriting the other session's.
        f.ok("read", json!({"file_path": path})).await;
        other.run("write", &b_write).await.unwrap();
        assert_eq!(
            f.toolset.run("write", &append).await.unwrap_err().0,
            format!(
                "write: {path} was changed by someone else since this session last read it; \
                 read it again, then write"
            )
        );
        assert_eq!(f.ok("read", json!({"file_path": path})).await, "one\ntwo\n");

        // An edit that loses the race once is applied again to a fresh read.
        let raced = Arc::new(AtomicBool::new(false));
        let (db, flag) = (f.db.clone(), raced.clone());
        let store = MemoryStoreId::new(STORE);
        f.toolset.memory.before_write = Some(Arc::new(move || {
            if !flag.swap(true, Ordering::SeqCst) {
                let actor =
                    steward_core::memory::Actor::Session(steward_core::memory::SessionActor {
                        session_id: SessionId::new("sesn_b"),
                    });
                db.write_blocking(|tx| {
                    crate::memory::write_memory(
                        tx,
                        &store,
                        "/log.md",
                        "one\ntwo\nfour\n",
                        &actor,
                        None,
                    )
                    .map(drop)
                })
                .unwrap();
            }
        }));
        assert_eq!(
            f.ok(
                "edit",
                json!({"file_path": path, "old_string": "one\n",
                "new_string": "zero\none\n"})
            )
            .await,
            format!("edited {path} (1 replacement(s))")
        );
        assert!(raced.load(Ordering::SeqCst));
        f.toolset.memory.before_write = None;
        assert_eq!(
            f.ok("read", json!({"file_path": path})).await,
            "zero\none\ntwo\nfour\n"
        );
        let by: Vec<String> = f.versions().into_iter().map(|(_, _, id)| id).collect();
        assert_eq!(by, ["sesn_a", "sesn_b", "sesn_b", "sesn_a"]);
    }
}
