//! Test helpers shared by the workspace's integration tests (never published).
//!
//! * [`chaos`]: [`ChaosProxy`](chaos::ChaosProxy), an HTTP/1 proxy that injects faults (dropped
//!   and stalled event streams, failed event posts, delays) at points chosen by a seed.
//! * [`mcp`]: [`McpFixture`](mcp::McpFixture), a local MCP server (built with `rmcp`) that
//!   requires a bearer token, with a local OAuth token endpoint; the `mcp-fixture` binary
//!   serves one for the SDK conformance run.

pub mod chaos;
pub mod mcp;
