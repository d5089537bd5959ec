//! The Rust client of the Managed Agents API and the session runner that answers `requires_action`
//! by dispatching custom tool calls to host-side tool plugins.
//!
//! Under construction: see ARCHITECTURE.md for what this crate will hold.
