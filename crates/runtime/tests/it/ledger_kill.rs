//! The durable ledger across a real process kill: the `steward-ledger-host` binary drives
//! sessions of an in-process platform with a file ledger; the test SIGKILLs it at chosen points
//! and starts it again on the same ledger file.
//!
//! * **Mid call.** Both tools are inside their `call` (their start is in the log) when the host
//!   dies. After the restart, the idempotent `lookup` runs again and answers; `charge` (not
//!   idempotent) does not run again and is answered with an error saying its outcome is
//!   unknown.
//! * **Computed, not sent.** The result posts hang (they never leave the host) when it dies,
//!   after `charge` finished and its result was recorded. After the restart the recorded result
//!   is sent, and `charge` does not run again.
//!
//! Each time, the platform's history (read directly) must hold exactly one result per tool use,
//! and the turn must end on `end_turn`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::SessionId;
use steward_core::event::EventListParams;
use steward_runtime::Client;

use crate::support::fast_retries;

const HOST: &str = env!("CARGO_BIN_EXE_steward-ledger-host");

/// A running host and the lines it printed so far.
struct Host {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Host {
    fn start(
        platform: &steward_platform::PlatformHandle,
        dir: &Path,
        session: &SessionId,
        message: Option<&str>,
        env: &[(&str, &str)],
    ) -> Self {
        let mut command = Command::new(HOST);
        command
            .arg(platform.base_url())
            .arg(platform.api_key())
            .arg(dir.join("ledger.jsonl"))
            .arg(dir.join("tools.log"))
            .arg(session.as_str())
            .args(message)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().unwrap();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let out = BufReader::new(child.stdout.take().unwrap());
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// SIGKILL, then reap.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for a clean exit and returns the lines printed.
    async fn finish(mut self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "the host failed: {status}: {:?}",
                    self.lines()
                );
                // Let the reader thread drain the pipe.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return self.lines();
            }
            assert!(
                Instant::now() < deadline,
                "the host did not finish: {:?}",
                self.lines()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `ready` holds (polling), or fails with `what`.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The tool log: `(start|end, tool, tool-use ID)`.
fn log(path: &Path) -> Vec<(String, String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let mut parts = l.split(' ').map(str::to_owned);
            (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            )
        })
        .collect()
}

fn count(log: &[(String, String, String)], what: &str, tool: &str) -> usize {
    log.iter()
        .filter(|(w, t, _)| w == what && t == tool)
        .count()
}

/// The session's history, read directly.
async fn history(client: &Client, session: &SessionId) -> Vec<Value> {
    use futures::StreamExt;
    let mut events = client
        .sessions()
        .events()
        .list(session, &EventListParams::default());
    let mut out = Vec::new();
    while let Some(event) = events.next().await {
        out.push(serde_json::to_value(event.unwrap()).unwrap());
    }
    out
}

/// Checks that every custom tool use has exactly one result and that the turn ended on
/// `end_turn`; returns each tool's result as (text, is_error), by tool name.
fn settled(history: &[Value]) -> Vec<(String, String, bool)> {
    let mut answers = Vec::new();
    for call in history
        .iter()
        .filter(|e| e["type"] == "agent.custom_tool_use")
    {
        let results: Vec<&Value> = history
            .iter()
            .filter(|e| {
                e["type"] == "user.custom_tool_result" && e["custom_tool_use_id"] == call["id"]
            })
            .collect();
        assert_eq!(results.len(), 1, "one result for {call}: {history:#?}");
        answers.push((
            call["name"].as_str().unwrap().to_owned(),
            results[0]["content"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned(),
            results[0]["is_error"].as_bool().unwrap_or(false),
        ));
    }
    let last_idle = history
        .iter()
        .rev()
        .find(|e| e["type"] == "session.status_idle")
        .unwrap();
    assert_eq!(last_idle["stop_reason"]["type"], "end_turn", "{history:#?}");
    answers.sort();
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_resumes_from_its_file_ledger() {
    let data = tempfile::tempdir().unwrap();
    let platform = steward_platform::Platform::builder()
        .data_dir(data.path())
        .start_ephemeral()
        .await
        .unwrap();
    let client = Client::builder()
        .api_key(platform.api_key())
        .base_url(platform.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let schema = json!({"type": "object"});
    let agent: steward_core::agent::AgentCreate = serde_json::from_value(json!({
        "name": "ledger host", "model": "claude-opus-4-7",
        "tools": [
            {"type": "custom", "name": "charge", "description": "Charges", "input_schema": schema},
            {"type": "custom", "name": "lookup", "description": "Looks up", "input_schema": schema},
        ]
    }))
    .unwrap();
    let agent = client.agents().create(&agent).await.unwrap();
    let environment: steward_core::environment::EnvironmentCreate =
        serde_json::from_value(json!({"name": "local"})).unwrap();
    let environment = client.environments().create(&environment).await.unwrap();
    let create =
        steward_core::session::SessionCreate::new(agent.id.clone(), environment.id.clone());
    let mid_call = client.sessions().create(&create).await.unwrap().id;
    let unsent = client.sessions().create(&create).await.unwrap().id;
    let dir = tempfile::tempdir().unwrap();
    let tools_log: PathBuf = dir.path().join("tools.log");

    // 1. Killed while both tools are inside their call.
    let host = Host::start(
        &platform,
        dir.path(),
        &mid_call,
        Some(r#"Call charge {"n":1} and lookup {"n":1}"#),
        &[("STEWARD_HOST_BLOCK", "charge,lookup")],
    );
    until("both tools to start", || {
        let log = log(&tools_log);
        count(&log, "start", "charge") == 1 && count(&log, "start", "lookup") == 1
    })
    .await;
    host.kill();

    let lines = Host::start(&platform, dir.path(), &mid_call, None, &[])
        .finish()
        .await;
    let log1 = log(&tools_log);
    assert_eq!(
        count(&log1, "start", "charge"),
        1,
        "charge did not run again"
    );
    assert_eq!(count(&log1, "end", "charge"), 0);
    assert_eq!(count(&log1, "start", "lookup"), 2, "lookup ran again");
    assert_eq!(count(&log1, "end", "lookup"), 1);
    assert!(
        lines.contains(&"finished charge OutcomeUnknown".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"finished lookup Rerun".to_owned()),
        "{lines:?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some("stop EndTurn"));
    let answers = settled(&history(&client, &mid_call).await);
    assert_eq!(answers.len(), 2, "{answers:?}");
    let (name, text, is_error) = &answers[0];
    assert_eq!(name, "charge");
    assert!(*is_error);
    assert!(
        text.contains("the outcome of this call is unknown"),
        "{text}"
    );
    assert_eq!(
        answers[1],
        ("lookup".to_owned(), "lookup done".to_owned(), false)
    );

    // 2. Killed after `charge` finished and its result was recorded, before it was sent (the
    //    post hangs), on the same ledger file.
    let host = Host::start(
        &platform,
        dir.path(),
        &unsent,
        Some(r#"Call charge {"n":2}"#),
        &[("STEWARD_HOST_HOLD_RESULTS", "1")],
    );
    // `finished` is printed after the result is recorded in the ledger.
    until("the result to be computed", || {
        host.lines()
            .iter()
            .any(|l| l.starts_with("finished charge"))
    })
    .await;
    host.kill();
    let before = log(&tools_log);
    assert_eq!(count(&before, "end", "charge"), 1, "{before:?}");

    let lines = Host::start(&platform, dir.path(), &unsent, None, &[])
        .finish()
        .await;
    let log2 = log(&tools_log);
    assert_eq!(
        count(&log2, "start", "charge"),
        2,
        "one run per session: {log2:?}"
    );
    assert_eq!(count(&log2, "end", "charge"), 1, "not run again: {log2:?}");
    assert!(
        lines.contains(&"finished charge Replayed".to_owned()),
        "{lines:?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some("stop EndTurn"));
    let answers = settled(&history(&client, &unsent).await);
    assert_eq!(
        answers,
        [("charge".to_owned(), "charge done".to_owned(), false)]
    );
    // Nothing of the first session was touched by the second drive.
    assert_eq!(settled(&history(&client, &mid_call).await).len(), 2);
}
