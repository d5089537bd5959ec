//! [`Fold`]: what a session's history says, folded event by event, so that a later drive of the
//! same session reads only what came after.
//!
//! Every event a drive accepts (history or live, each once) goes through [`Fold::observe`],
//! which depends on the events alone, never on what the runner did about them. So the fold
//! after a drive equals the fold a fresh drive would build from the same events, and the runner
//! keeps it between drives ([`Memos`]): the next drive of the session starts from it and lists
//! `created_at[gte]=<cursor>` instead of the whole history, dropping the IDs it already folded
//! at that timestamp (as the resilient stream's gap fill does). What it keeps is small: the
//! cursor, whether the last turn ended, the tool uses still waiting for an answer, the
//! terminated threads, the last usage, and the IDs of echoes folded before they were processed
//! (an echo is listed again once processed, possibly after the cursor).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use steward_core::event::{
    EvaluatedPermission, SessionEvent, SessionStatusIdle, ToolConfirmationResult, ToolEvaluation,
};
use steward_core::usage::SessionUsage;
use steward_core::{EventId, Nullable, SessionId, SessionThreadId, Timestamp};

use super::outcome::{CallKind, ToolCall};
use crate::resilient::{EventCursor, StartFrom};

/// How many IDs of echoes folded before they were processed a fold remembers.
const ECHOES: usize = 16;

/// A tool use the runner acts on, as the event describes it.
#[derive(Debug, Clone)]
pub(super) struct CallSpec {
    pub(super) call: ToolCall,
    /// Whether the runner runs the tool (custom tools; toolset tools on self-hosted
    /// environments).
    pub(super) execute: bool,
    /// Set when the call waits for a confirmation.
    pub(super) confirm: Option<ConfirmInfo>,
    pub(super) thread: Option<SessionThreadId>,
    pub(super) processed_at: Timestamp,
}

/// What a confirmation request shows besides the call.
#[derive(Debug, Clone)]
pub(super) struct ConfirmInfo {
    pub(super) mcp_server_name: Option<String>,
    pub(super) evaluation: Option<ToolEvaluation>,
}

/// The call a tool-use event asks the runner to act on, if any: every `agent.custom_tool_use`;
/// an `agent.tool_use` held for approval, or any allowed one when `self_hosted`; an
/// `agent.mcp_tool_use` held for approval. A permission this version does not know counts as
/// `ask` (fail closed).
pub(super) fn call_spec(event: &SessionEvent, self_hosted: bool) -> Option<CallSpec> {
    match event {
        SessionEvent::AgentCustomToolUse(e) => Some(CallSpec {
            call: ToolCall {
                tool_use_id: e.id.clone(),
                name: e.name.clone(),
                kind: CallKind::Custom,
                input: e.input.clone(),
            },
            execute: true,
            confirm: None,
            thread: e.session_thread_id.clone().into_option(),
            processed_at: e.processed_at.clone(),
        }),
        SessionEvent::AgentToolUse(e) => {
            let ask = match &e.evaluated_permission {
                Some(EvaluatedPermission::Deny) => return None,
                None | Some(EvaluatedPermission::Allow) => {
                    if !self_hosted {
                        // The server runs it.
                        return None;
                    }
                    false
                }
                Some(_) => true,
            };
            Some(CallSpec {
                call: ToolCall {
                    tool_use_id: e.id.clone(),
                    name: e.name.clone(),
                    kind: CallKind::Toolset,
                    input: e.input.clone(),
                },
                execute: self_hosted,
                confirm: ask.then(|| ConfirmInfo {
                    mcp_server_name: None,
                    evaluation: e.evaluation.clone(),
                }),
                thread: e.session_thread_id.clone().into_option(),
                processed_at: e.processed_at.clone(),
            })
        }
        SessionEvent::AgentMcpToolUse(e) => {
            if matches!(
                e.evaluated_permission,
                None | Some(EvaluatedPermission::Allow) | Some(EvaluatedPermission::Deny)
            ) {
                return None;
            }
            Some(CallSpec {
                call: ToolCall {
                    tool_use_id: e.id.clone(),
                    name: e.name.clone(),
                    kind: CallKind::Toolset,
                    input: e.input.clone(),
                },
                execute: false,
                confirm: Some(ConfirmInfo {
                    mcp_server_name: Some(e.mcp_server_name.clone()),
                    evaluation: e.evaluation.clone(),
                }),
                thread: e.session_thread_id.clone().into_option(),
                processed_at: e.processed_at.clone(),
            })
        }
        _ => None,
    }
}

/// The tool-use ID an answering event answers.
pub(super) fn answered_id(event: &SessionEvent) -> Option<&EventId> {
    match event {
        SessionEvent::UserCustomToolResult(r) => Some(&r.custom_tool_use_id),
        SessionEvent::UserToolResult(r) => Some(&r.tool_use_id),
        SessionEvent::AgentToolResult(r) => Some(&r.tool_use_id),
        SessionEvent::AgentMcpToolResult(r) => Some(&r.mcp_tool_use_id),
        _ => None,
    }
}

/// Where the history left the session, judged by its last turn-relevant event.
#[derive(Debug, Clone, Default)]
pub(super) enum History {
    /// No such event: the session never ran.
    #[default]
    Empty,
    /// A turn was running or waiting on input.
    Busy,
    /// A turn had ended.
    Ended(Box<SessionStatusIdle>),
}

/// The latest `processed_at` folded and the IDs folded at it: where a list or a resilient
/// stream resumes.
#[derive(Debug, Clone, Default)]
pub(super) struct Cursor {
    high: Option<(Timestamp, Vec<String>)>,
}

impl Cursor {
    fn update(&mut self, event: &SessionEvent) {
        let (Some(at), Some(id)) = (event.processed_at(), event.raw_id()) else {
            return;
        };
        match &mut self.high {
            Some((high, ids)) => match compare(at, high) {
                std::cmp::Ordering::Greater => self.high = Some((at.clone(), vec![id.to_owned()])),
                std::cmp::Ordering::Equal => ids.push(id.to_owned()),
                std::cmp::Ordering::Less => {}
            },
            None => self.high = Some((at.clone(), vec![id.to_owned()])),
        }
    }

    /// The latest `processed_at` folded.
    pub(super) fn at(&self) -> Option<&Timestamp> {
        self.high.as_ref().map(|(at, _)| at)
    }

    /// Where a resilient stream continues.
    pub(super) fn start(&self) -> StartFrom {
        match &self.high {
            Some((at, ids)) => StartFrom::After(EventCursor {
                processed_at: at.clone(),
                ids: ids.clone(),
            }),
            None => StartFrom::Beginning,
        }
    }
}

pub(super) fn compare(a: &Timestamp, b: &Timestamp) -> std::cmp::Ordering {
    match (a.to_datetime(), b.to_datetime()) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => a.as_str().cmp(b.as_str()),
    }
}

/// A call waiting for an answer, and the verdict allowing it (for one held for approval).
#[derive(Debug, Clone)]
pub(super) struct OpenCall {
    /// Shared with the driver's record of the same call.
    pub(super) spec: Arc<CallSpec>,
    pub(super) allowed: bool,
}

/// The history so far, folded; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub(super) struct Fold {
    pub(super) cursor: Cursor,
    pub(super) history: History,
    /// Calls not settled (no answer, no interrupt, thread alive, not denied), in order seen.
    pub(super) open: Vec<OpenCall>,
    pub(super) terminated_threads: HashSet<SessionThreadId>,
    /// The last `session.usage`.
    /// Boxed: 176 bytes that most folds of idle sessions would carry inline.
    pub(super) usage: Option<Box<SessionUsage>>,
    /// IDs of events folded while `processed_at` was null (client echoes), newest last.
    echoes: VecDeque<String>,
    /// The session was terminated or deleted: nothing to keep.
    pub(super) gone: bool,
}

impl Fold {
    /// Folds one event (each event once, in the order accepted). For a tool use, returns its
    /// call, for the driver to share.
    pub(super) fn observe(
        &mut self,
        event: &SessionEvent,
        self_hosted: bool,
    ) -> Option<Arc<CallSpec>> {
        self.cursor.update(event);
        if event.processed_at().is_none() && !event.is_stream_only() {
            if let Some(id) = event.raw_id() {
                self.echoes.push_back(id.to_owned());
                if self.echoes.len() > ECHOES {
                    self.echoes.pop_front();
                }
            }
        }
        self.track_end(event);
        if let Some(id) = answered_id(event) {
            self.open.retain(|c| &c.spec.call.tool_use_id != id);
            return None;
        }
        match event {
            SessionEvent::AgentCustomToolUse(_)
            | SessionEvent::AgentToolUse(_)
            | SessionEvent::AgentMcpToolUse(_) => {
                let spec = Arc::new(call_spec(event, self_hosted)?);
                let dead_thread = spec
                    .thread
                    .as_ref()
                    .is_some_and(|t| self.terminated_threads.contains(t));
                let known = self
                    .open
                    .iter()
                    .any(|c| c.spec.call.tool_use_id == spec.call.tool_use_id);
                if !dead_thread && !known {
                    // Room for one more only: a call is a few hundred bytes, and a `Vec`'s
                    // first allocation is room for four.
                    self.open.reserve_exact(1);
                    self.open.push(OpenCall {
                        spec: spec.clone(),
                        allowed: false,
                    });
                }
                return Some(spec);
            }
            SessionEvent::UserToolConfirmation(confirmation) => {
                let allow = confirmation.result == ToolConfirmationResult::Allow;
                if let Some(i) = self.open.iter().position(|c| {
                    c.spec.call.tool_use_id == confirmation.tool_use_id && c.spec.confirm.is_some()
                }) {
                    if allow && self.open[i].spec.execute {
                        self.open[i].allowed = true;
                    } else {
                        // Denied (the server settles it) or run by the server.
                        self.open.remove(i);
                    }
                }
            }
            SessionEvent::UserInterrupt(interrupt) => match &interrupt.session_thread_id {
                Nullable::Value(thread) => {
                    self.open.retain(|c| c.spec.thread.as_ref() != Some(thread))
                }
                Nullable::Absent | Nullable::Null => self.open.clear(),
            },
            SessionEvent::SessionThreadStatusTerminated(thread) => {
                let id = &thread.session_thread_id;
                self.open.retain(|c| c.spec.thread.as_ref() != Some(id));
                self.terminated_threads.insert(id.clone());
            }
            SessionEvent::SessionStatusTerminated(_) | SessionEvent::SessionDeleted(_) => {
                self.open.clear();
                self.gone = true;
            }
            SessionEvent::SessionUsage(usage) => self.usage = Some(Box::new(usage.usage.clone())),
            _ => {}
        }
        None
    }

    /// Remembers whether the last turn-relevant event ended a turn.
    fn track_end(&mut self, event: &SessionEvent) {
        match event {
            // Neutral: they do not say whether a turn runs.
            SessionEvent::UserToolConfirmation(_)
            | SessionEvent::SessionThreadStatusTerminated(_)
            | SessionEvent::SessionUsage(_)
            | SessionEvent::SessionUpdated(_)
            | SessionEvent::EventStart(_)
            | SessionEvent::EventDelta(_)
            | SessionEvent::Unknown(_) => {}
            SessionEvent::SessionStatusIdle(idle) if !idle.stop_reason.is_requires_action() => {
                self.history = History::Ended(Box::new(idle.clone()));
            }
            _ => self.history = History::Busy,
        }
    }

    /// IDs a drive resuming from this fold must drop if it sees them again: those folded at the
    /// cursor's timestamp and the echoes folded before they were processed.
    pub(super) fn seen_ids(&self) -> impl Iterator<Item = &str> {
        self.cursor
            .high
            .iter()
            .flat_map(|(_, ids)| ids.iter())
            .chain(self.echoes.iter())
            .map(String::as_str)
    }
}

/// The folds of the sessions a runner drove, kept between drives; the oldest is forgotten
/// beyond `capacity` (its next drive reads the whole history again).
#[derive(Debug, Default)]
pub(crate) struct Memos {
    folds: HashMap<SessionId, (u64, Fold)>,
    order: VecDeque<(u64, SessionId)>,
    next: u64,
}

impl Memos {
    /// Takes the fold of `session` out (a drive owns it while it runs).
    pub(super) fn take(&mut self, session: &SessionId) -> Option<Fold> {
        self.folds.remove(session).map(|(_, fold)| fold)
    }

    /// Keeps the fold of `session` (nothing for a session that is gone).
    pub(super) fn put(&mut self, session: SessionId, fold: Fold, capacity: usize) {
        if fold.gone || capacity == 0 {
            return;
        }
        self.next += 1;
        let stamp = self.next;
        self.order.push_back((stamp, session.clone()));
        self.folds.insert(session, (stamp, fold));
        while self.folds.len() > capacity {
            let Some((stamp, session)) = self.order.pop_front() else {
                break;
            };
            if self.folds.get(&session).is_some_and(|(s, _)| *s == stamp) {
                self.folds.remove(&session);
            }
        }
        // Entries of sessions taken or re-put since: drop them when they pile up.
        if self.order.len() > 2 * self.folds.len() + 16 {
            let folds = &self.folds;
            self.order
                .retain(|(stamp, session)| folds.get(session).is_some_and(|(s, _)| s == stamp));
        }
    }

    /// How many sessions have a fold kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.folds.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> SessionEvent {
        serde_json::from_value(json).unwrap()
    }

    fn tool_use(id: &str, at: &str) -> SessionEvent {
        event(serde_json::json!({
            "type": "agent.custom_tool_use", "id": id, "name": "t", "input": {},
            "processed_at": at
        }))
    }

    #[test]
    fn open_calls_are_settled_by_answers_and_interrupts() {
        let mut fold = Fold::default();
        fold.observe(&tool_use("sevt_1", "2026-04-01T00:00:01Z"), false);
        fold.observe(&tool_use("sevt_2", "2026-04-01T00:00:02Z"), false);
        assert_eq!(fold.open.len(), 2);
        fold.observe(
            &event(serde_json::json!({
                "type": "user.custom_tool_result", "id": "sevt_3", "custom_tool_use_id": "sevt_1",
                "content": [], "processed_at": null
            })),
            false,
        );
        assert_eq!(fold.open.len(), 1);
        assert_eq!(fold.open[0].spec.call.tool_use_id.as_str(), "sevt_2");
        // The echo did not move the cursor, and is remembered.
        assert_eq!(
            fold.cursor.at().map(Timestamp::as_str),
            Some("2026-04-01T00:00:02Z")
        );
        let seen: Vec<&str> = fold.seen_ids().collect();
        assert_eq!(seen, ["sevt_2", "sevt_3"]);
        fold.observe(
            &event(
                serde_json::json!({"type": "user.interrupt", "id": "sevt_4", "processed_at": null}),
            ),
            false,
        );
        assert!(fold.open.is_empty());
        assert!(matches!(fold.history, History::Busy));
        fold.observe(
            &event(serde_json::json!({
                "type": "session.status_idle", "id": "sevt_5", "processed_at": "2026-04-01T00:00:03Z",
                "stop_reason": {"type": "end_turn"}, "stop_details": null
            })),
            false,
        );
        assert!(matches!(fold.history, History::Ended(_)));
    }

    #[test]
    fn memos_forget_the_oldest_beyond_capacity() {
        let mut memos = Memos::default();
        for i in 0..5 {
            memos.put(SessionId::new(format!("sesn_{i}")), Fold::default(), 3);
        }
        assert_eq!(memos.len(), 3);
        assert!(memos.take(&SessionId::new("sesn_1")).is_none());
        assert!(memos.take(&SessionId::new("sesn_4")).is_some());
        // Re-putting keeps the newest stamp only.
        for _ in 0..100 {
            memos.put(SessionId::new("sesn_2"), Fold::default(), 3);
        }
        assert_eq!(memos.len(), 2);
        assert!(memos.order.len() <= 2 * memos.len() + 16);
        let gone = Fold {
            gone: true,
            ..Fold::default()
        };
        memos.put(SessionId::new("sesn_9"), gone, 3);
        assert!(memos.take(&SessionId::new("sesn_9")).is_none());
    }
}
