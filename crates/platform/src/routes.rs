//! The router: every resource's routes behind the shared layers.
//!
//! Layers, outermost first: [`envelope`](crate::envelope::envelope) (request ID, error
//! shaping, logging), [`require_key`](crate::auth::require_key) (401 without a known key),
//! the body size limit (413). Unknown paths get a 404 and known paths with another method a
//! 405, both in the API's error shape.
//!
//! Inside the key check, [`limits::enforce`](crate::limits) applies the per-key rate limit (429)
//! and refuses bodies announced over the size limit (413).
//!
//! To add a resource: write a module with `pub(crate) fn routes() -> Router<AppState>` and
//! merge it below, and list its routes in [`ROUTES`] (a test fails otherwise).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};

use crate::state::AppState;

/// Every `(method, path pattern)` the router serves, for tests that must cover every route
/// (such as "no route answers without a key"). Kept honest by `tests/it/security.rs`, which
/// checks each entry is routed and that the sources register no other route.
#[doc(hidden)]
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/agents"),
    ("GET", "/v1/agents"),
    ("GET", "/v1/agents/{agent_id}"),
    ("POST", "/v1/agents/{agent_id}"),
    ("POST", "/v1/agents/{agent_id}/archive"),
    ("GET", "/v1/agents/{agent_id}/versions"),
    ("POST", "/v1/environments"),
    ("GET", "/v1/environments"),
    ("GET", "/v1/environments/{environment_id}"),
    ("POST", "/v1/environments/{environment_id}"),
    ("DELETE", "/v1/environments/{environment_id}"),
    ("POST", "/v1/environments/{environment_id}/archive"),
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions"),
    ("GET", "/v1/sessions/{session_id}"),
    ("POST", "/v1/sessions/{session_id}"),
    ("DELETE", "/v1/sessions/{session_id}"),
    ("POST", "/v1/sessions/{session_id}/archive"),
    ("GET", "/v1/sessions/{session_id}/resources"),
    ("POST", "/v1/sessions/{session_id}/resources"),
    ("GET", "/v1/sessions/{session_id}/resources/{resource_id}"),
    ("POST", "/v1/sessions/{session_id}/resources/{resource_id}"),
    (
        "DELETE",
        "/v1/sessions/{session_id}/resources/{resource_id}",
    ),
    ("GET", "/v1/sessions/{session_id}/events"),
    ("POST", "/v1/sessions/{session_id}/events"),
    ("GET", "/v1/sessions/{session_id}/events/stream"),
    ("GET", "/v1/sessions/{session_id}/threads"),
    ("GET", "/v1/sessions/{session_id}/threads/{thread_id}"),
    (
        "GET",
        "/v1/sessions/{session_id}/threads/{thread_id}/events",
    ),
    (
        "GET",
        "/v1/sessions/{session_id}/threads/{thread_id}/stream",
    ),
    ("POST", "/v1/memory_stores"),
    ("GET", "/v1/memory_stores"),
    ("GET", "/v1/memory_stores/{memory_store_id}"),
    ("POST", "/v1/memory_stores/{memory_store_id}"),
    ("DELETE", "/v1/memory_stores/{memory_store_id}"),
    ("POST", "/v1/memory_stores/{memory_store_id}/archive"),
    ("POST", "/v1/memory_stores/{memory_store_id}/memories"),
    ("GET", "/v1/memory_stores/{memory_store_id}/memories"),
    (
        "GET",
        "/v1/memory_stores/{memory_store_id}/memories/{memory_id}",
    ),
    (
        "POST",
        "/v1/memory_stores/{memory_store_id}/memories/{memory_id}",
    ),
    (
        "DELETE",
        "/v1/memory_stores/{memory_store_id}/memories/{memory_id}",
    ),
    ("GET", "/v1/memory_stores/{memory_store_id}/memory_versions"),
    (
        "GET",
        "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}",
    ),
    (
        "POST",
        "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}/redact",
    ),
    ("POST", "/v1/vaults"),
    ("GET", "/v1/vaults"),
    ("GET", "/v1/vaults/{vault_id}"),
    ("POST", "/v1/vaults/{vault_id}"),
    ("DELETE", "/v1/vaults/{vault_id}"),
    ("POST", "/v1/vaults/{vault_id}/archive"),
    ("POST", "/v1/vaults/{vault_id}/credentials"),
    ("GET", "/v1/vaults/{vault_id}/credentials"),
    ("GET", "/v1/vaults/{vault_id}/credentials/{credential_id}"),
    ("POST", "/v1/vaults/{vault_id}/credentials/{credential_id}"),
    (
        "DELETE",
        "/v1/vaults/{vault_id}/credentials/{credential_id}",
    ),
    (
        "POST",
        "/v1/vaults/{vault_id}/credentials/{credential_id}/archive",
    ),
    (
        "POST",
        "/v1/vaults/{vault_id}/credentials/{credential_id}/mcp_oauth_validate",
    ),
];

/// The whole API over `state`.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::agents::routes())
        .merge(crate::environments::routes())
        .merge(crate::sessions::routes())
        .merge(crate::events::routes())
        .merge(crate::memory::routes())
        .merge(crate::vaults::routes())
        .fallback(crate::envelope::not_found)
        .method_not_allowed_fallback(crate::envelope::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(from_fn_with_state(state.clone(), crate::limits::enforce))
        .layer(from_fn_with_state(state.clone(), crate::auth::require_key))
        .with_state(state)
        .layer(from_fn(crate::envelope::envelope))
}
