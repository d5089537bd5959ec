//! [`SessionRunner`]: drives sessions, running the host's tools when the agent calls them.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use steward_runtime::Client;
//! use steward_runtime::runner::SessionRunner;
//! use steward_tools::Registry;
//!
//! let client = Client::from_env()?;
//! let registry = Registry::from_inventory()?;
//! let runner = SessionRunner::builder(client, registry)
//!     .max_tool_calls_per_turn(20)
//!     .build();
//! # let session = steward_core::SessionId::new("sesn_x");
//! let result = runner.run_turn(&session, "What is the weather in Lisbon?").await?;
//! println!("{}", result.final_text());
//! # Ok(())
//! # }
//! ```
//!
//! # What a turn does
//!
//! The runner opens the session's event stream **before** it sends anything, reads the
//! history, sends the caller's input, and then reacts to events until the turn ends. The
//! history is read whole the first time a runner drives a session; after that the runner
//! remembers where it stopped (the cursor, the calls still waiting, how the last turn ended;
//! see [`RunnerOptions::remembered_sessions`]) and reads only what came after:
//!
//! * each `agent.custom_tool_use` (and, with [`RunnerOptions::self_hosted`], each
//!   `agent.tool_use`) goes to the tool of that name in the [`Registry`]; independent calls run
//!   concurrently, at most [`RunnerOptions::max_concurrent_tools`] at once across every session
//!   of the runner, and each result goes back as `user.custom_tool_result` / `user.tool_result`,
//!   retried for [`RunnerOptions::send_window`];
//! * the stream is read while tools run, so interrupts, confirmations and other clients'
//!   answers are seen at once (the official runners run one tool at a time and read nothing
//!   meanwhile);
//! * a tool that fails, panics or runs past [`RunnerOptions::tool_timeout`] is answered with an
//!   `is_error: true` result the model can act on; the turn goes on;
//! * `session.status_idle` with `requires_action` keeps the turn going; `end_turn`,
//!   `retries_exhausted`, `budget_reached`, `refusal` (or an unknown reason) and
//!   `session.status_terminated` end it;
//! * calls held for approval (`evaluated_permission: "ask"`) go to the
//!   [`ConfirmationPolicy`], whose answer is sent as `user.tool_confirmation`;
//! * limits: [`RunnerOptions::max_tool_calls_per_turn`] and [`RunnerOptions::token_budget`]
//!   stop the turn with `user.interrupt` (the [`TurnStop`] says which),
//!   [`RunnerOptions::max_idle`] stops waiting.
//!
//! # Exactly once
//!
//! Every call goes through the [`Ledger`] (see [`ledger`]): recorded before its tool runs,
//! its result recorded before it is sent, so a result that was computed but not delivered is
//! sent again and never recomputed, and a call that was running when the process died is re-run
//! only if its tool is [idempotent](steward_tools::Tool::idempotent) (otherwise it is answered
//! with an error saying its outcome is unknown). With a [`FileLedger`] this holds across
//! restarts. Each tool gets the tool-use ID as its idempotency key
//! ([`ToolContext::idempotency_key`](steward_tools::ToolContext::idempotency_key)). The history
//! read on attach tells answered calls from pending ones, so nothing is dispatched twice; a
//! session-wide `user.interrupt` (or the session's end) cancels what is not finished. A result
//! send that may have reached the server is not repeated before the history is checked for it.
//! One runner drives a session at most once at a time ([`RunnerError::Busy`]).
//!
//! # Scale
//!
//! Each driven session is one tokio task with its own small state (the calls of the turn, a
//! window of recent event IDs) and one open stream; tools run as tasks. One runner (cheap to
//! clone) drives any number of sessions on one runtime.

pub mod ledger;
pub mod outcome;
pub mod policy;
pub mod transcript;

mod dispatch;
mod exec;
mod fold;

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use steward_core::event::UserEvent;
use steward_core::{SessionId, UserId};
use steward_tools::Registry;
use tokio::sync::Semaphore;

use crate::client::Client;
use crate::error::Error;

pub use ledger::{
    CallKey, CallState, FileLedger, Ledger, LedgerEntry, LedgerError, MemoryLedger, StoredResult,
};
pub use outcome::{
    CallKind, Outcome, ResultOrigin, ToolCall, ToolCallRecord, TurnResult, TurnStop, TurnStream,
};
pub use policy::{AllowAll, Confirmation, ConfirmationPolicy, ConfirmationRequest, DenyAll};
pub use transcript::Transcript;

/// Limits and switches of a [`SessionRunner`]. Plain data: set the fields, or use the
/// builder's setters.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// How long one tool call may run before it is stopped and answered with a `timeout`
    /// error. Default 120 s (the SDK's). Stopping drops the tool's future and cancels its
    /// token; a tool that blocks its thread cannot be stopped (use `spawn_blocking`).
    pub tool_timeout: Duration,
    /// How many tool calls run at once across every session of the runner; others wait for a
    /// slot. Default 64.
    pub max_concurrent_tools: usize,
    /// The most tool calls the runner runs in one turn; the next one is not run, the runner
    /// sends `user.interrupt` and the turn ends with [`TurnStop::StepLimit`]. Default none.
    pub max_tool_calls_per_turn: Option<u32>,
    /// Stop waiting when no event arrives for this long while nothing of the runner's own is in
    /// flight ([`TurnStop::IdleTimeout`]). Default none.
    pub max_idle: Option<Duration>,
    /// A cap on the session's cumulative tokens (input, cache writes, cache reads and output),
    /// read from the session's usage when the turn starts and updated from `span.model_request_end`
    /// and `session.usage`; reaching it sends `user.interrupt` ([`TurnStop::TokenBudget`]).
    /// Default none.
    pub token_budget: Option<u64>,
    /// How long a result (or confirmation, or interrupt) send is retried. Default 5 min (the
    /// SDK's).
    pub send_window: Duration,
    /// The first wait between send attempts; it doubles up to [`Self::send_max_backoff`].
    /// Default 1 s.
    pub send_initial_backoff: Duration,
    /// The longest wait between send attempts. Default 30 s.
    pub send_max_backoff: Duration,
    /// How long the end of a turn waits for result sends still in flight (their results stay
    /// in the ledger if they do not make it). Default 10 s.
    pub drain_timeout: Duration,
    /// Run `agent.tool_use` calls too (answered with `user.tool_result`), as a self-hosted
    /// environment needs. Default `false`: the server runs them.
    pub self_hosted: bool,
    /// Answer a call of a tool the registry does not have with a `not_found` error. When
    /// `false`, the call is left for another client ([`Outcome::ToolSkipped`]), as the SDK's
    /// runner does. Default `true`.
    pub answer_unknown_tools: bool,
    /// Reconnect when the stream carries no bytes (keep-alives included) for this long.
    /// Default 90 s.
    pub stream_idle_timeout: Option<Duration>,
    /// Ask for `agent.message` previews and report them as [`Outcome::TextDelta`]. Default
    /// `false`.
    pub text_deltas: bool,
    /// `limit` of each history page. Default 1000 (the SDK's).
    pub history_page_limit: u32,
    /// For how many sessions the runner keeps what it learned from their history between
    /// drives (the cursor, the calls still waiting for an answer, whether the last turn
    /// ended: a kilobyte or so each), so that the next drive of such a session lists only
    /// the events after where the last one stopped instead of the whole history. Beyond this
    /// many, the session driven longest ago is forgotten (its next drive reads the whole
    /// history, as the first one did). `0` turns this off. Default 10 000.
    pub remembered_sessions: usize,
    /// How many turns of the runner may be starting at once (opening the event stream, reading
    /// the history, sending the input); the others wait for a slot before their first request.
    /// A burst of thousands of turns then keeps this many start-up requests in flight instead
    /// of thousands (the memory they hold and, over HTTP/1.1, the pooled connections they leave
    /// behind). Default 64; at least 1.
    pub max_starting_turns: usize,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            tool_timeout: Duration::from_secs(120),
            max_concurrent_tools: 64,
            max_tool_calls_per_turn: None,
            max_idle: None,
            token_budget: None,
            send_window: Duration::from_secs(300),
            send_initial_backoff: Duration::from_secs(1),
            send_max_backoff: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            self_hosted: false,
            answer_unknown_tools: true,
            stream_idle_timeout: Some(Duration::from_secs(90)),
            text_deltas: false,
            history_page_limit: 1000,
            remembered_sessions: 10_000,
            max_starting_turns: 64,
        }
    }
}

/// Why a turn could not be driven.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// An API call failed for good: opening the stream, reading the history, sending the
    /// input, or the stream gave up.
    #[error(transparent)]
    Api(#[from] Error),
    /// The ledger could not record a call (no tool runs without its record).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// This runner is already driving the session.
    #[error("session {0} is already being driven by this runner")]
    Busy(SessionId),
    /// The turn stopped without a result (the runner task was stopped).
    #[error("the runner stopped before the turn ended")]
    Stopped,
}

/// What every drive of a runner shares.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) registry: Registry,
    pub(crate) options: RunnerOptions,
    pub(crate) ledger: Arc<dyn Ledger>,
    pub(crate) policy: Arc<dyn ConfirmationPolicy>,
    pub(crate) permits: Arc<Semaphore>,
    /// Slots for turns that are starting ([`RunnerOptions::max_starting_turns`]).
    pub(crate) starting: Arc<Semaphore>,
    pub(crate) user: Option<UserId>,
    active: Mutex<HashSet<SessionId>>,
    /// What the last drive of each session learned of its history.
    memos: Mutex<fold::Memos>,
}

impl Shared {
    fn memos(&self) -> std::sync::MutexGuard<'_, fold::Memos> {
        self.memos.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Marks a session as driven; unmarks it when dropped.
pub(crate) struct ActiveGuard {
    shared: Arc<Shared>,
    session: SessionId,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.shared
            .active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.session);
    }
}

/// Drives sessions: sends input, runs tools, answers confirmations, enforces limits. Cheap to
/// clone; clones share the ledger, the concurrency limit and the set of driven sessions. See
/// the [module docs](self).
#[derive(Clone)]
pub struct SessionRunner {
    shared: Arc<Shared>,
}

impl fmt::Debug for SessionRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRunner")
            .field("tools", &self.shared.registry.names())
            .field("options", &self.shared.options)
            .field("ledger", &self.shared.ledger)
            .finish_non_exhaustive()
    }
}

impl SessionRunner {
    /// A runner with default options, an in-memory ledger and [`DenyAll`] confirmations.
    pub fn new(client: Client, registry: Registry) -> Self {
        Self::builder(client, registry).build()
    }

    /// A builder.
    pub fn builder(client: Client, registry: Registry) -> SessionRunnerBuilder {
        SessionRunnerBuilder {
            client,
            registry,
            options: RunnerOptions::default(),
            ledger: None,
            policy: None,
            user: None,
        }
    }

    /// The options.
    pub fn options(&self) -> &RunnerOptions {
        &self.shared.options
    }

    /// The tools.
    pub fn registry(&self) -> &Registry {
        &self.shared.registry
    }

    /// Whether this runner is driving `session` right now.
    pub fn is_driving(&self, session: &SessionId) -> bool {
        self.shared
            .active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(session)
    }

    /// Sends `message` as a `user.message` and drives the turn to its end.
    pub async fn run_turn(
        &self,
        session: &SessionId,
        message: impl Into<String>,
    ) -> Result<TurnResult, RunnerError> {
        self.turn(session).message(message).run().await
    }

    /// A turn of `session` to configure: its input, a transcript.
    pub fn turn(&self, session: &SessionId) -> TurnBuilder {
        TurnBuilder {
            runner: self.clone(),
            session: session.clone(),
            input: Vec::new(),
            transcript: None,
        }
    }

    /// A drive without input: reconcile with the history, answer what is pending (after a
    /// restart, say) and follow the turn in progress to its end. When the history shows no
    /// turn in progress and nothing is pending, it ends at once with the last turn's stop (or
    /// [`TurnStop::Idle`] for a session that never ran).
    pub fn attach(&self, session: &SessionId) -> TurnBuilder {
        self.turn(session)
    }
}

/// A turn about to be driven; see [`SessionRunner::turn`].
#[derive(Debug)]
#[must_use = "a turn does nothing until `run` or `stream` is called"]
pub struct TurnBuilder {
    runner: SessionRunner,
    session: SessionId,
    input: Vec<UserEvent>,
    transcript: Option<Transcript>,
}

impl TurnBuilder {
    /// Adds a `user.message` with this text.
    pub fn message(mut self, text: impl Into<String>) -> Self {
        self.input.push(UserEvent::message(text));
        self
    }

    /// Adds an event to send (a `user.message` with blocks, a `user.define_outcome`, a
    /// `system.message`, …). The events are sent together, in order, in one request.
    pub fn event(mut self, event: UserEvent) -> Self {
        self.input.push(event);
        self
    }

    /// Records every event of the drive (the history read on attach, then live events) into
    /// `transcript`. After an earlier drive of the session by this runner, the history read is
    /// what came after that drive; pass the same transcript to every turn to record them all.
    pub fn transcript(mut self, transcript: &Transcript) -> Self {
        self.transcript = Some(transcript.clone());
        self
    }

    /// Starts driving and returns the outcomes as they happen. Must be called within a tokio
    /// runtime (the drive is a spawned task). Dropping the stream stops the drive.
    pub fn stream(self) -> TurnStream {
        let (mut tx, rx) = futures::channel::mpsc::channel(64);
        let shared = self.runner.shared.clone();
        let fresh = shared
            .active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(self.session.clone());
        if !fresh {
            // The channel is new and has room: this cannot fail.
            let _ = tx.try_send(Box::new(Err(RunnerError::Busy(self.session))));
            return TurnStream {
                rx,
                done: false,
                _stop: None,
            };
        }
        let guard = ActiveGuard {
            shared: shared.clone(),
            session: self.session.clone(),
        };
        // The drive's token: cancelled when the stream is dropped (the drive stops, its tools
        // are cancelled) or when the drive ends.
        let stop = tokio_util::sync::CancellationToken::new();
        tokio::spawn(dispatch::drive(
            shared,
            self.session,
            self.input,
            self.transcript,
            tx,
            stop.clone(),
            guard,
        ));
        TurnStream {
            rx,
            done: false,
            _stop: Some(stop.drop_guard()),
        }
    }

    /// Drives the turn to its end.
    pub async fn run(self) -> Result<TurnResult, RunnerError> {
        self.stream().result().await
    }
}

/// Configures a [`SessionRunner`].
#[must_use]
pub struct SessionRunnerBuilder {
    client: Client,
    registry: Registry,
    options: RunnerOptions,
    ledger: Option<Arc<dyn Ledger>>,
    policy: Option<Arc<dyn ConfirmationPolicy>>,
    user: Option<UserId>,
}

impl fmt::Debug for SessionRunnerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRunnerBuilder")
            .field("tools", &self.registry.names())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SessionRunnerBuilder {
    /// Replaces all options.
    pub fn options(mut self, options: RunnerOptions) -> Self {
        self.options = options;
        self
    }

    /// [`RunnerOptions::tool_timeout`].
    pub fn tool_timeout(mut self, timeout: Duration) -> Self {
        self.options.tool_timeout = timeout;
        self
    }

    /// [`RunnerOptions::max_concurrent_tools`] (at least 1).
    pub fn max_concurrent_tools(mut self, n: usize) -> Self {
        self.options.max_concurrent_tools = n.max(1);
        self
    }

    /// [`RunnerOptions::max_tool_calls_per_turn`].
    pub fn max_tool_calls_per_turn(mut self, n: u32) -> Self {
        self.options.max_tool_calls_per_turn = Some(n);
        self
    }

    /// [`RunnerOptions::max_idle`].
    pub fn max_idle(mut self, idle: Duration) -> Self {
        self.options.max_idle = Some(idle);
        self
    }

    /// [`RunnerOptions::token_budget`].
    pub fn token_budget(mut self, tokens: u64) -> Self {
        self.options.token_budget = Some(tokens);
        self
    }

    /// [`RunnerOptions::send_window`].
    pub fn send_window(mut self, window: Duration) -> Self {
        self.options.send_window = window;
        self
    }

    /// [`RunnerOptions::send_initial_backoff`] and [`RunnerOptions::send_max_backoff`].
    pub fn send_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.options.send_initial_backoff = initial;
        self.options.send_max_backoff = max.max(initial);
        self
    }

    /// [`RunnerOptions::self_hosted`].
    pub fn self_hosted(mut self, on: bool) -> Self {
        self.options.self_hosted = on;
        self
    }

    /// [`RunnerOptions::answer_unknown_tools`].
    pub fn answer_unknown_tools(mut self, on: bool) -> Self {
        self.options.answer_unknown_tools = on;
        self
    }

    /// [`RunnerOptions::max_starting_turns`] (at least 1).
    pub fn max_starting_turns(mut self, n: usize) -> Self {
        self.options.max_starting_turns = n.max(1);
        self
    }

    /// [`RunnerOptions::text_deltas`].
    pub fn text_deltas(mut self, on: bool) -> Self {
        self.options.text_deltas = on;
        self
    }

    /// The ledger (default a fresh [`MemoryLedger`]).
    pub fn ledger(mut self, ledger: impl Ledger + 'static) -> Self {
        self.ledger = Some(Arc::new(ledger));
        self
    }

    /// A ledger shared with other runners or kept by the caller.
    pub fn shared_ledger(mut self, ledger: Arc<dyn Ledger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The confirmation policy (default [`DenyAll`]).
    pub fn confirmation_policy(mut self, policy: impl ConfirmationPolicy + 'static) -> Self {
        self.policy = Some(Arc::new(policy));
        self
    }

    /// The user the sessions work for, passed to tools in their
    /// [`ToolContext`](steward_tools::ToolContext).
    pub fn user(mut self, user: impl Into<UserId>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Builds the runner.
    pub fn build(self) -> SessionRunner {
        let permits = Arc::new(Semaphore::new(self.options.max_concurrent_tools.max(1)));
        let starting = Arc::new(Semaphore::new(self.options.max_starting_turns.max(1)));
        SessionRunner {
            shared: Arc::new(Shared {
                client: self.client,
                registry: self.registry,
                options: self.options,
                ledger: self.ledger.unwrap_or_else(|| Arc::new(MemoryLedger::new())),
                policy: self.policy.unwrap_or_else(|| Arc::new(DenyAll)),
                permits,
                starting,
                user: self.user,
                active: Mutex::new(HashSet::new()),
                memos: Mutex::new(fold::Memos::default()),
            }),
        }
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// What an idle session costs the runner is mostly the futures it waits in; these bounds
    /// keep a change from quietly putting a request or a turn result back into them (each was
    /// 2.6 KiB and more before the start-up, the follow loop and the tail were split apart).
    #[test]
    fn an_idle_drive_holds_small_futures() {
        let client = Client::builder()
            .api_key("k")
            .base_url("http://127.0.0.1:1")
            .build()
            .unwrap();
        let runner = SessionRunner::builder(client, Registry::new()).build();
        let (tx, _rx) = futures::channel::mpsc::channel(1);
        let session = SessionId::new("sesn_size".to_owned());
        let guard = ActiveGuard {
            shared: runner.shared.clone(),
            session: session.clone(),
        };
        let drive = dispatch::drive(
            runner.shared.clone(),
            session,
            vec![],
            None,
            tx.clone(),
            tokio_util::sync::CancellationToken::new(),
            guard,
        );
        let size = std::mem::size_of_val(&drive);
        assert!(size <= 1_400, "the drive future is {size} bytes");
        let (run, follow) = dispatch::future_sizes(runner.shared, tx);
        assert!(run <= 320, "the run future is {run} bytes");
        assert!(follow <= 320, "the follow future is {follow} bytes");
    }
}
