//! Environments: where sessions run. A `cloud` environment is a container Anthropic hosts, with a
//! network policy and packages; a `self_hosted` environment is served by the customer's own
//! workers through the work queue ([`crate::work`]).
//!
//! [`Environment`] and its config are what responses return (every field resolved); the
//! `*Params` types are what [`EnvironmentCreate`] and [`EnvironmentUpdate`] send, where every
//! sub-field is optional and, on update, an omitted field keeps its stored value.

use serde::{Deserialize, Serialize};

use crate::{Deleted, EnvironmentId, Metadata, MetadataPatch, Nullable, Timestamp};

crate::open_enum! {
    /// The `type` of an [`Environment`]: always `environment`.
    pub enum EnvironmentType {
        /// An environment.
        Environment = "environment",
    }
}

crate::open_enum! {
    /// Who can see an environment.
    pub enum EnvironmentScope {
        /// Every account of the organization.
        Organization = "organization",
        /// Only the owning account (not available to API organizations).
        Account = "account",
    }
}

crate::open_enum! {
    /// The optional `type` of a packages object: always `packages`.
    pub enum PackagesType {
        /// A packages object.
        Packages = "packages",
    }
}

/// Unrestricted network access. Requests and responses share this shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnrestrictedNetwork {}

/// Limited network access, as responses return it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitedNetwork {
    /// Whether MCP server endpoints configured on the agent are reachable.
    pub allow_mcp_servers: bool,
    /// Whether public package registries (PyPI, npm, …) are reachable.
    pub allow_package_managers: bool,
    /// Domains the container can reach.
    pub allowed_hosts: Vec<String>,
}

crate::open_union! {
    /// The network policy of a cloud environment, as responses return it.
    pub enum Networking {
        /// Any host is reachable.
        "unrestricted" => Unrestricted(UnrestrictedNetwork),
        /// Only the listed hosts (and optionally MCP servers and package registries).
        "limited" => Limited(LimitedNetwork),
    }
}

/// Limited network access, as a request sends it; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitedNetworkParams {
    /// Allow MCP server endpoints (false by default).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub allow_mcp_servers: Nullable<bool>,
    /// Allow public package registries (false on creation; must be true when packages are set).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub allow_package_managers: Nullable<bool>,
    /// Domains the container can reach.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub allowed_hosts: Nullable<Vec<String>>,
}

crate::open_union! {
    /// The network policy of a cloud environment, as a request sends it.
    pub enum NetworkingParams {
        /// Any host is reachable.
        "unrestricted" => Unrestricted(UnrestrictedNetwork),
        /// Only the listed hosts.
        "limited" => Limited(LimitedNetworkParams),
    }
}

/// Packages installed in a cloud environment, as responses return them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packages {
    /// Optional `type`, always `packages` when sent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PackagesType>,
    /// Ubuntu/Debian packages.
    pub apt: Vec<String>,
    /// Rust packages.
    pub cargo: Vec<String>,
    /// Ruby packages.
    pub gem: Vec<String>,
    /// Go packages.
    pub go: Vec<String>,
    /// Node.js packages.
    pub npm: Vec<String>,
    /// Python packages.
    pub pip: Vec<String>,
}

/// Packages to install, as a request sends them (`pip` entries may pin, e.g. `pkg==1.0.0`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackagesParams {
    /// Optional `type`, always `packages` when sent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PackagesType>,
    /// Ubuntu/Debian packages.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub apt: Nullable<Vec<String>>,
    /// Rust packages.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub cargo: Nullable<Vec<String>>,
    /// Ruby packages.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub gem: Nullable<Vec<String>>,
    /// Go packages.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub go: Nullable<Vec<String>>,
    /// Node.js packages.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub npm: Nullable<Vec<String>>,
    /// Python packages.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub pip: Nullable<Vec<String>>,
}

/// A cloud environment's configuration, as responses return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudConfig {
    /// Network policy.
    pub networking: Networking,
    /// Installed packages.
    pub packages: Packages,
}

/// A self-hosted environment's configuration (it has no fields). Requests and responses share
/// this shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfHostedConfig {}

crate::open_union! {
    /// An environment's configuration, as responses return it.
    pub enum EnvironmentConfig {
        /// A container hosted by Anthropic.
        "cloud" => Cloud(CloudConfig),
        /// Served by the customer's own workers through the work queue.
        "self_hosted" => SelfHosted(SelfHostedConfig),
    }
}

/// A cloud environment's configuration, as a request sends it; on update an omitted field keeps
/// its stored value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudConfigParams {
    /// Network policy.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub networking: Nullable<NetworkingParams>,
    /// Packages (under `limited` networking, needs `allow_package_managers`).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub packages: Nullable<PackagesParams>,
}

crate::open_union! {
    /// An environment's configuration, as a request sends it. The type cannot change after
    /// creation.
    pub enum EnvironmentConfigParams {
        /// A container hosted by Anthropic.
        "cloud" => Cloud(CloudConfigParams),
        /// Served by the customer's own workers.
        "self_hosted" => SelfHosted(SelfHostedConfig),
    }
}

impl EnvironmentConfigParams {
    /// A cloud environment with the server's defaults.
    pub fn cloud() -> Self {
        Self::Cloud(CloudConfigParams::default())
    }

    /// A self-hosted environment.
    pub fn self_hosted() -> Self {
        Self::SelfHosted(SelfHostedConfig {})
    }
}

/// An environment (`"type": "environment"`), cloud or self-hosted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// The environment's ID (`env_...`).
    pub id: EnvironmentId,
    /// Always `environment`.
    #[serde(rename = "type")]
    pub kind: EnvironmentType,
    /// Human-readable name.
    pub name: String,
    /// Description; `null` when unset.
    pub description: Option<String>,
    /// Cloud or self-hosted configuration.
    pub config: EnvironmentConfig,
    /// Metadata.
    pub metadata: Metadata,
    /// Who can see the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<EnvironmentScope>,
    /// When the environment was created.
    pub created_at: Timestamp,
    /// When the environment was last updated.
    pub updated_at: Timestamp,
    /// When the environment was archived; `null` if not archived.
    pub archived_at: Option<Timestamp>,
}

impl Environment {
    /// Whether sessions in this environment are served by self-hosted workers.
    pub fn is_self_hosted(&self) -> bool {
        matches!(self.config, EnvironmentConfig::SelfHosted(_))
    }

    /// Whether the environment is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// The receipt of `DELETE /v1/environments/{environment_id}`.
pub type EnvironmentDeleted = Deleted<EnvironmentId>;

/// Body of `POST /v1/environments`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentCreate {
    /// Human-readable name.
    pub name: String,
    /// Configuration; the server's default when omitted.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub config: Nullable<EnvironmentConfigParams>,
    /// Description.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Visibility; defaults by organization type.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub scope: Nullable<EnvironmentScope>,
}

/// Body of `POST /v1/environments/{environment_id}`: an omitted field keeps its stored value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentUpdate {
    /// New name.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    /// New configuration (same type as stored).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub config: Nullable<EnvironmentConfigParams>,
    /// Description; `null` clears it, `""` stores an empty string.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    /// Metadata patch: a string upserts a key, `null` or `""` deletes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataPatch>,
    /// New visibility.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub scope: Nullable<EnvironmentScope>,
}

/// Query of `GET /v1/environments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentListParams {
    /// Include archived environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    /// Maximum items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}
