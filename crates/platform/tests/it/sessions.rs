//! `/v1/sessions` and `/v1/sessions/{id}/resources` over HTTP.
#![expect(
    clippy::unwrap_used,
    reason = "the fixture's helpers fail the test on any unexpected response"
)]

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::support::{TestPlatform, id};

/// A platform with one environment and one agent, the minimum a session needs.
struct Fixture {
    platform: TestPlatform,
    environment: String,
    agent: Value,
}

impl Fixture {
    async fn start() -> Self {
        let platform = TestPlatform::start().await;
        let environment = platform
            .post("/v1/environments", json!({"name": "env"}))
            .await
            .ok();
        let agent = platform
            .post(
                "/v1/agents",
                json!({"name": "helper", "model": "claude-sonnet-4-6", "system": "be brief"}),
            )
            .await
            .ok();
        Self {
            platform,
            environment: id(&environment).to_owned(),
            agent,
        }
    }

    fn agent_id(&self) -> &str {
        id(&self.agent)
    }

    /// Creates a session of the fixture's agent in its environment, with `extra` fields.
    async fn session(&self, extra: Value) -> Value {
        self.platform
            .post("/v1/sessions", self.body(extra))
            .await
            .ok()
    }

    /// A create body: the fixture's agent and environment, overridden or extended by `extra`.
    fn body(&self, extra: Value) -> Value {
        let mut body = json!({"agent": self.agent_id(), "environment_id": self.environment});
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    }

    async fn memory_store(&self, name: &str) -> String {
        let store = self
            .platform
            .post(
                "/v1/memory_stores",
                json!({"name": name, "description": format!("about {name}")}),
            )
            .await
            .ok();
        id(&store).to_owned()
    }
}

fn path(session: &Value) -> String {
    format!("/v1/sessions/{}", id(session))
}

/// The session without `stats.duration_seconds`, which grows between reads.
fn steady(session: &Value) -> Value {
    let mut session = session.clone();
    session["stats"]
        .as_object_mut()
        .unwrap()
        .remove("duration_seconds");
    session
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| id(s).to_owned())
        .collect()
}

#[tokio::test]
async fn create_pins_the_agent_version_and_starts_idle() {
    let f = Fixture::start().await;
    let session = f
        .session(json!({"title": "first", "metadata": {"k": "v"}}))
        .await;
    let session_id = id(&session);
    assert!(session_id.starts_with("sesn_"), "{session_id}");
    assert!(session["stats"]["duration_seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        steady(&session),
        json!({
            "id": session_id,
            "type": "session",
            "agent": {
                "id": f.agent_id(),
                "type": "agent",
                "version": 1,
                "name": "helper",
                "description": null,
                "system": "be brief",
                "model": f.agent["model"],
                "tools": [],
                "mcp_servers": [],
                "skills": [],
                "execution_identity": f.agent["execution_identity"],
                "multiagent": null,
            },
            "environment_id": f.environment,
            "status": "idle",
            "title": "first",
            "metadata": {"k": "v"},
            "resources": [],
            "vault_ids": [],
            "budget": null,
            "usage": {},
            "stats": {"active_seconds": 0.0},
            "outcome_evaluations": [],
            "created_at": session["created_at"],
            "updated_at": session["created_at"],
            "archived_at": null,
        })
    );
    assert_eq!(
        steady(&f.platform.get(&path(&session)).await.ok()),
        steady(&session)
    );

    // Updating the agent makes version 2; the session keeps its snapshot of version 1.
    f.platform
        .post(
            &format!("/v1/agents/{}", f.agent_id()),
            json!({"version": 1, "system": "changed"}),
        )
        .await
        .ok();
    let again = f.platform.get(&path(&session)).await.ok();
    assert_eq!(again["agent"]["version"], 1);
    assert_eq!(again["agent"]["system"], "be brief");

    // A bare ID and a reference without version take the latest; a version pins it.
    let latest = f.session(json!({})).await;
    assert_eq!(latest["agent"]["version"], 2);
    assert_eq!(latest["agent"]["system"], "changed");
    let unversioned = f
        .session(json!({"agent": {"type": "agent", "id": f.agent_id()}}))
        .await;
    assert_eq!(unversioned["agent"]["version"], 2);
    let pinned = f
        .session(json!({"agent": {"type": "agent", "id": f.agent_id(), "version": 1}}))
        .await;
    assert_eq!(pinned["agent"]["version"], 1);
    assert_eq!(pinned["agent"]["system"], "be brief");
}

#[tokio::test]
async fn overrides_change_the_snapshot_not_the_agent() {
    let f = Fixture::start().await;
    let session = f
        .session(json!({"agent": {
            "type": "agent_with_overrides",
            "id": f.agent_id(),
            "model": {"id": "claude-opus-4-7", "effort": "low"},
            "system": null,
            "tools": [{"type": "agent_toolset_20260401", "default_config": {"enabled": false}}],
            "skills": [{"type": "anthropic", "skill_id": "xlsx"}],
        }}))
        .await;
    let agent = &session["agent"];
    assert_eq!(agent["version"], 1);
    assert_eq!(
        agent["model"],
        json!({"id": "claude-opus-4-7", "effort": {"type": "low"}, "speed": "standard"})
    );
    assert_eq!(agent["system"], Value::Null);
    assert_eq!(agent["tools"][0]["type"], "agent_toolset_20260401");
    assert_eq!(agent["tools"][0]["configs"].as_array().unwrap().len(), 8);
    assert_eq!(
        agent["skills"],
        json!([{"type": "anthropic", "skill_id": "xlsx", "version": "latest"}])
    );
    let saved = f
        .platform
        .get(&format!("/v1/agents/{}", f.agent_id()))
        .await
        .ok();
    assert_eq!(saved, f.agent);

    // Overrides follow the agent rules, with fields named under `agent`.
    let response = f
        .platform
        .post(
            "/v1/sessions",
            f.body(
                json!({"agent": {"type": "agent_with_overrides", "id": f.agent_id(),
                "mcp_servers": [{"type": "url", "name": "gh", "url": "https://mcp.example.com"}]}}),
            ),
        )
        .await;
    let message = response.error(400, "invalid_request_error");
    assert!(message.contains("`agent.mcp_servers[0]`"), "{message}");
    let response = f
        .platform
        .post(
            "/v1/sessions",
            f.body(
                json!({"agent": {"type": "agent_with_overrides", "id": f.agent_id(),
                "tools": [{"type": "laser"}]}}),
            ),
        )
        .await;
    let message = response.error(400, "invalid_request_error");
    assert!(message.contains("`agent.tools[0].type`"), "{message}");
    let response = f
        .platform
        .post(
            "/v1/sessions",
            f.body(
                json!({"agent": {"type": "agent_with_overrides", "id": f.agent_id(),
                "system": "x".repeat(100_001)}}),
            ),
        )
        .await;
    let message = response.error(400, "invalid_request_error");
    assert!(message.contains("`agent.system`"), "{message}");
}

#[tokio::test]
async fn multiagent_rosters_expand_to_snapshots() {
    let f = Fixture::start().await;
    let lead = f
        .platform
        .post(
            "/v1/agents",
            json!({"name": "lead", "model": "m", "multiagent": {"type": "coordinator",
                "agents": [f.agent_id(), {"type": "advisor", "model": "claude-opus-4-7"}]}}),
        )
        .await
        .ok();
    let session = f.session(json!({"agent": id(&lead)})).await;
    assert_eq!(
        session["agent"]["multiagent"],
        json!({"type": "coordinator", "agents": [
            {"id": f.agent_id(), "type": "agent", "version": 1, "name": "helper", "description": null,
             "system": "be brief", "model": f.agent["model"], "tools": [], "mcp_servers": [], "skills": [],
             "execution_identity": f.agent["execution_identity"]},
            {"type": "advisor", "model": "claude-opus-4-7"},
        ]})
    );

    let pool = f
        .platform
        .post(
            "/v1/agents",
            json!({"name": "pool", "model": "m", "multiagent": {"type": "multiagent_20261001",
                "subagents": {"type": "enabled", "predefined_agents": [f.agent_id()]},
                "workflows": {"type": "disabled"}}}),
        )
        .await
        .ok();
    let session = f.session(json!({"agent": id(&pool)})).await;
    let multiagent = &session["agent"]["multiagent"];
    assert_eq!(multiagent["type"], "multiagent_20261001");
    assert_eq!(multiagent["workflows"], json!({"type": "disabled"}));
    assert_eq!(
        multiagent["subagents"]["predefined_agents"][0]["name"],
        "helper"
    );
    assert_eq!(
        multiagent["subagents"]["predefined_agents"][0]["system"],
        "be brief"
    );
}

#[tokio::test]
async fn resources_are_mounted_listed_and_managed() {
    let f = Fixture::start().await;
    let store = f.memory_store("User Preferences").await;
    let session = f
        .session(json!({"resources": [
            {"type": "memory_store", "memory_store_id": store, "instructions": "read first"},
            {"type": "file", "file_id": "file_011"},
            {"type": "github_repository", "url": "https://github.com/acme/widgets.git",
             "authorization_token": "ghp_secret_canary", "checkout": {"type": "branch", "name": "main"}},
            {"type": "file", "file_id": "file_012", "mount_path": "/data/input.csv"},
        ]}))
        .await;
    assert!(!session.to_string().contains("ghp_secret_canary"));
    let resources = session["resources"].as_array().unwrap().clone();
    assert_eq!(
        resources[0],
        json!({"type": "memory_store", "memory_store_id": store, "access": "read_write",
               "description": "about User Preferences", "instructions": "read first",
               "mount_path": "/mnt/memory/user-preferences", "name": "User Preferences"})
    );
    let file = &resources[1];
    assert!(id(file).starts_with("sesrsc_"));
    assert_eq!(
        file,
        &json!({"type": "file", "id": id(file), "file_id": "file_011",
                "mount_path": "/mnt/session/uploads/file_011",
                "created_at": file["created_at"], "updated_at": file["created_at"]})
    );
    let repo = &resources[2];
    assert_eq!(repo["mount_path"], "/workspace/widgets");
    assert_eq!(repo["checkout"], json!({"type": "branch", "name": "main"}));
    assert_eq!(repo["url"], "https://github.com/acme/widgets.git");
    assert_eq!(resources[3]["mount_path"], "/data/input.csv");

    // Listing pages through the resources in attach order.
    let base = format!("{}/resources", path(&session));
    let pages = f.platform.walk(&format!("{base}?limit=3")).await;
    assert_eq!(pages.len(), 2);
    let listed: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .collect();
    assert_eq!(listed, resources);

    // Retrieve by resource ID, or by store ID for a memory store.
    assert_eq!(
        &f.platform.get(&format!("{base}/{}", id(file))).await.ok(),
        file
    );
    assert_eq!(
        f.platform.get(&format!("{base}/{store}")).await.ok(),
        resources[0]
    );

    // Token rotation: repositories only, and the token never comes back.
    let rotated = f
        .platform
        .post(
            &format!("{base}/{}", id(repo)),
            json!({"authorization_token": "ghp_rotated_canary"}),
        )
        .await
        .ok();
    assert!(!rotated.to_string().contains("canary"));
    assert_eq!(rotated["id"], repo["id"]);
    assert_ne!(rotated["updated_at"], repo["updated_at"]);
    let response = f
        .platform
        .post(
            &format!("{base}/{}", id(file)),
            json!({"authorization_token": "x"}),
        )
        .await;
    let message = response.error(400, "invalid_request_error");
    assert!(message.contains("github_repository"), "{message}");
    f.platform
        .post(&format!("{base}/{}", id(repo)), json!({}))
        .await
        .error(400, "invalid_request_error");

    // Adding: files only, default mount path, no clash with a mounted path.
    let added = f
        .platform
        .post(&base, json!({"type": "file", "file_id": "file_013"}))
        .await
        .ok();
    assert_eq!(added["type"], "file");
    assert_eq!(added["mount_path"], "/mnt/session/uploads/file_013");
    let response = f
        .platform
        .post(
            &base,
            json!({"type": "file", "file_id": "file_014", "mount_path": "/data/input.csv"}),
        )
        .await;
    response.error(409, "conflict_error");
    let response = f
        .platform
        .post(
            &base,
            json!({"type": "github_repository", "url": "https://github.com/a/b"}),
        )
        .await;
    let message = response.error(400, "invalid_request_error");
    assert!(message.contains("\"file\""), "{message}");
    let after_add = f.platform.get(&path(&session)).await.ok();
    assert_eq!(after_add["resources"].as_array().unwrap().len(), 5);
    assert_ne!(after_add["updated_at"], session["updated_at"]);

    // Deleting a file and detaching the store.
    let receipt = f
        .platform
        .delete(&format!("{base}/{}", id(file)))
        .await
        .ok();
    assert_eq!(
        receipt,
        json!({"id": id(file), "type": "session_resource_deleted"})
    );
    let receipt = f.platform.delete(&format!("{base}/{store}")).await.ok();
    assert_eq!(
        receipt,
        json!({"id": store, "type": "session_resource_deleted"})
    );
    f.platform
        .get(&format!("{base}/{}", id(file)))
        .await
        .error(404, "not_found_error");
    f.platform
        .delete(&format!("{base}/{store}"))
        .await
        .error(404, "not_found_error");
    let remaining = f.platform.get(&base).await.ok();
    assert_eq!(remaining["data"].as_array().unwrap().len(), 3);
    assert_eq!(remaining["next_page"], Value::Null);
    // The store is no longer linked: the memory_store_id filter no longer finds the session.
    let listed = f
        .platform
        .get(&format!("/v1/sessions?memory_store_id={store}"))
        .await
        .ok();
    assert_eq!(ids(&listed), Vec::<String>::new());
}

#[tokio::test]
async fn memory_store_rules() {
    let f = Fixture::start().await;
    let mut stores = Vec::new();
    for i in 0..9 {
        stores.push(f.memory_store(&format!("store {i}")).await);
    }
    let attach = |ids: &[String]| -> Value {
        json!({"resources": ids.iter().map(|s| json!({"type": "memory_store", "memory_store_id": s, "access": "read_only"})).collect::<Vec<_>>()})
    };
    let eight = f.session(attach(&stores[..8])).await;
    assert_eq!(eight["resources"].as_array().unwrap().len(), 8);
    assert_eq!(eight["resources"][7]["access"], "read_only");
    assert_eq!(eight["resources"][7]["mount_path"], "/mnt/memory/store-7");
    assert_eq!(eight["resources"][7]["instructions"], Value::Null);

    let response = f
        .platform
        .post("/v1/sessions", f.body(attach(&stores)))
        .await;
    let message = response.error(400, "invalid_request_error");
    assert!(message.contains("at most 8 memory stores"), "{message}");

    // The same store twice, or two names with the same slug, share a mount path.
    let twice = [stores[0].clone(), stores[0].clone()];
    let message = f
        .platform
        .post("/v1/sessions", f.body(attach(&twice)))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("/mnt/memory/store-0"), "{message}");
    let lookalike = f.memory_store("STORE  0").await;
    let message = f
        .platform
        .post(
            "/v1/sessions",
            f.body(attach(&[stores[0].clone(), lookalike])),
        )
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("`resources[1]`"), "{message}");

    // Unknown stores are 404, archived ones 400, long instructions 400.
    f.platform
        .post(
            "/v1/sessions",
            f.body(attach(&["memstore_ghost".to_owned()])),
        )
        .await
        .error(404, "not_found_error");
    f.platform
        .post_empty(&format!("/v1/memory_stores/{}/archive", stores[8]))
        .await
        .ok();
    let message = f
        .platform
        .post("/v1/sessions", f.body(attach(&stores[8..])))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("archived"), "{message}");
    let message = f
        .platform
        .post(
            "/v1/sessions",
            f.body(
                json!({"resources": [{"type": "memory_store", "memory_store_id": stores[0],
                "instructions": "x".repeat(4097)}]}),
            ),
        )
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("`resources[0].instructions`"), "{message}");

    // Renaming a store later does not change what a session snapshotted.
    f.platform
        .post(
            &format!("/v1/memory_stores/{}", stores[0]),
            json!({"name": "renamed"}),
        )
        .await
        .ok();
    let again = f.platform.get(&path(&eight)).await.ok();
    assert_eq!(again["resources"][0]["name"], "store 0");
    assert_eq!(again["resources"][0]["mount_path"], "/mnt/memory/store-0");
}

#[tokio::test]
async fn updates_follow_the_rules() {
    let f = Fixture::start().await;
    let session = f
        .session(json!({"title": "t", "metadata": {"a": "1", "b": "2"}}))
        .await;
    let updated = f
        .platform
        .post(
            &path(&session),
            json!({"title": "renamed", "metadata": {"a": null, "c": "3"}}),
        )
        .await
        .ok();
    assert_eq!(updated["title"], "renamed");
    assert_eq!(updated["metadata"], json!({"b": "2", "c": "3"}));
    assert_ne!(updated["updated_at"], session["updated_at"]);
    // A no-op leaves updated_at alone; null clears the title.
    let same = f
        .platform
        .post(&path(&session), json!({"title": "renamed"}))
        .await
        .ok();
    assert_eq!(same["updated_at"], updated["updated_at"]);
    let cleared = f
        .platform
        .post(&path(&session), json!({"title": null}))
        .await
        .ok();
    assert_eq!(cleared["title"], Value::Null);

    // vault_ids is reserved.
    let message = f
        .platform
        .post(&path(&session), json!({"vault_ids": []}))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("`vault_ids`"), "{message}");

    // Budgets: only sessions created with one can change it; null removes it for good.
    let budget = |cents: &str| json!({"type": "limit", "max_list_cost": {"amount": cents, "currency": "USD"}});
    let response = f
        .platform
        .post(&path(&session), json!({"budget": budget("500")}))
        .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "budget_create_only");
    let capped = f.session(json!({"budget": budget("1000")})).await;
    assert_eq!(capped["budget"], budget("1000"));
    let raised = f
        .platform
        .post(&path(&capped), json!({"budget": budget("2000")}))
        .await
        .ok();
    assert_eq!(raised["budget"], budget("2000"));
    let lowered = f
        .platform
        .post(&path(&capped), json!({"budget": budget("1500")}))
        .await
        .ok();
    assert_eq!(lowered["budget"], budget("1500"));
    f.platform
        .post(&path(&capped), json!({"budget": budget("0")}))
        .await
        .error(400, "invalid_request_error");
    let removed = f
        .platform
        .post(&path(&capped), json!({"budget": null}))
        .await
        .ok();
    assert_eq!(removed["budget"], Value::Null);
    let response = f
        .platform
        .post(&path(&capped), json!({"budget": budget("1500")}))
        .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "budget_create_only");

    // agent: tools and MCP servers replaced whole, checked together, snapshot only.
    let retooled = f
        .platform
        .post(
            &path(&session),
            json!({"agent": {
                "tools": [{"type": "mcp_toolset", "mcp_server_name": "gh"}],
                "mcp_servers": [{"type": "url", "name": "gh", "url": "https://mcp.example.com"}]}}),
        )
        .await
        .ok();
    assert_eq!(retooled["agent"]["tools"][0]["type"], "mcp_toolset");
    assert_eq!(retooled["agent"]["mcp_servers"][0]["name"], "gh");
    assert_eq!(retooled["agent"]["version"], 1);
    let message = f
        .platform
        .post(&path(&session), json!({"agent": {"tools": []}}))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("`agent.mcp_servers[0]`"), "{message}");
    let cleared = f
        .platform
        .post(
            &path(&session),
            json!({"agent": {"tools": [], "mcp_servers": []}}),
        )
        .await
        .ok();
    assert_eq!(cleared["agent"]["tools"], json!([]));
    let saved = f
        .platform
        .get(&format!("/v1/agents/{}", f.agent_id()))
        .await
        .ok();
    assert_eq!(saved, f.agent);

    // Malformed bodies.
    for body in [
        json!({"title": 3}),
        json!({"metadata": {"k": 1}}),
        json!({"budget": {"type": "soft"}}),
        json!({"agent": {"tools": [{"type": "laser"}]}}),
    ] {
        f.platform
            .post(&path(&session), body)
            .await
            .error(400, "invalid_request_error");
    }

    // Archived sessions cannot change.
    f.platform
        .post_empty(&format!("{}/archive", path(&session)))
        .await
        .ok();
    let message = f
        .platform
        .post(&path(&session), json!({"title": "late"}))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("archived"), "{message}");
    f.platform
        .post(
            &format!("{}/resources", path(&session)),
            json!({"type": "file", "file_id": "file_1"}),
        )
        .await
        .error(400, "invalid_request_error");
}

#[tokio::test]
async fn list_pages_both_ways() {
    let f = Fixture::start().await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(id(&f.session(json!({})).await).to_owned());
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    for (query, expected) in [
        ("limit=2", newest_first.clone()),
        ("limit=2&order=desc", newest_first.clone()),
        ("limit=2&order=asc", created.clone()),
    ] {
        let first = f.platform.get(&format!("/v1/sessions?{query}")).await.ok();
        assert_eq!(first["prev_page"], Value::Null);
        let mut pages = vec![first];
        while let Some(next) = pages.last().unwrap()["next_page"].as_str() {
            let page = f
                .platform
                .get(&format!("/v1/sessions?{query}&page={next}"))
                .await
                .ok();
            assert!(page["prev_page"].is_string(), "{page}");
            pages.push(page);
            assert!(pages.len() < 10);
        }
        assert_eq!(pages.len(), 3, "{query}");
        let all: Vec<String> = pages.iter().flat_map(ids).collect();
        assert_eq!(all, expected, "{query}");

        // Back from the last page with prev_page, to the first.
        let mut back = vec![pages[2].clone()];
        while let Some(prev) = back.last().unwrap()["prev_page"].as_str() {
            let page = f
                .platform
                .get(&format!("/v1/sessions?{query}&page={prev}"))
                .await
                .ok();
            back.push(page);
            assert!(back.len() < 10);
        }
        let back_ids: Vec<Vec<String>> = back.iter().rev().map(ids).collect();
        let forward_ids: Vec<Vec<String>> = pages.iter().map(ids).collect();
        assert_eq!(back_ids, forward_ids, "{query}");
        assert!(back[2]["next_page"].is_string());
    }
}

#[tokio::test]
async fn list_filters() {
    let f = Fixture::start().await;
    let store = f.memory_store("shared").await;
    let other_agent = f
        .platform
        .post("/v1/agents", json!({"name": "other", "model": "m"}))
        .await
        .ok();
    let first = f.session(json!({})).await;
    let with_store = f
        .session(json!({"resources": [{"type": "memory_store", "memory_store_id": store}]}))
        .await;
    f.platform
        .post(
            &format!("/v1/agents/{}", f.agent_id()),
            json!({"system": "v2"}),
        )
        .await
        .ok();
    let second_version = f.session(json!({})).await;
    let other = f.session(json!({"agent": id(&other_agent)})).await;
    let archived = f.session(json!({})).await;
    f.platform
        .post_empty(&format!("{}/archive", path(&archived)))
        .await
        .ok();

    let list = |query: String| {
        let platform = &f.platform;
        async move {
            let page = platform.get(&format!("/v1/sessions?{query}")).await.ok();
            let mut found = ids(&page);
            found.sort();
            found
        }
    };
    let sorted = |sessions: &[&Value]| {
        let mut ids: Vec<String> = sessions.iter().map(|s| id(s).to_owned()).collect();
        ids.sort();
        ids
    };

    assert_eq!(
        list(String::new()).await,
        sorted(&[&first, &with_store, &second_version, &other])
    );
    assert_eq!(
        list("include_archived=true".into()).await,
        sorted(&[&first, &with_store, &second_version, &other, &archived])
    );
    assert_eq!(
        list(format!("agent_id={}", f.agent_id())).await,
        sorted(&[&first, &with_store, &second_version])
    );
    assert_eq!(
        list(format!("agent_id={}&agent_version=1", f.agent_id())).await,
        sorted(&[&first, &with_store])
    );
    assert_eq!(
        list(format!(
            "agent_id={}&agent_version=2&include_archived=true",
            f.agent_id()
        ))
        .await,
        sorted(&[&second_version, &archived])
    );
    assert_eq!(
        list(format!("memory_store_id={store}")).await,
        sorted(&[&with_store])
    );
    assert_eq!(
        list("statuses%5B%5D=idle".into()).await,
        sorted(&[&first, &with_store, &second_version, &other])
    );
    assert_eq!(
        list("statuses[]=terminated&include_archived=true".into()).await,
        sorted(&[&archived])
    );
    assert_eq!(
        list("statuses[]=terminated&statuses[]=idle&include_archived=true".into()).await,
        sorted(&[&first, &with_store, &second_version, &other, &archived])
    );
    assert_eq!(list("statuses=running".into()).await, Vec::<String>::new());
    assert_eq!(
        list("deployment_id=depl_1".into()).await,
        Vec::<String>::new()
    );

    // Time bounds, exclusive and inclusive, in any RFC 3339 form.
    let at = |s: &Value| s["created_at"].as_str().unwrap().to_owned();
    let encode = |t: &str| t.replace(':', "%3A").replace('+', "%2B");
    let pivot = at(&second_version);
    assert_eq!(
        list(format!("created_at%5Bgte%5D={}", encode(&pivot))).await,
        sorted(&[&second_version, &other])
    );
    assert_eq!(
        list(format!("created_at[gt]={}", encode(&pivot))).await,
        sorted(&[&other])
    );
    assert_eq!(
        list(format!("created_at[lt]={}", encode(&pivot))).await,
        sorted(&[&first, &with_store])
    );
    assert_eq!(
        list(format!("created_at[lte]={}", encode(&pivot))).await,
        sorted(&[&first, &with_store, &second_version])
    );
    assert_eq!(
        list(format!(
            "created_at[gt]={}&created_at[lt]={}",
            encode(&at(&first)),
            encode(&at(&other))
        ))
        .await,
        sorted(&[&with_store, &second_version])
    );

    // Bad queries are 400 naming the parameter.
    for (query, needle) in [
        ("agent_version=1", "`agent_version`"),
        ("order=sideways", "`order`"),
        ("statuses[]=sleeping", "`statuses[0]`"),
        ("created_at[gt]=yesterday", "`created_at[gt]`"),
        ("limit=0", "`limit`"),
        ("page=garbage!", "`page`"),
        ("include_archived=maybe", "include_archived"),
    ] {
        let message = f
            .platform
            .get(&format!("/v1/sessions?{query}"))
            .await
            .error(400, "invalid_request_error");
        assert!(message.contains(needle), "{query}: {message}");
    }
}

#[tokio::test]
async fn archive_and_delete() {
    let f = Fixture::start().await;
    let session = f.session(json!({})).await;
    let archived = f
        .platform
        .post_empty(&format!("{}/archive", path(&session)))
        .await
        .ok();
    assert_eq!(archived["status"], "terminated");
    assert!(archived["archived_at"].is_string());
    let frozen = archived["stats"]["duration_seconds"].clone();
    // Archiving again changes nothing, and the duration stays frozen.
    let again = f
        .platform
        .post_empty(&format!("{}/archive", path(&session)))
        .await
        .ok();
    assert_eq!(again, archived);
    assert_eq!(
        f.platform.get(&path(&session)).await.ok()["stats"]["duration_seconds"],
        frozen
    );

    let receipt = f.platform.delete(&path(&session)).await.ok();
    assert_eq!(
        receipt,
        json!({"id": id(&session), "type": "session_deleted"})
    );
    f.platform
        .get(&path(&session))
        .await
        .error(404, "not_found_error");
    f.platform
        .delete(&path(&session))
        .await
        .error(404, "not_found_error");
    // A live session can be deleted too, resources and all.
    let live = f
        .session(json!({"resources": [{"type": "file", "file_id": "file_1"}]}))
        .await;
    f.platform.delete(&path(&live)).await.ok();
    f.platform
        .get(&format!("{}/resources", path(&live)))
        .await
        .error(404, "not_found_error");
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let f = Fixture::start().await;
    let ghost = "/v1/sessions/sesn_ghost";
    f.platform.get(ghost).await.error(404, "not_found_error");
    f.platform
        .post(ghost, json!({"title": "x"}))
        .await
        .error(404, "not_found_error");
    f.platform.delete(ghost).await.error(404, "not_found_error");
    f.platform
        .post_empty(&format!("{ghost}/archive"))
        .await
        .error(404, "not_found_error");
    f.platform
        .get(&format!("{ghost}/resources"))
        .await
        .error(404, "not_found_error");
    f.platform
        .post(
            &format!("{ghost}/resources"),
            json!({"type": "file", "file_id": "file_1"}),
        )
        .await
        .error(404, "not_found_error");
    let session = f.session(json!({})).await;
    let resource = format!("{}/resources/sesrsc_ghost", path(&session));
    f.platform
        .get(&resource)
        .await
        .error(404, "not_found_error");
    f.platform
        .post(&resource, json!({"authorization_token": "t"}))
        .await
        .error(404, "not_found_error");
    f.platform
        .delete(&resource)
        .await
        .error(404, "not_found_error");

    // What a new session refers to.
    let message = f
        .platform
        .post("/v1/sessions", f.body(json!({"agent": "agent_ghost"})))
        .await
        .error(404, "not_found_error");
    assert!(message.contains("agent_ghost"), "{message}");
    let message = f
        .platform
        .post(
            "/v1/sessions",
            f.body(json!({"agent": {"type": "agent", "id": f.agent_id(), "version": 9}})),
        )
        .await
        .error(404, "not_found_error");
    assert!(message.contains("no version 9"), "{message}");
    let response = f
        .platform
        .post(
            "/v1/sessions",
            f.body(json!({"environment_id": "env_ghost"})),
        )
        .await;
    response.error(404, "not_found_error");
    assert_eq!(response.error_code(), "environment_not_found");
    let message = f
        .platform
        .post(
            "/v1/sessions",
            f.body(json!({"resources": [{"type": "memory_store", "memory_store_id": "memstore_ghost"}]})),
        )
        .await
        .error(404, "not_found_error");
    assert!(message.contains("memstore_ghost"), "{message}");
    let message = f
        .platform
        .post("/v1/sessions", f.body(json!({"vault_ids": ["vlt_ghost"]})))
        .await
        .error(404, "not_found_error");
    assert!(message.contains("vlt_ghost"), "{message}");
}

#[tokio::test]
async fn invalid_bodies_and_rule_violations_are_400() {
    let f = Fixture::start().await;
    let user_message = json!({"type": "user.message", "content": [{"type": "text", "text": "hi"}]});
    for (body, needle) in [
        (json!({"environment_id": f.environment}), "missing field `agent`"),
        (json!({"agent": f.agent_id()}), "missing field `environment_id`"),
        (f.body(json!({"agent": 7})), "`agent`"),
        (f.body(json!({"agent": {"type": "robot", "id": "x"}})), "`agent.type`"),
        (f.body(json!({"agent": {"type": "agent", "id": f.agent_id(), "version": 0}})), "`agent.version`"),
        (f.body(json!({"agent": ""})), "`agent`"),
        (f.body(json!({"title": ["t"]})), "`title`"),
        (f.body(json!({"metadata": {"k": "v".repeat(513)}})), "`metadata.k`"),
        (f.body(json!({"resources": [{"type": "floppy"}]})), "`resources[0].type`"),
        (f.body(json!({"resources": [{"type": "file", "file_id": "file_1", "mount_path": "relative"}]})), "`resources[0].mount_path`"),
        (f.body(json!({"resources": [{"type": "file", "file_id": "f1", "mount_path": "/x"}, {"type": "file", "file_id": "f2", "mount_path": "/x"}]})), "`resources[1]`"),
        (f.body(json!({"resources": [{"type": "github_repository", "url": "ftp://github.com/a/b"}]})), "`resources[0].url`"),
        (f.body(json!({"resources": [{"type": "github_repository", "url": "https://github.com/a/b", "checkout": {"type": "commit", "sha": "abc"}}]})), "`resources[0].checkout.sha`"),
        (f.body(json!({"resources": [{"type": "memory_store", "memory_store_id": "memstore_1", "access": "write_only"}]})), "`resources[0].access`"),
        (f.body(json!({"vault_ids": ["vlt_1", "vlt_1"]})), "`vault_ids[1]`"),
        (f.body(json!({"budget": {"type": "limit", "max_list_cost": {"amount": "ten", "currency": "USD"}}})), "`budget.max_list_cost.amount`"),
        (f.body(json!({"initial_events": [{"type": "user.interrupt"}]})), "`initial_events[0].type`"),
        (f.body(json!({"initial_events": [{"type": "user.message", "content": []}]})), "`initial_events[0].content`"),
        (f.body(json!({"initial_events": [{"type": "user.message", "content": [{"type": "search_result", "source": "s", "title": "t", "content": [], "citations": {"enabled": false}}]}]})), "`initial_events[0].content[0].type`"),
        (f.body(json!({"initial_events": [{"type": "user.define_outcome", "description": "d", "rubric": {"type": "text", "content": "r"}, "max_iterations": 21}]})), "`initial_events[0].max_iterations`"),
        (f.body(json!({"initial_events": vec![user_message.clone(); 51]})), "`initial_events`"),
    ] {
        let message = f
            .platform
            .post("/v1/sessions", body.clone())
            .await
            .error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
    }
    f.platform
        .post_raw("/v1/sessions", "{not json")
        .await
        .error(400, "invalid_request_error");

    // An archived environment or agent cannot start a session.
    let archived_env = f
        .platform
        .post("/v1/environments", json!({"name": "old"}))
        .await
        .ok();
    f.platform
        .post_empty(&format!("/v1/environments/{}/archive", id(&archived_env)))
        .await
        .ok();
    let response = f
        .platform
        .post(
            "/v1/sessions",
            f.body(json!({"environment_id": id(&archived_env)})),
        )
        .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "environment_archived");
    let retired = f
        .platform
        .post("/v1/agents", json!({"name": "retired", "model": "m"}))
        .await
        .ok();
    f.platform
        .post_empty(&format!("/v1/agents/{}/archive", id(&retired)))
        .await
        .ok();
    let message = f
        .platform
        .post("/v1/sessions", f.body(json!({"agent": id(&retired)})))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("archived"), "{message}");
}

#[tokio::test]
async fn initial_events_are_stored_for_the_engine() {
    let f = Fixture::start().await;
    let session = f
        .session(json!({"initial_events": [
            {"type": "user.message", "content": [{"type": "text", "text": "hello"}]},
            {"type": "user.define_outcome", "description": "a report", "rubric": {"type": "text", "content": "is thorough"}},
        ]}))
        .await;
    assert_eq!(session["status"], "idle");
    let evaluations = session["outcome_evaluations"].as_array().unwrap();
    assert_eq!(evaluations.len(), 1);
    let outcome_id = evaluations[0]["outcome_id"].as_str().unwrap();
    assert!(outcome_id.starts_with("outc_"), "{outcome_id}");
    assert_eq!(
        evaluations[0],
        json!({"type": "outcome_evaluation", "outcome_id": outcome_id, "description": "a report",
               "iteration": 0, "result": "pending", "explanation": null, "completed_at": null})
    );

    let db = rusqlite::Connection::open_with_flags(
        f.platform.handle.data_dir().join("platform.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = db
        .prepare("SELECT type, processed_at, body FROM session_events WHERE session_id = ?1 ORDER BY seq")
        .unwrap();
    let rows: Vec<(String, Option<String>, Value)> = stmt
        .query_map([id(&session)], |row| {
            let body: String = row.get(2)?;
            Ok((
                row.get(0)?,
                row.get(1)?,
                serde_json::from_str(&body).unwrap(),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2);
    let (kind, processed_at, message) = &rows[0];
    assert_eq!(kind, "user.message");
    assert_eq!(processed_at, &None);
    assert!(message["id"].as_str().unwrap().starts_with("sevt_"));
    assert_eq!(
        message,
        &json!({"type": "user.message", "id": message["id"], "content": [{"type": "text", "text": "hello"}], "processed_at": null})
    );
    let (kind, processed_at, outcome) = &rows[1];
    assert_eq!(kind, "user.define_outcome");
    assert!(processed_at.is_some());
    assert_eq!(outcome["outcome_id"], outcome_id);
    assert_eq!(outcome["max_iterations"], Value::Null);
    assert_eq!(
        outcome["rubric"],
        json!({"type": "text", "content": "is thorough"})
    );

    // Deleting the session deletes its events.
    f.platform.delete(&path(&session)).await.ok();
    let left: i64 = db
        .query_row("SELECT count(*) FROM session_events", [], |row| row.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn vaults_are_attached_at_creation() {
    let f = Fixture::start().await;
    let vault = f
        .platform
        .post("/v1/vaults", json!({"display_name": "alice"}))
        .await
        .ok();
    let session = f.session(json!({"vault_ids": [id(&vault)]})).await;
    assert_eq!(session["vault_ids"], json!([id(&vault)]));
    assert_eq!(
        f.platform.get(&path(&session)).await.ok()["vault_ids"],
        json!([id(&vault)])
    );

    f.platform
        .post_empty(&format!("/v1/vaults/{}/archive", id(&vault)))
        .await
        .ok();
    let message = f
        .platform
        .post("/v1/sessions", f.body(json!({"vault_ids": [id(&vault)]})))
        .await
        .error(400, "invalid_request_error");
    assert!(
        message.contains("`vault_ids[0]`") && message.contains("archived"),
        "{message}"
    );
}
