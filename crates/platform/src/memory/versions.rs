//! The memory version endpoints: list, retrieve, redact.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use steward_core::memory::{
    MemoryOperation, MemoryVersion, MemoryVersionListParams, MemoryVersionRetrieveParams,
    MemoryView,
};
use steward_core::{MemoryStoreId, MemoryVersionId, Page};

use super::batch::Batcher;
use super::memories::{actor, check_view, is_full, limits};
use super::store::{self, store_not_found, version_columns, version_from_row};
use crate::auth::Caller;
use crate::clock::{Rounding, filter_bound};
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::pagination::{Filter, Listing, Order, PageRequest};
use crate::state::AppState;
use crate::validate::{Validate, known};

impl Validate for MemoryVersionListParams {
    fn validate(&self) -> Result<()> {
        check_view(self.view.as_ref())?;
        if let Some(operation) = &self.operation {
            known(
                "operation",
                operation.is_unknown(),
                operation.as_str(),
                MemoryOperation::KNOWN,
            )?;
        }
        Ok(())
    }
}

fn version_not_found(id: &MemoryVersionId) -> Error {
    Error::object_not_found("memory version", id)
}

/// The 404 for a version: of its store when the store does not exist.
fn missing(conn: &rusqlite::Connection, store_id: &MemoryStoreId, id: &MemoryVersionId) -> Error {
    match store::store_state(conn, store_id) {
        Ok(None) => store_not_found(store_id),
        Ok(Some(_)) => version_not_found(id),
        Err(e) => e,
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(store_id): Path<MemoryStoreId>,
    Query(params): Query<MemoryVersionListParams>,
) -> Result<Json<Page<MemoryVersion>>> {
    let full = is_full(params.view.as_ref(), MemoryView::Basic);
    let request = PageRequest::new(params.limit, params.page.as_deref(), limits(full))?;
    let mut filter = Filter::new();
    filter.and_with("store_id = ?", [store_id.as_str().to_owned()]);
    if let Some(memory_id) = &params.memory_id {
        filter.and_with("memory_id = ?", [memory_id.as_str().to_owned()]);
    }
    if let Some(operation) = &params.operation {
        filter.and_with("operation = ?", [operation.as_str().to_owned()]);
    }
    let actors = [
        (
            "session_actor",
            params.session_id.as_ref().map(|id| id.as_str()),
        ),
        (
            "api_actor",
            params.api_key_id.as_ref().map(|id| id.as_str()),
        ),
        (
            "service_account_actor",
            params.service_account_id.as_ref().map(|id| id.as_str()),
        ),
    ];
    for (actor_type, id) in actors {
        if let Some(id) = id {
            filter.and_with(
                "actor_type = ? AND actor_id = ?",
                [actor_type.to_owned(), id.to_owned()],
            );
        }
    }
    if let Some(gte) = &params.created_at_gte {
        filter.and_with(
            "created_at >= ?",
            [filter_bound("created_at[gte]", gte, Rounding::Ceil)?],
        );
    }
    if let Some(lte) = &params.created_at_lte {
        filter.and_with(
            "created_at <= ?",
            [filter_bound("created_at[lte]", lte, Rounding::Floor)?],
        );
    }
    state
        .db
        .read(move |conn| {
            if store::store_state(conn, &store_id)?.is_none() {
                return Err(store_not_found(&store_id));
            }
            Listing::new("memory_versions", version_columns(full), &filter)
                .order(Order::Desc)
                .page(conn, &request, version_from_row)
        })
        .await
        .map(Json)
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path((store_id, id)): Path<(MemoryStoreId, MemoryVersionId)>,
    Query(params): Query<MemoryVersionRetrieveParams>,
) -> Result<Json<MemoryVersion>> {
    let full = is_full(params.view.as_ref(), MemoryView::Full);
    state
        .db
        .read(move |conn| {
            store::load_version(conn, &store_id, &id, full)?
                .ok_or_else(|| missing(conn, &store_id, &id))
        })
        .await
        .map(Json)
}

pub(super) async fn redact(
    State(state): State<AppState>,
    Extension(batcher): Extension<Arc<Batcher>>,
    caller: Caller,
    Path((store_id, id)): Path<(MemoryStoreId, MemoryVersionId)>,
) -> Result<Json<MemoryVersion>> {
    let by = actor(&caller);
    batcher
        .write(&state.db, move |conn| {
            let version = store::load_version(conn, &store_id, &id, false)?
                .ok_or_else(|| missing(conn, &store_id, &id))?;
            if version.is_redacted() {
                return Ok(version);
            }
            if let Some(memory_id) = store::memory_holding_version(conn, &id)? {
                return Err(Error::conflict(format!(
                    "memory version `{id}` holds the current content of memory `{memory_id}`; \
                     update or delete the memory first, then redact this version"
                ))
                .with_code("memory_version_is_current"));
            }
            store::redact_version(conn, &id, &crate::clock::now(), &by)?;
            store::load_version(conn, &store_id, &id, false)?.ok_or_else(|| version_not_found(&id))
        })
        .await
        .map(Json)
}
