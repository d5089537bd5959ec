//! The `Tool` plugin trait, link-time registration of host-side tools, and built-in tools.
//!
//! Under construction: see ARCHITECTURE.md for what this crate will hold.
