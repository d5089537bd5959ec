//! `/v1/memory_stores/…` over HTTP: stores, memories, versions, redaction, and the rules
//! around them (paths, limits, preconditions, conflicts, archived stores, restarts).

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_core::memory::{Actor, SessionActor};
use steward_core::{MemoryStoreId, SessionId};
use steward_platform::Platform;
use steward_platform::memory::MAX_MEMORIES_PER_STORE;

use crate::support::{Response, TestPlatform, id};

fn sha(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

async fn new_store(platform: &TestPlatform, name: &str) -> Value {
    platform
        .post("/v1/memory_stores", json!({"name": name}))
        .await
        .ok()
}

fn store_path(store: &Value) -> String {
    format!("/v1/memory_stores/{}", id(store))
}

fn memories(store: &Value) -> String {
    format!("{}/memories", store_path(store))
}

fn memory_path(store: &Value, memory: &Value) -> String {
    format!("{}/memories/{}", store_path(store), id(memory))
}

fn versions(store: &Value) -> String {
    format!("{}/memory_versions", store_path(store))
}

async fn create(platform: &TestPlatform, store: &Value, path: &str, content: &str) -> Value {
    platform
        .post(&memories(store), json!({"path": path, "content": content}))
        .await
        .ok()
}

/// Every item of every page of a list.
#[expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any unexpected error"
)]
async fn all(platform: &TestPlatform, path: &str) -> Vec<Value> {
    platform
        .walk(path)
        .await
        .into_iter()
        .flat_map(|page| page["data"].as_array().unwrap().clone())
        .collect()
}

#[expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any unexpected error"
)]
fn field<'a>(items: &'a [Value], name: &str) -> Vec<&'a str> {
    items.iter().map(|i| i[name].as_str().unwrap()).collect()
}

/// Asserts a 409 with `x-should-retry: false` and returns the message.
#[track_caller]
fn conflict(response: &Response, error_type: &str) -> String {
    let message = response.error(409, error_type);
    assert_eq!(response.headers["x-should-retry"], "false");
    message
}

#[tokio::test]
async fn stores_create_retrieve_update_list_archive_delete() {
    let platform = TestPlatform::start().await;
    let store = platform
        .post(
            "/v1/memory_stores",
            json!({"name": "User Preferences", "description": "What the user likes", "metadata": {"user": "alice"}}),
        )
        .await
        .ok();
    let store_id = id(&store);
    assert!(store_id.starts_with("memstore_"));
    assert_eq!(
        store,
        json!({
            "id": store_id,
            "type": "memory_store",
            "name": "User Preferences",
            "description": "What the user likes",
            "metadata": {"user": "alice"},
            "created_at": store["created_at"],
            "updated_at": store["created_at"],
            "archived_at": null,
        })
    );
    assert_eq!(platform.get(&store_path(&store)).await.ok(), store);
    let bare = new_store(&platform, "bare").await;
    assert_eq!(bare["description"], "");
    assert_eq!(bare["metadata"], json!({}));

    // Update: metadata is a patch; `description: ""` clears; `name: null` keeps the name.
    let updated = platform
        .post(
            &store_path(&store),
            json!({"name": null, "description": "", "metadata": {"user": null, "team": "core"}}),
        )
        .await
        .ok();
    assert_eq!(updated["name"], "User Preferences");
    assert_eq!(updated["description"], "");
    assert_eq!(updated["metadata"], json!({"team": "core"}));
    assert!(updated["updated_at"].as_str() > store["updated_at"].as_str());
    assert_eq!(updated["created_at"], store["created_at"]);
    // An update that changes nothing keeps `updated_at`.
    let same = platform
        .post(&store_path(&store), json!({"name": "User Preferences"}))
        .await
        .ok();
    assert_eq!(same, updated);
    let renamed = platform
        .post(
            &store_path(&store),
            json!({"name": "Prefs", "description": "d"}),
        )
        .await
        .ok();
    assert_eq!(
        (renamed["name"].as_str(), renamed["description"].as_str()),
        (Some("Prefs"), Some("d"))
    );

    // Lists are newest first and skip archived stores unless asked.
    let listed = all(&platform, "/v1/memory_stores?limit=1").await;
    assert_eq!(field(&listed, "id"), [id(&bare), store_id]);
    let archived = platform
        .post_empty(&format!("{}/archive", store_path(&bare)))
        .await
        .ok();
    assert!(archived["archived_at"].is_string());
    assert_eq!(archived["updated_at"], archived["archived_at"]);
    let again = platform
        .post_empty(&format!("{}/archive", store_path(&bare)))
        .await
        .ok();
    assert_eq!(again, archived, "archiving again changes nothing");
    assert_eq!(
        field(&all(&platform, "/v1/memory_stores").await, "id"),
        [store_id]
    );
    assert_eq!(
        field(
            &all(&platform, "/v1/memory_stores?include_archived=true").await,
            "id"
        ),
        [id(&bare), store_id]
    );
    let created = store["created_at"].as_str().unwrap();
    let gte = all(
        &platform,
        &format!("/v1/memory_stores?include_archived=true&created_at%5Bgte%5D={created}"),
    )
    .await;
    assert_eq!(gte.len(), 2);
    let lte = all(
        &platform,
        &format!("/v1/memory_stores?include_archived=true&created_at%5Blte%5D={created}"),
    )
    .await;
    assert_eq!(field(&lte, "id"), [store_id]);
    platform
        .get("/v1/memory_stores?created_at%5Bgte%5D=yesterday")
        .await
        .error(400, "invalid_request_error");

    // Delete removes the store with its memories and versions.
    let memory = create(&platform, &store, "/a.md", "x").await;
    let receipt = platform.delete(&store_path(&store)).await.ok();
    assert_eq!(
        receipt,
        json!({"id": store_id, "type": "memory_store_deleted"})
    );
    platform
        .get(&store_path(&store))
        .await
        .error(404, "not_found_error");
    platform
        .get(&memory_path(&store, &memory))
        .await
        .error(404, "not_found_error");
    platform
        .get(&versions(&store))
        .await
        .error(404, "not_found_error");
    platform
        .delete(&store_path(&store))
        .await
        .error(404, "not_found_error");
}

#[tokio::test]
async fn store_bodies_are_validated() {
    let platform = TestPlatform::start().await;
    for (body, needle) in [
        (json!({}), "`name`"),
        (json!({"name": ""}), "`name`"),
        (json!({"name": "x".repeat(256)}), "`name`"),
        (json!({"name": "a\nb"}), "control characters"),
        (json!({"name": 5}), "`name`"),
        (
            json!({"name": "ok", "description": "d".repeat(1025)}),
            "`description`",
        ),
        (json!({"name": "ok", "metadata": {"k": 1}}), "`metadata"),
    ] {
        let message = platform
            .post("/v1/memory_stores", body.clone())
            .await
            .error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
    }
    let many: serde_json::Map<String, Value> =
        (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
    let response = platform
        .post("/v1/memory_stores", json!({"name": "ok", "metadata": many}))
        .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "invalid_metadata");
    assert_eq!(
        new_store(&platform, &"n".repeat(255)).await["name"]
            .as_str()
            .unwrap()
            .len(),
        255
    );
}

#[tokio::test]
async fn memories_create_retrieve_update_delete() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "prefs").await;
    let content = "Reports use metric units.";
    let memory = create(&platform, &store, "/prefs/units.md", content).await;
    let memory_id = id(&memory);
    assert!(memory_id.starts_with("mem_"));
    assert!(
        memory["memory_version_id"]
            .as_str()
            .unwrap()
            .starts_with("memver_")
    );
    assert_eq!(
        memory,
        json!({
            "id": memory_id,
            "type": "memory",
            "memory_store_id": id(&store),
            "path": "/prefs/units.md",
            "content": null,
            "content_sha256": sha(content),
            "content_size_bytes": 25,
            "memory_version_id": memory["memory_version_id"],
            "created_at": memory["created_at"],
            "updated_at": memory["created_at"],
        })
    );
    // Retrieve defaults to the full view; `view=basic` drops the content only.
    let full = platform.get(&memory_path(&store, &memory)).await.ok();
    assert_eq!(full["content"], content);
    let mut expected = memory.clone();
    expected["content"] = json!(content);
    assert_eq!(full, expected);
    let basic = platform
        .get(&format!("{}?view=basic", memory_path(&store, &memory)))
        .await
        .ok();
    assert_eq!(basic, memory);
    // Create with `view=full` echoes the content; sizes count UTF-8 bytes.
    let unicode = platform
        .post(
            &format!("{}?view=full", memories(&store)),
            json!({"path": "/caf\u{e9}.md", "content": "h\u{e9}llo \u{1f600}"}),
        )
        .await
        .ok();
    assert_eq!(unicode["content"], "h\u{e9}llo \u{1f600}");
    assert_eq!(unicode["content_size_bytes"], 11);
    assert_eq!(unicode["content_sha256"], sha("h\u{e9}llo \u{1f600}"));
    let empty = create(&platform, &store, "/empty.md", "").await;
    assert_eq!(empty["content_size_bytes"], 0);
    assert_eq!(empty["content_sha256"], sha(""));

    // Update the content: a new version, same ID and created_at.
    let next = "Reports use metric units. Dates are ISO 8601.";
    let updated = platform
        .post(
            &memory_path(&store, &memory),
            json!({"content": next, "precondition": {"type": "content_sha256", "content_sha256": sha(content)}}),
        )
        .await
        .ok();
    assert_eq!(updated["id"], memory_id);
    assert_eq!(
        updated["content"],
        json!(null),
        "update defaults to the basic view"
    );
    assert_eq!(updated["content_sha256"], sha(next));
    assert_eq!(updated["content_size_bytes"], next.len());
    assert_eq!(updated["created_at"], memory["created_at"]);
    assert!(updated["updated_at"].as_str() > memory["updated_at"].as_str());
    assert_ne!(updated["memory_version_id"], memory["memory_version_id"]);

    // Rename (with `view=full`): the ID stays, the content is kept.
    let renamed = platform
        .post(
            &format!("{}?view=full", memory_path(&store, &memory)),
            json!({"path": "/prefs/format.md"}),
        )
        .await
        .ok();
    assert_eq!(
        (renamed["id"].as_str(), renamed["path"].as_str()),
        (Some(memory_id), Some("/prefs/format.md"))
    );
    assert_eq!(renamed["content"], next);
    assert_ne!(renamed["memory_version_id"], updated["memory_version_id"]);

    // No-op updates (nothing sent, `null`s, or the stored values) write no version.
    for body in [
        json!({}),
        json!({"content": null, "path": null}),
        json!({"content": next, "path": "/prefs/format.md"}),
    ] {
        let same = platform
            .post(&format!("{}?view=full", memory_path(&store, &memory)), body)
            .await
            .ok();
        assert_eq!(same, renamed);
    }
    let history = all(
        &platform,
        &format!("{}?memory_id={memory_id}", versions(&store)),
    )
    .await;
    assert_eq!(
        field(&history, "operation"),
        ["modified", "modified", "created"]
    );

    // Delete: a receipt, then 404; the versions stay, with a `deleted` one.
    let receipt = platform.delete(&memory_path(&store, &memory)).await.ok();
    assert_eq!(receipt, json!({"id": memory_id, "type": "memory_deleted"}));
    platform
        .get(&memory_path(&store, &memory))
        .await
        .error(404, "not_found_error");
    platform
        .delete(&memory_path(&store, &memory))
        .await
        .error(404, "not_found_error");
    platform
        .post(&memory_path(&store, &memory), json!({"content": "again"}))
        .await
        .error(404, "not_found_error");
    let history = all(
        &platform,
        &format!("{}?memory_id={memory_id}", versions(&store)),
    )
    .await;
    assert_eq!(
        field(&history, "operation"),
        ["deleted", "modified", "modified", "created"]
    );
    let deleted = &history[0];
    assert_eq!(deleted["path"], "/prefs/format.md");
    for key in ["content", "content_sha256", "content_size_bytes"] {
        assert_eq!(deleted[key], json!(null), "{key}");
    }
    // The path is free again.
    create(&platform, &store, "/prefs/format.md", "new").await;
}

#[tokio::test]
async fn bad_paths_are_400_naming_the_rule() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "paths").await;
    let memory = create(&platform, &store, "/ok.md", "x").await;
    let cases = [
        ("/prefs/../etc/passwd", "`..` segment"),
        ("/a/./b", "`.` segment"),
        ("/a//b", "empty segment"),
        ("/a/", "empty segment"),
        ("/", "empty segment"),
        ("notes.md", "must start with `/`"),
        ("", "empty"),
        ("/a\u{0}b", "NUL"),
        ("/a\\b", "backslash"),
        ("/a\nb", "control character"),
        ("/a\u{200b}b", "format character"),
        ("/a\u{2028}b", "line or paragraph separator"),
        ("/caf\u{65}\u{301}", "Normalization Form C"),
    ];
    let overlong = format!("/{}", "a".repeat(1024));
    let deep = "/s".repeat(21);
    let cases = cases
        .iter()
        .map(|(p, n)| ((*p).to_owned(), *n))
        .chain([(overlong, "1025 bytes"), (deep, "21 segments")]);
    for (path, needle) in cases {
        let message = platform
            .post(&memories(&store), json!({"path": path, "content": "x"}))
            .await
            .error(400, "invalid_request_error");
        assert!(
            message.starts_with("`path`: memory path") && message.contains(needle),
            "{path:?}: {message}"
        );
        // Renames are checked the same way.
        let message = platform
            .post(&memory_path(&store, &memory), json!({"path": path}))
            .await
            .error(400, "invalid_request_error");
        assert!(message.contains(needle), "{path:?}: {message}");
    }
    // Percent-encoding is literal, not traversal; the longest path is fine.
    create(&platform, &store, "/a/%2e%2e/b", "x").await;
    create(&platform, &store, &format!("/{}", "b".repeat(1023)), "x").await;
    create(&platform, &store, &"/s".repeat(20), "x").await;
    assert_eq!(all(&platform, &memories(&store)).await.len(), 4);

    // List prefixes: must end with `/` and be a valid path otherwise.
    for prefix in ["notes", "/notes", "/a/../", "//"] {
        platform
            .get(&format!(
                "{}?path_prefix={}",
                memories(&store),
                urlencode(prefix)
            ))
            .await
            .error(400, "invalid_request_error");
    }
}

#[expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any unexpected error"
)]
fn urlencode(text: &str) -> String {
    serde_html_form::to_string([("x", text)]).unwrap()[2..].to_owned()
}

#[tokio::test]
async fn content_limits_and_wrong_types_are_400() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "limits").await;
    let max = "x".repeat(102_400);
    let memory = create(&platform, &store, "/max.md", &max).await;
    assert_eq!(memory["content_size_bytes"], 102_400);
    let message = platform
        .post(
            &memories(&store),
            json!({"path": "/big.md", "content": "x".repeat(102_401)}),
        )
        .await
        .error(400, "invalid_request_error");
    assert!(
        message.contains("102401 bytes") && message.contains("102400"),
        "{message}"
    );
    // Bytes, not characters: 34,134 three-byte characters are 102,402 bytes.
    let wide = "\u{65e5}".repeat(34_134);
    platform
        .post(
            &memories(&store),
            json!({"path": "/wide.md", "content": wide}),
        )
        .await
        .error(400, "invalid_request_error");
    let message = platform
        .post(
            &memory_path(&store, &memory),
            json!({"content": "y".repeat(102_401)}),
        )
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("`content`"), "{message}");

    for (body, needle) in [
        (json!({"path": 5, "content": "x"}), "`path`"),
        (json!({"path": "/t.md", "content": 5}), "`content`"),
        (json!({"path": "/t.md", "content": null}), "`content`"),
        (json!({"path": "/t.md"}), "`content`"),
        (json!({"content": "x"}), "`path`"),
    ] {
        let message = platform
            .post(&memories(&store), body.clone())
            .await
            .error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
    }
    for (body, needle) in [
        (json!({"content": ["x"]}), "`content`"),
        (
            json!({"precondition": {"type": "mtime"}}),
            "`precondition.type`",
        ),
        (
            json!({"content": "y", "precondition": {"type": "content_sha256"}}),
            "`precondition.content_sha256`",
        ),
        (
            json!({"content": "y", "precondition": {"type": "content_sha256", "content_sha256": "abc"}}),
            "64 hexadecimal",
        ),
        (
            json!({"content": "y", "precondition": "yes"}),
            "`precondition`",
        ),
    ] {
        let message = platform
            .post(&memory_path(&store, &memory), body.clone())
            .await
            .error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
    }
    for query in ["view=everything", "depth=-1", "limit=0", "page=%21%21"] {
        platform
            .get(&format!("{}?{query}", memories(&store)))
            .await
            .error(400, "invalid_request_error");
    }
    for query in ["operation=renamed", "view=raw", "created_at%5Bgte%5D=soon"] {
        platform
            .get(&format!("{}?{query}", versions(&store)))
            .await
            .error(400, "invalid_request_error");
    }
    platform
        .get(&format!("{}?view=everything", memory_path(&store, &memory)))
        .await
        .error(400, "invalid_request_error");
    platform
        .delete(&format!(
            "{}?expected_content_sha256=xyz",
            memory_path(&store, &memory)
        ))
        .await
        .error(400, "invalid_request_error");
    // Nothing above was stored.
    assert_eq!(all(&platform, &memories(&store)).await.len(), 1);
    assert_eq!(all(&platform, &versions(&store)).await.len(), 1);
}

#[tokio::test]
async fn stale_preconditions_are_409_and_change_nothing() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "pre").await;
    let memory = create(&platform, &store, "/notes.md", "v1").await;
    let stale = "0".repeat(64);

    let response = platform
        .post(
            &memory_path(&store, &memory),
            json!({"content": "v2", "precondition": {"type": "content_sha256", "content_sha256": stale}}),
        )
        .await;
    conflict(&response, "memory_precondition_failed_error");
    // A rename is checked against the current content too.
    let response = platform
        .post(
            &memory_path(&store, &memory),
            json!({"path": "/moved.md", "precondition": {"type": "content_sha256", "content_sha256": stale}}),
        )
        .await;
    conflict(&response, "memory_precondition_failed_error");
    let stored = platform.get(&memory_path(&store, &memory)).await.ok();
    assert_eq!(
        (stored["content"].as_str(), stored["path"].as_str()),
        (Some("v1"), Some("/notes.md"))
    );

    // A request equal to the stored state succeeds whatever the precondition says.
    let same = platform
        .post(
            &memory_path(&store, &memory),
            json!({"content": "v1", "precondition": {"type": "content_sha256", "content_sha256": stale}}),
        )
        .await
        .ok();
    assert_eq!(same["memory_version_id"], memory["memory_version_id"]);
    // The hash compares case-insensitively.
    let upper = sha("v1").to_uppercase();
    let updated = platform
        .post(
            &memory_path(&store, &memory),
            json!({"content": "v2", "precondition": {"type": "content_sha256", "content_sha256": upper}}),
        )
        .await
        .ok();
    assert_eq!(updated["content_sha256"], sha("v2"));

    // Delete with a stale hash: 409, nothing deleted; with the right one: deleted.
    let response = platform
        .delete(&format!(
            "{}?expected_content_sha256={}",
            memory_path(&store, &memory),
            sha("v1")
        ))
        .await;
    conflict(&response, "memory_precondition_failed_error");
    platform.get(&memory_path(&store, &memory)).await.ok();
    platform
        .delete(&format!(
            "{}?expected_content_sha256={}",
            memory_path(&store, &memory),
            sha("v2")
        ))
        .await
        .ok();
    let history = all(
        &platform,
        &format!("{}?memory_id={}", versions(&store), id(&memory)),
    )
    .await;
    assert_eq!(
        field(&history, "operation"),
        ["deleted", "modified", "created"]
    );
}

#[tokio::test]
async fn overlapping_paths_are_409_naming_the_other_memory() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "tree").await;
    let notes = create(&platform, &store, "/notes", "a file named notes").await;
    let todo = create(&platform, &store, "/projects/foo/todo.md", "x").await;

    for (path, blocker, blocking_path) in [
        ("/notes", &notes, "/notes"),
        ("/notes/todo.md", &notes, "/notes"),
        ("/notes/a/b/c", &notes, "/notes"),
        ("/projects", &todo, "/projects/foo/todo.md"),
        ("/projects/foo", &todo, "/projects/foo/todo.md"),
        (
            "/projects/foo/todo.md/deeper",
            &todo,
            "/projects/foo/todo.md",
        ),
    ] {
        let response = platform
            .post(&memories(&store), json!({"path": path, "content": "x"}))
            .await;
        let message = conflict(&response, "memory_path_conflict_error");
        let error = &response.body["error"];
        assert_eq!(error["conflicting_memory_id"], id(blocker), "{path}");
        assert_eq!(error["conflicting_path"], blocking_path, "{path}");
        assert!(message.contains(blocking_path), "{message}");
    }
    // Whole segments only: these do not overlap.
    for path in [
        "/notes-archive/todo.md",
        "/notes.md",
        "/projects/foobar",
        "/Notes/x",
        "/projects/foo/todo.mdx",
    ] {
        create(&platform, &store, path, "x").await;
    }
    // Renames into an overlap conflict too; moving below the memory's own old path is fine.
    let response = platform
        .post(
            &memory_path(&store, &todo),
            json!({"path": "/notes/todo.md"}),
        )
        .await;
    let error = &conflict(&response, "memory_path_conflict_error");
    assert!(error.contains("/notes"), "{error}");
    assert_eq!(response.body["error"]["conflicting_memory_id"], id(&notes));
    let moved = platform
        .post(
            &memory_path(&store, &notes),
            json!({"path": "/notes/index.md"}),
        )
        .await
        .ok();
    assert_eq!(moved["path"], "/notes/index.md");
    let moved = platform
        .post(&memory_path(&store, &notes), json!({"path": "/notes"}))
        .await
        .ok();
    assert_eq!(moved["path"], "/notes");
}

#[tokio::test]
async fn concurrent_writers_never_lose_a_write() {
    let platform = std::sync::Arc::new(TestPlatform::start().await);
    let store = new_store(&platform, "race").await;
    let memory = create(&platform, &store, "/counter.md", "0").await;
    let path = memory_path(&store, &memory);

    // Twenty writers all read "0" and update with that precondition: exactly one wins.
    let mut tasks = Vec::new();
    for n in 1..=20 {
        let (platform, path) = (platform.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            platform
                .post(
                    &path,
                    json!({"content": format!("{n}"), "precondition": {"type": "content_sha256", "content_sha256": sha("0")}}),
                )
                .await
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        if response.status == 200 {
            winners.push(response.body["content_sha256"].as_str().unwrap().to_owned());
        } else {
            conflict(&response, "memory_precondition_failed_error");
        }
    }
    assert_eq!(winners.len(), 1);
    let stored = platform.get(&path).await.ok();
    assert_eq!(stored["content_sha256"], winners[0]);

    // Forty unconditional writers with distinct contents: every one is a version.
    let mut tasks = Vec::new();
    for n in 0..40 {
        let (platform, path) = (platform.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            platform
                .post(&path, json!({"content": format!("w{n}")}))
                .await
                .ok()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let history = all(
        &platform,
        &format!("{}?memory_id={}&limit=100", versions(&store), id(&memory)),
    )
    .await;
    assert_eq!(history.len(), 1 + 1 + 40);
    // The newest version is the memory's current one.
    let stored = platform.get(&path).await.ok();
    assert_eq!(stored["memory_version_id"], history[0]["id"]);

    // Ten creators race for one path: one wins, nine conflict.
    let mut tasks = Vec::new();
    for n in 0..10 {
        let (platform, url) = (platform.clone(), memories(&store));
        tasks.push(tokio::spawn(async move {
            platform
                .post(&url, json!({"path": "/race.md", "content": format!("{n}")}))
                .await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let response = task.await.unwrap();
        if response.status == 200 {
            created += 1;
        } else {
            conflict(&response, "memory_path_conflict_error");
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn archived_stores_allow_reads_deletes_and_redaction_only() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "frozen").await;
    let keep = create(&platform, &store, "/keep.md", "v1").await;
    let updated = platform
        .post(&memory_path(&store, &keep), json!({"content": "v2"}))
        .await
        .ok();
    let doomed = create(&platform, &store, "/doomed.md", "x").await;
    platform
        .post_empty(&format!("{}/archive", store_path(&store)))
        .await
        .ok();

    for response in [
        platform
            .post(
                &memories(&store),
                json!({"path": "/new.md", "content": "x"}),
            )
            .await,
        platform
            .post(&memory_path(&store, &keep), json!({"content": "v3"}))
            .await,
        platform
            .post(&memory_path(&store, &keep), json!({"path": "/moved.md"}))
            .await,
        platform
            .post(&store_path(&store), json!({"name": "renamed"}))
            .await,
    ] {
        let message = response.error(400, "invalid_request_error");
        assert_eq!(response.error_code(), "memory_store_archived");
        assert!(message.contains("archived"), "{message}");
    }
    // Reads work.
    assert_eq!(
        platform.get(&memory_path(&store, &keep)).await.ok()["content"],
        "v2"
    );
    assert_eq!(all(&platform, &memories(&store)).await.len(), 2);
    let history = all(&platform, &versions(&store)).await;
    assert_eq!(history.len(), 3);
    // Redaction of a superseded version works.
    let first = history
        .iter()
        .find(|v| v["memory_id"] == id(&keep) && v["operation"] == "created")
        .unwrap();
    let redacted = platform
        .post_empty(&format!("{}/{}/redact", versions(&store), id(first)))
        .await
        .ok();
    assert!(redacted["redacted_at"].is_string());
    assert_ne!(id(first), updated["memory_version_id"].as_str().unwrap());
    // Memory delete works, and so does deleting the store.
    platform.delete(&memory_path(&store, &doomed)).await.ok();
    platform.delete(&store_path(&store)).await.ok();
    platform
        .get(&store_path(&store))
        .await
        .error(404, "not_found_error");
}

#[tokio::test]
async fn lists_paginate_in_path_order_with_view_limits() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "many").await;
    let expected: Vec<String> = (0..250).map(|i| format!("/m/{i:04}.md")).collect();
    // Created out of order: the list is in path order whatever the creation order.
    for path in expected.iter().rev() {
        create(&platform, &store, path, path).await;
    }

    // Default: 20 per page, basic view.
    let pages = platform.walk(&memories(&store)).await;
    assert_eq!(pages.len(), 13);
    assert_eq!(pages[0]["data"].as_array().unwrap().len(), 20);
    assert!(pages[0]["data"][0]["content"].is_null());
    assert!(pages[12]["next_page"].is_null());
    let listed: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .collect();
    assert_eq!(field(&listed, "path"), expected);
    assert!(
        listed
            .iter()
            .all(|m| m["content_sha256"].as_str().unwrap().len() == 64)
    );

    // Basic pages hold at most 100 (larger limits are clamped).
    for limit in [100, 1000] {
        let pages = platform
            .walk(&format!("{}?limit={limit}", memories(&store)))
            .await;
        let sizes: Vec<usize> = pages
            .iter()
            .map(|p| p["data"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
    }
    // Full pages hold at most 20 and carry the content.
    let pages = platform
        .walk(&format!("{}?limit=100&view=full", memories(&store)))
        .await;
    assert_eq!(pages.len(), 13);
    let listed: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .collect();
    assert_eq!(field(&listed, "content"), expected);
    // An exact multiple ends with a null cursor on a full last page.
    let pages = platform
        .walk(&format!("{}?limit=50", memories(&store)))
        .await;
    assert_eq!(pages.len(), 5);
    assert_eq!(pages[4]["data"].as_array().unwrap().len(), 50);

    // Versions: newest first, the same limits.
    let pages = platform
        .walk(&format!("{}?limit=1000", versions(&store)))
        .await;
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["data"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    let paths: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap())
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        expected.iter().map(String::as_str).collect::<Vec<_>>(),
        "newest (created last) first"
    );
    let pages = platform
        .walk(&format!("{}?limit=100&view=full", versions(&store)))
        .await;
    assert_eq!(pages[0]["data"].as_array().unwrap().len(), 20);
    assert_eq!(pages[0]["data"][0]["content"], "/m/0000.md");
}

#[tokio::test]
async fn depth_rolls_directories_up_into_prefixes() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "dirs").await;
    for path in [
        "/notes/x.md",
        "/a.md",
        "/b/1.md",
        "/b/2.md",
        "/c/d/e.md",
        "/notes-a.md",
        "/notes.md",
        "/d.md",
        "/e/f.md",
        "/c/d/g/h.md",
        "/c/top.md",
    ] {
        create(&platform, &store, path, "x").await;
    }
    let items = |list: &[Value]| -> Vec<String> {
        list.iter()
            .map(|i| {
                format!(
                    "{} {}",
                    i["type"].as_str().unwrap(),
                    i["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    let top = [
        "memory /a.md",
        "memory_prefix /b/",
        "memory_prefix /c/",
        "memory /d.md",
        "memory_prefix /e/",
        "memory /notes-a.md",
        "memory /notes.md",
        "memory_prefix /notes/",
    ];
    // Any page size walks to the same items; prefixes count toward the limit.
    for limit in [1, 2, 3, 100] {
        let pages = platform
            .walk(&format!("{}?depth=1&limit={limit}", memories(&store)))
            .await;
        assert_eq!(pages.len(), top.len().div_ceil(limit), "limit {limit}");
        let listed: Vec<Value> = pages
            .iter()
            .flat_map(|p| p["data"].as_array().unwrap().clone())
            .collect();
        assert_eq!(items(&listed), top, "limit {limit}");
    }
    let prefix = &all(&platform, &format!("{}?depth=1", memories(&store))).await[1];
    assert_eq!(prefix, &json!({"type": "memory_prefix", "path": "/b/"}));

    let under_c = all(
        &platform,
        &format!("{}?depth=1&path_prefix=/c/", memories(&store)),
    )
    .await;
    assert_eq!(items(&under_c), ["memory_prefix /c/d/", "memory /c/top.md"]);
    let under_c2 = all(
        &platform,
        &format!("{}?depth=2&path_prefix=/c/&view=full", memories(&store)),
    )
    .await;
    assert_eq!(
        items(&under_c2),
        [
            "memory /c/d/e.md",
            "memory_prefix /c/d/g/",
            "memory /c/top.md"
        ]
    );
    assert_eq!(under_c2[0]["content"], "x");
    let all_c = all(
        &platform,
        &format!("{}?depth=0&path_prefix=/c/&limit=1", memories(&store)),
    )
    .await;
    assert_eq!(
        field(&all_c, "path"),
        ["/c/d/e.md", "/c/d/g/h.md", "/c/top.md"]
    );
    // Whole segments: `/notes/` does not match `/notes-a.md` or `/notes.md`.
    let notes = all(
        &platform,
        &format!("{}?path_prefix=/notes/", memories(&store)),
    )
    .await;
    assert_eq!(field(&notes, "path"), ["/notes/x.md"]);
    let none = platform
        .get(&format!("{}?path_prefix=/zzz/", memories(&store)))
        .await
        .ok();
    assert_eq!(none, json!({"data": [], "next_page": null}));
}

#[tokio::test]
async fn version_filters_views_and_actors() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "audit").await;
    let a = create(&platform, &store, "/a.md", "a1").await;
    let b = create(&platform, &store, "/b.md", "b1").await;
    platform
        .post(&memory_path(&store, &a), json!({"content": "a2"}))
        .await
        .ok();
    platform.delete(&memory_path(&store, &a)).await.ok();

    // An agent writes through the session engine's path: a `session_actor`.
    let store_id = MemoryStoreId::new(id(&store));
    let session = SessionId::new("sesn_011CZkZAtmR3yMPDzynEDxu7");
    let actor = Actor::Session(SessionActor {
        session_id: session.clone(),
    });
    let db = platform.handle.platform().state().db.clone();
    let agent_memory = db
        .write(move |tx| {
            steward_platform::memory::write_memory(
                tx,
                &store_id,
                "/agent/notes.md",
                "learned",
                &actor,
                None,
            )
        })
        .await
        .unwrap();
    assert_eq!(
        agent_memory.content.value().map(String::as_str),
        Some("learned")
    );

    let every = all(&platform, &versions(&store)).await;
    assert_eq!(every.len(), 5);
    let version = &every[1];
    let key_id = version["created_by"]["api_key_id"].as_str().unwrap();
    assert!(key_id.starts_with("apikey_"));
    assert_eq!(
        version["created_by"],
        json!({"type": "api_actor", "api_key_id": key_id})
    );
    assert_eq!(version["type"], "memory_version");
    assert_eq!(version["memory_store_id"], id(&store));
    assert_eq!(version["redacted_at"], json!(null));
    assert_eq!(version["redacted_by"], json!(null));
    assert_eq!(
        every[0]["created_by"],
        json!({"type": "session_actor", "session_id": session.as_str()})
    );

    let query = |q: String| {
        let platform = &platform;
        let url = format!("{}?{q}", versions(&store));
        async move { all(platform, &url).await }
    };
    let of_a = query(format!("memory_id={}", id(&a))).await;
    assert_eq!(
        field(&of_a, "operation"),
        ["deleted", "modified", "created"]
    );
    assert_eq!(query("operation=deleted".into()).await.len(), 1);
    assert_eq!(query("operation=created".into()).await.len(), 3);
    let created_b = query(format!("operation=created&memory_id={}", id(&b))).await;
    assert_eq!(field(&created_b, "memory_id"), [id(&b)]);
    assert_eq!(query(format!("api_key_id={key_id}")).await.len(), 4);
    assert_eq!(query("api_key_id=apikey_someoneelse".into()).await.len(), 0);
    let by_session = query(format!("session_id={session}")).await;
    assert_eq!(field(&by_session, "path"), ["/agent/notes.md"]);
    assert_eq!(query("service_account_id=svac_x".into()).await.len(), 0);
    // Time bounds are inclusive.
    let t = every[2]["created_at"].as_str().unwrap();
    assert_eq!(query(format!("created_at%5Bgte%5D={t}")).await.len(), 3);
    assert_eq!(query(format!("created_at%5Blte%5D={t}")).await.len(), 3);
    assert_eq!(
        query(format!("created_at%5Bgte%5D={t}&created_at%5Blte%5D={t}"))
            .await
            .len(),
        1
    );
    assert_eq!(query("memory_id=mem_unknown".into()).await.len(), 0);

    // Views: lists are basic by default, retrieve is full by default.
    assert!(every.iter().all(|v| v["content"].is_null()));
    assert_eq!(every[2]["content_sha256"], sha("a2"));
    assert_eq!(every[2]["content_size_bytes"], 2);
    let full = query("view=full".into()).await;
    assert_eq!(full[2]["content"], "a2");
    let one = platform
        .get(&format!("{}/{}", versions(&store), id(&every[2])))
        .await
        .ok();
    assert_eq!(one, full[2]);
    let basic = platform
        .get(&format!(
            "{}/{}?view=basic",
            versions(&store),
            id(&every[2])
        ))
        .await
        .ok();
    assert_eq!(basic, every[2]);
}

#[tokio::test]
async fn redaction_clears_content_and_keeps_the_author() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "secrets").await;
    let memory = create(&platform, &store, "/creds.md", "password=hunter2").await;
    let first_version = memory["memory_version_id"].as_str().unwrap().to_owned();
    let redact = |version: &str| format!("{}/{version}/redact", versions(&store));

    // The version holding a live memory's current content cannot be redacted.
    let response = platform.post_empty(&redact(&first_version)).await;
    conflict(&response, "conflict_error");
    assert_eq!(response.error_code(), "memory_version_is_current");

    let updated = platform
        .post(
            &memory_path(&store, &memory),
            json!({"content": "password=<redacted>"}),
        )
        .await
        .ok();
    let redacted = platform.post_empty(&redact(&first_version)).await.ok();
    let author = redacted["created_by"].clone();
    assert_eq!(author["type"], "api_actor");
    assert_eq!(
        redacted,
        json!({
            "id": first_version,
            "type": "memory_version",
            "memory_id": id(&memory),
            "memory_store_id": id(&store),
            "operation": "created",
            "path": null,
            "content": null,
            "content_sha256": null,
            "content_size_bytes": null,
            "created_at": memory["created_at"],
            "created_by": author,
            "redacted_at": redacted["redacted_at"],
            "redacted_by": author,
        })
    );
    assert!(redacted["redacted_at"].is_string());
    // Retrieving it succeeds, with the nulls; redacting again changes nothing.
    let got = platform
        .get(&format!("{}/{first_version}", versions(&store)))
        .await
        .ok();
    assert_eq!(got, redacted);
    assert_eq!(
        platform.post_empty(&redact(&first_version)).await.ok(),
        redacted
    );
    // The memory itself is intact.
    let live = platform.get(&memory_path(&store, &memory)).await.ok();
    assert_eq!(live["content"], "password=<redacted>");
    assert_eq!(live["memory_version_id"], updated["memory_version_id"]);

    // Once the memory is deleted, every version can be redacted, `deleted` ones included.
    platform.delete(&memory_path(&store, &memory)).await.ok();
    for version in all(&platform, &versions(&store)).await {
        let redacted = platform.post_empty(&redact(id(&version))).await.ok();
        assert_eq!(redacted["path"], json!(null));
        assert_eq!(redacted["operation"], version["operation"]);
    }
    platform
        .post_empty(&redact("memver_unknown"))
        .await
        .error(404, "not_found_error");
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "real").await;
    let other = new_store(&platform, "other").await;
    let memory = create(&platform, &store, "/a.md", "x").await;
    let version = memory["memory_version_id"].as_str().unwrap();
    let ghost = "/v1/memory_stores/memstore_ghost";
    for path in [
        ghost.to_owned(),
        format!("{ghost}/memories"),
        format!("{ghost}/memories/{}", id(&memory)),
        format!("{ghost}/memory_versions"),
        format!("{ghost}/memory_versions/{version}"),
        format!("{}/memories/mem_ghost", store_path(&store)),
        format!("{}/memory_versions/memver_ghost", store_path(&store)),
        // An ID from another store is not found in this one.
        memory_path(&other, &memory),
        format!("{}/memory_versions/{version}", store_path(&other)),
    ] {
        let message = platform.get(&path).await.error(404, "not_found_error");
        assert!(message.contains("not found"), "{path}: {message}");
    }
    for response in [
        platform.post(ghost, json!({"name": "x"})).await,
        platform.post_empty(&format!("{ghost}/archive")).await,
        platform
            .post(
                &format!("{ghost}/memories"),
                json!({"path": "/a", "content": "x"}),
            )
            .await,
        platform
            .post(&memory_path(&other, &memory), json!({"content": "y"}))
            .await,
        platform.delete(&memory_path(&other, &memory)).await,
        platform.delete(ghost).await,
    ] {
        response.error(404, "not_found_error");
    }
    assert_eq!(
        platform.get(&memory_path(&store, &memory)).await.ok()["content"],
        "x"
    );
}

#[tokio::test]
async fn a_store_holds_at_most_2000_memories() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "full").await;
    let store_id = MemoryStoreId::new(id(&store));
    let db = platform.handle.platform().state().db.clone();
    // Fill it through the shared write path (one transaction) rather than 2000 requests.
    db.write(move |tx| {
        let actor = Actor::Session(SessionActor {
            session_id: SessionId::new("sesn_filler"),
        });
        for i in 0..MAX_MEMORIES_PER_STORE {
            steward_platform::memory::create_memory(
                tx,
                &store_id,
                &format!("/f/{i:04}"),
                "x",
                &actor,
            )?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let response = platform
        .post(
            &memories(&store),
            json!({"path": "/one-more.md", "content": "x"}),
        )
        .await;
    let message = conflict(&response, "conflict_error");
    assert_eq!(response.error_code(), "memory_store_full");
    assert!(message.contains("2000"), "{message}");
    // Updates still work; a delete makes room.
    let first = platform
        .get(&format!("{}?limit=1", memories(&store)))
        .await
        .ok()["data"][0]
        .clone();
    platform
        .post(&memory_path(&store, &first), json!({"content": "y"}))
        .await
        .ok();
    platform.delete(&memory_path(&store, &first)).await.ok();
    create(&platform, &store, "/one-more.md", "x").await;
    let pages = platform
        .walk(&format!("{}?limit=100", memories(&store)))
        .await;
    assert_eq!(pages.len(), 20);
}

#[tokio::test]
async fn memories_and_versions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = || async {
        TestPlatform::from_handle(
            Platform::builder()
                .data_dir(dir.path())
                .start_ephemeral()
                .await
                .unwrap(),
        )
    };
    let first = start().await;
    let store = new_store(&first, "durable").await;
    let kept = create(&first, &store, "/kept.md", "v1").await;
    let kept = first
        .post(
            &format!("{}?view=full", memory_path(&store, &kept)),
            json!({"content": "v2", "path": "/kept/now.md"}),
        )
        .await
        .ok();
    let gone = create(&first, &store, "/gone.md", "bye").await;
    first.delete(&memory_path(&store, &gone)).await.ok();
    let listed = all(&first, &format!("{}?view=full", memories(&store))).await;
    let history = all(&first, &versions(&store)).await;
    assert_eq!(history.len(), 4);
    first.handle.shutdown().await;

    let second = start().await;
    assert_eq!(second.get(&store_path(&store)).await.ok(), store);
    assert_eq!(second.get(&memory_path(&store, &kept)).await.ok(), kept);
    assert_eq!(
        all(&second, &format!("{}?view=full", memories(&store))).await,
        listed
    );
    assert_eq!(all(&second, &versions(&store)).await, history);
    second
        .get(&memory_path(&store, &gone))
        .await
        .error(404, "not_found_error");
    // Writes continue where they stopped, and the path rules still see the old memories.
    let response = second
        .post(&memories(&store), json!({"path": "/kept", "content": "x"}))
        .await;
    conflict(&response, "memory_path_conflict_error");
    create(&second, &store, "/gone.md", "back").await;
    assert_eq!(all(&second, &versions(&store)).await.len(), 5);
}

#[tokio::test]
async fn the_library_write_path_upserts_by_path() {
    let platform = TestPlatform::start().await;
    let store = new_store(&platform, "agent").await;
    let store_id = MemoryStoreId::new(id(&store));
    let db = platform.handle.platform().state().db.clone();
    let actor = Actor::Session(SessionActor {
        session_id: SessionId::new("sesn_writer"),
    });
    let write = |content: &'static str, expected: Option<String>| {
        let (db, store_id, actor) = (db.clone(), store_id.clone(), actor.clone());
        async move {
            db.write(move |tx| {
                steward_platform::memory::write_memory(
                    tx,
                    &store_id,
                    "/log.md",
                    content,
                    &actor,
                    expected.as_deref(),
                )
            })
            .await
        }
    };
    // A precondition on a path with no memory fails; without one the memory is created.
    let missing = write("one", Some(sha("zero"))).await.unwrap_err();
    assert_eq!(missing.status().as_u16(), 409);
    let created = write("one", None).await.unwrap();
    let same = write("one", None).await.unwrap();
    assert_eq!(
        same.memory_version_id, created.memory_version_id,
        "no-op writes add no version"
    );
    let stale = write("two", Some(sha("zero"))).await.unwrap_err();
    assert_eq!(
        stale.body().error_type.as_str(),
        "memory_precondition_failed_error"
    );
    let updated = write("two", Some(sha("one"))).await.unwrap();
    assert_eq!(updated.id, created.id);

    let (db2, id2) = (db.clone(), store_id.clone());
    let found = db2
        .read(move |conn| steward_platform::memory::find_memory_by_path(conn, &id2, "/log.md"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, updated);
    let (db3, id3) = (db.clone(), store_id.clone());
    let everything = db3
        .read(move |conn| steward_platform::memory::memories_in_store(conn, &id3))
        .await
        .unwrap();
    assert_eq!(everything, std::slice::from_ref(&updated));
    let history = all(&platform, &versions(&store)).await;
    assert_eq!(field(&history, "operation"), ["modified", "created"]);
    assert!(
        history
            .iter()
            .all(|v| v["created_by"]["session_id"] == "sesn_writer")
    );
    // The HTTP view of the same memory.
    let over_http = platform
        .get(&format!("{}/memories/{}", store_path(&store), updated.id))
        .await
        .ok();
    assert_eq!(over_http, serde_json::to_value(&updated).unwrap());
}
