//! Reading events: the history list, the tool uses waiting for the client, the primary thread.

use rusqlite::Connection;
use steward_core::environment::EnvironmentConfig;
use steward_core::event::{EvaluatedPermission, SessionEvent, ToolConfirmationResult};
use steward_core::{EnvironmentId, EventId, Page, SessionId, SessionThreadId, Timestamp};

use crate::clock::{Rounding, filter_bound};
use crate::db::{from_json, optional};
use crate::error::Result;
use crate::pagination::{Filter, Limits, Listing, Order, PageRequest};

/// Page sizes of event lists: 20 by default, up to 1000 (the SDK's session runner asks for
/// 1000; larger values are clamped).
pub const EVENT_LIMITS: Limits = Limits {
    default: 20,
    max: 1000,
};

/// The ID of a session's primary thread: the session ID with `sthr_` in place of `sesn_`.
/// Stable, and never stored: a single-agent session has exactly this one thread.
pub fn primary_thread_id(session_id: &SessionId) -> SessionThreadId {
    let suffix = session_id
        .as_str()
        .strip_prefix(SessionId::PREFIX)
        .unwrap_or(session_id.as_str());
    SessionThreadId::new(format!("{}{suffix}", SessionThreadId::PREFIX))
}

/// Whether a session runs in a `self_hosted` environment (whose workers execute toolset
/// tools and answer them with `user.tool_result`). `false` for an unknown session or a
/// deleted environment.
pub fn is_self_hosted(conn: &Connection, session_id: &SessionId) -> Result<bool> {
    let environment_id = optional(conn.query_row(
        "SELECT environment_id FROM sessions WHERE id = ?1",
        [session_id.as_str()],
        |row| row.get::<_, String>(0),
    ))?;
    let Some(environment_id) = environment_id else {
        return Ok(false);
    };
    let environment = crate::environments::load(conn, &EnvironmentId::new(environment_id))?;
    Ok(environment.is_some_and(|e| matches!(e.config, EnvironmentConfig::SelfHosted(_))))
}

/// Which kind of tool a pending call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolUseKind {
    /// `agent.custom_tool_use`: answered by `user.custom_tool_result`.
    Custom,
    /// `agent.tool_use` (a built-in toolset tool): confirmed by `user.tool_confirmation`, and
    /// in a self-hosted environment answered by `user.tool_result`.
    Toolset,
    /// `agent.mcp_tool_use`: confirmed by `user.tool_confirmation`; always run by the server.
    Mcp,
}

/// What a pending call waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// A result from the client (`user.custom_tool_result` or `user.tool_result`).
    Result,
    /// A `user.tool_confirmation` (the call was evaluated `ask`).
    Confirmation,
}

/// A tool use that waits for client input: what a `requires_action` idle lists.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingToolUse {
    /// ID of the tool-use event.
    pub id: EventId,
    /// Its place in the session's history (`seq`).
    pub seq: i64,
    /// Which kind of tool.
    pub kind: ToolUseKind,
    /// Name of the tool.
    pub name: String,
    /// What it waits for.
    pub awaiting: Awaiting,
    /// The tool-use event as stored.
    pub event: SessionEvent,
}

/// The tool uses of a session that wait for client input, in history order. Decided from the
/// history alone:
///
/// * `agent.custom_tool_use` waits for a `user.custom_tool_result`.
/// * `agent.tool_use` with `evaluated_permission: ask` waits for a `user.tool_confirmation`;
///   in a self-hosted environment, one allowed (by policy or by confirmation) then waits for a
///   `user.tool_result`. A denied call waits for nothing; in a cloud environment the server
///   runs allowed calls itself.
/// * `agent.mcp_tool_use` with `ask` waits for a `user.tool_confirmation` (MCP tools always run
///   on the server).
/// * A server-side result (`agent.tool_result`, `agent.mcp_tool_result`) settles the call it
///   answers, whatever it waited for (the engine settles denied or interrupted calls this way).
pub fn pending_tool_uses(conn: &Connection, session_id: &SessionId) -> Result<Vec<PendingToolUse>> {
    let self_hosted = is_self_hosted(conn, session_id)?;
    Ok(pending_set(conn, session_id, self_hosted)?.into_vec())
}

/// [`pending_tool_uses`] as a set that further events can be applied to.
pub(crate) fn pending_set(
    conn: &Connection,
    session_id: &SessionId,
    self_hosted: bool,
) -> Result<PendingSet> {
    let mut pending = PendingSet::new(self_hosted);
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body FROM session_events
         WHERE session_id = ?1 AND type IN ('agent.custom_tool_use', 'agent.tool_use',
             'agent.mcp_tool_use', 'agent.tool_result', 'agent.mcp_tool_result',
             'user.custom_tool_result', 'user.tool_result', 'user.tool_confirmation')
         ORDER BY seq",
    )?;
    let mut rows = stmt.query([session_id.as_str()])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let event: SessionEvent = from_json(&row.get::<_, String>(1)?)?;
        pending.observe(seq, &event);
    }
    Ok(pending)
}

/// The pending set as it evolves along a history.
#[derive(Debug)]
pub(crate) struct PendingSet {
    self_hosted: bool,
    items: Vec<PendingToolUse>,
}

impl PendingSet {
    pub(crate) fn new(self_hosted: bool) -> Self {
        Self {
            self_hosted,
            items: Vec::new(),
        }
    }

    /// The pending call with this ID, if any.
    pub(crate) fn get(&self, id: &EventId) -> Option<&PendingToolUse> {
        self.items.iter().find(|p| &p.id == id)
    }

    fn remove(&mut self, id: &EventId, kind: ToolUseKind) {
        self.items.retain(|p| !(&p.id == id && p.kind == kind));
    }

    fn add(&mut self, seq: i64, event: &SessionEvent, kind: ToolUseKind, awaiting: Awaiting) {
        let (Some(id), Some(name)) = (event.id(), tool_name(event)) else {
            return;
        };
        self.items.push(PendingToolUse {
            id: id.clone(),
            seq,
            kind,
            name: name.to_owned(),
            awaiting,
            event: event.clone(),
        });
    }

    /// Applies one event of the history.
    pub(crate) fn observe(&mut self, seq: i64, event: &SessionEvent) {
        match event {
            SessionEvent::AgentCustomToolUse(_) => {
                self.add(seq, event, ToolUseKind::Custom, Awaiting::Result);
            }
            SessionEvent::AgentToolUse(use_) => match use_.evaluated_permission {
                Some(EvaluatedPermission::Ask) => {
                    self.add(seq, event, ToolUseKind::Toolset, Awaiting::Confirmation);
                }
                Some(EvaluatedPermission::Deny) => {}
                _ if self.self_hosted => {
                    self.add(seq, event, ToolUseKind::Toolset, Awaiting::Result);
                }
                _ => {}
            },
            SessionEvent::AgentMcpToolUse(use_)
                if use_.evaluated_permission == Some(EvaluatedPermission::Ask) =>
            {
                self.add(seq, event, ToolUseKind::Mcp, Awaiting::Confirmation);
            }
            SessionEvent::UserToolConfirmation(confirmation) => {
                let self_hosted = self.self_hosted;
                let id = &confirmation.tool_use_id;
                let Some(index) = self
                    .items
                    .iter()
                    .position(|p| &p.id == id && p.awaiting == Awaiting::Confirmation)
                else {
                    return;
                };
                let runs_on_worker = self_hosted
                    && self.items[index].kind == ToolUseKind::Toolset
                    && confirmation.result == ToolConfirmationResult::Allow;
                if runs_on_worker {
                    self.items[index].awaiting = Awaiting::Result;
                } else {
                    self.items.remove(index);
                }
            }
            SessionEvent::UserCustomToolResult(result) => {
                self.remove(&result.custom_tool_use_id, ToolUseKind::Custom);
            }
            SessionEvent::UserToolResult(result) => {
                self.remove(&result.tool_use_id, ToolUseKind::Toolset);
            }
            SessionEvent::AgentToolResult(result) => {
                self.remove(&result.tool_use_id, ToolUseKind::Toolset);
            }
            SessionEvent::AgentMcpToolResult(result) => {
                self.remove(&result.mcp_tool_use_id, ToolUseKind::Mcp);
            }
            _ => {}
        }
    }

    pub(crate) fn into_vec(self) -> Vec<PendingToolUse> {
        self.items
    }
}

fn tool_name(event: &SessionEvent) -> Option<&str> {
    match event {
        SessionEvent::AgentCustomToolUse(e) => Some(&e.name),
        SessionEvent::AgentToolUse(e) => Some(&e.name),
        SessionEvent::AgentMcpToolUse(e) => Some(&e.name),
        _ => None,
    }
}

/// The `seq` of the session's last stored event; 0 when it has none.
pub(crate) fn last_seq(conn: &Connection, session_id: &SessionId) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM session_events WHERE session_id = ?1",
        [session_id.as_str()],
        |row| row.get(0),
    )?)
}

/// Most events [`stored_after`] returns at once.
pub(crate) const STREAM_BATCH: usize = 256;

/// Up to [`STREAM_BATCH`] of the session's events stored after `after` (by `seq`), in order.
pub(crate) fn stored_after(
    conn: &Connection,
    session_id: &SessionId,
    after: i64,
) -> Result<Vec<(i64, SessionEvent)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body FROM session_events WHERE session_id = ?1 AND seq > ?2
         ORDER BY seq LIMIT ?3",
    )?;
    let limit = i64::try_from(STREAM_BATCH).unwrap_or(i64::MAX);
    let mut rows = stmt.query(rusqlite::params![session_id.as_str(), after, limit])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push((row.get(0)?, from_json(&row.get::<_, String>(1)?)?));
    }
    Ok(events)
}

/// What an event list selects (all optional but the session).
#[derive(Debug, Clone, Default)]
pub(crate) struct EventQuery {
    /// Only events of the primary thread: those of no thread and those naming this one.
    pub(crate) primary_thread: Option<SessionThreadId>,
    /// Only these types (empty for all).
    pub(crate) types: Vec<String>,
    /// `created_at[gt|gte|lt|lte]` bounds.
    pub(crate) created_at_gt: Option<Timestamp>,
    pub(crate) created_at_gte: Option<Timestamp>,
    pub(crate) created_at_lt: Option<Timestamp>,
    pub(crate) created_at_lte: Option<Timestamp>,
    /// Newest first.
    pub(crate) descending: bool,
}

/// One page of a session's history, in storage order (`seq`). The time bounds compare
/// `processed_at`, or for an event not processed yet the time it was stored.
pub(crate) fn list(
    conn: &Connection,
    session_id: &SessionId,
    query: &EventQuery,
    request: &PageRequest,
) -> Result<Page<SessionEvent>> {
    let mut filter = Filter::new();
    filter.and_with("session_id = ?", [session_id.as_str().to_owned()]);
    if let Some(thread) = &query.primary_thread {
        filter.and_with(
            "session_thread_id IS NULL OR session_thread_id = ?",
            [thread.as_str().to_owned()],
        );
    }
    if !query.types.is_empty() {
        let placeholders = vec!["?"; query.types.len()].join(", ");
        filter.and_with(
            format!("type IN ({placeholders})"),
            query.types.iter().cloned(),
        );
    }
    let bounds: [(&str, &Option<Timestamp>, &str, Rounding); 4] = [
        ("created_at[gt]", &query.created_at_gt, ">", Rounding::Floor),
        (
            "created_at[gte]",
            &query.created_at_gte,
            ">=",
            Rounding::Ceil,
        ),
        ("created_at[lt]", &query.created_at_lt, "<", Rounding::Ceil),
        (
            "created_at[lte]",
            &query.created_at_lte,
            "<=",
            Rounding::Floor,
        ),
    ];
    for (field, value, op, rounding) in bounds {
        if let Some(value) = value {
            filter.and_with(
                format!("coalesce(processed_at, created_at) {op} ?"),
                [filter_bound(field, value, rounding)?],
            );
        }
    }
    let order = if query.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    Listing::new("session_events", "body", &filter)
        .keys(&["seq"])
        .order(order)
        .page(conn, request, |row| from_json(&row.get::<_, String>(0)?))
}

/// A database holding one bare session row, `sesn_1`, for unit tests.
#[cfg(test)]
pub(crate) fn test_db() -> (crate::db::Db, tempfile::TempDir, SessionId) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::db::Db::open(dir.path()).unwrap();
    db.write_blocking(|tx| {
        tx.execute(
            "INSERT INTO sessions (id, status, agent_id, agent_version, environment_id,
                 created_at, updated_at, body)
             VALUES ('sesn_1', 'idle', 'agent_1', 1, 'env_1', '2026-01-01T00:00:00.000000Z',
                 '2026-01-01T00:00:00.000000Z', '{}')",
            [],
        )?;
        Ok(())
    })
    .unwrap();
    (db, dir, SessionId::new("sesn_1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_thread_ids_follow_the_session() {
        assert_eq!(
            primary_thread_id(&SessionId::new("sesn_011CZkZAtmR3yMPDzynEDxu7")).as_str(),
            "sthr_011CZkZAtmR3yMPDzynEDxu7"
        );
        assert_eq!(primary_thread_id(&SessionId::new("x1")).as_str(), "sthr_x1");
    }

    fn event(json: serde_json::Value) -> SessionEvent {
        serde_json::from_value(json).unwrap()
    }

    fn tool_use(id: &str, permission: &str) -> SessionEvent {
        event(
            serde_json::json!({"type": "agent.tool_use", "id": id, "name": "bash",
            "input": {}, "processed_at": "2026-01-01T00:00:00Z", "evaluated_permission": permission}),
        )
    }

    fn confirm(id: &str, result: &str) -> SessionEvent {
        event(
            serde_json::json!({"type": "user.tool_confirmation", "id": "sevt_c",
            "tool_use_id": id, "result": result}),
        )
    }

    fn ids(set: &PendingSet) -> Vec<(&str, Awaiting)> {
        set.items
            .iter()
            .map(|p| (p.id.as_str(), p.awaiting))
            .collect()
    }

    #[test]
    fn cloud_calls_wait_only_for_confirmations_and_custom_results() {
        let mut set = PendingSet::new(false);
        set.observe(1, &tool_use("sevt_a", "allow"));
        set.observe(2, &tool_use("sevt_b", "ask"));
        set.observe(3, &tool_use("sevt_d", "deny"));
        set.observe(
            4,
            &event(
                serde_json::json!({"type": "agent.custom_tool_use", "id": "sevt_e",
                "name": "weather", "input": {}, "processed_at": "2026-01-01T00:00:00Z"}),
            ),
        );
        assert_eq!(
            ids(&set),
            [
                ("sevt_b", Awaiting::Confirmation),
                ("sevt_e", Awaiting::Result)
            ]
        );
        set.observe(5, &confirm("sevt_b", "allow"));
        // A custom result for a toolset call settles nothing.
        set.observe(
            6,
            &event(
                serde_json::json!({"type": "user.custom_tool_result", "id": "sevt_f",
                "custom_tool_use_id": "sevt_b"}),
            ),
        );
        assert_eq!(ids(&set), [("sevt_e", Awaiting::Result)]);
        set.observe(
            7,
            &event(
                serde_json::json!({"type": "user.custom_tool_result", "id": "sevt_g",
                "custom_tool_use_id": "sevt_e"}),
            ),
        );
        assert!(set.into_vec().is_empty());
    }

    #[test]
    fn self_hosted_calls_wait_for_worker_results() {
        let mut set = PendingSet::new(true);
        set.observe(1, &tool_use("sevt_a", "allow"));
        set.observe(2, &tool_use("sevt_b", "ask"));
        set.observe(3, &tool_use("sevt_c", "ask"));
        set.observe(4, &confirm("sevt_b", "allow"));
        set.observe(5, &confirm("sevt_c", "deny"));
        assert_eq!(
            ids(&set),
            [("sevt_a", Awaiting::Result), ("sevt_b", Awaiting::Result)]
        );
        set.observe(
            6,
            &event(
                serde_json::json!({"type": "user.tool_result", "id": "sevt_r",
                "tool_use_id": "sevt_a"}),
            ),
        );
        set.observe(
            7,
            &event(
                serde_json::json!({"type": "agent.tool_result", "id": "sevt_s",
                "tool_use_id": "sevt_b", "processed_at": "2026-01-01T00:00:00Z"}),
            ),
        );
        assert!(set.into_vec().is_empty());
    }
}
