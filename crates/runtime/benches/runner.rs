//! Overhead of the [`SessionRunner`] on a custom-tool round trip, and its memory per idle
//! session, beside the official TypeScript SDK 1.10.0's `SessionToolRunner`.
//!
//! Run with `cargo bench -p steward-runtime --bench runner` (`-- --quick` for fewer round trips).
//!
//! **The platform** is this bench binary re-run as a child process (`STEWARD_RUNNER_BENCH_CHILD`)
//! that starts an ephemeral `steward_platform` with the rate limit off and the offline model, so
//! that neither the platform's memory nor its CPU lands in the measured process. Both runners
//! talk to the same child in the same run; the agent has custom tools `noop` and `other`.
//!
//! **Overhead** of one round trip (a turn whose message makes the offline model call `noop`):
//! `(tool start − event arrival) + (result POST leaves − tool end)`, the tool's run time
//! excluded. The tool's start and end are stamped inside the tool; the POST is stamped by a
//! tower layer on the client (Rust) or a wrapped `fetch` (TypeScript) as the request is handed
//! to the transport. The event's arrival is taken two ways, for both runners alike:
//!
//! * **on the runner's own connection** (the headline figure): the same layer / `fetch` wrapper
//!   passes the runner's event-stream body through a stamper, which notes when the chunk
//!   completing the `agent.custom_tool_use` frame comes out of the HTTP client. Everything the
//!   runner does from there (SSE parse, decode, bookkeeping, dispatch, result build, encode) is
//!   inside.
//! * **on a parallel raw reader** of the same session (its own connection, read on the runner's
//!   own thread / event loop): this adds the platform's fan-out skew (the platform writes each
//!   stream from its own task; under load one socket gets the bytes milliseconds after the
//!   other) to the runner's time. A third Rust pass reads the raw stream on another thread,
//!   which adds the OS's wake-up skew between two threads as well.
//!
//! **Memory**: 1,000 sessions, each in a turn waiting on a call of `other` (a tool no runner
//! here has, so the session idles in `requires_action`); Rust: one runner drives all of them
//! (`answer_unknown_tools(false)`) on a current-thread runtime, in a child process of its own
//! for each HTTP version (HTTP/1.1, h2c), one consumer draining every turn's outcomes;
//! TypeScript: 1,000 `toolRunner` iterations. RSS and anonymous RSS (`RssAnon`) after minus
//! before (both taken once every session has its stream open), divided by 1,000.

#![expect(clippy::print_stdout, reason = "the bench prints its figures")]
#![expect(clippy::unwrap_used, reason = "a bench fails on any unexpected error")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use steward_core::SessionId;
use steward_runtime::http::ResponseBody;
use steward_runtime::runner::{Outcome, SessionRunner};
use steward_runtime::{ApiRequest, ApiResponse, Client, HttpVersion};
use steward_tools::{Registry, Tool, ToolContext, ToolError, ToolOutput};
use tower::{Layer, Service};

const CHILD_ENV: &str = "STEWARD_RUNNER_BENCH_CHILD";
/// Set (to `http1` or `http2`) in the child process that measures the runner's memory.
const MEMORY_CHILD_ENV: &str = "STEWARD_RUNNER_BENCH_MEMORY";
const CALL_NOOP: &str = "Call noop with {}";
const CALL_OTHER: &str = "Call other with {}";
const SESSIONS: usize = 1000;

/// Instants keyed by tool-use ID.
type Stamps = Arc<Mutex<HashMap<String, Instant>>>;

fn stamp(map: &Stamps, id: &str) {
    map.lock()
        .unwrap()
        .entry(id.to_owned())
        .or_insert_with(Instant::now);
}

/// The `noop` tool: stamps its start and end.
struct Noop {
    starts: Stamps,
    ends: Stamps,
}

#[async_trait::async_trait]
impl Tool for Noop {
    fn name(&self) -> &str {
        "noop"
    }
    fn description(&self) -> &str {
        "Does nothing"
    }
    fn input_schema(&self) -> Value {
        json!({"type": "object"})
    }
    async fn call(&self, _input: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        stamp(&self.starts, ctx.idempotency_key());
        let out = ToolOutput::text("ok");
        stamp(&self.ends, ctx.idempotency_key());
        Ok(out)
    }
}

/// Notes when each `agent.custom_tool_use` frame of an SSE byte stream is complete.
#[derive(Default)]
struct FrameStamper {
    buf: String,
}

impl FrameStamper {
    fn feed(&mut self, chunk: &[u8], at: Instant, arrivals: &Stamps) {
        self.buf.push_str(&String::from_utf8_lossy(chunk));
        while let Some(end) = self.buf.find("\n\n") {
            let frame: String = self.buf.drain(..end + 2).collect();
            if !frame.contains("agent.custom_tool_use") {
                continue;
            }
            for line in frame.lines() {
                if let Some(data) = line.strip_prefix("data:")
                    && let Ok(v) = serde_json::from_str::<Value>(data.trim())
                    && v["type"] == "agent.custom_tool_use"
                    && let Some(id) = v["id"].as_str()
                {
                    arrivals.lock().unwrap().entry(id.to_owned()).or_insert(at);
                }
            }
        }
    }
}

/// Stamps each `POST …/events` carrying a `user.custom_tool_result` as it is sent, and each
/// `agent.custom_tool_use` as it comes out of the client on the runner's event stream.
#[derive(Clone)]
struct PostStamp<S> {
    inner: S,
    posts: Stamps,
    arrivals: Stamps,
}

impl<S> Service<ApiRequest> for PostStamp<S>
where
    S: Service<ApiRequest, Response = ApiResponse, Error = steward_runtime::Error>,
    S::Future: Send + 'static,
{
    type Response = ApiResponse;
    type Error = steward_runtime::Error;
    type Future = BoxFuture<'static, Result<ApiResponse, steward_runtime::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: ApiRequest) -> Self::Future {
        if req.method == http::Method::POST
            && req.url.path().ends_with("/events")
            && let Some(body) = &req.body
            && let Ok(v) = serde_json::from_slice::<Value>(body)
            && let Some(id) = v["events"][0]["custom_tool_use_id"].as_str()
        {
            stamp(&self.posts, id);
        }
        let is_stream = req.url.path().ends_with("/events/stream");
        let arrivals = self.arrivals.clone();
        let call = self.inner.call(req);
        Box::pin(async move {
            let mut response = call.await?;
            if is_stream {
                if let ResponseBody::Stream(inner) = response.body {
                    let mut stamper = FrameStamper::default();
                    response.body = ResponseBody::Stream(Box::pin(inner.map(move |chunk| {
                        if let Ok(bytes) = &chunk {
                            stamper.feed(bytes, Instant::now(), &arrivals);
                        }
                        chunk
                    })));
                }
            }
            Ok(response)
        })
    }
}

#[derive(Clone)]
struct PostStampLayer {
    posts: Stamps,
    arrivals: Stamps,
}

impl<S> Layer<S> for PostStampLayer {
    type Service = PostStamp<S>;
    fn layer(&self, inner: S) -> PostStamp<S> {
        PostStamp {
            inner,
            posts: self.posts.clone(),
            arrivals: self.arrivals.clone(),
        }
    }
}

/// The platform child process.
struct PlatformProcess {
    child: Child,
    base_url: String,
    api_key: String,
}

impl PlatformProcess {
    fn start() -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ENV, "1")
            .stdout(Stdio::piped())
            .stdin(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let mut parts = line.split_whitespace();
        let base_url = parts.next().unwrap().to_owned();
        let api_key = parts.next().unwrap().to_owned();
        Self {
            child,
            base_url,
            api_key,
        }
    }
}

impl Drop for PlatformProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child: serves until its stdin closes.
fn child_main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let platform = rt.block_on(
        steward_platform::Platform::builder()
            .rate_limit(None)
            .start_ephemeral(),
    );
    let platform = platform.unwrap();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{} {}", platform.base_url(), platform.api_key()).unwrap();
    stdout.flush().unwrap();
    let mut sink = String::new();
    let _ = std::io::stdin().read_line(&mut sink);
    rt.block_on(platform.shutdown());
}

/// Runs the memory child for `version` over `ids`: ((RSS, RssAnon) before, (RSS, RssAnon) after)
/// in KiB.
fn memory_child(
    platform: &PlatformProcess,
    version: &str,
    ids: &[String],
) -> ((u64, u64), (u64, u64)) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(MEMORY_CHILD_ENV, version)
        .env("STEWARD_BENCH_BASE_URL", &platform.base_url)
        .env("STEWARD_BENCH_API_KEY", &platform.api_key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", ids.join(",")).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "memory child failed: {}", out.status);
    let line = String::from_utf8(out.stdout).unwrap();
    let v: Vec<u64> = line
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    ((v[0], v[2]), (v[1], v[3]))
}

/// The memory child: one runner on a current-thread runtime drives every session given on stdin
/// into a turn waiting on `other`; prints RSS before and after, then `RssAnon` before and after,
/// in KiB.
fn memory_main(version: &str) {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let ids: Vec<SessionId> = line
        .trim()
        .split(',')
        .map(|id| SessionId::new(id.to_owned()))
        .collect();
    let version = match version {
        "http2" => HttpVersion::Http2,
        _ => HttpVersion::Http1,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = Client::builder()
        .api_key(std::env::var("STEWARD_BENCH_API_KEY").unwrap())
        .base_url(std::env::var("STEWARD_BENCH_BASE_URL").unwrap())
        .http_version(version)
        .build()
        .unwrap();
    let runner = SessionRunner::builder(client, Registry::new())
        .answer_unknown_tools(false)
        .build();
    let rss_before = rss_kib();
    let rss_after = rt.block_on(async {
        // One consumer reads every turn's outcomes as they come (as the TypeScript side's
        // `for await` loops do), so nothing waits unread in a channel.
        let mut outcomes = futures::stream::select_all(
            ids.iter()
                .map(|id| runner.turn(id).message(CALL_OTHER).stream()),
        );
        let mut skipped = 0;
        while skipped < ids.len() {
            if let Outcome::ToolSkipped(_) = outcomes.next().await.unwrap().unwrap() {
                skipped += 1;
            }
        }
        let settle = tokio::time::sleep(Duration::from_millis(500));
        tokio::pin!(settle);
        loop {
            tokio::select! {
                () = &mut settle => break,
                item = outcomes.next() => assert!(item.unwrap().is_ok()),
            }
        }
        let rss_after = rss_kib();
        drop(outcomes);
        rss_after
    });
    println!(
        "{} {} {} {}",
        rss_before.0, rss_after.0, rss_before.1, rss_after.1
    );
}

/// Plain HTTP to set things up.
struct Setup {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Setup {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", &self.key)
            .header("anthropic-version", steward_core::ANTHROPIC_VERSION)
            .header("anthropic-beta", "managed-agents-2026-04-01")
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.req(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn session(&self, agent: &str, env: &str) -> String {
        let s = self
            .post(
                "/v1/sessions",
                json!({"agent": agent, "environment_id": env}),
            )
            .await;
        s["id"].as_str().unwrap().to_owned()
    }

    async fn sessions(&self, agent: &str, env: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            ids.push(self.session(agent, env).await);
        }
        ids
    }
}

/// Reads the session's stream raw and stamps each `agent.custom_tool_use` as its bytes arrive.
async fn raw_reader(setup: Arc<Setup>, session: String, arrivals: Stamps) {
    let resp = setup
        .req(
            reqwest::Method::GET,
            &format!("/v1/sessions/{session}/events/stream"),
        )
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let mut body = resp.bytes_stream();
    let mut stamper = FrameStamper::default();
    while let Some(Ok(chunk)) = body.next().await {
        stamper.feed(&chunk, Instant::now(), &arrivals);
    }
}

/// Resident memory in KiB: (`VmRSS`, `RssAnon`) of /proc/self/status. `RssAnon` leaves out the
/// file-backed pages (the binary's code) that running new code paths pulls in: a fixed cost that
/// `VmRSS` would spread over the sessions.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap()
    };
    (field("VmRSS:"), field("RssAnon:"))
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

/// One round trip, in µs: own-connection arrival → tool start, raw-reader arrival → tool
/// start, tool end → POST.
type Trip = (f64, f64, f64);

/// `total` round trips (the first `warmup` not counted), each one turn of a fresh drive of
/// `session`. With `fresh`, the client keeps no idle connection, so each turn's stream opens a
/// new one; with `reader_thread`, the raw reader runs on another thread.
#[expect(clippy::too_many_arguments, reason = "a bench helper")]
fn rust_overhead(
    rt: &tokio::runtime::Runtime,
    setup_rt: &tokio::runtime::Runtime,
    setup: &Arc<Setup>,
    platform: &PlatformProcess,
    session: &str,
    total: usize,
    warmup: usize,
    fresh: bool,
    reader_thread: bool,
) -> Vec<Trip> {
    let (starts, ends, posts, arrivals, own): (Stamps, Stamps, Stamps, Stamps, Stamps) =
        Default::default();
    let mut builder = Client::builder()
        .api_key(&platform.api_key)
        .base_url(&platform.base_url)
        .layer(PostStampLayer {
            posts: posts.clone(),
            arrivals: own.clone(),
        });
    if fresh {
        builder = builder.http_client(
            reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
        );
    }
    let client = builder.build().unwrap();
    let registry = Registry::new()
        .with(Noop {
            starts: starts.clone(),
            ends: ends.clone(),
        })
        .unwrap();
    let runner = SessionRunner::builder(client, registry).build();
    let reader = if reader_thread {
        setup_rt.spawn(raw_reader(
            setup.clone(),
            session.to_owned(),
            arrivals.clone(),
        ))
    } else {
        // On the runner's own thread, with its own connection pool (as the TypeScript side
        // reads its raw stream on the runner's event loop).
        let own = Arc::new(Setup {
            http: reqwest::Client::new(),
            base: setup.base.clone(),
            key: setup.key.clone(),
        });
        rt.spawn(raw_reader(own, session.to_owned(), arrivals.clone()))
    };
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(200)).await });
    let sid = SessionId::new(session.to_owned());
    let mut overheads = Vec::new();
    rt.block_on(async {
        for i in 0..total {
            let mut stream = runner.turn(&sid).message(CALL_NOOP).stream();
            let mut id = None;
            while let Some(o) = stream.next().await {
                match o.unwrap() {
                    Outcome::ToolFinished(rec) => id = Some(rec.call.tool_use_id.to_string()),
                    Outcome::Finished(_) => break,
                    _ => {}
                }
            }
            let id = id.unwrap();
            // The raw reader may trail by a few µs.
            tokio::time::sleep(Duration::from_millis(1)).await;
            if i < warmup {
                continue;
            }
            let get = |m: &Stamps| *m.lock().unwrap().get(&id).unwrap();
            let (a, o, s, e, p) = (
                get(&arrivals),
                get(&own),
                get(&starts),
                get(&ends),
                get(&posts),
            );
            let us =
                |from: Instant, to: Instant| to.saturating_duration_since(from).as_secs_f64() * 1e6;
            overheads.push((us(o, s), us(a, s), us(e, p)));
        }
    });
    reader.abort();
    overheads
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child_main();
        return;
    }
    if let Some(version) = std::env::var_os(MEMORY_CHILD_ENV) {
        memory_main(version.to_str().unwrap());
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let bench = std::env::args().any(|a| a == "--bench");
    let trips: usize = if !bench {
        5
    } else if quick {
        200
    } else {
        1000
    };
    let sessions = if bench { SESSIONS } else { 10 };
    let platform = PlatformProcess::start();
    let setup_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let setup = Arc::new(Setup {
        http: reqwest::Client::new(),
        base: platform.base_url.clone(),
        key: platform.api_key.clone(),
    });
    let (agent, env) = setup_rt.block_on(async {
        let env = setup
            .post("/v1/environments", json!({"name": "bench"}))
            .await;
        let schema = json!({"type": "object", "properties": {}});
        let agent = setup
            .post(
                "/v1/agents",
                json!({"name": "runner-bench", "model": "claude-sonnet-4-6", "tools": [
                    {"type": "custom", "name": "noop", "description": "Does nothing",
                        "input_schema": schema},
                    {"type": "custom", "name": "other", "description": "Served elsewhere",
                        "input_schema": schema},
                ]}),
            )
            .await;
        (
            agent["id"].as_str().unwrap().to_owned(),
            env["id"].as_str().unwrap().to_owned(),
        )
    });

    // --- Rust overhead: with the client's defaults, then with no idle pooled connections.
    let warmup = trips / 10;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pass = |fresh: bool, reader_thread: bool| {
        let session = setup_rt.block_on(setup.session(&agent, &env));
        rust_overhead(
            &rt,
            &setup_rt,
            &setup,
            &platform,
            &session,
            trips + warmup,
            warmup,
            fresh,
            reader_thread,
        )
    };
    let overheads = pass(false, false);
    let overheads_fresh = pass(true, false);
    let overheads_thread = pass(false, true);
    let report = |name: &str, o: &[Trip]| {
        let mut own: Vec<f64> = o.iter().map(|x| x.0 + x.2).collect();
        let mut raw: Vec<f64> = o.iter().map(|x| x.1 + x.2).collect();
        let mut d: Vec<f64> = o.iter().map(|x| x.0).collect();
        let mut s: Vec<f64> = o.iter().map(|x| x.2).collect();
        for v in [&mut own, &mut raw, &mut d, &mut s] {
            v.sort_by(f64::total_cmp);
        }
        println!(
            "  {name:<28} overhead p50 {:>7.1} µs  p99 {:>7.1} µs  max {:>8.1} µs  (arrival→tool \
             start p50 {:.1}/p99 {:.1} µs; tool end→POST p50 {:.1}/p99 {:.1} µs); from the raw \
             reader's arrival: p50 {:.1} µs, p99 {:.1} µs; {} round trips",
            pct(&own, 0.5),
            pct(&own, 0.99),
            pct(&own, 1.0),
            pct(&d, 0.5),
            pct(&d, 0.99),
            pct(&s, 0.5),
            pct(&s, 0.99),
            pct(&raw, 0.5),
            pct(&raw, 0.99),
            own.len()
        );
    };
    println!(
        "\nrunner overhead per custom-tool round trip (platform child at {}):",
        platform.base_url
    );
    report("steward SessionRunner", &overheads);
    report("steward, unpooled client", &overheads_fresh);
    report("steward, reader on a thread", &overheads_thread);

    // --- TypeScript overhead and memory.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("bench/ts/runner.mjs");
    let ts_ready = root
        .join("conformance/ts/node_modules/@anthropic-ai/sdk/package.json")
        .exists();
    let mut ts_mem = None;
    if ts_ready {
        let ts_session = setup_rt.block_on(setup.session(&agent, &env));
        let ids = setup_rt.block_on(setup.sessions(&agent, &env, sessions));
        let out = Command::new("node")
            .arg(&script)
            .arg(&platform.base_url)
            .arg(&ts_session)
            .arg(trips.to_string())
            .arg(warmup.to_string())
            .arg(ids.join(","))
            .env("STEWARD_API_KEY", &platform.api_key)
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "runner.mjs failed: {}", out.status);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let o: Vec<Trip> = v["trips_us"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t[0].as_f64().unwrap(),
                    t[1].as_f64().unwrap(),
                    t[2].as_f64().unwrap(),
                )
            })
            .collect();
        report("@anthropic-ai/sdk 1.10.0", &o);
        // Bytes, as node reports them; in KiB like the Rust side's.
        let kib = |key: &str| v[key].as_f64().unwrap() / 1024.0;
        ts_mem = Some((
            (kib("rss_before"), kib("anon_before")),
            (kib("rss_after"), kib("anon_after")),
        ));
    } else {
        println!("  TypeScript SDK skipped: not installed in conformance/ts/node_modules");
    }

    // --- Rust memory: one runner, `sessions` sessions waiting on `other`, in a child process
    // of its own for each HTTP version (a heap grown by one pass would hide the next one's).
    println!("\nmemory per idle session ({sessions} sessions waiting on another client's tool):");
    // Per session in KiB: (RSS, RssAnon) growth over the sessions.
    let per = |before: (f64, f64), after: (f64, f64)| {
        let n = sessions as f64;
        ((after.0 - before.0) / n, (after.1 - before.1) / n)
    };
    let line = |name: &str, before: (f64, f64), after: (f64, f64)| {
        let (rss, anon) = per(before, after);
        println!(
            "  {name:<30} RSS {:>7.0} -> {:>7.0} KiB: {rss:>6.1} KiB/session   anonymous {:>7.0} \
             -> {:>7.0} KiB: {anon:>6.1} KiB/session",
            before.0, after.0, before.1, after.1
        );
        (rss, anon)
    };
    let mut rust = Vec::new();
    for (name, version) in [
        ("steward SessionRunner, HTTP/1.1", "http1"),
        ("steward SessionRunner, h2c", "http2"),
    ] {
        let ids = setup_rt.block_on(setup.sessions(&agent, &env, sessions));
        let (before, after) = memory_child(&platform, version, &ids);
        let f = |(a, b): (u64, u64)| (a as f64, b as f64);
        rust.push(line(name, f(before), f(after)));
    }
    if let Some((before, after)) = ts_mem {
        let (rss, anon) = line("@anthropic-ai/sdk 1.10.0", before, after);
        for (name, (r, a)) in ["HTTP/1.1", "h2c"].iter().zip(&rust) {
            println!(
                "  TypeScript / steward over {name}: {:.1}x by RSS, {:.1}x by anonymous memory",
                rss / r,
                anon / a
            );
        }
    }
}
