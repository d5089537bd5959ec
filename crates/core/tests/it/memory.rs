//! Memory stores, memories and memory versions: every fixture round-trips, absent and `null` stay
//! apart, unknown actors and list items survive, and bad input names the field.

use pretty_assertions::assert_eq;
use steward_core::memory::{
    Actor, ApiActor, ContentSha256Precondition, DeletedMemory, DeletedMemoryStore, Memory,
    MemoryCreate, MemoryDeleteParams, MemoryListItem, MemoryListParams, MemoryOperation,
    MemoryPrefix, MemoryRetrieveParams, MemoryStore, MemoryStoreCreate, MemoryStoreListParams,
    MemoryStoreType, MemoryStoreUpdate, MemoryUpdate, MemoryVersion, MemoryVersionListParams,
    MemoryView, Precondition, ServiceAccountActor, SessionActor, UserActor,
};
use steward_core::{DeletedType, Nullable, Page};

use crate::support::{parse_error, roundtrip};

#[test]
fn memory_stores_round_trip() {
    let store: MemoryStore = roundtrip("objects/memory_store.json");
    assert_eq!(store.id, "memstore_01Hx7QdZ3kV9mN2pR4sT6uW8yA");
    assert_eq!(store.kind, MemoryStoreType::MemoryStore);
    assert_eq!(
        store.metadata.get("tenant").map(String::as_str),
        Some("acme")
    );
    assert_eq!(store.archived_at, None);

    let archived: MemoryStore = roundtrip("objects/memory_store_archived.json");
    assert_eq!(archived.description, "");
    assert_eq!(
        archived.archived_at.as_ref().map(|t| t.as_str()),
        Some("2026-03-01T12:30:45.5Z")
    );

    let deleted: DeletedMemoryStore = roundtrip("objects/memory_store_deleted.json");
    assert_eq!(deleted.kind, DeletedType::MemoryStore);
}

#[test]
fn memories_keep_absent_null_and_content_apart() {
    let full: Memory = roundtrip("objects/memory.json");
    let content = full.content.value().expect("full view has content");
    assert_eq!(content.len() as u64, full.content_size_bytes);
    assert_eq!(full.memory_version_id, "memver_01Hx8A9z8Y7x6W5v4U3t2S1r0Q");

    let basic: Memory = roundtrip("objects/memory_basic.json");
    assert_eq!(basic.content, Nullable::Null);
    assert_eq!(basic.content_sha256, full.content_sha256);

    let absent: Memory = roundtrip("objects/memory_content_absent.json");
    assert_eq!(absent.content, Nullable::Absent);
    assert_eq!(absent.content_size_bytes, 0);

    let deleted: DeletedMemory = roundtrip("objects/memory_deleted.json");
    assert_eq!(deleted.kind, DeletedType::Memory);
}

#[test]
fn list_pages_mix_memories_prefixes_and_unknown_items() {
    let prefix: MemoryPrefix = roundtrip("objects/memory_prefix.json");
    assert_eq!(prefix.path, "/projects/steward/");

    let page: Page<MemoryListItem> = roundtrip("objects/memory_list_page.json");
    assert_eq!(page.next_page.as_deref(), Some("page_eyJvIjoyfQ"));
    let types: Vec<_> = page.data.iter().map(MemoryListItem::type_name).collect();
    assert_eq!(types, ["memory_prefix", "memory", "memory_symlink"]);
    let paths: Vec<_> = page.data.iter().map(MemoryListItem::path).collect();
    assert_eq!(
        paths,
        [Some("/projects/"), Some("/todo.md"), Some("/latest")]
    );
    assert!(matches!(&page.data[0], MemoryListItem::Prefix(_)));
    assert!(matches!(&page.data[1], MemoryListItem::Memory(m) if m.content.is_null()));
    assert!(matches!(&page.data[2], MemoryListItem::Unknown(_)));
}

#[test]
fn memory_versions_round_trip() {
    let version: MemoryVersion = roundtrip("objects/memory_version.json");
    assert_eq!(version.operation, MemoryOperation::Modified);
    assert_eq!(
        version.created_by,
        Nullable::Value(Actor::Session(SessionActor {
            session_id: "sesn_01Hx8C0aBcDeFgHiJkLmNoPq".into()
        }))
    );
    assert!(!version.is_redacted());
    assert_eq!(version.redacted_by, Nullable::Null);

    let redacted: MemoryVersion = roundtrip("objects/memory_version_redacted.json");
    assert!(redacted.is_redacted());
    for field in [&redacted.path, &redacted.content, &redacted.content_sha256] {
        assert_eq!(*field, Nullable::Null);
    }
    assert_eq!(redacted.content_size_bytes, Nullable::Null);
    assert_eq!(
        redacted.created_by,
        Nullable::Value(Actor::Api(ApiActor {
            api_key_id: "apikey_01Hx6ZzYyXxWwVvUuTtSsRrQq".into()
        }))
    );
    assert_eq!(
        redacted.redacted_by,
        Nullable::Value(Actor::User(UserActor {
            user_id: "user_01Hx5AaBbCcDdEeFfGgHhIiJj".into()
        }))
    );

    let deleted: MemoryVersion = roundtrip("objects/memory_version_deleted.json");
    assert_eq!(deleted.operation, MemoryOperation::Deleted);
    assert_eq!(
        deleted.path.value().map(String::as_str),
        Some("/projects/steward/notes.md")
    );
    assert_eq!(
        deleted.created_by,
        Nullable::Value(Actor::ServiceAccount(ServiceAccountActor {
            service_account_id: "svac_01Hx4KkLlMmNnOoPpQqRrSsTt".into()
        }))
    );

    let minimal: MemoryVersion = roundtrip("objects/memory_version_minimal.json");
    assert_eq!(minimal.path, Nullable::Absent);
    assert_eq!(minimal.created_by, Nullable::Absent);
    assert_eq!(minimal.redacted_at, Nullable::Absent);
}

#[test]
fn unknown_actors_and_operations_round_trip_losslessly() {
    let version: MemoryVersion = roundtrip("objects/memory_version_unknown_actor.json");
    assert_eq!(
        version.operation,
        MemoryOperation::Unknown("reverted".into())
    );
    let actor = version.created_by.value().expect("created_by is set");
    assert!(actor.is_unknown());
    assert_eq!(actor.type_name(), "workflow_actor");
    assert_eq!(
        serde_json::to_value(actor).unwrap(),
        serde_json::json!({
            "type": "workflow_actor",
            "workflow_run_id": "wfrun_01Hx9",
            "phase": {"index": 2, "name": "review"}
        })
    );
    assert_eq!(
        Actor::KNOWN_TYPES,
        [
            "session_actor",
            "api_actor",
            "user_actor",
            "service_account_actor"
        ]
    );
}

#[test]
fn unknown_fields_on_known_objects_are_tolerated() {
    let mut raw = crate::support::fixture("objects/memory_version.json");
    raw["restored_from"] = serde_json::json!("memver_0");
    let version: MemoryVersion = serde_json::from_value(raw).unwrap();
    let known: MemoryVersion = roundtrip("objects/memory_version.json");
    assert_eq!(version, known);
}

#[test]
fn memory_store_requests_round_trip() {
    let create: MemoryStoreCreate = roundtrip("params/memory_store_create.json");
    assert_eq!(create.name, "User preferences");
    let minimal: MemoryStoreCreate = roundtrip("params/memory_store_create_minimal.json");
    assert_eq!(
        minimal,
        MemoryStoreCreate {
            name: "scratch".into(),
            ..Default::default()
        }
    );

    let update: MemoryStoreUpdate = roundtrip("params/memory_store_update.json");
    assert_eq!(update.description, Nullable::Value(String::new()));
    let patch = update.metadata.value().expect("metadata patch");
    assert_eq!(patch.get("tenant"), Some(&None));
    assert_eq!(patch.get("user"), Some(&Some("u-1843".to_owned())));
    let nulls: MemoryStoreUpdate = roundtrip("params/memory_store_update_nulls.json");
    assert!(nulls.name.is_null() && nulls.description.is_null() && nulls.metadata.is_null());
    assert_eq!(
        serde_json::to_string(&MemoryStoreUpdate::default()).unwrap(),
        "{}"
    );

    let list: MemoryStoreListParams = roundtrip("params/memory_store_list.json");
    assert_eq!(list.include_archived, Some(true));
    assert_eq!(
        list.created_at_gte.as_ref().map(|t| t.as_str()),
        Some("2026-04-01T00:00:00Z")
    );
}

#[test]
fn memory_requests_round_trip() {
    let create: MemoryCreate = roundtrip("params/memory_create.json");
    assert_eq!(create.path, "/projects/steward/notes.md");
    let empty: MemoryCreate = roundtrip("params/memory_create_empty.json");
    assert_eq!(empty, MemoryCreate::new("/empty.md", ""));
    let null: MemoryCreate = roundtrip("params/memory_create_null_content.json");
    assert_eq!(null.content, None);

    let update: MemoryUpdate = roundtrip("params/memory_update.json");
    assert_eq!(
        update.precondition,
        Some(Precondition::content_sha256(
            "0c1024445c1d61a597d635afa45d5721f281ac7a23cbc19dfcfd5d85db350427"
        ))
    );
    let rename: MemoryUpdate = roundtrip("params/memory_update_rename.json");
    assert_eq!(rename.content, Nullable::Absent);
    assert_eq!(rename.precondition, None);
    let bare: MemoryUpdate = roundtrip("params/memory_update_precondition_bare.json");
    assert_eq!(
        bare.precondition,
        Some(Precondition::ContentSha256(
            ContentSha256Precondition::default()
        ))
    );

    let list: MemoryListParams = roundtrip("params/memory_list.json");
    assert_eq!((list.depth, list.view), (Some(1), Some(MemoryView::Full)));
    let retrieve: MemoryRetrieveParams = roundtrip("params/memory_retrieve.json");
    assert_eq!(retrieve.view, Some(MemoryView::Basic));
    let delete: MemoryDeleteParams = roundtrip("params/memory_delete.json");
    assert_eq!(delete.expected_content_sha256.map(|s| s.len()), Some(64));
}

#[test]
fn memory_version_list_query_uses_bracketed_keys() {
    let list: MemoryVersionListParams = roundtrip("params/memory_version_list.json");
    assert_eq!(list.operation, Some(MemoryOperation::Modified));
    let query = MemoryVersionListParams {
        memory_id: Some("mem_1".into()),
        created_at_lte: Some(steward_core::Timestamp::new("2026-04-08T00:00:00Z")),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&query).unwrap(),
        serde_json::json!({"memory_id": "mem_1", "created_at[lte]": "2026-04-08T00:00:00Z"})
    );
}

#[test]
fn bad_input_names_the_field() {
    let err = parse_error::<Memory>(
        r#"{"id":"mem_1","type":"memory","memory_store_id":"memstore_1","path":"/a","content_sha256":"x","memory_version_id":"memver_1","created_at":"t","updated_at":"t"}"#,
    );
    assert!(err.contains("missing field `content_size_bytes`"), "{err}");

    let err = parse_error::<Memory>(
        r#"{"id":"mem_1","type":"memory","memory_store_id":"memstore_1","path":"/a","content_sha256":"x","content_size_bytes":-1,"memory_version_id":"memver_1","created_at":"t","updated_at":"t"}"#,
    );
    assert!(err.contains("invalid value: integer `-1`"), "{err}");

    let err = parse_error::<MemoryListItem>(r#"{"type":"memory_prefix"}"#);
    assert!(
        err.contains("invalid `memory_prefix`") && err.contains("missing field `path`"),
        "{err}"
    );
    let err = parse_error::<MemoryListItem>(r#"{"path":"/a/"}"#);
    assert!(err.contains("missing field `type`"), "{err}");

    let err = parse_error::<Actor>(r#"{"type":"session_actor","id":"sesn_1"}"#);
    assert!(
        err.contains("invalid `session_actor`") && err.contains("missing field `session_id`"),
        "{err}"
    );

    let err = parse_error::<MemoryCreate>(r#"{"content":"x"}"#);
    assert!(err.contains("missing field `path`"), "{err}");

    let err = parse_error::<MemoryUpdate>(r#"{"precondition":{"content_sha256":"x"}}"#);
    assert!(err.contains("missing field `type`"), "{err}");

    let err = parse_error::<MemoryStoreCreate>(r#"{"name":"n","metadata":{"k":1}}"#);
    assert!(err.contains("invalid type: integer `1`"), "{err}");
}
