//! Typed resources, shaped like the official SDK's `client.beta.*`:
//!
//! | Call | Paths |
//! |---|---|
//! | `client.agents()` | `/v1/agents…` |
//! | `client.environments()`, `.work()` | `/v1/environments…`, `…/{environment_id}/work…` |
//! | `client.sessions()` | `/v1/sessions…` |
//! | `client.sessions().events()` | `…/{session_id}/events`, `…/events/stream` (plain and resilient) |
//! | `client.sessions().resources()` | `…/{session_id}/resources…` |
//! | `client.sessions().threads()`, `.events()` | `…/{session_id}/threads…`, `…/{thread_id}/events`, `…/{thread_id}/stream` |
//! | `client.memory_stores()`, `.memories()`, `.memory_versions()` | `/v1/memory_stores…` (beta `agent-memory-2026-07-22`) |
//! | `client.vaults()`, `.credentials()` | `/v1/vaults…`, `…/{vault_id}/credentials…` |
//!
//! List methods return a `Stream` of items that fetches page after page as it is read
//! ([`ListStream`](crate::ListStream)); IDs take `steward-core` newtypes, bodies and queries are
//! `steward-core` request structs.
//!
//! Each method is a thin shell over [`RequestBuilder`](crate::RequestBuilder): it fills in the
//! path (IDs percent-encoded as one segment each), the route template for the tracing span,
//! the endpoint's beta and the [`RetrySafety`](crate::RetrySafety) of the call:
//! * creates and `POST …/events` are not idempotent (a retry could duplicate them);
//! * updates (`POST /v1/x/{id}`) are idempotent: they set fields or patch metadata, so a repeat
//!   converges (with a `version` lock, a repeat after a lost response may fail with a conflict
//!   even though the first attempt succeeded, but it never applies twice);
//! * archive and other bodiless POSTs, GET and DELETE are idempotent.

pub mod agents;
pub mod environments;
pub mod memory_stores;
pub mod session_resources;
pub mod sessions;
pub mod threads;
pub mod vaults;

use crate::query::percent_encode;

/// Percent-encodes an ID as one path segment (as the SDK's `path` template does).
pub(crate) fn seg(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    percent_encode(id, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_escaped_segment() {
        assert_eq!(seg("agent_011CZ"), "agent_011CZ");
        assert_eq!(seg("../x?y#z"), "..%2Fx%3Fy%23z");
    }
}
