//! Placeholder module, filled in by the session work.
