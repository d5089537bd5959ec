//! The agent endpoints.

use axum::extract::{Path, State};
use steward_core::agent::{
    Agent, AgentCreate, AgentListParams, AgentRetrieveParams, AgentType, AgentUpdate,
    AgentVersionListParams,
};
use steward_core::{AgentId, Nullable, Page};

use super::multiagent::{self, Me};
use super::resolve;
use super::store;
use crate::clock::{Rounding, filter_bound};
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::metadata::{self, EmptyString};
use crate::pagination::{Filter, Limits, Listing, Order, PageRequest};
use crate::state::AppState;

impl crate::validate::Validate for AgentVersionListParams {}

fn not_found(id: &AgentId) -> Error {
    Error::object_not_found("agent", id)
}

/// Reads the current version of an agent or fails with the API's 404.
pub(super) fn require(conn: &rusqlite::Connection, id: &AgentId) -> Result<Agent> {
    store::load(conn, id)?.ok_or_else(|| not_found(id))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Json(body): Json<AgentCreate>,
) -> Result<Json<Agent>> {
    state
        .db
        .write(move |tx| {
            let id: AgentId = crate::ids::new_id(AgentId::PREFIX);
            let tools = resolve::tools(body.tools.unwrap_or_default());
            let mcp_servers = body.mcp_servers.unwrap_or_default();
            resolve::check_tools_and_servers(&tools, &mcp_servers)?;
            let multiagent = multiagent::resolve(
                tx,
                body.multiagent,
                None,
                Me {
                    id: &id,
                    version: 1,
                },
            )?;
            let now = crate::clock::now();
            let agent = Agent {
                id,
                kind: AgentType::Agent,
                name: body.name,
                description: resolve::text(body.description),
                model: resolve::model(body.model, None),
                system: resolve::text(body.system),
                tools,
                mcp_servers,
                skills: resolve::skills(body.skills.unwrap_or_default()),
                multiagent,
                execution_identity: resolve::execution_identity(body.execution_identity),
                metadata: body.metadata.unwrap_or_default(),
                version: 1,
                created_at: now.clone(),
                updated_at: now,
                archived_at: None,
            };
            store::save_version(tx, &agent)?;
            Ok(agent)
        })
        .await
        .map(Json)
}

pub(super) async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<AgentId>,
    Query(params): Query<AgentRetrieveParams>,
) -> Result<Json<Agent>> {
    state
        .db
        .read(move |conn| match params.version {
            None => require(conn, &id),
            Some(version) => match store::load_version(conn, &id, version)? {
                Some(agent) => Ok(agent),
                None => {
                    require(conn, &id)?;
                    Err(Error::not_found(format!(
                        "agent `{id}` has no version {version}"
                    )))
                }
            },
        })
        .await
        .map(Json)
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<AgentId>,
    Json(body): Json<AgentUpdate>,
) -> Result<Json<Agent>> {
    state
        .db
        .write(move |tx| {
            let stored = require(tx, &id)?;
            if stored.is_archived() {
                return Err(Error::invalid_request(format!(
                    "agent `{id}` is archived and cannot be updated"
                )));
            }
            if let Some(expected) = body.version {
                if expected != stored.version {
                    return Err(Error::conflict(format!(
                        "agent `{id}` is at version {}, not {expected}; retrieve it and retry",
                        stored.version
                    )));
                }
            }
            let mut next = stored.clone();
            if let Some(name) = body.name {
                next.name = name;
            }
            if let Some(model) = body.model {
                next.model = resolve::model(model, Some(&stored.model));
            }
            if !body.description.is_absent() {
                next.description = resolve::text(body.description);
            }
            if !body.system.is_absent() {
                next.system = resolve::text(body.system);
            }
            let lists_changed = !body.tools.is_absent() || !body.mcp_servers.is_absent();
            match body.tools {
                Nullable::Absent => {}
                Nullable::Null => next.tools = Vec::new(),
                Nullable::Value(tools) => next.tools = resolve::tools(tools),
            }
            match body.mcp_servers {
                Nullable::Absent => {}
                Nullable::Null => next.mcp_servers = Vec::new(),
                Nullable::Value(servers) => next.mcp_servers = servers,
            }
            if lists_changed {
                resolve::check_tools_and_servers(&next.tools, &next.mcp_servers)?;
            }
            match body.skills {
                Nullable::Absent => {}
                Nullable::Null => next.skills = Vec::new(),
                Nullable::Value(skills) => next.skills = resolve::skills(skills),
            }
            if let Nullable::Value(patch) = &body.metadata {
                metadata::apply_patch(&mut next.metadata, patch, EmptyString::IsValue)?;
            }
            // Self references resolve to the stored version first, so that an update that
            // changes nothing compares equal; they move to the new version below.
            next.multiagent = multiagent::resolve(
                tx,
                body.multiagent,
                stored.multiagent.as_ref(),
                Me {
                    id: &stored.id,
                    version: stored.version,
                },
            )?;
            if !body.execution_identity.is_absent() {
                next.execution_identity = resolve::execution_identity(body.execution_identity);
            }
            if next == stored {
                return Ok(stored);
            }
            next.version = stored.version + 1;
            if let Some(multiagent) = &mut next.multiagent {
                multiagent::retarget_self(multiagent, &next.id, next.version);
            }
            next.updated_at = crate::clock::now();
            store::save_version(tx, &next)?;
            Ok(next)
        })
        .await
        .map(Json)
}

pub(super) async fn list(
    State(state): State<AppState>,
    Query(params): Query<AgentListParams>,
) -> Result<Json<Page<Agent>>> {
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
            Listing::new("agents", "body", &filter)
                .order(Order::Desc)
                .page(conn, &request, |row| {
                    crate::db::from_json(&row.get::<_, String>(0)?)
                })
        })
        .await
        .map(Json)
}

pub(super) async fn archive(
    State(state): State<AppState>,
    Path(id): Path<AgentId>,
) -> Result<Json<Agent>> {
    state
        .db
        .write(move |tx| {
            let mut agent = require(tx, &id)?;
            if agent.archived_at.is_none() {
                agent.archived_at = Some(crate::clock::now());
                store::save_current(tx, &agent)?;
            }
            Ok(agent)
        })
        .await
        .map(Json)
}

pub(super) async fn versions(
    State(state): State<AppState>,
    Path(id): Path<AgentId>,
    Query(params): Query<AgentVersionListParams>,
) -> Result<Json<Page<Agent>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), Limits::STANDARD)?;
    state
        .db
        .read(move |conn| {
            require(conn, &id)?;
            let mut filter = Filter::new();
            filter.and_with("v.agent_id = ?", [id.as_str().to_owned()]);
            Listing::new(
                "agent_versions v JOIN agents a ON a.id = v.agent_id",
                "v.body, a.archived_at",
                &filter,
            )
            .keys(&["v.version"])
            .order(Order::Desc)
            .page(conn, &request, |row| {
                store::snapshot(&row.get::<_, String>(0)?, row.get(1)?)
            })
        })
        .await
        .map(Json)
}
