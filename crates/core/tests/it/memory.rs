//! Filled in by the memory work.
