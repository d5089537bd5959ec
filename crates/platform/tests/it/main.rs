//! Integration tests of the platform over real HTTP on 127.0.0.1.

#[expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any unexpected error"
)]
mod support;

mod agents;
mod engine;
mod environments;
mod events;
mod memory;
mod server;
mod sessions;
mod vaults;
