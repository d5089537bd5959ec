//! Vaults and credentials: every fixture round-trips, unknown auth types survive, secrets never
//! show in `Debug`, and bad input names the field.

use pretty_assertions::assert_eq;
use steward_core::vault::{
    ClientSecretBasicUpdate, ClientSecretPostCreate, Credential, CredentialAuth,
    CredentialAuthCreate, CredentialAuthUpdate, CredentialCreate, CredentialListParams,
    CredentialNetworking, CredentialUpdate, CredentialValidation, CredentialValidationStatus,
    DeletedCredential, DeletedVault, EnvironmentVariableCreate, InjectionLocation,
    InjectionLocationParams, LimitedNetworking, McpOauthCreate, McpOauthRefreshCreate,
    McpOauthRefreshUpdate, McpOauthUpdate, RefreshStatus, Secret, StaticBearerCreate,
    StaticBearerUpdate, TokenEndpointAuth, TokenEndpointAuthCreate, TokenEndpointAuthUpdate, Vault,
    VaultCreate, VaultListParams, VaultType, VaultUpdate,
};
use steward_core::{DeletedType, Nullable, Page};

use crate::support::{fixture, parse_error, roundtrip};

/// Every secret value that appears in a request fixture.
const FIXTURE_SECRETS: &[&str] = &[
    "lin_oauth_AT_9f8e7d6c5b4a",
    "lin_oauth_RT_1a2b3c4d5e6f",
    "cs_live_5up3r53cr3t",
    "at_public_0001",
    "rt_public_0001",
    "ghp_EXAMPLEexampleEXAMPLE0123",
    "sk_test_51HxEXAMPLEsecret",
    "lin_oauth_AT_new_777",
    "lin_oauth_RT_new_888",
    "cs_rotated_999",
    "ghp_ROTATEDrotated0456",
    "sk_test_rotated_222",
];

#[track_caller]
fn assert_no_secret(debug: &str) {
    for secret in FIXTURE_SECRETS {
        assert!(!debug.contains(secret), "`{secret}` leaked into {debug}");
    }
}

#[test]
fn vaults_round_trip() {
    let vault: Vault = roundtrip("objects/vault.json");
    assert_eq!(vault.kind, VaultType::Vault);
    assert_eq!(vault.display_name, "Acme production");
    assert_eq!(vault.archived_at, None);
    let archived: Vault = roundtrip("objects/vault_archived.json");
    assert!(archived.archived_at.is_some());
    let deleted: DeletedVault = roundtrip("objects/vault_deleted.json");
    assert_eq!(deleted.kind, DeletedType::Vault);
}

#[test]
fn mcp_oauth_credentials_round_trip() {
    let cred: Credential = roundtrip("objects/credential_mcp_oauth.json");
    assert_eq!(
        cred.display_name,
        Nullable::Value("Linear (alice)".to_owned())
    );
    let CredentialAuth::McpOauth(auth) = &cred.auth else {
        panic!("expected mcp_oauth, got {:?}", cred.auth);
    };
    let refresh = auth.refresh.value().expect("refresh block");
    assert_eq!(
        refresh.token_endpoint_auth,
        TokenEndpointAuth::ClientSecretBasic(Default::default())
    );
    assert_eq!(refresh.scope, Nullable::Value("read write".to_owned()));

    let nulls: Credential = roundtrip("objects/credential_mcp_oauth_nulls.json");
    assert_eq!(nulls.display_name, Nullable::Null);
    let CredentialAuth::McpOauth(auth) = &nulls.auth else {
        panic!("expected mcp_oauth");
    };
    assert_eq!(
        (auth.expires_at.is_null(), auth.refresh.is_null()),
        (true, true)
    );

    let minimal: Credential = roundtrip("objects/credential_mcp_oauth_minimal.json");
    assert_eq!(minimal.display_name, Nullable::Absent);
    let CredentialAuth::McpOauth(auth) = &minimal.auth else {
        panic!("expected mcp_oauth");
    };
    assert_eq!(auth.expires_at, Nullable::Absent);
    let refresh = auth.refresh.value().expect("refresh block");
    assert_eq!(
        refresh.token_endpoint_auth,
        TokenEndpointAuth::None(Default::default())
    );
    assert_eq!(
        (refresh.resource.is_absent(), refresh.scope.is_absent()),
        (true, true)
    );
}

#[test]
fn other_credentials_round_trip() {
    let bearer: Credential = roundtrip("objects/credential_static_bearer.json");
    assert_eq!(bearer.auth.type_name(), "static_bearer");

    let env: Credential = roundtrip("objects/credential_environment_variable.json");
    let CredentialAuth::EnvironmentVariable(auth) = &env.auth else {
        panic!("expected environment_variable");
    };
    assert_eq!(auth.secret_name, "STRIPE_API_KEY");
    assert_eq!(
        auth.injection_location,
        InjectionLocation {
            body: false,
            header: true
        }
    );
    assert_eq!(
        auth.networking,
        CredentialNetworking::Limited(LimitedNetworking {
            allowed_hosts: vec![
                "api.stripe.com".into(),
                "*.stripe.network".into(),
                "192.0.2.10".into()
            ]
        })
    );
    let open: Credential = roundtrip("objects/credential_environment_variable_unrestricted.json");
    let CredentialAuth::EnvironmentVariable(auth) = &open.auth else {
        panic!("expected environment_variable");
    };
    assert_eq!(auth.networking.type_name(), "unrestricted");

    let deleted: DeletedCredential = roundtrip("objects/credential_deleted.json");
    assert_eq!(deleted.kind, DeletedType::VaultCredential);
}

#[test]
fn unknown_credential_auth_round_trips_losslessly() {
    let cred: Credential = roundtrip("objects/credential_unknown_auth.json");
    assert!(cred.auth.is_unknown());
    assert_eq!(cred.auth.type_name(), "aws_sigv4");
    assert_eq!(
        serde_json::to_value(&cred.auth).unwrap(),
        fixture("objects/credential_unknown_auth.json")["auth"]
    );
    // The same holds inside a list page.
    let page = serde_json::json!({
        "data": [fixture("objects/credential_unknown_auth.json"), fixture("objects/credential_static_bearer.json")],
        "next_page": null
    });
    let parsed: Page<Credential> = serde_json::from_value(page.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), page);
}

#[test]
fn validations_round_trip() {
    let invalid: CredentialValidation = roundtrip("objects/credential_validation.json");
    assert_eq!(invalid.status, CredentialValidationStatus::Invalid);
    let probe = invalid.mcp_probe.as_ref().expect("probe");
    assert_eq!(probe.method, "initialize");
    assert_eq!(
        probe.http_response.as_ref().map(|r| r.status_code),
        Some(401)
    );
    let refresh = invalid.refresh.as_ref().expect("refresh");
    assert_eq!(refresh.status, RefreshStatus::Failed);
    assert_eq!(
        refresh.http_response.as_ref().map(|r| r.body_truncated),
        Some(true)
    );

    let valid: CredentialValidation = roundtrip("objects/credential_validation_valid.json");
    assert_eq!(valid.status, CredentialValidationStatus::Valid);
    assert_eq!((valid.mcp_probe, valid.refresh), (None, None));

    // The wire value "unknown" is a known status, not an unknown one.
    let unsure: CredentialValidation = roundtrip("objects/credential_validation_unknown.json");
    assert_eq!(unsure.status, CredentialValidationStatus::Inconclusive);
    assert!(!unsure.status.is_unknown());
    assert_eq!(
        unsure.refresh.map(|r| r.status),
        Some(RefreshStatus::ConnectError)
    );
}

#[test]
fn vault_requests_round_trip() {
    let create: VaultCreate = roundtrip("params/vault_create.json");
    assert_eq!(create.display_name, "Acme production");
    let minimal: VaultCreate = roundtrip("params/vault_create_minimal.json");
    assert_eq!(minimal.metadata, None);
    let update: VaultUpdate = roundtrip("params/vault_update.json");
    assert_eq!(
        update.metadata.value().and_then(|m| m.get("team")),
        Some(&None)
    );
    assert_eq!(
        serde_json::to_string(&VaultUpdate::default()).unwrap(),
        "{}"
    );
    let list: VaultListParams = roundtrip("params/vault_list.json");
    assert_eq!(list.include_archived, Some(false));
    let list: CredentialListParams = roundtrip("params/credential_list.json");
    assert_eq!((list.include_archived, list.limit), (Some(true), Some(100)));
}

#[test]
fn credential_creates_round_trip() {
    let oauth: CredentialCreate = roundtrip("params/credential_create_mcp_oauth.json");
    let expected = CredentialCreate {
        auth: McpOauthCreate {
            access_token: Secret::new("lin_oauth_AT_9f8e7d6c5b4a"),
            mcp_server_url: "https://mcp.linear.app/sse".into(),
            expires_at: Nullable::Value(steward_core::Timestamp::new("2026-04-03T09:00:00Z")),
            refresh: Nullable::Value(McpOauthRefreshCreate {
                client_id: "steward-client".into(),
                refresh_token: "lin_oauth_RT_1a2b3c4d5e6f".into(),
                token_endpoint: "https://linear.app/oauth/token".into(),
                token_endpoint_auth: ClientSecretPostCreate {
                    client_secret: "cs_live_5up3r53cr3t".into(),
                }
                .into(),
                resource: Nullable::Value("https://mcp.linear.app".into()),
                scope: Nullable::Value("read write".into()),
            }),
        }
        .into(),
        display_name: Nullable::Value("Linear (alice)".into()),
        metadata: Some([("owner".to_owned(), "ops".to_owned())].into()),
    };
    assert_eq!(oauth, expected);

    let public: CredentialCreate =
        roundtrip("params/credential_create_mcp_oauth_public_client.json");
    let CredentialAuthCreate::McpOauth(auth) = &public.auth else {
        panic!("expected mcp_oauth");
    };
    assert_eq!(auth.expires_at, Nullable::Null);
    assert_eq!(
        auth.refresh.value().map(|r| &r.token_endpoint_auth),
        Some(&TokenEndpointAuthCreate::None(Default::default()))
    );

    let bearer: CredentialCreate = roundtrip("params/credential_create_static_bearer.json");
    assert_eq!(
        bearer.auth,
        CredentialAuthCreate::StaticBearer(StaticBearerCreate {
            token: "ghp_EXAMPLEexampleEXAMPLE0123".into(),
            mcp_server_url: "https://api.githubcopilot.com/mcp/".into(),
        })
    );

    let env: CredentialCreate = roundtrip("params/credential_create_environment_variable.json");
    let CredentialAuthCreate::EnvironmentVariable(EnvironmentVariableCreate {
        secret_value,
        injection_location,
        ..
    }) = &env.auth
    else {
        panic!("expected environment_variable");
    };
    assert_eq!(secret_value.expose(), "sk_test_51HxEXAMPLEsecret");
    assert_eq!(
        *injection_location,
        Some(InjectionLocationParams {
            body: None,
            header: Some(true)
        })
    );
}

#[test]
fn credential_updates_round_trip() {
    let oauth: CredentialUpdate = roundtrip("params/credential_update_mcp_oauth.json");
    assert_eq!(
        oauth.auth,
        Some(CredentialAuthUpdate::McpOauth(McpOauthUpdate {
            access_token: Nullable::Value("lin_oauth_AT_new_777".into()),
            expires_at: Nullable::Value(steward_core::Timestamp::new("2026-04-04T09:00:00Z")),
            refresh: Nullable::Value(McpOauthRefreshUpdate {
                refresh_token: Nullable::Value("lin_oauth_RT_new_888".into()),
                scope: Nullable::Value(String::new()),
                token_endpoint_auth: Some(TokenEndpointAuthUpdate::ClientSecretBasic(
                    ClientSecretBasicUpdate {
                        client_secret: Nullable::Value("cs_rotated_999".into()),
                    }
                )),
            }),
        }))
    );

    let bearer: CredentialUpdate = roundtrip("params/credential_update_static_bearer.json");
    assert_eq!(
        bearer.auth,
        Some(CredentialAuthUpdate::StaticBearer(StaticBearerUpdate {
            token: Nullable::Value("ghp_ROTATEDrotated0456".into()),
        }))
    );

    let env: CredentialUpdate = roundtrip("params/credential_update_environment_variable.json");
    let Some(CredentialAuthUpdate::EnvironmentVariable(auth)) = &env.auth else {
        panic!("expected environment_variable");
    };
    assert_eq!(
        auth.networking.value().map(|n| n.type_name()),
        Some("unrestricted")
    );

    let meta: CredentialUpdate = roundtrip("params/credential_update_metadata.json");
    assert_eq!(meta.auth, None);
    assert_eq!(meta.display_name, Nullable::Value("Renamed".into()));

    let nulls: CredentialUpdate = roundtrip("params/credential_update_nulls.json");
    assert!(nulls.display_name.is_null() && nulls.metadata.is_null());
    let Some(CredentialAuthUpdate::McpOauth(auth)) = &nulls.auth else {
        panic!("expected mcp_oauth");
    };
    assert!(auth.access_token.is_null() && auth.expires_at.is_null() && auth.refresh.is_null());

    assert_eq!(
        serde_json::to_string(&CredentialUpdate::default()).unwrap(),
        "{}"
    );
}

#[test]
fn debug_never_prints_secrets() {
    for rel in [
        "params/credential_create_mcp_oauth.json",
        "params/credential_create_mcp_oauth_public_client.json",
        "params/credential_create_static_bearer.json",
        "params/credential_create_environment_variable.json",
    ] {
        let create: CredentialCreate = roundtrip(rel);
        let debug = format!("{create:?}");
        assert_no_secret(&debug);
        assert!(debug.contains("[redacted]"), "{debug}");
        let pretty = format!("{create:#?}");
        assert_no_secret(&pretty);
    }
    for rel in [
        "params/credential_update_mcp_oauth.json",
        "params/credential_update_static_bearer.json",
        "params/credential_update_environment_variable.json",
    ] {
        let update: CredentialUpdate = roundtrip(rel);
        let debug = format!("{update:?}");
        assert_no_secret(&debug);
        assert!(debug.contains("[redacted]"), "{debug}");
    }
    // The serialized body still carries the secret: it is the request.
    let bearer: CredentialCreate = roundtrip("params/credential_create_static_bearer.json");
    assert!(
        serde_json::to_string(&bearer)
            .unwrap()
            .contains("ghp_EXAMPLEexampleEXAMPLE0123")
    );
    // Non-secret fields are still shown.
    assert!(format!("{bearer:?}").contains("https://api.githubcopilot.com/mcp/"));
}

#[test]
fn unknown_request_auth_is_kept_but_not_printed() {
    let raw = serde_json::json!({
        "auth": {"type": "aws_sigv4", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
        "display_name": "AWS"
    });
    let create: CredentialCreate = serde_json::from_value(raw.clone()).unwrap();
    assert!(create.auth.is_unknown());
    assert_eq!(create.auth.type_name(), "aws_sigv4");
    assert_eq!(serde_json::to_value(&create).unwrap(), raw);
    let debug = format!("{create:?}");
    assert!(!debug.contains("wJalrXUtnFEMI"), "{debug}");
    assert!(debug.contains("aws_sigv4"), "{debug}");

    let update: CredentialUpdate =
        serde_json::from_value(serde_json::json!({"auth": {"type": "x", "key": "hunter2"}}))
            .unwrap();
    assert!(!format!("{update:?}").contains("hunter2"));
}

#[test]
fn constructors_build_the_documented_body() {
    let create = CredentialCreate::new(StaticBearerCreate {
        token: Secret::new("t0k"),
        mcp_server_url: "https://mcp.example.com".into(),
    });
    assert_eq!(
        serde_json::to_value(&create).unwrap(),
        serde_json::json!({"auth": {"type": "static_bearer", "token": "t0k", "mcp_server_url": "https://mcp.example.com"}})
    );
    assert_eq!(format!("{:?}", Secret::new("t0k")), "[redacted]");
}

#[test]
fn bad_input_names_the_field() {
    let err = parse_error::<CredentialCreate>(
        r#"{"auth":{"type":"static_bearer","mcp_server_url":"https://x"}}"#,
    );
    assert!(
        err.contains("invalid `static_bearer`") && err.contains("missing field `token`"),
        "{err}"
    );
    let err = parse_error::<CredentialCreate>(r#"{"display_name":"x"}"#);
    assert!(err.contains("missing field `auth`"), "{err}");
    let err = parse_error::<CredentialCreate>(
        r#"{"auth":{"type":"environment_variable","secret_name":"A","secret_value":"s","networking":{"type":"limited"}}}"#,
    );
    assert!(err.contains("missing field `allowed_hosts`"), "{err}");
    let err = parse_error::<CredentialCreate>(
        r#"{"auth":{"type":"mcp_oauth","access_token":"a","mcp_server_url":"u","refresh":{"client_id":"c","refresh_token":"r","token_endpoint":"t","token_endpoint_auth":{"type":"client_secret_basic"}}}}"#,
    );
    assert!(err.contains("missing field `client_secret`"), "{err}");
    // A secret of the wrong type is an error that names neither the value nor a secret.
    let err = parse_error::<CredentialCreate>(
        r#"{"auth":{"type":"static_bearer","mcp_server_url":"u","token":12345}}"#,
    );
    assert!(err.contains("invalid type: integer `12345`"), "{err}");
    let err = parse_error::<Credential>(r#"{"id":"vcrd_1","type":"vault_credential"}"#);
    assert!(err.contains("missing field"), "{err}");
    let err = parse_error::<CredentialValidation>(
        r#"{"type":"vault_credential_validation","credential_id":"c","vault_id":"v","status":"valid","has_refresh_token":"yes","mcp_probe":null,"refresh":null,"validated_at":"t"}"#,
    );
    assert!(
        err.contains("invalid type: string \"yes\", expected a boolean"),
        "{err}"
    );
    let err = parse_error::<CredentialUpdate>(r#"{"auth":{"token":"x"}}"#);
    assert!(
        err.contains("missing field `type` of CredentialAuthUpdate"),
        "{err}"
    );
}
