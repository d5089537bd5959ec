//! Environments: `/v1/environments` (create, retrieve, update, list, delete, archive).
//!
//! Decisions where the SDK is silent:
//! * `config` omitted (or `null`) on create: `{"type": "cloud", "networking": {"type":
//!   "unrestricted"}, "packages": {"type": "packages", every list empty}}`.
//! * Cloud params resolve field by field: under `limited`, `allowed_hosts` defaults to `[]` and
//!   both flags to `false`; every package list defaults to `[]`. On update an omitted field
//!   keeps its stored value and `null` resets it to the default; a `networking` of another type
//!   replaces the stored one (its omitted fields take defaults). Packages with `limited`
//!   networking need `allow_package_managers: true`.
//! * `scope` defaults to `organization`; `account` is refused, as the API refuses it for API
//!   organizations.
//! * `config.type` cannot change (400 `invalid_config_type_change`); an archived environment
//!   cannot be updated (400 `environment_archived`); an unknown ID is a 404 with
//!   `details.error_code = "environment_not_found"`.
//! * On update, `name`, `config` and `scope` sent as `null` keep the stored value (the SDK types
//!   allow `null`; none of them can be cleared). `scope` is always `organization`.
//! * Archiving is idempotent (archiving again keeps the first `archived_at`). Delete removes
//!   the row. An update that changes nothing leaves `updated_at` alone.
//! * Lists are newest first (`created_at`, then ID, descending).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use rusqlite::Connection;
use steward_core::environment::{
    CloudConfig, CloudConfigParams, Environment, EnvironmentConfig, EnvironmentConfigParams,
    EnvironmentCreate, EnvironmentDeleted, EnvironmentListParams, EnvironmentScope,
    EnvironmentType, EnvironmentUpdate, LimitedNetwork, LimitedNetworkParams, Networking,
    NetworkingParams, Packages, PackagesParams, PackagesType, SelfHostedConfig,
    UnrestrictedNetwork,
};
use steward_core::{DeletedType, EnvironmentId, Nullable, Page};

use crate::db::{load_body, to_json};
use crate::error::{Error, Result};
use crate::extract::{Json, Query};
use crate::metadata::{self, EmptyString};
use crate::migrations::Migration;
use crate::pagination::{Filter, Limits, Listing, Order, PageRequest};
use crate::state::AppState;
use crate::validate::{Validate, known, non_empty};

/// The `environments` table: the wire object as `body`, plus the columns lists use.
pub(crate) const MIGRATION_ENVIRONMENTS: Migration = Migration {
    name: "environments_create",
    sql: "CREATE TABLE environments (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        archived_at TEXT,
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX environments_by_created ON environments (created_at, id);",
};

/// The environment routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/environments", post(create).get(list))
        .route(
            "/v1/environments/{environment_id}",
            get(retrieve).post(update).delete(delete),
        )
        .route("/v1/environments/{environment_id}/archive", post(archive))
}

fn not_found(id: &EnvironmentId) -> Error {
    Error::object_not_found("environment", id).with_code("environment_not_found")
}

/// Reads a stored environment, if it exists. For other resources that reference environments
/// (sessions, the work queue).
pub fn load(conn: &Connection, id: &EnvironmentId) -> Result<Option<Environment>> {
    load_body(conn, "environments", id.as_str())
}

/// Reads a stored environment or fails with the API's 404.
pub fn require(conn: &Connection, id: &EnvironmentId) -> Result<Environment> {
    load(conn, id)?.ok_or_else(|| not_found(id))
}

fn save(conn: &Connection, environment: &Environment) -> Result<()> {
    conn.execute(
        "INSERT INTO environments (id, created_at, archived_at, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET archived_at = excluded.archived_at, body = excluded.body",
        rusqlite::params![
            environment.id.as_str(),
            environment.created_at.as_str(),
            environment.archived_at.as_ref().map(|t| t.as_str()),
            to_json(environment)?,
        ],
    )?;
    Ok(())
}

impl Validate for EnvironmentCreate {
    fn validate(&self) -> Result<()> {
        non_empty("name", &self.name)?;
        if let Nullable::Value(config) = &self.config {
            validate_config(config)?;
        }
        if let Nullable::Value(scope) = &self.scope {
            validate_scope(scope)?;
        }
        if let Some(metadata) = &self.metadata {
            metadata::validate(metadata)?;
        }
        Ok(())
    }
}

impl Validate for EnvironmentUpdate {
    fn validate(&self) -> Result<()> {
        if let Nullable::Value(name) = &self.name {
            non_empty("name", name)?;
        }
        if let Nullable::Value(config) = &self.config {
            validate_config(config)?;
        }
        if let Nullable::Value(scope) = &self.scope {
            validate_scope(scope)?;
        }
        Ok(())
    }
}

impl Validate for EnvironmentListParams {}

fn validate_scope(scope: &EnvironmentScope) -> Result<()> {
    known(
        "scope",
        scope.is_unknown(),
        scope.as_str(),
        EnvironmentScope::KNOWN,
    )?;
    if *scope == EnvironmentScope::Account {
        return Err(Error::invalid_request(
            "`scope`: `account` is not available; use `organization`",
        ));
    }
    Ok(())
}

fn validate_config(config: &EnvironmentConfigParams) -> Result<()> {
    known(
        "config.type",
        config.is_unknown(),
        config.type_name(),
        EnvironmentConfigParams::KNOWN_TYPES,
    )?;
    let EnvironmentConfigParams::Cloud(cloud) = config else {
        return Ok(());
    };
    if let Nullable::Value(networking) = &cloud.networking {
        known(
            "config.networking.type",
            networking.is_unknown(),
            networking.type_name(),
            NetworkingParams::KNOWN_TYPES,
        )?;
        if let NetworkingParams::Limited(limited) = networking {
            if let Nullable::Value(hosts) = &limited.allowed_hosts {
                for (i, host) in hosts.iter().enumerate() {
                    non_empty(&format!("config.networking.allowed_hosts[{i}]"), host)?;
                }
            }
        }
    }
    if let Nullable::Value(packages) = &cloud.packages {
        if let Some(kind) = &packages.kind {
            known(
                "config.packages.type",
                kind.is_unknown(),
                kind.as_str(),
                PackagesType::KNOWN,
            )?;
        }
        for (manager, list) in package_lists(packages) {
            if let Nullable::Value(list) = list {
                for (i, spec) in list.iter().enumerate() {
                    non_empty(&format!("config.packages.{manager}[{i}]"), spec)?;
                }
            }
        }
    }
    Ok(())
}

fn package_lists(p: &PackagesParams) -> [(&'static str, &Nullable<Vec<String>>); 6] {
    [
        ("apt", &p.apt),
        ("cargo", &p.cargo),
        ("gem", &p.gem),
        ("go", &p.go),
        ("npm", &p.npm),
        ("pip", &p.pip),
    ]
}

fn default_packages() -> Packages {
    Packages {
        kind: Some(PackagesType::Packages),
        ..Packages::default()
    }
}

fn default_cloud() -> CloudConfig {
    CloudConfig {
        networking: Networking::Unrestricted(UnrestrictedNetwork {}),
        packages: default_packages(),
    }
}

/// Applies a nullable patch field: absent keeps, `null` resets to the default, a value sets.
fn patch<T>(field: Nullable<T>, stored: T, default: impl FnOnce() -> T) -> T {
    match field {
        Nullable::Absent => stored,
        Nullable::Null => default(),
        Nullable::Value(value) => value,
    }
}

fn resolve_networking(params: Nullable<NetworkingParams>, stored: Networking) -> Networking {
    let unrestricted = || Networking::Unrestricted(UnrestrictedNetwork {});
    match params {
        Nullable::Absent => stored,
        Nullable::Null => unrestricted(),
        Nullable::Value(NetworkingParams::Limited(LimitedNetworkParams {
            allow_mcp_servers,
            allow_package_managers,
            allowed_hosts,
        })) => {
            let base = match stored {
                Networking::Limited(limited) => limited,
                _ => LimitedNetwork::default(),
            };
            Networking::Limited(LimitedNetwork {
                allow_mcp_servers: patch(allow_mcp_servers, base.allow_mcp_servers, || false),
                allow_package_managers: patch(
                    allow_package_managers,
                    base.allow_package_managers,
                    || false,
                ),
                allowed_hosts: patch(allowed_hosts, base.allowed_hosts, Vec::new),
            })
        }
        // Unknown types were rejected by validation; unrestricted is the only other one.
        Nullable::Value(_) => unrestricted(),
    }
}

fn resolve_packages(params: Nullable<PackagesParams>, stored: Packages) -> Packages {
    match params {
        Nullable::Absent => stored,
        Nullable::Null => default_packages(),
        Nullable::Value(p) => Packages {
            kind: Some(PackagesType::Packages),
            apt: patch(p.apt, stored.apt, Vec::new),
            cargo: patch(p.cargo, stored.cargo, Vec::new),
            gem: patch(p.gem, stored.gem, Vec::new),
            go: patch(p.go, stored.go, Vec::new),
            npm: patch(p.npm, stored.npm, Vec::new),
            pip: patch(p.pip, stored.pip, Vec::new),
        },
    }
}

/// Resolves config params over the stored config (`None` on create).
fn resolve_config(
    params: Nullable<EnvironmentConfigParams>,
    stored: Option<EnvironmentConfig>,
) -> Result<EnvironmentConfig> {
    let params = match params {
        Nullable::Absent => {
            return Ok(stored.unwrap_or_else(|| EnvironmentConfig::Cloud(default_cloud())));
        }
        // `null` means "no config given": the default on create, the stored one on update.
        Nullable::Null => {
            return Ok(stored.unwrap_or_else(|| EnvironmentConfig::Cloud(default_cloud())));
        }
        Nullable::Value(params) => params,
    };
    if let Some(stored) = &stored {
        if stored.type_name() != params.type_name() {
            return Err(Error::invalid_request(format!(
                "`config.type`: cannot change from `{}` to `{}`",
                stored.type_name(),
                params.type_name()
            ))
            .with_code("invalid_config_type_change"));
        }
    }
    let config = match params {
        EnvironmentConfigParams::Cloud(CloudConfigParams {
            networking,
            packages,
        }) => {
            let base = match stored {
                Some(EnvironmentConfig::Cloud(cloud)) => cloud,
                _ => default_cloud(),
            };
            let cloud = CloudConfig {
                networking: resolve_networking(networking, base.networking),
                packages: resolve_packages(packages, base.packages),
            };
            check_cloud(&cloud)?;
            EnvironmentConfig::Cloud(cloud)
        }
        EnvironmentConfigParams::SelfHosted(_) => {
            EnvironmentConfig::SelfHosted(SelfHostedConfig {})
        }
        EnvironmentConfigParams::Unknown(raw) => {
            return Err(Error::invalid_request(format!(
                "`config.type`: unknown value `{}`",
                raw.get("type").and_then(|t| t.as_str()).unwrap_or_default()
            )));
        }
    };
    Ok(config)
}

fn check_cloud(cloud: &CloudConfig) -> Result<()> {
    let p = &cloud.packages;
    let any_packages = [&p.apt, &p.cargo, &p.gem, &p.go, &p.npm, &p.pip]
        .iter()
        .any(|list| !list.is_empty());
    if let Networking::Limited(limited) = &cloud.networking {
        if any_packages && !limited.allow_package_managers {
            return Err(Error::invalid_request(
                "`config.packages`: installing packages under `limited` networking needs \
                 `networking.allow_package_managers: true`",
            ));
        }
    }
    Ok(())
}

async fn create(
    State(state): State<AppState>,
    Json(body): Json<EnvironmentCreate>,
) -> Result<Json<Environment>> {
    let now = crate::clock::now();
    let environment = Environment {
        id: crate::ids::new_id(EnvironmentId::PREFIX),
        kind: EnvironmentType::Environment,
        name: body.name,
        description: body.description.into_option(),
        config: resolve_config(body.config, None)?,
        metadata: body.metadata.unwrap_or_default(),
        scope: Some(EnvironmentScope::Organization),
        created_at: now.clone(),
        updated_at: now,
        archived_at: None,
    };
    state
        .db
        .write(move |tx| {
            save(tx, &environment)?;
            Ok(environment)
        })
        .await
        .map(Json)
}

async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<EnvironmentId>,
) -> Result<Json<Environment>> {
    state
        .db
        .read(move |conn| require(conn, &id))
        .await
        .map(Json)
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<EnvironmentId>,
    Json(body): Json<EnvironmentUpdate>,
) -> Result<Json<Environment>> {
    state
        .db
        .write(move |tx| {
            let stored = require(tx, &id)?;
            if stored.is_archived() {
                return Err(Error::invalid_request(format!(
                    "environment `{id}` is archived and cannot be updated"
                ))
                .with_code("environment_archived"));
            }
            let mut next = stored.clone();
            if let Nullable::Value(name) = body.name {
                next.name = name;
            }
            match body.description {
                Nullable::Absent => {}
                Nullable::Null => next.description = None,
                Nullable::Value(description) => next.description = Some(description),
            }
            next.config = resolve_config(body.config, Some(stored.config.clone()))?;
            if let Some(patch) = &body.metadata {
                metadata::apply_patch(&mut next.metadata, patch, EmptyString::Deletes)?;
            }
            if next != stored {
                next.updated_at = crate::clock::now();
                save(tx, &next)?;
            }
            Ok(next)
        })
        .await
        .map(Json)
}

async fn list(
    State(state): State<AppState>,
    Query(params): Query<EnvironmentListParams>,
) -> Result<Json<Page<Environment>>> {
    let request = PageRequest::new(params.limit, params.page.as_deref(), Limits::STANDARD)?;
    let mut filter = Filter::new();
    if !params.include_archived.unwrap_or(false) {
        filter.and("archived_at IS NULL");
    }
    state
        .db
        .read(move |conn| {
            Listing::new("environments", "body", &filter)
                .order(Order::Desc)
                .page(conn, &request, |row| {
                    crate::db::from_json(&row.get::<_, String>(0)?)
                })
        })
        .await
        .map(Json)
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<EnvironmentId>,
) -> Result<Json<EnvironmentDeleted>> {
    state
        .db
        .write(move |tx| {
            let removed = tx.execute("DELETE FROM environments WHERE id = ?1", [id.as_str()])?;
            if removed == 0 {
                return Err(not_found(&id));
            }
            Ok(EnvironmentDeleted {
                id,
                kind: DeletedType::Environment,
            })
        })
        .await
        .map(Json)
}

async fn archive(
    State(state): State<AppState>,
    Path(id): Path<EnvironmentId>,
) -> Result<Json<Environment>> {
    state
        .db
        .write(move |tx| {
            let mut environment = require(tx, &id)?;
            if environment.archived_at.is_none() {
                let now = crate::clock::now();
                environment.archived_at = Some(now.clone());
                environment.updated_at = now;
                save(tx, &environment)?;
            }
            Ok(environment)
        })
        .await
        .map(Json)
}
