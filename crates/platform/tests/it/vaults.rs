//! `/v1/vaults` and `/v1/vaults/{vault_id}/credentials` over HTTP, including the guarantees
//! about secrets: never in a response or an error, never in the database files in clear.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any unexpected error"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_platform::{Platform, PlatformHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{Response, TestPlatform, id};

/// Put in every secret field; must never come back.
const CANARY: &str = "canary-vault-9d41c7e2";
/// The replacement secrets sent in updates; must never come back either.
const CANARY2: &str = "canary-rotated-3b88aa10";

async fn vault(platform: &TestPlatform, name: &str) -> Value {
    platform
        .post("/v1/vaults", json!({"display_name": name}))
        .await
        .ok()
}

fn vault_path(vault: &Value) -> String {
    format!("/v1/vaults/{}", id(vault))
}

fn credentials_path(vault: &Value) -> String {
    format!("/v1/vaults/{}/credentials", id(vault))
}

fn credential_path(credential: &Value) -> String {
    format!(
        "/v1/vaults/{}/credentials/{}",
        credential["vault_id"].as_str().unwrap(),
        id(credential)
    )
}

fn oauth_auth(secret: &str) -> Value {
    json!({
        "type": "mcp_oauth",
        "mcp_server_url": "https://mcp.example.test/mcp",
        "access_token": secret,
        "expires_at": "2099-01-01T00:00:00Z",
        "refresh": {
            "client_id": "cid",
            "token_endpoint": "https://auth.example.test/token",
            "refresh_token": secret,
            "token_endpoint_auth": {"type": "client_secret_post", "client_secret": secret},
            "scope": "read write",
        },
    })
}

fn bearer_auth(secret: &str) -> Value {
    json!({"type": "static_bearer", "mcp_server_url": "https://tracker.example.test/mcp", "token": secret})
}

fn env_auth(secret: &str) -> Value {
    json!({
        "type": "environment_variable",
        "secret_name": "GITHUB_TOKEN",
        "secret_value": secret,
        "networking": {"type": "limited", "allowed_hosts": ["api.github.com", "*.github.com", "192.0.2.1"]},
    })
}

async fn credential(platform: &TestPlatform, vault: &Value, auth: Value) -> Value {
    platform
        .post(&credentials_path(vault), json!({"auth": auth}))
        .await
        .ok()
}

/// Fails when the canaries appear anywhere in a response body.
#[track_caller]
fn assert_no_secret(response: &Response) {
    let text = response.body.to_string();
    assert!(
        !text.contains(CANARY) && !text.contains(CANARY2) && !text.contains("canary-"),
        "a secret leaked: {text}"
    );
}

#[tokio::test]
async fn vault_create_retrieve_update_archive_delete() {
    let platform = TestPlatform::start().await;
    let created = platform
        .post(
            "/v1/vaults",
            json!({"display_name": "alice", "metadata": {"user": "alice", "team": "a"}}),
        )
        .await
        .ok();
    let vault_id = id(&created);
    assert!(vault_id.starts_with("vlt_"), "{vault_id}");
    assert_eq!(
        created,
        json!({
            "id": vault_id,
            "type": "vault",
            "display_name": "alice",
            "metadata": {"team": "a", "user": "alice"},
            "created_at": created["created_at"],
            "updated_at": created["created_at"],
            "archived_at": null,
        })
    );
    let path = vault_path(&created);
    assert_eq!(platform.get(&path).await.ok(), created);

    // A no-op update changes nothing, `updated_at` included; `null` means "leave it".
    let same = platform
        .post(&path, json!({"display_name": null, "metadata": null}))
        .await
        .ok();
    assert_eq!(same, created);

    let updated = platform
        .post(
            &path,
            json!({"display_name": "Alice", "metadata": {"team": null, "role": "admin", "user": ""}}),
        )
        .await
        .ok();
    assert_eq!(updated["display_name"], "Alice");
    assert_eq!(updated["metadata"], json!({"role": "admin", "user": ""}));
    assert!(updated["updated_at"].as_str() > created["updated_at"].as_str());
    assert_eq!(updated["created_at"], created["created_at"]);

    let archived = platform.post_empty(&format!("{path}/archive")).await.ok();
    assert!(archived["archived_at"].is_string());
    let again = platform.post_empty(&format!("{path}/archive")).await.ok();
    assert_eq!(again, archived, "archiving is idempotent");
    let message = platform
        .post(&path, json!({"display_name": "x"}))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("archived"), "{message}");

    let receipt = platform.delete(&path).await.ok();
    assert_eq!(receipt, json!({"id": vault_id, "type": "vault_deleted"}));
    platform.get(&path).await.error(404, "not_found_error");
    platform.delete(&path).await.error(404, "not_found_error");
    platform
        .post_empty(&format!("{path}/archive"))
        .await
        .error(404, "not_found_error");
    platform
        .post(&path, json!({"display_name": "x"}))
        .await
        .error(404, "not_found_error");
}

#[tokio::test]
async fn vault_bodies_are_validated() {
    let platform = TestPlatform::start().await;
    for (body, needle) in [
        (json!({}), "missing field `display_name`"),
        (json!({"display_name": ""}), "`display_name`"),
        (json!({"display_name": "x".repeat(256)}), "`display_name`"),
        (json!({"display_name": 7}), "`display_name`"),
        (
            json!({"display_name": "x", "metadata": {"k": 1}}),
            "`metadata.k`",
        ),
    ] {
        let message = platform
            .post("/v1/vaults", body.clone())
            .await
            .error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
    }
    let many: serde_json::Map<String, Value> =
        (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
    let response = platform
        .post("/v1/vaults", json!({"display_name": "x", "metadata": many}))
        .await;
    response.error(400, "invalid_request_error");
    assert_eq!(response.error_code(), "invalid_metadata");
    platform
        .post_raw("/v1/vaults", "{\"display_name\": ")
        .await
        .error(400, "invalid_request_error");
    let longest = vault(&platform, &"é".repeat(255)).await;
    let message = platform
        .post(&vault_path(&longest), json!({"display_name": ""}))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("`display_name`"), "{message}");
}

#[tokio::test]
async fn vault_lists_page_newest_first_and_hide_archived() {
    let platform = TestPlatform::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id(&vault(&platform, &format!("v{i}")).await).to_owned());
    }
    platform
        .post_empty(&format!("/v1/vaults/{}/archive", ids[1]))
        .await
        .ok();
    let listed = |pages: Vec<Value>| -> Vec<String> {
        pages
            .iter()
            .flat_map(|p| p["data"].as_array().unwrap().clone())
            .map(|v| id(&v).to_owned())
            .collect()
    };
    let pages = platform.walk("/v1/vaults?limit=2").await;
    assert_eq!(pages.len(), 2);
    assert!(
        pages
            .iter()
            .all(|p| p["data"].as_array().unwrap().len() <= 2)
    );
    assert_eq!(
        listed(pages),
        [
            ids[4].clone(),
            ids[3].clone(),
            ids[2].clone(),
            ids[0].clone()
        ]
    );
    let all = listed(
        platform
            .walk("/v1/vaults?limit=2&include_archived=true")
            .await,
    );
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(all, expected);
    let last = platform.get("/v1/vaults?limit=100").await.ok();
    assert_eq!(last["next_page"], Value::Null);
    platform
        .get("/v1/vaults?limit=0")
        .await
        .error(400, "invalid_request_error");
    platform
        .get("/v1/vaults?page=garbage!")
        .await
        .error(400, "invalid_request_error");
}

#[tokio::test]
async fn credentials_of_every_type_round_trip_without_secrets() {
    let platform = TestPlatform::start().await;
    let vault = vault(&platform, "alice").await;

    let oauth = platform
        .post(
            &credentials_path(&vault),
            json!({"display_name": "linear", "metadata": {"k": "v"}, "auth": oauth_auth(CANARY)}),
        )
        .await;
    assert_no_secret(&oauth);
    let oauth = oauth.ok();
    let oauth_id = id(&oauth);
    assert!(oauth_id.starts_with("vcrd_"), "{oauth_id}");
    assert_eq!(
        oauth,
        json!({
            "id": oauth_id,
            "type": "vault_credential",
            "vault_id": id(&vault),
            "display_name": "linear",
            "auth": {
                "type": "mcp_oauth",
                "mcp_server_url": "https://mcp.example.test/mcp",
                "expires_at": "2099-01-01T00:00:00Z",
                "refresh": {
                    "client_id": "cid",
                    "token_endpoint": "https://auth.example.test/token",
                    "token_endpoint_auth": {"type": "client_secret_post"},
                    "resource": null,
                    "scope": "read write",
                },
            },
            "metadata": {"k": "v"},
            "created_at": oauth["created_at"],
            "updated_at": oauth["created_at"],
            "archived_at": null,
        })
    );

    let bearer = credential(&platform, &vault, bearer_auth(CANARY)).await;
    assert_eq!(
        bearer["auth"],
        json!({"type": "static_bearer", "mcp_server_url": "https://tracker.example.test/mcp"})
    );
    assert_eq!(bearer["display_name"], Value::Null);
    assert_eq!(bearer["metadata"], json!({}));

    let env = credential(&platform, &vault, env_auth(CANARY)).await;
    assert_eq!(
        env["auth"],
        json!({
            "type": "environment_variable",
            "secret_name": "GITHUB_TOKEN",
            "injection_location": {"body": false, "header": true},
            "networking": {"type": "limited", "allowed_hosts": ["api.github.com", "*.github.com", "192.0.2.1"]},
        })
    );
    let bare_oauth = credential(
        &platform,
        &vault,
        json!({"type": "mcp_oauth", "mcp_server_url": "http://127.0.0.1:9/mcp", "access_token": CANARY}),
    )
    .await;
    assert_eq!(
        bare_oauth["auth"],
        json!({"type": "mcp_oauth", "mcp_server_url": "http://127.0.0.1:9/mcp", "expires_at": null, "refresh": null})
    );

    for created in [&oauth, &bearer, &env, &bare_oauth] {
        let got = platform.get(&credential_path(created)).await;
        assert_no_secret(&got);
        assert_eq!(&got.ok(), created);
    }
    let listed = platform.get(&credentials_path(&vault)).await;
    assert_no_secret(&listed);
    let listed = listed.ok();
    let ids: Vec<&str> = listed["data"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(
        ids,
        [id(&bare_oauth), id(&env), id(&bearer), oauth_id],
        "newest first"
    );
    assert_eq!(listed["next_page"], Value::Null);
}

#[tokio::test]
async fn credential_updates_patch_and_keep_immutable_fields() {
    let platform = TestPlatform::start().await;
    let vault = vault(&platform, "v").await;
    let oauth = platform
        .post(
            &credentials_path(&vault),
            json!({"display_name": "linear", "metadata": {"a": "1", "b": "2"}, "auth": oauth_auth(CANARY)}),
        )
        .await
        .ok();
    let path = credential_path(&oauth);

    // Nothing sent, or only the type, or immutable fields with their stored values: no change.
    for body in [
        json!({}),
        json!({"auth": {"type": "mcp_oauth"}, "display_name": null, "metadata": null}),
        json!({"auth": {"type": "mcp_oauth", "mcp_server_url": "https://mcp.example.test/mcp",
                         "refresh": {"client_id": "cid"}}}),
    ] {
        assert_eq!(platform.post(&path, body).await.ok(), oauth);
    }

    let updated = platform
        .post(
            &path,
            json!({
                "display_name": "Linear",
                "metadata": {"a": null, "c": "3"},
                "auth": {
                    "type": "mcp_oauth",
                    "access_token": CANARY2,
                    "expires_at": "2098-06-01T00:00:00Z",
                    "refresh": {
                        "refresh_token": CANARY2,
                        "scope": "",
                        // The stored type (post) stays even though basic is sent.
                        "token_endpoint_auth": {"type": "client_secret_basic", "client_secret": CANARY2},
                    },
                },
            }),
        )
        .await;
    assert_no_secret(&updated);
    let updated = updated.ok();
    assert_eq!(updated["display_name"], "Linear");
    assert_eq!(updated["metadata"], json!({"b": "2", "c": "3"}));
    assert_eq!(updated["auth"]["expires_at"], "2098-06-01T00:00:00Z");
    assert_eq!(updated["auth"]["refresh"]["scope"], Value::Null);
    assert_eq!(
        updated["auth"]["refresh"]["token_endpoint_auth"],
        json!({"type": "client_secret_post"})
    );
    assert!(updated["updated_at"].as_str() > oauth["updated_at"].as_str());
    assert_eq!(platform.get(&path).await.ok(), updated);

    let bearer = credential(&platform, &vault, bearer_auth(CANARY)).await;
    let rotated = platform
        .post(
            &credential_path(&bearer),
            json!({"auth": {"type": "static_bearer", "token": CANARY2}}),
        )
        .await;
    assert_no_secret(&rotated);
    let rotated = rotated.ok();
    assert_eq!(rotated["auth"], bearer["auth"]);
    assert!(
        rotated["updated_at"].as_str() > bearer["updated_at"].as_str(),
        "a new secret is a change"
    );

    let env = credential(&platform, &vault, env_auth(CANARY)).await;
    let env_path = credential_path(&env);
    let changed = platform
        .post(
            &env_path,
            json!({"auth": {"type": "environment_variable", "secret_value": CANARY2,
                            "secret_name": "GITHUB_TOKEN",
                            "networking": {"type": "unrestricted"},
                            "injection_location": {"body": true}}}),
        )
        .await;
    assert_no_secret(&changed);
    assert_eq!(
        changed.ok()["auth"],
        json!({"type": "environment_variable", "secret_name": "GITHUB_TOKEN",
               "injection_location": {"body": true, "header": true},
               "networking": {"type": "unrestricted"}})
    );
    let header_off = platform
        .post(
            &env_path,
            json!({"auth": {"type": "environment_variable", "injection_location": {"header": false}}}),
        )
        .await
        .ok();
    assert_eq!(
        header_off["auth"]["injection_location"],
        json!({"body": true, "header": false})
    );
    let message = platform
        .post(
            &env_path,
            json!({"auth": {"type": "environment_variable", "injection_location": {"body": false}}}),
        )
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("`auth.injection_location`"), "{message}");
}

#[tokio::test]
async fn bad_credential_requests_are_400() {
    let platform = TestPlatform::start().await;
    let vault = vault(&platform, "v").await;
    let create = credentials_path(&vault);
    let with = |patch: Value| {
        let mut auth = oauth_auth(CANARY);
        for (k, v) in patch.as_object().unwrap() {
            auth[k] = v.clone();
        }
        json!({"auth": auth})
    };
    for (body, needle) in [
        (json!({}), "missing field `auth`"),
        (
            json!({"auth": {"type": "kerberos", "ticket": CANARY}}),
            "`auth.type`",
        ),
        (
            json!({"auth": {"mcp_server_url": "https://x.test", "token": CANARY}}),
            "`auth`",
        ),
        (
            with(json!({"expires_at": "2001-01-01T00:00:00Z"})),
            "`auth.expires_at`",
        ),
        (
            with(json!({"expires_at": "next week"})),
            "`auth.expires_at`",
        ),
        (
            with(json!({"mcp_server_url": "not a url"})),
            "`auth.mcp_server_url`",
        ),
        (with(json!({"mcp_server_url": 42})), "`auth`"),
        (with(json!({"access_token": ""})), "`auth.access_token`"),
        (
            with(
                json!({"refresh": {"client_id": "c", "token_endpoint": "https://t.test", "refresh_token": CANARY,
                                    "token_endpoint_auth": {"type": "private_key_jwt", "client_secret": CANARY}}}),
            ),
            "`auth.refresh.token_endpoint_auth.type`",
        ),
        (
            json!({"auth": {"type": "environment_variable", "secret_name": "A", "secret_value": CANARY,
                            "networking": {"type": "sometimes"}}}),
            "`auth.networking.type`",
        ),
        (
            json!({"auth": {"type": "environment_variable", "secret_name": "A", "secret_value": CANARY,
                            "networking": {"type": "limited", "allowed_hosts": ["https://api.example.com"]}}}),
            "`auth.networking.allowed_hosts[0]`",
        ),
        (
            json!({"auth": {"type": "environment_variable", "secret_name": "A", "secret_value": CANARY,
                            "networking": {"type": "limited",
                                           "allowed_hosts": (0..17).map(|i| format!("h{i}.example.com")).collect::<Vec<_>>()}}}),
            "`auth.networking.allowed_hosts`",
        ),
        (
            json!({"auth": {"type": "environment_variable", "secret_name": "1BAD", "secret_value": CANARY,
                            "networking": {"type": "unrestricted"}}}),
            "`auth.secret_name`",
        ),
        (
            json!({"auth": {"type": "environment_variable", "secret_name": "A", "secret_value": CANARY,
                            "networking": {"type": "unrestricted"}, "injection_location": {"header": false}}}),
            "`auth.injection_location`",
        ),
        (
            json!({"auth": bearer_auth(CANARY), "display_name": "x".repeat(256)}),
            "`display_name`",
        ),
    ] {
        let response = platform.post(&create, body.clone()).await;
        assert_no_secret(&response);
        let message = response.error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
    }
    let empty_name = platform
        .post(
            &create,
            json!({"auth": bearer_auth(CANARY), "display_name": ""}),
        )
        .await
        .ok();
    assert_eq!(
        empty_name["display_name"], "",
        "create allows up to 255, including none"
    );
    let listed = platform.get(&create).await.ok();
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "failed creates store nothing"
    );

    // Updates.
    let oauth = credential(&platform, &vault, oauth_auth(CANARY)).await;
    let no_refresh = credential(
        &platform,
        &vault,
        json!({"type": "mcp_oauth", "mcp_server_url": "https://m.test", "access_token": CANARY,
               "refresh": {"client_id": "c", "token_endpoint": "https://t.test", "refresh_token": CANARY,
                           "token_endpoint_auth": {"type": "none"}}}),
    )
    .await;
    let bare = credential(
        &platform,
        &vault,
        json!({"type": "mcp_oauth", "mcp_server_url": "https://m.test", "access_token": CANARY}),
    )
    .await;
    let env = credential(&platform, &vault, env_auth(CANARY)).await;
    for (target, body, needle) in [
        (
            &oauth,
            json!({"auth": {"type": "static_bearer", "token": CANARY2}}),
            "`auth.type`",
        ),
        (
            &env,
            json!({"auth": {"type": "mcp_oauth", "access_token": CANARY2}}),
            "`auth.type`",
        ),
        (&oauth, json!({"auth": {"type": "teleport"}}), "`auth.type`"),
        (
            &oauth,
            json!({"auth": {"type": "mcp_oauth", "access_token": CANARY2, "mcp_server_url": "https://evil.test/mcp"}}),
            "`auth.mcp_server_url`",
        ),
        (
            &oauth,
            json!({"auth": {"type": "mcp_oauth", "refresh": {"client_id": "other", "refresh_token": CANARY2}}}),
            "`auth.refresh.client_id`",
        ),
        (
            &env,
            json!({"auth": {"type": "environment_variable", "secret_name": "OTHER", "secret_value": CANARY2}}),
            "`auth.secret_name`",
        ),
        (
            &oauth,
            json!({"auth": {"type": "mcp_oauth", "access_token": CANARY2, "expires_at": "2020-01-01T00:00:00Z"}}),
            "`auth.expires_at`",
        ),
        (
            &bare,
            json!({"auth": {"type": "mcp_oauth", "refresh": {"refresh_token": CANARY2}}}),
            "`auth.refresh`",
        ),
        (
            &no_refresh,
            json!({"auth": {"type": "mcp_oauth", "refresh": {"token_endpoint_auth": {"type": "client_secret_basic", "client_secret": CANARY2}}}}),
            "`auth.refresh.token_endpoint_auth`",
        ),
        (
            &oauth,
            json!({"auth": {"type": "mcp_oauth", "refresh": {"token_endpoint_auth": {"type": "mtls", "client_secret": CANARY2}}}}),
            "`auth.refresh.token_endpoint_auth.type`",
        ),
        (
            &env,
            json!({"auth": {"type": "environment_variable", "networking": {"type": "firewalled"}, "secret_value": CANARY2}}),
            "`auth.networking.type`",
        ),
        (
            &oauth,
            json!({"auth": {"type": "mcp_oauth", "access_token": 12}}),
            "`auth`",
        ),
        (&oauth, json!({"display_name": ""}), "`display_name`"),
        (&oauth, json!({"metadata": {"": "x"}}), "`metadata`"),
    ] {
        let response = platform.post(&credential_path(target), body.clone()).await;
        assert_no_secret(&response);
        let message = response.error(400, "invalid_request_error");
        assert!(message.contains(needle), "{body}: {message}");
        assert_eq!(
            &platform.get(&credential_path(target)).await.ok(),
            target,
            "a failed update changes nothing"
        );
    }
}

#[tokio::test]
async fn credential_404s_and_archive_rules() {
    let platform = TestPlatform::start().await;
    let a = vault(&platform, "a").await;
    let b = vault(&platform, "b").await;
    let credential_a = credential(&platform, &a, bearer_auth(CANARY)).await;
    let cid = id(&credential_a);

    // The right credential under the wrong vault, an unknown credential, an unknown vault.
    let wrong_vault = format!("{}/{cid}", credentials_path(&b));
    let unknown = format!("{}/vcrd_missing", credentials_path(&a));
    let no_vault = format!("/v1/vaults/vlt_missing/credentials/{cid}");
    for path in [&wrong_vault, &unknown, &no_vault] {
        platform.get(path).await.error(404, "not_found_error");
        platform
            .post(path, json!({"display_name": "x"}))
            .await
            .error(404, "not_found_error");
        platform.delete(path).await.error(404, "not_found_error");
        platform
            .post_empty(&format!("{path}/archive"))
            .await
            .error(404, "not_found_error");
        platform
            .post_empty(&format!("{path}/mcp_oauth_validate"))
            .await
            .error(404, "not_found_error");
    }
    platform
        .get("/v1/vaults/vlt_missing/credentials")
        .await
        .error(404, "not_found_error");
    platform
        .post(
            "/v1/vaults/vlt_missing/credentials",
            json!({"auth": bearer_auth(CANARY)}),
        )
        .await
        .error(404, "not_found_error");
    assert_eq!(
        platform.get(&credentials_path(&b)).await.ok()["data"],
        json!([]),
        "lists hold only their own vault's credentials"
    );

    // Archive: idempotent, hidden from lists by default, frozen.
    let path = credential_path(&credential_a);
    let archived = platform.post_empty(&format!("{path}/archive")).await;
    assert_no_secret(&archived);
    let archived = archived.ok();
    assert!(archived["archived_at"].is_string());
    assert_eq!(
        platform.post_empty(&format!("{path}/archive")).await.ok(),
        archived
    );
    assert_eq!(
        platform.get(&credentials_path(&a)).await.ok()["data"],
        json!([])
    );
    assert_eq!(
        platform
            .get(&format!("{}?include_archived=true", credentials_path(&a)))
            .await
            .ok()["data"],
        json!([archived])
    );
    let message = platform
        .post(&path, json!({"display_name": "x"}))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("archived"), "{message}");

    // An archived vault takes no new credentials.
    platform
        .post_empty(&format!("{}/archive", vault_path(&b)))
        .await
        .ok();
    let message = platform
        .post(&credentials_path(&b), json!({"auth": bearer_auth(CANARY)}))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("archived"), "{message}");

    // Delete: a receipt, then 404; deleting a vault deletes its credentials.
    let receipt = platform.delete(&path).await.ok();
    assert_eq!(
        receipt,
        json!({"id": cid, "type": "vault_credential_deleted"})
    );
    platform.get(&path).await.error(404, "not_found_error");
    let kept = credential(&platform, &a, bearer_auth(CANARY)).await;
    platform.delete(&vault_path(&a)).await.ok();
    platform
        .get(&credential_path(&kept))
        .await
        .error(404, "not_found_error");
}

#[tokio::test]
async fn credential_lists_page() {
    let platform = TestPlatform::start().await;
    let vault = vault(&platform, "v").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(id(&credential(&platform, &vault, bearer_auth(CANARY)).await).to_owned());
    }
    let pages = platform
        .walk(&format!("{}?limit=2", credentials_path(&vault)))
        .await;
    assert_eq!(pages.len(), 3);
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .map(|c| id(&c).to_owned())
        .collect();
    ids.reverse();
    assert_eq!(listed, ids);
    assert!(pages.iter().all(|p| !p.to_string().contains(CANARY)));
}

#[tokio::test]
async fn malformed_credential_bodies_never_echo_a_secret() {
    let platform = TestPlatform::start().await;
    let vault = vault(&platform, "v").await;
    let create = credentials_path(&vault);
    let bodies = [
        // Broken JSON around a secret.
        format!(r#"{{"auth": {{"type": "static_bearer", "token": "{CANARY}""#),
        format!(r#"{{"auth": {{"type": "static_bearer", "token": "{CANARY}", }}}}"#),
        // A secret where another type is expected.
        format!(r#"{{"auth": "{CANARY}"}}"#),
        format!(
            r#"{{"auth": {{"type": "static_bearer", "token": "t", "mcp_server_url": ["{CANARY}"]}}}}"#
        ),
        format!(
            r#"{{"auth": {{"type": "environment_variable", "secret_name": "A", "secret_value": "{CANARY}",
                 "networking": {{"type": "unrestricted"}}, "injection_location": {{"body": "{CANARY}"}}}}}}"#
        ),
        format!(r#"{{"display_name": "{CANARY}", "auth": 5}}"#),
        // A secret of the wrong JSON type under its own key.
        format!(
            r#"{{"auth": {{"type": "static_bearer", "token": {{"value": "{CANARY}"}}, "mcp_server_url": "https://x.test"}}}}"#
        ),
        format!(
            r#"{{"auth": {{"type": "mcp_oauth", "mcp_server_url": "https://x.test", "access_token": "{CANARY}",
                 "refresh": {{"client_id": "c", "token_endpoint": "https://t.test", "refresh_token": "{CANARY}",
                             "token_endpoint_auth": {{"type": "client_secret_basic", "client_secret": ["{CANARY}"]}}}}}}}}"#
        ),
        // Valid secrets, something else wrong.
        format!(
            r#"{{"auth": {{"type": "static_bearer", "token": "{CANARY}", "mcp_server_url": 1}}}}"#
        ),
        format!(
            r#"{{"auth": {{"type": "mcp_oauth", "mcp_server_url": "https://x.test", "access_token": "{CANARY}",
                 "expires_at": "yesterday"}}}}"#
        ),
        format!(
            r#"{{"metadata": {{"k": 1}}, "auth": {{"type": "static_bearer", "token": "{CANARY}", "mcp_server_url": "https://x.test"}}}}"#
        ),
    ];
    for body in &bodies {
        let response = platform.post_raw(&create, body.clone()).await;
        assert_no_secret(&response);
        response.error(400, "invalid_request_error");
    }
    let existing = credential(&platform, &vault, bearer_auth("first")).await;
    for body in [
        format!(r#"{{"auth": {{"type": "static_bearer", "token": "{CANARY}""#),
        format!(
            r#"{{"auth": {{"type": "static_bearer", "token": 9, "x": "{CANARY}"}}, "display_name": ["{CANARY}"]}}"#
        ),
        format!(r#"{{"auth": {{"type": "mcp_oauth", "access_token": "{CANARY}"}}}}"#),
        format!(
            r#"{{"auth": {{"type": "static_bearer", "token": "{CANARY}", "mcp_server_url": "https://{CANARY}.test"}}}}"#
        ),
    ] {
        let response = platform.post_raw(&credential_path(&existing), body).await;
        assert_no_secret(&response);
        response.error(400, "invalid_request_error");
    }
}

/// Every file of the data directory, concatenated (database, WAL, key files).
fn data_dir_bytes(handle: &PlatformHandle) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(handle.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_and_the_key_file_is_private() {
    let platform = TestPlatform::start().await;
    let vault = vault(&platform, "v").await;
    let mut made = Vec::new();
    for auth in [oauth_auth(CANARY), bearer_auth(CANARY), env_auth(CANARY)] {
        made.push(credential(&platform, &vault, auth).await);
    }
    let plain = credential(&platform, &vault, bearer_auth("plain-marker-visible")).await;
    // Non-secret fields are stored as plain JSON; this proves the scan reads the right files.
    let bytes = data_dir_bytes(&platform.handle);
    assert!(
        contains(&bytes, "tracker.example.test"),
        "the database was read"
    );
    assert!(!contains(&bytes, CANARY), "a secret is stored in clear");
    assert!(!contains(&bytes, "plain-marker-visible"));

    // Rotating secrets keeps them sealed too.
    platform
        .post(
            &credential_path(&made[0]),
            json!({"auth": {"type": "mcp_oauth", "access_token": CANARY2, "refresh": {"refresh_token": CANARY2}}}),
        )
        .await
        .ok();
    platform
        .post(
            &credential_path(&plain),
            json!({"auth": {"type": "static_bearer", "token": CANARY2}}),
        )
        .await
        .ok();
    let bytes = data_dir_bytes(&platform.handle);
    assert!(!contains(&bytes, CANARY) && !contains(&bytes, CANARY2));

    let key_file = platform.handle.data_dir().join("vault.key");
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key_text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_key_file_open_to_others_stops_the_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    Platform::builder()
        .data_dir(dir.path())
        .open()
        .await
        .unwrap();
    let key_file = dir.path().join("vault.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = Platform::builder()
        .data_dir(dir.path())
        .open()
        .await
        .unwrap_err();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    assert!(message.contains("chmod 600"), "{message}");
}

// ---- mcp_oauth_validate against a fake MCP server ----

/// How the fake MCP server answers `initialize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `application/json` result (with an `Mcp-Session-Id`) for the right token.
    Json,
    /// An SSE stream that sends the result and then stays open.
    Sse,
    /// 200 with a JSON-RPC error.
    RpcError,
}

/// A fake MCP server on 127.0.0.1: raw HTTP/1.1, one request per connection. A wrong token
/// gets a 401 whose body echoes the presented `Authorization` header. Records
/// `"<METHOD> <authorization>"` of every request.
async fn fake_mcp(token: &str, mode: Mode) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let expected = format!("Bearer {token}");
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let expected = expected.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let (method, headers, body) = read_request(&mut socket).await;
                let auth = headers
                    .iter()
                    .find(|(k, _)| k == "authorization")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                log.lock().unwrap().push(format!("{method} {auth}"));
                if auth != expected {
                    let text = format!("{{\"error\":\"invalid_token\",\"presented\":\"{auth}\"}}");
                    write_response(
                        &mut socket,
                        "401 Unauthorized",
                        "application/json",
                        &[],
                        &text,
                    )
                    .await;
                    return;
                }
                if method == "DELETE" {
                    write_response(&mut socket, "200 OK", "text/plain", &[], "").await;
                    return;
                }
                let request: Value = serde_json::from_slice(&body).unwrap();
                if request["method"] == "notifications/initialized" {
                    write_response(&mut socket, "202 Accepted", "text/plain", &[], "").await;
                    return;
                }
                let result = if request["method"] == "tools/list" {
                    json!({"jsonrpc": "2.0", "id": request["id"], "result": {"tools": []}})
                } else {
                    assert_eq!(request["method"], "initialize");
                    json!({"jsonrpc": "2.0", "id": request["id"],
                           "result": {"protocolVersion": "2025-06-18", "capabilities": {},
                                      "serverInfo": {"name": "fake", "version": "1"}}})
                };
                match mode {
                    Mode::Json => {
                        write_response(
                            &mut socket,
                            "200 OK",
                            "application/json",
                            &[("Mcp-Session-Id", "s-1")],
                            &result.to_string(),
                        )
                        .await;
                    }
                    Mode::RpcError => {
                        let error = json!({"jsonrpc": "2.0", "id": request["id"],
                                           "error": {"code": -32602, "message": "unsupported version"}});
                        write_response(
                            &mut socket,
                            "200 OK",
                            "application/json",
                            &[],
                            &error.to_string(),
                        )
                        .await;
                    }
                    Mode::Sse => {
                        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                                    transfer-encoding: chunked\r\n\r\n";
                        let event = format!("event: message\ndata: {result}\n\n");
                        let chunk = format!("{:x}\r\n{event}\r\n", event.len());
                        socket.write_all(head.as_bytes()).await.unwrap();
                        socket.write_all(chunk.as_bytes()).await.unwrap();
                        socket.flush().await.unwrap();
                        // Keep the stream open, as a server that pushes notifications would.
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    }
                }
            });
        }
    });
    (url, seen)
}

async fn read_request(
    socket: &mut tokio::net::TcpStream,
) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-request");
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let method = lines.next().unwrap().split(' ').next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.unwrap();
        body.extend_from_slice(&chunk[..n]);
    }
    (method, headers, body)
}

async fn write_response(
    socket: &mut tokio::net::TcpStream,
    status: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &str,
) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body.as_bytes()).await.unwrap();
    let _ = socket.shutdown().await;
}

async fn oauth_at(platform: &TestPlatform, vault: &Value, url: &str, refresh: bool) -> Value {
    let mut auth = json!({"type": "mcp_oauth", "mcp_server_url": url, "access_token": CANARY});
    if refresh {
        auth["refresh"] = json!({"client_id": "c", "token_endpoint": "http://127.0.0.1:9/token",
                                 "refresh_token": CANARY, "token_endpoint_auth": {"type": "none"}});
    }
    credential(platform, vault, auth).await
}

async fn validate(platform: &TestPlatform, credential: &Value) -> Value {
    let response = platform
        .post_empty(&format!(
            "{}/mcp_oauth_validate",
            credential_path(credential)
        ))
        .await;
    assert_no_secret(&response);
    let body = response.ok();
    assert_eq!(body["type"], "vault_credential_validation");
    assert_eq!(body["credential_id"], credential["id"]);
    assert_eq!(body["vault_id"], credential["vault_id"]);
    assert!(body["validated_at"].is_string());
    body
}

#[tokio::test]
async fn mcp_oauth_validate_probes_initialize_and_tools_list() {
    let platform = TestPlatform::start().await;
    let vault = vault(&platform, "v").await;

    let (url, seen) = fake_mcp(CANARY, Mode::Json).await;
    let good = oauth_at(&platform, &vault, &url, false).await;
    let result = validate(&platform, &good).await;
    assert_eq!(
        (
            result["status"].clone(),
            result["has_refresh_token"].clone(),
            result["mcp_probe"].clone(),
            result["refresh"].clone()
        ),
        (json!("valid"), json!(false), Value::Null, Value::Null)
    );
    let expected_auth = format!("Bearer {CANARY}");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            format!("POST {expected_auth}"),
            format!("POST {expected_auth}"),
            format!("POST {expected_auth}"),
            format!("DELETE {expected_auth}")
        ],
        "initialize, initialized and tools/list carry the stored token; the session is ended"
    );

    let (sse_url, _) = fake_mcp(CANARY, Mode::Sse).await;
    let streaming = oauth_at(&platform, &vault, &sse_url, true).await;
    let started = Instant::now();
    let result = validate(&platform, &streaming).await;
    assert_eq!(result["status"], "valid");
    assert_eq!(result["has_refresh_token"], true);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the probe stops reading at the reply"
    );

    // A 401 that echoes the token: the captured body is scrubbed.
    let (other_url, _) = fake_mcp("some-other-token", Mode::Json).await;
    let rejected = oauth_at(&platform, &vault, &other_url, false).await;
    let result = validate(&platform, &rejected).await;
    assert_eq!(result["status"], "invalid");
    assert_eq!(
        result["refresh"],
        json!({"status": "no_refresh_token", "http_response": null})
    );
    assert_eq!(result["mcp_probe"]["method"], "initialize");
    let response = &result["mcp_probe"]["http_response"];
    assert_eq!(response["status_code"], 401);
    assert_eq!(response["content_type"], "application/json");
    assert_eq!(response["body_truncated"], false);
    assert_eq!(
        response["body"],
        "{\"error\":\"invalid_token\",\"presented\":\"Bearer [redacted]\"}"
    );

    // With a refresh token a refresh is tried; this token endpoint cannot be reached, so:
    // unknown (the refresh itself is covered by the `vault_tokens` tests).
    let refreshable = oauth_at(&platform, &vault, &other_url, true).await;
    let result = validate(&platform, &refreshable).await;
    assert_eq!(
        (result["status"].clone(), result["refresh"].clone()),
        (
            json!("unknown"),
            json!({"status": "connect_error", "http_response": null})
        )
    );
    assert_eq!(result["mcp_probe"]["http_response"]["status_code"], 401);

    let (rpc_url, _) = fake_mcp(CANARY, Mode::RpcError).await;
    let result = validate(
        &platform,
        &oauth_at(&platform, &vault, &rpc_url, false).await,
    )
    .await;
    assert_eq!(result["status"], "unknown");
    assert_eq!(result["mcp_probe"]["http_response"]["status_code"], 200);

    // Nothing listening: unknown, no HTTP response.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let unreachable = oauth_at(&platform, &vault, &format!("http://{closed}/mcp"), false).await;
    let result = validate(&platform, &unreachable).await;
    assert_eq!(result["status"], "unknown");
    assert_eq!(
        result["mcp_probe"],
        json!({"method": "initialize", "http_response": null})
    );
    assert_eq!(result["refresh"], Value::Null);

    // Only mcp_oauth credentials have this endpoint.
    let bearer = credential(&platform, &vault, bearer_auth(CANARY)).await;
    let message = platform
        .post_empty(&format!("{}/mcp_oauth_validate", credential_path(&bearer)))
        .await
        .error(400, "invalid_request_error");
    assert!(message.contains("mcp_oauth"), "{message}");
}

#[tokio::test]
async fn credentials_stay_decryptable_across_a_restart() {
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
    let (url, seen) = fake_mcp(CANARY, Mode::Json).await;
    let first = start().await;
    let vault = vault(&first, "v").await;
    let credential = oauth_at(&first, &vault, &url, false).await;
    let key = std::fs::read(dir.path().join("vault.key")).unwrap();
    first.handle.shutdown().await;

    let second = start().await;
    assert_eq!(
        std::fs::read(dir.path().join("vault.key")).unwrap(),
        key,
        "the key is reused"
    );
    assert_eq!(
        second.get(&credential_path(&credential)).await.ok(),
        credential
    );
    // The fake server accepts only the original token: a valid probe proves it decrypted.
    let result = validate(&second, &credential).await;
    assert_eq!(result["status"], "valid");
    assert!(seen.lock().unwrap()[0].ends_with(CANARY));
    second.handle.shutdown().await;

    // A lost key with credentials stored: the platform refuses to start rather than make a
    // new key that cannot open them.
    std::fs::remove_file(dir.path().join("vault.key")).unwrap();
    let err = Platform::builder()
        .data_dir(dir.path())
        .open()
        .await
        .unwrap_err();
    let source = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        source.contains("vault key file is missing"),
        "{err}: {source}"
    );
}
