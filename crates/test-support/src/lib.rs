//! Test helpers shared by the workspace's integration tests (never published).
//!
//! * [`chaos`]: [`ChaosProxy`](chaos::ChaosProxy), an HTTP/1 proxy that injects faults (dropped
//!   and stalled event streams, failed event posts, delays) at points chosen by a seed.

pub mod chaos;
