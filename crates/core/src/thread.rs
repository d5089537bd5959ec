//! Placeholder module, filled in by the thread work.
