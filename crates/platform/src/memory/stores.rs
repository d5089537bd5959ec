//! The memory store endpoints: create, retrieve, update, list, delete, archive.

use axum::extract::{Path, State};
use steward_core::memory::{
    DeletedMemoryStore, MemoryStore, MemoryStoreCreate, MemoryStoreListParams, MemoryStoreType,
    MemoryStoreUpdate,
};
use steward_core::{DeletedType, MemoryStoreId, Nullable, Page};

use super::store::{self, require_store, store_not_found};
use super::write::store_archived;
use crate::clock::{Rounding, filter_bound};
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::metadata::{self, EmptyString};
use crate::pagination::{Filter, Limits, Listing, Order, PageRequest};
use crate::state::AppState;
use crate::validate::{Validate, chars_between, max_chars};

/// Longest store name, in characters.
const NAME_MAX_CHARS: usize = 255;
/// Longest store description, in characters.
const DESCRIPTION_MAX_CHARS: usize = 1024;

fn check_name(name: &str) -> Result<()> {
    chars_between("name", name, 1, NAME_MAX_CHARS)?;
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(Error::invalid_request(format!(
            "`name`: must not contain control characters (found U+{:04X})",
            u32::from(c)
        )));
    }
    Ok(())
}

impl Validate for MemoryStoreCreate {
    fn validate(&self) -> Result<()> {
        check_name(&self.name)?;
        if let Some(description) = &self.description {
            max_chars("description", description, DESCRIPTION_MAX_CHARS)?;
        }
        if let Some(metadata) = &self.metadata {
            metadata::validate(metadata)?;
        }
        Ok(())
    }
}

impl Validate for MemoryStoreUpdate {
    fn validate(&self) -> Result<()> {
        if let Nullable::Value(name) = &self.name {
            check_name(name)?;
        }
        if let Nullable::Value(description) = &self.description {
            max_chars("description", description, DESCRIPTION_MAX_CHARS)?;
        }
        Ok(())
    }
}

impl Validate for MemoryStoreListParams {}

pub(super) async fn create(
    State(state): State<AppState>,
    Json(body): Json<MemoryStoreCreate>,
) -> Result<Json<MemoryStore>> {
    let now = crate::clock::now();
    let memory_store = MemoryStore {
        id: crate::ids::new_id(MemoryStoreId::PREFIX),
        kind: MemoryStoreType::MemoryStore,
        name: body.name,
        description: body.description.unwrap_or_default(),
        metadata: body.metadata.unwrap_or_default(),
        created_at: now.clone(),
        updated_at: now,
        archived_at: None,
    };
    state
        .db
        .write(move |tx| {
            store::save_store(tx, &memory_store)?;
            Ok(memory_store)
        })
        .await
        .map(Json)
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<MemoryStoreId>,
) -> Result<Json<MemoryStore>> {
    state
        .db
        .read(move |conn| require_store(conn, &id))
        .await
        .map(Json)
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<MemoryStoreId>,
    Json(body): Json<MemoryStoreUpdate>,
) -> Result<Json<MemoryStore>> {
    state
        .db
        .write(move |tx| {
            let stored = require_store(tx, &id)?;
            if stored.archived_at.is_some() {
                return Err(store_archived(&id, "updating the store"));
            }
            let mut next = stored.clone();
            if let Nullable::Value(name) = body.name {
                next.name = name;
            }
            match body.description {
                Nullable::Absent => {}
                Nullable::Null => next.description = String::new(),
                Nullable::Value(description) => next.description = description,
            }
            if let Nullable::Value(patch) = &body.metadata {
                metadata::apply_patch(&mut next.metadata, patch, EmptyString::IsValue)?;
            }
            if next != stored {
                next.updated_at = crate::clock::now();
                store::save_store(tx, &next)?;
            }
            Ok(next)
        })
        .await
        .map(Json)
}

pub(super) async fn list(
    State(state): State<AppState>,
    Query(params): Query<MemoryStoreListParams>,
) -> Result<Json<Page<MemoryStore>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), Limits::STANDARD)?;
    let mut filter = Filter::new();
    if !params.include_archived.unwrap_or(false) {
        filter.and("archived_at IS NULL");
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
            Listing::new("memory_stores", "body", &filter)
                .order(Order::Desc)
                .page(conn, &request, |row| {
                    crate::db::from_json(&row.get::<_, String>(0)?)
                })
        })
        .await
        .map(Json)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<MemoryStoreId>,
) -> Result<Json<DeletedMemoryStore>> {
    state
        .db
        .write(move |tx| {
            if !store::delete_store(tx, &id)? {
                return Err(store_not_found(&id));
            }
            Ok(DeletedMemoryStore {
                id,
                kind: DeletedType::MemoryStore,
            })
        })
        .await
        .map(Json)
}

pub(super) async fn archive(
    State(state): State<AppState>,
    Path(id): Path<MemoryStoreId>,
) -> Result<Json<MemoryStore>> {
    state
        .db
        .write(move |tx| {
            let mut memory_store = require_store(tx, &id)?;
            if memory_store.archived_at.is_none() {
                let now = crate::clock::now();
                memory_store.archived_at = Some(now.clone());
                memory_store.updated_at = now;
                store::save_store(tx, &memory_store)?;
            }
            Ok(memory_store)
        })
        .await
        .map(Json)
}
