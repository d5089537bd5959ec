//! Host-side tools for Steward sessions: the [`Tool`] plugin trait, link-time registration with
//! `inventory`, and built-in tools.
//!
//! When an agent calls a custom tool, the session goes idle with `requires_action` and the host
//! runs the tool, so credentials stay on the host and never enter the agent's container. This
//! crate is that host side:
//!
//! * [`Tool`] (dyn-compatible, `#[async_trait]`) and [`TypedTool`], its typed form with a
//!   `serde` input and a `schemars` schema; [`ToolContext`] carries the session, the user, the
//!   tool-use ID (an idempotency key), a cancellation token and a span.
//! * [`ToolOutput`] and [`ToolError`] (with a stable [`ToolErrorKind`]), which become the
//!   content of a `user.custom_tool_result` ([`custom_tool_result`]).
//! * [`Registry`]: [`Registry::from_inventory`] collects every tool registered with
//!   [`register_tool!`] in the linked crates; [`Registry::agent_tools`] turns it into the
//!   agent's `custom` tool definitions, so an agent declares exactly the tools the host runs.
//! * Built-ins ([`builtin`]): `clock`, registered through inventory, and `http_request`, which a
//!   host opts into with its own allow-list ([`builtin::HttpRequest::new`]) because it carries
//!   host secrets.
//!
//! Tools read the host environment through an [`Env`] they are given, never directly, and
//! scrub secrets a server echoes back with a [`Redactor`].
//!
//! **Invariant:** this crate depends on `steward-core` only among workspace crates.

pub mod builtin;
mod context;
mod env;
mod error;
pub mod http;
mod output;
pub mod redact;
mod registry;
mod tool;

pub use context::ToolContext;
pub use env::Env;
pub use error::{BoxError, ConfigError, RegistryError, ToolError, ToolErrorKind};
pub use output::{ToolOutput, custom_tool_result};
pub use redact::Redactor;
pub use registry::{Registry, ToolRegistration, validate_name};
pub use tool::{Tool, TypedTool, decode_input, input_schema_for};

/// Re-exported so tool crates write `#[steward_tools::async_trait]` without a direct
/// dependency.
pub use async_trait::async_trait;

/// Re-exported for [`register_tool!`] and for registering a tool that is not a [`TypedTool`]:
/// `steward_tools::inventory::submit! { ToolRegistration::new("name", build) }`.
pub use inventory;

/// Registers a [`TypedTool`] with every binary that links the calling crate.
///
/// * `register_tool!(MyTool)` builds it with `MyTool::default()`.
/// * `register_tool!(MyTool, MyTool::from_env)` builds it with a `fn() -> MyTool`.
///
/// The name is `MyTool::NAME`. [`Registry::from_inventory`] collects the registrations.
#[macro_export]
macro_rules! register_tool {
    ($tool:ty) => {
        $crate::register_tool!($tool, <$tool as ::core::default::Default>::default);
    };
    ($tool:ty, $build:expr) => {
        $crate::inventory::submit! {
            $crate::ToolRegistration::new(<$tool as $crate::TypedTool>::NAME, || {
                let build: fn() -> $tool = $build;
                ::std::boxed::Box::new(build()) as ::std::boxed::Box<dyn $crate::Tool>
            })
        }
    };
}
