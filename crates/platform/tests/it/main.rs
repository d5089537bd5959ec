//! Integration tests of the platform over real HTTP on 127.0.0.1.

#[expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any unexpected error"
)]
mod support;

mod agents;
#[expect(clippy::unwrap_used, reason = "tests fail on any unexpected error")]
mod canary;
#[expect(clippy::unwrap_used, reason = "tests fail on any unexpected error")]
mod crash;
mod engine;
mod environments;
mod events;
#[expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail on any unexpected error"
)]
mod fuzz;
#[expect(clippy::unwrap_used, reason = "tests fail on any unexpected error")]
mod hostile;
mod mcp;
mod memory;
mod providers;
#[expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail on any unexpected error"
)]
mod security;
mod server;
mod sessions;
mod vault_tokens;
mod vaults;
