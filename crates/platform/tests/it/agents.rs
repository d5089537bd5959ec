//! `/v1/agents` over HTTP.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::support::{TestPlatform, id};

async fn create(platform: &TestPlatform, body: Value) -> Value {
    platform.post("/v1/agents", body).await.ok()
}

#[tokio::test]
async fn create_fills_every_default() {
    let platform = TestPlatform::start().await;
    let agent = create(
        &platform,
        json!({"name": "Reviewer", "model": "claude-sonnet-4-6"}),
    )
    .await;
    assert!(id(&agent).starts_with("agent_") && id(&agent).len() == "agent_".len() + 24);
    let created_at = agent["created_at"].clone();
    assert_eq!(
        agent,
        json!({
            "id": agent["id"],
            "type": "agent",
            "name": "Reviewer",
            "description": null,
            "model": {"id": "claude-sonnet-4-6", "effort": {"type": "high"}, "speed": "standard"},
            "system": null,
            "tools": [],
            "mcp_servers": [],
            "skills": [],
            "multiagent": null,
            "execution_identity": {"type": "service_account"},
            "metadata": {},
            "version": 1,
            "created_at": created_at,
            "updated_at": created_at,
            "archived_at": null,
        })
    );
    assert_eq!(
        platform
            .get(&format!("/v1/agents/{}", id(&agent)))
            .await
            .ok(),
        agent
    );
}

#[tokio::test]
async fn tools_servers_and_skills_resolve() {
    let platform = TestPlatform::start().await;
    let agent = create(
        &platform,
        json!({
            "name": "Full",
            "model": {"id": "claude-opus-4-7", "effort": "max", "inference_geo": "us"},
            "description": "does it all",
            "system": "You are helpful.",
            "tools": [
                {"type": "agent_toolset_20260401",
                 "default_config": {"permission_policy": {"type": "always_ask"}},
                 "configs": [{"name": "read", "permission_policy": {"type": "always_allow"}},
                             {"name": "web_search", "enabled": false, "blocked_domains": ["ads.example.com"]}]},
                {"type": "mcp_toolset", "mcp_server_name": "github", "configs": [{"name": "search_code"}]},
                {"type": "custom", "name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
            ],
            "mcp_servers": [{"type": "url", "name": "github", "url": "https://mcp.example.com/github"}],
            "skills": [{"type": "anthropic", "skill_id": "xlsx"}, {"type": "custom", "skill_id": "skill_01", "version": "3"}],
            "metadata": {"team": "infra"},
            "execution_identity": null
        }),
    )
    .await;
    assert_eq!(
        agent["model"],
        json!({"id": "claude-opus-4-7", "effort": {"type": "max"}, "inference_geo": "us", "speed": "standard"})
    );
    let toolset = &agent["tools"][0];
    assert_eq!(
        toolset["default_config"],
        json!({"enabled": true, "permission_policy": {"type": "always_ask"}})
    );
    let configs = toolset["configs"].as_array().unwrap();
    assert_eq!(configs.len(), 8);
    assert_eq!(
        configs[0],
        json!({"type": "bash", "name": "bash", "enabled": true, "permission_policy": {"type": "always_ask"}})
    );
    assert_eq!(
        configs[2]["permission_policy"],
        json!({"type": "always_allow"})
    );
    assert_eq!(configs[6]["url_sources"], json!(null));
    assert_eq!(
        configs[7],
        json!({"type": "web_search", "name": "web_search", "enabled": false, "permission_policy": {"type": "always_ask"}, "blocked_domains": ["ads.example.com"]})
    );
    assert_eq!(
        agent["tools"][1],
        json!({"type": "mcp_toolset", "mcp_server_name": "github",
               "configs": [{"name": "search_code", "enabled": true, "permission_policy": {"type": "always_ask"}}],
               "default_config": {"enabled": true, "permission_policy": {"type": "always_ask"}}})
    );
    assert_eq!(
        agent["tools"][2]["input_schema"]["required"],
        json!(["city"])
    );
    assert_eq!(
        agent["skills"],
        json!([{"type": "anthropic", "skill_id": "xlsx", "version": "latest"}, {"type": "custom", "skill_id": "skill_01", "version": "3"}])
    );
    assert_eq!(
        agent["execution_identity"],
        json!({"type": "service_account"})
    );
}

#[tokio::test]
async fn invalid_bodies_are_400_naming_the_field() {
    let platform = TestPlatform::start().await;
    for (body, needle) in [
        (json!({"model": "m"}), "missing field `name`"),
        (json!({"name": "a"}), "missing field `model`"),
        (json!({"name": 7, "model": "m"}), "`name`"),
        (json!({"name": "a", "model": 5}), "`model`"),
        (json!({"name": "", "model": "m"}), "`name`"),
        (
            json!({"name": "a", "model": "m", "tools": {"type": "custom"}}),
            "`tools`",
        ),
        (
            json!({"name": "a", "model": "m", "tools": [{"type": "quantum"}]}),
            "`tools[0].type`",
        ),
        (
            json!({"name": "a", "model": "m", "tools": [{"type": "custom", "name": "no spaces", "description": "", "input_schema": {"type": "object"}}]}),
            "`tools[0].name`",
        ),
        (
            json!({"name": "a", "model": "m", "tools": [{"type": "custom", "description": "", "input_schema": {"type": "object"}}]}),
            "missing field `name`",
        ),
        (
            json!({"name": "a", "model": "m", "mcp_servers": [{"type": "url", "name": "x", "url": "https://x"}]}),
            "not used",
        ),
        (
            json!({"name": "a", "model": "m", "tools": [{"type": "mcp_toolset", "mcp_server_name": "ghost"}]}),
            "ghost",
        ),
        (
            json!({"name": "a", "model": "m", "metadata": {"k": 1}}),
            "`metadata.k`",
        ),
        (
            json!({"name": "a", "model": "m", "execution_identity": {"type": "aws_role"}}),
            "role_arn",
        ),
    ] {
        let response = platform.post("/v1/agents", body.clone()).await;
        let message = response.error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
    }
    let too_many: serde_json::Map<String, Value> =
        (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
    let response = platform
        .post(
            "/v1/agents",
            json!({"name": "a", "model": "m", "metadata": too_many}),
        )
        .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "invalid_metadata");
    let servers: Vec<Value> = (0..21)
        .map(|i| json!({"type": "url", "name": format!("s{i}"), "url": "https://x"}))
        .collect();
    let response = platform
        .post(
            "/v1/agents",
            json!({"name": "a", "model": "m", "mcp_servers": servers}),
        )
        .await;
    assert!(
        response
            .error(400, "invalid_request_error")
            .contains("at most 20")
    );
    let tools: Vec<Value> = (0..257).map(|i| json!({"type": "custom", "name": format!("t{i}"), "description": "", "input_schema": {"type": "object"}})).collect();
    let response = platform
        .post(
            "/v1/agents",
            json!({"name": "a", "model": "m", "tools": tools}),
        )
        .await;
    assert!(response.error(400, "invalid_request_error").contains("256"));
    // Nothing was stored by the failed requests.
    assert_eq!(platform.get("/v1/agents").await.ok()["data"], json!([]));
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let platform = TestPlatform::start().await;
    for response in [
        platform.get("/v1/agents/agent_nope").await,
        platform
            .post("/v1/agents/agent_nope", json!({"name": "x"}))
            .await,
        platform.post_empty("/v1/agents/agent_nope/archive").await,
        platform.get("/v1/agents/agent_nope/versions").await,
    ] {
        let message = response.error(404, "not_found_error");
        assert!(message.contains("agent_nope"), "{message}");
    }
}

#[tokio::test]
async fn updates_make_versions_and_no_ops_do_not() {
    let platform = TestPlatform::start().await;
    let agent = create(&platform, json!({"name": "v", "model": {"id": "m1", "effort": "low"}, "metadata": {"a": "1", "b": "2"}})).await;
    let path = format!("/v1/agents/{}", id(&agent));

    let v2 = platform
        .post(&path, json!({"name": "v2", "model": "m2", "description": "d", "metadata": {"a": null, "c": "3"}, "version": 1}))
        .await
        .ok();
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["name"], "v2");
    assert_eq!(
        v2["model"],
        json!({"id": "m2", "effort": {"type": "low"}, "speed": "standard"}),
        "effort is kept"
    );
    assert_eq!(v2["metadata"], json!({"b": "2", "c": "3"}));
    assert_eq!(v2["created_at"], agent["created_at"]);
    assert!(v2["updated_at"].as_str().unwrap() > agent["updated_at"].as_str().unwrap());

    // Nothing changes: same version, same updated_at.
    for no_op in [
        json!({}),
        json!({"name": "v2", "description": "d"}),
        json!({"metadata": {"zzz": null}}),
    ] {
        let same = platform.post(&path, no_op).await.ok();
        assert_eq!(same, v2);
    }

    // A stale lock is a 409 that must not be retried, and changes nothing.
    let stale = platform
        .post(&path, json!({"name": "late", "version": 1}))
        .await;
    let message = stale.error(409, "conflict_error");
    assert!(message.contains("version 2"), "{message}");
    assert_eq!(stale.headers["x-should-retry"], "false");
    assert_eq!(platform.get(&path).await.ok()["name"], "v2");
    platform
        .post(&path, json!({"version": 0}))
        .await
        .error(400, "invalid_request_error");

    // Clearing: "" and null clear text, null clears lists.
    let v3 = platform
        .post(&path, json!({"description": "", "system": null, "tools": [{"type": "agent_toolset_20260401"}], "version": 2}))
        .await
        .ok();
    assert_eq!(
        (v3["version"].clone(), v3["description"].clone()),
        (json!(3), json!(null))
    );
    let v4 = platform.post(&path, json!({"tools": null})).await.ok();
    assert_eq!(
        (v4["version"].clone(), v4["tools"].clone()),
        (json!(4), json!([]))
    );

    // Old versions read back as they were.
    let v1 = platform.get(&format!("{path}?version=1")).await.ok();
    assert_eq!(v1, agent);
    assert_eq!(platform.get(&format!("{path}?version=3")).await.ok(), v3);
    platform
        .get(&format!("{path}?version=9"))
        .await
        .error(404, "not_found_error");
    platform
        .get(&format!("{path}?version=0"))
        .await
        .error(400, "invalid_request_error");
    platform
        .get(&format!("{path}?version=abc"))
        .await
        .error(400, "invalid_request_error");

    // Invalid updates change nothing.
    let response = platform
        .post(
            &path,
            json!({"mcp_servers": [{"type": "url", "name": "x", "url": "https://x"}]}),
        )
        .await;
    response.error(400, "invalid_request_error");
    platform
        .post(&path, json!({"name": ""}))
        .await
        .error(400, "invalid_request_error");
    platform
        .post(&path, json!({"model": {"effort": "low"}}))
        .await
        .error(400, "invalid_request_error");
    assert_eq!(platform.get(&path).await.ok(), v4);
}

#[tokio::test]
async fn versions_list_one_snapshot_per_version_newest_first() {
    let platform = TestPlatform::start().await;
    let agent = create(&platform, json!({"name": "n0", "model": "m"})).await;
    let path = format!("/v1/agents/{}", id(&agent));
    for i in 1..5 {
        platform
            .post(&path, json!({"name": format!("n{i}")}))
            .await
            .ok();
    }
    let pages = platform.walk(&format!("{path}/versions?limit=2")).await;
    assert_eq!(pages.len(), 3);
    let versions: Vec<(u64, String)> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .map(|a| {
            (
                a["version"].as_u64().unwrap(),
                a["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        (1..=5)
            .rev()
            .map(|v| (v, format!("n{}", v - 1)))
            .collect::<Vec<_>>()
    );
    assert_eq!(pages[2]["next_page"], json!(null));
}

#[tokio::test]
async fn list_pages_filters_and_archive() {
    let platform = TestPlatform::start().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create(&platform, json!({"name": format!("a{i}"), "model": "m"})).await);
    }
    // Newest first, walking pages of 2 to a null cursor.
    let pages = platform.walk("/v1/agents?limit=2").await;
    assert_eq!(pages.len(), 3);
    let names: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap())
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a4", "a3", "a2", "a1", "a0"]);
    assert!(pages[0]["next_page"].is_string());

    // created_at bounds, percent-encoded as the SDK sends them, inclusive at both ends.
    let from = created[1]["created_at"].as_str().unwrap();
    let to = created[3]["created_at"].as_str().unwrap();
    let page = platform
        .get(&format!(
            "/v1/agents?created_at%5Bgte%5D={from}&created_at%5Blte%5D={to}"
        ))
        .await
        .ok();
    let names: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a3", "a2", "a1"]);
    platform
        .get("/v1/agents?created_at[gte]=soon")
        .await
        .error(400, "invalid_request_error");

    // Archive hides an agent unless include_archived=true; archiving again changes nothing.
    let archive_path = format!("/v1/agents/{}/archive", id(&created[2]));
    let archived = platform.post_empty(&archive_path).await.ok();
    assert!(archived["archived_at"].is_string());
    assert_eq!(archived["version"], 1);
    assert_eq!(platform.post_empty(&archive_path).await.ok(), archived);
    let visible = platform.get("/v1/agents").await.ok();
    assert_eq!(visible["data"].as_array().unwrap().len(), 4);
    let all = platform.get("/v1/agents?include_archived=true").await.ok();
    assert_eq!(all["data"].as_array().unwrap().len(), 5);
    let snapshot = platform
        .get(&format!("/v1/agents/{}?version=1", id(&created[2])))
        .await
        .ok();
    assert_eq!(snapshot["archived_at"], archived["archived_at"]);
    let response = platform
        .post(
            &format!("/v1/agents/{}", id(&created[2])),
            json!({"name": "z"}),
        )
        .await;
    assert!(
        response
            .error(400, "invalid_request_error")
            .contains("archived")
    );

    platform
        .get("/v1/agents?limit=0")
        .await
        .error(400, "invalid_request_error");
    platform
        .get("/v1/agents?page=garbage")
        .await
        .error(400, "invalid_request_error");
    platform
        .get("/v1/agents?include_archived=perhaps")
        .await
        .error(400, "invalid_request_error");
    // A limit above the maximum is clamped, not refused.
    assert_eq!(
        platform.get("/v1/agents?limit=1000").await.ok()["data"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn multiagent_rosters_resolve_to_versions() {
    let platform = TestPlatform::start().await;
    let worker = create(&platform, json!({"name": "worker", "model": "m"})).await;
    let worker_id = id(&worker);
    platform
        .post(
            &format!("/v1/agents/{worker_id}"),
            json!({"name": "worker v2"}),
        )
        .await
        .ok();

    let lead = create(
        &platform,
        json!({"name": "lead", "model": "m", "multiagent": {"type": "coordinator", "agents": [
            worker_id, {"type": "self"}, {"type": "advisor", "model": "claude-opus-4-7"}
        ]}}),
    )
    .await;
    assert_eq!(
        lead["multiagent"],
        json!({"type": "coordinator", "agents": [
            {"type": "agent", "id": worker_id, "version": 2},
            {"type": "agent", "id": id(&lead), "version": 1},
            {"type": "advisor", "model": "claude-opus-4-7"}
        ]})
    );
    // A change moves the self reference to the new version.
    let lead_v2 = platform
        .post(
            &format!("/v1/agents/{}", id(&lead)),
            json!({"system": "lead well"}),
        )
        .await
        .ok();
    assert_eq!(lead_v2["multiagent"]["agents"][1]["version"], 2);

    // Depth 1: an agent with multiagent cannot be referenced; unknown and archived agents neither.
    for (roster, needle) in [
        (json!([id(&lead)]), "only one level"),
        (json!(["agent_ghost"]), "not found"),
        (
            json!([{"type": "agent", "id": worker_id, "version": 7}]),
            "no version 7",
        ),
        (
            json!([worker_id, {"type": "agent", "id": worker_id, "version": 1}]),
            "listed twice",
        ),
    ] {
        let response = platform
            .post("/v1/agents", json!({"name": "x", "model": "m", "multiagent": {"type": "coordinator", "agents": roster}}))
            .await;
        let message = response.error(400, "invalid_request_error");
        assert!(message.contains(needle), "{message}");
    }

    // multiagent_20261001: defaults, then a level-by-level merge.
    let modern = create(
        &platform,
        json!({"name": "modern", "model": "m", "multiagent": {"type": "multiagent_20261001",
            "workflows": {"type": "enabled", "predefined_agents": [{"type": "agent", "id": worker_id, "version": 1}]}}}),
    )
    .await;
    assert_eq!(
        modern["multiagent"],
        json!({"type": "multiagent_20261001",
               "advisor": {"type": "disabled"},
               "subagents": {"type": "enabled", "inline_agents": {"type": "enabled"}, "predefined_agents": []},
               "workflows": {"type": "enabled", "inline_agents": {"type": "enabled"},
                             "predefined_agents": [{"type": "agent", "id": worker_id, "version": 1}]}})
    );
    let merged = platform
        .post(
            &format!("/v1/agents/{}", id(&modern)),
            json!({"multiagent": {"type": "multiagent_20261001", "advisor": {"type": "enabled", "model": "claude-opus-4-7"},
                                  "workflows": {"type": "enabled", "inline_agents": {"type": "disabled"}}}}),
        )
        .await
        .ok();
    assert_eq!(
        merged["multiagent"]["advisor"],
        json!({"type": "enabled", "model": "claude-opus-4-7"})
    );
    assert_eq!(
        merged["multiagent"]["workflows"],
        json!({"type": "enabled", "inline_agents": {"type": "disabled"},
               "predefined_agents": [{"type": "agent", "id": worker_id, "version": 1}]})
    );
    let response = platform
        .post(
            &format!("/v1/agents/{}", id(&modern)),
            json!({"multiagent": {"type": "multiagent_20261001", "workflows": {"type": "enabled", "predefined_agents": null}}}),
        )
        .await;
    assert!(
        response
            .error(400, "invalid_request_error")
            .contains("predefined_agents")
    );
    let cleared = platform
        .post(
            &format!("/v1/agents/{}", id(&modern)),
            json!({"multiagent": null}),
        )
        .await
        .ok();
    assert_eq!(cleared["multiagent"], json!(null));
}
