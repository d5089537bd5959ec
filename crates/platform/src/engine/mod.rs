//! The session engine: runs the agent of every session that has work to do.
//!
//! * [`spawn`] starts the dispatcher when the platform starts serving. It takes the wakeups of
//!   the event hub ([`EventHub::take_wakeups`](crate::events::EventHub::take_wakeups)): each
//!   accepted client request (and each session created with initial events) names a session
//!   with new input. The dispatcher runs **one driver task per active session**: a wakeup for a
//!   session whose driver is running is coalesced into one more pass of that driver once it
//!   finishes, so a session is never driven twice at once, while any number of sessions run
//!   concurrently on the runtime.
//! * A driver runs the agent loop (`turn.rs`) until the session waits for the client or is idle.
//!   Everything it decides, it decides from the stored history, so a driver can stop anywhere
//!   (shutdown, crash) and the next one resumes from the database.
//! * The model is a [`ModelProvider`] ([`model`]); with none configured, the platform uses the
//!   [`OfflineModel`], a deterministic test and demo model, and says so in its start-up log.
//!   [`ProviderConfig`] selects one of the built-in providers (`offline`, `anthropic` for the
//!   Messages API, `openai` for any chat completions server) and builds it; the CLI fills it
//!   from `STEWARD_MODEL_PROVIDER` and the other settings of `steward-platform serve`. The
//!   provider in use is logged at start (its name and endpoint, never a key).
//! * Tools run on the platform (`toolset/`): the `agent_toolset_20260401` file tools in a
//!   per-session workspace (`<data_dir>/sessions/<session_id>/workspace`, shown to the agent
//!   as `/workspace`, removed once the session is deleted: by its driver, or at the next start)
//!   and on the memory stores mounted at
//!   `/mnt/memory/<store>/` (`mounts.rs`), which the system prompt describes (`prompt.rs`).
//!   Custom tools are answered by the client. The tools of the agent's MCP servers
//!   (`mcp_toolset`) are offered too and run on their servers (`mcp/`: an `rmcp` client over
//!   streamable HTTP, authenticated with the session's vault credentials through the
//!   [`TokenBroker`](crate::vaults::TokenBroker)), each call an `agent.mcp_tool_use` answered by
//!   `agent.mcp_tool_result`. The server tools `web_fetch`/`web_search` are not offered;
//!   outcomes (`user.define_outcome`) are stored but not evaluated.
//!
//! **Restarts.** When the dispatcher starts, a session left `running` (or `rescheduling`) by a
//! platform that stopped mid-turn gets a `session.error` (`unknown_error`, `exhausted`) saying
//! that its turn was abandoned, its unprocessed inputs are flushed, and it goes idle with
//! `retries_exhausted`. Then every session with unprocessed input (sent while no dispatcher
//! ran) is woken.
//!
//! **Interrupts.** A `user.interrupt` stops the turn at the next await point of the model call,
//! backoff or tool sequence (a model call in flight is dropped and its
//! `span.model_request_end` has `is_error: null` and zero usage), and the session goes idle
//! with `end_turn` (the reference leaves the stop reason open).

mod mcp;
pub mod model;
mod mounts;
mod prompt;
mod toolset;
mod turn;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use steward_core::event::StopReason;
use steward_core::{EventId, SessionId};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

pub use self::model::anthropic::AnthropicProvider;
pub use self::model::config::{
    AnthropicConfig, ApiKey, ConfigError, OpenAiConfig, ProviderConfig, ProviderKind,
};
pub use self::model::offline::OfflineModel;
pub use self::model::openai::OpenAiProvider;
pub use self::model::{ModelError, ModelErrorKind, ModelProvider, ModelRequest, ModelResponse};
use self::mounts::Ledger;
use crate::error::Result;
use crate::events::{Emitter, mark_processed};
use crate::state::AppState;

/// When and how often the loop retries a model call that failed with a retryable error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 3).
    pub max_retries: u32,
    /// Delay before the first retry; each later one doubles it (default 1 s).
    pub base_delay: Duration,
    /// Longest delay between two attempts (default 30 s).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (from 0).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(16));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// How the engine runs sessions.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The model; `None` uses the [`OfflineModel`].
    pub provider: Option<Arc<dyn ModelProvider>>,
    /// Retries of model calls.
    pub retry: RetryPolicy,
    /// Most model calls one turn may make (default [`DEFAULT_MAX_STEPS`]); one more ends the
    /// turn with `tool_use_limit_reached_error` and idle `retries_exhausted`.
    pub max_steps_per_turn: u32,
}

/// Default of [`EngineOptions::max_steps_per_turn`].
pub const DEFAULT_MAX_STEPS: u32 = 50;

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            provider: None,
            retry: RetryPolicy::default(),
            max_steps_per_turn: DEFAULT_MAX_STEPS,
        }
    }
}

/// The engine's shared state: what every driver needs.
#[derive(Debug)]
pub(crate) struct Engine {
    state: AppState,
    provider: Arc<dyn ModelProvider>,
    options: EngineOptions,
    /// `<data_dir>/sessions`: one directory per session.
    sessions_dir: PathBuf,
    /// Per session: the hashes of the memories its tools have read (see [`mounts`]).
    ledgers: Mutex<HashMap<SessionId, Arc<Ledger>>>,
    /// Per session: its MCP connections and tool lists (see [`mcp`]).
    mcp: mcp::McpClients,
}

impl Engine {
    /// The host directory of a session's workspace.
    fn workspace_dir(&self, id: &SessionId) -> PathBuf {
        self.session_dir(id).join("workspace")
    }

    /// The host directory of a session (IDs are base62 with a prefix, so they are safe names;
    /// anything else maps to a name that cannot collide with one).
    fn session_dir(&self, id: &SessionId) -> PathBuf {
        let name: String = id
            .as_str()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        self.sessions_dir.join(name)
    }

    /// The ledger of a session.
    fn ledger(&self, id: &SessionId) -> Arc<Ledger> {
        self.ledgers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id.clone())
            .or_default()
            .clone()
    }

    /// Forgets a deleted session: its workspace, ledger and turn token.
    async fn session_gone(&self, id: &SessionId) {
        self.ledgers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        self.mcp.forget(id);
        self.state.events.forget_turn(id);
        let dir = self.session_dir(id);
        let _ = tokio::task::spawn_blocking(move || {
            if dir.exists() {
                let _ = std::fs::remove_dir_all(&dir);
            }
        })
        .await;
    }
}

/// Starts the engine's dispatcher on the current runtime: recovers sessions a previous run left
/// mid-turn, then drives every session that gets new input, until the platform shuts down.
/// Returns `None` (and logs why) when the wakeups were already taken by another dispatcher.
pub fn spawn(state: AppState, data_dir: &Path, options: EngineOptions) -> Option<JoinHandle<()>> {
    let Some(wakeups) = state.events.take_wakeups() else {
        tracing::warn!("the session engine is already running; not starting another");
        return None;
    };
    let provider = match &options.provider {
        Some(provider) => provider.clone(),
        None => {
            tracing::info!(
                "no model provider configured: sessions run on the offline model, a \
                 deterministic test and demo model that follows fixed rules (its replies start \
                 with \"[offline model]\")"
            );
            Arc::new(OfflineModel)
        }
    };
    tracing::info!(
        provider = provider.name(),
        model_provider = %provider.describe(),
        "session engine started"
    );
    let engine = Arc::new(Engine {
        mcp: mcp::McpClients::new(state.tokens.clone()),
        state,
        provider,
        options,
        sessions_dir: data_dir.join("sessions"),
        ledgers: Mutex::new(HashMap::new()),
    });
    Some(tokio::spawn(dispatch(engine, wakeups)))
}

/// Whether `error` comes from a blocking database task cancelled because the runtime is
/// shutting down.
fn cancelled_by_shutdown(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(current) = source {
        if let Some(join) = current.downcast_ref::<tokio::task::JoinError>() {
            return join.is_cancelled();
        }
        source = current.source();
    }
    false
}

/// Sessions with a driver, and whether they were woken again while it ran.
type Active = Arc<Mutex<HashMap<SessionId, bool>>>;

async fn dispatch(engine: Arc<Engine>, mut wakeups: UnboundedReceiver<SessionId>) {
    if let Err(error) = recover(&engine).await {
        if cancelled_by_shutdown(&error) {
            // The platform shut down while recovery was still reading: nothing was lost, and the
            // next start recovers again.
            tracing::debug!(error = ?error, "recovering sessions at start cut short by shutdown");
            return;
        }
        tracing::error!(error = ?error, "recovering sessions at start failed");
    }
    let active: Active = Arc::default();
    loop {
        let id = tokio::select! {
            () = engine.state.shutdown.cancelled() => break,
            id = wakeups.recv() => match id {
                Some(id) => id,
                None => break,
            },
        };
        schedule(&engine, &active, id);
    }
}

/// Runs a driver for the session, or asks the running one for another pass.
fn schedule(engine: &Arc<Engine>, active: &Active, id: SessionId) {
    {
        let mut sessions = active.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(again) = sessions.get_mut(&id) {
            *again = true;
            return;
        }
        sessions.insert(id.clone(), false);
    }
    let (engine, active) = (engine.clone(), active.clone());
    tokio::spawn(async move {
        loop {
            if let Err(error) = turn::drive(&engine, &id).await {
                tracing::error!(session_id = %id, error = ?error, "the session engine failed");
            }
            {
                let mut sessions = active.lock().unwrap_or_else(PoisonError::into_inner);
                match sessions.get_mut(&id) {
                    Some(again) if *again && !engine.state.shutdown.is_cancelled() => {
                        *again = false;
                        continue;
                    }
                    _ => {
                        sessions.remove(&id);
                    }
                }
            }
            // The driver ends: its MCP connections close (a later one connects again).
            engine.mcp.release(&id).await;
            break;
        }
    });
}

/// The message of the `session.error` of a turn a stopped platform abandoned.
const ABANDONED: &str = "the platform stopped while this session was running; the turn was \
                         abandoned and its pending input was dropped";

/// Sets sessions left mid-turn back to idle, then wakes every session with unprocessed input.
async fn recover(engine: &Engine) -> Result<()> {
    let stuck: Vec<SessionId> = engine
        .state
        .db
        .read(|conn| {
            ids(
                conn,
                "SELECT id FROM sessions WHERE status IN ('running', 'rescheduling')
                 AND archived_at IS NULL ORDER BY created_at, id",
                &[],
            )
        })
        .await?;
    for id in stuck {
        tracing::warn!(session_id = %id, "the platform stopped mid-turn; setting the session back to idle");
        let session_id = id.clone();
        let out = engine
            .state
            .db
            .write(move |tx| {
                let mut out = Emitter::new(session_id.clone());
                let unprocessed: Vec<EventId> = ids(
                    tx,
                    "SELECT id FROM session_events WHERE session_id = ?1 AND processed_at IS NULL",
                    &[session_id.as_str()],
                )?;
                for event in &unprocessed {
                    mark_processed(tx, event)?;
                }
                out.emit(tx, turn::abandoned_error(ABANDONED))?;
                turn::go_idle(
                    tx,
                    &mut out,
                    StopReason::RetriesExhausted(Default::default()),
                    None,
                )?;
                Ok(out)
            })
            .await?;
        engine.state.events.publish(out);
    }
    let waiting: Vec<SessionId> = engine
        .state
        .db
        .read(|conn| {
            ids(
                conn,
                "SELECT DISTINCT e.session_id FROM session_events e
                 JOIN sessions s ON s.id = e.session_id
                 WHERE e.processed_at IS NULL AND s.archived_at IS NULL
                 AND s.status != 'terminated'",
                &[],
            )
        })
        .await?;
    for id in waiting {
        engine.state.events.wake(&id);
    }
    remove_orphaned_workspaces(engine).await
}

/// Removes the directories of sessions deleted while no engine ran (or while they were idle:
/// a deletion wakes no driver).
async fn remove_orphaned_workspaces(engine: &Engine) -> Result<()> {
    let known: std::collections::HashSet<String> = engine
        .state
        .db
        .read(|conn| ids::<String>(conn, "SELECT id FROM sessions", &[]))
        .await?
        .into_iter()
        .collect();
    let dir = engine.sessions_dir.clone();
    tokio::task::spawn_blocking(move || {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.filter_map(std::result::Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(SessionId::PREFIX) && !known.contains(&name) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    })
    .await?;
    Ok(())
}

/// The first column of every row of a query, as IDs.
fn ids<I: From<String>>(conn: &Connection, sql: &str, params: &[&str]) -> Result<Vec<I>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |row| {
        row.get::<_, String>(0)
    })?;
    let mut out = Vec::new();
    for row in rows {
        out.push(I::from(row?));
    }
    Ok(out)
}

#[cfg(test)]
mod shutdown_tests {
    use super::cancelled_by_shutdown;

    #[tokio::test]
    async fn a_cancelled_database_task_is_recognised_through_the_error_chain() {
        let pending = tokio::spawn(tokio::time::sleep(std::time::Duration::from_secs(60)));
        pending.abort();
        let join = pending.await.unwrap_err();
        assert!(join.is_cancelled());
        let error = crate::Error::internal(join);
        assert!(cancelled_by_shutdown(&error));
        assert!(!cancelled_by_shutdown(&crate::Error::invalid_request("no")));
    }
}
