//! Session resources: what is mounted into a session's container.
//!
//! A session mounts GitHub repositories, uploaded files and memory stores. They are given at
//! session creation ([`ResourceCreate`] items of `SessionCreate::resources`), files may be added
//! later (`POST /v1/sessions/{id}/resources`, [`ResourceAdd`]), a repository's token may be
//! rotated ([`ResourceUpdate`]), and each is returned as a [`SessionResource`].
//!
//! Memory stores are mounted under `/mnt/memory/`; [`memory_store_mount_path`] derives the path
//! the way the API documents it.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{FileId, MemoryStoreId, Nullable, PageParams, SessionResourceId, Timestamp};

crate::open_enum! {
    /// How a memory store is mounted (`access`); the API defaults to `read_write`.
    pub enum MemoryStoreAccess {
        /// The agent may read and write the store.
        ReadWrite = "read_write",
        /// The store is mounted as a read-only filesystem.
        ReadOnly = "read_only",
    }
}

/// Check out a branch (`{"type": "branch", "name"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchCheckout {
    /// Branch name to check out.
    pub name: String,
}

/// Check out a commit (`{"type": "commit", "sha"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitCheckout {
    /// Full commit SHA to check out.
    pub sha: String,
}

crate::open_union! {
    /// What to check out of a repository; the API defaults to the default branch.
    pub enum Checkout {
        /// A branch by name.
        "branch" => Branch(BranchCheckout),
        /// A commit by SHA.
        "commit" => Commit(CommitCheckout),
    }
}

impl Checkout {
    /// Checks out the named branch.
    pub fn branch(name: impl Into<String>) -> Self {
        Self::Branch(BranchCheckout { name: name.into() })
    }

    /// Checks out the commit with this full SHA.
    pub fn commit(sha: impl Into<String>) -> Self {
        Self::Commit(CommitCheckout { sha: sha.into() })
    }
}

/// A GitHub repository mounted into the session (`type: "github_repository"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GitHubRepositoryResource {
    /// ID of the resource (`sesrsc_…`).
    pub id: SessionResourceId,
    /// GitHub URL of the repository.
    pub url: String,
    /// Where the repository is mounted in the container.
    pub mount_path: String,
    /// The branch or commit checked out; absent or `null` for the default branch.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub checkout: Nullable<Checkout>,
    /// When the resource was attached.
    pub created_at: Timestamp,
    /// When the resource last changed.
    pub updated_at: Timestamp,
}

/// An uploaded file mounted into the session (`type: "file"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileResource {
    /// ID of the resource (`sesrsc_…`).
    pub id: SessionResourceId,
    /// ID of the file in the Files API.
    pub file_id: FileId,
    /// Where the file is mounted in the container.
    pub mount_path: String,
    /// When the resource was attached.
    pub created_at: Timestamp,
    /// When the resource last changed.
    pub updated_at: Timestamp,
}

/// A memory store attached to the session (`type: "memory_store"`).
///
/// Unlike the other resources it has no `id` and no timestamps in the SDK: it is identified by
/// its `memory_store_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryStoreResource {
    /// ID of the memory store (`memstore_…`).
    pub memory_store_id: MemoryStoreId,
    /// How the store is mounted; the API treats absent and `null` as `read_write`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub access: Nullable<MemoryStoreAccess>,
    /// The store's description, snapshotted at attach time (`""` when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Per-attachment guidance rendered into the system prompt's memory section (≤4096 chars).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub instructions: Nullable<String>,
    /// Where the store is mounted (for example `/mnt/memory/user-preferences`); output only.
    /// See [`memory_store_mount_path`].
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub mount_path: Nullable<String>,
    /// The store's name, snapshotted at attach time.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
}

crate::open_union! {
    /// A resource mounted into a session, as the API returns it.
    pub enum SessionResource {
        /// A GitHub repository.
        "github_repository" => GitHubRepository(GitHubRepositoryResource),
        /// An uploaded file.
        "file" => File(FileResource),
        /// A memory store.
        "memory_store" => MemoryStore(MemoryStoreResource),
    }
}

impl SessionResource {
    /// The resource's ID; `None` for memory stores (which have none) and unknown types.
    pub fn id(&self) -> Option<&SessionResourceId> {
        match self {
            Self::GitHubRepository(r) => Some(&r.id),
            Self::File(r) => Some(&r.id),
            Self::MemoryStore(_) | Self::Unknown(_) => None,
        }
    }

    /// Where the resource is mounted, when the API says.
    pub fn mount_path(&self) -> Option<&str> {
        match self {
            Self::GitHubRepository(r) => Some(&r.mount_path),
            Self::File(r) => Some(&r.mount_path),
            Self::MemoryStore(r) => r.mount_path.value().map(String::as_str),
            Self::Unknown(raw) => raw.get("mount_path").and_then(|p| p.as_str()),
        }
    }
}

/// Mount a GitHub repository (`type: "github_repository"` in [`ResourceCreate`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GitHubRepositoryResourceCreate {
    /// GitHub URL of the repository.
    pub url: String,
    /// Token used to clone; required for private repositories. It is never returned, and can
    /// be rotated with [`ResourceUpdate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<String>,
    /// Branch or commit to check out; absent or `null` for the default branch.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub checkout: Nullable<Checkout>,
    /// Mount path; the API defaults to `/workspace/<repo-name>`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub mount_path: Nullable<String>,
}

/// Mount an uploaded file (`type: "file"` in [`ResourceCreate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileResourceCreate {
    /// ID of a previously uploaded file.
    pub file_id: FileId,
    /// Mount path; the API defaults to `/mnt/session/uploads/<file_id>`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub mount_path: Nullable<String>,
}

/// Attach a memory store (`type: "memory_store"` in [`ResourceCreate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryStoreResourceCreate {
    /// ID of the memory store; it must belong to the caller's organization and workspace.
    pub memory_store_id: MemoryStoreId,
    /// Access mode; the API defaults to `read_write`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub access: Nullable<MemoryStoreAccess>,
    /// Per-attachment guidance for the agent (≤4096 chars).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub instructions: Nullable<String>,
}

crate::open_union! {
    /// A resource to mount, as `SessionCreate::resources` takes it.
    pub enum ResourceCreate {
        /// A GitHub repository.
        "github_repository" => GitHubRepository(GitHubRepositoryResourceCreate),
        /// An uploaded file.
        "file" => File(FileResourceCreate),
        /// A memory store.
        "memory_store" => MemoryStore(MemoryStoreResourceCreate),
    }
}

/// Body of `POST /v1/sessions/{session_id}/resources`: mount one more file.
///
/// Only files can be added to a running session. On the wire this is
/// `{"type": "file", "file_id", "mount_path"?}`; the constant `type` is written by
/// serialization and checked by deserialization, so it is not a field.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceAdd {
    /// ID of a previously uploaded file.
    pub file_id: FileId,
    /// Mount path; the API defaults to `/mnt/session/uploads/<file_id>`.
    pub mount_path: Nullable<String>,
}

impl ResourceAdd {
    /// Mounts the file at the API's default path.
    pub fn new(file_id: impl Into<FileId>) -> Self {
        Self {
            file_id: file_id.into(),
            mount_path: Nullable::Absent,
        }
    }
}

impl From<FileResourceCreate> for ResourceAdd {
    fn from(file: FileResourceCreate) -> Self {
        Self {
            file_id: file.file_id,
            mount_path: file.mount_path,
        }
    }
}

impl From<ResourceAdd> for FileResourceCreate {
    fn from(add: ResourceAdd) -> Self {
        Self {
            file_id: add.file_id,
            mount_path: add.mount_path,
        }
    }
}

impl Serialize for ResourceAdd {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let file = FileResourceCreate::from(self.clone());
        ResourceCreate::File(file).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ResourceAdd {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match ResourceCreate::deserialize(deserializer)? {
            ResourceCreate::File(file) => Ok(file.into()),
            other => Err(D::Error::custom(format_args!(
                "invalid `type` of ResourceAdd: expected \"file\", got {:?}",
                other.type_name()
            ))),
        }
    }
}

/// Body of `POST /v1/sessions/{session_id}/resources/{resource_id}`: rotate a token.
///
/// Only `github_repository` resources support it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceUpdate {
    /// The new authorization token.
    pub authorization_token: String,
}

/// Query of `GET /v1/sessions/{session_id}/resources`: only the cursor parameters.
pub type ResourceListParams = PageParams;

/// Where the API mounts a memory store named `store_name`: `/mnt/memory/<slug>`.
///
/// The rule, as the SDK documents it on `MemoryStoreCreateParams.name`: "the name is lowercased
/// and every run of characters other than ASCII letters and digits becomes one hyphen".
/// This function applies exactly that and nothing more:
///
/// * lowercasing is Unicode lowercasing of the whole name, done first (so `"K"`, the Kelvin
///   sign, becomes `k`); whatever is then not `[a-z0-9]` is a separator;
/// * leading and trailing runs become a hyphen too and are **kept** (`"  Notes!"` →
///   `/mnt/memory/-notes-`). Neither the TypeScript nor the Python SDK says they are trimmed,
///   and trimming would map a name such as `"!!!"` to the mount root;
/// * two stores whose names give the same slug are not told apart here; how the API resolves
///   that is not documented.
///
/// The API's own answer is the resource's `mount_path` ([`MemoryStoreResource::mount_path`]),
/// which wins over this function wherever it is present.
pub fn memory_store_mount_path(store_name: &str) -> String {
    let mut path = String::from("/mnt/memory/");
    let mut in_run = false;
    for c in store_name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            path.push(c);
            in_run = false;
        } else if !in_run {
            path.push('-');
            in_run = true;
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_path_follows_the_documented_rule() {
        for (name, slug) in [
            ("user-preferences", "user-preferences"),
            ("User Preferences", "user-preferences"),
            ("Team  --  Notes", "team-notes"),
            ("repo_v2.0", "repo-v2-0"),
            ("ABC123", "abc123"),
            ("  leading and trailing!!", "-leading-and-trailing-"),
            ("!!!", "-"),
            ("café crème", "caf-cr-me"),
            ("日本語 notes", "-notes"),
            ("\u{212A}elvin", "kelvin"),
            ("a\tb\nc", "a-b-c"),
        ] {
            assert_eq!(
                memory_store_mount_path(name),
                format!("/mnt/memory/{slug}"),
                "{name:?}"
            );
        }
    }

    #[test]
    fn resource_add_is_a_file_with_its_type() {
        let add = ResourceAdd::new("file_011");
        assert_eq!(
            serde_json::to_value(&add).unwrap(),
            serde_json::json!({"type": "file", "file_id": "file_011"})
        );
        let err = serde_json::from_str::<ResourceAdd>(
            r#"{"type":"github_repository","url":"https://github.com/a/b"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("expected \"file\""), "{err}");
        let err = serde_json::from_str::<ResourceAdd>(r#"{"type":"file"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `file_id`"), "{err}");
    }
}
