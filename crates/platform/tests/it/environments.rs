//! `/v1/environments` over HTTP.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::support::{TestPlatform, id};

async fn create(platform: &TestPlatform, body: Value) -> Value {
    platform.post("/v1/environments", body).await.ok()
}

fn path(environment: &Value) -> String {
    format!("/v1/environments/{}", id(environment))
}

#[tokio::test]
async fn create_defaults_to_an_unrestricted_cloud() {
    let platform = TestPlatform::start().await;
    let environment = create(&platform, json!({"name": "dev"})).await;
    let id = environment["id"].as_str().unwrap();
    assert!(id.starts_with("env_"));
    assert_eq!(
        environment,
        json!({
            "id": id,
            "type": "environment",
            "name": "dev",
            "description": null,
            "config": {"type": "cloud", "networking": {"type": "unrestricted"},
                       "packages": {"type": "packages", "apt": [], "cargo": [], "gem": [], "go": [], "npm": [], "pip": []}},
            "metadata": {},
            "scope": "organization",
            "created_at": environment["created_at"],
            "updated_at": environment["created_at"],
            "archived_at": null,
        })
    );
    assert_eq!(platform.get(&path(&environment)).await.ok(), environment);

    let hosted = create(&platform, json!({"name": "mine", "config": {"type": "self_hosted"}, "description": "", "metadata": {"k": "v"}})).await;
    assert_eq!(hosted["config"], json!({"type": "self_hosted"}));
    assert_eq!(hosted["description"], "");
    assert_eq!(hosted["metadata"], json!({"k": "v"}));

    let limited = create(
        &platform,
        json!({"name": "locked", "config": {"type": "cloud",
            "networking": {"type": "limited", "allowed_hosts": ["api.example.com"], "allow_package_managers": true},
            "packages": {"pip": ["requests==2.32.0"]}}}),
    )
    .await;
    assert_eq!(
        limited["config"],
        json!({"type": "cloud",
               "networking": {"type": "limited", "allow_mcp_servers": false, "allow_package_managers": true, "allowed_hosts": ["api.example.com"]},
               "packages": {"type": "packages", "apt": [], "cargo": [], "gem": [], "go": [], "npm": [], "pip": ["requests==2.32.0"]}})
    );
}

#[tokio::test]
async fn invalid_bodies_are_400_naming_the_field() {
    let platform = TestPlatform::start().await;
    for (body, needle) in [
        (json!({}), "missing field `name`"),
        (json!({"name": ["x"]}), "`name`"),
        (json!({"name": " "}), "`name`"),
        (
            json!({"name": "x", "config": {"type": "orbital"}}),
            "`config.type`",
        ),
        (
            json!({"name": "x", "config": {"type": "cloud", "networking": {"type": "sometimes"}}}),
            "`config.networking.type`",
        ),
        (
            json!({"name": "x", "config": {"type": "cloud", "networking": {"type": "limited", "allowed_hosts": "a.com"}}}),
            "`allowed_hosts`: invalid type: string",
        ),
        (
            json!({"name": "x", "config": {"type": "cloud", "networking": {"type": "limited"}, "packages": {"npm": ["left-pad"]}}}),
            "allow_package_managers",
        ),
        (json!({"name": "x", "scope": "account"}), "`scope`"),
        (json!({"name": "x", "scope": "galaxy"}), "`scope`"),
    ] {
        let response = platform.post("/v1/environments", body.clone()).await;
        let message = response.error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
    }
    let response = platform
        .post(
            "/v1/environments",
            json!({"name": "x", "metadata": {"k".repeat(65): "v"}}),
        )
        .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "invalid_metadata");
    assert_eq!(
        platform.get("/v1/environments").await.ok()["data"],
        json!([])
    );
}

#[tokio::test]
async fn unknown_ids_are_404_environment_not_found() {
    let platform = TestPlatform::start().await;
    for response in [
        platform.get("/v1/environments/env_nope").await,
        platform
            .post("/v1/environments/env_nope", json!({"name": "x"}))
            .await,
        platform.delete("/v1/environments/env_nope").await,
        platform
            .post_empty("/v1/environments/env_nope/archive")
            .await,
    ] {
        assert!(response.error(404, "not_found_error").contains("env_nope"));
        assert_eq!(response.error_code(), "environment_not_found");
    }
}

#[tokio::test]
async fn updates_patch_fields_and_keep_the_config_type() {
    let platform = TestPlatform::start().await;
    let environment = create(
        &platform,
        json!({"name": "e", "description": "first", "metadata": {"a": "1", "b": "2", "c": "3"},
               "config": {"type": "cloud", "networking": {"type": "limited", "allowed_hosts": ["x.com"], "allow_package_managers": true},
                          "packages": {"apt": ["git"]}}}),
    )
    .await;
    let path = path(&environment);

    let updated = platform
        .post(
            &path,
            json!({"name": "e2", "metadata": {"a": null, "b": "", "d": "4"},
                   "config": {"type": "cloud", "networking": {"type": "limited", "allow_mcp_servers": true}, "packages": {"pip": ["rich"]}}}),
        )
        .await
        .ok();
    assert_eq!(updated["name"], "e2");
    assert_eq!(updated["description"], "first");
    assert_eq!(
        updated["metadata"],
        json!({"c": "3", "d": "4"}),
        "null and \"\" delete"
    );
    assert_eq!(
        updated["config"],
        json!({"type": "cloud",
               "networking": {"type": "limited", "allow_mcp_servers": true, "allow_package_managers": true, "allowed_hosts": ["x.com"]},
               "packages": {"type": "packages", "apt": ["git"], "cargo": [], "gem": [], "go": [], "npm": [], "pip": ["rich"]}}),
        "omitted sub-fields are kept"
    );
    assert!(updated["updated_at"].as_str().unwrap() > environment["updated_at"].as_str().unwrap());

    let described = platform.post(&path, json!({"description": ""})).await.ok();
    assert_eq!(described["description"], "");
    let cleared = platform
        .post(&path, json!({"description": null}))
        .await
        .ok();
    assert_eq!(cleared["description"], json!(null));

    // A no-op leaves updated_at alone.
    let same = platform.post(&path, json!({})).await.ok();
    assert_eq!(same, cleared);

    let response = platform
        .post(&path, json!({"config": {"type": "self_hosted"}}))
        .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "invalid_config_type_change");
    let same = platform
        .post(&path, json!({"name": null, "config": null, "scope": null}))
        .await
        .ok();
    assert_eq!(same, cleared, "null keeps name, config and scope");
    let response = platform.post(&path, json!({"config": {"type": "cloud", "networking": {"type": "limited", "allow_package_managers": false}}})).await;
    assert!(
        response
            .error(400, "invalid_request_error")
            .contains("allow_package_managers")
    );
    assert_eq!(
        platform.get(&path).await.ok(),
        cleared,
        "failed updates change nothing"
    );

    let archived = platform.post_empty(&format!("{path}/archive")).await.ok();
    assert!(archived["archived_at"].is_string());
    assert_eq!(
        platform.post_empty(&format!("{path}/archive")).await.ok(),
        archived
    );
    let response = platform.post(&path, json!({"name": "late"})).await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "environment_archived");
}

#[tokio::test]
async fn list_pages_and_hides_archived() {
    let platform = TestPlatform::start().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(create(&platform, json!({"name": format!("e{i}")})).await);
    }
    platform
        .post_empty(&format!("{}/archive", path(&created[0])))
        .await
        .ok();

    let pages = platform.walk("/v1/environments?limit=3").await;
    let names: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap())
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["e6", "e5", "e4", "e3", "e2", "e1"]);
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1]["next_page"], json!(null));

    let pages = platform
        .walk("/v1/environments?include_archived=true&limit=3")
        .await;
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[2]["data"][0]["name"], "e0");
    assert_eq!(pages[2]["next_page"], json!(null));
}

#[tokio::test]
async fn delete_returns_a_receipt_and_removes_the_environment() {
    let platform = TestPlatform::start().await;
    let environment = create(&platform, json!({"name": "doomed"})).await;
    let receipt = platform.delete(&path(&environment)).await.ok();
    assert_eq!(
        receipt,
        json!({"id": environment["id"], "type": "environment_deleted"})
    );
    platform
        .get(&path(&environment))
        .await
        .error(404, "not_found_error");
    platform
        .delete(&path(&environment))
        .await
        .error(404, "not_found_error");
}
