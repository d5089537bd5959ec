//! [`App`]: what every command that talks to the API gets: the printer, the paths, the config,
//! the state file and the connected backend.

use steward_core::MemoryStoreId;
use steward_core::memory::{MemoryStore, MemoryStoreListParams};
use steward_runtime::Client;

use crate::config::Config;
use crate::connect::Backend;
use crate::env::Lookup;
use crate::error::UserError;
use crate::output::Printer;
use crate::paths::Paths;
use crate::state::{BackendState, StateFile, UserState};
use futures::TryStreamExt as _;

/// Metadata key naming what a resource is to steward (`assistant`, `environment`, `user`,
/// `shared`), so that lost state can be found again.
pub const ROLE_KEY: &str = "steward_role";

/// Metadata key naming the user a memory store, vault or session belongs to.
pub const USER_KEY: &str = "steward_user";

/// The name of a user's memory store.
pub fn user_store_name(user: &str) -> String {
    format!("user-{user}")
}

/// Checks a user name: 1 to 64 characters, lowercase ASCII letters, digits, `-` and `_`,
/// starting with a letter or digit.
pub fn validate_user(user: &str) -> Result<(), UserError> {
    let ok = !user.is_empty()
        && user.len() <= 64
        && user
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && user
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(UserError::usage(format!("invalid user name `{user}`")).hint(
            "a user name has 1 to 64 lowercase letters, digits, `-` and `_`, and starts with a letter or digit",
        ))
    }
}

/// Everything a command that talks to the API needs.
#[derive(Debug)]
pub struct App {
    /// Output.
    pub printer: Printer,
    /// Locations.
    pub paths: Paths,
    /// The effective configuration.
    pub config: Config,
    /// Environment variables.
    pub env: Lookup,
    /// The state file.
    pub state: StateFile,
    /// The connected API.
    pub backend: Backend,
}

impl App {
    /// The API client.
    pub fn client(&self) -> &Client {
        &self.backend.client
    }

    /// The IDs kept for the connected backend.
    pub fn ids(&mut self) -> &mut BackendState {
        let key = self.backend.key.clone();
        self.state.backend(&key)
    }

    /// Writes the state file.
    pub fn save(&self) -> Result<(), UserError> {
        self.state.save()
    }

    /// The memory store of a known user: from the state file, else found on the server by its
    /// metadata (and remembered). An unknown user is a usage error with a hint.
    pub async fn user_store(&mut self, user: &str) -> anyhow::Result<MemoryStore> {
        validate_user(user)?;
        match self.find_user_store(user).await? {
            Some(store) => Ok(store),
            None => Err(UserError::usage(format!("unknown user `{user}`"))
                .hint(format!("create it with `steward user add {user}`"))
                .into()),
        }
    }

    /// Like [`App::user_store`], `None` for an unknown user.
    pub async fn find_user_store(&mut self, user: &str) -> anyhow::Result<Option<MemoryStore>> {
        let known = self
            .ids()
            .users
            .get(user)
            .map(|u| u.memory_store_id.clone());
        if let Some(id) = known {
            if let Some(store) = self.live_store(&id).await? {
                return Ok(Some(store));
            }
            tracing::info!(user, store = %id, "the remembered store is gone; forgetting it");
            self.ids().users.remove(user);
            self.save()?;
        }
        let name = user_store_name(user);
        let found = self
            .find_store(|store| {
                store.name == name
                    && store.metadata.get(ROLE_KEY).map(String::as_str) == Some("user")
                    && store.metadata.get(USER_KEY).map(String::as_str) == Some(user)
            })
            .await?;
        if let Some(store) = &found {
            self.ids().users.insert(
                user.to_owned(),
                UserState {
                    memory_store_id: store.id.clone(),
                    vault_id: None,
                },
            );
            self.save()?;
        }
        Ok(found)
    }

    /// The store if it exists and is not archived.
    pub async fn live_store(&self, id: &MemoryStoreId) -> anyhow::Result<Option<MemoryStore>> {
        match self.client().memory_stores().retrieve(id).await {
            Ok(store) if store.archived_at.is_none() => Ok(Some(store)),
            Ok(_) => Ok(None),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(anyhow::Error::new(e).context("failed to read a memory store")),
        }
    }

    /// The newest live store matching `pick`.
    pub async fn find_store(
        &self,
        pick: impl Fn(&MemoryStore) -> bool,
    ) -> anyhow::Result<Option<MemoryStore>> {
        let stores: Vec<MemoryStore> = self
            .client()
            .memory_stores()
            .list(&MemoryStoreListParams::default())
            .try_collect()
            .await
            .map_err(|e| anyhow::Error::new(e).context("failed to list memory stores"))?;
        Ok(stores
            .into_iter()
            .filter(|s| s.archived_at.is_none())
            .find(|s| pick(s)))
    }

    /// Every user store on the server, by user name.
    pub async fn user_stores(&self) -> anyhow::Result<Vec<(String, MemoryStore)>> {
        let stores: Vec<MemoryStore> = self
            .client()
            .memory_stores()
            .list(&MemoryStoreListParams::default())
            .try_collect()
            .await
            .map_err(|e| anyhow::Error::new(e).context("failed to list memory stores"))?;
        let mut users: Vec<(String, MemoryStore)> = stores
            .into_iter()
            .filter(|s| s.archived_at.is_none())
            .filter(|s| s.metadata.get(ROLE_KEY).map(String::as_str) == Some("user"))
            .filter_map(|s| {
                let user = s.metadata.get(USER_KEY)?.clone();
                (s.name == user_store_name(&user)).then_some((user, s))
            })
            .collect();
        users.sort_by(|a, b| a.0.cmp(&b.0));
        users.dedup_by(|a, b| a.0 == b.0);
        Ok(users)
    }
}

/// Whether the API answered 404.
pub fn is_not_found(error: &steward_runtime::Error) -> bool {
    error.status().is_some_and(|s| s.as_u16() == 404)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        for ok in ["alice", "bob-2", "a", "x_y", "0day"] {
            validate_user(ok).unwrap();
        }
        for bad in ["", "Alice", "-x", "a b", "a/b", "é", &"a".repeat(65)] {
            let error = validate_user(bad).unwrap_err();
            assert!(error.message.starts_with("invalid user name"), "{bad}");
        }
    }
}
