//! Filled in by the agents work.
