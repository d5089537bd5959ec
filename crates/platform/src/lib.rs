//! A local, self-hostable server of the Managed Agents API, backed by SQLite.
//!
//! The platform speaks the same HTTP API as `https://api.anthropic.com/v1/…` for the resources
//! it implements, so the official SDKs and `steward-runtime` work against it unchanged. It
//! parses strictly (anything `steward-core` would keep as `Unknown` is a 400) and answers in
//! the API's shapes, error bodies and status codes included.
//!
//! * Start one in-process with [`Platform::builder`] (`start`, `start_ephemeral`), or run the
//!   `steward-platform` binary ([`cli`]).
//! * Requests need an API key ([`auth`]); every response carries a `request-id`
//!   ([`envelope`]); handlers return [`Error`] for anything that goes wrong ([`error`]). Per-key rate limits
//!   and the body size limit: [`limits`].
//! * Storage is one SQLite file with append-only migrations ([`db`], [`migrations`]); lists
//!   share keyset pagination ([`pagination`]); bodies and queries go through strict extractors
//!   ([`extract`], [`validate`]); metadata rules live in [`metadata`].
//! * Resources: [`agents`], [`environments`], [`sessions`], [`memory`], [`vaults`]; session [`events`] (history, stream, threads); the session [`engine`] (agent loop, model, tools). See the crate README for how to add one.

pub mod agents;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod db;
pub mod engine;
pub mod envelope;
pub mod environments;
pub mod error;
pub mod events;
pub mod extract;
pub mod ids;
pub mod limits;
pub mod listen;
pub mod memory;
pub mod metadata;
pub mod migrations;
pub mod pagination;
mod routes;
pub mod server;
pub mod sessions;
pub mod state;
pub mod validate;
pub mod vaults;

pub use error::{Error, Result, StartError};
#[doc(hidden)]
pub use routes::ROUTES;
pub use server::{DEFAULT_LISTEN, Platform, PlatformBuilder, PlatformHandle, default_data_dir};
pub use state::AppState;
