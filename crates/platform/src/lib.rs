//! A local, self-hostable server of the Managed Agents API, backed by SQLite.
//!
//! Under construction: see ARCHITECTURE.md for what this crate will hold.
