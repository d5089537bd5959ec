//! Placeholder module, filled in by the memory work.
