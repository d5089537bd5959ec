//! Placeholder module, filled in by the agent work.
