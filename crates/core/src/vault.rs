//! Placeholder module, filled in by the vault work.
