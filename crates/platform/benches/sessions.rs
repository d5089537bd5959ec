//! 1,000 concurrent sessions on the offline model, on one platform process.
//!
//! Run with `cargo bench -p steward-platform --bench sessions` (or `cargo xtask bench sessions`).
//! `STEWARD_BENCH_SESSIONS` changes the count (default 1,000; 10 under `cargo test --benches`).
//!
//! **The platform** is the `steward-platform` binary of this build, started as a child process
//! (`serve --listen 127.0.0.1:0` in a temporary data directory, offline model, `RUST_LOG=error`),
//! so that its memory figures are its own: `VmHWM` (peak resident set) and `VmRSS` are read from
//! `/proc/<pid>/status` before and after the run. The bench process is the client.
//!
//! **Each session**, all of them at once, one tokio task each, over HTTP with reqwest:
//! 1. creates its own memory store and a session of the shared agent (the built-in toolset and a
//!    custom tool `get_weather`) with the store mounted `read_write`, and opens the session's
//!    SSE stream (`GET /v1/sessions/{id}/events/stream`, one per session, kept for the whole
//!    session);
//! 2. sends `Remember that my timezone is Europe/Lisbon.`: the offline model globs and greps the
//!    store, writes `/timezone.md` and confirms; the session goes idle with `end_turn`;
//! 3. sends `What's the weather? Call get_weather with {"city": "Lisbon"}`: the model calls the
//!    custom tool and the session goes idle with `requires_action`; the bench answers with
//!    `user.custom_tool_result`, and the session goes idle with `end_turn`.
//!
//! A wait starts from the echo of the event the bench sent (so an earlier idle never counts) and
//! ends at the `session.status_idle` with the expected stop reason; every wait has a deadline, so
//! the run ends by itself. Afterwards every store is checked to hold `/timezone.md`. All
//! sessions share one API key, so the platform's per-key rate limit may answer part of the opening
//! burst with 429; the bench retries those after `retry-after-ms`, as the SDKs do, and reports
//! how many there were.
//!
//! **Figures:** sessions per second (sessions / wall time of the whole run, creation included),
//! the time from `user.message` to terminal idle (turn 1; turn 2 including the bench's tool
//! result) with p50, p99 and maximum, and the platform's memory (also once every stream closed).

#![expect(clippy::print_stdout, reason = "the bench prints its figures")]
#![expect(clippy::unwrap_used, reason = "a bench fails on any unexpected error")]

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use support::PlatformProcess;

/// Sessions by default.
const SESSIONS: usize = 1000;

/// The longest one wait for an idle may take before the bench gives up.
const PATIENCE: Duration = Duration::from_secs(300);

/// How often one request is retried after a 429.
const MAX_THROTTLED: usize = 50;

/// The first message: a durable fact the offline model writes to memory.
const REMEMBER: &str = "Remember that my timezone is Europe/Lisbon.";

/// The second message: names the custom tool and its input.
const ASK_WEATHER: &str = r#"What's the weather? Call get_weather with {"city": "Lisbon"}"#;

/// Fields of a `/proc/*/status` file.
#[derive(Debug, Clone, Copy)]
struct Status {
    /// Peak resident set, KiB.
    hwm: u64,
    /// Resident set, KiB.
    rss: u64,
    threads: u64,
}

impl Status {
    fn read(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let field = |name: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap()
        };
        Self {
            hwm: field("VmHWM:"),
            rss: field("VmRSS:"),
            threads: field("Threads:"),
        }
    }
}

/// What the sessions share.
struct Bench {
    http: reqwest::Client,
    base_url: String,
    environment: String,
    agent: String,
    /// Requests answered 429 and retried.
    throttled: AtomicUsize,
}

impl Bench {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a request; a 429 (the platform's per-key rate limit) is retried after the
    /// `retry-after-ms` it names, as the SDKs do, at most [`MAX_THROTTLED`] times.
    async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        for _ in 0..MAX_THROTTLED {
            let mut request = self.http.request(method.clone(), self.url(path));
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            if response.status() != StatusCode::TOO_MANY_REQUESTS {
                return response;
            }
            self.throttled.fetch_add(1, Ordering::Relaxed);
            let wait = response
                .headers()
                .get("retry-after-ms")
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        panic!("{method} {path}: still throttled after {MAX_THROTTLED} tries");
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self.request(Method::POST, path, Some(&body)).await;
        let status = response.status();
        let value: Value = response.json().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {value}");
        value
    }

    async fn get(&self, path: &str) -> Value {
        let response = self.request(Method::GET, path, None).await;
        let status = response.status();
        let value: Value = response.json().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {value}");
        value
    }

    /// Sends one event; returns the ID of its echo.
    async fn send(&self, session: &str, event: Value) -> String {
        let sent = self
            .post(
                &format!("/v1/sessions/{session}/events"),
                json!({ "events": [event] }),
            )
            .await;
        id(&sent["data"][0]).to_owned()
    }

    /// One session's whole life; returns its store and timings.
    async fn session(&self) -> Timings {
        let store = self
            .post(
                "/v1/memory_stores",
                json!({"name": "user", "description": "What the user told the agent"}),
            )
            .await;
        let store = id(&store).to_owned();
        let session = self
            .post(
                "/v1/sessions",
                json!({"agent": self.agent, "environment_id": self.environment,
                    "resources": [{"type": "memory_store", "memory_store_id": store,
                        "access": "read_write"}]}),
            )
            .await;
        let session = id(&session).to_owned();
        let response = self
            .request(
                Method::GET,
                &format!("/v1/sessions/{session}/events/stream"),
                None,
            )
            .await;
        assert!(
            response.status().is_success(),
            "stream: {}",
            response.status()
        );
        let mut stream = Sse::new(response);

        let started = Instant::now();
        let echo = self.send(&session, message(REMEMBER)).await;
        let seen = stream.until_idle(&echo, "end_turn").await;
        let turn_1 = started.elapsed();
        let mut events = seen.len();
        assert!(
            seen.iter()
                .any(|e| e["type"] == "agent.tool_use" && e["name"] == "write"),
            "the model wrote no memory: {seen:#?}"
        );

        let started = Instant::now();
        let echo = self.send(&session, message(ASK_WEATHER)).await;
        let seen = stream.until_idle(&echo, "requires_action").await;
        events += seen.len();
        let tool_use = seen
            .iter()
            .find(|e| e["type"] == "agent.custom_tool_use" && e["name"] == "get_weather")
            .unwrap_or_else(|| panic!("no get_weather call: {seen:#?}"));
        assert_eq!(tool_use["input"], json!({"city": "Lisbon"}));
        let result = json!({"type": "user.custom_tool_result", "custom_tool_use_id": id(tool_use),
            "content": [{"type": "text", "text": "Sunny, 21 °C"}], "is_error": false});
        let echo = self.send(&session, result).await;
        events += stream.until_idle(&echo, "end_turn").await.len();
        let turn_2 = started.elapsed();
        Timings {
            store,
            turn_1,
            turn_2,
            events,
        }
    }
}

/// One session's results.
struct Timings {
    store: String,
    /// `user.message` (the fact) to idle `end_turn`.
    turn_1: Duration,
    /// `user.message` (the tool call) to idle `end_turn`, the bench's tool result included.
    turn_2: Duration,
    /// Events read from the stream, the bench's own echoes included.
    events: usize,
}

/// A minimal reader of the platform's SSE stream: `event:`/`data:` frames, one JSON object per
/// `data:` line (the platform writes single-line JSON), pings skipped.
struct Sse {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Sse {
    fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event.
    async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let frame = String::from_utf8(frame).unwrap();
                let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) else {
                    continue;
                };
                let event: Value = serde_json::from_str(data.trim_start()).unwrap();
                if event["type"] != "ping" {
                    return event;
                }
                continue;
            }
            let chunk = self.response.chunk().await.unwrap();
            let chunk = chunk.unwrap_or_else(|| panic!("the stream ended"));
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// Reads until the echo `after`, then until a `session.status_idle`, which must have the
    /// stop reason `stop`; returns the events read.
    async fn until_idle(&mut self, after: &str, stop: &str) -> Vec<Value> {
        let read = async {
            let mut seen = Vec::new();
            let mut echoed = false;
            loop {
                let event = self.next().await;
                echoed |= event["id"] == after;
                let idle = echoed && event["type"] == "session.status_idle";
                seen.push(event);
                if idle {
                    return seen;
                }
            }
        };
        let seen = tokio::time::timeout(PATIENCE, read)
            .await
            .unwrap_or_else(|_| panic!("no idle within {PATIENCE:?}"));
        let last = &seen[seen.len() - 1];
        assert_eq!(last["stop_reason"]["type"], stop, "{seen:#?}");
        seen
    }
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

fn message(text: &str) -> Value {
    json!({"type": "user.message", "content": [{"type": "text", "text": text}]})
}

/// `p50 / p99 / max` of some durations, in milliseconds.
fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort_unstable();
    let last = samples.len() - 1;
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(last)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms(at(0.50)),
        ms(at(0.99)),
        ms(samples[last])
    )
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let sessions = std::env::var("STEWARD_BENCH_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if bench_mode { SESSIONS } else { 10 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let platform = PlatformProcess::start("steward-bench-sessions-");
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {}", platform.api_key)).unwrap(),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();

    let bench = runtime.block_on(async {
        let mut bench = Bench {
            http,
            base_url: platform.base_url.clone(),
            environment: String::new(),
            agent: String::new(),
            throttled: AtomicUsize::new(0),
        };
        bench.environment = id(&bench
            .post("/v1/environments", json!({"name": "bench"}))
            .await)
        .to_owned();
        let agent = bench
            .post(
                "/v1/agents",
                json!({"name": "bench", "model": "claude-sonnet-4-6", "tools": [
                    {"type": "agent_toolset_20260401"},
                    {"type": "custom", "name": "get_weather",
                        "description": "Current weather in a city",
                        "input_schema": {"type": "object",
                            "properties": {"city": {"type": "string"}}}},
                ]}),
            )
            .await;
        bench.agent = id(&agent).to_owned();
        Arc::new(bench)
    });

    let before = Status::read(&platform.status_path());
    let started = Instant::now();
    // Samples the platform's thread count while the sessions run.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (sampling, path) = (sampling.clone(), platform.status_path());
        std::thread::spawn(move || {
            let mut most = 0;
            while sampling.load(Ordering::Relaxed) {
                most = most.max(Status::read(&path).threads);
                std::thread::sleep(Duration::from_millis(50));
            }
            most
        })
    };
    let timings: Vec<Timings> = runtime.block_on(async {
        let tasks: Vec<_> = (0..sessions)
            .map(|_| {
                let bench = bench.clone();
                tokio::spawn(async move { bench.session().await })
            })
            .collect();
        let mut timings = Vec::with_capacity(sessions);
        for task in tasks {
            timings.push(task.await.unwrap());
        }
        timings
    });
    let elapsed = started.elapsed();
    let after = Status::read(&platform.status_path());
    sampling.store(false, Ordering::Relaxed);
    let most_threads = sampler.join().unwrap();
    let client = Status::read(Path::new("/proc/self/status"));

    // Every session wrote its fact to its own store.
    runtime.block_on(async {
        for t in &timings {
            let memories = bench
                .get(&format!("/v1/memory_stores/{}/memories", t.store))
                .await;
            let paths: Vec<&str> = memories["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["path"].as_str().unwrap())
                .collect();
            assert_eq!(paths, ["/timezone.md"], "store {}", t.store);
        }
        // Every stream is closed by now; give the platform a moment to notice.
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let settled = Status::read(&platform.status_path());
    let throttled = bench.throttled.load(Ordering::Relaxed);

    let turn_1: Vec<Duration> = timings.iter().map(|t| t.turn_1).collect();
    let turn_2: Vec<Duration> = timings.iter().map(|t| t.turn_2).collect();
    let both: Vec<Duration> = turn_1.iter().chain(&turn_2).copied().collect();
    let events: usize = timings.iter().map(|t| t.events).sum();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "sessions: {sessions} concurrent sessions on the offline model (SSE stream per session), \
         one platform process"
    );
    println!(
        "  wall time {:.2} s, {:.1} sessions per second (creation, 2 turns, 1 custom tool \
         round trip each)",
        elapsed.as_secs_f64(),
        sessions as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  {events} events streamed ({} per session, {:.0} per second)",
        events / sessions,
        events as f64 / elapsed.as_secs_f64()
    );
    println!("  {throttled} requests answered 429 by the per-key rate limit and retried");
    println!(
        "  turn 1, user.message -> idle end_turn (memory write): {}",
        percentiles(turn_1)
    );
    println!(
        "  turn 2, user.message -> idle end_turn (custom tool, bench answers): {}",
        percentiles(turn_2)
    );
    println!("  both turns: {}", percentiles(both));
    println!(
        "  platform memory: VmHWM {:.1} MiB before, {:.1} MiB after; VmRSS {:.1} MiB before, \
         {:.1} MiB after",
        mib(before.hwm),
        mib(after.hwm),
        mib(before.rss),
        mib(after.rss)
    );
    println!(
        "  platform VmRSS once every stream had closed and the stores were checked: {:.1} MiB",
        mib(settled.rss)
    );
    println!(
        "  platform threads: {} before, at most {most_threads} during the run (sampled every \
         50 ms), {} after",
        before.threads, settled.threads
    );
    println!("  bench client process: VmHWM {:.1} MiB", mib(client.hwm));
}
