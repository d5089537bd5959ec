//! Integration tests of the `steward` binary: each test runs the built binary against its own
//! temporary data directory (the embedded platform), without `ANTHROPIC_API_KEY`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on setup failures"
)]

mod chat;
mod errors;
mod memory;
#[cfg(unix)]
mod pty;
mod scripted;
mod setup;
mod support;
mod transfer;
mod vault;
