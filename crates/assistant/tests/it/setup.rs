//! `steward setup`: created once, reused, updated to a new version when the config changes.

use pretty_assertions::assert_eq;

use crate::support::CliTest;

#[test]
fn setup_twice_creates_one_agent_with_the_linked_tools() {
    let test = CliTest::new();
    let first = test.json(&["setup"]);
    assert_eq!(first["environment"]["status"], "created");
    assert_eq!(first["agent"]["status"], "created");
    assert_eq!(first["agent"]["version"], 1);
    assert_eq!(first["shared_store"]["status"], "created");
    assert_eq!(first["shared_store"]["name"], "shared");
    // The built-in toolset, then every tool registered by a linked crate (sorted).
    assert_eq!(
        first["agent"]["tools"],
        serde_json::json!([
            "agent_toolset_20260401",
            "aws_request",
            "aws_sts_get_caller_identity",
            "clock"
        ])
    );

    let second = test.json(&["setup"]);
    for key in ["environment", "agent", "shared_store"] {
        assert_eq!(second[key]["status"], "reused", "{key}");
        assert_eq!(second[key]["id"], first[key]["id"], "{key}");
    }
    assert_eq!(second["agent"]["version"], 1);

    // The state file names them.
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(test.data_dir().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(
        state["backends"]["embedded"]["agent_id"],
        first["agent"]["id"]
    );
}

#[test]
fn a_changed_system_prompt_makes_a_new_agent_version() {
    let test = CliTest::new();
    let first = test.json(&["setup"]);
    std::fs::write(
        test.data_dir().join("config.toml"),
        "system_prompt = \"You are terse. Check memory first.\"\n",
    )
    .unwrap();
    let changed = test.json(&["setup"]);
    assert_eq!(changed["agent"]["status"], "updated");
    assert_eq!(changed["agent"]["id"], first["agent"]["id"]);
    assert_eq!(changed["agent"]["version"], 2);
    let again = test.json(&["setup"]);
    assert_eq!(again["agent"]["status"], "reused");
    assert_eq!(again["agent"]["version"], 2);

    // Another model is a change too; a config file named with --config works the same.
    let other = test.write("other.toml", "model = \"claude-opus-4-6\"\n");
    let changed = test.json(&["--config", other.to_str().unwrap(), "setup"]);
    assert_eq!(changed["agent"]["version"], 3);
    assert_eq!(changed["agent"]["model"], "claude-opus-4-6");
}

#[test]
fn a_renamed_shared_store_is_a_new_store() {
    let test = CliTest::new();
    let first = test.json(&["setup"]);
    std::fs::write(
        test.data_dir().join("config.toml"),
        "shared_store = \"team\"\n",
    )
    .unwrap();
    let second = test.json(&["setup"]);
    assert_eq!(second["shared_store"]["status"], "created");
    assert_eq!(second["shared_store"]["name"], "team");
    assert_ne!(second["shared_store"]["id"], first["shared_store"]["id"]);
}
