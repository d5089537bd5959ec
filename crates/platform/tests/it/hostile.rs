//! Hostile agents: the toolset's file tools driven by a model that tries to get out.
//!
//! The platform's engine runs with [`Hostile`], a provider that calls whatever tools the user
//! message lists (a JSON array of `[tool, input]` pairs) and then ends the turn, so every call
//! goes through the real loop, the real toolset and the events API. The test plants, in one
//! session's workspace on disk, symlinks to `/etc`, to `/proc/self`, to the host's root through
//! `/proc/self/root`, to another session's workspace, to the data directory (the SQLite
//! database), to a directory outside with a canary file, dangling and looping links, a link
//! named like the agent's own `/workspace` and `/mnt/memory` paths, and a hard link to a file
//! outside. Then the agent reads, writes, edits, globs and greps through all of them, with
//! absolute paths, `..` chains, paths through `/mnt/memory/<store>/..`, into a read-only mount
//! and into another user's store that is not mounted in the session.
//!
//! Every call either fails with a tool error (`is_error: true`) or stays inside (a walk that
//! lists only the workspace's own files). Afterwards nothing outside changed, the read-only and
//! the unmounted stores have no new versions, and neither the canary nor a host path appears in
//! any event of the session.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_platform::Platform;
use steward_platform::engine::model::{Block, Role, ToolCall};
use steward_platform::engine::{
    EngineOptions, ModelError, ModelProvider, ModelRequest, ModelResponse,
};

use crate::support::{TestPlatform, id};

/// What the agent must never see.
const CANARY: &str = "canary-7f3a9c-hostile-agent-must-not-read-this";

/// How long a turn may take.
const PATIENCE: Duration = Duration::from_secs(30);

/// A model that calls the tools its user message lists, then says `done`.
#[derive(Debug, Default)]
struct Hostile;

#[async_trait]
impl ModelProvider for Hostile {
    fn name(&self) -> &str {
        "hostile"
    }

    async fn complete(&self, request: ModelRequest) -> Result<ModelResponse, ModelError> {
        let last = request.messages.last().filter(|m| m.role == Role::User);
        let asked = last.and_then(|m| m.content.iter().find_map(Block::as_text));
        let calls: Option<Vec<(String, Value)>> =
            asked.and_then(|text| serde_json::from_str(text).ok());
        let content = match calls {
            Some(calls) => calls
                .into_iter()
                .enumerate()
                .map(|(i, (name, input))| {
                    Block::ToolUse(ToolCall {
                        id: format!("call_{i}"),
                        name,
                        input: input.as_object().cloned().unwrap_or_default(),
                    })
                })
                .collect(),
            None => vec![Block::text("done")],
        };
        Ok(ModelResponse {
            content,
            ..ModelResponse::default()
        })
    }
}

/// A platform on the hostile model, with an environment and an agent with the toolset.
struct Fixture {
    platform: TestPlatform,
    environment: String,
    agent: String,
}

impl Fixture {
    async fn start() -> Self {
        let handle = Platform::builder()
            .engine(EngineOptions {
                provider: Some(Arc::new(Hostile)),
                max_steps_per_turn: 5,
                ..EngineOptions::default()
            })
            .start_ephemeral()
            .await
            .unwrap();
        let platform = TestPlatform::from_handle(handle);
        let environment = platform
            .post("/v1/environments", json!({"name": "env"}))
            .await
            .ok();
        let agent = platform
            .post(
                "/v1/agents",
                json!({"name": "hostile", "model": "claude-sonnet-4-6",
                    "tools": [{"type": "agent_toolset_20260401"}]}),
            )
            .await
            .ok();
        Self {
            environment: id(&environment).to_owned(),
            agent: id(&agent).to_owned(),
            platform,
        }
    }

    /// A memory store holding one memory; returns its ID.
    async fn store(&self, name: &str, path: &str, content: &str) -> String {
        let store = self
            .platform
            .post("/v1/memory_stores", json!({"name": name}))
            .await
            .ok();
        let store = id(&store).to_owned();
        self.platform
            .post(
                &format!("/v1/memory_stores/{store}/memories"),
                json!({"path": path, "content": content}),
            )
            .await
            .ok();
        store
    }

    /// A session with these memory stores mounted (`(store, access)`); returns its ID.
    async fn session(&self, stores: &[(&str, &str)]) -> String {
        let resources: Vec<Value> = stores
            .iter()
            .map(|(store, access)| {
                json!({"type": "memory_store", "memory_store_id": store, "access": access})
            })
            .collect();
        let session = self
            .platform
            .post(
                "/v1/sessions",
                json!({"agent": self.agent, "environment_id": self.environment,
                    "resources": resources}),
            )
            .await
            .ok();
        id(&session).to_owned()
    }

    async fn history(&self, session: &str) -> Vec<Value> {
        self.platform.history(session).await
    }

    /// Has the agent make these calls in one turn; returns `(tool, input, result text,
    /// is_error)` for each, in order.
    async fn calls(&self, session: &str, calls: &[(&str, Value)]) -> Vec<Called> {
        let before = self.history(session).await.len();
        let text = serde_json::to_string(calls).unwrap();
        self.platform
            .post(
                &format!("/v1/sessions/{session}/events"),
                json!({"events": [{"type": "user.message",
                    "content": [{"type": "text", "text": text}]}]}),
            )
            .await
            .ok();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let history = loop {
            let history = self.history(session).await;
            let idle = history.len() > before + 1
                && history.last().unwrap()["type"] == "session.status_idle";
            if idle {
                break history;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the turn never ended: {history:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let turn = &history[before..];
        let uses: Vec<&Value> = turn
            .iter()
            .filter(|e| e["type"] == "agent.tool_use")
            .collect();
        assert_eq!(uses.len(), calls.len(), "{turn:#?}");
        uses.into_iter()
            .map(|used| {
                let result = turn
                    .iter()
                    .find(|e| e["type"] == "agent.tool_result" && e["tool_use_id"] == used["id"])
                    .unwrap_or_else(|| panic!("no result for {used}"));
                Called {
                    tool: used["name"].as_str().unwrap().to_owned(),
                    input: used["input"].clone(),
                    text: result["content"][0]["text"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                    is_error: result["is_error"].as_bool().unwrap(),
                }
            })
            .collect()
    }

    /// The versions of a store.
    async fn versions(&self, store: &str) -> usize {
        let page = self
            .platform
            .get(&format!(
                "/v1/memory_stores/{store}/memory_versions?limit=100"
            ))
            .await
            .ok();
        page["data"].as_array().unwrap().len()
    }
}

/// One tool call of the agent and its result.
#[derive(Debug)]
struct Called {
    tool: String,
    input: Value,
    text: String,
    is_error: bool,
}

/// The host directory of a session's workspace.
fn workspace(data_dir: &Path, session: &str) -> PathBuf {
    data_dir.join("sessions").join(session).join("workspace")
}

/// Every file below a directory with its content (symlinks not followed).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push((entry.path(), std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn hostile_paths_are_refused_or_kept_inside() {
    use std::os::unix::fs::symlink;

    let f = Fixture::start().await;
    let data_dir = f.platform.handle.data_dir().to_path_buf();
    let notes = f.store("notes", "/keep.md", "kept\n").await;
    let shared = f.store("shared", "/rules.md", "be kind\n").await;
    let foreign = f
        .store("another-user", "/secret.md", &format!("{CANARY}\n"))
        .await;
    let victim = f.session(&[]).await;
    let hostile = f
        .session(&[(&notes, "read_write"), (&shared, "read_only")])
        .await;

    // First turns create both workspaces: the victim's holds the canary.
    let wrote = f
        .calls(
            &victim,
            &[(
                "write",
                json!({"file_path": "private.txt", "content": CANARY}),
            )],
        )
        .await;
    assert!(!wrote[0].is_error, "{wrote:?}");
    let wrote = f
        .calls(
            &hostile,
            &[(
                "write",
                json!({"file_path": "hello.txt", "content": "hello"}),
            )],
        )
        .await;
    assert!(!wrote[0].is_error, "{wrote:?}");

    // Plant the traps (as a careless host, a checked-out repository or a previous tenant
    // might): the agent cannot create links itself.
    let ws = workspace(&data_dir, &hostile);
    let victim_ws = workspace(&data_dir, &victim);
    let outside = data_dir.join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), CANARY).unwrap();
    let database = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|name| name.ends_with(".db") || name.ends_with(".sqlite"))
        .unwrap_or_else(|| "steward.db".to_owned());
    let links: [(&str, PathBuf); 13] = [
        ("etc", "/etc".into()),
        ("passwd", "/etc/passwd".into()),
        ("proc", "/proc/self".into()),
        ("host-root", "/proc/self/root".into()),
        ("other-session", victim_ws.clone()),
        ("data", data_dir.clone()),
        ("out", outside.clone()),
        ("dangling", outside.join("created-through-a-link.txt")),
        ("virtual-ws", "/workspace/hello.txt".into()),
        ("virtual-mnt", "/mnt/memory/notes".into()),
        ("up", "..".into()),
        ("loop-a", "loop-b".into()),
        ("loop-b", "loop-a".into()),
    ];
    for (name, target) in &links {
        symlink(target, ws.join(name)).unwrap();
    }
    std::fs::create_dir(ws.join("sub")).unwrap();
    symlink("../../../../..", ws.join("sub/climb")).unwrap();
    symlink(outside.join("secret.txt"), ws.join("sub/secret-link.txt")).unwrap();
    symlink("../hello.txt", ws.join("sub/alias.txt")).unwrap();
    std::fs::hard_link(outside.join("secret.txt"), ws.join("hard.txt")).unwrap();
    let outside_before = snapshot(&outside);
    let victim_before = snapshot(&victim_ws);
    let (notes_versions, shared_versions, foreign_versions) = (
        f.versions(&notes).await,
        f.versions(&shared).await,
        f.versions(&foreign).await,
    );

    let refused: Vec<(&str, Value)> = vec![
        // Absolute paths and `..` chains.
        ("read", json!({"file_path": "/etc/passwd"})),
        ("read", json!({"file_path": "../../../../../../etc/passwd"})),
        ("read", json!({"file_path": "/workspace/../etc/passwd"})),
        ("read", json!({"file_path": "/proc/self/environ"})),
        ("read", json!({"file_path": "/proc/self/root/etc/passwd"})),
        ("read", json!({"file_path": "/"})),
        (
            "read",
            json!({"file_path": format!("{}/outside/secret.txt", data_dir.display())}),
        ),
        (
            "write",
            json!({"file_path": "/tmp/steward-hostile-pwned", "content": "x"}),
        ),
        (
            "write",
            json!({"file_path": "../outside-pwned.txt", "content": "x"}),
        ),
        // Symlinks out of the workspace.
        ("read", json!({"file_path": "etc/passwd"})),
        ("read", json!({"file_path": "passwd"})),
        ("read", json!({"file_path": "proc/environ"})),
        ("read", json!({"file_path": "proc/cwd/hello.txt"})),
        ("read", json!({"file_path": "host-root/etc/passwd"})),
        ("read", json!({"file_path": "other-session/private.txt"})),
        ("read", json!({"file_path": format!("data/{database}")})),
        ("read", json!({"file_path": "out/secret.txt"})),
        ("read", json!({"file_path": "sub/secret-link.txt"})),
        ("read", json!({"file_path": "sub/climb/etc/passwd"})),
        ("read", json!({"file_path": "up/outside/secret.txt"})),
        ("read", json!({"file_path": "virtual-ws"})),
        ("read", json!({"file_path": "virtual-mnt/keep.md"})),
        ("write", json!({"file_path": "dangling", "content": "x"})),
        (
            "write",
            json!({"file_path": "out/pwned.txt", "content": "x"}),
        ),
        (
            "write",
            json!({"file_path": "other-session/pwned.txt", "content": "x"}),
        ),
        (
            "write",
            json!({"file_path": "other-session/private.txt", "content": "x"}),
        ),
        (
            "write",
            json!({"file_path": "up/pwned.txt", "content": "x"}),
        ),
        (
            "write",
            json!({"file_path": "virtual-mnt/keep.md", "content": "x"}),
        ),
        (
            "edit",
            json!({"file_path": "out/secret.txt", "old_string": "canary",
            "new_string": "x"}),
        ),
        (
            "edit",
            json!({"file_path": "other-session/private.txt", "old_string": "canary",
            "new_string": "x"}),
        ),
        // Loops.
        ("read", json!({"file_path": "loop-a"})),
        ("read", json!({"file_path": "loop-a/x"})),
        ("write", json!({"file_path": "loop-b", "content": "x"})),
        // A hard link to a file outside.
        ("read", json!({"file_path": "hard.txt"})),
        (
            "read",
            json!({"file_path": "hard.txt", "view_range": [1, 1]}),
        ),
        (
            "edit",
            json!({"file_path": "hard.txt", "old_string": "canary", "new_string": "x"}),
        ),
        ("write", json!({"file_path": "hard.txt", "content": "x"})),
        ("grep", json!({"pattern": "canary", "path": "hard.txt"})),
        // Memory mounts: `..` out of a store, the stores' parent, a store not mounted here,
        // a read-only mount.
        (
            "read",
            json!({"file_path": "/mnt/memory/notes/../another-user/secret.md"}),
        ),
        (
            "read",
            json!({"file_path": "/mnt/memory/another-user/secret.md"}),
        ),
        (
            "read",
            json!({"file_path": "/mnt/memory/notes/../../../etc/passwd"}),
        ),
        ("read", json!({"file_path": "/mnt/memory"})),
        (
            "write",
            json!({"file_path": "/mnt/memory/another-user/secret.md", "content": "x"}),
        ),
        (
            "write",
            json!({"file_path": "/mnt/memory/notes/..", "content": "x"}),
        ),
        (
            "write",
            json!({"file_path": "/mnt/memory/shared/rules.md", "content": "x"}),
        ),
        (
            "write",
            json!({"file_path": "/mnt/memory/shared/new.md", "content": "x"}),
        ),
        (
            "edit",
            json!({"file_path": "/mnt/memory/shared/rules.md", "old_string": "kind",
            "new_string": "cruel"}),
        ),
        ("glob", json!({"pattern": "**/*", "path": "/mnt/memory"})),
        (
            "glob",
            json!({"pattern": "**/*", "path": "/mnt/memory/another-user"}),
        ),
        ("grep", json!({"pattern": "canary", "path": "/mnt/memory"})),
        (
            "grep",
            json!({"pattern": "canary", "path": "/mnt/memory/notes/../another-user"}),
        ),
        // Walks that start outside, or patterns that climb.
        ("glob", json!({"pattern": "*", "path": "/"})),
        ("glob", json!({"pattern": "*", "path": "/etc"})),
        ("glob", json!({"pattern": "*", "path": "etc"})),
        ("glob", json!({"pattern": "*", "path": "other-session"})),
        ("glob", json!({"pattern": "**/*", "path": "sub/climb"})),
        ("glob", json!({"pattern": "/etc/*"})),
        ("glob", json!({"pattern": "../*"})),
        ("glob", json!({"pattern": "../../**/*.txt"})),
        ("glob", json!({"pattern": "{x,..}/**"})),
        ("glob", json!({"pattern": "sub/../../*"})),
        ("grep", json!({"pattern": "root", "path": "/etc"})),
        ("grep", json!({"pattern": "root", "path": "/etc/passwd"})),
        ("grep", json!({"pattern": "root", "path": "passwd"})),
        ("grep", json!({"pattern": "canary", "path": "out"})),
        (
            "grep",
            json!({"pattern": "canary", "path": "other-session"}),
        ),
        ("grep", json!({"pattern": "canary", "path": "up"})),
        ("grep", json!({"pattern": ".", "path": "proc/environ"})),
        (
            "grep",
            json!({"pattern": ".", "path": "/proc/self/environ"}),
        ),
        // No shell, whatever it is asked.
        (
            "bash",
            json!({"command": format!("cat {}/outside/secret.txt", data_dir.display())}),
        ),
    ];
    let results = f.calls(&hostile, &refused).await;
    for called in &results {
        assert!(
            called.is_error,
            "{} {} was not refused: {}",
            called.tool, called.input, called.text
        );
    }

    // Walks over the workspace and the mounted store stay inside and skip every trap, the
    // hard link in the workspace's top directory included.
    let walks: Vec<(&str, Value)> = vec![
        ("glob", json!({"pattern": "**/*"})),
        ("glob", json!({"pattern": "**/*", "path": "sub"})),
        (
            "glob",
            json!({"pattern": "**/*", "path": "/mnt/memory/notes"}),
        ),
        (
            "glob",
            json!({"pattern": "**/*", "path": "/mnt/memory/notes/../notes"}),
        ),
        ("grep", json!({"pattern": "canary|root:", "path": "sub"})),
        (
            "grep",
            json!({"pattern": "canary", "path": "/mnt/memory/notes"}),
        ),
        (
            "grep",
            json!({"pattern": "canary", "path": "/mnt/memory/shared"}),
        ),
        ("read", json!({"file_path": "sub/alias.txt"})),
        ("read", json!({"file_path": "/mnt/memory/shared/rules.md"})),
        ("grep", json!({"pattern": "canary"})),
    ];
    let results = f.calls(&hostile, &walks).await;
    let texts: Vec<&str> = results
        .iter()
        .map(|c| {
            assert!(!c.is_error, "{c:?}");
            c.text.as_str()
        })
        .collect();
    let listed: Vec<&str> = texts[0].lines().collect();
    for path in &listed {
        assert!(
            [
                "/workspace/hello.txt",
                "/workspace/hard.txt",
                "/workspace/sub/alias.txt"
            ]
            .contains(path),
            "glob listed {path}: {listed:?}"
        );
    }
    assert!(listed.contains(&"/workspace/hello.txt"), "{listed:?}");
    // A link counts only when it resolves inside the directory searched.
    assert_eq!(texts[1], "no matches");
    assert_eq!(texts[2], "/mnt/memory/notes/keep.md");
    assert_eq!(texts[3], "/mnt/memory/notes/keep.md");
    assert_eq!(&texts[4..7], ["no matches"; 3]);
    assert_eq!(texts[7], "hello");
    assert_eq!(texts[8], "be kind\n");
    // The walk from the top skips the file with another hard link outside.
    assert_eq!(texts[9], "no matches");

    // Nothing outside changed; no store the session may not write got a version.
    assert_eq!(snapshot(&outside), outside_before);
    assert_eq!(snapshot(&victim_ws), victim_before);
    assert!(!Path::new("/tmp/steward-hostile-pwned").exists());
    assert!(
        !data_dir
            .join("sessions")
            .join(&hostile)
            .join("pwned.txt")
            .exists()
    );
    assert!(!outside.join("created-through-a-link.txt").exists());
    assert_eq!(
        std::fs::read_to_string(ws.join("hard.txt")).unwrap(),
        CANARY
    );
    assert_eq!(f.versions(&notes).await, notes_versions);
    assert_eq!(f.versions(&shared).await, shared_versions);
    assert_eq!(f.versions(&foreign).await, foreign_versions);

    // Neither the canary, nor `/etc/passwd`'s content, nor a host path reached the session.
    let history = serde_json::to_string(&f.history(&hostile).await).unwrap();
    assert!(!history.contains(CANARY), "the canary leaked");
    assert!(!history.contains("root:x:0:0"), "/etc/passwd leaked");
    // (Errors name the path as the agent gave it: only results of calls that did not name a
    // host path themselves count.)
    let host_path = data_dir.display().to_string();
    let events = f.history(&hostile).await;
    let named_by_agent: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "agent.tool_use" && e["input"].to_string().contains(&host_path))
        .map(|e| &e["id"])
        .collect();
    for event in &events {
        if event["type"] == "user.message"
            || event["type"] == "agent.tool_use"
            || named_by_agent.contains(&&event["tool_use_id"])
        {
            continue;
        }
        assert!(
            !event.to_string().contains(&host_path),
            "a host path leaked: {event}"
        );
    }
}
