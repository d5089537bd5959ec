//! Protocol types of Anthropic's Managed Agents API (beta `managed-agents-2026-04-01`).
//!
//! Every object, request body, query and event of the API as `serde` types, checked against the
//! official TypeScript SDK `@anthropic-ai/sdk` 1.10.0. This crate is pure data: it does no I/O and
//! depends on neither tokio nor an HTTP stack, so the runtime (the client) and the platform (the
//! server) share one definition of the wire format.
//!
//! Conventions, used everywhere:
//! * IDs are newtypes ([`ids`]), plain strings on the wire.
//! * Unions tagged by `type` and open string sets are forward compatible ([`open`]): what this
//!   version does not know is kept in an `Unknown` variant and written back unchanged.
//! * "Absent", `null` and a value are kept apart where the API gives them different meanings
//!   ([`Nullable`]).
//! * Request structs have public fields and `Default`, so call sites read
//!   `AgentCreate { name, model, ..Default::default() }`:
//!
//! ```
//! use steward_core::agent::AgentCreate;
//!
//! let create = AgentCreate {
//!     name: "assistant".into(),
//!     model: "claude-sonnet-4-6".into(),
//!     system: "Check your memory first.".to_owned().into(),
//!     ..Default::default()
//! };
//! let json = serde_json::to_value(&create).unwrap();
//! assert_eq!(json["model"], "claude-sonnet-4-6");
//! assert_eq!(json["system"], "Check your memory first.");
//! assert!(json.get("description").is_none());
//! ```

pub mod agent;
pub mod common;
pub mod content;
pub mod environment;
pub mod error;
pub mod event;
pub mod ids;
pub mod memory;
pub mod nullable;
#[doc(hidden)]
pub mod open;
pub mod page;
pub mod resource;
pub mod session;
pub mod thread;
pub mod usage;
pub mod vault;
pub mod work;

pub use common::{Deleted, DeletedType, Metadata, MetadataPatch, Money, Timestamp};
pub use error::{ApiError, ErrorResponse, ErrorType};
pub use ids::*;
pub use nullable::Nullable;
pub use page::{BidirectionalPage, Page, PageParams};

/// The `anthropic-version` header value the official SDKs send.
pub const ANTHROPIC_VERSION: &str = "2026-10-21";

/// The beta header value for agents, environments, sessions and vaults.
pub const MANAGED_AGENTS_BETA: &str = "managed-agents-2026-04-01";

/// The beta header value memory endpoints default to (they also accept [`MANAGED_AGENTS_BETA`]).
pub const AGENT_MEMORY_BETA: &str = "agent-memory-2026-07-22";
