//! The SQLite database: connections, transactions, and running blocking work off the async threads.
//!
//! One file, `<data_dir>/platform.db`, in WAL mode with `synchronous=FULL` (every commit is
//! durable once the request returns, also across power loss; the cost is one fsync of the WAL
//! per write request, which is negligible at the scale of a local server), `foreign_keys=ON`
//! and a 5 s `busy_timeout` (the `keys create` command may write while a server runs).
//!
//! [`Db::write`] runs a closure in one `IMMEDIATE` transaction on the single writer connection:
//! it commits when the closure returns `Ok` and rolls back on `Err`, so a failed request changes
//! nothing. Handlers do all the writes of one request inside one `write` call. [`Db::read`] runs
//! a closure in a read transaction (one consistent snapshot) on a pooled reader connection, so
//! reads never wait for writes. Both run on tokio's blocking pool (`spawn_blocking`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{Error, Result, StartError};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "platform.db";

/// How long a connection waits for another writer (another process) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reader connections kept open between requests.
const MAX_IDLE_READERS: usize = 8;

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Db {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Self, StartError> {
        let path = data_dir.join(DB_FILE);
        let mut writer = Connection::open(&path)?;
        // WAL is a property of the file; setting it once on the writer is enough.
        writer.pragma_update(None, "journal_mode", "WAL")?;
        configure(&writer)?;
        crate::migrations::run(&mut writer)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one write transaction, off the async threads. Commits on `Ok`, rolls back on
    /// `Err` (or a panic).
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f)).await?
    }

    /// Runs `f` in one read transaction (a consistent snapshot), off the async threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f)).await?
    }

    /// [`Db::write`] on the current thread, for code that is not async (start-up, the CLI).
    pub fn write_blocking<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// [`Db::read`] on the current thread.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.take_reader()?;
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let value = f(&tx)?;
            // Nothing to keep: a read transaction ends by dropping (rolling back).
            drop(tx);
            Ok(value)
        })();
        self.return_reader(conn);
        result
    }

    fn take_reader(&self) -> Result<Connection> {
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match pooled {
            Some(conn) => Ok(conn),
            None => {
                let conn = Connection::open_with_flags(
                    &self.inner.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&conn)?;
                Ok(conn)
            }
        }
    }

    fn return_reader(&self, conn: Connection) {
        let mut readers = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
    }
}

/// Per-connection settings.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Maps "no row" to `None`, like `rusqlite::OptionalExtension`, but into this crate's [`Error`].
pub fn optional<T>(result: rusqlite::Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(Error::from(e)),
    }
}

/// Reads a JSON text column into a value.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(Error::internal)
}

/// Serializes a value for a JSON text column.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

/// Reads the JSON `body` column of the row with this `id` in `table` (tables that follow the
/// `id` + `body` convention of [`crate::migrations`]). `table` must be a constant, never input.
pub fn load_body<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    table: &str,
    id: &str,
) -> Result<Option<T>> {
    let text = optional(conn.query_row(
        &format!("SELECT body FROM {table} WHERE id = ?1"),
        [id],
        |row| row.get::<_, String>(0),
    ))?;
    text.as_deref().map(from_json).transpose()
}
