//! Every resource the local platform serves, end to end over loopback: the client's requests
//! must be ones `steward-platform` accepts, and its answers must decode into `steward-core`
//! types.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use http::{HeaderMap, Method, StatusCode};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::agent::{AgentCreate, AgentListParams, AgentRetrieveParams, AgentUpdate};
use steward_core::environment::{EnvironmentCreate, EnvironmentListParams, EnvironmentUpdate};
use steward_core::event::{EventListParams, SendEvents, SessionEvent, StreamParams, UserEvent};
use steward_core::memory::{
    MemoryCreate, MemoryDeleteParams, MemoryListItem, MemoryListParams, MemoryRetrieveParams,
    MemoryStoreCreate, MemoryStoreListParams, MemoryStoreUpdate, MemoryUpdate,
    MemoryVersionListParams, MemoryView, Precondition,
};
use steward_core::resource::{ResourceAdd, ResourceUpdate, SessionResource};
use steward_core::session::{SessionCreate, SessionListOrder, SessionListParams, SessionUpdate};
use steward_core::thread::ThreadListParams;
use steward_core::vault::{
    CredentialCreate, CredentialListParams, CredentialUpdate, VaultCreate, VaultListParams,
    VaultUpdate,
};
use steward_core::{
    AgentId, DeletedType, EnvironmentId, ErrorType, Nullable, PageParams, SessionId,
};
use steward_platform::{Platform, PlatformHandle};
use steward_runtime::http::{ApiRequest, HttpService};
use steward_runtime::{Client, ResilientOptions, StartFrom};
use tower::ServiceExt;

/// What a recording layer saw of one attempt.
type Seen = Arc<Mutex<Vec<(Method, String, HeaderMap)>>>;

/// A platform on 127.0.0.1:0 with a temporary data directory, and a client for it that records
/// each attempt's method, path and headers (the key never reaches the layer).
async fn platform() -> (PlatformHandle, Client, Seen) {
    let handle = Platform::builder().start_ephemeral().await.unwrap();
    let seen = Seen::default();
    let log = seen.clone();
    let client = Client::builder()
        .api_key(handle.api_key())
        .base_url(handle.base_url())
        .retry_policy(crate::support::fast_retries())
        .layer(tower::layer::layer_fn(move |inner: HttpService| {
            let log = log.clone();
            HttpService::new(tower::service_fn(move |request: ApiRequest| {
                log.lock().unwrap().push((
                    request.method.clone(),
                    request.url.path().to_owned(),
                    request.headers.clone(),
                ));
                inner.clone().oneshot(request)
            }))
        }))
        .build()
        .unwrap();
    (handle, client, seen)
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

async fn agent(client: &Client, name: &str) -> AgentId {
    let create: AgentCreate = from_json(json!({"name": name, "model": "claude-opus-4-7"}));
    client.agents().create(&create).await.unwrap().id
}

async fn environment(client: &Client, name: &str) -> EnvironmentId {
    let create: EnvironmentCreate = from_json(json!({"name": name}));
    client.environments().create(&create).await.unwrap().id
}

#[tokio::test]
async fn agents_round_trip_through_the_platform() {
    let (_platform, client, _) = platform().await;
    let create: AgentCreate = from_json(json!({
        "name": "researcher",
        "model": "claude-opus-4-7",
        "system": "Be brief.",
        "metadata": {"team": "a"}
    }));
    let created = client.agents().create(&create).await.unwrap();
    assert_eq!(created.name, "researcher");
    assert_eq!(created.version, 1);

    let fetched = client.agents().retrieve(&created.id).await.unwrap();
    assert_eq!(fetched, created);

    let update: AgentUpdate = from_json(json!({"version": 1, "name": "researcher-2"}));
    let updated = client.agents().update(&created.id, &update).await.unwrap();
    assert_eq!(updated.name, "researcher-2");
    assert_eq!(updated.version, 2);

    let v1 = client
        .agents()
        .retrieve_with(&created.id, &AgentRetrieveParams { version: Some(1) })
        .await
        .unwrap();
    assert_eq!(v1.name, "researcher");

    let versions: Vec<u32> = client
        .agents()
        .versions(
            &created.id,
            &PageParams {
                limit: Some(1),
                page: None,
            },
        )
        .map_ok(|agent| agent.version)
        .try_collect()
        .await
        .unwrap();
    let mut sorted = versions.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [1, 2], "both versions, one page each");

    agent(&client, "second").await;
    let listed: Vec<_> = client
        .agents()
        .list(&AgentListParams {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "walked page by page");

    let archived = client.agents().archive(&created.id).await.unwrap();
    assert!(archived.archived_at.is_some());
    let active: Vec<_> = client
        .agents()
        .list(&AgentListParams::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(active.len(), 1, "archived agents are left out by default");
    let all: Vec<_> = client
        .agents()
        .list(&AgentListParams {
            include_archived: Some(true),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn environments_round_trip_through_the_platform() {
    let (_platform, client, seen) = platform().await;
    let create: EnvironmentCreate = from_json(json!({
        "name": "sandbox",
        "description": "for tests",
        "config": {"type": "cloud", "networking": {"type": "unrestricted"}},
        "metadata": {"keep": "1", "drop": "x"}
    }));
    let created = client.environments().create(&create).await.unwrap();
    assert_eq!(created.name, "sandbox");
    assert_eq!(
        client.environments().retrieve(&created.id).await.unwrap(),
        created
    );

    let update: EnvironmentUpdate = from_json(json!({
        "name": "sandbox-2",
        "metadata": {"drop": null, "new": "y"}
    }));
    let updated = client
        .environments()
        .update(&created.id, &update)
        .await
        .unwrap();
    assert_eq!(updated.name, "sandbox-2");
    assert_eq!(
        serde_json::to_value(&updated.metadata).unwrap(),
        json!({"keep": "1", "new": "y"})
    );

    let other = environment(&client, "other").await;
    let listed: Vec<EnvironmentId> = client
        .environments()
        .list(&EnvironmentListParams {
            limit: Some(1),
            ..Default::default()
        })
        .map_ok(|e| e.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&created.id) && listed.contains(&other));

    let archived = client.environments().archive(&other).await.unwrap();
    assert!(archived.is_archived());
    let deleted = client.environments().delete(&created.id).await.unwrap();
    assert_eq!(deleted.id, created.id);
    assert_eq!(deleted.kind, DeletedType::Environment);
    let gone = client
        .environments()
        .retrieve(&created.id)
        .await
        .unwrap_err();
    assert_eq!(gone.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(gone.error_type(), Some(&ErrorType::NotFound));

    let seen = seen.lock().unwrap();
    assert!(
        seen.iter()
            .all(|(_, _, headers)| headers["anthropic-beta"] == "managed-agents-2026-04-01")
    );
    assert!(seen.iter().any(|(method, path, _)| method == Method::DELETE
        && path == &format!("/v1/environments/{}", created.id)));
}

#[tokio::test]
async fn sessions_round_trip_through_the_platform() {
    let (_platform, client, _) = platform().await;
    let agent_id = agent(&client, "worker").await;
    let env = environment(&client, "env").await;

    let mut ids = Vec::new();
    for title in ["one", "two", "three"] {
        let mut create = SessionCreate::new(agent_id.clone(), env.clone());
        create.title = Nullable::Value(title.to_owned());
        create.metadata = Some([("n".to_owned(), title.to_owned())].into());
        let session = client.sessions().create(&create).await.unwrap();
        assert_eq!(session.title.as_deref(), Some(title));
        assert_eq!(session.agent.id, agent_id);
        ids.push(session.id);
    }

    let fetched = client.sessions().retrieve(&ids[0]).await.unwrap();
    assert_eq!(fetched.id, ids[0]);

    let update: SessionUpdate =
        from_json(json!({"title": "uno", "metadata": {"n": null, "m": "1"}}));
    let updated = client.sessions().update(&ids[0], &update).await.unwrap();
    assert_eq!(updated.title.as_deref(), Some("uno"));
    assert_eq!(
        serde_json::to_value(&updated.metadata).unwrap(),
        json!({"m": "1"})
    );

    // Forward, one per page, oldest first.
    let asc = SessionListParams {
        limit: Some(1),
        order: Some(SessionListOrder::Asc),
        ..Default::default()
    };
    let forward: Vec<SessionId> = client
        .sessions()
        .list(&asc)
        .map_ok(|s| s.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(forward, ids);

    // Page by page, then back from the last page by its `prev_page` cursor.
    let pages: Vec<_> = client.sessions().pages(&asc).try_collect().await.unwrap();
    assert_eq!(pages.len(), 3);
    let last = pages.last().unwrap();
    assert_eq!(last.data[0].id, ids[2]);
    let prev = last.prev_page.clone().expect("the last page links back");
    let backward: Vec<SessionId> = client
        .sessions()
        .list_backward(&SessionListParams {
            page: Some(prev),
            ..asc.clone()
        })
        .map_ok(|s| s.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(backward, [ids[1].clone(), ids[0].clone()]);

    let archived = client.sessions().archive(&ids[1]).await.unwrap();
    assert!(archived.is_archived());
    let visible: Vec<SessionId> = client
        .sessions()
        .list(&SessionListParams::default())
        .map_ok(|s| s.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        visible,
        [ids[2].clone(), ids[0].clone()],
        "newest first by default"
    );

    let deleted = client.sessions().delete(&ids[2]).await.unwrap();
    assert_eq!(
        (deleted.id, deleted.kind),
        (ids[2].clone(), DeletedType::Session)
    );
    let gone = client.sessions().retrieve(&ids[2]).await.unwrap_err();
    assert_eq!(gone.status(), Some(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn session_resources_round_trip_through_the_platform() {
    let (_platform, client, _) = platform().await;
    let agent_id = agent(&client, "worker").await;
    let env = environment(&client, "env").await;
    let create: SessionCreate = from_json(json!({
        "agent": agent_id,
        "environment_id": env,
        "resources": [{
            "type": "github_repository",
            "url": "https://github.com/octo/repo",
            "authorization_token": "ghp_old"
        }]
    }));
    let session = client.sessions().create(&create).await.unwrap();
    let repo_id = session.resources[0].id().unwrap().clone();

    let added = client
        .sessions()
        .resources()
        .add(&session.id, &ResourceAdd::new("file_011"))
        .await
        .unwrap();
    let SessionResource::File(file) = &added else {
        panic!("expected a file resource, got {added:?}");
    };
    assert_eq!(file.mount_path, "/mnt/session/uploads/file_011");

    let listed: Vec<SessionResource> = client
        .sessions()
        .resources()
        .list(
            &session.id,
            &PageParams {
                limit: Some(1),
                page: None,
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);

    let fetched = client
        .sessions()
        .resources()
        .retrieve(&session.id, &file.id)
        .await
        .unwrap();
    assert_eq!(fetched, added);

    let rotated = client
        .sessions()
        .resources()
        .update(
            &session.id,
            &repo_id,
            &ResourceUpdate {
                authorization_token: "ghp_new".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rotated.id(), Some(&repo_id));
    assert!(
        !serde_json::to_string(&rotated).unwrap().contains("ghp_"),
        "tokens are never returned"
    );

    let deleted = client
        .sessions()
        .resources()
        .delete(&session.id, &file.id)
        .await
        .unwrap();
    assert_eq!(deleted.id, file.id);
    let left: Vec<_> = client
        .sessions()
        .resources()
        .list(&session.id, &PageParams::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
}

#[tokio::test]
async fn memory_stores_memories_and_versions_round_trip_through_the_platform() {
    let (_platform, client, seen) = platform().await;
    let store = client
        .memory_stores()
        .create(&MemoryStoreCreate {
            name: "notes".into(),
            description: Some("scratch".into()),
            metadata: None,
        })
        .await
        .unwrap();
    assert_eq!(store.name, "notes");
    assert_eq!(
        client.memory_stores().retrieve(&store.id).await.unwrap(),
        store
    );
    let update: MemoryStoreUpdate = from_json(json!({"name": "notes-2", "metadata": {"k": "v"}}));
    let renamed = client
        .memory_stores()
        .update(&store.id, &update)
        .await
        .unwrap();
    assert_eq!(renamed.name, "notes-2");
    let other = client
        .memory_stores()
        .create(&from_json(json!({"name": "other"})))
        .await
        .unwrap();
    let stores: Vec<_> = client
        .memory_stores()
        .list(&MemoryStoreListParams {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(stores.len(), 2);

    let memories = client.memory_stores().memories();
    let a = memories
        .create_with(
            &store.id,
            &MemoryCreate::new("/docs/a.md", "alpha"),
            &MemoryRetrieveParams {
                view: Some(MemoryView::Full),
            },
        )
        .await
        .unwrap();
    assert_eq!(a.path, "/docs/a.md");
    assert_eq!(a.content, Nullable::Value("alpha".to_owned()));
    assert_eq!(a.content_sha256, sha256_hex(b"alpha"));
    let b = memories
        .create(&store.id, &MemoryCreate::new("/docs/deep/b.md", "beta"))
        .await
        .unwrap();
    let fetched = memories.retrieve(&store.id, &a.id).await.unwrap();
    assert_eq!(fetched.content, Nullable::Value("alpha".to_owned()));

    let sha = sha256_hex(b"alpha");
    let changed = memories
        .update(
            &store.id,
            &a.id,
            &MemoryUpdate {
                content: Nullable::Value("alpha 2".into()),
                precondition: Some(Precondition::content_sha256(sha.clone())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_ne!(changed.memory_version_id, a.memory_version_id);
    let stale = memories
        .update(
            &store.id,
            &a.id,
            &MemoryUpdate {
                content: Nullable::Value("alpha 3".into()),
                precondition: Some(Precondition::content_sha256(sha)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        stale.error_type(),
        Some(&ErrorType::MemoryPreconditionFailed)
    );

    let top: Vec<MemoryListItem> = memories
        .list(
            &store.id,
            &MemoryListParams {
                path_prefix: Some("/docs/".into()),
                depth: Some(1),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    let mut kinds: Vec<(String, Option<String>)> = top
        .iter()
        .map(|item| (item.type_name().to_owned(), item.path().map(str::to_owned)))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("memory".to_owned(), Some("/docs/a.md".to_owned())),
            ("memory_prefix".to_owned(), Some("/docs/deep/".to_owned())),
        ]
    );

    let versions = client.memory_stores().memory_versions();
    let of_a: Vec<_> = versions
        .list(
            &store.id,
            &MemoryVersionListParams {
                memory_id: Some(a.id.clone()),
                limit: Some(1),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(of_a.len(), 2, "created, then modified");
    let first = of_a
        .iter()
        .find(|v| v.id == a.memory_version_id)
        .expect("the first version is listed");
    let full = versions.retrieve(&store.id, &first.id).await.unwrap();
    assert_eq!(full.content, Nullable::Value("alpha".to_owned()));
    let redacted = versions.redact(&store.id, &first.id).await.unwrap();
    assert!(redacted.is_redacted());

    let wrong = memories
        .delete_with(
            &store.id,
            &b.id,
            &MemoryDeleteParams {
                expected_content_sha256: Some(sha256_hex(b"not beta")),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Some(StatusCode::CONFLICT));
    let deleted = memories.delete(&store.id, &b.id).await.unwrap();
    assert_eq!(deleted.id, b.id);

    let archived = client.memory_stores().archive(&other.id).await.unwrap();
    assert!(archived.archived_at.is_some());
    let gone = client.memory_stores().delete(&store.id).await.unwrap();
    assert_eq!(gone.kind, DeletedType::MemoryStore);

    let seen = seen.lock().unwrap();
    assert!(seen.len() > 15);
    for (method, path, headers) in seen.iter() {
        assert_eq!(
            headers["anthropic-beta"], "agent-memory-2026-07-22",
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn vaults_and_credentials_round_trip_through_the_platform() {
    let (_platform, client, _) = platform().await;
    let vault = client
        .vaults()
        .create(&VaultCreate {
            display_name: "prod".into(),
            metadata: None,
        })
        .await
        .unwrap();
    assert_eq!(client.vaults().retrieve(&vault.id).await.unwrap(), vault);
    let update: VaultUpdate = from_json(json!({"display_name": "prod-2", "metadata": {"a": "b"}}));
    let renamed = client.vaults().update(&vault.id, &update).await.unwrap();
    assert_eq!(renamed.display_name, "prod-2");
    let spare = client
        .vaults()
        .create(&from_json(json!({"display_name": "spare"})))
        .await
        .unwrap();
    let vaults: Vec<_> = client
        .vaults()
        .list(&VaultListParams {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(vaults.len(), 2);

    let credentials = client.vaults().credentials();
    let bearer: CredentialCreate = from_json(json!({
        "display_name": "linear",
        "auth": {
            "type": "static_bearer",
            "token": "sk-secret-token",
            "mcp_server_url": "https://mcp.example.com/sse"
        }
    }));
    let created = credentials.create(&vault.id, &bearer).await.unwrap();
    assert_eq!(created.vault_id, vault.id);
    assert!(
        !serde_json::to_string(&created)
            .unwrap()
            .contains("sk-secret-token"),
        "secrets are never returned"
    );
    assert_eq!(
        credentials.retrieve(&vault.id, &created.id).await.unwrap(),
        created
    );
    let update: CredentialUpdate = from_json(json!({
        "display_name": "linear-2",
        "auth": {"type": "static_bearer", "token": "sk-rotated"}
    }));
    let updated = credentials
        .update(&vault.id, &created.id, &update)
        .await
        .unwrap();
    assert_eq!(updated.display_name, Nullable::Value("linear-2".to_owned()));

    let oauth: CredentialCreate = from_json(json!({
        "auth": {
            "type": "mcp_oauth",
            "access_token": "at-secret",
            "mcp_server_url": "http://127.0.0.1:9/mcp"
        }
    }));
    let oauth = credentials.create(&vault.id, &oauth).await.unwrap();
    let listed: Vec<_> = credentials
        .list(
            &vault.id,
            &CredentialListParams {
                limit: Some(1),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);

    let validation = credentials
        .mcp_oauth_validate(&vault.id, &oauth.id)
        .await
        .unwrap();
    assert_eq!(validation.credential_id, oauth.id);
    assert_eq!(validation.vault_id, vault.id);

    let archived = credentials.archive(&vault.id, &oauth.id).await.unwrap();
    assert!(archived.archived_at.is_some());
    let deleted = credentials.delete(&vault.id, &created.id).await.unwrap();
    assert_eq!(deleted.kind, DeletedType::VaultCredential);
    let archived = client.vaults().archive(&spare.id).await.unwrap();
    assert!(archived.archived_at.is_some());
    let deleted = client.vaults().delete(&vault.id).await.unwrap();
    assert_eq!((deleted.id, deleted.kind), (vault.id, DeletedType::Vault));
}

/// Lowercase hex SHA-256, computed here so the test does not trust the server's hash.
fn sha256_hex(data: &[u8]) -> String {
    crate::support::sha256_hex(data)
}

#[tokio::test]
async fn a_wrong_key_is_an_authentication_error() {
    let (platform, _, _) = platform().await;
    let client = Client::builder()
        .api_key("sk-ant-wrong")
        .base_url(platform.base_url())
        .build()
        .unwrap();
    let error = client
        .agents()
        .list(&AgentListParams::default())
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(error.error_type(), Some(&ErrorType::Authentication));
}

#[tokio::test]
async fn session_events_and_threads_through_the_platform() {
    let (_platform, client, _) = platform().await;
    let agent_id = agent(&client, "talker").await;
    let env = environment(&client, "env").await;
    let session = client
        .sessions()
        .create(&SessionCreate::new(agent_id, env))
        .await
        .unwrap();

    // Attach first (resiliently, from the beginning), then send, as the SDK's runner does.
    let mut live = client.sessions().events().stream_resilient(
        &session.id,
        ResilientOptions::default()
            .start(StartFrom::Beginning)
            .initial_backoff(Duration::from_millis(5)),
    );
    let mut plain = client
        .sessions()
        .events()
        .stream(&session.id)
        .await
        .unwrap();
    let sent = client
        .sessions()
        .events()
        .send(
            &session.id,
            &SendEvents::new([UserEvent::message("hello there")]),
        )
        .await
        .unwrap();
    let echo_id = sent.data.as_ref().unwrap()[0].raw_id().unwrap().to_owned();

    let mut streamed = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = live.next().await {
            let event = event.unwrap();
            let done = event.is_terminal();
            streamed.push(event);
            if done {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no terminal event; got {streamed:?}"));
    let ids: Vec<&str> = streamed.iter().filter_map(|e| e.raw_id()).collect();
    assert_eq!(ids[0], echo_id, "the echo of what was sent comes first");
    assert!(
        streamed
            .iter()
            .any(|e| matches!(e, SessionEvent::AgentMessage(_))),
        "{streamed:?}"
    );
    let first_plain = plain.next().await.unwrap().unwrap();
    assert_eq!(first_plain.raw_id(), Some(echo_id.as_str()));

    // The history has the same events, in the same order.
    let history: Vec<SessionEvent> = client
        .sessions()
        .events()
        .list(
            &session.id,
            &EventListParams {
                limit: Some(2),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    let listed: Vec<&str> = history.iter().filter_map(|e| e.raw_id()).collect();
    assert_eq!(listed[..ids.len()], ids[..]);

    // Threads: the primary thread mirrors the session.
    let threads = client.sessions().threads();
    let all: Vec<_> = threads
        .list(&session.id, &ThreadListParams::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].is_primary());
    let primary = threads.retrieve(&session.id, &all[0].id).await.unwrap();
    assert_eq!(primary.id, all[0].id);
    let thread_events: Vec<SessionEvent> = threads
        .events()
        .list(&session.id, &primary.id, &PageParams::default())
        .try_collect()
        .await
        .unwrap();
    assert!(!thread_events.is_empty());
    let mut thread_stream = threads
        .events()
        .stream(&session.id, &primary.id, &StreamParams::default())
        .await
        .unwrap();

    // Deleting the session ends its streams with `session.deleted`.
    client.sessions().delete(&session.id).await.unwrap();
    let last = tokio::time::timeout(Duration::from_secs(10), live.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(last, SessionEvent::SessionDeleted(_)), "{last:?}");
    assert!(
        live.next().await.is_none(),
        "nothing follows `session.deleted`"
    );
    // The thread's stream ends too (with `session.deleted` or by closing), promptly.
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(event)) = thread_stream.next().await {
            if matches!(event, SessionEvent::SessionDeleted(_)) {
                break;
            }
        }
    })
    .await
    .unwrap();
}
