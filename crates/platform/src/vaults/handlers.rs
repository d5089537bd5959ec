//! The vault endpoints: create, retrieve, update, list, delete, archive.

use axum::extract::{Path, State};
use rusqlite::Connection;
use steward_core::vault::{
    DeletedVault, Vault, VaultCreate, VaultListParams, VaultType, VaultUpdate,
};
use steward_core::{DeletedType, Nullable, Page, VaultId};

use super::store;
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::metadata::{self, EmptyString};
use crate::pagination::{Filter, Limits, Listing, Order, PageRequest};
use crate::state::AppState;

fn not_found(id: &VaultId) -> Error {
    Error::object_not_found("vault", id)
}

/// A stored vault or the API's 404.
pub(super) fn require(conn: &Connection, id: &VaultId) -> Result<Vault> {
    store::load_vault(conn, id)?.ok_or_else(|| not_found(id))
}

/// A stored vault that is not archived: what changing its credentials needs.
pub(super) fn require_active(conn: &Connection, id: &VaultId) -> Result<Vault> {
    let vault = require(conn, id)?;
    if vault.archived_at.is_some() {
        return Err(Error::invalid_request(format!(
            "vault `{id}` is archived; its credentials cannot be created or changed"
        )));
    }
    Ok(vault)
}

pub(super) async fn create(
    State(state): State<AppState>,
    Json(body): Json<VaultCreate>,
) -> Result<Json<Vault>> {
    let now = crate::clock::now();
    let vault = Vault {
        id: crate::ids::new_id(VaultId::PREFIX),
        kind: VaultType::Vault,
        display_name: body.display_name,
        metadata: body.metadata.unwrap_or_default(),
        created_at: now.clone(),
        updated_at: now,
        archived_at: None,
    };
    state
        .db
        .write(move |tx| {
            store::save_vault(tx, &vault)?;
            Ok(vault)
        })
        .await
        .map(Json)
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<VaultId>,
) -> Result<Json<Vault>> {
    state
        .db
        .read(move |conn| require(conn, &id))
        .await
        .map(Json)
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<VaultId>,
    Json(body): Json<VaultUpdate>,
) -> Result<Json<Vault>> {
    state
        .db
        .write(move |tx| {
            let stored = require(tx, &id)?;
            if stored.archived_at.is_some() {
                return Err(Error::invalid_request(format!(
                    "vault `{id}` is archived and cannot be updated"
                )));
            }
            let mut next = stored.clone();
            if let Nullable::Value(name) = body.display_name {
                next.display_name = name;
            }
            if let Nullable::Value(patch) = &body.metadata {
                metadata::apply_patch(&mut next.metadata, patch, EmptyString::IsValue)?;
            }
            if next != stored {
                next.updated_at = crate::clock::now();
                store::save_vault(tx, &next)?;
            }
            Ok(next)
        })
        .await
        .map(Json)
}

pub(super) async fn list(
    State(state): State<AppState>,
    Query(params): Query<VaultListParams>,
) -> Result<Json<Page<Vault>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), Limits::STANDARD)?;
    let mut filter = Filter::new();
    if !params.include_archived.unwrap_or(false) {
        filter.and("archived_at IS NULL");
    }
    state
        .db
        .read(move |conn| {
            Listing::new("vaults", "body", &filter)
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
    Path(id): Path<VaultId>,
) -> Result<Json<DeletedVault>> {
    state
        .db
        .write(move |tx| {
            if !store::delete_vault(tx, &id)? {
                return Err(not_found(&id));
            }
            Ok(DeletedVault {
                id,
                kind: DeletedType::Vault,
            })
        })
        .await
        .map(Json)
}

pub(super) async fn archive(
    State(state): State<AppState>,
    Path(id): Path<VaultId>,
) -> Result<Json<Vault>> {
    state
        .db
        .write(move |tx| {
            let mut vault = require(tx, &id)?;
            if vault.archived_at.is_none() {
                let now = crate::clock::now();
                vault.archived_at = Some(now.clone());
                vault.updated_at = now;
                store::save_vault(tx, &vault)?;
            }
            Ok(vault)
        })
        .await
        .map(Json)
}
