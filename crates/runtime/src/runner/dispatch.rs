//! The per-session loop: one task per driven session, a dispatcher over a closed [`Event`]
//! enum. Only the dispatcher changes the session's state; tool calls, result sends and
//! confirmation decisions run as separate tasks in a [`JoinSet`] and report back as events, so
//! the dispatcher keeps reading the stream while they run.
//!
//! Phases of a drive:
//! 1. open the event stream (so nothing processed from now on is missed);
//! 2. read the history and fold it into the state (reconcile): which calls are answered,
//!    which are pending, which were interrupted, whether the last turn ended. A session this
//!    runner drove before starts from the [`Fold`] its last drive left and reads only what came
//!    after it (`created_at[gte]`); any other reads the whole history;
//! 3. send the caller's input (if any);
//! 4. dispatch the pending calls (consulting the ledger) and loop over live events until the
//!    turn ends.
//!
//! When the first stream is lost, the loop continues on a [`ResilientEventStream`] that starts
//! right after the last event processed, so reconnects fill the gap from the list and every
//! event is handled once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use futures::{SinkExt as _, StreamExt};
use steward_core::event::{
    DeltaType, EventListParams, EventOrder, SendEvents, SessionEvent, StreamParams,
    ToolConfirmationResult, UserEvent,
};
use steward_core::usage::{ModelUsage, SessionUsage};
use steward_core::{EventId, Nullable, SessionId, SessionThreadId};
use steward_tools::ToolContext;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::exec::{self, Answer, Executed, Execution, SendPolicy};
use super::fold::{CallSpec, Fold, History};
use super::ledger::{CallKey, CallState, LedgerEntry, StoredResult};
use super::outcome::{
    Boxed, CallKind, Outcome, OutcomeTx, ResultOrigin, ToolCallRecord, TurnResult, TurnStop,
};
use super::policy::{Confirmation, ConfirmationRequest};
use super::transcript::Transcript;
use super::{ActiveGuard, RunnerError, Shared};
use crate::error::Error;
use crate::resilient::{ResilientEventStream, ResilientOptions};
use crate::sse::EventStream;

/// How many recent event IDs are remembered to drop repeats (the stream overlaps the history
/// when the runner attaches, and a reconnect may repeat events).
const RECENT_IDS: usize = 10_000;

/// Everything the dispatcher reacts to.
enum Event {
    /// The live stream produced something.
    Live(LiveItem),
    /// A spawned task finished.
    Task(Done),
    /// Nothing happened for `max_idle`.
    IdleExpired,
    /// The consumer dropped the outcome stream.
    ConsumerGone,
}

/// What a spawned task reports.
enum Done {
    /// A tool call ended.
    Executed(Executed),
    /// A result send ended.
    Sent {
        tool_use_id: EventId,
        result: Result<(), Error>,
    },
    /// The confirmation policy decided, and the decision was sent (`None`: not sent, the
    /// call was cancelled meanwhile).
    Decided {
        tool_use_id: EventId,
        decision: Confirmation,
        result: Option<Result<(), Error>>,
    },
}

/// Why the loop stops early: the consumer left (say nothing more) or an error (report it).
enum Halt {
    Gone,
    Error(RunnerError),
}

impl From<RunnerError> for Halt {
    fn from(error: RunnerError) -> Self {
        Self::Error(error)
    }
}

impl From<Error> for Halt {
    fn from(error: Error) -> Self {
        Self::Error(RunnerError::Api(error))
    }
}

impl From<super::ledger::LedgerError> for Halt {
    fn from(error: super::ledger::LedgerError) -> Self {
        Self::Error(RunnerError::Ledger(error))
    }
}

/// Where a call is, from the dispatcher's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Seen, not acted on yet.
    Pending,
    /// The confirmation policy is deciding.
    Deciding,
    /// Its tool task is running (or waiting for a slot).
    Running,
    /// Its result is being sent.
    Sending,
    /// Sending its result failed for good; the ledger keeps it for the next run.
    Unsent,
    /// Answered (by us or by someone else), confirmed, or not ours to act on.
    Done,
    /// Cancelled by an interrupt or the session's end.
    Cancelled,
}

impl Phase {
    /// Whether the runner still has something to do for the call.
    fn is_outstanding(self) -> bool {
        matches!(
            self,
            Self::Pending | Self::Deciding | Self::Running | Self::Sending
        )
    }
}

/// A tool use the runner acts on: the call as the event describes it (shared with the fold),
/// and where the runner is with it. Reads as its [`CallSpec`].
struct Call {
    spec: Arc<CallSpec>,
    phase: Phase,
    /// A child of the drive's token, made when the call is decided or run (most calls a
    /// runner sees are not its own and never need one).
    cancel: Option<CancellationToken>,
}

impl Call {
    fn new(spec: Arc<CallSpec>) -> Self {
        Self {
            spec,
            phase: Phase::Pending,
            cancel: None,
        }
    }
}

impl std::ops::Deref for Call {
    type Target = CallSpec;

    fn deref(&self) -> &CallSpec {
        &self.spec
    }
}

/// The live event source.
enum Live {
    /// The stream opened before anything was sent.
    Plain(EventStream<SessionEvent>),
    /// After the first stream was lost: reconnects and fills gaps.
    Resilient(Box<ResilientEventStream>),
}

enum LiveItem {
    Event(Box<SessionEvent>),
    /// The first stream ended or failed (reconnect with the resilient stream).
    Lost(Option<Error>),
    /// The resilient stream gave up.
    Failed(Error),
    /// The resilient stream ended (after `session.deleted`).
    Ended,
}

impl Live {
    async fn next(&mut self) -> LiveItem {
        match self {
            Self::Plain(stream) => match stream.next().await {
                Some(Ok(event)) => LiveItem::Event(Box::new(event)),
                Some(Err(error)) => LiveItem::Lost(Some(error)),
                None => LiveItem::Lost(None),
            },
            Self::Resilient(stream) => match stream.next().await {
                Some(Ok(event)) => LiveItem::Event(Box::new(event)),
                Some(Err(error)) => LiveItem::Failed(error),
                None => LiveItem::Ended,
            },
        }
    }
}

/// Recent event IDs, bounded, kept as 128-bit fingerprints (two SipHash values under random
/// keys): 32 bytes an ID in one allocation of each container instead of two strings. Two
/// different IDs among the last [`RECENT_IDS`] collide with a probability of about 2^-114.
#[derive(Default)]
struct Recent {
    keys: (RandomState, RandomState),
    order: VecDeque<u128>,
    set: HashSet<u128>,
}

impl Recent {
    /// Inserts; `false` when it was there already.
    fn insert(&mut self, id: &str) -> bool {
        let print =
            (u128::from(self.keys.0.hash_one(id)) << 64) | u128::from(self.keys.1.hash_one(id));
        if !self.set.insert(print) {
            return false;
        }
        self.order.push_back(print);
        if self.order.len() > RECENT_IDS {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// Tokens counted against a budget: input (fresh, cache writes and cache reads) and output.
pub(super) fn total_tokens(usage: &SessionUsage) -> u64 {
    let cache_creation = usage.cache_creation.as_ref().map_or(0, |c| {
        c.ephemeral_1h_input_tokens.unwrap_or(0) + c.ephemeral_5m_input_tokens.unwrap_or(0)
    });
    usage.input_tokens.unwrap_or(0)
        + usage.output_tokens.unwrap_or(0)
        + usage.cache_read_input_tokens.unwrap_or(0)
        + cache_creation
}

/// Drives one session until its turn ends; reports through `tx`. `stop` is the drive's token:
/// cancelled by the consumer dropping its stream, and by the drive when it ends.
pub(super) async fn drive(
    shared: Arc<Shared>,
    session: SessionId,
    input: Vec<UserEvent>,
    transcript: Option<Transcript>,
    tx: OutcomeTx,
    stop: CancellationToken,
    guard: ActiveGuard,
) {
    let span = tracing::info_span!("session_runner", session_id = %session);
    let fold = shared.memos().take(&session);
    let mut driver = Driver::new(shared.clone(), session.clone(), transcript, tx, stop, fold);
    let outcome = tracing::Instrument::instrument(driver.run(input), span).await;
    // The fold depends on the events accepted only, so it is valid however the drive ended.
    let fold = std::mem::take(&mut driver.fold);
    let tx = driver.tx.take();
    // Whatever is still running is aborted when the driver (and its JoinSet) drops.
    drop(driver);
    shared
        .memos()
        .put(session, fold, shared.options.remembered_sessions);
    drop(guard);
    if let (Some(last), Some(mut tx)) = (last_outcome(outcome), tx) {
        let _ = tx.send(last).await;
    }
}

/// The last item of a drive's channel (none when its consumer is gone). A function of its own so
/// that the drive's future does not keep the turn result alive (and sized in) while it sends.
fn last_outcome(outcome: Result<TurnResult, Halt>) -> Option<Boxed> {
    match outcome {
        Ok(result) => Some(Box::new(Ok(Outcome::Finished(Box::new(result))))),
        Err(Halt::Error(error)) => Some(Box::new(Err(error))),
        Err(Halt::Gone) => None,
    }
}

struct Driver {
    shared: Arc<Shared>,
    session: SessionId,
    transcript: Option<Transcript>,
    /// Taken by [`drive`] for the last outcome.
    tx: Option<OutcomeTx>,
    tasks: JoinSet<Done>,
    /// Parent of every call's token: cancelled when the drive ends or its consumer goes.
    cancel: CancellationToken,

    calls: HashMap<EventId, Call>,
    /// Calls to look at, in the order they were seen.
    ready: VecDeque<EventId>,
    /// Tool uses answered in the history or on the stream.
    answered: HashSet<EventId>,
    /// Confirmation verdicts seen (ours or anyone's).
    verdicts: HashMap<EventId, bool>,
    terminated_threads: HashSet<SessionThreadId>,
    recent: Recent,
    /// The history so far (kept by the runner between drives).
    fold: Fold,
    /// Whether the drive resumed from a fold (and lists only what came after it).
    resumed: bool,

    /// Whether events are live (after the history was read).
    live: bool,
    /// Whether the turn this drive waits for has begun (our input was seen, or no input).
    started: bool,
    /// IDs of the events we sent.
    ours: HashSet<EventId>,
    /// Whether our input was accepted by the server.
    sent: bool,
    /// A session-wide interrupt was seen during the turn.
    interrupted: bool,
    executed: u32,

    messages: Vec<String>,
    records: Vec<ToolCallRecord>,
    errors: Vec<steward_core::event::SessionErrorObject>,
    /// Boxed, as the fold's: usage is 176 bytes, and every idle session holds a driver.
    usage: Option<Box<SessionUsage>>,
    turn_usage: ModelUsage,
    idle_deadline: Option<Instant>,
}

impl Driver {
    fn new(
        shared: Arc<Shared>,
        session: SessionId,
        transcript: Option<Transcript>,
        tx: OutcomeTx,
        cancel: CancellationToken,
        fold: Option<Fold>,
    ) -> Self {
        let resumed = fold.is_some();
        let mut driver = Self {
            shared,
            session,
            transcript,
            tx: Some(tx),
            tasks: JoinSet::new(),
            cancel,
            calls: HashMap::new(),
            ready: VecDeque::new(),
            answered: HashSet::new(),
            verdicts: HashMap::new(),
            terminated_threads: HashSet::new(),
            recent: Recent::default(),
            fold: fold.unwrap_or_default(),
            resumed,
            live: false,
            started: false,
            ours: HashSet::new(),
            sent: false,
            interrupted: false,
            executed: 0,
            messages: Vec::new(),
            records: Vec::new(),
            errors: Vec::new(),
            usage: None,
            turn_usage: ModelUsage::default(),
            idle_deadline: None,
        };
        driver.resume();
        driver
    }

    /// Takes up where the fold left the session: its open calls are pending (and looked at
    /// once the input is sent, as calls read from the history are), what it folded at its
    /// cursor is not taken again.
    fn resume(&mut self) {
        let fold = &self.fold;
        for id in fold.seen_ids() {
            self.recent.insert(id);
        }
        self.terminated_threads = fold.terminated_threads.clone();
        self.usage = fold.usage.clone();
        let open = fold.open.clone();
        for call in open {
            if call.allowed {
                self.verdicts
                    .insert(call.spec.call.tool_use_id.clone(), true);
            }
            self.insert_call(call.spec);
        }
    }

    fn send_policy(&self) -> SendPolicy {
        let o = &self.shared.options;
        SendPolicy {
            window: o.send_window,
            initial_backoff: o.send_initial_backoff,
            max_backoff: o.send_max_backoff,
        }
    }

    /// Steps 1 to 3 of a drive: opens the stream, reads the history, sends the input. `Err`
    /// of the inner result when the turn ended before it began (session gone, budget spent).
    ///
    /// [`run`](Self::run) lets at most
    /// [`RunnerOptions::max_starting_turns`](super::RunnerOptions) drives of the runner in
    /// here at once: a burst of thousands of turns does not put thousands of start-up
    /// requests in flight together (and, over HTTP/1.1, leave a pooled connection behind
    /// for each).
    async fn start(
        &mut self,
        input: Vec<UserEvent>,
    ) -> Result<Result<Box<Live>, TurnResult>, Halt> {
        let shared = self.shared.clone();
        let (client, options) = (&shared.client, &shared.options);

        // 1. The stream first, so nothing processed from now on is missed.
        let params = StreamParams {
            event_deltas: if options.text_deltas {
                vec![DeltaType::AgentMessage]
            } else {
                Vec::new()
            },
        };
        let mut stream = client
            .sessions()
            .events()
            .stream_with(&self.session, &params)
            .await?;
        if let Some(idle) = options.stream_idle_timeout {
            stream = stream.idle_timeout(idle);
        }
        let live = Box::new(Live::Plain(stream));

        // 2. The history.
        let history_params = EventListParams {
            limit: Some(options.history_page_limit),
            // After a fold: what came at or after its cursor (its IDs at the cursor are
            // dropped as repeats).
            created_at_gte: self.fold.cursor.at().cloned(),
            order: self.resumed.then_some(EventOrder::Asc),
            ..EventListParams::default()
        };
        let mut history = client
            .sessions()
            .events()
            .list(&self.session, &history_params);
        while let Some(event) = history.next().await {
            let event = event?;
            if let Some(stop) = self.accept(event).await? {
                // The session is gone (terminated or deleted): nothing to do.
                return Ok(Err(self.finish(stop).await));
            }
        }
        drop(history);

        if let Some(budget) = options.token_budget {
            let session = client.sessions().retrieve(&self.session).await?;
            let used = total_tokens(&session.usage);
            self.usage = Some(Box::new(session.usage));
            if used >= budget {
                return Ok(Err(self
                    .finish(TurnStop::TokenBudget {
                        limit: budget,
                        used,
                    })
                    .await));
            }
        }

        // 3. The caller's input.
        self.live = true;
        if input.is_empty() {
            self.started = true;
        } else {
            let response = client
                .sessions()
                .events()
                .send(&self.session, &SendEvents::new(input))
                .await?;
            for echo in response.data.unwrap_or_default() {
                if let Some(id) = echo.id() {
                    self.ours.insert(id.clone());
                }
            }
            self.sent = true;
        }

        Ok(Ok(live))
    }

    async fn run(&mut self, input: Vec<UserEvent>) -> Result<TurnResult, Halt> {
        // Every step that holds a request or a large state is boxed, so the drive's own future
        // (alive, and allocated, for as long as the session is driven) is no bigger than its idle
        // state: an idle session costs its waiting state, not the size of its largest step.
        // The slot is taken before the start-up future is allocated: turns waiting for one
        // hold a semaphore waiter, not a start-up's requests.
        let starting = self.shared.starting.clone();
        let permit = starting.acquire().await;
        let started = Box::pin(self.start(input)).await;
        drop(permit);
        let live = match started? {
            Ok(live) => live,
            Err(ended) => return Ok(ended),
        };

        // 4. Pending calls, then live events.
        if let Some(stop) = Box::pin(self.dispatch_ready()).await? {
            return Box::pin(self.stop_by_runner(stop)).await;
        }
        if !self.sent
            && self.tasks.is_empty()
            && !self.calls.values().any(|c| c.phase.is_outstanding())
        {
            match &self.fold.history {
                History::Empty => return Ok(Box::pin(self.finish(TurnStop::Idle)).await),
                History::Ended(idle) => {
                    let stop = TurnStop::from_idle(&idle.stop_reason, idle.stop_details.as_ref());
                    return Ok(Box::pin(self.finish(stop)).await);
                }
                History::Busy => {}
            }
        }
        self.arm_idle(true);
        Box::pin(self.follow(live)).await
    }

    /// Step 5, live events until the turn ends: the state an idle session waits in, kept apart
    /// from the steps before it so that its future holds only what waiting needs.
    async fn follow(&mut self, mut live: Box<Live>) -> Result<TurnResult, Halt> {
        loop {
            let idle = self.idle_deadline;
            let event = tokio::select! {
                biased;
                () = self.cancel.cancelled() => Event::ConsumerGone,
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => match done {
                    Ok(done) => Event::Task(done),
                    // Tasks are only aborted when the driver drops; a panic is caught inside.
                    Err(error) => {
                        tracing::error!(%error, "runner task failed");
                        continue;
                    }
                },
                item = live.next() => Event::Live(item),
                () = sleep_until(idle) => Event::IdleExpired,
            };
            let was_live = matches!(event, Event::Live(LiveItem::Event(_)));
            if let Some(stop) = Box::pin(self.on_event(event, &mut live)).await? {
                return Box::pin(self.end(stop)).await;
            }
            if let Some(stop) = Box::pin(self.dispatch_ready()).await? {
                return Box::pin(self.stop_by_runner(stop)).await;
            }
            self.arm_idle(was_live);
        }
    }

    /// Acts on one thing [`follow`](Self::follow) waited for; a stop when the turn is over.
    async fn on_event(
        &mut self,
        event: Event,
        live: &mut Box<Live>,
    ) -> Result<Option<TurnStop>, Halt> {
        let shared = self.shared.clone();
        let options = &shared.options;
        Ok(match event {
            Event::ConsumerGone => return Err(Halt::Gone),
            Event::IdleExpired => options
                .max_idle
                .map(|after| TurnStop::IdleTimeout { after }),
            Event::Task(done) => self.on_done(done).await?,
            Event::Live(LiveItem::Event(event)) => self.accept(*event).await?,
            Event::Live(LiveItem::Lost(error)) => {
                if let Some(error) = error {
                    if exec::is_final(&error) || matches!(error, Error::Decode { .. }) {
                        return Err(error.into());
                    }
                    tracing::debug!(%error, "event stream lost, resuming");
                } else {
                    tracing::debug!("event stream closed, resuming");
                }
                let mut resilient = ResilientOptions::default().start(self.fold.cursor.start());
                if options.text_deltas {
                    resilient = resilient.event_deltas(vec![DeltaType::AgentMessage]);
                }
                if let Some(idle) = options.stream_idle_timeout {
                    resilient = resilient.idle_timeout(idle);
                }
                **live = Live::Resilient(Box::new(
                    shared
                        .client
                        .sessions()
                        .events()
                        .stream_resilient(&self.session, resilient),
                ));
                None
            }
            Event::Live(LiveItem::Failed(error)) => return Err(error.into()),
            Event::Live(LiveItem::Ended) => Some(TurnStop::Deleted),
        })
    }

    /// Ends the turn on `stop`: with an interrupt first when the runner itself stops it.
    async fn end(&mut self, stop: TurnStop) -> Result<TurnResult, Halt> {
        match stop {
            TurnStop::StepLimit { .. } | TurnStop::TokenBudget { .. } => {
                self.stop_by_runner(stop).await
            }
            stop => Ok(self.finish(stop).await),
        }
    }

    /// Arms the idle clock when nothing of ours is in flight (restarting it after an event),
    /// disarms it otherwise.
    fn arm_idle(&mut self, event_arrived: bool) {
        let Some(max) = self.shared.options.max_idle else {
            return;
        };
        if !self.tasks.is_empty() {
            self.idle_deadline = None;
        } else if event_arrived || self.idle_deadline.is_none() {
            self.idle_deadline = Some(Instant::now() + max);
        }
    }

    async fn emit(&mut self, outcome: Outcome) -> Result<(), Halt> {
        let Some(tx) = self.tx.as_mut() else {
            return Err(Halt::Gone);
        };
        tx.send(Box::new(Ok(outcome))).await.map_err(|_| Halt::Gone)
    }

    /// De-duplicates, records and observes one event (history or live).
    async fn accept(&mut self, event: SessionEvent) -> Result<Option<TurnStop>, Halt> {
        if let Some(id) = event.raw_id() {
            if !self.recent.insert(id) {
                return Ok(None);
            }
        }
        let spec = self.fold.observe(&event, self.shared.options.self_hosted);
        if let Some(transcript) = &self.transcript {
            if !event.is_stream_only() {
                transcript.record(&event);
            }
        }
        if self.live {
            self.emit(Outcome::Event(Box::new(event.clone()))).await?;
        }
        self.observe(event, spec).await
    }

    /// Folds one event into the state. Returns a stop when the turn is over.
    /// `spec` is the fold's record of a tool use, shared.
    async fn observe(
        &mut self,
        event: SessionEvent,
        spec: Option<Arc<CallSpec>>,
    ) -> Result<Option<TurnStop>, Halt> {
        match event {
            SessionEvent::AgentCustomToolUse(_)
            | SessionEvent::AgentToolUse(_)
            | SessionEvent::AgentMcpToolUse(_) => {
                if let Some(spec) = spec {
                    self.insert_call(spec);
                }
            }
            SessionEvent::UserCustomToolResult(result) => {
                self.on_answered(result.custom_tool_use_id).await?;
            }
            SessionEvent::UserToolResult(result) => self.on_answered(result.tool_use_id).await?,
            SessionEvent::AgentToolResult(result) => self.on_answered(result.tool_use_id).await?,
            SessionEvent::AgentMcpToolResult(result) => {
                self.on_answered(result.mcp_tool_use_id).await?;
            }
            SessionEvent::UserToolConfirmation(confirmation) => {
                let allow = confirmation.result == ToolConfirmationResult::Allow;
                self.verdicts
                    .insert(confirmation.tool_use_id.clone(), allow);
                if let Some(call) = self.calls.get(&confirmation.tool_use_id) {
                    if call.phase == Phase::Deciding {
                        self.ready.push_back(confirmation.tool_use_id);
                    }
                }
            }
            SessionEvent::UserInterrupt(interrupt) => match interrupt.session_thread_id {
                Nullable::Value(thread) => self.interrupt(Some(&thread)),
                Nullable::Absent | Nullable::Null => {
                    if self.live && self.started {
                        self.interrupted = true;
                    }
                    self.interrupt(None);
                }
            },
            SessionEvent::SessionThreadStatusTerminated(thread) => {
                let id = thread.session_thread_id;
                for call in self.calls.values_mut() {
                    if call.thread.as_ref() == Some(&id)
                        && matches!(call.phase, Phase::Pending | Phase::Deciding)
                    {
                        call.phase = Phase::Done;
                    }
                }
                self.terminated_threads.insert(id);
            }
            SessionEvent::SessionStatusTerminated(_) => {
                self.interrupt(None);
                return Ok(Some(TurnStop::Terminated));
            }
            SessionEvent::SessionDeleted(_) => {
                self.interrupt(None);
                return Ok(Some(TurnStop::Deleted));
            }
            SessionEvent::SessionStatusRunning(_) => {
                if self.sent {
                    self.started = true;
                }
            }
            SessionEvent::SessionStatusIdle(idle) => {
                if self.live && self.started && !idle.stop_reason.is_requires_action() {
                    if self.interrupted {
                        return Ok(Some(TurnStop::Interrupted));
                    }
                    return Ok(Some(TurnStop::from_idle(
                        &idle.stop_reason,
                        idle.stop_details.as_ref(),
                    )));
                }
            }
            SessionEvent::SessionUsage(usage) => {
                self.usage = Some(Box::new(usage.usage.clone()));
                if self.live {
                    self.emit(Outcome::Usage(usage.usage)).await?;
                    return Ok(self.over_budget());
                }
            }
            SessionEvent::SpanModelRequestEnd(end) => {
                if self.live {
                    add_usage(&mut self.turn_usage, &end.model_usage);
                    if let Some(usage) = &mut self.usage {
                        usage.add(&end.model_usage);
                    }
                    return Ok(self.over_budget());
                }
            }
            SessionEvent::AgentMessage(message) => {
                if self.live {
                    let text = message.text();
                    self.messages.push(text.clone());
                    self.emit(Outcome::Message {
                        event_id: message.id,
                        text,
                    })
                    .await?;
                }
            }
            SessionEvent::EventDelta(delta) => {
                if let steward_core::event::Delta::Content(content) = delta.delta {
                    if let Some(text) = content.content.as_text() {
                        self.emit(Outcome::TextDelta {
                            event_id: delta.event_id,
                            text: text.to_owned(),
                        })
                        .await?;
                    }
                }
            }
            SessionEvent::SessionError(error) => {
                if self.live {
                    self.errors.push(error.error);
                }
            }
            SessionEvent::UserMessage(message) => {
                if self.ours.contains(&message.id) {
                    self.started = true;
                }
            }
            other => {
                if other.id().is_some_and(|id| self.ours.contains(id)) {
                    self.started = true;
                }
            }
        }
        Ok(None)
    }

    fn over_budget(&self) -> Option<TurnStop> {
        let limit = self.shared.options.token_budget?;
        let used = total_tokens(self.usage.as_ref()?);
        (used >= limit).then_some(TurnStop::TokenBudget { limit, used })
    }

    fn insert_call(&mut self, spec: Arc<CallSpec>) {
        let id = spec.call.tool_use_id.clone();
        if self.calls.contains_key(&id) {
            return;
        }
        let mut call = Call::new(spec);
        if self.answered.contains(&id)
            || call
                .thread
                .as_ref()
                .is_some_and(|t| self.terminated_threads.contains(t))
        {
            call.phase = Phase::Done;
        } else {
            self.ready.push_back(id.clone());
        }
        self.calls.insert(id, call);
    }

    /// A result for `id` is on the server.
    async fn on_answered(&mut self, id: EventId) -> Result<(), Halt> {
        self.answered.insert(id.clone());
        let Some(call) = self.calls.get_mut(&id) else {
            return Ok(());
        };
        match call.phase {
            Phase::Pending | Phase::Deciding | Phase::Unsent => {
                let was_unsent = call.phase == Phase::Unsent;
                call.phase = Phase::Done;
                if was_unsent {
                    self.record_delivered(&id).await?;
                }
            }
            // A running call answered elsewhere: its result is dropped when it finishes;
            // a call being sent is settled when the send returns.
            Phase::Running | Phase::Sending | Phase::Done | Phase::Cancelled => {}
        }
        Ok(())
    }

    /// Cancels what is not finished: calls of `thread`, or every call.
    fn interrupt(&mut self, thread: Option<&SessionThreadId>) {
        for call in self.calls.values_mut() {
            if thread.is_some() && call.thread.as_ref() != thread {
                continue;
            }
            match call.phase {
                Phase::Pending | Phase::Deciding => call.phase = Phase::Cancelled,
                // The task sees the token and reports `Cancelled`.
                Phase::Running => {
                    if let Some(cancel) = &call.cancel {
                        cancel.cancel();
                    }
                }
                // A computed result is still delivered.
                Phase::Sending | Phase::Unsent | Phase::Done | Phase::Cancelled => {}
            }
        }
    }

    async fn record_delivered(&self, id: &EventId) -> Result<(), Halt> {
        let Some(call) = self.calls.get(id) else {
            return Ok(());
        };
        let entry = LedgerEntry {
            name: call.call.name.clone(),
            state: CallState::Delivered,
        };
        self.shared
            .ledger
            .record(&CallKey::new(self.session.clone(), id.clone()), &entry)
            .await?;
        Ok(())
    }

    /// Acts on every call that is ready. Returns a stop when a runner limit is hit.
    async fn dispatch_ready(&mut self) -> Result<Option<TurnStop>, Halt> {
        while let Some(id) = self.ready.pop_front() {
            if let Some(stop) = self.dispatch(id).await? {
                return Ok(Some(stop));
            }
        }
        Ok(None)
    }

    async fn dispatch(&mut self, id: EventId) -> Result<Option<TurnStop>, Halt> {
        let Some(call) = self.calls.get(&id) else {
            return Ok(None);
        };
        if !matches!(call.phase, Phase::Pending | Phase::Deciding) {
            return Ok(None);
        }
        if call.confirm.is_some() {
            match self.verdicts.get(&id) {
                Some(true) if call.execute => {}
                Some(_) => {
                    // Allowed and run by the server, or denied (the server settles a denial).
                    self.set_phase(&id, Phase::Done);
                    return Ok(None);
                }
                None => {
                    if call.phase == Phase::Pending {
                        self.spawn_decision(&id);
                        self.set_phase(&id, Phase::Deciding);
                    }
                    return Ok(None);
                }
            }
        }
        self.execute(id).await
    }

    fn set_phase(&mut self, id: &EventId, phase: Phase) {
        if let Some(call) = self.calls.get_mut(id) {
            call.phase = phase;
        }
    }

    fn spawn_decision(&mut self, id: &EventId) {
        let send = self.send_policy();
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(info) = &call.confirm else {
            return;
        };
        let request = ConfirmationRequest {
            session_id: self.session.clone(),
            tool_use_id: id.clone(),
            name: call.call.name.clone(),
            mcp_server_name: info.mcp_server_name.clone(),
            input: call.call.input.clone(),
            evaluation: info.evaluation.clone(),
            session_thread_id: call.thread.clone(),
        };
        let since = call.processed_at.clone();
        let policy = self.shared.policy.clone();
        let client = self.shared.client.clone();
        let session = self.session.clone();
        let cancel = call
            .cancel
            .get_or_insert_with(|| self.cancel.child_token())
            .clone();
        self.tasks.spawn(async move {
            let tool_use_id = request.tool_use_id.clone();
            let decision = tokio::select! {
                biased;
                () = cancel.cancelled() => Confirmation::deny("the session was interrupted"),
                decision = policy.decide(&request) => decision,
            };
            let event = match &decision {
                Confirmation::Allow => UserEvent::allow(tool_use_id.clone()),
                Confirmation::Deny { message } => {
                    UserEvent::deny(tool_use_id.clone(), message.clone())
                }
            };
            let result = if cancel.is_cancelled() {
                None
            } else {
                Some(
                    exec::deliver(
                        &client,
                        &session,
                        event,
                        Some((Answer::Confirmation(tool_use_id.clone()), Some(since))),
                        send,
                    )
                    .await,
                )
            };
            Done::Decided {
                tool_use_id,
                decision,
                result,
            }
        });
    }

    /// Runs a call (or sends what the ledger holds for it).
    async fn execute(&mut self, id: EventId) -> Result<Option<TurnStop>, Halt> {
        let key = CallKey::new(self.session.clone(), id.clone());
        let Some(call) = self.calls.get(&id) else {
            return Ok(None);
        };
        let name = call.call.name.clone();
        let tool = self.shared.registry.get(&name).cloned();
        let origin = match self.shared.ledger.get(&key).await? {
            Some(entry) => match entry.state {
                CallState::Computed { result } => {
                    self.send_result(&id, result, ResultOrigin::Replayed, None)
                        .await?;
                    return Ok(None);
                }
                CallState::Started => {
                    if tool.as_ref().is_some_and(|tool| tool.idempotent()) {
                        ResultOrigin::Rerun
                    } else {
                        let result = exec::outcome_unknown(&name);
                        let entry = LedgerEntry {
                            name: name.clone(),
                            state: CallState::Computed {
                                result: result.clone(),
                            },
                        };
                        self.shared.ledger.record(&key, &entry).await?;
                        self.send_result(&id, result, ResultOrigin::OutcomeUnknown, None)
                            .await?;
                        return Ok(None);
                    }
                }
                CallState::Delivered => {
                    self.set_phase(&id, Phase::Done);
                    return Ok(None);
                }
                CallState::Abandoned => {
                    self.set_phase(&id, Phase::Cancelled);
                    return Ok(None);
                }
            },
            None if tool.is_none() => {
                if !self.shared.options.answer_unknown_tools {
                    let call = call.call.clone();
                    self.set_phase(&id, Phase::Done);
                    self.emit(Outcome::ToolSkipped(call)).await?;
                    return Ok(None);
                }
                ResultOrigin::UnknownTool
            }
            None => ResultOrigin::Ran,
        };
        if tool.is_some() {
            if let Some(limit) = self.shared.options.max_tool_calls_per_turn {
                if self.executed >= limit {
                    self.set_phase(&id, Phase::Cancelled);
                    return Ok(Some(TurnStop::StepLimit { limit, refused: id }));
                }
            }
            self.executed += 1;
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return Ok(None);
        };
        call.phase = Phase::Running;
        let cancel = call
            .cancel
            .get_or_insert_with(|| self.cancel.child_token())
            .clone();
        let mut ctx = ToolContext::new(self.session.clone(), id.clone()).with_cancel(cancel);
        ctx.user = self.shared.user.clone();
        let execution = Execution {
            tool,
            call: call.call.clone(),
            ctx,
            timeout: self.shared.options.tool_timeout,
            permits: self.shared.permits.clone(),
            ledger: self.shared.ledger.clone(),
            key,
            origin,
        };
        let started = call.call.clone();
        self.tasks
            .spawn(async move { Done::Executed(execution.run().await) });
        self.emit(Outcome::ToolStarted(started)).await?;
        Ok(None)
    }

    /// Reports a computed result and starts sending it.
    async fn send_result(
        &mut self,
        id: &EventId,
        result: StoredResult,
        origin: ResultOrigin,
        duration: Option<std::time::Duration>,
    ) -> Result<(), Halt> {
        let Some(call) = self.calls.get_mut(id) else {
            return Ok(());
        };
        let record = ToolCallRecord {
            call: call.call.clone(),
            content: result.content.clone(),
            is_error: result.is_error,
            origin,
            duration,
            posted: false,
        };
        self.emit(Outcome::ToolFinished(record.clone())).await?;
        self.records.push(record);
        self.start_send(id, result);
        Ok(())
    }

    fn start_send(&mut self, id: &EventId, result: StoredResult) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        call.phase = Phase::Sending;
        let kind = call.call.kind;
        let event = exec::result_event(kind, id, &result);
        let answer = match kind {
            CallKind::Custom => Answer::CustomResult(id.clone()),
            CallKind::Toolset => Answer::ToolResult(id.clone()),
        };
        let since = call.processed_at.clone();
        let client = self.shared.client.clone();
        let session = self.session.clone();
        let policy = self.send_policy();
        let tool_use_id = id.clone();
        self.tasks.spawn(async move {
            let result = exec::deliver(
                &client,
                &session,
                event,
                Some((answer, Some(since))),
                policy,
            )
            .await;
            Done::Sent {
                tool_use_id,
                result,
            }
        });
    }

    async fn on_done(&mut self, done: Done) -> Result<Option<TurnStop>, Halt> {
        match done {
            Done::Executed(Executed::Finished(record)) => {
                let id = record.call.tool_use_id.clone();
                if self.answered.contains(&id) {
                    // Someone else answered while the tool ran; ours is not needed.
                    self.set_phase(&id, Phase::Done);
                    self.record_delivered(&id).await?;
                    self.emit(Outcome::ToolFinished(record.clone())).await?;
                    self.records.push(record);
                    return Ok(None);
                }
                let result = StoredResult {
                    content: record.content.clone(),
                    is_error: record.is_error,
                };
                self.emit(Outcome::ToolFinished(record.clone())).await?;
                self.records.push(record);
                self.start_send(&id, result);
            }
            Done::Executed(Executed::Cancelled(call)) => {
                let id = call.tool_use_id;
                self.set_phase(&id, Phase::Cancelled);
                let entry = LedgerEntry {
                    name: call.name,
                    state: CallState::Abandoned,
                };
                self.shared
                    .ledger
                    .record(&CallKey::new(self.session.clone(), id), &entry)
                    .await?;
            }
            Done::Executed(Executed::Ledger(error)) => return Err(error.into()),
            Done::Sent {
                tool_use_id,
                result,
            } => {
                let posted = result.is_ok();
                let error = result.err().map(|e| e.to_string());
                if posted || self.answered.contains(&tool_use_id) {
                    self.set_phase(&tool_use_id, Phase::Done);
                    self.record_delivered(&tool_use_id).await?;
                } else {
                    tracing::warn!(tool_use_id = %tool_use_id, error = ?error, "could not deliver a tool result; it is kept for the next run");
                    self.set_phase(&tool_use_id, Phase::Unsent);
                }
                if let Some(record) = self
                    .records
                    .iter_mut()
                    .rev()
                    .find(|r| r.call.tool_use_id == tool_use_id)
                {
                    record.posted = posted;
                }
                self.emit(Outcome::ResultPosted {
                    tool_use_id,
                    posted,
                    error,
                })
                .await?;
            }
            Done::Decided {
                tool_use_id,
                decision,
                result,
            } => {
                let Some(result) = result else {
                    return Ok(None);
                };
                let posted = result.is_ok();
                if let Err(error) = &result {
                    tracing::warn!(tool_use_id = %tool_use_id, %error, "could not send a tool confirmation");
                }
                let name = self
                    .calls
                    .get(&tool_use_id)
                    .map(|c| c.call.name.clone())
                    .unwrap_or_default();
                let deciding = self
                    .calls
                    .get(&tool_use_id)
                    .is_some_and(|c| c.phase == Phase::Deciding);
                if deciding {
                    if posted {
                        self.verdicts
                            .entry(tool_use_id.clone())
                            .or_insert(decision.is_allow());
                        self.ready.push_back(tool_use_id.clone());
                    } else {
                        // Nobody can act on it now; another client may still answer.
                        self.set_phase(&tool_use_id, Phase::Done);
                    }
                }
                self.emit(Outcome::Confirmation {
                    tool_use_id,
                    name,
                    decision,
                    posted,
                })
                .await?;
            }
        }
        Ok(None)
    }

    /// Stops the turn on a limit of the runner: sends `user.interrupt` first.
    async fn stop_by_runner(&mut self, stop: TurnStop) -> Result<TurnResult, Halt> {
        tracing::info!(stop = ?stop, "stopping the turn");
        let client = self.shared.client.clone();
        exec::deliver(
            &client,
            &self.session,
            UserEvent::interrupt(),
            None,
            self.send_policy(),
        )
        .await?;
        self.interrupt(None);
        Ok(self.finish(stop).await)
    }

    /// Cancels what runs (tools and pending decisions), lets result sends finish (for a bounded
    /// time) and builds the result.
    async fn finish(&mut self, stop: TurnStop) -> TurnResult {
        // Every call's token is a child of this one; sends do not watch it.
        self.cancel.cancel();
        let deadline = Instant::now() + self.shared.options.drain_timeout;
        while !self.tasks.is_empty() {
            let done = tokio::select! {
                done = self.tasks.join_next() => done,
                () = tokio::time::sleep_until(deadline) => break,
            };
            match done {
                Some(Ok(Done::Sent {
                    tool_use_id,
                    result,
                })) => {
                    if result.is_ok() {
                        if let Err(error) = self.record_delivered(&tool_use_id).await {
                            log_halt(&error);
                        }
                        if let Some(record) = self
                            .records
                            .iter_mut()
                            .find(|r| r.call.tool_use_id == tool_use_id)
                        {
                            record.posted = true;
                        }
                    }
                }
                Some(Ok(Done::Executed(Executed::Cancelled(call)))) => {
                    let entry = LedgerEntry {
                        name: call.name,
                        state: CallState::Abandoned,
                    };
                    let key = CallKey::new(self.session.clone(), call.tool_use_id);
                    if let Err(error) = self.shared.ledger.record(&key, &entry).await {
                        tracing::warn!(%error, "could not record an abandoned call");
                    }
                }
                // A result computed now stays in the ledger for the next run.
                Some(Ok(Done::Executed(Executed::Finished(record)))) => self.records.push(record),
                Some(Ok(_)) | Some(Err(_)) => {}
                None => break,
            }
        }
        self.tasks.abort_all();
        TurnResult {
            session_id: self.session.clone(),
            stop,
            messages: std::mem::take(&mut self.messages),
            tool_calls: std::mem::take(&mut self.records),
            errors: std::mem::take(&mut self.errors),
            usage: self.usage.take().map(|usage| *usage),
            turn_usage: std::mem::take(&mut self.turn_usage),
        }
    }
}

fn log_halt(halt: &Halt) {
    if let Halt::Error(error) = halt {
        tracing::warn!(%error, "could not record a delivered result");
    }
}

/// Adds one model request to a sum.
fn add_usage(sum: &mut ModelUsage, request: &ModelUsage) {
    sum.input_tokens += request.input_tokens;
    sum.output_tokens += request.output_tokens;
    sum.cache_creation_input_tokens += request.cache_creation_input_tokens;
    sum.cache_read_input_tokens += request.cache_read_input_tokens;
}

/// Waits until `deadline`, or forever without one. The timer is boxed and made only when there
/// is a deadline: a session waiting without one carries no timer in its future.
fn sleep_until(deadline: Option<Instant>) -> impl Future<Output = ()> {
    let sleep = deadline.map(|deadline| Box::pin(tokio::time::sleep_until(deadline)));
    async move {
        match sleep {
            Some(sleep) => sleep.await,
            None => std::future::pending().await,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
/// Sizes of a fresh driver's `run` and `follow` futures, for the size test.
#[cfg(test)]
pub(super) fn future_sizes(shared: Arc<Shared>, tx: OutcomeTx) -> (usize, usize) {
    let session = SessionId::new("sesn_size".to_owned());
    let mut driver = Driver::new(shared, session, None, tx, CancellationToken::new(), None);
    let run = std::mem::size_of_val(&driver.run(Vec::new()));
    let stream = driver
        .shared
        .client
        .sessions()
        .events()
        .stream_resilient(&driver.session, ResilientOptions::default());
    let live = Box::new(Live::Resilient(Box::new(stream)));
    let follow = std::mem::size_of_val(&driver.follow(live));
    (run, follow)
}
