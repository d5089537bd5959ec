//! Integration tests of steward-tools: one binary (see `duplicate.rs` for the one exception).
//!
//! This binary links steward-tools but no plugin crate, so `Registry::from_inventory()` holds
//! the built-ins only; `plugins/aws/tests` shows the other side, a plugin found by linking it.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on setup failures"
)]

mod http_request;
mod registry;
mod support;
mod typed;
