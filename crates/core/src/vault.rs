//! Vaults and their credentials (`/v1/vaults/…`, beta
//! [`MANAGED_AGENTS_BETA`](crate::MANAGED_AGENTS_BETA)).
//!
//! A [`Vault`] holds [`Credential`]s that sessions use to reach MCP servers (`mcp_oauth`,
//! `static_bearer`) or to substitute a secret into outbound requests (`environment_variable`).
//!
//! Secrets (`access_token`, `refresh_token`, `client_secret`, `token`, `secret_value`) are
//! write-only: they appear in request bodies ([`CredentialCreate`], [`CredentialUpdate`]) and never
//! in responses. In Rust each is a [`Secret`], which serializes as the plain string but prints
//! `[redacted]` under `Debug`; the request unions' `Unknown` arms print only their `type`. So a
//! request can be logged with `{:?}` without leaking what it carries.
//!
//! Response and request shapes that the SDK declares twice with identical fields (the networking
//! union, the `none` token endpoint auth) are one Rust type here.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::common::{Deleted, Metadata, MetadataPatch, Timestamp};
use crate::ids::{CredentialId, VaultId};
use crate::memory::object_type;
use crate::nullable::Nullable;

/// A write-only secret: serialized as the plain string, printed as `[redacted]` by `Debug`.
///
/// It has no `Display`, so it cannot end up in a formatted message by accident; call
/// [`Secret::expose`] where the value is really needed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Consumes the wrapper and returns the secret value.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// Like [`open_union!`](crate::open_union), for request unions that carry secrets: the same wire
/// behaviour, but `Debug` of the `Unknown` arm prints only its `type`, since the raw JSON may hold
/// a secret this version does not know to wrap.
macro_rules! secret_union {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $tag:literal => $variant:ident($ty:ty) ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq)]
        pub enum $name {
            $( $(#[$vmeta])* $variant($ty), )*
            /// An object whose `type` this version does not know; the raw JSON is kept and
            /// serializes back unchanged, but `Debug` prints only its `type`.
            Unknown(serde_json::Value),
        }

        impl $name {
            /// Every `type` tag this version knows, in declaration order.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($tag),*];

            /// The `type` tag of this object (for `Unknown`, the tag as sent, or `""`).
            pub fn type_name(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $tag, )*
                    Self::Unknown(raw) => raw.get("type").and_then(|t| t.as_str()).unwrap_or(""),
                }
            }

            /// Whether this is an object of a type this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( Self::$variant(inner) => f.debug_tuple(stringify!($variant)).field(inner).finish(), )*
                    Self::Unknown(_) => f
                        .debug_struct("Unknown")
                        .field("type", &self.type_name())
                        .finish_non_exhaustive(),
                }
            }
        }

        $(
            impl From<$ty> for $name {
                fn from(value: $ty) -> Self {
                    Self::$variant(value)
                }
            }
        )*

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(inner) => crate::open::Tagged { r#type: $tag, inner }.serialize(serializer), )*
                    Self::Unknown(raw) => raw.serialize(serializer),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let raw = serde_json::Value::deserialize(deserializer)?;
                let tag = match raw.get("type") {
                    Some(serde_json::Value::String(tag)) => tag.as_str(),
                    Some(_) => return Err(D::Error::custom(concat!("invalid `type` of ", stringify!($name), ": expected a string"))),
                    None if raw.is_object() => return Err(D::Error::custom(concat!("missing field `type` of ", stringify!($name)))),
                    None => return Err(D::Error::custom(concat!("invalid ", stringify!($name), ": expected an object"))),
                };
                match tag {
                    $( $tag => $crate::open::decode::<$ty>(&raw)
                        .map(Self::$variant)
                        .map_err(|e| D::Error::custom(format_args!("invalid `{}`: {}", $tag, e))), )*
                    _ => Ok(Self::Unknown(raw)),
                }
            }
        }
    };
}

object_type! {
    /// The `type` of a [`Vault`]: `"vault"`.
    VaultType { Vault = "vault" }
}
object_type! {
    /// The `type` of a [`Credential`]: `"vault_credential"`.
    CredentialType { VaultCredential = "vault_credential" }
}
object_type! {
    /// The `type` of a [`CredentialValidation`]: `"vault_credential_validation"`.
    CredentialValidationType { VaultCredentialValidation = "vault_credential_validation" }
}

/// A `vault`: a named set of credentials that agents use during sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vault {
    /// The vault's ID (`vlt_…`).
    pub id: VaultId,
    /// Always `"vault"`.
    #[serde(rename = "type")]
    pub kind: VaultType,
    /// Human-readable name, 1–255 characters.
    pub display_name: String,
    /// Key-value pairs for the caller's own use.
    pub metadata: Metadata,
    /// When the vault was created.
    pub created_at: Timestamp,
    /// When the vault last changed.
    pub updated_at: Timestamp,
    /// When the vault was archived, or `null`.
    pub archived_at: Option<Timestamp>,
}

/// A `vault_credential`: a credential stored in a vault. Secrets are never returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// The credential's ID (`vcrd_…`).
    pub id: CredentialId,
    /// Always `"vault_credential"`.
    #[serde(rename = "type")]
    pub kind: CredentialType,
    /// The vault holding the credential.
    pub vault_id: VaultId,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub display_name: Nullable<String>,
    /// How the credential authenticates (without its secrets).
    pub auth: CredentialAuth,
    /// Key-value pairs for the caller's own use.
    pub metadata: Metadata,
    /// When the credential was created.
    pub created_at: Timestamp,
    /// When the credential last changed.
    pub updated_at: Timestamp,
    /// When the credential was archived, or `null`.
    pub archived_at: Option<Timestamp>,
    /// **Steward extension** (not in the API or the SDKs, which ignore unknown fields): why the
    /// last refresh of an `mcp_oauth` token failed. Absent when no refresh failed since the
    /// last success or the last change of the credential's tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_error: Option<CredentialRefreshError>,
}

/// **Steward extension**: a failed refresh of an `mcp_oauth` credential's access token, as
/// [`Credential::refresh_error`] shows it. It never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRefreshError {
    /// What went wrong: the token endpoint's OAuth `error` code (such as `invalid_grant`), or
    /// `http_error` (an error status without an OAuth error body), `invalid_response` (a success
    /// status without a usable token) or `connect_error` (the endpoint could not be reached).
    #[serde(rename = "type")]
    pub kind: String,
    /// A readable explanation (the endpoint's `error_description`, or what happened).
    pub message: String,
    /// When the refresh failed.
    pub occurred_at: Timestamp,
}

crate::open_union! {
    /// A credential's authentication settings as responses show them (no secrets).
    pub enum CredentialAuth {
        /// OAuth for an MCP server.
        "mcp_oauth" => McpOauth(McpOauthAuth),
        /// A static bearer token for an MCP server.
        "static_bearer" => StaticBearer(StaticBearerAuth),
        /// A secret substituted into outbound requests where its placeholder appears.
        "environment_variable" => EnvironmentVariable(EnvironmentVariableAuth),
    }
}

/// `mcp_oauth` credential details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpOauthAuth {
    /// The MCP server this credential authenticates against.
    pub mcp_server_url: String,
    /// When the access token expires; absent or `null` when unknown.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub expires_at: Nullable<Timestamp>,
    /// Refresh settings, if the credential can refresh its token.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub refresh: Nullable<McpOauthRefresh>,
}

/// Refresh settings of an `mcp_oauth` credential as responses show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpOauthRefresh {
    /// The OAuth client ID (fixed at create).
    pub client_id: String,
    /// The token endpoint URL.
    pub token_endpoint: String,
    /// How the client authenticates to the token endpoint.
    pub token_endpoint_auth: TokenEndpointAuth,
    /// OAuth resource indicator.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub resource: Nullable<String>,
    /// OAuth scope of refresh requests.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub scope: Nullable<String>,
}

/// Token endpoint auth `none`: the client does not authenticate. Also the request form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEndpointAuthNone {}

/// Token endpoint auth `client_secret_basic` as responses show it (the secret is not returned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEndpointAuthBasic {}

/// Token endpoint auth `client_secret_post` as responses show it (the secret is not returned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEndpointAuthPost {}

crate::open_union! {
    /// How an `mcp_oauth` credential authenticates to its token endpoint, as responses show it.
    pub enum TokenEndpointAuth {
        /// No client authentication.
        "none" => None(TokenEndpointAuthNone),
        /// HTTP Basic with the client secret.
        "client_secret_basic" => ClientSecretBasic(TokenEndpointAuthBasic),
        /// Client secret in the POST body.
        "client_secret_post" => ClientSecretPost(TokenEndpointAuthPost),
    }
}

/// `static_bearer` credential details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticBearerAuth {
    /// The MCP server this credential authenticates against.
    pub mcp_server_url: String,
}

/// `environment_variable` credential details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentVariableAuth {
    /// Name of the environment variable.
    pub secret_name: String,
    /// Where in outbound requests the secret is substituted.
    pub injection_location: InjectionLocation,
    /// Which outbound hosts the secret is substituted for.
    pub networking: CredentialNetworking,
}

/// Where in outbound requests a secret is substituted, as responses show it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectionLocation {
    /// Substituted where the placeholder appears in the request body.
    pub body: bool,
    /// Substituted where the placeholder appears in a header value.
    pub header: bool,
}

/// Where a secret may be substituted, on create and update: a location left out keeps its
/// setting (on create, the server default); after an update at least one must be enabled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectionLocationParams {
    /// Substitute where the placeholder appears in the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<bool>,
    /// Substitute where the placeholder appears in a header value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<bool>,
}

/// Networking `unrestricted`: any host the environment's network policy allows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnrestrictedNetworking {}

/// Networking `limited`: only the listed hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitedNetworking {
    /// Up to 16 bare hostnames, IPv4 addresses or `*.` wildcards (no URLs, ports, paths or
    /// IPv6). An entry matches exactly; `*.example.com` matches subdomains, not `example.com`.
    pub allowed_hosts: Vec<String>,
}

crate::open_union! {
    /// Which outbound hosts an `environment_variable` secret is substituted for (the same shape
    /// in requests and responses).
    pub enum CredentialNetworking {
        /// Any host the environment allows.
        "unrestricted" => Unrestricted(UnrestrictedNetworking),
        /// Only the listed hosts.
        "limited" => Limited(LimitedNetworking),
    }
}

/// The receipt of Delete a Vault: `{id, type: "vault_deleted"}`.
pub type DeletedVault = Deleted<VaultId>;

/// The receipt of Delete a Credential: `{id, type: "vault_credential_deleted"}`.
pub type DeletedCredential = Deleted<CredentialId>;

/// Body of `POST /v1/vaults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VaultCreate {
    /// Human-readable name, 1–255 characters.
    pub display_name: String,
    /// Key-value pairs (at most 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Body of `POST /v1/vaults/{vault_id}`. Absent fields keep their value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VaultUpdate {
    /// New name, 1–255 characters.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub display_name: Nullable<String>,
    /// Metadata patch: a string sets a key, `null` removes it, absent keys stay.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<MetadataPatch>,
}

/// Query of `GET /v1/vaults`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultListParams {
    /// Include archived vaults (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    /// Maximum items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// Body of `POST /v1/vaults/{vault_id}/credentials`. It has no `Default` because `auth` is
/// required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialCreate {
    /// How the credential authenticates, with its secrets.
    pub auth: CredentialAuthCreate,
    /// Human-readable name, up to 255 characters.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub display_name: Nullable<String>,
    /// Key-value pairs (at most 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl CredentialCreate {
    /// A credential with `auth` and no name or metadata.
    pub fn new(auth: impl Into<CredentialAuthCreate>) -> Self {
        Self {
            auth: auth.into(),
            display_name: Nullable::Absent,
            metadata: None,
        }
    }
}

secret_union! {
    /// The `auth` of a credential create request.
    pub enum CredentialAuthCreate {
        /// OAuth for an MCP server.
        "mcp_oauth" => McpOauth(McpOauthCreate),
        /// A static bearer token for an MCP server.
        "static_bearer" => StaticBearer(StaticBearerCreate),
        /// A secret substituted into outbound requests.
        "environment_variable" => EnvironmentVariable(EnvironmentVariableCreate),
    }
}

/// `mcp_oauth` create parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct McpOauthCreate {
    /// The OAuth access token sent to the MCP server.
    pub access_token: Secret,
    /// The MCP server this credential authenticates against.
    pub mcp_server_url: String,
    /// When `access_token` expires; must be in the future.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub expires_at: Nullable<Timestamp>,
    /// Refresh settings, if the credential can refresh its token.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub refresh: Nullable<McpOauthRefreshCreate>,
}

/// Refresh settings of an `mcp_oauth` create request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpOauthRefreshCreate {
    /// The OAuth client ID; it cannot change after create.
    pub client_id: String,
    /// The refresh token used to get new access tokens.
    pub refresh_token: Secret,
    /// The token endpoint URL.
    pub token_endpoint: String,
    /// How the client authenticates to the token endpoint.
    pub token_endpoint_auth: TokenEndpointAuthCreate,
    /// OAuth resource indicator.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub resource: Nullable<String>,
    /// OAuth scope of refresh requests.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub scope: Nullable<String>,
}

/// Token endpoint auth `client_secret_basic` on create: the secret goes with HTTP Basic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecretBasicCreate {
    /// The OAuth client secret.
    pub client_secret: Secret,
}

/// Token endpoint auth `client_secret_post` on create: the secret goes in the POST body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecretPostCreate {
    /// The OAuth client secret.
    pub client_secret: Secret,
}

secret_union! {
    /// How an `mcp_oauth` credential authenticates to its token endpoint, on create.
    pub enum TokenEndpointAuthCreate {
        /// No client authentication.
        "none" => None(TokenEndpointAuthNone),
        /// HTTP Basic with the client secret.
        "client_secret_basic" => ClientSecretBasic(ClientSecretBasicCreate),
        /// Client secret in the POST body.
        "client_secret_post" => ClientSecretPost(ClientSecretPostCreate),
    }
}

/// `static_bearer` create parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticBearerCreate {
    /// The bearer token sent to the MCP server (an API key or personal access token).
    pub token: Secret,
    /// The MCP server this credential authenticates against.
    pub mcp_server_url: String,
}

/// `environment_variable` create parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentVariableCreate {
    /// Name of the environment variable; immutable after create.
    pub secret_name: String,
    /// The secret substituted into outbound requests.
    pub secret_value: Secret,
    /// Which outbound hosts the secret is substituted for.
    pub networking: CredentialNetworking,
    /// Where in outbound requests the secret may be substituted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection_location: Option<InjectionLocationParams>,
}

/// Body of `POST /v1/vaults/{vault_id}/credentials/{credential_id}`. Absent fields keep their
/// value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialUpdate {
    /// New authentication settings; the `type` must be the stored one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<CredentialAuthUpdate>,
    /// New name, 1–255 characters.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub display_name: Nullable<String>,
    /// Metadata patch: a string sets a key, `null` removes it, absent keys stay.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<MetadataPatch>,
}

secret_union! {
    /// The `auth` of a credential update request; its `type` must match the stored credential.
    pub enum CredentialAuthUpdate {
        /// OAuth for an MCP server (`mcp_server_url` is immutable).
        "mcp_oauth" => McpOauth(McpOauthUpdate),
        /// A static bearer token (`mcp_server_url` is immutable).
        "static_bearer" => StaticBearer(StaticBearerUpdate),
        /// A secret substituted into outbound requests (`secret_name` is immutable).
        "environment_variable" => EnvironmentVariable(EnvironmentVariableUpdate),
    }
}

/// `mcp_oauth` update parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct McpOauthUpdate {
    /// A new access token.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub access_token: Nullable<Secret>,
    /// The access token's expiry; absent keeps the stored one, even with a new token.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub expires_at: Nullable<Timestamp>,
    /// Changes to the refresh settings.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub refresh: Nullable<McpOauthRefreshUpdate>,
}

/// Changes to the refresh settings of an `mcp_oauth` credential.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct McpOauthRefreshUpdate {
    /// A new refresh token.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub refresh_token: Nullable<Secret>,
    /// A new scope; `""` clears it.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub scope: Nullable<String>,
    /// A new client secret (the auth type itself cannot change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth: Option<TokenEndpointAuthUpdate>,
}

/// A new client secret, sent as `client_secret_basic`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecretBasicUpdate {
    /// The new OAuth client secret.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub client_secret: Nullable<Secret>,
}

/// A new client secret, sent as `client_secret_post`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecretPostUpdate {
    /// The new OAuth client secret.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub client_secret: Nullable<Secret>,
}

secret_union! {
    /// A new client secret, on update. The credential must already use `client_secret_basic` or
    /// `client_secret_post`, and keeps its type whichever of the two is sent.
    pub enum TokenEndpointAuthUpdate {
        /// HTTP Basic.
        "client_secret_basic" => ClientSecretBasic(ClientSecretBasicUpdate),
        /// POST body.
        "client_secret_post" => ClientSecretPost(ClientSecretPostUpdate),
    }
}

/// `static_bearer` update parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticBearerUpdate {
    /// A new bearer token.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub token: Nullable<Secret>,
}

/// `environment_variable` update parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentVariableUpdate {
    /// A new secret value.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub secret_value: Nullable<Secret>,
    /// New networking, replacing the stored one whole.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub networking: Nullable<CredentialNetworking>,
    /// Changes to the injection locations (a location left out keeps its setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection_location: Option<InjectionLocationParams>,
}

/// Query of `GET /v1/vaults/{vault_id}/credentials`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialListParams {
    /// Include archived credentials (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    /// Maximum items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

crate::open_enum! {
    /// The verdict of a credential validation.
    pub enum CredentialValidationStatus {
        /// The credential authenticated against its MCP server.
        Valid = "valid",
        /// The server rejected it, or no access token is stored, and a refresh did not help.
        Invalid = "invalid",
        /// The wire value `"unknown"`: the probe could not tell (network error, or a refresh
        /// succeeded but the new token was not tested). Not named `Unknown`, which every open
        /// enum reserves for values this version does not know.
        Inconclusive = "unknown",
    }
}

crate::open_enum! {
    /// The outcome of a refresh attempted during validation.
    pub enum RefreshStatus {
        /// The token endpoint returned a new access token.
        Succeeded = "succeeded",
        /// The token endpoint returned an error (see `http_response`).
        Failed = "failed",
        /// The token endpoint could not be reached (DNS, TLS or connection error).
        ConnectError = "connect_error",
        /// No refresh token is stored, so nothing was tried.
        NoRefreshToken = "no_refresh_token",
    }
}

/// A `vault_credential_validation`: the result of live-probing an `mcp_oauth` credential
/// (`POST …/credentials/{credential_id}/mcp_oauth_validate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialValidation {
    /// Always `"vault_credential_validation"`.
    #[serde(rename = "type")]
    pub kind: CredentialValidationType,
    /// The credential probed.
    pub credential_id: CredentialId,
    /// The vault holding it.
    pub vault_id: VaultId,
    /// The overall verdict.
    pub status: CredentialValidationStatus,
    /// Whether the credential has a refresh token.
    pub has_refresh_token: bool,
    /// The probe step that failed, or `null` when the probe succeeded or there was no token.
    pub mcp_probe: Option<McpProbe>,
    /// The refresh attempted after a 401, or `null` when none was.
    pub refresh: Option<RefreshResult>,
    /// When the probe ran.
    pub validated_at: Timestamp,
}

/// The failing step of an MCP validation probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpProbe {
    /// The MCP method that failed, such as `initialize` or `tools/list`.
    pub method: String,
    /// The server's HTTP error response, or `null` (timeout, DNS or TLS failure).
    pub http_response: Option<ProbeHttpResponse>,
}

/// A refresh attempted during validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshResult {
    /// How it went.
    pub status: RefreshStatus,
    /// The token endpoint's error response; set only when `status` is `failed`.
    pub http_response: Option<ProbeHttpResponse>,
}

/// An HTTP response captured during validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeHttpResponse {
    /// The HTTP status code.
    pub status_code: u16,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body, possibly truncated, with sensitive values scrubbed.
    pub body: String,
    /// Whether `body` was truncated.
    pub body_truncated: bool,
}
