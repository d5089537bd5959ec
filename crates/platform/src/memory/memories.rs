//! The memory endpoints: create, retrieve, update, list, delete.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use steward_core::memory::{
    Actor, ApiActor, DeletedMemory, Memory, MemoryCreate, MemoryDeleteParams, MemoryListItem,
    MemoryListParams, MemoryRetrieveParams, MemoryUpdate, MemoryView, Precondition,
    validate_memory_path_prefix,
};
use steward_core::{DeletedType, MemoryId, MemoryStoreId, Nullable, Page};

use super::batch::Batcher;
use super::list::{self, Cursor, ListRequest};
use super::store::{self, store_not_found};
use super::write::{self, MemoryChange, check_content, check_path, check_sha256};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::pagination::{Limits, PageRequest};
use crate::state::AppState;
use crate::validate::{Validate, known};

/// Page sizes of lists under `view=basic`.
pub(super) const BASIC_LIMITS: Limits = Limits {
    default: 20,
    max: 100,
};

/// Page sizes of lists under `view=full`.
pub(super) const FULL_LIMITS: Limits = Limits {
    default: 20,
    max: 20,
};

/// The actor an API request writes as.
pub(super) fn actor(caller: &Caller) -> Actor {
    match caller {
        Caller::ApiKey(id) => Actor::Api(ApiActor {
            api_key_id: id.clone(),
        }),
    }
}

/// Rejects an unknown `view`.
pub(super) fn check_view(view: Option<&MemoryView>) -> Result<()> {
    match view {
        Some(view) => known("view", view.is_unknown(), view.as_str(), MemoryView::KNOWN),
        None => Ok(()),
    }
}

/// Whether `view` (or its default) is `full`.
pub(super) fn is_full(view: Option<&MemoryView>, default: MemoryView) -> bool {
    *view.unwrap_or(&default) == MemoryView::Full
}

/// The page sizes for a view.
pub(super) fn limits(full: bool) -> Limits {
    if full { FULL_LIMITS } else { BASIC_LIMITS }
}

/// Drops the content unless the view is `full`.
fn in_view(mut memory: Memory, full: bool) -> Memory {
    if !full {
        memory.content = Nullable::Null;
    }
    memory
}

fn memory_not_found(id: &MemoryId) -> Error {
    Error::object_not_found("memory", id)
}

impl Validate for MemoryRetrieveParams {
    fn validate(&self) -> Result<()> {
        check_view(self.view.as_ref())
    }
}

impl Validate for MemoryCreate {
    fn validate(&self) -> Result<()> {
        check_path("path", &self.path)?;
        match &self.content {
            Some(content) => check_content("content", content),
            None => Err(Error::invalid_request(
                "`content`: must be a string; pass \"\" for an empty memory",
            )),
        }
    }
}

impl Validate for MemoryUpdate {
    fn validate(&self) -> Result<()> {
        if let Nullable::Value(path) = &self.path {
            check_path("path", path)?;
        }
        if let Nullable::Value(content) = &self.content {
            check_content("content", content)?;
        }
        if let Some(precondition) = &self.precondition {
            known(
                "precondition.type",
                precondition.is_unknown(),
                precondition.type_name(),
                Precondition::KNOWN_TYPES,
            )?;
            expected_sha(precondition)?;
        }
        Ok(())
    }
}

/// The hash a precondition expects (required, 64 hexadecimal characters).
fn expected_sha(precondition: &Precondition) -> Result<Option<String>> {
    match precondition {
        Precondition::ContentSha256(p) => match &p.content_sha256 {
            Some(sha) => {
                check_sha256("precondition.content_sha256", sha)?;
                Ok(Some(sha.clone()))
            }
            None => Err(Error::invalid_request(
                "`precondition.content_sha256`: required for a `content_sha256` precondition",
            )),
        },
        // Refused by validation.
        Precondition::Unknown(_) => Ok(None),
    }
}

impl Validate for MemoryListParams {
    fn validate(&self) -> Result<()> {
        check_view(self.view.as_ref())?;
        if let Some(prefix) = &self.path_prefix {
            validate_memory_path_prefix(prefix).map_err(|e| {
                Error::invalid_request(format!("`path_prefix`: {e}"))
                    .with_code("invalid_memory_path")
            })?;
        }
        Ok(())
    }
}

impl Validate for MemoryDeleteParams {
    fn validate(&self) -> Result<()> {
        match &self.expected_content_sha256 {
            Some(sha) => check_sha256("expected_content_sha256", sha),
            None => Ok(()),
        }
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    Extension(batcher): Extension<Arc<Batcher>>,
    caller: Caller,
    Path(store_id): Path<MemoryStoreId>,
    Query(params): Query<MemoryRetrieveParams>,
    Json(body): Json<MemoryCreate>,
) -> Result<Json<Memory>> {
    let full = is_full(params.view.as_ref(), MemoryView::Basic);
    let actor = actor(&caller);
    let content = body.content.unwrap_or_default();
    batcher
        .write(&state.db, move |conn| {
            write::create_memory(conn, &store_id, &body.path, &content, &actor)
        })
        .await
        .map(|memory| Json(in_view(memory, full)))
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path((store_id, id)): Path<(MemoryStoreId, MemoryId)>,
    Query(params): Query<MemoryRetrieveParams>,
) -> Result<Json<Memory>> {
    let full = is_full(params.view.as_ref(), MemoryView::Full);
    state
        .db
        .read(
            move |conn| match store::load_memory_with_content(conn, &store_id, &id)? {
                Some(memory) => Ok(in_view(memory, full)),
                None if store::store_state(conn, &store_id)?.is_none() => {
                    Err(store_not_found(&store_id))
                }
                None => Err(memory_not_found(&id)),
            },
        )
        .await
        .map(Json)
}

pub(super) async fn update(
    State(state): State<AppState>,
    Extension(batcher): Extension<Arc<Batcher>>,
    caller: Caller,
    Path((store_id, id)): Path<(MemoryStoreId, MemoryId)>,
    Query(params): Query<MemoryRetrieveParams>,
    Json(body): Json<MemoryUpdate>,
) -> Result<Json<Memory>> {
    let full = is_full(params.view.as_ref(), MemoryView::Basic);
    let actor = actor(&caller);
    let change = MemoryChange {
        content: body.content.into_option(),
        path: body.path.into_option(),
        expected_sha256: match &body.precondition {
            Some(precondition) => expected_sha(precondition)?,
            None => None,
        },
    };
    batcher
        .write(&state.db, move |conn| {
            write::update_memory(conn, &store_id, &id, change, &actor)
        })
        .await
        .map(|memory| Json(in_view(memory, full)))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(store_id): Path<MemoryStoreId>,
    Query(params): Query<MemoryListParams>,
) -> Result<Json<Page<MemoryListItem>>> {
    let full = is_full(params.view.as_ref(), MemoryView::Basic);
    // The cursor is this list's own (see `list`); `PageRequest` only checks the limit.
    let limit = PageRequest::new(params.limit, None, limits(full))?.limit();
    let cursor = match params.page.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Cursor::decode(text)?),
    };
    let request = ListRequest {
        store_id,
        prefix: params.path_prefix.unwrap_or_else(|| "/".to_owned()),
        depth: params.depth.unwrap_or(0),
        full,
        limit,
        cursor,
    };
    state
        .db
        .read(move |conn| {
            if store::store_state(conn, &request.store_id)?.is_none() {
                return Err(store_not_found(&request.store_id));
            }
            list::page(conn, &request)
        })
        .await
        .map(Json)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(batcher): Extension<Arc<Batcher>>,
    caller: Caller,
    Path((store_id, id)): Path<(MemoryStoreId, MemoryId)>,
    Query(params): Query<MemoryDeleteParams>,
) -> Result<Json<DeletedMemory>> {
    let actor = actor(&caller);
    batcher
        .write(&state.db, move |conn| {
            write::delete_memory(
                conn,
                &store_id,
                &id,
                params.expected_content_sha256.as_deref(),
                &actor,
            )?;
            Ok(DeletedMemory {
                id,
                kind: DeletedType::Memory,
            })
        })
        .await
        .map(Json)
}
