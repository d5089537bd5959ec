//! Security properties of the whole router: every route needs a valid key, every POST route
//! refuses oversize bodies, and keys are rate limited. Routes come from
//! [`steward_platform::ROUTES`], which is checked against the router and the sources so that a
//! new route cannot skip these tests.

use std::collections::BTreeSet;
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;
use steward_platform::limits::RateLimit;
use steward_platform::{Platform, ROUTES};
use tower::ServiceExt;

/// A platform opened (not listening) in a temporary directory, driven in-process.
struct InProcess {
    platform: Platform,
    _dir: tempfile::TempDir,
}

/// A response, read whole.
struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl InProcess {
    async fn open(builder: steward_platform::PlatformBuilder) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let platform = builder.data_dir(dir.path()).open().await.unwrap();
        Self {
            platform,
            _dir: dir,
        }
    }

    fn key(&self) -> String {
        self.platform.api_key().to_owned()
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            self.platform.router().oneshot(request),
        )
        .await
        .expect("the router answers within 5 s")
        .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "response is not JSON ({e}): {status} {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// A concrete path for a pattern: each `{name}` becomes a well-formed ID nobody created.
pub(crate) fn sample_path(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 1..end];
        let prefix = match name {
            "agent_id" => "agent_",
            "environment_id" => "env_",
            "session_id" => "sesn_",
            "resource_id" => "sesrsc_",
            "thread_id" => "sthr_",
            "memory_store_id" => "memstore_",
            "memory_id" => "mem_",
            "memory_version_id" => "memver_",
            "vault_id" => "vlt_",
            "credential_id" => "vcrd_",
            other => panic!("no sample for path parameter {other}"),
        };
        out.push_str(prefix);
        out.push_str("0123456789abcdefghijklmn");
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn request(method: &str, path: &str, auth: Option<(&str, &str)>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some((name, value)) = auth {
        builder = builder.header(name, value);
    }
    if method == "POST" {
        builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap()
    } else {
        builder.body(Body::empty()).unwrap()
    }
}

/// Asserts an error in the API's shape with this status and type; returns the message.
#[track_caller]
fn assert_error(answer: &Answer, status: u16, error_type: &str, what: &str) -> String {
    assert_eq!(answer.status, status, "{what}: {}", answer.body);
    assert_eq!(answer.body["type"], "error", "{what}: {}", answer.body);
    assert_eq!(
        answer.body["error"]["type"], error_type,
        "{what}: {}",
        answer.body
    );
    let header = answer.headers["request-id"].to_str().unwrap();
    assert!(header.starts_with("req_"), "{what}: {header}");
    assert_eq!(answer.body["request_id"], header, "{what}");
    assert_eq!(answer.headers["content-type"], "application/json", "{what}");
    answer.body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {}", answer.body))
        .to_owned()
}

/// True when the answer is the router's own fallback (no route / wrong method).
fn is_fallback(answer: &Answer) -> bool {
    let message = answer.body["error"]["message"].as_str().unwrap_or("");
    answer.status == 405 || (answer.status == 404 && message.starts_with("no route for"))
}

fn listed_paths() -> BTreeSet<&'static str> {
    ROUTES.iter().map(|(_, path)| *path).collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_route_list_matches_the_sources() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut registrations = 0;
    let mut literal_paths = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            registrations += 1;
            rest = &rest[at + ".route(".len()..];
            let argument = rest.trim_start();
            if let Some(quoted) = argument.strip_prefix('"') {
                let end = quoted.find('"').unwrap();
                literal_paths.insert(quoted[..end].to_owned());
            }
        }
    }
    let listed = listed_paths();
    for path in &literal_paths {
        assert!(
            listed.contains(path.as_str()),
            "{path} is routed in the sources but missing from steward_platform::ROUTES"
        );
    }
    assert_eq!(
        registrations,
        listed.len(),
        "the sources make {registrations} `.route(` calls but ROUTES lists {} paths: list every \
         new route in src/routes.rs",
        listed.len()
    );
    let unique: BTreeSet<_> = ROUTES.iter().collect();
    assert_eq!(unique.len(), ROUTES.len(), "ROUTES has duplicates");
}

#[tokio::test]
async fn every_listed_route_is_routed_and_nothing_else_is() {
    let p = InProcess::open(Platform::builder().rate_limit(None)).await;
    let bearer = format!("Bearer {}", p.key());
    let auth = Some(("authorization", bearer.as_str()));
    for path in listed_paths() {
        let concrete = sample_path(path);
        for method in ["GET", "POST", "DELETE", "PUT", "PATCH"] {
            let answer = p.send(request(method, &concrete, auth)).await;
            let what = format!("{method} {concrete}");
            if ROUTES.contains(&(method, path)) {
                assert!(
                    !is_fallback(&answer),
                    "{what} is listed but not routed: {} {}",
                    answer.status,
                    answer.body
                );
                assert!(
                    answer.status < 500,
                    "{what}: {} {}",
                    answer.status,
                    answer.body
                );
            } else {
                assert_error(&answer, 405, "invalid_request_error", &what);
            }
        }
    }
    for unknown in ["/", "/v1", "/v1/nope", "/v1/agents/a/b/c/d", "/v2/agents"] {
        let answer = p.send(request("GET", unknown, auth)).await;
        let message = assert_error(&answer, 404, "not_found_error", unknown);
        assert!(message.starts_with("no route for"), "{unknown}: {message}");
    }
}

#[tokio::test]
async fn every_route_refuses_requests_without_a_valid_key() {
    let p = InProcess::open(Platform::builder().rate_limit(None)).await;
    let key = p.key();
    let wrong = "sk-steward-000000000000000000000000000000000000000000000000";
    let cases: Vec<(&str, Option<(&str, String)>)> = vec![
        ("no key", None),
        (
            "wrong bearer key",
            Some(("authorization", format!("Bearer {wrong}"))),
        ),
        ("wrong x-api-key", Some(("x-api-key", wrong.to_owned()))),
        ("key without a scheme", Some(("authorization", key.clone()))),
        (
            "key as basic auth",
            Some(("authorization", format!("Basic {key}"))),
        ),
        (
            "bearer inside x-api-key",
            Some(("x-api-key", format!("Bearer {key}"))),
        ),
        ("key in another header", Some(("api-key", key.clone()))),
        (
            "empty bearer",
            Some(("authorization", "Bearer ".to_owned())),
        ),
        (
            "truncated key",
            Some(("x-api-key", key[..key.len() - 1].to_owned())),
        ),
    ];
    for (method, path) in ROUTES {
        let concrete = sample_path(path);
        for (case, auth) in &cases {
            let auth = auth.as_ref().map(|(name, value)| (*name, value.as_str()));
            let answer = p.send(request(method, &concrete, auth)).await;
            assert_error(
                &answer,
                401,
                "authentication_error",
                &format!("{method} {concrete} with {case}"),
            );
        }
    }
}

#[tokio::test]
async fn every_post_route_refuses_an_oversize_body() {
    let limit = 1024;
    let p = InProcess::open(Platform::builder().rate_limit(None).body_limit(limit)).await;
    let bearer = format!("Bearer {}", p.key());
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(limit));
    for (method, path) in ROUTES.iter().filter(|(method, _)| *method == "POST") {
        let concrete = sample_path(path);
        let request = Request::builder()
            .method(*method)
            .uri(&concrete)
            .header("authorization", &bearer)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, big.len())
            .body(Body::from(big.clone()))
            .unwrap();
        let answer = p.send(request).await;
        let what = format!("POST {concrete}");
        let message = assert_error(&answer, 413, "invalid_request_error", &what);
        assert!(message.contains("1024"), "{what}: {message}");
        assert_eq!(
            answer.body["error"]["details"]["error_code"], "request_too_large",
            "{what}"
        );
    }
}

#[tokio::test]
async fn keys_are_rate_limited_with_retry_headers() {
    let limit = RateLimit {
        per_second: 2.0,
        burst: 3,
    };
    let p = InProcess::open(Platform::builder().rate_limit(Some(limit))).await;
    let bearer = format!("Bearer {}", p.key());
    let auth = Some(("authorization", bearer.as_str()));
    for _ in 0..3 {
        let answer = p.send(request("GET", "/v1/agents", auth)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    // Requests without a valid key do not spend the key's tokens; they get their 401.
    let anonymous = p.send(request("GET", "/v1/agents", None)).await;
    assert_error(&anonymous, 401, "authentication_error", "anonymous");

    let answer = p.send(request("GET", "/v1/agents", auth)).await;
    assert_error(&answer, 429, "rate_limit_error", "fourth request");
    let seconds: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let millis: u64 = answer.headers["retry-after-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(seconds, 1);
    assert!((1..=500).contains(&millis), "{millis}");

    // Another key has its own bucket.
    let other = "sk-steward-111111111111111111111111111111111111111111111111";
    p.platform
        .state()
        .db
        .write(move |tx| steward_platform::auth::insert_key(tx, other, Some("other")))
        .await
        .unwrap();
    let other_bearer = format!("Bearer {other}");
    let answer = p
        .send(request(
            "GET",
            "/v1/agents",
            Some(("authorization", &other_bearer)),
        ))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // After the advertised wait, the key may send again.
    tokio::time::sleep(std::time::Duration::from_millis(millis + 20)).await;
    let answer = p.send(request("GET", "/v1/agents", auth)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn the_default_rate_limit_is_generous() {
    let p = InProcess::open(Platform::builder()).await;
    let bearer = format!("Bearer {}", p.key());
    for _ in 0..300 {
        let answer = p
            .send(request(
                "GET",
                "/v1/agents?limit=1",
                Some(("authorization", &bearer)),
            ))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
}
