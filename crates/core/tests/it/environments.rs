//! Environments and the self-hosted work queue: every object and request body round-trips;
//! unknown config types, network policies and work data survive; a health check without `type`
//! parses and writes back without one; bad input names the field.

use pretty_assertions::assert_eq;
use serde_json::json;
use steward_core::environment::*;
use steward_core::work::*;
use steward_core::{DeletedType, Nullable, Page, PageParams, SessionId};

use crate::support::{parse_error, roundtrip};

#[test]
fn cloud_environment_round_trips() {
    let env: Environment = roundtrip("objects/environment.json");
    assert_eq!(env.kind, EnvironmentType::Environment);
    assert_eq!(env.scope, Some(EnvironmentScope::Organization));
    assert!(!env.is_self_hosted() && !env.is_archived());
    let EnvironmentConfig::Cloud(cloud) = &env.config else {
        panic!("expected a cloud config");
    };
    assert_eq!(
        cloud.networking,
        Networking::Limited(LimitedNetwork {
            allow_mcp_servers: true,
            allow_package_managers: true,
            allowed_hosts: vec!["api.example.com".into(), "files.example.com".into()],
        })
    );
    assert_eq!(cloud.packages.kind, Some(PackagesType::Packages));
    assert_eq!(cloud.packages.pip, ["pandas==2.2.3", "numpy"]);
}

#[test]
fn unrestricted_and_self_hosted_environments_round_trip() {
    let env: Environment = roundtrip("objects/environment--unrestricted.json");
    let EnvironmentConfig::Cloud(cloud) = &env.config else {
        panic!("expected a cloud config");
    };
    assert_eq!(
        cloud.networking,
        Networking::Unrestricted(UnrestrictedNetwork {})
    );
    assert_eq!(cloud.packages, Packages::default());
    assert_eq!(env.scope, None);
    assert_eq!(env.description, None);

    let env: Environment = roundtrip("objects/environment--self-hosted.json");
    assert!(env.is_self_hosted() && env.is_archived());
    assert_eq!(env.description.as_deref(), Some(""));
    assert_eq!(env.scope, Some(EnvironmentScope::Account));
}

#[test]
fn unknown_environment_config_round_trips_losslessly() {
    let env: Environment = roundtrip("objects/environment--forward-compat.json");
    assert!(env.config.is_unknown());
    assert_eq!(env.config.type_name(), "kubernetes");
    assert_eq!(
        env.scope,
        Some(EnvironmentScope::Unknown("workspace".into()))
    );

    let raw = json!({"type": "mesh", "peers": ["a", "b"]});
    let networking: Networking = serde_json::from_value(raw.clone()).unwrap();
    assert!(networking.is_unknown());
    assert_eq!(serde_json::to_value(&networking).unwrap(), raw);

    let raw = json!({"type": "firecracker", "vcpus": 4});
    let params: EnvironmentConfigParams = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&params).unwrap(), raw);
}

#[test]
fn deletion_receipt_round_trips() {
    let deleted: EnvironmentDeleted = roundtrip("objects/environment_deleted.json");
    assert_eq!(deleted.kind, DeletedType::Environment);
}

#[test]
fn environment_requests_round_trip() {
    let body: EnvironmentCreate = roundtrip("params/environment_create.json");
    let Nullable::Value(EnvironmentConfigParams::Cloud(cloud)) = &body.config else {
        panic!("expected a cloud config");
    };
    let Nullable::Value(NetworkingParams::Limited(limited)) = &cloud.networking else {
        panic!("expected limited networking");
    };
    assert_eq!(limited.allow_package_managers, Nullable::Value(true));
    assert!(limited.allow_mcp_servers.is_null());
    let packages = cloud.packages.value().unwrap();
    assert!(packages.apt.is_null() && packages.cargo.is_absent());
    assert_eq!(packages.npm, Nullable::Value(vec![]));

    let body: EnvironmentCreate = roundtrip("params/environment_create--self-hosted.json");
    assert_eq!(
        body.config,
        Nullable::Value(EnvironmentConfigParams::self_hosted())
    );
    assert!(body.description.is_null() && body.scope.is_null());

    let body: EnvironmentCreate = roundtrip("params/environment_create--minimal.json");
    assert_eq!(
        body,
        EnvironmentCreate {
            name: "default".into(),
            ..Default::default()
        }
    );

    let body: EnvironmentUpdate = roundtrip("params/environment_update.json");
    assert!(body.name.is_null() && body.description.is_null());
    let patch = body.metadata.as_ref().unwrap();
    assert_eq!(patch["old"], None);
    assert_eq!(patch["blank"].as_deref(), Some(""));
    let Nullable::Value(EnvironmentConfigParams::Cloud(cloud)) = &body.config else {
        panic!("expected a cloud config");
    };
    assert!(cloud.packages.is_null());

    let body: EnvironmentUpdate = roundtrip("params/environment_update--cloud-partial.json");
    assert_eq!(
        body.config,
        Nullable::Value(EnvironmentConfigParams::cloud())
    );
    assert!(body.name.is_absent() && body.metadata.is_none());

    let list: EnvironmentListParams = roundtrip("params/environment_list.json");
    assert_eq!(list.include_archived, Some(false));
}

#[test]
fn session_work_round_trips_and_its_secret_decodes() {
    let work: Work = roundtrip("objects/work.json");
    assert_eq!(work.kind, WorkObjectType::Work);
    assert_eq!(
        work.data.session_id(),
        Some(&SessionId::new("sesn_011CZkZE2xWvS8Gm4c1oPq9z"))
    );
    assert_eq!(work.state, WorkState::Active);
    let secret = work.secret.as_ref().unwrap().decode().unwrap();
    assert_eq!(secret.sessions_token, "sk-ant-req-abc");
    assert_eq!(secret.api_base_url.as_deref(), Some("https://x"));
    assert!(
        !format!("{work:?}").contains("eyJ"),
        "Debug must not print the secret"
    );
}

#[test]
fn healthcheck_without_type_round_trips_without_one() {
    let work: Work = roundtrip("objects/work--healthcheck.json");
    assert_eq!(
        work.data,
        WorkData::Healthcheck(HealthcheckWorkData {
            id: "hc_01JQ4T0Z8N3K".into(),
            kind: None,
        })
    );
    assert_eq!(work.data.session_id(), None);
    assert_eq!(work.secret, None);

    let work: Work = roundtrip("objects/work--stopped.json");
    assert_eq!(
        work.data,
        WorkData::Healthcheck(HealthcheckWorkData {
            id: "hc_01JQ4T0Z8N3L".into(),
            kind: Some(HealthcheckType::Healthcheck),
        })
    );
    assert!(work.state.should_stop());

    let page: Page<Work> = roundtrip("objects/work_page.json");
    assert_eq!(page.data[0].state, WorkState::Starting);
}

#[test]
fn unknown_work_data_and_state_round_trip() {
    let work: Work = roundtrip("objects/work--forward-compat.json");
    assert!(matches!(work.data, WorkData::Unknown(_)));
    assert_eq!(work.state, WorkState::Unknown("paused".into()));
    assert!(!work.state.should_stop());
}

#[test]
fn heartbeat_and_stats_round_trip() {
    let beat: WorkHeartbeat = roundtrip("objects/work_heartbeat.json");
    assert!(beat.lease_extended);
    assert_eq!(
        WorkHeartbeatParams::renew(&beat, Some(300)).expected_last_heartbeat,
        Some("2026-04-06T08:04:02.000001Z".into())
    );
    let beat: WorkHeartbeat = roundtrip("objects/work_heartbeat--stopping.json");
    assert_eq!(beat.last_heartbeat, "");
    assert!(beat.state.should_stop());

    let lease: WorkLeaseState = roundtrip("objects/work_lease_state.json");
    assert_eq!(lease.last_heartbeat, None);

    let stats: WorkQueueStats = roundtrip("objects/work_queue_stats.json");
    assert_eq!((stats.depth, stats.pending), (4, 1));
    assert_eq!(stats.workers_polling, Some(2));
    let stats: WorkQueueStats = roundtrip("objects/work_queue_stats--empty.json");
    assert_eq!(stats.oldest_queued_at, None);
}

#[test]
fn work_requests_round_trip() {
    let poll: WorkPollParams = roundtrip("params/work_poll.json");
    assert_eq!(poll.block_ms, Some(999));
    let with_worker = WorkPollParams {
        worker_id: Some("host-1".into()),
        ..poll
    };
    assert_eq!(
        serde_json::to_value(&with_worker).unwrap(),
        serde_json::to_value(&poll).unwrap(),
        "the worker ID is a header, not a query parameter"
    );

    let beat: WorkHeartbeatParams = roundtrip("params/work_heartbeat.json");
    assert_eq!(beat, WorkHeartbeatParams::claim(Some(300)));

    let stop: WorkStop = roundtrip("params/work_stop.json");
    assert_eq!(stop.force, Some(true));
    let stop: WorkStop = roundtrip("params/work_stop--graceful.json");
    assert_eq!(stop, WorkStop::default());

    let update: WorkUpdate = roundtrip("params/work_update.json");
    assert_eq!(update.metadata["stale"], None);

    let list: WorkListParams = roundtrip("params/work_list.json");
    assert_eq!(
        list,
        PageParams {
            limit: Some(5),
            page: None
        }
    );
}

#[test]
fn bad_input_names_the_field() {
    let err = parse_error::<Environment>(r#"{"id":"env_1","type":"environment","name":"x"}"#);
    // serde reads a missing `Option` field as `None`, so the first error is the next field.
    assert!(err.contains("missing field `config`"), "{err}");

    let err = parse_error::<EnvironmentConfig>(r#"{"type":"cloud"}"#);
    assert!(
        err.contains("invalid `cloud`: missing field `networking`"),
        "{err}"
    );

    let err = parse_error::<Networking>(
        r#"{"type":"limited","allow_mcp_servers":"yes","allow_package_managers":true,"allowed_hosts":[]}"#,
    );
    assert!(err.contains("invalid `limited`"), "{err}");
    assert!(err.contains("invalid type: string \"yes\""), "{err}");

    let err = parse_error::<EnvironmentCreate>(r#"{"config":{"type":"self_hosted"}}"#);
    assert!(err.contains("missing field `name`"), "{err}");

    let err = parse_error::<Work>(r#"{"id":"work_1","type":"work","environment_id":"env_1"}"#);
    assert!(err.contains("missing field `data`"), "{err}");

    let err = parse_error::<WorkData>(r#"{"type":"session"}"#);
    assert!(
        err.contains("invalid `session`: missing field `id`"),
        "{err}"
    );
    let err = parse_error::<WorkData>(r#"{"type":7,"id":"x"}"#);
    assert!(err.contains("invalid `type` of WorkData"), "{err}");
    let err = parse_error::<WorkData>(r#""sesn_1""#);
    assert!(err.contains("expected an object"), "{err}");

    let err = parse_error::<WorkHeartbeat>(
        r#"{"type":"work_heartbeat","last_heartbeat":"","lease_extended":true,"state":"active","ttl_seconds":-1}"#,
    );
    assert!(err.contains("invalid value: integer `-1`"), "{err}");

    let err = parse_error::<WorkUpdate>("{}");
    assert!(err.contains("missing field `metadata`"), "{err}");

    assert!(matches!(
        EncodedWorkSecret::new("bm90IGpzb24").decode(),
        Err(WorkSecretError::Json(_))
    ));
}
