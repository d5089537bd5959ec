//! Memory stores mounted into a session as directories of files.
//!
//! Each memory store attached to the session appears at its resource's `mount_path`
//! (`/mnt/memory/<store-name>`); the memory at path `/a/b.md` is the file
//! `/mnt/memory/<store-name>/a/b.md`. Directories are implicit: a directory exists while a
//! memory lies below it. Nothing is copied to disk: reads list and read the store's memories in
//! SQLite, and every change a file tool makes is one call to the memory module's write path
//! ([`crate::memory::write_memory`]), recorded as one memory version whose actor is
//! `session_actor {session_id}`.
//!
//! **Lost updates.** The session remembers the `content_sha256` of what its tools last read or
//! wrote at each path (the [`Ledger`], kept for the life of the process). A `write` over a
//! memory the session has read sends that hash as the precondition, so a change made meanwhile
//! by another session (or the API) is never overwritten unseen: the write fails with a tool
//! error telling the agent to read again. A `write` to a path the session has not read is a
//! plain overwrite, as on a file system. An `edit` reads the memory and writes the result with
//! the hash of what it read; on a conflict it reads again and applies the edit once more, and
//! if that conflicts too it returns a tool error. **Read-only** mounts refuse `write` and
//! `edit` before anything is written (`write: <p> is inside read-only directory <root>`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use steward_core::memory::{Actor, Memory, SessionActor};
use steward_core::resource::{MemoryStoreAccess, SessionResource, memory_store_mount_path};
use steward_core::{ErrorType, MemoryStoreId, SessionId};

use super::toolset::fs::is_within;
use crate::db::Db;
use crate::error::Error;

/// A memory store as the session sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// The store.
    pub(crate) store_id: MemoryStoreId,
    /// The store's name, as snapshotted when it was attached.
    pub(crate) name: String,
    /// The store's description (`""` when it has none).
    pub(crate) description: String,
    /// Guidance given with the attachment, if any.
    pub(crate) instructions: Option<String>,
    /// Where it is mounted, without a trailing `/` (`/mnt/memory/user-preferences`).
    pub(crate) path: String,
    /// Whether the session may only read it.
    pub(crate) read_only: bool,
}

impl Mount {
    /// The memory-store mounts among a session's resources, in attach order.
    pub(crate) fn from_resources(resources: &[SessionResource]) -> Vec<Self> {
        resources
            .iter()
            .filter_map(|resource| match resource {
                SessionResource::MemoryStore(store) => {
                    let name = store.name.value().cloned().unwrap_or_default();
                    let path = store
                        .mount_path
                        .value()
                        .cloned()
                        .unwrap_or_else(|| memory_store_mount_path(&name));
                    Some(Self {
                        store_id: store.memory_store_id.clone(),
                        description: store.description.clone().unwrap_or_default(),
                        instructions: store.instructions.value().cloned(),
                        path: path.trim_end_matches('/').to_owned(),
                        read_only: store.access.value() == Some(&MemoryStoreAccess::ReadOnly),
                        name,
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Whether a (normalised, virtual) path lies in this mount.
    pub(crate) fn contains(&self, virtual_path: &str) -> bool {
        is_within(&self.path, virtual_path)
    }

    /// The memory path of a virtual path inside the mount (`None` for the mount root).
    pub(crate) fn memory_path(&self, virtual_path: &str) -> Option<String> {
        let rest = virtual_path.get(self.path.len()..).unwrap_or("");
        (!rest.is_empty()).then(|| rest.to_owned())
    }

    /// The virtual path of a memory of this store.
    pub(crate) fn virtual_path(&self, memory_path: &str) -> String {
        format!("{}{memory_path}", self.path)
    }

    /// `"read_only"` or `"read_write"`, as the API spells the access.
    pub(crate) fn access(&self) -> &'static str {
        if self.read_only {
            MemoryStoreAccess::ReadOnly.as_str()
        } else {
            MemoryStoreAccess::ReadWrite.as_str()
        }
    }
}

/// The `content_sha256` each memory had when this session's tools last read or wrote it.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    seen: Mutex<HashMap<(MemoryStoreId, String), String>>,
}

impl Ledger {
    /// Remembers the hash of a memory as the session just saw it.
    pub(crate) fn record(&self, store: &MemoryStoreId, path: &str, sha256: &str) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((store.clone(), path.to_owned()), sha256.to_owned());
    }

    /// The hash the session last saw at a path, if it saw one.
    pub(crate) fn get(&self, store: &MemoryStoreId, path: &str) -> Option<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(store.clone(), path.to_owned()))
            .cloned()
    }
}

/// What a path in a mounted store is.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A memory (with its content).
    File(Box<Memory>),
    /// A directory: memories lie below it.
    Directory,
    /// Nothing.
    Missing,
}

/// A failed memory write, as the file tools report it.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The memory changed since the hash the write was based on.
    Changed,
    /// Any other refusal, worded for the agent (without the tool's prefix).
    Refused(String),
    /// A failure of the platform itself.
    Internal(Error),
}

/// The file tools' access to mounted stores, on behalf of one session.
#[derive(Clone)]
pub(crate) struct MemoryFiles {
    db: Db,
    actor: Actor,
    ledger: Arc<Ledger>,
    /// Tests: runs right before each write reaches the database (to stage a race).
    #[cfg(test)]
    pub(crate) before_write: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for MemoryFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryFiles")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl MemoryFiles {
    /// Access for `session`, remembering reads in `ledger`.
    pub(crate) fn new(db: Db, session: SessionId, ledger: Arc<Ledger>) -> Self {
        Self {
            db,
            actor: Actor::Session(SessionActor {
                session_id: session,
            }),
            ledger,
            #[cfg(test)]
            before_write: None,
        }
    }

    /// The ledger of hashes this session has seen.
    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// What is at `path` in the store (`None`: the mount root, a directory).
    pub(crate) async fn lookup(
        &self,
        store: &MemoryStoreId,
        path: Option<&str>,
    ) -> Result<Lookup, Error> {
        let Some(path) = path else {
            return Ok(Lookup::Directory);
        };
        let store = store.clone();
        let path = path.to_owned();
        self.db
            .read(move |conn| {
                if let Some(memory) = crate::memory::find_memory_by_path(conn, &store, &path)? {
                    return Ok(Lookup::File(Box::new(memory)));
                }
                let prefix = format!("{path}/");
                let below = crate::memory::memories_in_store(conn, &store)?
                    .iter()
                    .any(|memory| memory.path.starts_with(&prefix));
                Ok(if below {
                    Lookup::Directory
                } else {
                    Lookup::Missing
                })
            })
            .await
    }

    /// Every memory of the store with its content, in path order.
    pub(crate) async fn list(&self, store: &MemoryStoreId) -> Result<Vec<Memory>, Error> {
        let store = store.clone();
        self.db
            .read(move |conn| crate::memory::memories_in_store(conn, &store))
            .await
    }

    /// Writes `content` at `path` as one memory version by this session, with `expected` as
    /// the `content_sha256` precondition. Records the new hash in the ledger.
    pub(crate) async fn write(
        &self,
        store: &MemoryStoreId,
        path: &str,
        content: String,
        expected: Option<String>,
    ) -> Result<Memory, WriteError> {
        #[cfg(test)]
        if let Some(hook) = &self.before_write {
            hook();
        }
        let (store_id, memory_path, actor) = (store.clone(), path.to_owned(), self.actor.clone());
        let written = self
            .db
            .write(move |tx| {
                crate::memory::write_memory(
                    tx,
                    &store_id,
                    &memory_path,
                    &content,
                    &actor,
                    expected.as_deref(),
                )
            })
            .await;
        match written {
            Ok(memory) => {
                self.ledger.record(store, path, &memory.content_sha256);
                Ok(memory)
            }
            Err(error) => Err(classify(error, path)),
        }
    }
}

/// Words a refusal of the memory write path for the agent.
fn classify(error: Error, path: &str) -> WriteError {
    let body = error.body();
    match (&body.error_type, error.code()) {
        (ErrorType::MemoryPreconditionFailed, _) => WriteError::Changed,
        (ErrorType::MemoryPathConflict, _) => {
            let conflicting = body.conflicting_path.as_deref().unwrap_or("");
            if conflicting.starts_with(&format!("{path}/")) {
                WriteError::Refused("is a directory".to_owned())
            } else {
                WriteError::Refused("not a directory".to_owned())
            }
        }
        (_, Some("memory_store_full")) => WriteError::Refused(format!(
            "the memory store is full (it holds at most {} memories)",
            crate::memory::MAX_MEMORIES_PER_STORE
        )),
        (_, Some("memory_store_archived")) => {
            WriteError::Refused("the memory store is archived".to_owned())
        }
        (_, Some("invalid_memory_path")) => WriteError::Refused(format!(
            "not a valid memory path ({})",
            body.message
                .split_once(": ")
                .map_or(body.message.as_str(), |(_, why)| why)
        )),
        (_, Some("memory_content_too_large")) => WriteError::Refused(format!(
            "content is too large for a memory (at most {} bytes)",
            steward_core::memory::MEMORY_CONTENT_MAX_BYTES
        )),
        (ErrorType::NotFound, _) => {
            WriteError::Refused("the memory store no longer exists".to_owned())
        }
        _ => WriteError::Internal(error),
    }
}
