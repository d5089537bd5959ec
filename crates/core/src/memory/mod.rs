//! Memory stores, memories and memory versions (`/v1/memory_stores/…`, beta
//! [`AGENT_MEMORY_BETA`](crate::AGENT_MEMORY_BETA)).
//!
//! A [`MemoryStore`] is a named container of [`Memory`] text documents addressed by path; every
//! change to a memory adds a [`MemoryVersion`] recording who made it ([`Actor`]). The path rules
//! live in [`path`] and are re-exported here.
//!
//! Objects with a constant `type` (`"memory_store"`, `"memory"`, …) keep it in a `kind` field of a
//! one-value open enum such as [`MemoryStoreType`], whose `Default` is the expected value: a value
//! built in Rust needs no string, and a parsed one still serializes back as sent.
//!
//! Query structs (`*ListParams`, [`MemoryRetrieveParams`], [`MemoryDeleteParams`]) repeat `limit`
//! and `page` instead of flattening [`PageParams`](crate::PageParams): `serde(flatten)` breaks
//! non-string fields under URL-encoded query decoding.

pub mod path;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::common::{Deleted, Metadata, MetadataPatch, Timestamp};
use crate::ids::{
    ApiKeyId, MemoryId, MemoryStoreId, MemoryVersionId, ServiceAccountId, SessionId, UserId,
};
use crate::nullable::Nullable;

pub use path::{
    MEMORY_CONTENT_MAX_BYTES, MEMORY_PATH_MAX_BYTES, MEMORY_PATH_MAX_SEGMENTS, MemoryPathError,
    paths_conflict, validate_memory_path, validate_memory_path_prefix,
};

/// Defines the one-value open enum used as the `type` of an object, with that value as `Default`.
macro_rules! object_type {
    ($(#[$meta:meta])* $name:ident { $variant:ident = $value:literal }) => {
        crate::open_enum! {
            $(#[$meta])*
            pub enum $name {
                #[doc = concat!("`\"", $value, "\"`.")]
                $variant = $value,
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::$variant
            }
        }
    };
}
pub(crate) use object_type;

object_type! {
    /// The `type` of a [`MemoryStore`]: `"memory_store"`.
    MemoryStoreType { MemoryStore = "memory_store" }
}
object_type! {
    /// The `type` of a [`Memory`]: `"memory"`.
    MemoryType { Memory = "memory" }
}
object_type! {
    /// The `type` of a [`MemoryPrefix`]: `"memory_prefix"`.
    MemoryPrefixType { MemoryPrefix = "memory_prefix" }
}
object_type! {
    /// The `type` of a [`MemoryVersion`]: `"memory_version"`.
    MemoryVersionType { MemoryVersion = "memory_version" }
}

/// A `memory_store`: a named container for agent memories, scoped to a workspace. Attaching it to
/// a session (`resources[]`) mounts it under `/mnt/memory/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryStore {
    /// The store's ID (`memstore_…`).
    pub id: MemoryStoreId,
    /// Always `"memory_store"`.
    #[serde(rename = "type")]
    pub kind: MemoryStoreType,
    /// Human-readable name, 1–255 characters, not unique; the mount path slug derives from it.
    pub name: String,
    /// What the store contains, up to 1024 characters, shown to the agent; `""` when unset.
    pub description: String,
    /// Key-value pairs for the caller's own use (the agent never sees them).
    pub metadata: Metadata,
    /// When the store was created.
    pub created_at: Timestamp,
    /// When the name, description or metadata last changed, or the store was archived (memory
    /// edits do not count).
    pub updated_at: Timestamp,
    /// When the store was archived (irreversible), or `null`.
    pub archived_at: Option<Timestamp>,
}

/// A `memory`: a text document at a path inside a memory store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// The memory's ID (`mem_…`); it stays the same across renames.
    pub id: MemoryId,
    /// Always `"memory"`.
    #[serde(rename = "type")]
    pub kind: MemoryType,
    /// The store holding the memory.
    pub memory_store_id: MemoryStoreId,
    /// Path within the store, such as `/projects/foo/notes.md` (see [`validate_memory_path`]).
    pub path: String,
    /// The UTF-8 content (at most [`MEMORY_CONTENT_MAX_BYTES`]); `null` under `view=basic`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub content: Nullable<String>,
    /// Lowercase hex SHA-256 of the UTF-8 content bytes; always set, whatever the view.
    pub content_sha256: String,
    /// Size of the content in UTF-8 bytes; always set, whatever the view.
    pub content_size_bytes: u64,
    /// The version holding the current content (`memver_…`); versions have no "latest" flag.
    pub memory_version_id: MemoryVersionId,
    /// When the memory was created.
    pub created_at: Timestamp,
    /// When the memory last changed.
    pub updated_at: Timestamp,
}

/// A `memory_prefix`: a directory marker List Memories returns with `depth=1` in place of the
/// memories below it. It is not stored and has no ID; it counts toward the page `limit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryPrefix {
    /// Always `"memory_prefix"`.
    #[serde(rename = "type")]
    pub kind: MemoryPrefixType,
    /// The rolled-up prefix with its trailing `/` (`/projects/foo/`); pass it as `path_prefix` to
    /// list that directory.
    pub path: String,
}

/// One item of a List Memories page: a [`Memory`], or a [`MemoryPrefix`] when `depth` is `1`.
///
/// Written by hand rather than with [`open_union!`](crate::open_union) because both known variants
/// are also standalone objects that keep their own `type` field.
#[derive(Debug, Clone, PartialEq)]
pub enum MemoryListItem {
    /// A memory.
    Memory(Memory),
    /// A directory marker.
    Prefix(MemoryPrefix),
    /// An item whose `type` this version does not know, kept as sent.
    Unknown(serde_json::Value),
}

impl MemoryListItem {
    /// Every `type` tag this version knows.
    pub const KNOWN_TYPES: &'static [&'static str] = &["memory", "memory_prefix"];

    /// The `type` tag of this item (for `Unknown`, the tag as sent, or `""`).
    pub fn type_name(&self) -> &str {
        match self {
            Self::Memory(_) => "memory",
            Self::Prefix(_) => "memory_prefix",
            Self::Unknown(raw) => raw.get("type").and_then(|t| t.as_str()).unwrap_or(""),
        }
    }

    /// The path of the memory or prefix (`None` for an unknown item without a string `path`).
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Memory(memory) => Some(&memory.path),
            Self::Prefix(prefix) => Some(&prefix.path),
            Self::Unknown(raw) => raw.get("path").and_then(|p| p.as_str()),
        }
    }
}

impl From<Memory> for MemoryListItem {
    fn from(memory: Memory) -> Self {
        Self::Memory(memory)
    }
}

impl From<MemoryPrefix> for MemoryListItem {
    fn from(prefix: MemoryPrefix) -> Self {
        Self::Prefix(prefix)
    }
}

impl Serialize for MemoryListItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Memory(memory) => memory.serialize(serializer),
            Self::Prefix(prefix) => prefix.serialize(serializer),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for MemoryListItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        let tag = match raw.get("type") {
            Some(serde_json::Value::String(tag)) => tag.as_str(),
            Some(_) => {
                return Err(D::Error::custom(
                    "invalid `type` of MemoryListItem: expected a string",
                ));
            }
            None if raw.is_object() => {
                return Err(D::Error::custom("missing field `type` of MemoryListItem"));
            }
            None => {
                return Err(D::Error::custom(
                    "invalid MemoryListItem: expected an object",
                ));
            }
        };
        match tag {
            "memory" => crate::open::decode::<Memory>(&raw)
                .map(Self::Memory)
                .map_err(|e| D::Error::custom(format_args!("invalid `memory`: {e}"))),
            "memory_prefix" => crate::open::decode::<MemoryPrefix>(&raw)
                .map(Self::Prefix)
                .map_err(|e| D::Error::custom(format_args!("invalid `memory_prefix`: {e}"))),
            _ => Ok(Self::Unknown(raw)),
        }
    }
}

crate::open_enum! {
    /// Whether a memory or memory version in a response includes its `content`. Retrieves default
    /// to `full`; lists, create and update default to `basic`.
    pub enum MemoryView {
        /// `content` is `null`; `content_size_bytes` and `content_sha256` stay set.
        Basic = "basic",
        /// `content` is included; lists then return at most 20 items per page.
        Full = "full",
    }
}

crate::open_enum! {
    /// The kind of change a memory version records.
    pub enum MemoryOperation {
        /// The memory was created: the first version of every memory.
        Created = "created",
        /// The content, the path or both changed (agent writes through the mount count here too).
        Modified = "modified",
        /// The memory was deleted; content, size and hash are `null` on this version.
        Deleted = "deleted",
    }
}

/// An agent acting in a session, for example through the mounted store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionActor {
    /// The session (`sesn_…`).
    pub session_id: SessionId,
}

/// A direct API caller, identified by its API key (not the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiActor {
    /// The API key's ID (`apikey_…`).
    pub api_key_id: ApiKeyId,
}

/// A human user, for example in the Console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserActor {
    /// The user's ID (`user_…`).
    pub user_id: UserId,
}

/// A workload authenticated as a service account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountActor {
    /// The service account's ID (`svac_…`).
    pub service_account_id: ServiceAccountId,
}

crate::open_union! {
    /// Who performed an operation; recorded when it happened and never updated, so the ID may
    /// name something since deleted.
    pub enum Actor {
        /// An agent in a session.
        "session_actor" => Session(SessionActor),
        /// An API key.
        "api_actor" => Api(ApiActor),
        /// A human user.
        "user_actor" => User(UserActor),
        /// A service account.
        "service_account_actor" => ServiceAccount(ServiceAccountActor),
    }
}

/// A `memory_version`: one change to a memory and who made it. Versions belong to the store and
/// outlive the memory; only redaction changes one after it is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryVersion {
    /// The version's ID (`memver_…`).
    pub id: MemoryVersionId,
    /// Always `"memory_version"`.
    #[serde(rename = "type")]
    pub kind: MemoryVersionType,
    /// The memory this version belongs to; valid after the memory is deleted.
    pub memory_id: MemoryId,
    /// The store this version belongs to.
    pub memory_store_id: MemoryStoreId,
    /// What kind of change this version records.
    pub operation: MemoryOperation,
    /// The memory's path at this write; `null` if and only if the version is redacted.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub path: Nullable<String>,
    /// The content as of this version; `null` under `view=basic`, on `deleted`, or when redacted.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub content: Nullable<String>,
    /// SHA-256 of the content; `null` when redacted or on `deleted`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub content_sha256: Nullable<String>,
    /// Size of the content in bytes; `null` when redacted or on `deleted`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub content_size_bytes: Nullable<u64>,
    /// When this version was written.
    pub created_at: Timestamp,
    /// Who made the change, or `null` when not recorded; redaction does not change it.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub created_by: Nullable<Actor>,
    /// When the version was redacted, or `null`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub redacted_at: Nullable<Timestamp>,
    /// Who redacted the version, or `null` (an API, user or service-account actor in practice).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub redacted_by: Nullable<Actor>,
}

impl MemoryVersion {
    /// Whether the version has been redacted.
    pub fn is_redacted(&self) -> bool {
        self.redacted_at.value().is_some()
    }
}

/// The condition of a `content_sha256` precondition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentSha256Precondition {
    /// Expected `content_sha256` of the stored memory (64 lowercase hex characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
}

crate::open_union! {
    /// A condition the memory must meet for an update to apply; it refers to the current
    /// content even when the update renames the memory. A failed one is a 409
    /// `memory_precondition_failed_error`.
    pub enum Precondition {
        /// The stored content must hash to `content_sha256`.
        "content_sha256" => ContentSha256(ContentSha256Precondition),
    }
}

impl Precondition {
    /// A precondition that the stored content hashes to `sha256` (lowercase hex).
    pub fn content_sha256(sha256: impl Into<String>) -> Self {
        Self::ContentSha256(ContentSha256Precondition {
            content_sha256: Some(sha256.into()),
        })
    }
}

/// The receipt of Delete a Memory Store: `{id, type: "memory_store_deleted"}`.
pub type DeletedMemoryStore = Deleted<MemoryStoreId>;

/// The receipt of Delete a Memory: `{id, type: "memory_deleted"}`.
pub type DeletedMemory = Deleted<MemoryId>;

/// Body of `POST /v1/memory_stores`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryStoreCreate {
    /// Name, 1–255 characters without control characters; need not be unique.
    pub name: String,
    /// What the store contains, up to 1024 characters; shown to the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Key-value pairs for the caller (at most 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Body of `POST /v1/memory_stores/{memory_store_id}`. Absent fields keep their value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryStoreUpdate {
    /// New name, 1–255 characters.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    /// New description; `""` clears it.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    /// Metadata patch: a string sets a key, `null` removes it, absent keys stay.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<MetadataPatch>,
}

/// Query of `GET /v1/memory_stores`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStoreListParams {
    /// Only stores created at or after this time.
    #[serde(
        rename = "created_at[gte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_gte: Option<Timestamp>,
    /// Only stores created at or before this time.
    #[serde(
        rename = "created_at[lte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_lte: Option<Timestamp>,
    /// Include archived stores (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    /// Maximum items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// Body of `POST /v1/memory_stores/{memory_store_id}/memories` (its query is
/// [`MemoryRetrieveParams`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryCreate {
    /// Path of the new memory (see [`validate_memory_path`]).
    pub path: String,
    /// The UTF-8 content, at most [`MEMORY_CONTENT_MAX_BYTES`]; `""` for an empty memory. The SDK
    /// types it as required but nullable, so `None` is sent as `null`.
    pub content: Option<String>,
}

impl MemoryCreate {
    /// A memory at `path` with `content`.
    pub fn new(path: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            content: Some(content.into()),
        }
    }
}

/// Body of `POST /v1/memory_stores/{memory_store_id}/memories/{memory_id}` (its query is
/// [`MemoryRetrieveParams`]). An update that changes nothing adds no version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryUpdate {
    /// New content; absent keeps the content (for a rename-only update).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub content: Nullable<String>,
    /// New path, which renames the memory (its ID stays); absent keeps the path.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub path: Nullable<String>,
    /// A condition for the update to apply; absent updates unconditionally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precondition: Option<Precondition>,
}

/// The `view` query of Retrieve a Memory, and also of Create and Update a Memory and Retrieve a
/// Memory Version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryRetrieveParams {
    /// Whether the response includes `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<MemoryView>,
}

/// The query of Retrieve a Memory Version: the same `view` as [`MemoryRetrieveParams`].
pub type MemoryVersionRetrieveParams = MemoryRetrieveParams;

/// Query of `GET /v1/memory_stores/{memory_store_id}/memories`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryListParams {
    /// Only memories below this prefix, which ends with `/` and matches whole segments
    /// (see [`validate_memory_path_prefix`]). It appears in URLs: keep secrets out of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// How deep to list: `0` (default) lists every memory below the prefix, `1` only direct
    /// children, with deeper ones rolled up into [`MemoryPrefix`] items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// Whether memories include `content` (default `basic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<MemoryView>,
    /// Maximum items per page (at most 20 with `view=full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// Query of `DELETE /v1/memory_stores/{memory_store_id}/memories/{memory_id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryDeleteParams {
    /// Delete only if the current `content_sha256` equals this (otherwise 409, nothing deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_content_sha256: Option<String>,
}

/// Query of `GET /v1/memory_stores/{memory_store_id}/memory_versions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryVersionListParams {
    /// Only versions of this memory (works after the memory is deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_id: Option<MemoryId>,
    /// Only versions recording this kind of change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<MemoryOperation>,
    /// Only versions written by this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    /// Only versions written with this API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<ApiKeyId>,
    /// Only versions written by this service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_id: Option<ServiceAccountId>,
    /// Only versions created at or after this time.
    #[serde(
        rename = "created_at[gte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_gte: Option<Timestamp>,
    /// Only versions created at or before this time.
    #[serde(
        rename = "created_at[lte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_lte: Option<Timestamp>,
    /// Whether versions include `content` (default `basic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<MemoryView>,
    /// Maximum items per page (at most 20 with `view=full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}
