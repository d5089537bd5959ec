//! Memory stores over HTTP on loopback: versioned write throughput, listing 10,000 memories,
//! and single-memory read latency.
//!
//! Run with `cargo bench -p steward-platform --bench memory` (add `-- --quick` for a short
//! run). The platform and its clients share one two-thread tokio runtime in this process, so
//! both cores serve and send. Targets: at least 5,000 versioned writes per second, and a p99
//! under 5 ms for single-memory reads.
//!
//! * `memory/create` and `memory/update`: [`WRITERS`] client tasks write concurrently; every
//!   request writes a memory version (creates at fresh paths; updates with fresh content).
//!   Criterion reports writes per second.
//! * `memory/list_10000_basic` and `memory/list_10000_full`: walk every page of five stores of
//!   2,000 memories each (a store holds at most 2,000), 10,000 memories in all; criterion
//!   reports memories per second and the time per full walk.
//! * `memory/read`: one retrieve (`view=full`, 1 KiB of content) after another; criterion
//!   reports the mean. A separate pass then times [`LATENCY_SAMPLES`] sequential reads and
//!   prints p50, p90, p99 and the maximum.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]
#![expect(
    clippy::print_stdout,
    reason = "the bench prints read-latency percentiles"
)]
#![expect(clippy::unwrap_used, reason = "a bench fails on any unexpected error")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use steward_core::MemoryStoreId;
use steward_core::memory::{Actor, ApiActor};
use steward_platform::{Platform, PlatformHandle};
use tokio::runtime::Runtime;

/// Concurrent client tasks in the write benches.
const WRITERS: u64 = 32;

/// Memories per store in the create bench (below the cap of 2,000).
const CREATES_PER_STORE: u64 = 1500;

/// Sequential reads timed for the percentiles.
const LATENCY_SAMPLES: usize = 5000;

/// A platform in a temporary directory and a client for it, on one runtime.
struct Env {
    runtime: Runtime,
    platform: PlatformHandle,
    client: reqwest::Client,
    /// Distinguishes the paths of successive create runs.
    run: AtomicU64,
    /// Makes every update's content new, so that each one writes a version.
    counter: Arc<AtomicU64>,
}

impl Env {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let platform = runtime
            .block_on(Platform::builder().start_ephemeral())
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {}", platform.api_key())).unwrap(),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        Self {
            runtime,
            platform,
            client,
            run: AtomicU64::new(0),
            counter: Arc::new(AtomicU64::new(0)),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.platform.base_url())
    }

    async fn post(client: &reqwest::Client, url: &str, body: &Value) -> Value {
        let response = client.post(url).json(body).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        response.json().await.unwrap()
    }

    async fn get(client: &reqwest::Client, url: &str) -> Value {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        response.json().await.unwrap()
    }

    async fn new_store(&self, name: &str) -> String {
        let store = Self::post(
            &self.client,
            &self.url("/v1/memory_stores"),
            &json!({"name": name}),
        )
        .await;
        store["id"].as_str().unwrap().to_owned()
    }

    /// `iters` creates, spread over [`WRITERS`] tasks; returns the time they took.
    async fn creates(&self, iters: u64) -> Duration {
        let run = self.run.fetch_add(1, Ordering::Relaxed);
        let mut stores = Vec::new();
        for _ in 0..iters.div_ceil(CREATES_PER_STORE) {
            stores.push(self.url(&format!(
                "/v1/memory_stores/{}/memories",
                self.new_store("bench-create").await
            )));
        }
        let stores = Arc::new(stores);
        let started = Instant::now();
        let tasks: Vec<_> = (0..WRITERS)
            .map(|task| {
                let (client, stores) = (self.client.clone(), stores.clone());
                tokio::spawn(async move {
                    let mut n = task;
                    while n < iters {
                        let url = &stores[usize::try_from(n / CREATES_PER_STORE).unwrap()];
                        let body = json!({"path": format!("/run{run}/m{n}.md"), "content": format!("memory {n} of run {run}")});
                        Self::post(&client, url, &body).await;
                        n += WRITERS;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        started.elapsed()
    }

    /// `iters` updates of [`WRITERS`] memories (one per task), each with new content.
    async fn updates(&self, memories: &Arc<Vec<String>>, iters: u64) -> Duration {
        let started = Instant::now();
        let tasks: Vec<_> = (0..WRITERS)
            .map(|task| {
                let (client, memories, counter) =
                    (self.client.clone(), memories.clone(), self.counter.clone());
                tokio::spawn(async move {
                    let url = &memories[usize::try_from(task).unwrap()];
                    let mut n = task;
                    while n < iters {
                        let version = counter.fetch_add(1, Ordering::Relaxed);
                        Self::post(
                            &client,
                            url,
                            &json!({"content": format!("content version {version}")}),
                        )
                        .await;
                        n += WRITERS;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        started.elapsed()
    }

    /// Walks every page of every store's memory list; returns the number of memories seen.
    async fn walk(&self, stores: &[String], query: &str) -> usize {
        let mut seen = 0;
        for store in stores {
            let base = self.url(&format!("/v1/memory_stores/{store}/memories?{query}"));
            let mut page = Self::get(&self.client, &base).await;
            loop {
                seen += page["data"].as_array().unwrap().len();
                match page["next_page"].as_str() {
                    Some(next) => {
                        page = Self::get(&self.client, &format!("{base}&page={next}")).await
                    }
                    None => break,
                }
            }
        }
        seen
    }
}

fn writes(c: &mut Criterion) {
    let env = Env::start();
    let memories = env.runtime.block_on(async {
        let store = env.new_store("bench-update").await;
        let url = env.url(&format!("/v1/memory_stores/{store}/memories"));
        let mut memories = Vec::new();
        for task in 0..WRITERS {
            let memory = Env::post(
                &env.client,
                &url,
                &json!({"path": format!("/task{task}.md"), "content": "start"}),
            )
            .await;
            memories.push(format!("{url}/{}", memory["id"].as_str().unwrap()));
        }
        Arc::new(memories)
    });
    let mut group = c.benchmark_group("memory");
    group.throughput(Throughput::Elements(1));
    group.bench_function("create", |b| {
        b.iter_custom(|iters| env.runtime.block_on(env.creates(iters)));
    });
    group.bench_function("update", |b| {
        b.iter_custom(|iters| env.runtime.block_on(env.updates(&memories, iters)));
    });
    group.finish();
}

fn list(c: &mut Criterion) {
    let env = Env::start();
    let stores: Vec<String> = env.runtime.block_on(async {
        let db = env.platform.platform().state().db.clone();
        let mut stores = Vec::new();
        for s in 0..5 {
            let id = env.new_store(&format!("bench-list-{s}")).await;
            let store_id = MemoryStoreId::new(id.clone());
            let actor = Actor::Api(ApiActor {
                api_key_id: steward_core::ApiKeyId::new("apikey_bench"),
            });
            // Seeded through the shared write path, one transaction per store.
            db.write(move |tx| {
                for i in 0..2000 {
                    let path = format!("/dir{}/note{i:04}.md", i % 10);
                    steward_platform::memory::create_memory(
                        tx,
                        &store_id,
                        &path,
                        &"x".repeat(200),
                        &actor,
                    )?;
                }
                Ok(())
            })
            .await
            .unwrap();
            stores.push(id);
        }
        stores
    });
    assert_eq!(env.runtime.block_on(env.walk(&stores, "limit=100")), 10_000);
    let mut group = c.benchmark_group("memory");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("list_10000_basic", |b| {
        b.iter(|| env.runtime.block_on(env.walk(&stores, "limit=100")));
    });
    group.bench_function("list_10000_full", |b| {
        b.iter(|| {
            env.runtime
                .block_on(env.walk(&stores, "view=full&limit=20"))
        });
    });
    group.finish();
}

fn read(c: &mut Criterion) {
    let env = Env::start();
    let url = env.runtime.block_on(async {
        let store = env.new_store("bench-read").await;
        let url = env.url(&format!("/v1/memory_stores/{store}/memories"));
        // A store with some neighbours, and a memory of 1 KiB.
        for i in 0..500 {
            Env::post(
                &env.client,
                &url,
                &json!({"path": format!("/other/{i}.md"), "content": "neighbour"}),
            )
            .await;
        }
        let memory = Env::post(
            &env.client,
            &url,
            &json!({"path": "/read/me.md", "content": "r".repeat(1024)}),
        )
        .await;
        format!("{url}/{}", memory["id"].as_str().unwrap())
    });
    let mut group = c.benchmark_group("memory");
    group.bench_function("read", |b| {
        b.iter(|| env.runtime.block_on(Env::get(&env.client, &url)));
    });
    group.finish();

    let mut samples: Vec<Duration> = env.runtime.block_on(async {
        let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
        for _ in 0..LATENCY_SAMPLES {
            let started = Instant::now();
            let memory = Env::get(&env.client, &url).await;
            samples.push(started.elapsed());
            assert_eq!(memory["content_size_bytes"], 1024);
        }
        samples
    });
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "memory/read latency over {LATENCY_SAMPLES} sequential reads: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        at(0.50),
        at(0.90),
        at(0.99),
        samples[samples.len() - 1]
    );
}

criterion_group!(benches, writes, list, read);
criterion_main!(benches);
