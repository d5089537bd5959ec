//! What a session refers to outside this module: its environment, memory stores and vaults,
//! each checked the same way (404 when unknown, 400 when archived).

use rusqlite::Connection;
use steward_core::environment::Environment;
use steward_core::memory::MemoryStore;
use steward_core::vault::Vault;
use steward_core::{EnvironmentId, MemoryStoreId, VaultId};

use crate::db::load_body;
use crate::error::{Error, Result};

/// The environment a session runs in: it must exist and not be archived.
pub(super) fn environment(conn: &Connection, id: &EnvironmentId) -> Result<Environment> {
    let environment = crate::environments::require(conn, id)?;
    if environment.is_archived() {
        return Err(Error::invalid_request(format!(
            "`environment_id`: environment `{id}` is archived"
        ))
        .with_code("environment_archived"));
    }
    Ok(environment)
}

/// A memory store to mount: it must exist and not be archived.
pub(super) fn memory_store(
    conn: &Connection,
    field: &str,
    id: &MemoryStoreId,
) -> Result<MemoryStore> {
    let store = crate::memory::require_store(conn, id)?;
    if store.archived_at.is_some() {
        return Err(Error::invalid_request(format!(
            "`{field}`: memory store `{id}` is archived"
        )));
    }
    Ok(store)
}

/// A vault to attach: it must exist and not be archived.
///
/// `vaults` exports no lookup yet, so this reads its table through the `id` + `body`
/// convention of [`crate::migrations`]; switch to the vaults module's own function once it has
/// one.
pub(super) fn vault(conn: &Connection, field: &str, id: &VaultId) -> Result<Vault> {
    let vault: Vault = load_body(conn, "vaults", id.as_str())?
        .ok_or_else(|| Error::object_not_found("vault", id))?;
    if vault.archived_at.is_some() {
        return Err(Error::invalid_request(format!(
            "`{field}`: vault `{id}` is archived"
        )));
    }
    Ok(vault)
}
