//! Filled in by the vaults work.
