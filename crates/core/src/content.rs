//! Placeholder module, filled in by the content work.
