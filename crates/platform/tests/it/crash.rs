//! Crash safety of the real binary: memory writes are streamed at `steward-platform serve`, the
//! process is SIGKILLed at a random moment, and after a restart on the same data directory every
//! acknowledged write is there, nothing is half-written and SQLite's integrity check passes.
//!
//! The kill points come from a seed printed in every failure message; set
//! `STEWARD_CRASH_SEED=<seed>` to replay one.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Kill/restart rounds on one data directory.
const ROUNDS: usize = 5;

/// The binary, running; killed (SIGKILL) when dropped.
struct Server {
    child: Arc<Mutex<Child>>,
    base_url: String,
    key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(dir: &Path, seed: u64) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_steward-platform"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Arc::new(Mutex::new(child));
    let base_url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "seed {seed}: the platform did not come up"
        );
        if let Some(status) = child.lock().unwrap().try_wait().unwrap() {
            panic!("seed {seed}: the platform exited early: {status}");
        }
        if let Ok(key) = std::fs::read_to_string(dir.join("api_key")) {
            let key = key.trim().to_owned();
            let client = crate::support::client_with_key(&key);
            if let Ok(response) = client
                .get(format!("{base_url}/v1/memory_stores"))
                .send()
                .await
                && response.status() == 200
            {
                return Server {
                    child,
                    base_url,
                    key,
                };
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What the test knows was acknowledged.
#[derive(Default)]
struct Ledger {
    /// Memory ID → (path, last acknowledged version ID, its content).
    memories: BTreeMap<String, (String, String, String)>,
    /// Every acknowledged version: ID → (memory ID, content).
    versions: BTreeMap<String, (String, String)>,
    next_path: usize,
}

/// A write sent and not acknowledged when the process died: it may or may not have happened.
enum InFlight {
    Create { path: String },
    Update { memory_id: String, content: String },
}

async fn stream_writes(
    server: &Server,
    store: &str,
    ledger: &mut Ledger,
    rng: &mut StdRng,
    seed: u64,
) -> Option<InFlight> {
    let client = crate::support::client_with_key(&server.key);
    let memories_url = format!("{}/v1/memory_stores/{store}/memories", server.base_url);
    for _ in 0..5000 {
        let size = rng.random_range(0..3000);
        let fill = char::from(b'a' + rng.random_range(0..26u8));
        let content = format!(
            "{}:{}",
            ledger.versions.len(),
            fill.to_string().repeat(size)
        );
        let update = !ledger.memories.is_empty() && rng.random_bool(0.6);
        let (url, body, in_flight) = if update {
            let index = rng.random_range(0..ledger.memories.len());
            let memory_id = ledger.memories.keys().nth(index).unwrap().clone();
            (
                format!("{memories_url}/{memory_id}"),
                json!({"content": content}),
                InFlight::Update {
                    memory_id,
                    content: content.clone(),
                },
            )
        } else {
            ledger.next_path += 1;
            let path = format!("/crash/{:05}.md", ledger.next_path);
            (
                memories_url.clone(),
                json!({"path": path, "content": content}),
                InFlight::Create { path },
            )
        };
        let response = match client.post(&url).json(&body).send().await {
            Ok(response) => response,
            Err(_) => return Some(in_flight),
        };
        let status = response.status().as_u16();
        let Ok(memory) = response.json::<Value>().await else {
            // Killed between the status line and the body: acknowledged or not, the write
            // may have happened; treat it as in flight.
            return Some(in_flight);
        };
        assert_eq!(status, 200, "seed {seed}: {url}: {memory}");
        let id = memory["id"].as_str().unwrap().to_owned();
        let version = memory["memory_version_id"].as_str().unwrap().to_owned();
        assert_eq!(
            memory["content_sha256"],
            sha256_hex(&content),
            "seed {seed}"
        );
        let path = memory["path"].as_str().unwrap().to_owned();
        ledger
            .memories
            .insert(id.clone(), (path, version.clone(), content.clone()));
        ledger.versions.insert(version, (id, content));
    }
    None
}

/// Checks the database file directly (the process is dead).
/// Returns what each memory holds: ID → (path, version ID, content).
fn check_database(
    db_path: &PathBuf,
    ledger: &Ledger,
    in_flight: Option<&InFlight>,
    seed: u64,
) -> BTreeMap<String, (String, String, String)> {
    let conn = Connection::open_with_flags(db_path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "seed {seed}");

    // Every memory points at a version of itself with the same digest and size, and that
    // version is its newest: no write half-applied.
    let mut stmt = conn
        .prepare(
            "SELECT m.id, m.path, m.content_sha256, m.content_size_bytes, v.memory_id, \
             v.content_sha256, v.content, \
             (SELECT id FROM memory_versions WHERE memory_id = m.id \
              ORDER BY created_at DESC, id DESC LIMIT 1) \
             FROM memories m LEFT JOIN memory_versions v ON v.id = m.version_id",
        )
        .unwrap();
    type Row = (
        String,
        String,
        String,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut unknown = 0;
    let mut current = BTreeMap::new();
    for (id, path, sha, size, version_memory, version_sha, content, newest) in rows {
        let content = content.unwrap_or_else(|| panic!("seed {seed}: {id} has no version"));
        assert_eq!(version_memory.as_deref(), Some(id.as_str()), "seed {seed}");
        assert_eq!(
            version_sha.as_deref(),
            Some(sha.as_str()),
            "seed {seed}: {id}"
        );
        assert_eq!(sha256_hex(&content), sha, "seed {seed}: {id}");
        assert_eq!(usize::try_from(size).unwrap(), content.len(), "seed {seed}");
        let version: String = conn
            .query_row(
                "SELECT version_id FROM memories WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            newest.as_ref(),
            Some(&version),
            "seed {seed}: {id}'s version is not its newest"
        );
        current.insert(id.clone(), (path.clone(), version, content));
        if !ledger.memories.contains_key(&id) {
            unknown += 1;
            let Some(InFlight::Create { path: sent, .. }) = in_flight else {
                panic!("seed {seed}: memory {id} at {path} was never written");
            };
            assert_eq!(&path, sent, "seed {seed}");
        }
    }
    assert!(unknown <= 1, "seed {seed}: {unknown} unknown memories");

    // Every acknowledged version is there, with its content.
    for (version, (memory_id, content)) in &ledger.versions {
        let (stored_memory, stored): (String, String) = conn
            .query_row(
                "SELECT memory_id, content FROM memory_versions WHERE id = ?1",
                [version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("seed {seed}: acknowledged {version} is gone: {e}"));
        assert_eq!(&stored_memory, memory_id, "seed {seed}");
        assert_eq!(&stored, content, "seed {seed}: {version}");
    }
    // No version beyond the acknowledged ones and at most the one in flight.
    let versions: i64 = conn
        .query_row("SELECT COUNT(*) FROM memory_versions", [], |r| r.get(0))
        .unwrap();
    let versions = usize::try_from(versions).unwrap();
    let acknowledged = ledger.versions.len();
    assert!(
        versions == acknowledged || (versions == acknowledged + 1 && in_flight.is_some()),
        "seed {seed}: {versions} versions for {acknowledged} acknowledged writes"
    );

    // Each acknowledged memory holds its last acknowledged content, or the in-flight update's.
    for (id, (_, _, content)) in &ledger.memories {
        let (_, _, stored) = current
            .get(id)
            .unwrap_or_else(|| panic!("seed {seed}: acknowledged memory {id} is gone"));
        let in_flight_here = matches!(
            in_flight,
            Some(InFlight::Update { memory_id, content: sent }) if memory_id == id && sent == stored
        );
        assert!(
            stored == content || in_flight_here,
            "seed {seed}: {id} holds neither its acknowledged nor its in-flight content"
        );
    }
    current
}

/// Brings the ledger in line with what the database holds (the in-flight write may have
/// landed), then checks every memory through the restarted server's API.
async fn reconcile(
    server: &Server,
    store: &str,
    current: BTreeMap<String, (String, String, String)>,
    ledger: &mut Ledger,
    seed: u64,
) {
    let client = crate::support::client_with_key(&server.key);
    for (id, (path, version, content)) in current {
        let url = format!("{}/v1/memory_stores/{store}/memories/{id}", server.base_url);
        let memory: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            memory["memory_version_id"],
            version.as_str(),
            "seed {seed}: {memory}"
        );
        assert_eq!(
            memory["content_sha256"],
            sha256_hex(&content),
            "seed {seed}"
        );
        assert_eq!(memory["content"], content.as_str(), "seed {seed}: {id}");
        ledger
            .versions
            .insert(version.clone(), (id.clone(), content.clone()));
        ledger.memories.insert(id, (path, version, content));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_memory_writes_survive_sigkill() {
    let seed: u64 = std::env::var("STEWARD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("platform.db");
    let mut ledger = Ledger::default();

    let server = start(dir.path(), seed).await;
    let client = crate::support::client_with_key(&server.key);
    let store: Value = client
        .post(format!("{}/v1/memory_stores", server.base_url))
        .json(&json!({"name": "crash"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let store = store["id"].as_str().unwrap().to_owned();
    let mut server = Some(server);

    for round in 0..ROUNDS {
        let running = server.take().unwrap();
        let delay = Duration::from_millis(rng.random_range(30..400));
        let child = running.child.clone();
        let killer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut child = child.lock().unwrap();
            child.kill().unwrap();
            child.wait().unwrap();
        });
        let in_flight = stream_writes(&running, &store, &mut ledger, &mut rng, seed).await;
        assert!(
            in_flight.is_some(),
            "seed {seed}: round {round}: 5000 writes finished before the kill"
        );
        killer.await.unwrap();
        drop(running);

        let current = check_database(&db_path, &ledger, in_flight.as_ref(), seed);
        let restarted = start(dir.path(), seed).await;
        reconcile(&restarted, &store, current, &mut ledger, seed).await;
        server = Some(restarted);
    }
    assert!(
        ledger.versions.len() > ROUNDS,
        "seed {seed}: too few writes were acknowledged to mean anything"
    );
}
