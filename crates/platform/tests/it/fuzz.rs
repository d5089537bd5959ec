//! Property tests over the whole router, in-process: arbitrary JSON and arbitrary bytes on every
//! POST route never produce a 5xx or a panic, and 4xx answers are always in the API's error
//! shape; memory path validation never panics and never accepts a dangerous path; the core
//! wire types read mutated protocol fixtures without panicking and write back stably. The case
//! count is [`CASES`], or `PROPTEST_CASES` when set (`cargo xtask fuzz`).

use axum::body::Body;
use axum::http::{Request, header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use steward_platform::{Platform, ROUTES};
use tower::ServiceExt;

/// Cases per property: enough to shake out shallow bugs, few enough for CI.
const CASES: u32 = 64;

/// Field names the API uses, so that generated objects reach past the first type check.
const KEYS: &[&str] = &[
    "name",
    "model",
    "path",
    "content",
    "display_name",
    "metadata",
    "type",
    "description",
    "system",
    "tools",
    "config",
    "agent",
    "environment_id",
    "events",
    "auth",
    "precondition",
    "content_sha256",
    "view",
    "resources",
    "title",
    "mcp_servers",
    "skills",
    "vault_ids",
    "networking",
    "packages",
    "id",
    "text",
];

/// An opened platform with one object of each kind, and the POST routes as concrete paths
/// (parents that exist where the platform has one, so bodies reach the deeper checks).
struct Target {
    runtime: tokio::runtime::Runtime,
    platform: Platform,
    post_paths: Vec<String>,
    store_path: String,
    _dir: tempfile::TempDir,
}

impl Target {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let platform = runtime
            .block_on(
                Platform::builder()
                    .rate_limit(None)
                    .data_dir(dir.path())
                    .open(),
            )
            .unwrap();
        let mut target = Self {
            runtime,
            platform,
            post_paths: Vec::new(),
            store_path: String::new(),
            _dir: dir,
        };
        let agent = target.create(
            "/v1/agents",
            json!({"name": "fuzz", "model": "claude-sonnet-4-5"}),
        );
        let environment = target.create("/v1/environments", json!({"name": "fuzz"}));
        let store = target.create("/v1/memory_stores", json!({"name": "fuzz"}));
        let memory = target.create(
            &format!("/v1/memory_stores/{store}/memories"),
            json!({"path": "/fuzz.md", "content": "fuzz"}),
        );
        let vault = target.create("/v1/vaults", json!({"display_name": "fuzz"}));
        target.store_path = format!("/v1/memory_stores/{store}/memories");
        let real = [
            ("{agent_id}", agent),
            ("{environment_id}", environment),
            ("{memory_store_id}", store),
            ("{memory_id}", memory),
            ("{vault_id}", vault),
        ];
        target.post_paths = ROUTES
            .iter()
            .filter(|(method, _)| *method == "POST")
            .map(|(_, pattern)| {
                let mut path = (*pattern).to_owned();
                for (name, id) in &real {
                    path = path.replace(name, id);
                }
                crate::security::sample_path(&path)
            })
            .collect();
        target
    }

    /// Creates an object and returns its ID.
    fn create(&self, path: &str, body: Value) -> String {
        let (status, body) = self.send(path, body.to_string().into_bytes());
        assert_eq!(status, 200, "{path}: {body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// POSTs raw bytes as JSON; returns the status and the body, checking the error shape.
    fn send(&self, path: &str, bytes: Vec<u8>) -> (u16, Value) {
        let request = Request::builder()
            .method("POST")
            .uri(path)
            .header(
                "authorization",
                format!("Bearer {}", self.platform.api_key()),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, bytes.len())
            .body(Body::from(bytes))
            .unwrap();
        let router = self.platform.router();
        self.runtime.block_on(async move {
            let response =
                tokio::time::timeout(std::time::Duration::from_secs(5), router.oneshot(request))
                    .await
                    .expect("the router answers within 5 s")
                    .unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "POST {path}: not JSON ({e}): {status} {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert!(status < 500, "POST {path}: {status} {body}");
            if status >= 400 {
                assert_eq!(body["type"], "error", "POST {path}: {body}");
                assert!(body["error"]["type"].is_string(), "POST {path}: {body}");
                assert!(body["error"]["message"].is_string(), "POST {path}: {body}");
                assert_eq!(
                    body["request_id"],
                    headers["request-id"].to_str().unwrap(),
                    "POST {path}"
                );
            }
            (status, body)
        })
    }
}

/// Arbitrary JSON of bounded depth and size, with object keys mostly drawn from [`KEYS`].
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z_/. ]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        let key = prop_oneof![
            4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
            1 => any::<String>(),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// A runner of [`CASES`] cases, or of `PROPTEST_CASES` when it is set (`cargo xtask fuzz`
/// sets it high): `Config::default()` reads the variable.
fn runner() -> TestRunner {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        Config::default().cases
    } else {
        CASES
    };
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Reads a JSON value as `T` and, when that succeeds, checks that what `T` writes back reads
/// again and writes back the same (serialization is stable). Never panics on bad input.
fn reparses<T: serde::Serialize + serde::de::DeserializeOwned>(
    value: &Value,
) -> Result<(), TestCaseError> {
    let Ok(parsed) = serde_json::from_value::<T>(value.clone()) else {
        return Ok(());
    };
    let written = serde_json::to_value(&parsed).expect("a parsed value serializes");
    let again = serde_json::from_value::<T>(written.clone());
    prop_assert!(
        again.is_ok(),
        "{written} does not read back: {:?}",
        again.err()
    );
    let rewritten = serde_json::to_value(again.expect("checked")).expect("serializes");
    prop_assert_eq!(rewritten, written);
    Ok(())
}

/// Every fixture of the core crate's objects and events.
fn fixtures() -> Vec<Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures");
    let mut out = Vec::new();
    for dir in ["objects", "events"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        for path in paths {
            out.push(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap());
        }
    }
    out
}

/// Replaces (or, with `null` on an even index, removes) one value of a fixture, at any depth:
/// `at` picks the object key or array item counted depth first.
fn mutate(value: &mut Value, at: &mut usize, with: &Value) -> bool {
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if *at == 0 {
                    if with.is_null() && key.len() % 2 == 0 {
                        map.remove(&key);
                    } else {
                        map.insert(key, with.clone());
                    }
                    return true;
                }
                *at -= 1;
                if mutate(map.get_mut(&key).expect("listed"), at, with) {
                    return true;
                }
            }
            false
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                if *at == 0 {
                    *item = with.clone();
                    return true;
                }
                *at -= 1;
                if mutate(item, at, with) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

#[test]
fn wire_types_read_mutated_fixtures_without_panicking_and_write_back_stably() {
    use steward_core::{agent, environment, event, memory, resource, session, thread, vault};
    let fixtures = fixtures();
    assert!(fixtures.len() > 100, "the fixtures were found");
    let strategy = (
        proptest::sample::select(fixtures),
        any::<usize>(),
        json_value(),
    );
    runner()
        .run(&strategy, |(mut value, at, with)| {
            let mut at = at % 64;
            mutate(&mut value, &mut at, &with);
            reparses::<agent::Agent>(&value)?;
            reparses::<environment::Environment>(&value)?;
            reparses::<session::Session>(&value)?;
            reparses::<thread::SessionThread>(&value)?;
            reparses::<resource::SessionResource>(&value)?;
            reparses::<event::SessionEvent>(&value)?;
            reparses::<event::UserEvent>(&value)?;
            reparses::<memory::MemoryStore>(&value)?;
            reparses::<memory::Memory>(&value)?;
            reparses::<memory::MemoryVersion>(&value)?;
            reparses::<vault::Vault>(&value)?;
            reparses::<vault::Credential>(&value)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_json_on_every_post_route_is_never_a_5xx() {
    let target = Target::new();
    let strategy = (
        proptest::sample::select(target.post_paths.clone()),
        json_value(),
    );
    runner()
        .run(&strategy, |(path, body)| {
            target.send(&path, body.to_string().into_bytes());
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_bytes_on_every_post_route_are_never_a_5xx() {
    let target = Target::new();
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        "[{}\\[\\]\":,0-9a-z \\\\]{0,64}".prop_map(String::into_bytes),
    ];
    let strategy = (proptest::sample::select(target.post_paths.clone()), bytes);
    runner()
        .run(&strategy, |(path, bytes)| {
            target.send(&path, bytes);
            Ok(())
        })
        .unwrap();
}

/// Paths built from the characters that matter to the rules, plus arbitrary strings.
fn path_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[/./a\\\\\u{0}é\u{301} ]{0,16}",
        "/[a./\\\\]{0,12}",
        any::<String>(),
        any::<String>().prop_map(|s| format!("/{s}")),
    ]
}

/// What must never be accepted, whatever else the rules say.
fn dangerous(path: &str) -> bool {
    path.contains('\0')
        || path.contains('\\')
        || path.split('/').skip(1).any(|s| s.is_empty() || s == "..")
}

#[test]
fn memory_path_validation_never_accepts_a_dangerous_path() {
    runner()
        .run(&path_string(), |path| {
            if steward_core::memory::validate_memory_path(&path).is_ok() {
                prop_assert!(path.starts_with('/'), "{path:?}");
                prop_assert!(!dangerous(&path), "accepted {path:?}");
            }
            Ok(())
        })
        .unwrap();
    for path in ["/a/../b", "/a//b", "/a\\b", "/a\0b", "/..", "/a/", "//"] {
        assert!(
            steward_core::memory::validate_memory_path(path).is_err(),
            "{path:?}"
        );
    }
}

#[test]
fn memory_creates_with_arbitrary_paths_never_store_a_dangerous_one() {
    let target = Target::new();
    runner()
        .run(&path_string(), |path| {
            let body = json!({"path": path, "content": "x"});
            let (status, answer) = target.send(&target.store_path, body.to_string().into_bytes());
            if status == 200 {
                let stored = answer["path"].as_str().unwrap_or_default().to_owned();
                prop_assert!(!dangerous(&stored), "stored {stored:?} for {path:?}");
                prop_assert!(!dangerous(&path), "accepted {path:?}");
            } else {
                prop_assert!(status == 400 || status == 409, "{status} {answer}");
            }
            Ok(())
        })
        .unwrap();
}
