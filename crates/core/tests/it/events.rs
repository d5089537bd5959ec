//! Filled in by the events work.
