//! Filled in by the sessions work.
