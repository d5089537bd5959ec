//! Filled in by the environments work.
