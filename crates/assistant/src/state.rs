//! The state file (`state.json`): the IDs of what `steward setup` and `steward user add` created,
//! so that every later command reuses them.
//!
//! IDs belong to one API, so the file keeps one [`BackendState`] per backend: `embedded` for the
//! in-process platform, the base URL for a hosted or self-run API. Switching between them never
//! mixes IDs. The file is written whole to a temporary file and renamed over the old one, so an
//! interrupted write leaves the previous state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use steward_core::{AgentId, EnvironmentId, MemoryStoreId, VaultId};

use crate::error::UserError;

/// The version of the file's shape.
pub const STATE_VERSION: u32 = 1;

/// What the state file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The file's shape version ([`STATE_VERSION`]).
    #[serde(default)]
    pub version: u32,
    /// Per backend key (`embedded`, or a base URL).
    #[serde(default)]
    pub backends: BTreeMap<String, BackendState>,
}

/// The IDs kept for one backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendState {
    /// The environment sessions run in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<EnvironmentId>,
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// The shared read-only store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_store_id: Option<MemoryStoreId>,
    /// Users by name.
    #[serde(default)]
    pub users: BTreeMap<String, UserState>,
}

/// The IDs kept for one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    /// The user's read-write memory store.
    pub memory_store_id: MemoryStoreId,
    /// The user's vault, once `steward vault create` made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<VaultId>,
}

/// The state file and its contents.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
    /// The contents.
    pub state: State,
}

impl StateFile {
    /// Reads the file; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<Self, UserError> {
        let state = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                UserError::failure(format!(
                    "the state file `{}` is damaged: {e}",
                    path.display()
                ))
                .hint("move it away; `steward setup` finds the agent and stores again")
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                version: STATE_VERSION,
                ..State::default()
            },
            Err(e) => {
                return Err(UserError::failure(format!(
                    "cannot read the state file `{}`: {e}",
                    path.display()
                )));
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            state,
        })
    }

    /// The state of one backend, created empty if needed.
    pub fn backend(&mut self, key: &str) -> &mut BackendState {
        self.state.backends.entry(key.to_owned()).or_default()
    }

    /// Writes the file atomically (a temporary file renamed over the old one).
    pub fn save(&self) -> Result<(), UserError> {
        let fail = |e: std::io::Error| {
            UserError::failure(format!(
                "cannot write the state file `{}`: {e}",
                self.path.display()
            ))
        };
        let mut state = self.state.clone();
        state.version = STATE_VERSION;
        let mut bytes = serde_json::to_vec_pretty(&state)
            .map_err(|e| UserError::failure(format!("cannot encode the state: {e}")))?;
        bytes.push(b'\n');
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, &bytes).map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn round_trips_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut file = StateFile::load(&path).unwrap();
        assert_eq!(file.state.backends.len(), 0);
        let backend = file.backend("embedded");
        backend.agent_id = Some(AgentId::new("agent_1"));
        backend.users.insert(
            "alice".into(),
            UserState {
                memory_store_id: MemoryStoreId::new("memstore_1"),
                vault_id: None,
            },
        );
        file.save().unwrap();
        let again = StateFile::load(&path).unwrap();
        assert_eq!(again.state, file.state);
        assert_eq!(again.state.version, STATE_VERSION);
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{").unwrap();
        let error = StateFile::load(&path).unwrap_err();
        assert!(error.message.contains("is damaged"), "{error}");
    }
}
