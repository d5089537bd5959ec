//! Agents: the [`Agent`] object, its model, tools, MCP servers, skills, multiagent configuration
//! and execution identity, and the request bodies that create, update and list agents.
//!
//! Response types carry the resolved form the API returns (every default filled in); the
//! `*Params` types are what a request may send, where most fields are optional and several accept
//! a shorthand (a bare model string, a bare effort level, `"all"`/`"none"` URL sources, an agent ID
//! string in a roster). Shorthand and full forms are kept apart so that a request serializes back
//! exactly as it was written.
//!
//! The session snapshot of an agent reuses [`ModelConfig`], [`AgentTool`], [`McpServer`],
//! [`Skill`] and [`ExecutionIdentity`] from here.

use std::borrow::Cow;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::open::Tagged;
use crate::usage::Speed;
use crate::{AgentId, Metadata, MetadataPatch, Nullable, Timestamp};

/// Defines a union of objects that carry nothing but their `type` (`{"type": "always_allow"}`).
///
/// Each known tag is a unit variant; an unknown tag keeps the raw JSON in `Unknown` and serializes
/// back unchanged, like [`open_union!`](crate::open_union). Fields sent next to a known tag are
/// ignored (none are defined today).
macro_rules! type_only_union {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $tag:literal => $variant:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// An object whose `type` this version does not know; the raw JSON is kept and
            /// serializes back unchanged.
            Unknown(::serde_json::Value),
        }

        impl $name {
            /// Every `type` tag this version knows, in declaration order.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($tag),*];

            /// The `type` tag of this object (for `Unknown`, the tag as sent, or `""`).
            pub fn type_name(&self) -> &str {
                match self {
                    $( Self::$variant => $tag, )*
                    Self::Unknown(raw) => raw.get("type").and_then(|t| t.as_str()).unwrap_or(""),
                }
            }

            /// Whether this is an object of a type this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap as _;
                match self {
                    Self::Unknown(raw) => ::serde::Serialize::serialize(raw, serializer),
                    known => {
                        let mut map = serializer.serialize_map(Some(1))?;
                        map.serialize_entry("type", known.type_name())?;
                        map.end()
                    }
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                use ::serde::de::Error as _;
                let raw = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                let tag = match raw.get("type") {
                    Some(::serde_json::Value::String(tag)) => tag.as_str(),
                    Some(_) => return Err(D::Error::custom(concat!("invalid `type` of ", stringify!($name), ": expected a string"))),
                    None if raw.is_object() => return Err(D::Error::custom(concat!("missing field `type` of ", stringify!($name)))),
                    None => return Err(D::Error::custom(concat!("invalid ", stringify!($name), ": expected an object"))),
                };
                match tag {
                    $( $tag => Ok(Self::$variant), )*
                    _ => Ok(Self::Unknown(raw)),
                }
            }
        }
    };
}

/// A JSON value that is either a string or an object, split for "shorthand or full form" fields.
enum StringOrObject {
    String(String),
    Object(serde_json::Value),
}

impl StringOrObject {
    /// Reads the value; `what` names the field for the error on any other JSON type.
    fn read<'de, D: Deserializer<'de>>(deserializer: D, what: &str) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => Ok(Self::String(s)),
            raw @ serde_json::Value::Object(_) => Ok(Self::Object(raw)),
            other => Err(D::Error::custom(format_args!(
                "invalid {what}: expected a string or an object, got {}",
                json_kind(&other)
            ))),
        }
    }
}

/// A short name of a JSON value's type, for error messages.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

/// A model identifier such as `claude-sonnet-4-6`: an open set, so any string is accepted and kept.
///
/// The associated constants name the models the SDK lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelId(Cow<'static, str>);

impl ModelId {
    /// `claude-fable-5-2`.
    pub const CLAUDE_FABLE_5_2: Self = Self::from_static("claude-fable-5-2");
    /// `claude-haiku-5-5`.
    pub const CLAUDE_HAIKU_5_5: Self = Self::from_static("claude-haiku-5-5");
    /// `claude-sonnet-5-5`.
    pub const CLAUDE_SONNET_5_5: Self = Self::from_static("claude-sonnet-5-5");
    /// `claude-opus-5-5`.
    pub const CLAUDE_OPUS_5_5: Self = Self::from_static("claude-opus-5-5");
    /// `claude-fable-5-1`.
    pub const CLAUDE_FABLE_5_1: Self = Self::from_static("claude-fable-5-1");
    /// `claude-sonnet-5`.
    pub const CLAUDE_SONNET_5: Self = Self::from_static("claude-sonnet-5");
    /// `claude-fable-5`.
    pub const CLAUDE_FABLE_5: Self = Self::from_static("claude-fable-5");
    /// `claude-opus-5`.
    pub const CLAUDE_OPUS_5: Self = Self::from_static("claude-opus-5");
    /// `claude-opus-4-8`.
    pub const CLAUDE_OPUS_4_8: Self = Self::from_static("claude-opus-4-8");
    /// `claude-opus-4-7`.
    pub const CLAUDE_OPUS_4_7: Self = Self::from_static("claude-opus-4-7");
    /// `claude-opus-4-6`.
    pub const CLAUDE_OPUS_4_6: Self = Self::from_static("claude-opus-4-6");
    /// `claude-sonnet-4-6`.
    pub const CLAUDE_SONNET_4_6: Self = Self::from_static("claude-sonnet-4-6");
    /// `claude-haiku-4-5`.
    pub const CLAUDE_HAIKU_4_5: Self = Self::from_static("claude-haiku-4-5");
    /// `claude-haiku-4-5-20251001`.
    pub const CLAUDE_HAIKU_4_5_20251001: Self = Self::from_static("claude-haiku-4-5-20251001");
    /// `claude-opus-4-5`.
    pub const CLAUDE_OPUS_4_5: Self = Self::from_static("claude-opus-4-5");
    /// `claude-opus-4-5-20251101`.
    pub const CLAUDE_OPUS_4_5_20251101: Self = Self::from_static("claude-opus-4-5-20251101");
    /// `claude-sonnet-4-5`.
    pub const CLAUDE_SONNET_4_5: Self = Self::from_static("claude-sonnet-4-5");
    /// `claude-sonnet-4-5-20250929`.
    pub const CLAUDE_SONNET_4_5_20250929: Self = Self::from_static("claude-sonnet-4-5-20250929");

    /// Every model ID the SDK lists, newest families first.
    pub const KNOWN: &'static [Self] = &[
        Self::CLAUDE_FABLE_5_2,
        Self::CLAUDE_HAIKU_5_5,
        Self::CLAUDE_SONNET_5_5,
        Self::CLAUDE_OPUS_5_5,
        Self::CLAUDE_FABLE_5_1,
        Self::CLAUDE_SONNET_5,
        Self::CLAUDE_FABLE_5,
        Self::CLAUDE_OPUS_5,
        Self::CLAUDE_OPUS_4_8,
        Self::CLAUDE_OPUS_4_7,
        Self::CLAUDE_OPUS_4_6,
        Self::CLAUDE_SONNET_4_6,
        Self::CLAUDE_HAIKU_4_5,
        Self::CLAUDE_HAIKU_4_5_20251001,
        Self::CLAUDE_OPUS_4_5,
        Self::CLAUDE_OPUS_4_5_20251101,
        Self::CLAUDE_SONNET_4_5,
        Self::CLAUDE_SONNET_4_5_20250929,
    ];

    /// A model ID from a static string, usable in constants.
    pub const fn from_static(id: &'static str) -> Self {
        Self(Cow::Borrowed(id))
    }

    /// Wraps any model ID string.
    pub fn new(id: impl Into<String>) -> Self {
        Self(Cow::Owned(id.into()))
    }

    /// The ID as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the SDK lists this ID.
    pub fn is_known(&self) -> bool {
        Self::KNOWN
            .iter()
            .any(|known| known.as_str() == self.as_str())
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ModelId {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for ModelId {
    fn from(id: String) -> Self {
        Self::new(id)
    }
}

impl AsRef<str> for ModelId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for ModelId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ModelId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

crate::open_enum! {
    /// How hard Claude works on each inference call.
    pub enum EffortLevel {
        /// Favors latency over reasoning depth.
        Low = "low",
        /// Balances latency and reasoning depth.
        Medium = "medium",
        /// Favors reasoning depth.
        High = "high",
        /// Extra-high effort; not every model accepts it.
        Xhigh = "xhigh",
        /// Maximum effort.
        Max = "max",
    }
}

/// Effort in its object form, `{"type": "high"}`, as responses always return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effort {
    /// The effort level (the object's `type`).
    #[serde(rename = "type")]
    pub level: EffortLevel,
}

impl From<EffortLevel> for Effort {
    fn from(level: EffortLevel) -> Self {
        Self { level }
    }
}

/// Effort as a request may send it: a bare level string (`"high"`) or the object form
/// (`{"type": "high"}`). The form sent is kept, so it serializes back the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EffortParam {
    /// The bare level string.
    Level(EffortLevel),
    /// The `{"type": ...}` object.
    Object(Effort),
}

impl EffortParam {
    /// The level, whichever form it was sent in.
    pub fn level(&self) -> &EffortLevel {
        match self {
            Self::Level(level) | Self::Object(Effort { level }) => level,
        }
    }
}

impl From<EffortLevel> for EffortParam {
    fn from(level: EffortLevel) -> Self {
        Self::Level(level)
    }
}

impl From<Effort> for EffortParam {
    fn from(effort: Effort) -> Self {
        Self::Object(effort)
    }
}

impl Serialize for EffortParam {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Level(level) => level.serialize(serializer),
            Self::Object(effort) => effort.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for EffortParam {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match StringOrObject::read(deserializer, "effort")? {
            StringOrObject::String(level) => Ok(Self::Level(EffortLevel::from(level.as_str()))),
            StringOrObject::Object(raw) => Effort::deserialize(raw)
                .map(Self::Object)
                .map_err(|e| D::Error::custom(format_args!("invalid effort: {e}"))),
        }
    }
}

/// The model of an agent as responses return it: the ID plus resolved configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The model.
    pub id: ModelId,
    /// Effort; resolved to the per-model default at save time when not supplied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    /// Region for model inference; unset falls through to the workspace default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_geo: Option<String>,
    /// Inference speed mode (`standard` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
}

impl ModelConfig {
    /// A config with only the model ID set.
    pub fn new(id: impl Into<ModelId>) -> Self {
        Self {
            id: id.into(),
            effort: None,
            inference_geo: None,
            speed: None,
        }
    }
}

/// The object form of the model a request may send (`model_config`).
///
/// On update, `model` is replaced as a whole: omitting `inference_geo` clears it, while omitting
/// `effort` keeps the stored effort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfigParams {
    /// The model.
    pub id: ModelId,
    /// Effort, as a bare level or `{"type": ...}`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub effort: Nullable<EffortParam>,
    /// Region for model inference.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub inference_geo: Nullable<String>,
    /// Inference speed mode.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub speed: Nullable<Speed>,
}

impl ModelConfigParams {
    /// A config with only the model ID set.
    pub fn new(id: impl Into<ModelId>) -> Self {
        Self {
            id: id.into(),
            effort: Nullable::Absent,
            inference_geo: Nullable::Absent,
            speed: Nullable::Absent,
        }
    }
}

/// The model a request sends: a bare model ID string or a [`ModelConfigParams`] object.
///
/// `"claude-sonnet-4-6".into()` gives the string form.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelParam {
    /// A bare model ID string.
    Id(ModelId),
    /// The object form with extra configuration.
    Config(ModelConfigParams),
}

impl ModelParam {
    /// The model ID, whichever form was sent.
    pub fn id(&self) -> &ModelId {
        match self {
            Self::Id(id) => id,
            Self::Config(config) => &config.id,
        }
    }
}

impl Default for ModelParam {
    /// An empty model ID, so that request structs can derive `Default`; set a real one.
    fn default() -> Self {
        Self::Id(ModelId::from_static(""))
    }
}

impl From<&str> for ModelParam {
    fn from(id: &str) -> Self {
        Self::Id(id.into())
    }
}

impl From<String> for ModelParam {
    fn from(id: String) -> Self {
        Self::Id(id.into())
    }
}

impl From<ModelId> for ModelParam {
    fn from(id: ModelId) -> Self {
        Self::Id(id)
    }
}

impl From<ModelConfigParams> for ModelParam {
    fn from(config: ModelConfigParams) -> Self {
        Self::Config(config)
    }
}

impl Serialize for ModelParam {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Id(id) => id.serialize(serializer),
            Self::Config(config) => config.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ModelParam {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match StringOrObject::read(deserializer, "model")? {
            StringOrObject::String(id) => Ok(Self::Id(id.into())),
            StringOrObject::Object(raw) => ModelConfigParams::deserialize(raw)
                .map(Self::Config)
                .map_err(|e| D::Error::custom(format_args!("invalid model: {e}"))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Permission policies and tools
// ---------------------------------------------------------------------------------------------

type_only_union! {
    /// Whether a tool call runs without asking.
    pub enum PermissionPolicy {
        /// Tool calls are approved without user confirmation.
        "always_allow" => AlwaysAllow,
        /// Tool calls wait for user confirmation (`user.tool_confirmation`).
        "always_ask" => AlwaysAsk,
        /// The server judges each call: allow when safe, deny when high-risk, otherwise ask.
        "auto" => Auto,
    }
}

/// Resolved default configuration of a toolset (built-in or MCP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolsetDefaultConfig {
    /// Whether the toolset's tools are enabled by default.
    pub enabled: bool,
    /// Default permission policy of the toolset's tools.
    pub permission_policy: PermissionPolicy,
}

/// Default configuration a request gives a toolset (built-in or MCP); every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolsetDefaultConfigParams {
    /// Whether tools are enabled by default (true when unset).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enabled: Nullable<bool>,
    /// Default permission policy.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub permission_policy: Nullable<PermissionPolicy>,
}

crate::open_enum! {
    /// Name of a tool of the built-in `agent_toolset_20260401`.
    pub enum BuiltinToolName {
        /// Runs shell commands in a persistent bash session.
        Bash = "bash",
        /// Replaces a string in a file.
        Edit = "edit",
        /// Reads a file.
        Read = "read",
        /// Writes a whole file.
        Write = "write",
        /// Lists paths matching a glob.
        Glob = "glob",
        /// Searches file contents with a regex.
        Grep = "grep",
        /// Fetches a URL (server-executed).
        WebFetch = "web_fetch",
        /// Searches the web (server-executed).
        WebSearch = "web_search",
    }
}

crate::open_enum! {
    /// The `type` of a [`UserLocation`].
    pub enum UserLocationType {
        /// An approximate location (the only kind supported).
        Approximate = "approximate",
    }
}

/// Approximate user location for localizing `web_search` results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLocation {
    /// Location precision; only `approximate`.
    #[serde(rename = "type")]
    pub kind: UserLocationType,
    /// City name.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub city: Nullable<String>,
    /// Two-letter ISO 3166-1 country code, uppercase.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub country: Nullable<String>,
    /// Region or state name.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub region: Nullable<String>,
    /// IANA timezone, e.g. `America/Los_Angeles`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub timezone: Nullable<String>,
}

impl Default for UserLocation {
    fn default() -> Self {
        Self {
            kind: UserLocationType::Approximate,
            city: Nullable::Absent,
            country: Nullable::Absent,
            region: Nullable::Absent,
            timezone: Nullable::Absent,
        }
    }
}

crate::open_enum! {
    /// The `type` of a [`ToolReference`].
    pub enum ToolReferenceType {
        /// A reference to a tool by name.
        ToolReference = "tool_reference",
    }
}

/// Names one tool in an `only` or `except` URL-source filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolReference {
    /// Always `tool_reference`.
    #[serde(rename = "type")]
    pub kind: ToolReferenceType,
    /// Name of the tool, compared exactly.
    pub name: String,
}

impl ToolReference {
    /// A reference to the tool with this name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            kind: ToolReferenceType::ToolReference,
            name: name.into(),
        }
    }
}

/// Every URL from the source may be fetched (the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlSourceAll {}

/// The source contributes no URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlSourceNone {}

/// A list of tools whose results do (`only`) or do not (`except`) contribute URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlSourceTools {
    /// The tools, 1 to 128 with distinct names.
    pub tools: Vec<ToolReference>,
}

/// The `except` list: every tool's results contribute except these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlSourceExcept {
    /// The tools whose results do not contribute, 1 to 128 with distinct names.
    pub tools: Vec<ToolReference>,
}

crate::open_union! {
    /// Which tools' results contribute URLs `web_fetch` may fetch.
    pub enum UrlSourceToolFilter {
        /// Every tool's results.
        "all" => All(UrlSourceAll),
        /// No tool's results.
        "none" => None(UrlSourceNone),
        /// Only the named tools' results.
        "only" => Only(UrlSourceTools),
        /// Every tool's results except the named tools'.
        "except" => Except(UrlSourceExcept),
    }
}

type_only_union! {
    /// Whether URLs in the text of user messages may be fetched.
    pub enum UrlSourceUserInput {
        /// They may.
        "all" => All,
        /// They may not.
        "none" => None,
    }
}

crate::open_enum! {
    /// The string shorthand of a URL source without fields: `"all"` or `"none"`.
    pub enum UrlSourceShorthand {
        /// Same as `{"type": "all"}`.
        All = "all",
        /// Same as `{"type": "none"}`.
        None = "none",
    }
}

/// A URL-source value a request may send: the `"all"`/`"none"` shorthand or the object form `T`.
/// The form sent is kept.
#[derive(Debug, Clone, PartialEq)]
pub enum OrShorthand<T> {
    /// The string shorthand.
    Shorthand(UrlSourceShorthand),
    /// The object form.
    Full(T),
}

impl<T: Serialize> Serialize for OrShorthand<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Shorthand(short) => short.serialize(serializer),
            Self::Full(full) => full.serialize(serializer),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for OrShorthand<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match StringOrObject::read(deserializer, "url source")? {
            StringOrObject::String(short) => {
                Ok(Self::Shorthand(UrlSourceShorthand::from(short.as_str())))
            }
            StringOrObject::Object(raw) => T::deserialize(raw)
                .map(Self::Full)
                .map_err(D::Error::custom),
        }
    }
}

/// Which sources contribute URLs `web_fetch` may fetch, as responses return it. A `null` key was
/// not set and allows every URL from that source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlSources {
    /// Which custom tools' results contribute.
    pub client_tool_results: Option<UrlSourceToolFilter>,
    /// Which of `web_search`/`web_fetch`'s results contribute.
    pub server_tool_results: Option<UrlSourceToolFilter>,
    /// Whether URLs in user messages may be fetched.
    pub user_input: Option<UrlSourceUserInput>,
}

/// Which sources contribute URLs `web_fetch` may fetch, as a request sends it; each key narrows
/// one source and defaults to `"all"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UrlSourcesParams {
    /// Which custom tools' results contribute.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub client_tool_results: Nullable<OrShorthand<UrlSourceToolFilter>>,
    /// Which of `web_search`/`web_fetch`'s results contribute.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub server_tool_results: Nullable<OrShorthand<UrlSourceToolFilter>>,
    /// Whether URLs in user messages may be fetched.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub user_input: Nullable<OrShorthand<UrlSourceUserInput>>,
}

/// Resolved configuration of one tool of the built-in toolset, as responses return it.
///
/// One struct covers every built-in tool: `type` and `name` always agree, and the fields after
/// `permission_policy` are set only for `web_fetch` and `web_search`. An unknown tool keeps its
/// `name` and `type`; fields this version does not know are not kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolConfig {
    /// The tool (same value as `name`).
    #[serde(rename = "type")]
    pub kind: BuiltinToolName,
    /// The tool.
    pub name: BuiltinToolName,
    /// Whether the tool is available to Claude.
    pub enabled: bool,
    /// The tool's permission policy.
    pub permission_policy: PermissionPolicy,
    /// `web_fetch` only: which sources contribute fetchable URLs (`null` allows every source).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub url_sources: Nullable<UrlSources>,
    /// `web_fetch`/`web_search`: domains results are limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    /// `web_fetch`/`web_search`: domains never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_domains: Option<Vec<String>>,
    /// `web_fetch` only: maximum tokens of fetched text per call.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub max_content_tokens: Nullable<u64>,
    /// `web_search` only: approximate user location.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub user_location: Nullable<UserLocation>,
}

/// A per-tool override a request sends in `agent_toolset_20260401.configs`.
///
/// The SDK keys these by `name` (`type` is optional and, when sent, equals `name`). The fields
/// after `permission_policy` apply only to `web_fetch` and `web_search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolConfigParams {
    /// The tool this override applies to.
    pub name: BuiltinToolName,
    /// Optional echo of `name`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<BuiltinToolName>,
    /// Whether the tool is available; overrides `default_config`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enabled: Nullable<bool>,
    /// The tool's permission policy; overrides `default_config`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub permission_policy: Nullable<PermissionPolicy>,
    /// `web_fetch`/`web_search`: only use these domains (at most 64; not with `blocked_domains`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    /// `web_fetch`/`web_search`: never use these domains (at most 64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_domains: Option<Vec<String>>,
    /// `web_fetch` only: maximum tokens of fetched text per call.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub max_content_tokens: Nullable<u64>,
    /// `web_fetch` only: which sources contribute fetchable URLs.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub url_sources: Nullable<UrlSourcesParams>,
    /// `web_search` only: approximate user location.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub user_location: Nullable<UserLocation>,
}

impl ToolConfigParams {
    /// An override for `name` that changes nothing yet.
    pub fn new(name: BuiltinToolName) -> Self {
        Self {
            name,
            kind: None,
            enabled: Nullable::Absent,
            permission_policy: Nullable::Absent,
            allowed_domains: None,
            blocked_domains: None,
            max_content_tokens: Nullable::Absent,
            url_sources: Nullable::Absent,
            user_location: Nullable::Absent,
        }
    }

    /// An override that disables the tool.
    pub fn disabled(name: BuiltinToolName) -> Self {
        Self {
            enabled: Nullable::Value(false),
            ..Self::new(name)
        }
    }
}

/// The built-in toolset (`agent_toolset_20260401`) as responses return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentToolset {
    /// Resolved per-tool configuration.
    pub configs: Vec<ToolConfig>,
    /// Resolved defaults.
    pub default_config: ToolsetDefaultConfig,
}

/// The built-in toolset (`agent_toolset_20260401`) as a request sends it.
///
/// `AgentToolsetParams::default()` enables every built-in tool with the server's default policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentToolsetParams {
    /// Per-tool overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configs: Option<Vec<ToolConfigParams>>,
    /// Defaults for every tool of the set.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub default_config: Nullable<ToolsetDefaultConfigParams>,
}

impl AgentToolsetParams {
    /// Every built-in tool enabled, with `policy` as the default permission policy.
    pub fn with_policy(policy: PermissionPolicy) -> Self {
        Self {
            configs: None,
            default_config: Nullable::Value(ToolsetDefaultConfigParams {
                enabled: Nullable::Absent,
                permission_policy: Nullable::Value(policy),
            }),
        }
    }
}

/// Resolved configuration of one MCP tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolConfig {
    /// Name of the MCP tool.
    pub name: String,
    /// Whether the tool is available.
    pub enabled: bool,
    /// The tool's permission policy.
    pub permission_policy: PermissionPolicy,
}

/// An override for one MCP tool, as a request sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct McpToolConfigParams {
    /// Name of the MCP tool (1-128 characters).
    pub name: String,
    /// Whether the tool is available; overrides `default_config`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub enabled: Nullable<bool>,
    /// Permission policy; overrides `default_config`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub permission_policy: Nullable<PermissionPolicy>,
}

/// The tools of one MCP server (`mcp_toolset`) as responses return them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolset {
    /// Name of the server in the agent's `mcp_servers`.
    pub mcp_server_name: String,
    /// Resolved per-tool configuration.
    pub configs: Vec<McpToolConfig>,
    /// Resolved defaults.
    pub default_config: ToolsetDefaultConfig,
}

/// The tools of one MCP server (`mcp_toolset`) as a request sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct McpToolsetParams {
    /// Name of a server in `mcp_servers` (1-255 characters).
    pub mcp_server_name: String,
    /// Per-tool overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configs: Option<Vec<McpToolConfigParams>>,
    /// Defaults for every tool of the server.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub default_config: Nullable<ToolsetDefaultConfigParams>,
}

impl McpToolsetParams {
    /// Every tool of the named server, with the server's defaults.
    pub fn new(mcp_server_name: impl Into<String>) -> Self {
        Self {
            mcp_server_name: mcp_server_name.into(),
            ..Self::default()
        }
    }
}

/// A custom tool, executed by the API client: the agent emits `agent.custom_tool_use` and waits
/// for `user.custom_tool_result`. Requests and responses share this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomTool {
    /// Unique name: 1-128 letters, digits, underscores and hyphens.
    pub name: String,
    /// What the tool does, shown to the agent.
    pub description: String,
    /// JSON Schema of the input: an object with `"type": "object"`, optional `properties` and
    /// `required`, and any other JSON Schema keywords (kept as sent).
    pub input_schema: serde_json::Value,
}

impl CustomTool {
    /// A custom tool with this name, description and input JSON Schema.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: serde_json::Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
        }
    }
}

crate::open_union! {
    /// A tool entry of an agent as responses return it.
    pub enum AgentTool {
        /// The built-in toolset.
        "agent_toolset_20260401" => Toolset(AgentToolset),
        /// The tools of an MCP server.
        "mcp_toolset" => McpToolset(McpToolset),
        /// A client-executed custom tool.
        "custom" => Custom(CustomTool),
    }
}

crate::open_union! {
    /// A tool entry as a request sends it.
    pub enum AgentToolParams {
        /// The built-in toolset.
        "agent_toolset_20260401" => Toolset(AgentToolsetParams),
        /// The tools of an MCP server.
        "mcp_toolset" => McpToolset(McpToolsetParams),
        /// A client-executed custom tool.
        "custom" => Custom(CustomTool),
    }
}

impl AgentToolParams {
    /// The built-in toolset with every tool enabled and server defaults.
    pub fn agent_toolset() -> Self {
        Self::Toolset(AgentToolsetParams::default())
    }

    /// Every tool of the named MCP server, with the server's defaults.
    pub fn mcp_toolset(mcp_server_name: impl Into<String>) -> Self {
        Self::McpToolset(McpToolsetParams::new(mcp_server_name))
    }
}

// ---------------------------------------------------------------------------------------------
// MCP servers, skills, execution identity
// ---------------------------------------------------------------------------------------------

crate::open_enum! {
    /// The `type` of an [`McpServer`].
    pub enum McpServerType {
        /// A server reached over HTTP at a URL.
        Url = "url",
    }
}

/// An MCP server an agent connects to (`{"type": "url", name, url}`); requests and responses share
/// this shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServer {
    /// How the server is reached; `url` today.
    #[serde(rename = "type")]
    pub kind: McpServerType,
    /// Unique name, referenced by an `mcp_toolset` (1-255 characters).
    pub name: String,
    /// Endpoint URL.
    pub url: String,
}

impl McpServer {
    /// A URL server.
    pub fn url(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            kind: McpServerType::Url,
            name: name.into(),
            url: url.into(),
        }
    }
}

/// A resolved Anthropic-managed skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnthropicSkill {
    /// Skill identifier, e.g. `xlsx`.
    pub skill_id: String,
    /// Resolved version.
    pub version: String,
}

/// A resolved user-created skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomSkill {
    /// Tagged skill ID (`skill_...`).
    pub skill_id: String,
    /// Resolved version.
    pub version: String,
}

crate::open_union! {
    /// A skill of an agent as responses return it.
    pub enum Skill {
        /// An Anthropic-managed skill.
        "anthropic" => Anthropic(AnthropicSkill),
        /// A user-created skill.
        "custom" => Custom(CustomSkill),
    }
}

impl Skill {
    /// The skill ID, for known types.
    pub fn skill_id(&self) -> Option<&str> {
        match self {
            Self::Anthropic(s) => Some(&s.skill_id),
            Self::Custom(s) => Some(&s.skill_id),
            Self::Unknown(_) => None,
        }
    }
}

/// An Anthropic-managed skill as a request names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnthropicSkillParams {
    /// Skill identifier, e.g. `xlsx`.
    pub skill_id: String,
    /// Version to pin; latest when omitted.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub version: Nullable<String>,
}

/// A user-created skill as a request names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomSkillParams {
    /// Tagged skill ID (`skill_...`).
    pub skill_id: String,
    /// Version to pin; latest when omitted.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub version: Nullable<String>,
}

crate::open_union! {
    /// A skill to load in the session container, as a request names it.
    pub enum SkillParams {
        /// An Anthropic-managed skill.
        "anthropic" => Anthropic(AnthropicSkillParams),
        /// A user-created skill.
        "custom" => Custom(CustomSkillParams),
    }
}

impl SkillParams {
    /// The latest version of an Anthropic-managed skill.
    pub fn anthropic(skill_id: impl Into<String>) -> Self {
        Self::Anthropic(AnthropicSkillParams {
            skill_id: skill_id.into(),
            version: Nullable::Absent,
        })
    }

    /// The latest version of a user-created skill.
    pub fn custom(skill_id: impl Into<String>) -> Self {
        Self::Custom(CustomSkillParams {
            skill_id: skill_id.into(),
            version: Nullable::Absent,
        })
    }
}

/// An AWS IAM role principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsRoleIdentity {
    /// The role's ARN (at most 2048 characters).
    pub role_arn: String,
}

/// The Anthropic-managed service account; carries no identifier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountIdentity {}

crate::open_union! {
    /// The principal runs of an agent execute as. Requests and responses share this shape;
    /// `service_account` is the default.
    pub enum ExecutionIdentity {
        /// An AWS IAM role.
        "aws_role" => AwsRole(AwsRoleIdentity),
        /// The Anthropic-managed service account.
        "service_account" => ServiceAccount(ServiceAccountIdentity),
    }
}

impl Default for ExecutionIdentity {
    fn default() -> Self {
        Self::ServiceAccount(ServiceAccountIdentity {})
    }
}

impl ExecutionIdentity {
    /// An AWS IAM role principal.
    pub fn aws_role(role_arn: impl Into<String>) -> Self {
        Self::AwsRole(AwsRoleIdentity {
            role_arn: role_arn.into(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Multiagent
// ---------------------------------------------------------------------------------------------

crate::open_enum! {
    /// The `type` of an [`Agent`] or an [`AgentReference`]: always `agent`.
    pub enum AgentType {
        /// An agent.
        Agent = "agent",
    }
}

/// A resolved agent reference with a concrete version (`{"type": "agent", id, version}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentReference {
    /// Always `agent`.
    #[serde(rename = "type")]
    pub kind: AgentType,
    /// The agent.
    pub id: AgentId,
    /// The agent's version.
    pub version: u32,
}

impl AgentReference {
    /// A reference to `version` of agent `id`.
    pub fn new(id: impl Into<AgentId>, version: u32) -> Self {
        Self {
            kind: AgentType::Agent,
            id: id.into(),
            version,
        }
    }
}

/// An agent and its version, inside a tagged roster entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentVersion {
    /// The agent.
    pub id: AgentId,
    /// The agent's version.
    pub version: u32,
}

/// An advisor model, inside a tagged roster entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisorModel {
    /// The advisor model ID.
    pub model: ModelId,
}

crate::open_union! {
    /// An entry of a resolved coordinator roster.
    pub enum CoordinatorAgent {
        /// An agent the coordinator may spawn as a session thread, at a concrete version.
        "agent" => Agent(AgentVersion),
        /// A model the primary thread may consult mid-turn.
        "advisor" => Advisor(AdvisorModel),
    }
}

/// The resolved `coordinator` topology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coordinator {
    /// Agents (and advisors) the coordinator may use.
    pub agents: Vec<CoordinatorAgent>,
}

/// A member that is turned off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDisabled {}

crate::open_union! {
    /// Whether the primary thread can consult an advisor model. Requests and responses share
    /// this shape.
    pub enum AdvisorConfig {
        /// The primary thread can consult `model`.
        "enabled" => Enabled(AdvisorModel),
        /// No advisor.
        "disabled" => Disabled(MemberDisabled),
    }
}

type_only_union! {
    /// Whether the agent can define inline (unsaved) agents.
    pub enum InlineAgents {
        /// It can.
        "enabled" => Enabled,
        /// It cannot.
        "disabled" => Disabled,
    }
}

/// A resolved enabled `subagents` or `workflows` member: which agents it can use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentPoolEnabled {
    /// Whether inline agents may be defined.
    pub inline_agents: InlineAgents,
    /// Saved agents that may be used, each at a concrete version.
    pub predefined_agents: Vec<AgentReference>,
}

crate::open_union! {
    /// A resolved `subagents` member (spawning session threads) or `workflows` member (starting
    /// workflow runs); both have this shape.
    pub enum AgentPool {
        /// The member is on.
        "enabled" => Enabled(AgentPoolEnabled),
        /// The member is off.
        "disabled" => Disabled(MemberDisabled),
    }
}

/// The resolved `multiagent_20261001` configuration: three members, each on or off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Multiagent20261001 {
    /// Whether the primary thread can consult an advisor.
    pub advisor: AdvisorConfig,
    /// Whether the agent can spawn session threads.
    pub subagents: AgentPool,
    /// Whether the agent can start workflow runs.
    pub workflows: AgentPool,
}

crate::open_union! {
    /// Resolved multiagent orchestration configuration.
    pub enum Multiagent {
        /// The older coordinator topology.
        "coordinator" => Coordinator(Coordinator),
        /// Advisor, subagents and workflows, each on or off.
        "multiagent_20261001" => V20261001(Multiagent20261001),
    }
}

/// An agent named in a request's roster, optionally pinned to a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentVersionParams {
    /// The agent.
    pub id: AgentId,
    /// Version to use; the latest when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// An agent a request lists in a coordinator roster or in `predefined_agents`: an agent ID
/// string, an `agent` reference, `self`, or (coordinator rosters only) an `advisor`.
#[derive(Debug, Clone, PartialEq)]
pub enum RosterEntryParams {
    /// An agent ID string: the latest version of that agent.
    Id(AgentId),
    /// `{"type": "agent", id, version?}`.
    Agent(AgentVersionParams),
    /// `{"type": "self"}`: the agent that owns this configuration.
    SelfAgent,
    /// `{"type": "advisor", model}`: an advisor model (coordinator rosters only).
    Advisor(AdvisorModel),
    /// An object whose `type` this version does not know, kept as sent.
    Unknown(serde_json::Value),
}

impl From<AgentId> for RosterEntryParams {
    fn from(id: AgentId) -> Self {
        Self::Id(id)
    }
}

impl From<&str> for RosterEntryParams {
    fn from(id: &str) -> Self {
        Self::Id(id.into())
    }
}

impl Serialize for RosterEntryParams {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Id(id) => id.serialize(serializer),
            Self::Agent(inner) => Tagged {
                r#type: "agent",
                inner,
            }
            .serialize(serializer),
            Self::SelfAgent => Tagged {
                r#type: "self",
                inner: &MemberDisabled {},
            }
            .serialize(serializer),
            Self::Advisor(inner) => Tagged {
                r#type: "advisor",
                inner,
            }
            .serialize(serializer),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RosterEntryParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match StringOrObject::read(deserializer, "roster entry")? {
            StringOrObject::String(id) => Ok(Self::Id(id.into())),
            StringOrObject::Object(raw) => {
                let tag = match raw.get("type") {
                    Some(serde_json::Value::String(tag)) => tag.as_str(),
                    Some(_) => {
                        return Err(D::Error::custom(
                            "invalid `type` of roster entry: expected a string",
                        ));
                    }
                    None => return Err(D::Error::custom("missing field `type` of roster entry")),
                };
                let invalid = |e: crate::open::DecodeError| {
                    D::Error::custom(format_args!("invalid `{tag}`: {e}"))
                };
                match tag {
                    "agent" => crate::open::decode::<AgentVersionParams>(&raw)
                        .map(Self::Agent)
                        .map_err(invalid),
                    "self" => Ok(Self::SelfAgent),
                    "advisor" => crate::open::decode::<AdvisorModel>(&raw)
                        .map(Self::Advisor)
                        .map_err(invalid),
                    _ => Ok(Self::Unknown(raw)),
                }
            }
        }
    }
}

/// The `coordinator` topology as a request sends it (prefer `multiagent_20261001`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoordinatorParams {
    /// 1-20 distinct agents the coordinator may spawn; at most one `self`.
    pub agents: Vec<RosterEntryParams>,
}

/// An enabled `subagents` or `workflows` member as a request sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentPoolEnabledParams {
    /// Whether inline agents may be defined (enabled when unset).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub inline_agents: Nullable<InlineAgents>,
    /// Saved agents that may be used (at most 20); `null` and `[]` both mean none.
    /// [`RosterEntryParams::Advisor`] is not valid here.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub predefined_agents: Nullable<Vec<RosterEntryParams>>,
}

crate::open_union! {
    /// A `subagents` or `workflows` member as a request sends it.
    pub enum AgentPoolParams {
        /// The member is on.
        "enabled" => Enabled(AgentPoolEnabledParams),
        /// The member is off.
        "disabled" => Disabled(MemberDisabled),
    }
}

/// The `multiagent_20261001` configuration as a request sends it.
///
/// On update over a stored `multiagent_20261001`, it is merged level by level: an omitted key
/// keeps its stored value, and a key sent as `null` takes its default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Multiagent20261001Params {
    /// Advisor (disabled by default).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub advisor: Nullable<AdvisorConfig>,
    /// Subagents (enabled by default).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub subagents: Nullable<AgentPoolParams>,
    /// Workflows (enabled by default).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub workflows: Nullable<AgentPoolParams>,
}

crate::open_union! {
    /// Multiagent orchestration configuration as a request sends it.
    pub enum MultiagentParams {
        /// The older coordinator topology.
        "coordinator" => Coordinator(CoordinatorParams),
        /// Advisor, subagents and workflows, each on or off.
        "multiagent_20261001" => V20261001(Multiagent20261001Params),
    }
}

// ---------------------------------------------------------------------------------------------
// The agent object and its requests
// ---------------------------------------------------------------------------------------------

/// A Managed Agents agent (`"type": "agent"`): a versioned, reusable configuration.
///
/// The constant `type` is kept in [`kind`](Self::kind) so the object round-trips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// The agent's ID (`agent_...`).
    pub id: AgentId,
    /// Always `agent`.
    #[serde(rename = "type")]
    pub kind: AgentType,
    /// Human-readable name.
    pub name: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Model and resolved configuration.
    pub model: ModelConfig,
    /// System prompt, if any.
    pub system: Option<String>,
    /// Tools.
    pub tools: Vec<AgentTool>,
    /// MCP servers.
    pub mcp_servers: Vec<McpServer>,
    /// Skills.
    pub skills: Vec<Skill>,
    /// Multiagent configuration; `null` when single-threaded.
    pub multiagent: Option<Multiagent>,
    /// Execution principal; `service_account` when no customer-named principal is set.
    pub execution_identity: ExecutionIdentity,
    /// Metadata.
    pub metadata: Metadata,
    /// Current version: starts at 1 and increments on each change.
    pub version: u32,
    /// When the agent was created.
    pub created_at: Timestamp,
    /// When the agent was last updated.
    pub updated_at: Timestamp,
    /// When the agent was archived; `null` if not archived.
    pub archived_at: Option<Timestamp>,
}

impl Agent {
    /// The agent's custom tools, in order.
    pub fn custom_tools(&self) -> impl Iterator<Item = &CustomTool> {
        self.tools.iter().filter_map(|tool| match tool {
            AgentTool::Custom(custom) => Some(custom),
            _ => None,
        })
    }

    /// Whether the agent is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// A reference to this agent at its current version.
    pub fn reference(&self) -> AgentReference {
        AgentReference::new(self.id.clone(), self.version)
    }
}

/// Body of `POST /v1/agents`.
///
/// ```
/// use steward_core::agent::AgentCreate;
/// let body = AgentCreate {
///     name: "Reviewer".into(),
///     model: "claude-sonnet-4-6".into(),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_value(&body).unwrap(),
///     serde_json::json!({"name": "Reviewer", "model": "claude-sonnet-4-6"}),
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentCreate {
    /// Human-readable name.
    pub name: String,
    /// The model: a model ID string or a [`ModelConfigParams`].
    pub model: ModelParam,
    /// What the agent does.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    /// System prompt.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub system: Nullable<String>,
    /// Tools (at most 256 tools across all toolsets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<AgentToolParams>>,
    /// MCP servers (at most 20, unique names, each used by an `mcp_toolset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<Vec<McpServer>>,
    /// Skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<SkillParams>>,
    /// Metadata (at most 16 pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Multiagent configuration.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub multiagent: Nullable<MultiagentParams>,
    /// Execution principal; omitted, `null` and `service_account` all store the default.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub execution_identity: Nullable<ExecutionIdentity>,
}

/// Body of `POST /v1/agents/{agent_id}`: every field is optional, and an omitted field keeps its
/// stored value. Lists are replaced whole; `null` clears where the API allows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentUpdate {
    /// New name (cannot be cleared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New model (cannot be cleared; replaced whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelParam>,
    /// Description; `null` or `""` clears.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    /// System prompt; `null` or `""` clears.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub system: Nullable<String>,
    /// Tools; `null` or `[]` clears.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub tools: Nullable<Vec<AgentToolParams>>,
    /// MCP servers; `null` or `[]` clears.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub mcp_servers: Nullable<Vec<McpServer>>,
    /// Skills; `null` or `[]` clears.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub skills: Nullable<Vec<SkillParams>>,
    /// Metadata patch: a string upserts a key, `null` deletes it.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<MetadataPatch>,
    /// Multiagent configuration; `null` clears (see [`Multiagent20261001Params`] for merging).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub multiagent: Nullable<MultiagentParams>,
    /// Execution principal; `null` restores the default.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub execution_identity: Nullable<ExecutionIdentity>,
    /// Optimistic lock: the update fails unless this matches the stored version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// Query of `GET /v1/agents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentListParams {
    /// Agents created at or after this time (`created_at[gte]`).
    #[serde(
        rename = "created_at[gte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_gte: Option<Timestamp>,
    /// Agents created at or before this time (`created_at[lte]`).
    #[serde(
        rename = "created_at[lte]",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at_lte: Option<Timestamp>,
    /// Include archived agents (false by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    /// Maximum items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// Query of `GET /v1/agents/{agent_id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRetrieveParams {
    /// Version to read (at least 1); the latest when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// Query of `GET /v1/agents/{agent_id}/versions`: the shared cursor parameters.
pub type AgentVersionListParams = crate::PageParams;
