//! The Rust client of the Managed Agents API.
//!
//! * [`Client`] holds the configuration and a `tower` service stack ([`http`]): per-attempt and
//!   total timeouts, retries that never duplicate a non-idempotent request, an optional
//!   concurrency limit, optional requests-per-minute budgets ([`RateLimit`]), one `tracing`
//!   span per call, and any layers the caller adds.
//! * Typed calls: [`Client::get`], [`Client::post`], [`Client::post_empty`],
//!   [`Client::delete`], [`Client::list`] (a `Stream` over cursor pages), and the general
//!   [`RequestBuilder`] they are built on.
//! * [`resources`]: typed calls per resource, shaped like the SDK (`client.agents()`,
//!   `client.environments()`, `client.sessions()` with `.events()`, `.resources()`,
//!   `.threads()`, `client.memory_stores()`, `client.vaults()`).
//! * [`resilient`]: a session event stream that reconnects and fills gaps from the list,
//!   yielding every event once, in order.
//! * [`runner`]: the [`SessionRunner`], which drives sessions and runs the host's tools, and
//!   [`Transcript`] for snapshot tests of agents.
//! * [`sse`]: a sans-IO server-sent-events parser and the typed event stream built on it.
//! * [`Error`]: one error type, grouped by what the caller can do.
//!
//! Configuration comes from the builder, or from the environment through
//! [`Client::from_env`] (variable names in [`mod@env`]). The API key is a
//! [`secrecy::SecretString`] and enters a request only in the last layer before the wire.

pub mod client;
pub mod env;
pub mod error;
pub mod http;
pub mod pagination;
pub mod query;
pub mod request;
pub mod resilient;
pub mod resources;
pub mod runner;
pub mod sse;

pub use client::{Client, ClientBuilder, HttpVersion};
pub use error::{ApiErrorInfo, Error, Result, TimeoutScope};
pub use http::rate_limit::{Budget, RateLimit};
pub use http::retry::{RetryAction, RetryPolicy, should_retry};
pub use http::{ApiRequest, ApiResponse, RetrySafety};
pub use pagination::ListStream;
pub use request::RequestBuilder;
pub use resilient::{EventCursor, ResilientEventStream, ResilientOptions, StartFrom};
pub use runner::{SessionRunner, Transcript, TurnResult};
pub use sse::EventStream;
