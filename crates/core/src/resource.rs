//! Placeholder module, filled in by the resource work.
