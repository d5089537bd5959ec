//! Placeholder module, filled in by the event work.
