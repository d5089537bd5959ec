//! The `steward` personal assistant that remembers each user across sessions.
//!
//! Under construction: see ARCHITECTURE.md for what this crate will hold.
