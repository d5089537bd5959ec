//! Integration tests of steward-runtime against local servers on 127.0.0.1:0.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on setup failures"
)]

mod chaos;
mod errors;
mod ledger_kill;
mod pagination;
mod platform;
mod rate_limit;
mod requests;
mod resilient;
mod resources;
mod retry;
mod runner;
mod sse;
mod support;
mod wire;
