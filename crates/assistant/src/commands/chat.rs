//! `steward chat --user U [message]`: one turn when a message is given, an interactive loop
//! when not.
//!
//! Every conversation is a new session of the agent: it mounts the user's own memory store
//! read-write and the shared store read-only, and attaches the user's vault when there is one.
//! `steward setup` runs first, implicitly (it only reads when nothing changed).
//!
//! A [`SessionRunner`] drives each turn and runs the linked custom tools on this host; its
//! ledger is a file in the data directory, so a tool's result survives a crash of this process
//! and is never computed twice. While the turn runs, the agent's text streams to stdout, each
//! tool call is one short line on stderr, and a spinner shows on a terminal. The first Ctrl-C
//! sends `user.interrupt` (the agent stops at its next step), the second leaves (exit 130).

use std::collections::HashSet;
use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use indicatif::ProgressBar;
use serde::Serialize;
use steward_core::event::{SendEvents, SessionEvent, UserEvent};
use steward_core::memory::MemoryStore;
use steward_core::resource::{MemoryStoreAccess, MemoryStoreResourceCreate, ResourceCreate};
use steward_core::session::{Session, SessionCreate};
use steward_core::{
    AgentId, EnvironmentId, EventId, MemoryStoreId, Metadata, Nullable, SessionId, UserId,
};
use steward_runtime::runner::{FileLedger, Outcome, SessionRunner, TurnResult, TurnStop};
use steward_tools::Registry;
use tokio::sync::mpsc;

use super::setup::{self, Status};
use crate::app::{App, ROLE_KEY, USER_KEY, validate_user};
use crate::error::{Interrupted, UserError};
use crate::output::Printer;

/// The runner's ledger, in the data directory.
pub const LEDGER_FILE: &str = "tool-ledger.jsonl";

/// The longest tool input shown on a tool line.
const TOOL_LINE_MAX: usize = 72;

/// `steward chat --user U [message]`.
pub async fn run(app: &mut App, user: &str, message: Option<String>) -> anyhow::Result<()> {
    validate_user(user)?;
    let store = app.user_store(user).await?;
    let setup = setup::ensure(app).await?;
    if setup.agent.status != Status::Reused {
        app.printer.note(format!(
            "{} agent {} (version {})",
            if setup.agent.status == Status::Created {
                "created"
            } else {
                "updated"
            },
            setup.agent.id,
            setup.agent.version
        ));
    }
    let shared = app
        .live_store(&MemoryStoreId::new(setup.shared_store.id.clone()))
        .await?
        .context("the shared memory store disappeared")?;
    let vault = super::vault::find(app, user).await?;
    let session = create_session(app, user, &setup, &store, &shared, vault.map(|v| v.id)).await?;

    let registry = Registry::from_inventory().context("failed to collect the linked tools")?;
    let ledger_path = app.paths.data_dir.join(LEDGER_FILE);
    let ledger = FileLedger::open(&ledger_path)
        .await
        .with_context(|| format!("failed to open the tool ledger `{}`", ledger_path.display()))?;
    let runner = SessionRunner::builder(app.client().clone(), registry)
        .ledger(ledger)
        .text_deltas(!app.printer.json)
        .user(UserId::new(user))
        .build();
    let mut interrupts = interrupts();
    let chat = Chat {
        app,
        runner: &runner,
        session: &session.id,
        user,
    };
    match message {
        Some(text) => chat.one_shot(&text, &mut interrupts).await,
        None => chat.interactive(&mut interrupts).await,
    }
}

/// Ctrl-C presses, as a channel. The handler is installed here, before anything is shown, and
/// stays for the whole chat (a press is never lost between two turns, nor fatal).
fn interrupts() -> mpsc::UnboundedReceiver<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(mut signal) => {
            tokio::spawn(async move {
                while signal.recv().await.is_some() {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for Ctrl-C"),
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    rx
}

async fn create_session(
    app: &App,
    user: &str,
    setup: &setup::Setup,
    store: &MemoryStore,
    shared: &MemoryStore,
    vault: Option<steward_core::VaultId>,
) -> anyhow::Result<Session> {
    let mut body = SessionCreate::new(
        AgentId::new(setup.agent.id.clone()),
        EnvironmentId::new(setup.environment.id.clone()),
    );
    body.title = Nullable::Value(format!("steward: {user}"));
    body.metadata = Some(Metadata::from([
        (ROLE_KEY.to_owned(), "chat".to_owned()),
        (USER_KEY.to_owned(), user.to_owned()),
    ]));
    body.resources = Some(vec![
        ResourceCreate::MemoryStore(MemoryStoreResourceCreate {
            memory_store_id: store.id.clone(),
            access: Nullable::Value(MemoryStoreAccess::ReadWrite),
            instructions: Nullable::Value(format!(
                "The memory of {user}, the person you are talking to. Check it before you \
                 answer; record durable facts about {user} here."
            )),
        }),
        ResourceCreate::MemoryStore(MemoryStoreResourceCreate {
            memory_store_id: shared.id.clone(),
            access: Nullable::Value(MemoryStoreAccess::ReadOnly),
            instructions: Nullable::Value(
                "Reference material shared by every user. Read only.".to_owned(),
            ),
        }),
    ]);
    body.vault_ids = vault.map(|id| vec![id]);
    let session = app
        .client()
        .sessions()
        .create(&body)
        .await
        .context("failed to start a session")?;
    tracing::info!(session_id = %session.id, user, "session created");
    Ok(session)
}

/// The pieces a chat needs.
struct Chat<'a> {
    app: &'a App,
    runner: &'a SessionRunner,
    session: &'a SessionId,
    user: &'a str,
}

/// A turn as `--json` prints it.
#[derive(Debug, Serialize)]
struct TurnJson<'a> {
    session_id: &'a str,
    user: &'a str,
    stop: String,
    messages: &'a [String],
    tool_calls: Vec<ToolCallJson>,
    usage: Option<&'a steward_core::usage::SessionUsage>,
}

#[derive(Debug, Serialize)]
struct ToolCallJson {
    name: String,
    is_error: bool,
}

/// A short name for why a turn ended.
fn stop_name(stop: &TurnStop) -> String {
    match stop {
        TurnStop::EndTurn => "end_turn".to_owned(),
        TurnStop::RetriesExhausted => "retries_exhausted".to_owned(),
        TurnStop::BudgetReached => "budget_reached".to_owned(),
        TurnStop::Refusal { .. } => "refusal".to_owned(),
        TurnStop::Other(reason) => reason.type_name().to_owned(),
        TurnStop::Interrupted => "interrupted".to_owned(),
        TurnStop::Idle => "idle".to_owned(),
        TurnStop::Terminated => "terminated".to_owned(),
        TurnStop::Deleted => "deleted".to_owned(),
        TurnStop::StepLimit { .. } => "step_limit".to_owned(),
        TurnStop::TokenBudget { .. } => "token_budget".to_owned(),
        TurnStop::IdleTimeout { .. } => "idle_timeout".to_owned(),
        _ => "other".to_owned(),
    }
}

impl Chat<'_> {
    fn printer(&self) -> &Printer {
        &self.app.printer
    }

    /// One message, one turn; the exit code says how it ended.
    async fn one_shot(
        &self,
        text: &str,
        interrupts: &mut mpsc::UnboundedReceiver<()>,
    ) -> anyhow::Result<()> {
        self.printer()
            .note(format!("session {} (user `{}`)", self.session, self.user));
        let result = self.turn(text, interrupts).await?;
        self.print_json(&result).await?;
        match &result.stop {
            TurnStop::EndTurn => Ok(()),
            TurnStop::Interrupted => Err(Interrupted.into()),
            other => Err(UserError::failure(format!(
                "the turn ended without finishing: {}",
                stop_name(other)
            ))
            .into()),
        }
    }

    /// Reads messages until Ctrl-D, `/exit` or Ctrl-C at the prompt.
    async fn interactive(
        &self,
        interrupts: &mut mpsc::UnboundedReceiver<()>,
    ) -> anyhow::Result<()> {
        self.printer().note(format!(
            "chatting as `{}` in session {}; Ctrl-C interrupts a turn, Ctrl-D or /exit leaves",
            self.user, self.session
        ));
        let mut editor =
            rustyline::DefaultEditor::new().context("failed to open the line editor")?;
        loop {
            let prompt = format!("{}> ", self.user);
            let read = tokio::task::spawn_blocking(move || {
                let line = editor.readline(&prompt);
                (editor, line)
            });
            // A Ctrl-C that reaches us as a signal (no terminal) while waiting leaves too.
            let (back, line) = tokio::select! {
                joined = read => joined.context("the line editor stopped")?,
                Some(()) = interrupts.recv() => return Ok(()),
            };
            editor = back;
            let line = match line {
                Ok(line) => line,
                Err(
                    rustyline::error::ReadlineError::Interrupted
                    | rustyline::error::ReadlineError::Eof,
                ) => {
                    return Ok(());
                }
                Err(e) => return Err(anyhow::Error::new(e).context("failed to read input")),
            };
            let text = line.trim();
            if text.is_empty() {
                continue;
            }
            if matches!(text, "/exit" | "/quit") {
                return Ok(());
            }
            let _ = editor.add_history_entry(text);
            let result = self.turn(text, interrupts).await?;
            self.print_json(&result).await?;
            match &result.stop {
                TurnStop::EndTurn => {}
                TurnStop::Interrupted => self.printer().note("interrupted"),
                other => self.printer().warn(format!(
                    "the turn ended without finishing: {}",
                    stop_name(other)
                )),
            }
        }
    }

    async fn print_json(&self, result: &TurnResult) -> anyhow::Result<()> {
        if !self.printer().json {
            return Ok(());
        }
        // The session's cumulative usage, when the stream carried none.
        let fetched = match &result.usage {
            Some(_) => None,
            None => self
                .app
                .client()
                .sessions()
                .retrieve(self.session)
                .await
                .ok()
                .map(|s| s.usage),
        };
        self.printer().json(&TurnJson {
            session_id: result.session_id.as_str(),
            user: self.user,
            stop: stop_name(&result.stop),
            messages: &result.messages,
            tool_calls: result
                .tool_calls
                .iter()
                .map(|c| ToolCallJson {
                    name: c.call.name.clone(),
                    is_error: c.is_error,
                })
                .collect(),
            usage: result.usage.as_ref().or(fetched.as_ref()),
        })?;
        Ok(())
    }

    /// Drives one turn, showing it as it happens; the first Ctrl-C interrupts, the second
    /// leaves.
    async fn turn(
        &self,
        text: &str,
        interrupts: &mut mpsc::UnboundedReceiver<()>,
    ) -> anyhow::Result<TurnResult> {
        // Presses from before the turn (at the prompt) are not meant for it.
        while interrupts.try_recv().is_ok() {}
        let mut stream = self.runner.turn(self.session).message(text).stream();
        let mut view = TurnView::new(*self.printer());
        view.busy();
        let mut interrupted = false;
        loop {
            tokio::select! {
                item = stream.next() => {
                    let Some(item) = item else {
                        view.idle();
                        anyhow::bail!("the turn stopped without a result");
                    };
                    let outcome = match item {
                        Ok(outcome) => outcome,
                        Err(e) => {
                            view.idle();
                            return Err(anyhow::Error::new(e).context("the turn failed"));
                        }
                    };
                    if let Outcome::Finished(result) = outcome {
                        view.idle();
                        view.end_line();
                        return Ok(*result);
                    }
                    view.show(&outcome);
                }
                Some(()) = interrupts.recv() => {
                    if interrupted {
                        view.idle();
                        view.end_line();
                        return Err(Interrupted.into());
                    }
                    interrupted = true;
                    view.message("interrupting; press Ctrl-C again to quit");
                    let body = SendEvents::new([UserEvent::interrupt()]);
                    if let Err(e) = self.app.client().sessions().events().send(self.session, &body).await {
                        view.warn(&format!("failed to interrupt the session: {e}"));
                    }
                }
            }
        }
    }
}

/// What the terminal shows while a turn runs: streamed text on stdout, tool lines and a
/// spinner on stderr.
struct TurnView {
    printer: Printer,
    spinner: Option<ProgressBar>,
    spin: bool,
    /// `agent.message` events whose text was streamed as deltas.
    streamed: HashSet<EventId>,
    /// Whether stdout holds a partial line.
    mid_line: bool,
}

impl TurnView {
    fn new(printer: Printer) -> Self {
        Self {
            spin: std::io::stderr().is_terminal() && !printer.quiet,
            printer,
            spinner: None,
            streamed: HashSet::new(),
            mid_line: false,
        }
    }

    /// Shows the spinner (on a terminal).
    fn busy(&mut self) {
        if self.spin && self.spinner.is_none() {
            let bar = ProgressBar::new_spinner();
            bar.set_message("working");
            bar.enable_steady_tick(Duration::from_millis(100));
            self.spinner = Some(bar);
        }
    }

    /// Hides the spinner.
    fn idle(&mut self) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
    }

    fn stdout(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed stdout ends the output, not the turn.
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        if !text.is_empty() {
            self.mid_line = !text.ends_with('\n');
        }
    }

    /// Ends a partial line of agent text.
    fn end_line(&mut self) {
        if self.mid_line {
            self.stdout("\n");
        }
    }

    /// A line on stderr, between the agent's lines.
    fn message(&mut self, line: &str) {
        self.idle();
        self.end_line();
        self.printer.note(line);
        self.busy();
    }

    fn warn(&mut self, line: &str) {
        self.idle();
        self.end_line();
        self.printer.warn(line);
        self.busy();
    }

    fn tool(&mut self, name: &str, input: &serde_json::Map<String, serde_json::Value>) {
        let mut args = serde_json::Value::Object(input.clone()).to_string();
        if args.chars().count() > TOOL_LINE_MAX {
            args = args.chars().take(TOOL_LINE_MAX).collect::<String>() + "…";
        }
        let line = format!("{} {name} {args}", self.printer.paint("·", "2"));
        self.message(&line);
    }

    fn show(&mut self, outcome: &Outcome) {
        if self.printer.json {
            // Data goes out as one JSON object per turn; only problems are shown meanwhile.
            match outcome {
                Outcome::Event(event) => {
                    if let SessionEvent::SessionError(e) = event.as_ref() {
                        let message = e.error.message().unwrap_or("unknown error").to_owned();
                        self.warn(&format!("session error: {message}"));
                    }
                }
                Outcome::ResultPosted {
                    posted: false,
                    error,
                    ..
                } => self.warn(&format!(
                    "a tool result could not be sent: {}",
                    error.as_deref().unwrap_or("unknown error")
                )),
                _ => {}
            }
            return;
        }
        match outcome {
            Outcome::TextDelta { event_id, text } => {
                self.idle();
                self.streamed.insert(event_id.clone());
                self.stdout(text);
            }
            Outcome::Message { event_id, text } => {
                self.idle();
                if self.streamed.contains(event_id) {
                    self.end_line();
                } else {
                    self.end_line();
                    self.stdout(text);
                    self.end_line();
                }
                self.busy();
            }
            Outcome::Event(event) => match event.as_ref() {
                SessionEvent::AgentToolUse(call) => self.tool(&call.name, &call.input),
                SessionEvent::AgentMcpToolUse(call) => {
                    self.tool(
                        &format!("{}/{}", call.mcp_server_name, call.name),
                        &call.input,
                    );
                }
                SessionEvent::SessionError(e) => {
                    let message = e.error.message().unwrap_or("unknown error").to_owned();
                    self.warn(&format!("session error: {message}"));
                }
                _ => {}
            },
            Outcome::ToolStarted(call) => self.tool(&call.name, &call.input),
            Outcome::ToolFinished(record) if record.is_error => {
                let text = record.text();
                let first = text.lines().next().unwrap_or("failed");
                self.warn(&format!("tool `{}` failed: {first}", record.call.name));
            }
            Outcome::ResultPosted {
                posted: false,
                error,
                ..
            } => self.warn(&format!(
                "a tool result could not be sent: {}",
                error.as_deref().unwrap_or("unknown error")
            )),
            Outcome::Confirmation { name, decision, .. } if !decision.is_allow() => {
                self.message(&format!(
                    "denied `{name}` (this CLI does not approve tool calls)"
                ));
            }
            _ => {}
        }
    }
}

impl Drop for TurnView {
    fn drop(&mut self) {
        self.idle();
    }
}
