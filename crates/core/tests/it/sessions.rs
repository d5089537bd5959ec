//! Sessions, session resources and session threads: fixtures round-trip, unknown values survive,
//! the agent of a new session parses in each of its forms, and bad input names the field.

use pretty_assertions::assert_eq;
use serde_json::json;
use steward_core::agent::{AgentToolParams, AgentVersionParams, ModelParam};
use steward_core::event::UserEvent;
use steward_core::resource::{
    Checkout, MemoryStoreAccess, ResourceAdd, ResourceCreate, ResourceListParams, ResourceUpdate,
    SessionResource, memory_store_mount_path,
};
use steward_core::session::{
    AgentWithOverrides, Budget, OutcomeEvaluationResult, Session, SessionAgentParam,
    SessionAgentPool, SessionCreate, SessionListOrder, SessionListParams, SessionMultiagent,
    SessionStatus, SessionUpdate,
};
use steward_core::thread::{SessionThread, SessionThreadStatus, ThreadAgent, ThreadListParams};
use steward_core::{
    AgentId, BidirectionalPage, Deleted, DeletedType, Money, Nullable, Page, SessionId,
    SessionResourceId,
};

use crate::support::{parse_error, roundtrip};

// ---------------------------------------------------------------------------------------------
// Session objects
// ---------------------------------------------------------------------------------------------

#[test]
fn full_session_round_trips() {
    let session: Session = roundtrip("objects/session.json");
    assert_eq!(session.id, "sesn_011CZkZAtmR3yMPDzynEDxu7");
    assert_eq!(session.status, SessionStatus::Running);
    assert_eq!(session.title.as_deref(), Some("Cut release 2.4"));
    assert_eq!(
        session.budget.as_ref().and_then(Budget::max_list_cost),
        Some(&Money::usd_cents(2500))
    );
    assert_eq!(
        session.deployment_id,
        Nullable::Value("depl_011CZkZKq3LrN8vT2xW5yB6c".to_owned())
    );
    assert_eq!(session.vault_ids, ["vlt_011CZkZDLs7fYzm1hXNPeRjv"]);
    assert_eq!(
        session.usage.list_cost.value(),
        Some(&Money::usd_cents(1873))
    );
    assert_eq!(session.stats.duration_seconds, Some(1804.0));
    assert!(!session.is_archived());

    let kinds: Vec<&str> = session.resources.iter().map(|r| r.type_name()).collect();
    assert_eq!(kinds, ["github_repository", "file", "memory_store"]);
    assert_eq!(
        session.resources[2].mount_path(),
        Some("/mnt/memory/release-notes")
    );
    assert_eq!(session.resources[2].id(), None);

    let [running, satisfied] = &session.outcome_evaluations[..] else {
        panic!("expected two outcome evaluations");
    };
    assert_eq!(running.result, OutcomeEvaluationResult::Running);
    assert!(!running.result.is_terminal());
    assert_eq!(running.completed_at, None);
    assert!(satisfied.result.is_terminal());

    let agent = &session.agent;
    assert_eq!(agent.version, 7);
    assert_eq!(agent.reference().version, 7);
    let Some(SessionMultiagent::V20261001(multiagent)) = &agent.multiagent else {
        panic!("expected multiagent_20261001, got {:?}", agent.multiagent);
    };
    let SessionAgentPool::Enabled(subagents) = &multiagent.subagents else {
        panic!("expected enabled subagents");
    };
    assert_eq!(subagents.predefined_agents[0].name, "Reviewer");
    assert_eq!(subagents.predefined_agents[0].version, 4);
    assert!(matches!(
        multiagent.workflows,
        SessionAgentPool::Disabled(_)
    ));

    let thread_agent = agent.thread_agent();
    assert_eq!(thread_agent.id, agent.id);
    assert_eq!(thread_agent.tools, agent.tools);
}

#[test]
fn minimal_session_keeps_nulls_and_absent_fields_apart() {
    let session: Session = roundtrip("objects/session_minimal.json");
    assert_eq!(session.status, SessionStatus::Idle);
    assert_eq!(session.title, None);
    assert_eq!(session.budget, None);
    assert_eq!(session.agent.multiagent, None);
    assert!(session.deployment_id.is_absent());
    assert_eq!(session.usage, Default::default());

    // Present-but-null `deployment_id` and usage fields stay null.
    let session: Session = roundtrip("objects/session_coordinator.json");
    assert!(session.deployment_id.is_null());
    assert!(session.usage.list_cost.is_null());
    assert!(session.usage.server_tool_use.is_null());
    assert!(session.is_archived());
    assert_eq!(session.status, SessionStatus::Terminated);
    let Some(SessionMultiagent::Coordinator(coordinator)) = &session.agent.multiagent else {
        panic!("expected a coordinator");
    };
    let names: Vec<_> = coordinator
        .agents
        .iter()
        .map(ThreadAgent::type_name)
        .collect();
    assert_eq!(names, ["agent", "advisor"]);
    assert_eq!(coordinator.agents[1].name(), Some("claude-opus-4-6"));
}

#[test]
fn unknown_status_resource_budget_and_result_survive() {
    let session: Session = roundtrip("objects/session_unknown.json");
    assert_eq!(
        session.status,
        SessionStatus::Unknown("hibernating".to_owned())
    );
    assert!(session.budget.as_ref().is_some_and(Budget::is_unknown));
    assert_eq!(session.resources[0].type_name(), "s3_bucket");
    assert_eq!(session.resources[0].mount_path(), Some("/mnt/s3/acme-data"));
    assert!(
        session
            .agent
            .multiagent
            .as_ref()
            .is_some_and(SessionMultiagent::is_unknown)
    );
    assert_eq!(
        session.outcome_evaluations[0].result.as_str(),
        "awaiting_human_review"
    );
}

#[test]
fn unknown_fields_on_known_objects_are_tolerated() {
    let minimal = crate::support::fixture("objects/session_minimal.json");
    let mut raw = minimal.clone();
    raw["expires_at"] = json!("2026-05-01T00:00:00Z");
    raw["stats"]["idle_seconds"] = json!(3.5);
    raw["agent"]["labels"] = json!(["beta"]);
    let session: Session = serde_json::from_value(raw).unwrap();
    // Known objects keep only the fields this version knows.
    assert_eq!(serde_json::to_value(&session).unwrap(), minimal);
}

#[test]
fn session_receipts_and_pages_round_trip() {
    let deleted: Deleted<SessionId> = roundtrip("objects/session_deleted.json");
    assert_eq!(deleted.kind, DeletedType::Session);
    let page: BidirectionalPage<Session> = roundtrip("objects/session_page.json");
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.prev_page, None);
    assert!(page.next_page.is_some());
}

#[test]
fn session_errors_name_the_field() {
    let mut raw = crate::support::fixture("objects/session_minimal.json");
    raw.as_object_mut().unwrap().remove("environment_id");
    let err = parse_error::<Session>(&raw.to_string());
    assert!(err.contains("missing field `environment_id`"), "{err}");

    let mut raw = crate::support::fixture("objects/session_minimal.json");
    raw["budget"] = json!({"type": "limit"});
    let err = parse_error::<Session>(&raw.to_string());
    assert!(
        err.contains("invalid `limit`: missing field `max_list_cost`"),
        "{err}"
    );

    let mut raw = crate::support::fixture("objects/session_minimal.json");
    raw["status"] = json!(3);
    let err = parse_error::<Session>(&raw.to_string());
    assert!(err.contains("invalid type: integer `3`"), "{err}");

    let mut raw = crate::support::fixture("objects/session_minimal.json");
    raw["agent"]
        .as_object_mut()
        .unwrap()
        .remove("execution_identity");
    let err = parse_error::<Session>(&raw.to_string());
    assert!(err.contains("missing field `execution_identity`"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

#[test]
fn repository_resources_round_trip_with_each_checkout_state() {
    let repo: SessionResource = roundtrip("objects/resource_github_repository.json");
    let SessionResource::GitHubRepository(repo) = repo else {
        panic!("expected a repository");
    };
    assert_eq!(
        repo.checkout,
        Nullable::Value(Checkout::branch("release/2.4"))
    );

    let SessionResource::GitHubRepository(repo) =
        roundtrip("objects/resource_github_repository_commit.json")
    else {
        panic!("expected a repository");
    };
    assert_eq!(
        repo.checkout,
        Nullable::Value(Checkout::commit("9fceb02d0ae598e95dc970b74767f19372d61af8"))
    );

    let SessionResource::GitHubRepository(repo) =
        roundtrip("objects/resource_github_repository_null_checkout.json")
    else {
        panic!("expected a repository");
    };
    assert!(repo.checkout.is_null());

    let SessionResource::GitHubRepository(repo) =
        roundtrip("objects/resource_github_repository_minimal.json")
    else {
        panic!("expected a repository");
    };
    assert!(repo.checkout.is_absent());

    let SessionResource::GitHubRepository(repo) =
        roundtrip("objects/resource_github_repository_unknown_checkout.json")
    else {
        panic!("expected a repository");
    };
    assert_eq!(repo.checkout.value().map(Checkout::type_name), Some("tag"));
}

#[test]
fn file_resource_round_trips() {
    let file: SessionResource = roundtrip("objects/resource_file.json");
    assert_eq!(
        file.id(),
        Some(&SessionResourceId::new("sesrsc_011CZkZBJq5dWxk9fVLNcPhu"))
    );
    assert_eq!(
        file.mount_path(),
        Some("/mnt/session/uploads/file_011CNha8iCJcU1wXNR6q4V8w")
    );
}

#[test]
fn memory_store_resources_keep_absent_and_null_apart() {
    let SessionResource::MemoryStore(full) = roundtrip("objects/resource_memory_store.json") else {
        panic!("expected a memory store");
    };
    assert_eq!(full.access, Nullable::Value(MemoryStoreAccess::ReadOnly));
    assert_eq!(
        full.mount_path.value().map(String::as_str),
        Some(memory_store_mount_path("Release Notes").as_str())
    );

    let SessionResource::MemoryStore(minimal) =
        roundtrip("objects/resource_memory_store_minimal.json")
    else {
        panic!("expected a memory store");
    };
    assert!(minimal.access.is_absent());
    assert!(minimal.name.is_absent());
    assert_eq!(minimal.description, None);

    let SessionResource::MemoryStore(nulls) = roundtrip("objects/resource_memory_store_nulls.json")
    else {
        panic!("expected a memory store");
    };
    assert!(nulls.access.is_null());
    assert!(nulls.instructions.is_null());
    assert!(nulls.mount_path.is_null());
    assert!(nulls.name.is_null());
    assert_eq!(nulls.description.as_deref(), Some(""));
}

#[test]
fn unknown_resource_type_round_trips_losslessly() {
    let resource: SessionResource = roundtrip("objects/resource_unknown.json");
    assert!(resource.is_unknown());
    assert_eq!(resource.type_name(), "gcs_bucket");
    assert_eq!(resource.id(), None);
    assert_eq!(resource.mount_path(), Some("/mnt/gcs/acme-models"));
    assert_eq!(
        serde_json::to_string(&resource).unwrap(),
        serde_json::to_string(&crate::support::fixture("objects/resource_unknown.json")).unwrap()
    );

    let access: MemoryStoreAccess = serde_json::from_str("\"append_only\"").unwrap();
    assert_eq!(access.as_str(), "append_only");
    assert_eq!(serde_json::to_string(&access).unwrap(), "\"append_only\"");
}

#[test]
fn resource_receipts_and_pages_round_trip() {
    let deleted: Deleted<SessionResourceId> = roundtrip("objects/resource_deleted.json");
    assert_eq!(deleted.kind, DeletedType::SessionResource);
    let page: Page<SessionResource> = roundtrip("objects/resource_page.json");
    assert_eq!(page.data.len(), 3);
    assert_eq!(page.next_page, None);
}

#[test]
fn resource_request_bodies_round_trip() {
    let add: ResourceAdd = roundtrip("params/resource_add.json");
    assert_eq!(add, ResourceAdd::new("file_011CNha8iCJcU1wXNR6q4V8w"));
    let add: ResourceAdd = roundtrip("params/resource_add_mount_path.json");
    assert_eq!(
        add.mount_path.value().map(String::as_str),
        Some("/mnt/session/inputs/data.csv")
    );
    let add: ResourceAdd = roundtrip("params/resource_add_null_mount_path.json");
    assert!(add.mount_path.is_null());

    let update: ResourceUpdate = roundtrip("params/resource_update.json");
    assert_eq!(update.authorization_token, "ghp_rotatedexampletoken");
    let list: ResourceListParams = roundtrip("params/resource_list.json");
    assert_eq!(list.limit, Some(50));
}

#[test]
fn resource_errors_name_the_field() {
    let err = parse_error::<SessionResource>(r#"{"type":"file","id":"sesrsc_1"}"#);
    assert!(
        err.contains("invalid `file`: missing field `file_id`"),
        "{err}"
    );
    let err = parse_error::<ResourceCreate>(r#"{"type":"github_repository"}"#);
    assert!(
        err.contains("invalid `github_repository`: missing field `url`"),
        "{err}"
    );
    let err = parse_error::<ResourceCreate>(r#"{"type":"memory_store","memory_store_id":7}"#);
    assert!(err.contains("invalid type: integer `7`"), "{err}");
    let err = parse_error::<ResourceAdd>(r#"{"type":"memory_store","memory_store_id":"m"}"#);
    assert!(err.contains("expected \"file\""), "{err}");
    let err = parse_error::<ResourceUpdate>("{}");
    assert!(err.contains("missing field `authorization_token`"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Session requests
// ---------------------------------------------------------------------------------------------

#[test]
fn full_session_create_round_trips() {
    let body: SessionCreate = roundtrip("params/session_create.json");
    let SessionAgentParam::WithOverrides(agent) = &body.agent else {
        panic!("expected agent_with_overrides, got {:?}", body.agent);
    };
    assert_eq!(agent.version, Some(7));
    assert!(agent.system.is_null());
    assert!(matches!(agent.model, Some(ModelParam::Config(_))));
    assert_eq!(body.agent.agent_version(), Some(7));

    let resources = body.resources.as_deref().unwrap();
    let kinds: Vec<_> = resources.iter().map(ResourceCreate::type_name).collect();
    assert_eq!(
        kinds,
        [
            "github_repository",
            "github_repository",
            "file",
            "file",
            "memory_store",
            "memory_store"
        ]
    );
    let ResourceCreate::GitHubRepository(docs) = &resources[1] else {
        panic!("expected a repository");
    };
    assert!(docs.checkout.is_null());
    assert!(docs.mount_path.is_null());
    assert_eq!(docs.authorization_token, None);

    let events = body.initial_events.as_deref().unwrap();
    assert!(matches!(events[0], UserEvent::Message(_)));
    assert!(matches!(events[1], UserEvent::DefineOutcome(_)));
    assert_eq!(
        body.budget.as_ref().and_then(Budget::max_list_cost),
        Some(&Money::usd_cents(2500))
    );
}

#[test]
fn session_agent_parses_in_each_form() {
    let body: SessionCreate = roundtrip("params/session_create_minimal.json");
    assert_eq!(
        body.agent,
        SessionAgentParam::Id(AgentId::new("agent_011CZkYpogX7uDKUyvBTophR"))
    );
    assert_eq!(body.agent.agent_version(), None);

    let body: SessionCreate = roundtrip("params/session_create_agent_version.json");
    assert_eq!(
        body.agent,
        SessionAgentParam::version("agent_011CZkYpogX7uDKUyvBTophR", 3)
    );
    assert!(body.title.is_null());
    assert_eq!(body.resources, Some(vec![]));
    assert_eq!(body.vault_ids, Some(vec![]));

    let body: SessionCreate = roundtrip("params/session_create_agent_latest.json");
    assert_eq!(
        body.agent,
        SessionAgentParam::Agent(AgentVersionParams {
            id: "agent_011CZkYpogX7uDKUyvBTophR".into(),
            version: None,
        })
    );

    let body: SessionCreate = roundtrip("params/session_create_agent_unknown.json");
    assert!(body.agent.is_unknown());
    assert_eq!(body.agent.agent_id(), None);

    let overrides: SessionAgentParam =
        serde_json::from_value(json!({"type": "agent_with_overrides", "id": "agent_1"})).unwrap();
    assert_eq!(overrides, AgentWithOverrides::new("agent_1").into());
    assert_eq!(overrides.agent_id(), Some(&AgentId::new("agent_1")));
}

#[test]
fn agent_ids_convert_into_the_string_form() {
    let id = AgentId::new("agent_011CZkYpogX7uDKUyvBTophR");
    let body = SessionCreate::new(id.clone(), "env_011CZkZ9X2dtFeYJZf7h4hX1");
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        crate::support::fixture("params/session_create_minimal.json")
    );
    assert_eq!(SessionAgentParam::from(&id), SessionAgentParam::Id(id));

    let with_overrides = SessionCreate {
        agent: AgentWithOverrides {
            system: Nullable::Null,
            tools: Some(vec![AgentToolParams::agent_toolset()]),
            ..AgentWithOverrides::new("agent_1")
        }
        .into(),
        ..SessionCreate::new("ignored", "env_1")
    };
    assert_eq!(
        serde_json::to_value(&with_overrides).unwrap(),
        json!({
            "agent": {
                "type": "agent_with_overrides",
                "id": "agent_1",
                "system": null,
                "tools": [{"type": "agent_toolset_20260401"}],
            },
            "environment_id": "env_1",
        })
    );
}

#[test]
fn session_create_errors_name_the_field() {
    let err = parse_error::<SessionCreate>(r#"{"environment_id":"env_1"}"#);
    assert!(err.contains("missing field `agent`"), "{err}");
    let err = parse_error::<SessionCreate>(r#"{"agent":"agent_1"}"#);
    assert!(err.contains("missing field `environment_id`"), "{err}");
    let err = parse_error::<SessionCreate>(r#"{"agent":42,"environment_id":"env_1"}"#);
    assert!(
        err.contains("invalid agent: expected an agent ID string or an object, got a number"),
        "{err}"
    );
    let err = parse_error::<SessionCreate>(r#"{"agent":{"id":"agent_1"},"environment_id":"e"}"#);
    assert!(err.contains("missing field `type` of agent"), "{err}");
    let err = parse_error::<SessionCreate>(r#"{"agent":{"type":"agent"},"environment_id":"e"}"#);
    assert!(err.contains("invalid `agent`: missing field `id`"), "{err}");
    let err = parse_error::<SessionCreate>(
        r#"{"agent":{"type":"agent_with_overrides","id":"a","version":"7"},"environment_id":"e"}"#,
    );
    assert!(
        err.contains("invalid `agent_with_overrides`: `version`: invalid type: string \"7\""),
        "{err}"
    );
    let err = parse_error::<SessionCreate>(
        r#"{"agent":"a","environment_id":"e","resources":[{"type":"file"}]}"#,
    );
    assert!(
        err.contains("invalid `file`: missing field `file_id`"),
        "{err}"
    );
}

#[test]
fn session_updates_round_trip() {
    let update: SessionUpdate = roundtrip("params/session_update.json");
    assert_eq!(
        update.title,
        Nullable::Value("Cut release 2.4.1".to_owned())
    );
    let patch = update.metadata.value().unwrap();
    assert_eq!(patch["ticket"].as_deref(), Some("REL-209"));
    assert_eq!(patch["team"], None);
    let agent = update.agent.as_ref().unwrap();
    assert_eq!(agent.tools.as_ref().map(Vec::len), Some(2));
    assert_eq!(agent.mcp_servers, Some(vec![]));
    assert_eq!(update.vault_ids, Some(vec![]));

    let nulls: SessionUpdate = roundtrip("params/session_update_nulls.json");
    assert!(nulls.title.is_null());
    assert!(nulls.metadata.is_null());
    assert!(nulls.budget.is_null());
    assert_eq!(nulls.agent, None);

    let empty: SessionUpdate = roundtrip("params/session_update_empty.json");
    assert_eq!(empty, SessionUpdate::default());

    let tools: SessionUpdate = roundtrip("params/session_update_agent_tools.json");
    let agent = tools.agent.unwrap();
    assert_eq!(agent.tools, Some(vec![]));
    assert_eq!(agent.mcp_servers, None);
}

#[test]
fn session_list_query_round_trips() {
    let query: SessionListParams = roundtrip("params/session_list.json");
    assert_eq!(query.order, Some(SessionListOrder::Asc));
    assert_eq!(query.agent_version, Some(7));
    assert_eq!(
        query.created_at_gt.as_ref().map(|t| t.as_str()),
        Some("2026-03-01T00:00:00Z")
    );
    assert_eq!(
        query.statuses,
        [
            SessionStatus::Idle,
            SessionStatus::Rescheduling,
            SessionStatus::Unknown("paused".to_owned())
        ]
    );
    let empty: SessionListParams = roundtrip("params/session_list_empty.json");
    assert_eq!(empty, SessionListParams::default());

    let err = parse_error::<SessionListParams>(r#"{"statuses":"idle"}"#);
    assert!(err.contains("invalid type: string \"idle\""), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

#[test]
fn primary_thread_round_trips() {
    let thread: SessionThread = roundtrip("objects/thread.json");
    assert!(thread.is_primary());
    assert_eq!(thread.status, SessionThreadStatus::Idle);
    let ThreadAgent::Agent(agent) = &thread.agent else {
        panic!("expected a saved agent, got {:?}", thread.agent);
    };
    assert_eq!(agent.reference().version, 7);
    assert_eq!(thread.stats.as_ref().unwrap().startup_seconds, Some(4.25));
    assert_eq!(thread.usage.as_ref().unwrap().active_seconds, Some(301.5));
}

#[test]
fn child_threads_round_trip() {
    let inline: SessionThread = roundtrip("objects/thread_inline.json");
    assert!(!inline.is_primary());
    assert_eq!(inline.agent.type_name(), "inline");
    assert_eq!(inline.agent.name(), Some("changelog-writer"));
    assert_eq!(inline.usage, None);
    assert_eq!(
        inline.workflow_run_id.as_ref().map(|id| id.as_str()),
        Some("wfrun_011CZkZXb4Yc9qM1tR6sP8dF")
    );

    let advisor: SessionThread = roundtrip("objects/thread_advisor.json");
    assert_eq!(advisor.agent.type_name(), "advisor");
    assert_eq!(advisor.stats, None);
    assert!(advisor.is_archived());
}

#[test]
fn unknown_thread_status_and_agent_round_trip() {
    let thread: SessionThread = roundtrip("objects/thread_unknown.json");
    assert_eq!(
        thread.status,
        SessionThreadStatus::Unknown("suspended".to_owned())
    );
    assert!(thread.agent.is_unknown());
    assert_eq!(thread.agent.type_name(), "remote");
    assert_eq!(thread.agent.name(), Some("remote-reviewer"));
}

#[test]
fn thread_pages_and_queries_round_trip() {
    let page: Page<SessionThread> = roundtrip("objects/thread_page.json");
    assert_eq!(page.data.len(), 2);
    let query: ThreadListParams = roundtrip("params/thread_list.json");
    assert_eq!(
        query.statuses,
        [
            SessionThreadStatus::Running,
            SessionThreadStatus::Idle,
            SessionThreadStatus::Terminated
        ]
    );
    let empty: ThreadListParams = roundtrip("params/thread_list_empty.json");
    assert_eq!(empty, ThreadListParams::default());
}

#[test]
fn thread_errors_name_the_field() {
    let mut raw = crate::support::fixture("objects/thread_advisor.json");
    raw["agent"] = json!({"type": "advisor"});
    let err = parse_error::<SessionThread>(&raw.to_string());
    assert!(
        err.contains("invalid `advisor`: missing field `model`"),
        "{err}"
    );

    raw["agent"] = json!({"model": "claude-opus-4-6"});
    let err = parse_error::<SessionThread>(&raw.to_string());
    assert!(err.contains("missing field `type` of ThreadAgent"), "{err}");

    let mut raw = crate::support::fixture("objects/thread.json");
    raw["agent"].as_object_mut().unwrap().remove("version");
    let err = parse_error::<SessionThread>(&raw.to_string());
    assert!(
        err.contains("invalid `agent`: missing field `version`"),
        "{err}"
    );

    let mut raw = crate::support::fixture("objects/thread.json");
    raw.as_object_mut().unwrap().remove("session_id");
    let err = parse_error::<SessionThread>(&raw.to_string());
    assert!(err.contains("missing field `session_id`"), "{err}");
}
