//! Integration tests of steward-plugin-aws: a binary that links the plugin finds its tools in
//! the inventory, and the tools' signatures verify at a local server.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on setup failures"
)]

// Name the plugin crate so the linker keeps it, and with it its inventory registrations: a
// dependency nothing refers to can be dropped (rust-lang/rust#64402). `unlinked.rs` is the
// same test binary without this line.
use steward_plugin_aws as _;

mod registry;
mod server;
