//! `steward user` and `steward memory` against the embedded platform.

use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::support::{CliTest, id_at};

const PREF: &str = "/preferences/reports-use-metric-units.md";

fn with_alice() -> CliTest {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice", "--pref", "Reports use metric units"]);
    test
}

fn paths(ls: &Value) -> Vec<String> {
    ls.as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_preference_is_a_small_file_in_the_users_store() {
    let test = with_alice();
    let ls = test.json(&["memory", "ls", "--user", "alice"]);
    assert_eq!(paths(&ls), vec![PREF.to_owned()]);
    assert_eq!(ls[0]["size_bytes"], 25);
    assert_eq!(
        test.ok(&["memory", "cat", "--user", "alice", PREF]),
        "Reports use metric units\n"
    );
    // Without the leading slash too.
    assert_eq!(
        test.ok(&["memory", "cat", "-u", "alice", &PREF[1..]]),
        "Reports use metric units\n"
    );
    let users = test.json(&["user", "list"]);
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["user"], "alice");
    assert_eq!(users[0]["memory_store_name"], "user-alice");

    // Adding again is idempotent: the same preference is not written twice.
    let again = test.json(&["user", "add", "alice", "--pref", "Reports use metric units"]);
    assert_eq!(again["status"], "existing");
    assert_eq!(again["preferences"][0]["status"], "unchanged");
    assert_eq!(paths(&test.json(&["memory", "ls", "-u", "alice"])).len(), 1);
}

#[test]
fn history_lists_versions_with_operation_actor_and_time() {
    let test = with_alice();
    let put = test.run_with_stdin(
        &["memory", "put", "-u", "alice", PREF, "-"],
        "Reports use imperial units\n",
    );
    assert_eq!(put.code, 0, "{}", put.both());
    let history = test.json(&["memory", "history", "-u", "alice", PREF]);
    let versions = history.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["operation"], "modified");
    assert_eq!(versions[1]["operation"], "created");
    for version in versions {
        assert!(
            version["actor"]
                .as_str()
                .unwrap()
                .starts_with("api:apikey_")
        );
        assert!(version["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(version["path"], PREF);
    }
    let diff = test.ok(&[
        "memory",
        "history",
        "-u",
        "alice",
        "--diff",
        &id_at(&history, 1),
        &id_at(&history, 0),
    ]);
    assert!(
        diff.contains("-Reports use metric units\n+Reports use imperial units\n"),
        "{diff}"
    );
}

#[test]
fn put_restore_and_redact() {
    let test = with_alice();
    let first = test.json(&["memory", "history", "-u", "alice"]);
    let v1 = id_at(&first, 0);
    let file = test.write("imperial.md", "Reports use imperial units\n");
    let put = test.json(&["memory", "put", "-u", "alice", PREF, file.to_str().unwrap()]);
    assert_eq!(put["status"], "updated");
    let v2 = put["version_id"].as_str().unwrap().to_owned();

    let restored = test.json(&["memory", "restore", "-u", "alice", &v1]);
    assert_eq!(restored["status"], "restored");
    let v3 = restored["new_version"].as_str().unwrap().to_owned();
    assert_eq!(
        test.ok(&["memory", "cat", "-u", "alice", PREF]),
        "Reports use metric units\n"
    );
    // Restoring what is already there writes nothing.
    let again = test.json(&["memory", "restore", "-u", "alice", &v1]);
    assert_eq!(again["status"], "unchanged");
    assert_eq!(again["new_version"], Value::Null);

    // The version restored over can be redacted; its audit trail stays.
    let redacted = test.json(&["memory", "redact", "-u", "alice", &v2]);
    assert_eq!(redacted["id"], v2.as_str());
    assert!(redacted["redacted_at"].is_string());
    assert!(
        redacted["redacted_by"]
            .as_str()
            .unwrap()
            .starts_with("api:")
    );
    assert!(redacted["actor"].as_str().unwrap().starts_with("api:"));
    assert_eq!(redacted["content_sha256"], Value::Null);
    let history = test.json(&["memory", "history", "-u", "alice"]);
    let ids: Vec<String> = (0..3).map(|i| id_at(&history, i)).collect();
    assert_eq!(ids, vec![v3.clone(), v2.clone(), v1.clone()]);
    assert_eq!(history[1]["operation"], "modified");
    assert_eq!(history[1]["path"], Value::Null);
    let text = test.ok(&["memory", "history", "-u", "alice"]);
    assert!(text.contains("(redacted)"), "{text}");

    // A redacted version cannot be restored or diffed; the current one cannot be redacted.
    let stderr = test.fails(&["memory", "restore", "-u", "alice", &v2], 1);
    assert!(stderr.contains("is redacted"), "{stderr}");
    let stderr = test.fails(&["memory", "history", "-u", "alice", "--diff", &v1, &v2], 1);
    assert!(stderr.contains("is redacted"), "{stderr}");
    let stderr = test.fails(&["memory", "redact", "-u", "alice", &v3], 1);
    assert!(
        stderr.contains("hint: a memory's current version cannot be redacted"),
        "{stderr}"
    );
}

#[test]
fn rm_keeps_the_history_and_restore_brings_it_back() {
    let test = with_alice();
    let v1 = id_at(&test.json(&["memory", "history", "-u", "alice"]), 0);
    test.ok(&["memory", "rm", "-u", "alice", PREF]);
    assert_eq!(paths(&test.json(&["memory", "ls", "-u", "alice"])).len(), 0);
    let history = test.json(&["memory", "history", "-u", "alice", PREF]);
    assert_eq!(history[0]["operation"], "deleted");
    let stderr = test.fails(&["memory", "cat", "-u", "alice", PREF], 1);
    assert!(stderr.contains("no memory at"), "{stderr}");
    let restored = test.json(&["memory", "restore", "-u", "alice", &v1]);
    assert_eq!(restored["status"], "recreated");
    assert_eq!(
        test.ok(&["memory", "cat", "-u", "alice", PREF]),
        "Reports use metric units\n"
    );
}

#[test]
fn a_second_user_sees_nothing_of_the_first() {
    let test = with_alice();
    let alice_version = id_at(&test.json(&["memory", "history", "-u", "alice"]), 0);
    test.ok(&["user", "add", "bob"]);
    assert_eq!(
        test.json(&["memory", "ls", "-u", "bob"]),
        Value::Array(vec![])
    );
    assert_eq!(
        test.json(&["memory", "history", "-u", "bob"]),
        Value::Array(vec![])
    );
    let stderr = test.fails(&["memory", "cat", "-u", "bob", PREF], 1);
    assert!(stderr.contains("no memory at"), "{stderr}");
    for command in ["restore", "redact"] {
        let stderr = test.fails(&["memory", command, "-u", "bob", &alice_version], 1);
        assert!(stderr.contains("in this user's memory"), "{stderr}");
    }
    let stderr = test.fails(
        &[
            "memory",
            "history",
            "-u",
            "bob",
            "--diff",
            &alice_version,
            &alice_version,
        ],
        1,
    );
    assert!(stderr.contains("in this user's memory"), "{stderr}");
    // Bob's writes stay in bob's store.
    test.run_with_stdin(
        &["memory", "put", "-u", "bob", "/notes.md", "-"],
        "bob's note\n",
    );
    assert_eq!(
        paths(&test.json(&["memory", "ls", "-u", "alice"])),
        vec![PREF.to_owned()]
    );
    assert_eq!(
        paths(&test.json(&["memory", "ls", "-u", "bob"])),
        vec!["/notes.md".to_owned()]
    );
    let users = test.json(&["user", "list"]);
    assert_eq!(users[0]["user"], "alice");
    assert_eq!(users[1]["user"], "bob");
    assert_ne!(users[0]["memory_store_id"], users[1]["memory_store_id"]);
}

#[test]
fn the_shared_store_is_separate() {
    let test = with_alice();
    let shared = test.run_with_stdin(
        &["shared", "put", "/policies/travel.md", "-"],
        "Book economy\n",
    );
    assert_eq!(shared.code, 0, "{}", shared.both());
    let ls = test.json(&["shared", "ls"]);
    assert_eq!(paths(&ls), vec!["/policies/travel.md".to_owned()]);
    assert_eq!(
        test.ok(&["shared", "cat", "policies/travel.md"]),
        "Book economy\n"
    );
    assert_eq!(
        paths(&test.json(&["memory", "ls", "-u", "alice"])),
        vec![PREF.to_owned()]
    );
}
