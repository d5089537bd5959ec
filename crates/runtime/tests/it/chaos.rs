//! Chaos: one [`SessionRunner`] drives many sessions of the local platform concurrently
//! through a [`ChaosProxy`] that drops and stalls event streams, fails event posts (before and
//! after the platform processed them) and delays requests.
//!
//! Each session does M turns; turn `n` of session `i` is the message
//! `bump {"session":"<i>","n":<n>}`, on which the platform's offline model calls the custom
//! tool `bump` once and ends the turn with its result. The test then checks, from the tool's
//! own count and from the platform's history read directly (not through the proxy):
//!
//! * every `(session, n)` ran exactly once (no duplicate, no loss);
//! * every `agent.custom_tool_use` has exactly one `user.custom_tool_result`;
//! * every turn ended on `end_turn`, both as the runner reported it and in the history (each
//!   stretch of the history from one `user.message` to the next holds one call, its result,
//!   and ends on a `session.status_idle` with `end_turn`);
//! * the runner's [`Transcript`] (one per session, shared by its turns: the history read on
//!   each attach plus every live event, each ID once) lists exactly the platform's history
//!   from its first event up to some point at or after the last `end_turn`: the same IDs, in
//!   the same order, nothing missing and nothing extra. (Events the platform appends after the
//!   runner stopped reading, such as a late `session.usage`, are the only ones allowed to be
//!   absent, and only at the end.)
//!
//! Scale: `STEWARD_CHAOS_SESSIONS` (default 20) and `STEWARD_CHAOS_TRIPS` (default 10); the
//! seed is random unless `STEWARD_CHAOS_SEED` is set, and is printed when the test fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use steward_core::SessionId;
use steward_core::event::EventListParams;
use steward_runtime::Client;
use steward_runtime::runner::{RunnerOptions, SessionRunner, Transcript, TurnStop};
use steward_test_support::chaos::{ChaosConfig, ChaosProxy};
use steward_tools::{Registry, Tool, ToolContext, ToolError, ToolOutput};

use crate::support::fast_retries;

/// Runs of `bump` per `(session, n)`.
type Runs = Arc<Mutex<HashMap<(String, u64), u32>>>;

/// `bump`: counts its runs per `(session, n)` and answers `bumped <session>/<n>`.
struct Bump {
    runs: Runs,
}

#[steward_tools::async_trait]
impl Tool for Bump {
    fn name(&self) -> &str {
        "bump"
    }

    fn description(&self) -> &str {
        "Counts a bump of a session's counter"
    }

    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"session": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["session", "n"]
        })
    }

    async fn call(&self, input: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let session = input["session"].as_str().unwrap_or("?").to_owned();
        let n = input["n"].as_u64().unwrap_or(u64::MAX);
        *self
            .runs
            .lock()
            .unwrap()
            .entry((session.clone(), n))
            .or_default() += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok(ToolOutput::text(format!("bumped {session}/{n}")))
    }
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Prints the seed when the test panics.
struct SeedGuard(u64);

impl Drop for SeedGuard {
    #[expect(
        clippy::print_stderr,
        reason = "the seed is the way to replay a failure"
    )]
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "chaos test failed with seed {0}: replay with STEWARD_CHAOS_SEED={0}",
                self.0
            );
        }
    }
}

/// The outcome of one turn as the runner reported it.
type TurnOutcome = Result<(TurnStop, String), String>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_delivers_every_result_exactly_once_through_a_chaotic_network() {
    let seed = env_number("STEWARD_CHAOS_SEED").unwrap_or_else(rand::random::<u64>);
    let _guard = SeedGuard(seed);
    let sessions: usize = env_number("STEWARD_CHAOS_SESSIONS").unwrap_or(20);
    let trips: u64 = env_number("STEWARD_CHAOS_TRIPS").unwrap_or(10);

    // The platform, an agent declaring `bump`, and the sessions (set up directly).
    let runs = Runs::default();
    let mut registry = Registry::new();
    registry
        .insert(Arc::new(Bump { runs: runs.clone() }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let handle = steward_platform::Platform::builder()
        .data_dir(dir.path())
        .start_ephemeral()
        .await
        .unwrap();
    let direct = Client::builder()
        .api_key(handle.api_key())
        .base_url(handle.base_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let mut agent: steward_core::agent::AgentCreate =
        serde_json::from_value(json!({"name": "bumper", "model": "claude-opus-4-7"})).unwrap();
    agent.tools = Some(registry.agent_tools());
    let agent = direct.agents().create(&agent).await.unwrap();
    let environment: steward_core::environment::EnvironmentCreate =
        serde_json::from_value(json!({"name": "local"})).unwrap();
    let environment = direct.environments().create(&environment).await.unwrap();
    let mut ids: Vec<SessionId> = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let create =
            steward_core::session::SessionCreate::new(agent.id.clone(), environment.id.clone());
        ids.push(direct.sessions().create(&create).await.unwrap().id);
    }

    // The runner, through the proxy. Streams idle for 600 ms reconnect; stalls last 1.2 s.
    let mut config = ChaosConfig::new(seed);
    config.stall = Duration::from_millis(1200);
    let proxy = ChaosProxy::start(handle.base_url(), config).await.unwrap();
    // More retries than the default two: the caller's `user.message` post is only retried by
    // the client (a 429 certainly was not processed), and three 429s in a row on one of 200
    // posts would otherwise fail a turn now and then (seed 42 did).
    let client = Client::builder()
        .api_key(handle.api_key())
        .base_url(proxy.url())
        .retry_policy(fast_retries().max_retries(8))
        .build()
        .unwrap();
    let options = RunnerOptions {
        stream_idle_timeout: Some(Duration::from_millis(600)),
        send_initial_backoff: Duration::from_millis(10),
        send_max_backoff: Duration::from_millis(100),
        send_window: Duration::from_secs(60),
        ..RunnerOptions::default()
    };
    let runner = SessionRunner::builder(client, registry)
        .options(options)
        .build();

    let drives = ids.iter().enumerate().map(|(i, session)| {
        let runner = runner.clone();
        async move {
            let transcript = Transcript::new();
            let mut outcomes: Vec<TurnOutcome> = Vec::new();
            for n in 0..trips {
                let turn = runner
                    .turn(session)
                    .message(format!(r#"bump {{"session":"{i}","n":{n}}}"#))
                    .transcript(&transcript)
                    .run();
                let outcome = match tokio::time::timeout(Duration::from_secs(45), turn).await {
                    Ok(Ok(result)) => Ok((result.stop.clone(), result.final_text().to_owned())),
                    Ok(Err(error)) => Err(format!("session {i} turn {n}: {error}")),
                    Err(_) => Err(format!("session {i} turn {n}: timed out")),
                };
                let failed = outcome.is_err();
                outcomes.push(outcome);
                if failed {
                    break;
                }
            }
            (transcript, outcomes)
        }
    });
    let driven = futures::future::join_all(drives).await;
    let figures = format!(
        "seed {seed}: {sessions} sessions x {trips} round trips\n{}",
        proxy.report()
    );
    drop(proxy);

    // Every turn ended on `end_turn` with its tool's result.
    let mut turn_failures = Vec::new();
    for (i, (_, outcomes)) in driven.iter().enumerate() {
        for (n, outcome) in outcomes.iter().enumerate() {
            match outcome {
                Ok((TurnStop::EndTurn, text))
                    if text
                        == &format!("[offline model] Tool results:\n- bump: bumped {i}/{n}") => {}
                Ok((stop, text)) => {
                    turn_failures.push(format!("session {i} turn {n}: {stop:?} {text:?}"));
                }
                Err(error) => turn_failures.push(error.clone()),
            }
        }
    }
    assert!(
        turn_failures.is_empty(),
        "seed {seed}: turns that did not end well:\n{}\n{figures}",
        turn_failures.join("\n")
    );

    // Every tool ran exactly once.
    let runs = runs.lock().unwrap().clone();
    let mut duplicates = Vec::new();
    let mut losses = Vec::new();
    for i in 0..sessions {
        for n in 0..trips {
            match runs.get(&(i.to_string(), n)).copied().unwrap_or(0) {
                0 => losses.push(format!("{i}/{n}")),
                1 => {}
                k => duplicates.push(format!("{i}/{n} ran {k} times")),
            }
        }
    }
    assert_eq!(
        runs.len(),
        sessions * usize::try_from(trips).unwrap(),
        "seed {seed}: unexpected calls"
    );
    assert!(
        duplicates.is_empty() && losses.is_empty(),
        "seed {seed}: duplicates {duplicates:?}, losses {losses:?}\n{figures}"
    );

    // The platform's history, read directly.
    for (i, session) in ids.iter().enumerate() {
        let mut history = Vec::new();
        let mut list = direct
            .sessions()
            .events()
            .list(session, &EventListParams::default());
        while let Some(event) = list.next().await {
            history.push(serde_json::to_value(event.unwrap()).unwrap());
        }
        check_history(seed, i, trips, &history);

        // The transcript is the history's first events, through the last `end_turn`.
        let transcript: Vec<String> = driven[i]
            .0
            .events()
            .iter()
            .map(|e| e.raw_id().unwrap().to_owned())
            .collect();
        let platform: Vec<String> = history
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        let last_end = history
            .iter()
            .rposition(is_end_turn)
            .unwrap_or_else(|| panic!("seed {seed}: session {i} never ended a turn"));
        assert!(
            transcript.len() > last_end && transcript.len() <= platform.len(),
            "seed {seed}: session {i}: the transcript has {} events, the history {} \
             (last end_turn at {last_end})",
            transcript.len(),
            platform.len()
        );
        assert_eq!(
            transcript,
            platform[..transcript.len()],
            "seed {seed}: session {i}: the transcript differs from the platform's history"
        );
    }
    eprintln!("{figures}duplicates: 0, losses: 0");
}

fn is_end_turn(event: &Value) -> bool {
    event["type"] == "session.status_idle" && event["stop_reason"]["type"] == "end_turn"
}

/// Checks one session's history: each stretch from a `user.message` to the next holds one
/// `bump` call, exactly one result for it, and ends on `end_turn`.
fn check_history(seed: u64, i: usize, trips: u64, history: &[Value]) {
    let mut stretches: Vec<Vec<&Value>> = Vec::new();
    for event in history {
        if event["type"] == "user.message" {
            stretches.push(Vec::new());
        }
        if let Some(stretch) = stretches.last_mut() {
            stretch.push(event);
        }
    }
    assert_eq!(
        stretches.len(),
        usize::try_from(trips).unwrap(),
        "seed {seed}: session {i}: user messages"
    );
    for (n, stretch) in stretches.iter().enumerate() {
        let what = format!("seed {seed}: session {i} turn {n}");
        let uses: Vec<&Value> = stretch
            .iter()
            .copied()
            .filter(|e| e["type"] == "agent.custom_tool_use")
            .collect();
        assert_eq!(uses.len(), 1, "{what}: tool uses");
        assert_eq!(
            uses[0]["input"],
            json!({"session": i.to_string(), "n": n}),
            "{what}: tool input"
        );
        let results: Vec<&Value> = stretch
            .iter()
            .copied()
            .filter(|e| e["type"] == "user.custom_tool_result")
            .collect();
        assert_eq!(results.len(), 1, "{what}: results {results:#?}");
        assert_eq!(
            results[0]["custom_tool_use_id"], uses[0]["id"],
            "{what}: the result answers the call"
        );
        let last_idle = stretch
            .iter()
            .rev()
            .find(|e| e["type"] == "session.status_idle")
            .unwrap_or_else(|| panic!("{what}: no idle"));
        assert!(
            is_end_turn(last_idle),
            "{what}: ended on {last_idle} instead of end_turn"
        );
    }
}
