//! [`Transcript`]: every event of a run, rendered as stable text for snapshot tests.
//!
//! IDs and timestamps change from run to run; the rendering replaces them with placeholders so
//! that a run of a deterministic agent renders the same text every time:
//!
//! * an ID (the value of an `id` or `…_id` key, an element of an `…_ids` array, or a token with
//!   a known ID prefix such as `sesn_…` inside any string) becomes `<kind-n>`, numbered per kind
//!   in order of appearance: `sevt_…` → `<event-1>`, `<event-2>`, …; `sesn_…` → `<session-1>`;
//!   `sthr_…` → `<thread-1>`; an ID without a known prefix → `<id-1>`. The same ID always gets
//!   the same placeholder, wherever it appears;
//! * a timestamp (a string that parses as RFC 3339) becomes `<timestamp>`;
//! * `processed_at` is left out, and so is any key passed to [`Transcript::redact`] (its value
//!   becomes `<redacted>`), for values that vary between runs such as `active_seconds`.
//!
//! One event per line: `<event-3> agent.custom_tool_use name="get_weather" input={"city":"Lisbon"}`,
//! the fields in wire order as compact JSON.
//!
//! ```
//! use steward_core::event::SessionEvent;
//! use steward_runtime::runner::Transcript;
//!
//! let transcript = Transcript::new();
//! let event: SessionEvent = serde_json::from_str(
//!     r#"{"type":"agent.message","id":"sevt_01ABCDEFGH","processed_at":"2026-04-01T00:00:00Z",
//!        "content":[{"type":"text","text":"done at 2026-04-01T00:00:01Z"}]}"#,
//! ).unwrap();
//! transcript.record(&event);
//! assert_eq!(
//!     transcript.render(),
//!     "<event-1> agent.message content=[{\"type\":\"text\",\"text\":\"done at 2026-04-01T00:00:01Z\"}]\n"
//! );
//! ```
//!
//! (A timestamp is replaced only when it is a whole string value.)

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use steward_core::Timestamp;
use steward_core::event::SessionEvent;

/// Known ID prefixes and their placeholder kinds, longest prefix first where one is a prefix of
/// another (`memstore_` before `mem_`).
const KINDS: &[(&str, &str)] = &[
    ("sevt_", "event"),
    ("sesn_", "session"),
    ("sesrsc_", "resource"),
    ("sthr_", "thread"),
    ("agent_", "agent"),
    ("env_", "environment"),
    ("work_", "work"),
    ("outc_", "outcome"),
    ("memstore_", "memory-store"),
    ("memver_", "memory-version"),
    ("mem_", "memory"),
    ("vlt_", "vault"),
    ("vcrd_", "credential"),
    ("file_", "file"),
    ("wrkspc_", "workspace"),
    ("apikey_", "api-key"),
    ("svac_", "service-account"),
    ("user_", "user"),
];

/// The shortest tail after a known prefix for a token inside free text to count as an ID.
const MIN_TAIL: usize = 8;

/// A recorder of session events; cheap to clone (clones share the recording).
///
/// The [`SessionRunner`](super::SessionRunner) records into one when a turn is given it
/// ([`TurnBuilder::transcript`](super::TurnBuilder::transcript)): the history it read when it
/// attached, then every event it received, each once.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    events: Vec<SessionEvent>,
    ids: HashSet<String>,
    redacted: BTreeSet<String>,
    skipped: BTreeSet<String>,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renders the value of `key` (at any depth) as `<redacted>`. Like
    /// [`skip_type`](Self::skip_type), it applies to every clone.
    #[must_use]
    pub fn redact(self, key: impl Into<String>) -> Self {
        self.lock().redacted.insert(key.into());
        self
    }

    /// Leaves events of this type out of the rendering (they are still recorded), for events
    /// whose timing varies, such as `session.usage`.
    #[must_use]
    pub fn skip_type(self, event_type: impl Into<String>) -> Self {
        self.lock().skipped.insert(event_type.into());
        self
    }

    /// Records an event; an event whose ID was recorded before is ignored.
    pub fn record(&self, event: &SessionEvent) {
        let mut inner = self.lock();
        if let Some(id) = event.raw_id() {
            if !inner.ids.insert(id.to_owned()) {
                return;
            }
        }
        inner.events.push(event.clone());
    }

    /// The recorded events, in order.
    pub fn events(&self) -> Vec<SessionEvent> {
        self.lock().events.clone()
    }

    /// How many events were recorded.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stable text form (see the [module docs](self)).
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut names = Names::default();
        let mut out = String::new();
        for event in &inner.events {
            let Ok(Value::Object(mut fields)) = serde_json::to_value(event) else {
                continue;
            };
            let kind = fields
                .shift_remove("type")
                .and_then(|t| t.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".to_owned());
            if inner.skipped.contains(&kind) {
                continue;
            }
            fields.shift_remove("processed_at");
            let id = match fields.shift_remove("id") {
                Some(Value::String(id)) => names.name(&id),
                _ => "-".to_owned(),
            };
            let _ = write!(out, "{id} {kind}");
            for (key, mut value) in fields {
                normalize(&key, &mut value, &mut names, &inner.redacted);
                let _ = write!(out, " {key}={value}");
            }
            out.push('\n');
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Placeholders handed out so far.
#[derive(Debug, Default)]
struct Names {
    by_id: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
    /// Known IDs, longest first, for replacement inside strings.
    known: Vec<String>,
}

impl Names {
    fn name(&mut self, id: &str) -> String {
        if let Some(name) = self.by_id.get(id) {
            return name.clone();
        }
        let kind = KINDS
            .iter()
            .find(|(prefix, _)| id.starts_with(prefix))
            .map_or("id", |(_, kind)| kind);
        let n = self.counts.entry(kind).or_default();
        *n += 1;
        let name = format!("<{kind}-{n}>");
        self.by_id.insert(id.to_owned(), name.clone());
        let at = self.known.partition_point(|k| k.len() >= id.len());
        self.known.insert(at, id.to_owned());
        name
    }

    /// Replaces known IDs and prefixed ID tokens inside free text.
    fn replace_in(&mut self, text: &str) -> String {
        // Learn the prefixed tokens first, in order of appearance.
        for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            let is_id = KINDS.iter().any(|(prefix, _)| {
                token
                    .strip_prefix(prefix)
                    .is_some_and(|tail| tail.len() >= MIN_TAIL)
            });
            if is_id {
                self.name(token);
            }
        }
        let mut out = text.to_owned();
        for id in &self.known {
            if out.contains(id.as_str()) {
                out = out.replace(id.as_str(), &self.by_id[id]);
            }
        }
        out
    }
}

fn is_id_key(key: &str) -> bool {
    key == "id" || key.ends_with("_id")
}

/// Normalises a value found under `key`.
fn normalize(key: &str, value: &mut Value, names: &mut Names, redacted: &BTreeSet<String>) {
    if redacted.contains(key) {
        *value = Value::String("<redacted>".to_owned());
        return;
    }
    match value {
        Value::String(s) => {
            if is_id_key(key) {
                *s = names.name(s);
            } else if Timestamp::new(s.as_str()).to_datetime().is_some() {
                *s = "<timestamp>".to_owned();
            } else {
                *s = names.replace_in(s);
            }
        }
        Value::Array(items) => {
            let ids = key.ends_with("_ids");
            for item in items {
                match item {
                    Value::String(s) if ids => *s = names.name(s),
                    other => normalize("", other, names, redacted),
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                normalize(k, v, names, redacted);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(value: Value) -> SessionEvent {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn ids_are_numbered_per_kind_in_order_and_reused() {
        let t = Transcript::new().redact("active_seconds");
        t.record(&event(json!({
            "type": "agent.custom_tool_use", "id": "sevt_AAAAAAAAAAAA",
            "processed_at": "2026-04-01T00:00:00Z", "name": "get_weather",
            "input": {"city": "Lisbon", "note": "for sesn_QQQQQQQQQQQQ at 2026-04-01T00:00:00Z"},
            "session_thread_id": "sthr_ZZZZZZZZZZZZ"
        })));
        t.record(&event(json!({
            "type": "session.status_idle", "id": "sevt_BBBBBBBBBBBB",
            "processed_at": "2026-04-01T00:00:01Z",
            "stop_reason": {"type": "requires_action", "event_ids": ["sevt_AAAAAAAAAAAA"]},
            "stop_details": null
        })));
        // A repeat is ignored.
        t.record(&event(json!({
            "type": "session.status_idle", "id": "sevt_BBBBBBBBBBBB",
            "processed_at": "2026-04-01T00:00:01Z",
            "stop_reason": {"type": "end_turn"}, "stop_details": null
        })));
        t.record(&event(json!({
            "type": "user.custom_tool_result", "id": "x1",
            "custom_tool_use_id": "sevt_AAAAAAAAAAAA",
            "content": [{"type": "text", "text": "see sevt_AAAAAAAAAAAA"}],
            "is_error": false, "processed_at": null
        })));
        t.record(&event(json!({
            "type": "session.usage", "id": "sevt_CCCCCCCCCCCC",
            "processed_at": "2026-04-01T00:00:02Z",
            "usage": {"input_tokens": 5, "active_seconds": 1.25}
        })));
        assert_eq!(t.len(), 4);
        insta::assert_snapshot!(t.render(), @r#"
        <event-1> agent.custom_tool_use input={"city":"Lisbon","note":"for <session-1> at 2026-04-01T00:00:00Z"} name="get_weather" session_thread_id="<thread-1>"
        <event-2> session.status_idle stop_details=null stop_reason={"type":"requires_action","event_ids":["<event-1>"]}
        <id-1> user.custom_tool_result custom_tool_use_id="<event-1>" content=[{"type":"text","text":"see <event-1>"}] is_error=false
        <event-3> session.usage usage={"active_seconds":"<redacted>","input_tokens":5}
        "#);
        let skipped = t.skip_type("session.usage");
        assert_eq!(skipped.render().lines().count(), 3);
    }

    #[test]
    fn whole_timestamps_are_replaced() {
        let mut names = Names::default();
        let mut value = json!({"created_at": "2026-04-01T10:00:00.123Z", "t": "x"});
        normalize("", &mut value, &mut names, &BTreeSet::new());
        assert_eq!(value, json!({"created_at": "<timestamp>", "t": "x"}));
    }
}
