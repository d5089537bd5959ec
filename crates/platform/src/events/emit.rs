//! Writing events: [`Emitter`] appends events inside a write transaction; [`set_status`] and
//! [`mark_processed`] change what is stored.
//!
//! A writer creates an [`Emitter`] for the session, calls [`Emitter::emit`] for each event
//! inside its `db.write` closure (with [`set_status`] and other changes of the same
//! transaction), returns the emitter from the closure, and hands it to
//! [`EventHub::publish`](super::EventHub::publish) once the write has committed: events are
//! stored before they are streamed, and a rolled-back transaction streams nothing.

use rusqlite::Connection;
use steward_core::event::SessionEvent;
use steward_core::session::{Session, SessionStatus};
use steward_core::{EventId, SessionId, Timestamp};

use crate::db::to_json;
use crate::error::{Error, Result};

/// The events one write transaction appends to one session's history, kept for publishing
/// once the transaction has committed ([`EventHub::publish`](super::EventHub::publish)).
#[derive(Debug)]
pub struct Emitter {
    session_id: SessionId,
    emitted: Vec<SessionEvent>,
}

impl Emitter {
    /// An emitter for one session, with nothing emitted yet.
    pub fn new(session_id: SessionId) -> Self {
        Self {
            session_id,
            emitted: Vec::new(),
        }
    }

    /// The session the events go to.
    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }

    /// Appends an event to the session's history and returns it as stored.
    ///
    /// The event's `id` is replaced by a fresh `sevt_` ID. Its `processed_at` is set to now,
    /// except on the echoes of client events whose `processed_at` may be `null`
    /// (`user.message`, `user.interrupt`, `user.tool_confirmation`, `user.custom_tool_result`,
    /// `user.tool_result`, `system.message`): those keep the value given (the events API stores
    /// them with `null`, and the engine sets it with [`mark_processed`]). Stream-only previews
    /// (`event_start`, `event_delta`) and unknown types cannot be stored.
    pub fn emit(&mut self, tx: &Connection, event: SessionEvent) -> Result<SessionEvent> {
        if event.is_stream_only() || event.is_unknown() {
            return Err(Error::internal(format!(
                "`{}` events cannot be stored",
                event.type_name()
            )));
        }
        let now = crate::clock::now();
        let keeps_processed_at = matches!(
            event,
            SessionEvent::UserMessage(_)
                | SessionEvent::UserInterrupt(_)
                | SessionEvent::UserToolConfirmation(_)
                | SessionEvent::UserCustomToolResult(_)
                | SessionEvent::UserToolResult(_)
                | SessionEvent::SystemMessage(_)
        );
        let mut value = serde_json::to_value(&event)?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| Error::internal("an event serializes to a JSON object"))?;
        let id: EventId = crate::ids::new_id(EventId::PREFIX);
        object.insert("id".to_owned(), id.as_str().into());
        if !keeps_processed_at {
            object.insert("processed_at".to_owned(), now.as_str().into());
        }
        let event: SessionEvent = serde_json::from_value(value)?;
        insert(tx, &self.session_id, &event, &now)?;
        self.emitted.push(event.clone());
        Ok(event)
    }

    /// The events emitted so far, in order.
    pub fn events(&self) -> impl ExactSizeIterator<Item = &SessionEvent> {
        self.emitted.iter()
    }

    /// Whether nothing was emitted.
    pub fn is_empty(&self) -> bool {
        self.emitted.is_empty()
    }

    /// The session and the events emitted.
    pub fn into_parts(self) -> (SessionId, Vec<SessionEvent>) {
        (self.session_id, self.emitted)
    }
}

/// Inserts one event row.
fn insert(
    tx: &Connection,
    session_id: &SessionId,
    event: &SessionEvent,
    created_at: &Timestamp,
) -> Result<()> {
    let id = event
        .raw_id()
        .ok_or_else(|| Error::internal("a stored event needs an `id`"))?;
    tx.execute(
        "INSERT INTO session_events (id, session_id, session_thread_id, type, created_at,
             processed_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            id,
            session_id.as_str(),
            event.session_thread_id().map(|t| t.as_str()),
            event.type_name(),
            created_at.as_str(),
            event.processed_at().map(Timestamp::as_str),
            to_json(event)?,
        ],
    )?;
    Ok(())
}

/// Sets a session's `status` (column and body) and `updated_at`; returns the session as saved.
/// The status events themselves are emitted by the caller. A 404 if the session does not exist.
///
/// The returned session is the stored one: the caller may change it further (usage, stats) and
/// save it with [`crate::sessions::save`] in the same transaction.
pub fn set_status(
    tx: &Connection,
    session_id: &SessionId,
    status: SessionStatus,
) -> Result<Session> {
    let mut session = crate::sessions::require(tx, session_id)?;
    if session.status != status {
        session.status = status;
        session.updated_at = crate::clock::now();
        crate::sessions::save(tx, &session)?;
    }
    Ok(session)
}

/// Marks a stored event processed now: sets `processed_at` in its row and body. Returns `false`
/// (and changes nothing) if no such event exists or it was already processed.
pub fn mark_processed(tx: &Connection, event_id: &EventId) -> Result<bool> {
    let now = crate::clock::now();
    let changed = tx.execute(
        "UPDATE session_events
         SET processed_at = ?2, body = json_set(body, '$.processed_at', ?2)
         WHERE id = ?1 AND processed_at IS NULL",
        rusqlite::params![event_id.as_str(), now.as_str()],
    )?;
    Ok(changed > 0)
}

#[cfg(test)]
mod tests {
    use steward_core::Page;

    use super::*;
    use crate::db::Db;
    use crate::events::store::{EVENT_LIMITS, EventQuery, list};
    use crate::pagination::PageRequest;

    fn db() -> (Db, tempfile::TempDir, SessionId) {
        crate::events::store::test_db()
    }

    fn event(json: serde_json::Value) -> SessionEvent {
        serde_json::from_value(json).unwrap()
    }

    fn page(db: &Db, session: &SessionId, query: &EventQuery) -> Page<SessionEvent> {
        let request = PageRequest::new(Some(1000), None, EVENT_LIMITS).unwrap();
        db.read_blocking(|conn| list(conn, session, query, &request))
            .unwrap()
    }

    #[test]
    fn emit_assigns_ids_and_processing_times() {
        let (db, _dir, session) = db();
        let (out, before, after) = db
            .write_blocking(|tx| {
                let mut out = Emitter::new(session.clone());
                let before = crate::clock::now();
                out.emit(
                    tx,
                    event(serde_json::json!({"type": "user.message", "id": "mine",
                        "content": [{"type": "text", "text": "hi"}], "processed_at": null})),
                )?;
                let after = crate::clock::now();
                out.emit(
                    tx,
                    event(serde_json::json!({"type": "agent.message", "id": "mine",
                        "content": [{"type": "text", "text": "hello"}],
                        "processed_at": "1999-01-01T00:00:00Z"})),
                )?;
                Ok((out, before, after))
            })
            .unwrap();
        let events: Vec<SessionEvent> = out.events().cloned().collect();
        let user = serde_json::to_value(&events[0]).unwrap();
        let agent = serde_json::to_value(&events[1]).unwrap();
        assert!(user["id"].as_str().unwrap().starts_with("sevt_"));
        assert_ne!(user["id"], agent["id"]);
        assert_eq!(user["processed_at"], serde_json::Value::Null);
        assert!(agent["processed_at"].as_str().unwrap() > after.as_str());
        assert_eq!(page(&db, &session, &EventQuery::default()).data, events);

        // A message not processed yet is filtered by the time it was stored.
        let bounded = |gte: Option<&Timestamp>, lt: Option<&Timestamp>| {
            let query = EventQuery {
                created_at_gte: gte.cloned(),
                created_at_lt: lt.cloned(),
                ..EventQuery::default()
            };
            page(&db, &session, &query).data
        };
        assert_eq!(bounded(Some(&before), Some(&after)), events[..1]);
        assert_eq!(bounded(Some(&after), None), events[1..]);

        // Processing sets `processed_at` in place, once; the filter then uses it.
        let id = events[0].id().unwrap().clone();
        assert!(db.write_blocking(|tx| mark_processed(tx, &id)).unwrap());
        assert!(!db.write_blocking(|tx| mark_processed(tx, &id)).unwrap());
        let stored = page(&db, &session, &EventQuery::default()).data;
        let processed = serde_json::to_string(&stored[0]).unwrap();
        assert!(
            processed.starts_with(&format!(
                r#"{{"type":"user.message","id":"{id}","content":[{{"type":"text","text":"hi"}}],"processed_at":"20"#
            )),
            "{processed}"
        );
        assert!(bounded(Some(&before), Some(&after)).is_empty());
        let types = EventQuery {
            types: vec!["agent.message".into()],
            descending: true,
            ..EventQuery::default()
        };
        assert_eq!(page(&db, &session, &types).data, events[1..]);
    }

    #[test]
    fn previews_and_unknown_types_are_not_stored() {
        let (db, _dir, session) = db();
        for json in [
            serde_json::json!({"type": "event_start", "event": {"type": "agent.message", "id": "x"}}),
            serde_json::json!({"type": "agent.hologram", "id": "x"}),
        ] {
            let result =
                db.write_blocking(|tx| Emitter::new(session.clone()).emit(tx, event(json)));
            assert!(result.is_err());
        }
        assert!(page(&db, &session, &EventQuery::default()).data.is_empty());
    }
}
