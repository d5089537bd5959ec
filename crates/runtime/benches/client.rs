//! Per-request overhead of the client stack, beside the official TypeScript SDK 1.10.0.
//!
//! Run with `cargo bench -p steward-runtime --bench client` (or `cargo xtask bench client`,
//! which installs the SDK first); `-- --quick` shortens every phase. Target: at least 3x the
//! TypeScript SDK's requests per second.
//!
//! **The server.** A minimal axum server on `127.0.0.1` answers `GET /v1/agents/{id}` with a fixed
//! body, so that the server is not the bottleneck and both clients see byte-identical responses.
//! The body is minted by the real platform at start (an agent with the built-in toolset, two custom
//! tools and a system prompt, as `GET /v1/agents/{id}` returns it; its size is printed). With
//! `STEWARD_BENCH_SERVER=platform` both clients retrieve from the real platform instead (its
//! per-key rate limit turned off).
//!
//! **The workload.** `client.agents().retrieve(&id)` against
//! `client.beta.agents.retrieve(id)` (`bench/ts/retrieve.mjs`, started with `node` against the
//! same server), each from 1 and from 16 loops at once. Both clients keep their defaults (retries,
//! timeouts, headers) and decode the whole agent. The Rust client runs on a current-thread tokio
//! runtime, one thread like Node's event loop; the server has its own two-worker runtime in this
//! process and serves both clients alike.
//!
//! **The figures.** First criterion's `client/retrieve/{c1,c16}` (Rust only: the time per
//! request). Then the side-by-side pass: rounds in which each client goes first in turn, each run a
//! warm-up and a measurement window; a request counts when it completes inside the window. Beside
//! the two clients runs a floor: plain `reqwest` with the same headers and the same typed decode,
//! which shows what the stack (retries, timeouts, spans, limits) adds. Per client and concurrency
//! it prints requests per second over all rounds, p50 and p99 latency, the client's CPU time per
//! request (the Rust client's thread from `/proc/thread-self/schedstat`; the whole Node process
//! from `process.cpuUsage()`), and the ratios. On a 2-core machine at concurrency 1 the rate is
//! bound by the loopback round trip (server and wake-ups), so the CPU ratio is the cleaner measure
//! of overhead there. `STEWARD_BENCH_SECS` sets the window (default 3 s; 1 s with `--quick`).

#![expect(
    clippy::print_stdout,
    reason = "the bench prints the side-by-side figures"
)]
#![expect(clippy::unwrap_used, reason = "a bench fails on any unexpected error")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use criterion::{Criterion, Throughput};
use futures::future::join_all;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use steward_core::AgentId;
use steward_core::agent::Agent;
use steward_platform::{Platform, PlatformHandle};
use steward_runtime::Client;
use tokio::runtime::Runtime;

/// Concurrencies measured.
const CONCURRENCIES: [usize; 2] = [1, 16];

/// The server both clients talk to, on its own runtime.
struct Server {
    runtime: Runtime,
    base_url: String,
    api_key: String,
    agent: AgentId,
    /// What it is, for the report.
    label: &'static str,
    /// Bytes of the agent's JSON.
    body_len: usize,
    /// Kept alive when the real platform serves the requests.
    platform: Option<PlatformHandle>,
}

impl Server {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bench-server")
            .enable_all()
            .build()
            .unwrap();
        let use_platform = std::env::var("STEWARD_BENCH_SERVER").is_ok_and(|v| v == "platform");
        let (platform, agent, body) = runtime.block_on(mint_agent());
        let body_len = body.len();
        if use_platform {
            return Self {
                runtime,
                base_url: platform.base_url().to_owned(),
                api_key: platform.api_key().to_owned(),
                agent,
                label: "the real platform (SQLite read per request)",
                body_len,
                platform: Some(platform),
            };
        }
        runtime.block_on(platform.shutdown());
        let base_url = runtime.block_on(async move {
            let app = Router::new().route(
                "/v1/agents/{agent_id}",
                get(move || {
                    let body = body.clone();
                    async move { ([(CONTENT_TYPE, "application/json")], body) }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            format!("http://{addr}")
        });
        Self {
            runtime,
            base_url,
            api_key: "sk-bench".to_owned(),
            agent,
            label: "a fixed-agent axum server",
            body_len,
            platform: None,
        }
    }

    fn client(&self) -> Client {
        Client::builder()
            .api_key(&self.api_key)
            .base_url(&self.base_url)
            .build()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(platform) = self.platform.take() {
            self.runtime.block_on(platform.shutdown());
        }
    }
}

/// Starts the real platform, creates an agent and returns the platform, the agent's ID and the
/// exact bytes of `GET /v1/agents/{id}`.
async fn mint_agent() -> (PlatformHandle, AgentId, bytes::Bytes) {
    // No per-key rate limit: with `STEWARD_BENCH_SERVER=platform` both clients go far past it.
    let platform = Platform::builder()
        .rate_limit(None)
        .start_ephemeral()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let custom = |name: &str, description: &str| {
        json!({"type": "custom", "name": name, "description": description,
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]}})
    };
    let created: Value = http
        .post(format!("{}/v1/agents", platform.base_url()))
        .bearer_auth(platform.api_key())
        .json(&json!({
            "name": "bench-agent",
            "description": "Answers questions about the weather and the time.",
            "model": "claude-sonnet-4-6",
            "system": "You are a concise assistant. Use the tools when a question needs live data.",
            "tools": [
                {"type": "agent_toolset_20260401"},
                custom("get_weather", "Current weather in a city"),
                custom("get_time", "Current local time in a city"),
            ],
            "metadata": {"team": "bench", "purpose": "client overhead"},
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let body = http
        .get(format!("{}/v1/agents/{id}", platform.base_url()))
        .bearer_auth(platform.api_key())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .await
        .unwrap();
    (platform, AgentId::new(id), body)
}

/// `iters` retrieves spread over `concurrency` loops; returns the time they took.
async fn retrieves(client: &Client, agent: &AgentId, concurrency: usize, iters: u64) -> Duration {
    let started = Instant::now();
    let loops = (0..concurrency as u64).map(|n| async move {
        let mut i = n;
        while i < iters {
            let got = client.agents().retrieve(agent).await.unwrap();
            assert_eq!(&got.id, agent);
            i += concurrency as u64;
        }
    });
    join_all(loops).await;
    started.elapsed()
}

/// What one client did in one measurement window.
struct Window {
    /// Latencies of the requests that completed inside the window, sorted.
    latencies: Vec<Duration>,
    /// CPU time the client used during the window.
    cpu: Duration,
}

/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`, nanoseconds on CPU).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let nanos = text.split_whitespace().next().unwrap().parse().unwrap();
    Duration::from_nanos(nanos)
}

/// Calls `fetch` from `concurrency` loops for `warmup + window`. The client's CPU time is that of
/// this thread, which runs the whole client (a current-thread runtime); the server's threads are
/// not counted.
async fn rust_window<F, Fut>(
    fetch: F,
    agent: &AgentId,
    concurrency: usize,
    warmup: Duration,
    window: Duration,
) -> Window
where
    F: Fn() -> Fut,
    Fut: Future<Output = AgentId>,
{
    let window_start = Instant::now() + warmup;
    let window_end = window_start + window;
    let fetch = &fetch;
    let loops = (0..concurrency).map(|_| async move {
        let mut latencies = Vec::new();
        loop {
            let began = Instant::now();
            if began >= window_end {
                return latencies;
            }
            let got = fetch().await;
            let ended = Instant::now();
            assert_eq!(&got, agent);
            if ended >= window_start && ended <= window_end {
                latencies.push(ended - began);
            }
        }
    });
    let cpu = async {
        tokio::time::sleep_until(window_start.into()).await;
        let at_start = thread_cpu();
        tokio::time::sleep_until(window_end.into()).await;
        thread_cpu().saturating_sub(at_start)
    };
    let (latencies, cpu) = tokio::join!(join_all(loops), cpu);
    let mut latencies: Vec<Duration> = latencies.into_iter().flatten().collect();
    latencies.sort_unstable();
    Window { latencies, cpu }
}

/// The floor under the client stack: one `reqwest` GET with the same headers, its body decoded
/// into the same typed [`Agent`], and nothing else (no retries, timeouts, spans or limits).
struct Baseline {
    http: reqwest::Client,
    url: String,
}

impl Baseline {
    fn new(server: &Server) -> Self {
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            headers.insert(name, HeaderValue::from_str(value).unwrap());
        };
        put("x-api-key", &server.api_key);
        put("anthropic-version", steward_core::ANTHROPIC_VERSION);
        put("anthropic-beta", "managed-agents-2026-04-01");
        put("accept", "application/json");
        Self {
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
            url: format!("{}/v1/agents/{}", server.base_url, server.agent.as_str()),
        }
    }

    async fn retrieve(&self) -> AgentId {
        let response = self.http.get(&self.url).send().await.unwrap();
        assert!(response.status().is_success());
        let body = response.bytes().await.unwrap();
        serde_json::from_slice::<Agent>(&body).unwrap().id
    }
}

/// The TypeScript script, and the SDK it imports.
fn ts_paths() -> (PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    (
        root.join("bench/ts/retrieve.mjs"),
        root.join("conformance/ts/node_modules/@anthropic-ai/sdk/package.json"),
    )
}

/// Why the TypeScript side cannot run here, if it cannot.
fn ts_unavailable() -> Option<String> {
    let (_, sdk) = ts_paths();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        return Some("`node` is not on the PATH".to_owned());
    }
    let version = std::fs::read_to_string(&sdk)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|package| package["version"].as_str().map(str::to_owned));
    match version.as_deref() {
        Some("1.10.0") => None,
        Some(other) => Some(format!("{} is version {other}, not 1.10.0", sdk.display())),
        None => Some(format!(
            "the SDK is not installed at {} (run `cargo xtask bench`, or `npm install \
             --no-package-lock` in conformance/ts)",
            sdk.display()
        )),
    }
}

/// Runs `bench/ts/retrieve.mjs`; returns what it measured (its CPU time is the whole Node
/// process's).
fn ts_window(server: &Server, concurrency: usize, warmup: Duration, window: Duration) -> Window {
    let (script, _) = ts_paths();
    let output = Command::new("node")
        .arg(&script)
        .arg(&server.base_url)
        .arg(server.agent.as_str())
        .arg(concurrency.to_string())
        .arg(warmup.as_millis().to_string())
        .arg(window.as_millis().to_string())
        .env("STEWARD_API_KEY", &server.api_key)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        output.status
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let latencies = report["latencies_us"]
        .as_array()
        .unwrap()
        .iter()
        .map(|us| Duration::from_micros(us.as_u64().unwrap()))
        .collect();
    let cpu = Duration::from_micros(report["cpu_us"].as_u64().unwrap());
    Window { latencies, cpu }
}

/// Latencies of one client at one concurrency, over every round.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    seconds: f64,
    cpu: Duration,
}

impl Tally {
    fn add(&mut self, measured: Window, window: Duration) {
        self.latencies.extend(measured.latencies);
        self.seconds += window.as_secs_f64();
        self.cpu += measured.cpu;
    }

    /// Client CPU time per request.
    fn cpu_per_request(&self) -> Duration {
        self.cpu / u32::try_from(self.latencies.len().max(1)).unwrap_or(u32::MAX)
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds
    }

    fn at(&mut self, q: f64) -> Duration {
        self.latencies.sort_unstable();
        let last = self.latencies.len().saturating_sub(1);
        self.latencies
            .get(((self.latencies.len() as f64 * q) as usize).min(last))
            .copied()
            .unwrap_or_default()
    }

    fn line(&mut self, concurrency: usize, name: &str) -> String {
        format!(
            "  c{concurrency:<3} {name:<24} {:>7.0} req/s   p50 {:>7.1} µs   p99 {:>7.1} µs   \
             client CPU {:>6.1} µs/req   ({} requests)",
            self.per_second(),
            self.at(0.50).as_secs_f64() * 1e6,
            self.at(0.99).as_secs_f64() * 1e6,
            self.cpu_per_request().as_secs_f64() * 1e6,
            self.latencies.len()
        )
    }
}

fn criterion_pass(c: &mut Criterion, server: &Server, client_rt: &Runtime, client: &Client) {
    let mut group = c.benchmark_group("client/retrieve");
    group.throughput(Throughput::Elements(1));
    for concurrency in CONCURRENCIES {
        group.bench_function(format!("c{concurrency}"), |b| {
            b.iter_custom(|iters| {
                client_rt.block_on(retrieves(client, &server.agent, concurrency, iters))
            });
        });
    }
    group.finish();
}

fn side_by_side(server: &Server, client_rt: &Runtime, client: &Client, mode: Mode) {
    let (rounds, warmup, window) = mode.windows();
    println!(
        "\nclient/retrieve side by side against {} at {} (agent JSON {} bytes): {rounds} \
         round(s) per concurrency, \
         {} ms warm-up + {} ms window per client, each client first in turn",
        server.label,
        server.base_url,
        server.body_len,
        warmup.as_millis(),
        window.as_millis()
    );
    let unavailable = ts_unavailable();
    if let Some(why) = &unavailable {
        println!("  TypeScript SDK skipped: {why}");
    }
    let baseline = Baseline::new(server);
    for concurrency in CONCURRENCIES {
        let mut tallies: [Tally; 3] = Default::default();
        let [rust, base, ts] = &mut tallies;
        for round in 0..rounds {
            let mut run = |which: usize| match which {
                0 => rust.add(
                    client_rt.block_on(rust_window(
                        || async { client.agents().retrieve(&server.agent).await.unwrap().id },
                        &server.agent,
                        concurrency,
                        warmup,
                        window,
                    )),
                    window,
                ),
                1 => base.add(
                    client_rt.block_on(rust_window(
                        || baseline.retrieve(),
                        &server.agent,
                        concurrency,
                        warmup,
                        window,
                    )),
                    window,
                ),
                _ => {
                    if unavailable.is_none() {
                        ts.add(ts_window(server, concurrency, warmup, window), window);
                    }
                }
            };
            // Each client goes first in turn.
            for i in 0..3 {
                run((round + i) % 3);
            }
        }
        println!("{}", rust.line(concurrency, "steward-runtime"));
        println!("{}", base.line(concurrency, "reqwest + serde (floor)"));
        if unavailable.is_none() {
            println!("{}", ts.line(concurrency, "@anthropic-ai/sdk 1.10.0"));
            println!(
                "  c{concurrency:<3} ratio (steward / TypeScript): {:.2}x requests per second, \
                 {:.2}x less client CPU per request",
                rust.per_second() / ts.per_second(),
                ts.cpu_per_request().as_secs_f64() / rust.cpu_per_request().as_secs_f64()
            );
        }
    }
}

/// How long the side-by-side pass runs.
#[derive(Clone, Copy)]
enum Mode {
    /// `cargo bench`.
    Full,
    /// `cargo bench -- --quick`.
    Quick,
    /// `cargo test --benches`: a smoke run.
    Test,
}

impl Mode {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().collect();
        if !args.iter().any(|a| a == "--bench") {
            Self::Test
        } else if args.iter().any(|a| a == "--quick") {
            Self::Quick
        } else {
            Self::Full
        }
    }

    /// Rounds, warm-up and window.
    fn windows(self) -> (usize, Duration, Duration) {
        let secs = std::env::var("STEWARD_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map(Duration::from_secs_f64);
        match self {
            Self::Full => (
                3,
                Duration::from_secs(1),
                secs.unwrap_or(Duration::from_secs(3)),
            ),
            Self::Quick => (
                2,
                Duration::from_millis(500),
                secs.unwrap_or(Duration::from_secs(1)),
            ),
            Self::Test => (1, Duration::ZERO, Duration::from_millis(200)),
        }
    }
}

fn main() {
    let mode = Mode::from_args();
    let server = Server::start();
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = server.client();

    let mut c = Criterion::default().configure_from_args();
    criterion_pass(&mut c, &server, &client_rt, &client);
    c.final_summary();

    side_by_side(&server, &client_rt, &client, mode);
}
