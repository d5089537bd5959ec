//! The exactly-once ledger: what the runner knows about each tool call it has touched.
//!
//! Before a tool runs, the runner records the tool-use ID as [`CallState::Started`]; once the
//! tool returned, the result as [`CallState::Computed`]; once the server accepted the result,
//! [`CallState::Delivered`]. A call cancelled by a session-wide interrupt before it finished is
//! [`CallState::Abandoned`]. When the runner meets an unanswered tool use in the session's
//! history, the ledger decides what happens:
//!
//! | Ledger | The runner |
//! |---|---|
//! | nothing | runs the tool |
//! | `Started` | re-runs it if the tool is idempotent, else answers "outcome unknown" |
//! | `Computed` | sends the stored result again, without running the tool |
//! | `Delivered` | nothing (the result is on the server) |
//! | `Abandoned` | nothing (the call was interrupted) |
//!
//! Two ledgers ship: [`MemoryLedger`] (the default: survives reconnects, not restarts) and
//! [`FileLedger`] (an append-only JSON-lines file, synced to disk after each record, so a
//! restarted process picks up where the last one left). A `Delivered` record makes the entry
//! redundant (the session's history now holds the answer), so both drop it: the memory ledger at
//! once, the file ledger when it is next opened (compaction).
//!
//! A file ledger belongs to one process at a time: two processes appending to the same file
//! would each miss the other's records.

use std::collections::HashMap;
use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use steward_core::content::ContentBlock;
use steward_core::{EventId, SessionId};
use tokio::io::AsyncWriteExt;

/// Which call an entry is about: the session and the tool-use event ID (the call's idempotency
/// key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallKey {
    /// The session.
    pub session_id: SessionId,
    /// The `agent.custom_tool_use` (or `agent.tool_use`) event ID.
    pub tool_use_id: EventId,
}

impl CallKey {
    /// The key of `tool_use_id` in `session_id`.
    pub fn new(session_id: impl Into<SessionId>, tool_use_id: impl Into<EventId>) -> Self {
        Self {
            session_id: session_id.into(),
            tool_use_id: tool_use_id.into(),
        }
    }
}

/// A tool result as the ledger keeps it until it is delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResult {
    /// The content of the result event.
    pub content: Vec<ContentBlock>,
    /// Whether it is an error result.
    pub is_error: bool,
}

/// Where a call is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallState {
    /// The tool was about to run (and may have run, in part or in full).
    Started,
    /// The tool returned this result; it may not have reached the server.
    Computed {
        /// The result to send.
        result: StoredResult,
    },
    /// The server accepted the result.
    Delivered,
    /// A session-wide interrupt (or the session's end) cancelled the call before it finished;
    /// it is neither re-run nor answered.
    Abandoned,
}

/// One ledger entry: the tool's name and the call's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The tool's name.
    pub name: String,
    /// Where the call is.
    pub state: CallState,
}

/// Why a ledger could not read or record an entry.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Reading or writing the ledger file failed.
    #[error("ledger file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An entry could not be encoded.
    #[error("failed to encode a ledger entry")]
    Encode(#[source] serde_json::Error),
    /// A custom ledger failed.
    #[error("ledger failed: {0}")]
    Other(String),
}

/// Where the runner records tool calls; see the [module docs](self).
///
/// Implementations must make a record durable (as far as they promise durability) before
/// [`Ledger::record`] returns: the runner runs the tool right after recording `Started`.
#[async_trait::async_trait]
pub trait Ledger: Send + Sync + fmt::Debug {
    /// The entry of a call, if any.
    async fn get(&self, key: &CallKey) -> Result<Option<LedgerEntry>, LedgerError>;

    /// Records the call's new state (replacing the previous one).
    async fn record(&self, key: &CallKey, entry: &LedgerEntry) -> Result<(), LedgerError>;
}

/// The in-memory ledger: exactly once within a process (across reconnects and turns), nothing
/// across restarts.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    entries: Mutex<HashMap<CallKey, LedgerEntry>>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries it holds (delivered calls are dropped).
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl Ledger for MemoryLedger {
    async fn get(&self, key: &CallKey) -> Result<Option<LedgerEntry>, LedgerError> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(entries.get(key).cloned())
    }

    async fn record(&self, key: &CallKey, entry: &LedgerEntry) -> Result<(), LedgerError> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        apply(&mut entries, key.clone(), entry.clone());
        Ok(())
    }
}

/// Applies a record to an index: `Delivered` removes the entry.
fn apply(entries: &mut HashMap<CallKey, LedgerEntry>, key: CallKey, entry: LedgerEntry) {
    if entry.state == CallState::Delivered {
        entries.remove(&key);
    } else {
        entries.insert(key, entry);
    }
}

/// The state tag of a ledger line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Tag {
    Started,
    Computed,
    Delivered,
    Abandoned,
}

/// One line of the ledger file: a flat object, `result` only with `computed`.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    session_id: SessionId,
    tool_use_id: EventId,
    name: String,
    state: Tag,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<StoredResult>,
}

impl Line {
    fn new(key: &CallKey, entry: &LedgerEntry) -> Self {
        let (state, result) = match &entry.state {
            CallState::Started => (Tag::Started, None),
            CallState::Computed { result } => (Tag::Computed, Some(result.clone())),
            CallState::Delivered => (Tag::Delivered, None),
            CallState::Abandoned => (Tag::Abandoned, None),
        };
        Self {
            session_id: key.session_id.clone(),
            tool_use_id: key.tool_use_id.clone(),
            name: entry.name.clone(),
            state,
            result,
        }
    }

    /// The key and entry; `None` for a `computed` line without a result.
    fn into_entry(self) -> Option<(CallKey, LedgerEntry)> {
        let state = match (self.state, self.result) {
            (Tag::Started, _) => CallState::Started,
            (Tag::Computed, Some(result)) => CallState::Computed { result },
            (Tag::Computed, None) => return None,
            (Tag::Delivered, _) => CallState::Delivered,
            (Tag::Abandoned, _) => CallState::Abandoned,
        };
        Some((
            CallKey {
                session_id: self.session_id,
                tool_use_id: self.tool_use_id,
            },
            LedgerEntry {
                name: self.name,
                state,
            },
        ))
    }
}

/// A durable ledger: an append-only JSON-lines file, one record per line, each appended and
/// synced to disk before [`Ledger::record`] returns.
///
/// [`FileLedger::open`] reads the file (a torn last line, left by a crash in the middle of a
/// write, is skipped), drops the entries of delivered calls and rewrites the file with what is
/// left (to a temporary file, then renamed over it), so the file stays as small as the set of
/// open calls.
pub struct FileLedger {
    path: PathBuf,
    sync: bool,
    index: Mutex<HashMap<CallKey, LedgerEntry>>,
    file: tokio::sync::Mutex<tokio::fs::File>,
}

impl fmt::Debug for FileLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileLedger")
            .field("path", &self.path)
            .field("sync", &self.sync)
            .finish_non_exhaustive()
    }
}

impl FileLedger {
    /// Opens (or creates) the ledger at `path`, creating missing parent directories.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, LedgerError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| LedgerError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(e)),
        };
        let index = parse(&text, &path);

        // Compact: write the open entries to a temporary file and rename it over the ledger.
        let mut compacted = String::new();
        let mut keys: Vec<&CallKey> = index.keys().collect();
        keys.sort_by(|a, b| {
            (a.session_id.as_str(), a.tool_use_id.as_str())
                .cmp(&(b.session_id.as_str(), b.tool_use_id.as_str()))
        });
        for key in keys {
            let line = Line::new(key, &index[key]);
            compacted.push_str(&serde_json::to_string(&line).map_err(LedgerError::Encode)?);
            compacted.push('\n');
        }
        let tmp = path.with_extension("compact.tmp");
        {
            let mut file = tokio::fs::File::create(&tmp).await.map_err(io)?;
            file.write_all(compacted.as_bytes()).await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
        }
        tokio::fs::rename(&tmp, &path).await.map_err(io)?;

        let file = tokio::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .await
            .map_err(io)?;
        Ok(Self {
            path,
            sync: true,
            index: Mutex::new(index),
            file: tokio::sync::Mutex::new(file),
        })
    }

    /// Whether each record is synced to disk (`fdatasync`) before it counts as written
    /// (default `true`). Without it a power loss may lose the last records; a process crash
    /// does not.
    #[must_use]
    pub fn sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open entries (calls not delivered), for inspection.
    pub fn entries(&self) -> Vec<(CallKey, LedgerEntry)> {
        let index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        index.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Reads the ledger lines into an index; unreadable lines are skipped with a warning.
fn parse(text: &str, path: &Path) -> HashMap<CallKey, LedgerEntry> {
    let mut index = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(line).map(Line::into_entry) {
            Ok(Some((key, entry))) => apply(&mut index, key, entry),
            Ok(None) => {
                tracing::warn!(path = %path.display(), line = n + 1, "skipping a computed ledger line without a result");
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), line = n + 1, %error, "skipping an unreadable ledger line");
            }
        }
    }
    index
}

#[async_trait::async_trait]
impl Ledger for FileLedger {
    async fn get(&self, key: &CallKey) -> Result<Option<LedgerEntry>, LedgerError> {
        let index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(index.get(key).cloned())
    }

    async fn record(&self, key: &CallKey, entry: &LedgerEntry) -> Result<(), LedgerError> {
        let line = Line::new(key, entry);
        let mut bytes = serde_json::to_vec(&line).map_err(LedgerError::Encode)?;
        bytes.push(b'\n');
        let io = |source| LedgerError::Io {
            path: self.path.clone(),
            source,
        };
        {
            let mut file = self.file.lock().await;
            file.write_all(&bytes).await.map_err(io)?;
            file.flush().await.map_err(io)?;
            if self.sync {
                file.sync_data().await.map_err(io)?;
            }
        }
        let mut index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        apply(&mut index, key.clone(), entry.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn computed(text: &str) -> LedgerEntry {
        LedgerEntry {
            name: "t".into(),
            state: CallState::Computed {
                result: StoredResult {
                    content: vec![ContentBlock::text(text)],
                    is_error: false,
                },
            },
        }
    }

    #[tokio::test]
    async fn memory_ledger_forgets_delivered_calls() {
        let ledger = MemoryLedger::new();
        let key = CallKey::new("sesn_1", "sevt_1");
        let started = LedgerEntry {
            name: "t".into(),
            state: CallState::Started,
        };
        ledger.record(&key, &started).await.unwrap();
        assert_eq!(ledger.get(&key).await.unwrap(), Some(started));
        ledger.record(&key, &computed("x")).await.unwrap();
        assert_eq!(ledger.get(&key).await.unwrap(), Some(computed("x")));
        let delivered = LedgerEntry {
            name: "t".into(),
            state: CallState::Delivered,
        };
        ledger.record(&key, &delivered).await.unwrap();
        assert_eq!(ledger.get(&key).await.unwrap(), None);
        assert!(ledger.is_empty());
    }

    #[tokio::test]
    async fn file_ledger_survives_reopening_skips_a_torn_line_and_compacts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/ledger.jsonl");
        let a = CallKey::new("sesn_1", "sevt_a");
        let b = CallKey::new("sesn_1", "sevt_b");
        {
            let ledger = FileLedger::open(&path).await.unwrap();
            ledger.record(&a, &computed("42")).await.unwrap();
            ledger
                .record(
                    &b,
                    &LedgerEntry {
                        name: "t".into(),
                        state: CallState::Started,
                    },
                )
                .await
                .unwrap();
            ledger
                .record(
                    &b,
                    &LedgerEntry {
                        name: "t".into(),
                        state: CallState::Delivered,
                    },
                )
                .await
                .unwrap();
        }
        // A crash in the middle of a write leaves half a line.
        let mut text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        text.push_str("{\"session_id\":\"sesn_1\",\"tool_use_id\":\"sevt_c\",\"na");
        std::fs::write(&path, text).unwrap();

        let ledger = FileLedger::open(&path).await.unwrap();
        assert_eq!(ledger.get(&a).await.unwrap(), Some(computed("42")));
        assert_eq!(ledger.get(&b).await.unwrap(), None);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"session_id\":\"sesn_1\",\"tool_use_id\":\"sevt_a\",\"name\":\"t\",\"state\":\"computed\",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"42\"}],\"is_error\":false}}\n"
        );
    }
}
