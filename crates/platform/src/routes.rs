//! The router: every resource's routes behind the shared layers.
//!
//! Layers, outermost first: [`envelope`](crate::envelope::envelope) (request ID, error
//! shaping, logging), [`require_key`](crate::auth::require_key) (401 without a known key),
//! the body size limit (413). Unknown paths get a 404 and known paths with another method a
//! 405, both in the API's error shape.
//!
//! To add a resource: write a module with `pub(crate) fn routes() -> Router<AppState>` and
//! merge it below.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};

use crate::state::AppState;

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
        .layer(from_fn_with_state(state.clone(), crate::auth::require_key))
        .with_state(state)
        .layer(from_fn(crate::envelope::envelope))
}
