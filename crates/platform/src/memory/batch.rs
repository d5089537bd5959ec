//! Group commit for memory writes.
//!
//! The database is durable at every commit (`synchronous=FULL`): each commit waits for an fsync
//! of the WAL, a few hundred microseconds on common disks, which would cap memory writes at a few
//! thousand per second however many clients write. The [`Batcher`] lets concurrent writes share
//! a commit: writes queue on a channel; one task takes everything queued (up to
//! [`MAX_BATCH`]), runs each write in its own `SAVEPOINT` inside one [`Db::write`] transaction,
//! commits once, and only then answers each write. While a batch commits, the next one queues.
//!
//! Guarantees, the same as one transaction per write:
//! * A write that fails is rolled back to its savepoint: it changes nothing, and the other
//!   writes of its batch are unaffected.
//! * Writes run one after another on the single writer connection, so each sees every write
//!   before it (preconditions and conflict checks included) and none is lost.
//! * A write's answer is sent after its batch committed. If the commit itself fails, every
//!   write of the batch fails with a 500 and none of them is stored.

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::db::Db;
use crate::error::{Error, Result};

/// Most writes one transaction takes.
pub(super) const MAX_BATCH: usize = 256;

/// One queued write.
trait Job: Send {
    /// Runs the write in its own savepoint. An `Err` means the savepoint itself failed, and the
    /// whole batch must roll back.
    fn run(&mut self, conn: &Connection) -> Result<()>;

    /// Answers the writer (after the batch committed).
    fn finish(self: Box<Self>);
}

/// A write with its closure, result and answer channel.
struct Write<T, F> {
    work: Option<F>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> Result<()> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        conn.execute_batch("SAVEPOINT memory_write")?;
        let result = work(conn);
        if result.is_ok() {
            conn.execute_batch("RELEASE memory_write")?;
        } else {
            conn.execute_batch("ROLLBACK TO memory_write; RELEASE memory_write")?;
        }
        self.result = Some(result);
        Ok(())
    }

    fn finish(self: Box<Self>) {
        let this = *self;
        if let Some(result) = this.result {
            // The writer may have gone away (client disconnected); the write stands.
            let _ = this.reply.send(result);
        }
    }
}

/// Queues memory writes and commits them in batches. One per router; the committing task
/// starts with the first write and stops when the router is dropped.
#[derive(Debug, Default)]
pub(crate) struct Batcher {
    sender: std::sync::OnceLock<mpsc::UnboundedSender<Box<dyn Job>>>,
}

impl Batcher {
    /// Runs `work` in a savepoint of the next batch on `db` and returns its result once the
    /// batch committed. `work` must do all the writes of one request.
    pub(crate) async fn write<T, F>(&self, db: &Db, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Write {
            work: Some(work),
            result: None,
            reply,
        });
        let sender = self.sender.get_or_init(|| start(db.clone()));
        sender
            .send(job)
            .map_err(|_| Error::internal("the memory writer has stopped"))?;
        answer
            .await
            .map_err(|_| Error::internal("the memory write was not committed"))?
    }
}

/// Starts the committing task over `db`.
fn start(db: Db) -> mpsc::UnboundedSender<Box<dyn Job>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(commit_loop(db, receiver));
    sender
}

/// Takes everything queued, runs it in one transaction, answers, repeats.
async fn commit_loop(db: Db, mut receiver: mpsc::UnboundedReceiver<Box<dyn Job>>) {
    let mut queued = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut queued, MAX_BATCH).await > 0 {
        let batch = std::mem::take(&mut queued);
        let writes = batch.len();
        let committed = db
            .write(move |tx| {
                let mut batch = batch;
                for job in &mut batch {
                    job.run(tx)?;
                }
                Ok(batch)
            })
            .await;
        match committed {
            Ok(batch) => batch.into_iter().for_each(Job::finish),
            // The jobs were dropped with the failed transaction: their writers get a 500.
            Err(e) => tracing::error!(error = %e, writes, "a batch of memory writes failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn open() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        db.write_blocking(|tx| Ok(tx.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")?))
            .unwrap();
        (dir, db)
    }

    fn count(db: &Db) -> i64 {
        db.read_blocking(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_commit_and_failures_roll_back_alone() {
        let (_dir, db) = open();
        let batcher = Arc::new(Batcher::default());
        let mut tasks = Vec::new();
        for n in 0..200_i64 {
            let (batcher, db) = (batcher.clone(), db.clone());
            tasks.push(tokio::spawn(async move {
                batcher
                    .write(&db, move |conn| {
                        conn.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                        if n % 3 == 0 {
                            // Inserted, then refused: the savepoint must undo the insert.
                            return Err(Error::conflict(format!("refused {n}")));
                        }
                        Ok(n)
                    })
                    .await
            }));
        }
        let mut ok = 0;
        for (n, task) in tasks.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(got) => {
                    assert_eq!(got, n as i64);
                    ok += 1;
                }
                Err(e) => {
                    assert_eq!(n % 3, 0);
                    assert_eq!(e.body().message, format!("refused {n}"));
                }
            }
        }
        assert_eq!(ok, 133);
        assert_eq!(count(&db), 133);
    }

    #[tokio::test]
    async fn a_write_sees_the_writes_queued_before_it() {
        let (_dir, db) = open();
        let batcher = Batcher::default();
        let first = batcher.write(&db, |conn| {
            Ok(conn.execute("INSERT INTO t (n) VALUES (1)", [])?)
        });
        let second = batcher.write(&db, |conn| {
            Ok(conn.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?)
        });
        let (first, second) = tokio::join!(first, second);
        assert_eq!(first.unwrap(), 1);
        assert_eq!(second.unwrap(), 1);
    }
}
