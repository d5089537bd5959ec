//! Placeholder module, filled in by the environment work.
