//! Placeholder module, filled in by the work work.
