//! Session resources: building them at session creation, and the
//! `/v1/sessions/{id}/resources` endpoints (list, add, retrieve, update, delete).
//!
//! A resource is addressed by its `sesrsc_` ID, or a memory store by its `memory_store_id`
//! (memory-store resources have no ID of their own).

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use rusqlite::Connection;
use steward_core::resource::{
    FileResource, GitHubRepositoryResource, MemoryStoreAccess, MemoryStoreResource, ResourceAdd,
    ResourceCreate, ResourceUpdate, SessionResource, memory_store_mount_path,
};
use steward_core::{Deleted, DeletedType, Nullable, Page, SessionId, SessionResourceId, Timestamp};

use super::handlers::check_not_archived;
use super::links;
use super::store::{self, NewResource};
use super::validate::{ResourceListQuery, repo_name};
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::pagination::{Filter, Limits, Listing, PageRequest};
use crate::state::AppState;

/// Where a file is mounted when the request names no path.
fn default_file_mount(file_id: &str) -> String {
    format!("/mnt/session/uploads/{file_id}")
}

/// Where a repository is mounted when the request names no path.
fn default_repository_mount(url: &str) -> String {
    format!("/workspace/{}", repo_name(url).unwrap_or("repository"))
}

/// Builds the resources of a new session, checking what they refer to (memory stores) and
/// that no two share a mount path.
pub(super) fn build_initial(
    conn: &Connection,
    params: Vec<ResourceCreate>,
) -> Result<Vec<NewResource>> {
    let mut built = Vec::with_capacity(params.len());
    let mut mount_paths = BTreeSet::new();
    for (i, param) in params.into_iter().enumerate() {
        let field = format!("resources[{i}]");
        let created_at = crate::clock::now();
        let (resource, authorization_token) = match param {
            ResourceCreate::GitHubRepository(repo) => {
                let mount_path = repo
                    .mount_path
                    .into_option()
                    .unwrap_or_else(|| default_repository_mount(&repo.url));
                let resource = SessionResource::GitHubRepository(GitHubRepositoryResource {
                    id: crate::ids::new_id(SessionResourceId::PREFIX),
                    url: repo.url,
                    mount_path,
                    checkout: repo.checkout,
                    created_at: created_at.clone(),
                    updated_at: created_at.clone(),
                });
                (resource, repo.authorization_token)
            }
            ResourceCreate::File(file) => (
                file_resource(file.file_id, file.mount_path, &created_at),
                None,
            ),
            ResourceCreate::MemoryStore(param) => {
                let store = links::memory_store(
                    conn,
                    &format!("{field}.memory_store_id"),
                    &param.memory_store_id,
                )?;
                let resource = SessionResource::MemoryStore(MemoryStoreResource {
                    memory_store_id: store.id,
                    access: Nullable::Value(
                        param
                            .access
                            .into_option()
                            .unwrap_or(MemoryStoreAccess::ReadWrite),
                    ),
                    description: Some(store.description),
                    instructions: param
                        .instructions
                        .into_option()
                        .map_or(Nullable::Null, Nullable::Value),
                    mount_path: Nullable::Value(memory_store_mount_path(&store.name)),
                    name: Nullable::Value(store.name),
                });
                (resource, None)
            }
            ResourceCreate::Unknown(raw) => {
                return Err(Error::invalid_request(format!(
                    "`{field}.type`: unknown value `{}`",
                    raw.get("type").and_then(|t| t.as_str()).unwrap_or_default()
                )));
            }
        };
        let mount_path = resource.mount_path().unwrap_or_default().to_owned();
        if !mount_paths.insert(mount_path.clone()) {
            return Err(Error::invalid_request(format!(
                "`{field}`: another resource is already mounted at `{mount_path}`"
            )));
        }
        built.push(NewResource {
            resource,
            authorization_token,
            created_at,
        });
    }
    Ok(built)
}

fn file_resource(
    file_id: steward_core::FileId,
    mount_path: Nullable<String>,
    at: &Timestamp,
) -> SessionResource {
    let mount_path = mount_path
        .into_option()
        .unwrap_or_else(|| default_file_mount(file_id.as_str()));
    SessionResource::File(FileResource {
        id: crate::ids::new_id(SessionResourceId::PREFIX),
        file_id,
        mount_path,
        created_at: at.clone(),
        updated_at: at.clone(),
    })
}

/// The 404 of a resource the session does not have.
fn resource_not_found(session: &SessionId, key: &str) -> Error {
    Error::not_found(format!("session `{session}` has no resource `{key}`"))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(session_id): Path<SessionId>,
    Query(params): Query<ResourceListQuery>,
) -> Result<Json<Page<SessionResource>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), Limits::STANDARD)?;
    state
        .db
        .read(move |conn| {
            store::require(conn, &session_id)?;
            let mut filter = Filter::new();
            filter.and_with("session_id = ?", [session_id.as_str().to_owned()]);
            Listing::new("session_resources", "body", &filter).page(conn, &request, |row| {
                crate::db::from_json(&row.get::<_, String>(0)?)
            })
        })
        .await
        .map(Json)
}

pub(super) async fn add(
    State(state): State<AppState>,
    Path(session_id): Path<SessionId>,
    Json(body): Json<ResourceAdd>,
) -> Result<Json<SessionResource>> {
    state
        .db
        .write(move |tx| {
            let mut session = store::require(tx, &session_id)?;
            check_not_archived(&session)?;
            let now = crate::clock::now();
            let resource = file_resource(body.file_id, body.mount_path, &now);
            let mount_path = resource.mount_path().unwrap_or_default();
            if store::mount_path_taken(tx, &session_id, mount_path)? {
                return Err(Error::conflict(format!(
                    "`mount_path`: another resource of session `{session_id}` is mounted at `{mount_path}`"
                )));
            }
            let new = NewResource {
                resource,
                authorization_token: None,
                created_at: now.clone(),
            };
            store::insert_resource(tx, &session_id, &new)?;
            session.updated_at = now;
            store::save(tx, &session)?;
            Ok(new.resource)
        })
        .await
        .map(Json)
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path((session_id, key)): Path<(SessionId, String)>,
) -> Result<Json<SessionResource>> {
    state
        .db
        .read(move |conn| {
            store::require(conn, &session_id)?;
            store::resource(conn, &session_id, &key)?
                .ok_or_else(|| resource_not_found(&session_id, &key))
        })
        .await
        .map(Json)
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path((session_id, key)): Path<(SessionId, String)>,
    Json(body): Json<ResourceUpdate>,
) -> Result<Json<SessionResource>> {
    state
        .db
        .write(move |tx| {
            let mut session = store::require(tx, &session_id)?;
            let resource = store::resource(tx, &session_id, &key)?
                .ok_or_else(|| resource_not_found(&session_id, &key))?;
            check_not_archived(&session)?;
            let SessionResource::GitHubRepository(mut repo) = resource else {
                return Err(Error::invalid_request(format!(
                    "`authorization_token`: only `github_repository` resources have a token; `{key}` is a `{}` resource",
                    resource.type_name()
                )));
            };
            let now = crate::clock::now();
            repo.updated_at = now.clone();
            let resource = SessionResource::GitHubRepository(repo);
            store::update_resource(tx, &session_id, &resource, Some(&body.authorization_token))?;
            session.updated_at = now;
            store::save(tx, &session)?;
            Ok(resource)
        })
        .await
        .map(Json)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path((session_id, key)): Path<(SessionId, String)>,
) -> Result<Json<Deleted<SessionResourceId>>> {
    state
        .db
        .write(move |tx| {
            let mut session = store::require(tx, &session_id)?;
            if store::resource(tx, &session_id, &key)?.is_none() {
                return Err(resource_not_found(&session_id, &key));
            }
            check_not_archived(&session)?;
            store::delete_resource(tx, &session_id, &key)?;
            session.updated_at = crate::clock::now();
            store::save(tx, &session)?;
            Ok(Deleted {
                id: SessionResourceId::new(key),
                kind: DeletedType::SessionResource,
            })
        })
        .await
        .map(Json)
}
