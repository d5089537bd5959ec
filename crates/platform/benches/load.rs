//! Sustained mixed load on one platform process, with many SSE streams held open.
//!
//! Run with `cargo xtask load [--streams N] [--rps N] [--secs N] [--settle N]` (or
//! `cargo bench -p steward-platform --bench load -- --streams N ...`). Defaults: 1,000 streams,
//! 200 requests per second, 60 s of load, then 30 s of quiet before memory is read again.
//! Under `cargo test --benches` (no `--bench` argument) it runs a small smoke load (20
//! streams, 20 requests per second, 2 s, 1 s of quiet).
//!
//! **The platform** is the `steward-platform` binary of this build (release under `cargo
//! bench`), started as a child process (`serve --listen 127.0.0.1:0` in a temporary data
//! directory, offline model, `RUST_LOG=error`); its memory figures are its own, read from
//! `/proc/<pid>/status`. This process is the client.
//!
//! **Setup:** one environment, one agent (offline model, the built-in toolset), one memory
//! store with 100 memories, one session per stream; then every session's SSE stream
//! (`GET /v1/sessions/{id}/events/stream`) is opened and held, each read by its own task until
//! the end. Setup requests answered 429 by the per-key rate limit are retried after
//! `retry-after-ms`, as the SDKs do.
//!
//! **Load:** an open loop that starts one request every `1/rps` seconds for `secs` seconds,
//! cycling through five kinds: a memory write (an update of one of the 100 memories, so one
//! new version), a memory read, a session list (`limit=20`), a session retrieve, and an event
//! post (a `user.message` to one session, round robin, which the offline model answers, so
//! events flow to the streams). At most 512 requests are in flight; a tick that finds none free
//! waits (and is counted as late). Each request has a 30 s timeout, so the run is bounded.
//! A non-2xx status or a transport error is an error; the run fails unless there are none and
//! every stream is still open at the end.
//!
//! **Figures:** errors per kind, p50/p99/max latency per kind (send to last body byte), the
//! achieved rate, the platform's `VmRSS` before the streams were opened, with every stream
//! open before the load, at its peak during the load (sampled every 100 ms, and `VmHWM`), and
//! `settle` seconds after the load ended (streams still open), with the ratio of the last to
//! the pre-load figure, and the streams still open. The last line is the same as JSON.

#![expect(clippy::print_stdout, reason = "the bench prints its figures")]
#![expect(clippy::unwrap_used, reason = "a bench fails on any unexpected error")]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::PlatformProcess;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Most requests in flight during the load.
const MAX_IN_FLIGHT: usize = 512;

/// Timeout of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Memories in the store the load reads and writes.
const MEMORIES: usize = 100;

/// Setup requests in flight at once.
const SETUP_CONCURRENCY: usize = 16;

/// How often one setup request is retried after a 429.
const MAX_THROTTLED: usize = 50;

/// The run's shape.
#[derive(Debug, Clone, Copy)]
struct Options {
    streams: usize,
    rps: u32,
    secs: u64,
    settle: u64,
}

impl Options {
    fn parse() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let bench_mode = args.iter().any(|a| a == "--bench");
        let mut options = if bench_mode {
            Self {
                streams: 1000,
                rps: 200,
                secs: 60,
                settle: 30,
            }
        } else {
            Self {
                streams: 20,
                rps: 20,
                secs: 2,
                settle: 1,
            }
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || -> u64 {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{arg} needs a number"))
            };
            match arg.as_str() {
                "--streams" => options.streams = usize::try_from(value()).unwrap(),
                "--rps" => options.rps = u32::try_from(value()).unwrap().max(1),
                "--secs" => options.secs = value(),
                "--settle" => options.settle = value(),
                "--bench" => {}
                other => panic!("unknown argument {other} (--streams --rps --secs --settle)"),
            }
        }
        options
    }
}

/// `VmRSS` and `VmHWM` of a `/proc/*/status` file, KiB.
fn memory(path: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The kinds of request of the load, in the order they cycle.
const KINDS: [&str; 5] = [
    "memory_write",
    "memory_read",
    "session_list",
    "session_retrieve",
    "event_post",
];

/// What the load measured of one kind.
#[derive(Debug, Default)]
struct KindStats {
    latencies: Vec<Duration>,
    errors: usize,
}

/// The client side: HTTP clients, the platform's URL, the objects the load uses.
struct Driver {
    http: reqwest::Client,
    base_url: String,
    store: String,
    memories: Vec<String>,
    sessions: Vec<String>,
    stats: Mutex<BTreeMap<&'static str, KindStats>>,
    first_errors: Mutex<Vec<String>>,
}

impl Driver {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A setup request: a 429 is retried after `retry-after-ms`; anything but 200 fails.
    async fn setup(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        for _ in 0..MAX_THROTTLED {
            let mut request = self.http.request(method.clone(), self.url(path));
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = response
                    .headers()
                    .get("retry-after-ms")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(1000);
                tokio::time::sleep(Duration::from_millis(wait)).await;
                continue;
            }
            let value: Value = response.json().await.unwrap();
            assert!(status.is_success(), "{method} {path}: {status} {value}");
            return value;
        }
        panic!("{method} {path}: still throttled after {MAX_THROTTLED} tries");
    }

    /// Request `n` of the load.
    async fn request(&self, n: usize) {
        let kind = KINDS[n % KINDS.len()];
        let round = n / KINDS.len();
        let (method, path, body) = match kind {
            "memory_write" => (
                Method::POST,
                format!(
                    "/v1/memory_stores/{}/memories/{}",
                    self.store,
                    self.memories[round % self.memories.len()]
                ),
                Some(json!({"content": format!("load write {n}\n")})),
            ),
            "memory_read" => (
                Method::GET,
                format!(
                    "/v1/memory_stores/{}/memories/{}",
                    self.store,
                    self.memories[round % self.memories.len()]
                ),
                None,
            ),
            "session_list" => (Method::GET, "/v1/sessions?limit=20".to_owned(), None),
            "session_retrieve" => (
                Method::GET,
                format!(
                    "/v1/sessions/{}",
                    self.sessions[round % self.sessions.len()]
                ),
                None,
            ),
            _ => (
                Method::POST,
                format!(
                    "/v1/sessions/{}/events",
                    self.sessions[round % self.sessions.len()]
                ),
                Some(json!({"events": [{"type": "user.message",
                    "content": [{"type": "text", "text": format!("Load message {n}.")}]}]})),
            ),
        };
        let started = Instant::now();
        let mut request = self
            .http
            .request(method.clone(), self.url(&path))
            .timeout(REQUEST_TIMEOUT);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(_) if status.is_success() => Ok(()),
                    Ok(body) => Err(format!(
                        "{method} {path}: {status} {}",
                        String::from_utf8_lossy(&body)
                    )),
                    Err(e) => Err(format!("{method} {path}: reading the body: {e}")),
                }
            }
            Err(e) => Err(format!("{method} {path}: {e}")),
        };
        let elapsed = started.elapsed();
        let mut stats = self.stats.lock().unwrap();
        let entry = stats.entry(kind).or_default();
        entry.latencies.push(elapsed);
        if let Err(error) = outcome {
            entry.errors += 1;
            let mut first = self.first_errors.lock().unwrap();
            if first.len() < 10 {
                first.push(error);
            }
        }
    }
}

/// Holds one SSE stream open until `stop`; counts its bytes. Returns whether the stream was
/// still open when asked to stop.
async fn hold_stream(
    http: reqwest::Client,
    url: String,
    opened: Arc<AtomicUsize>,
    bytes: Arc<AtomicU64>,
    stop: CancellationToken,
) -> bool {
    let response = match http.get(&url).send().await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => {
            println!("stream {url}: {}", response.status());
            return false;
        }
        Err(e) => {
            println!("stream {url}: {e}");
            return false;
        }
    };
    opened.fetch_add(1, Ordering::Relaxed);
    let mut response = response;
    loop {
        tokio::select! {
            chunk = response.chunk() => match chunk {
                Ok(Some(chunk)) => {
                    bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                Ok(None) | Err(_) => return stop.is_cancelled(),
            },
            () = stop.cancelled() => return true,
        }
    }
}

/// p50, p99 and maximum of a sample, in milliseconds.
fn percentiles(samples: &[Duration]) -> (f64, f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |q: f64| {
        let index = ((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1);
        sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99), at(1.0))
}

fn main() {
    let options = Options::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let platform = PlatformProcess::start("steward-load-");
    let status = platform.status_path();
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {}", platform.api_key)).unwrap(),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(MAX_IN_FLIGHT)
        .build()
        .unwrap();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let (rss_start, _) = memory(&status);

    // Setup.
    let setup_started = Instant::now();
    let driver = runtime.block_on(async {
        let mut driver = Driver {
            http: http.clone(),
            base_url: platform.base_url.clone(),
            store: String::new(),
            memories: Vec::new(),
            sessions: Vec::new(),
            stats: Mutex::default(),
            first_errors: Mutex::default(),
        };
        let environment = driver
            .setup(
                Method::POST,
                "/v1/environments",
                Some(json!({"name": "load"})),
            )
            .await;
        let agent = driver
            .setup(
                Method::POST,
                "/v1/agents",
                Some(json!({"name": "load", "model": "claude-sonnet-4-6",
                    "tools": [{"type": "agent_toolset_20260401"}]})),
            )
            .await;
        let store = driver
            .setup(
                Method::POST,
                "/v1/memory_stores",
                Some(json!({"name": "load"})),
            )
            .await;
        driver.store = store["id"].as_str().unwrap().to_owned();
        for i in 0..MEMORIES {
            let memory = driver
                .setup(
                    Method::POST,
                    &format!("/v1/memory_stores/{}/memories", driver.store),
                    Some(json!({"path": format!("/load/{i}.md"), "content": "initial\n"})),
                )
                .await;
            driver
                .memories
                .push(memory["id"].as_str().unwrap().to_owned());
        }
        let driver = Arc::new(driver);
        let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
        let body = json!({"agent": agent["id"], "environment_id": environment["id"]});
        let tasks: Vec<_> = (0..options.streams)
            .map(|_| {
                let (driver, gate, body) = (driver.clone(), gate.clone(), body.clone());
                tokio::spawn(async move {
                    let _permit = gate.acquire().await.unwrap();
                    let session = driver.setup(Method::POST, "/v1/sessions", Some(body)).await;
                    session["id"].as_str().unwrap().to_owned()
                })
            })
            .collect();
        let mut sessions = Vec::with_capacity(tasks.len());
        for task in tasks {
            sessions.push(task.await.unwrap());
        }
        let mut driver = Arc::into_inner(driver).unwrap();
        driver.sessions = sessions;
        Arc::new(driver)
    });
    let (rss_setup, _) = memory(&status);

    // Open every stream and wait until each answered.
    let opened = Arc::new(AtomicUsize::new(0));
    let stream_bytes = Arc::new(AtomicU64::new(0));
    let stop = CancellationToken::new();
    let streams: Vec<_> = runtime.block_on(async {
        let streams: Vec<_> = driver
            .sessions
            .iter()
            .map(|session| {
                tokio::spawn(hold_stream(
                    http.clone(),
                    driver.url(&format!("/v1/sessions/{session}/events/stream")),
                    opened.clone(),
                    stream_bytes.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while opened.load(Ordering::Relaxed) < options.streams && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        streams
    });
    let setup = setup_started.elapsed();
    let streams_opened = opened.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(1));
    let (rss_before, hwm_before) = memory(&status);

    // The load.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (sampling, status) = (sampling.clone(), status.clone());
        std::thread::spawn(move || {
            let mut peak = 0;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(memory(&status).0);
                std::thread::sleep(Duration::from_millis(100));
            }
            peak
        })
    };
    let total = usize::try_from(u64::from(options.rps) * options.secs).unwrap();
    let late = Arc::new(AtomicUsize::new(0));
    let load_started = Instant::now();
    runtime.block_on(async {
        let gate = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut ticker =
            tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(options.rps)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::with_capacity(total);
        for n in 0..total {
            ticker.tick().await;
            let permit = match gate.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    late.fetch_add(1, Ordering::Relaxed);
                    gate.clone().acquire_owned().await.unwrap()
                }
            };
            let driver = driver.clone();
            tasks.push(tokio::spawn(async move {
                driver.request(n).await;
                drop(permit);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let load_time = load_started.elapsed();
    let (rss_end, hwm_end) = memory(&status);
    std::thread::sleep(Duration::from_secs(options.settle));
    sampling.store(false, Ordering::Relaxed);
    let rss_peak = sampler.join().unwrap().max(rss_end);
    let (rss_after, _) = memory(&status);

    // Every stream must still be open.
    let still_open = runtime.block_on(async {
        stop.cancel();
        let mut open = 0;
        for stream in streams {
            if stream.await.unwrap() {
                open += 1;
            }
        }
        open
    });

    let stats = driver.stats.lock().unwrap();
    let errors: usize = stats.values().map(|s| s.errors).sum();
    let done: usize = stats.values().map(|s| s.latencies.len()).sum();
    let ratio = rss_after as f64 / rss_before as f64;
    println!(
        "load: {} SSE streams held open, {} requests/s of mixed reads and writes for {} s, \
         one platform process",
        options.streams, options.rps, options.secs
    );
    println!(
        "  setup {:.1} s (store with {MEMORIES} memories, {} sessions, {streams_opened} streams \
         opened)",
        setup.as_secs_f64(),
        options.streams
    );
    println!(
        "  {done} requests in {:.1} s ({:.1}/s achieved), {errors} errors, {} ticks waited for \
         one of {MAX_IN_FLIGHT} in-flight slots",
        load_time.as_secs_f64(),
        done as f64 / load_time.as_secs_f64(),
        late.load(Ordering::Relaxed)
    );
    let mut kinds = serde_json::Map::new();
    for (kind, stat) in stats.iter() {
        let (p50, p99, max) = percentiles(&stat.latencies);
        println!(
            "  {kind:<17} {:>6} requests {:>3} errors  p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  \
             max {max:>7.2} ms",
            stat.latencies.len(),
            stat.errors
        );
        kinds.insert(
            (*kind).to_owned(),
            json!({"requests": stat.latencies.len(), "errors": stat.errors,
                "p50_ms": p50, "p99_ms": p99, "max_ms": max}),
        );
    }
    for error in driver.first_errors.lock().unwrap().iter() {
        println!("  error: {error}");
    }
    println!(
        "  streams: {streams_opened} opened, {still_open} still open at the end, {:.1} KiB of \
         events received",
        stream_bytes.load(Ordering::Relaxed) as f64 / 1024.0
    );
    println!(
        "  platform VmRSS: {:.1} MiB at start, {:.1} MiB after setup, {:.1} MiB with every \
         stream open (before the load), {:.1} MiB peak during the load (VmHWM {:.1} -> {:.1} \
         MiB), {:.1} MiB {} s after the load: {ratio:.2}x the pre-load figure",
        mib(rss_start),
        mib(rss_setup),
        mib(rss_before),
        mib(rss_peak),
        mib(hwm_before),
        mib(hwm_end),
        mib(rss_after),
        options.settle
    );
    println!(
        "{}",
        json!({
            "streams": options.streams, "rps": options.rps, "secs": options.secs,
            "settle_secs": options.settle, "requests": done, "errors": errors,
            "achieved_rps": done as f64 / load_time.as_secs_f64(),
            "kinds": kinds, "streams_opened": streams_opened, "streams_still_open": still_open,
            "stream_bytes": stream_bytes.load(Ordering::Relaxed),
            "rss_kib": {"start": rss_start, "setup": rss_setup, "before_load": rss_before,
                "peak": rss_peak, "after_settle": rss_after},
            "rss_after_over_before": ratio,
        })
    );
    drop(stats);
    drop(platform);
    assert_eq!(errors, 0, "the load saw errors");
    assert_eq!(
        still_open, options.streams,
        "streams closed before the end of the run"
    );
}
