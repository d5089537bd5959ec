//! Static checks of session requests: everything that needs no stored state.

use std::collections::BTreeSet;

use serde::Deserialize;
use steward_core::agent::AgentUpdate;
use steward_core::event::UserEvent;
use steward_core::resource::{
    Checkout, FileResourceCreate, GitHubRepositoryResourceCreate, MemoryStoreAccess,
    MemoryStoreResourceCreate, ResourceAdd, ResourceCreate, ResourceUpdate,
};
use steward_core::session::{
    Budget, SessionAgentParam, SessionAgentUpdate, SessionCreate, SessionListOrder,
    SessionListParams, SessionStatus, SessionUpdate,
};
use steward_core::{Nullable, VaultId};

use super::agent::under_agent;
use super::{MAX_INITIAL_EVENTS, MAX_MEMORY_STORES};
use crate::error::{Error, Result};
use crate::metadata;
use crate::validate::{Validate, known, max_chars, max_items, non_empty};

/// Longest `system` of `agent_with_overrides`, in characters.
pub(super) const MAX_SYSTEM_CHARS: usize = 100_000;
/// Longest memory-store `instructions`, in characters.
pub(super) const MAX_INSTRUCTIONS_CHARS: usize = 4096;
/// Longest mount path, in characters.
pub(super) const MAX_MOUNT_PATH_CHARS: usize = 1024;

fn invalid(field: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid_request(format!("`{field}`: {message}"))
}

/// Query of `GET /v1/sessions/{id}/resources`: the cursor parameters only.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct ResourceListQuery {
    /// Maximum items per page.
    pub(super) limit: Option<u32>,
    /// Cursor from a previous page's `next_page`.
    pub(super) page: Option<String>,
}

impl Validate for ResourceListQuery {}

impl Validate for SessionCreate {
    fn validate(&self) -> Result<()> {
        agent_param(&self.agent)?;
        non_empty("environment_id", self.environment_id.as_str())?;
        if let Some(metadata) = &self.metadata {
            metadata::validate(metadata)?;
        }
        if let Some(resources) = &self.resources {
            resources_list(resources)?;
        }
        if let Some(vaults) = &self.vault_ids {
            vault_ids(vaults)?;
        }
        if let Some(budget) = &self.budget {
            budget_limit("budget", budget)?;
        }
        if let Some(events) = &self.initial_events {
            initial_events(events)?;
        }
        Ok(())
    }
}

impl Validate for SessionUpdate {
    fn validate(&self) -> Result<()> {
        if self.vault_ids.is_some() {
            return Err(invalid(
                "vault_ids",
                "attaching vaults to an existing session is not supported (the field is reserved)",
            ));
        }
        if let Nullable::Value(budget) = &self.budget {
            budget_limit("budget", budget)?;
        }
        if let Some(agent) = &self.agent {
            agent_update(agent)?;
        }
        Ok(())
    }
}

impl Validate for SessionListParams {
    fn validate(&self) -> Result<()> {
        if let Some(order) = &self.order {
            known(
                "order",
                order.is_unknown(),
                order.as_str(),
                SessionListOrder::KNOWN,
            )?;
        }
        for (i, status) in self.statuses.iter().enumerate() {
            known(
                &format!("statuses[{i}]"),
                status.is_unknown(),
                status.as_str(),
                SessionStatus::KNOWN,
            )?;
        }
        if self.agent_version.is_some() && self.agent_id.is_none() {
            return Err(invalid(
                "agent_version",
                "only applies together with `agent_id`",
            ));
        }
        Ok(())
    }
}

impl Validate for ResourceAdd {
    fn validate(&self) -> Result<()> {
        non_empty("file_id", self.file_id.as_str())?;
        mount_path("mount_path", &self.mount_path)
    }
}

impl Validate for ResourceUpdate {
    fn validate(&self) -> Result<()> {
        non_empty("authorization_token", &self.authorization_token)
    }
}

fn agent_param(param: &SessionAgentParam) -> Result<()> {
    known(
        "agent.type",
        param.is_unknown(),
        unknown_type(param),
        SessionAgentParam::KNOWN_TYPES,
    )?;
    let field = if matches!(param, SessionAgentParam::Id(_)) {
        "agent"
    } else {
        "agent.id"
    };
    if let Some(id) = param.agent_id() {
        non_empty(field, id.as_str())?;
    }
    if param.agent_version() == Some(0) {
        return Err(invalid("agent.version", "must be at least 1"));
    }
    let SessionAgentParam::WithOverrides(overrides) = param else {
        return Ok(());
    };
    if let Nullable::Value(system) = &overrides.system {
        max_chars("agent.system", system, MAX_SYSTEM_CHARS)?;
    }
    // The overridable fields follow the agent update rules; reuse their checks.
    AgentUpdate {
        model: overrides.model.clone(),
        tools: overrides
            .tools
            .clone()
            .map_or(Nullable::Absent, Nullable::Value),
        mcp_servers: overrides
            .mcp_servers
            .clone()
            .map_or(Nullable::Absent, Nullable::Value),
        skills: overrides
            .skills
            .clone()
            .map_or(Nullable::Absent, Nullable::Value),
        ..AgentUpdate::default()
    }
    .validate()
    .map_err(under_agent)
}

fn unknown_type(param: &SessionAgentParam) -> &str {
    match param {
        SessionAgentParam::Unknown(raw) => raw.get("type").and_then(|t| t.as_str()).unwrap_or(""),
        _ => "",
    }
}

fn agent_update(update: &SessionAgentUpdate) -> Result<()> {
    AgentUpdate {
        tools: update
            .tools
            .clone()
            .map_or(Nullable::Absent, Nullable::Value),
        mcp_servers: update
            .mcp_servers
            .clone()
            .map_or(Nullable::Absent, Nullable::Value),
        ..AgentUpdate::default()
    }
    .validate()
    .map_err(under_agent)
}

/// A budget: a known type and a positive integer amount of US dollar cents.
pub(super) fn budget_limit(field: &str, budget: &Budget) -> Result<()> {
    let Some(money) = budget.max_list_cost() else {
        let kind = match budget {
            Budget::Unknown(raw) => raw.get("type").and_then(|t| t.as_str()).unwrap_or(""),
            Budget::Limit(_) => "limit",
        };
        return known(&format!("{field}.type"), true, kind, Budget::KNOWN_TYPES);
    };
    let amount_field = format!("{field}.max_list_cost.amount");
    if money.amount.is_empty() || !money.amount.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            &amount_field,
            "must be an integer number of minor units, as a string",
        ));
    }
    if money.minor_units().is_none_or(|units| units == 0) {
        return Err(invalid(
            &amount_field,
            "must be a positive amount that fits in 64 bits",
        ));
    }
    if money.currency != "USD" {
        return Err(invalid(
            &format!("{field}.max_list_cost.currency"),
            "must be `USD`",
        ));
    }
    Ok(())
}

fn vault_ids(ids: &[VaultId]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let field = format!("vault_ids[{i}]");
        non_empty(&field, id.as_str())?;
        if !seen.insert(id.as_str()) {
            return Err(invalid(&field, format!("vault `{id}` is listed twice")));
        }
    }
    Ok(())
}

fn resources_list(resources: &[ResourceCreate]) -> Result<()> {
    let mut memory_stores = 0;
    for (i, resource) in resources.iter().enumerate() {
        let field = format!("resources[{i}]");
        known(
            &format!("{field}.type"),
            resource.is_unknown(),
            resource.type_name(),
            ResourceCreate::KNOWN_TYPES,
        )?;
        match resource {
            ResourceCreate::GitHubRepository(repo) => repository(&field, repo)?,
            ResourceCreate::File(file) => file_resource(&field, file)?,
            ResourceCreate::MemoryStore(store) => {
                memory_stores += 1;
                memory_store(&field, store)?;
            }
            ResourceCreate::Unknown(_) => {}
        }
    }
    if memory_stores > MAX_MEMORY_STORES {
        return Err(invalid(
            "resources",
            format!(
                "at most {MAX_MEMORY_STORES} memory stores may be attached to a session, got {memory_stores}"
            ),
        ));
    }
    Ok(())
}

fn repository(field: &str, repo: &GitHubRepositoryResourceCreate) -> Result<()> {
    let url_field = format!("{field}.url");
    non_empty(&url_field, &repo.url)?;
    if !(repo.url.starts_with("https://") || repo.url.starts_with("http://")) {
        return Err(invalid(
            &url_field,
            "must be an http or https URL of a GitHub repository",
        ));
    }
    if repo_name(&repo.url).is_none() {
        return Err(invalid(
            &url_field,
            "must name a repository (`https://github.com/<owner>/<repo>`)",
        ));
    }
    if let Some(token) = &repo.authorization_token {
        non_empty(&format!("{field}.authorization_token"), token)?;
    }
    if let Nullable::Value(checkout) = &repo.checkout {
        let checkout_field = format!("{field}.checkout");
        known(
            &format!("{checkout_field}.type"),
            checkout.is_unknown(),
            checkout.type_name(),
            Checkout::KNOWN_TYPES,
        )?;
        match checkout {
            Checkout::Branch(branch) => non_empty(&format!("{checkout_field}.name"), &branch.name)?,
            Checkout::Commit(commit) => {
                let sha = &commit.sha;
                if !matches!(sha.len(), 40 | 64) || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(
                        &format!("{checkout_field}.sha"),
                        "must be a full commit SHA (40 or 64 hexadecimal characters)",
                    ));
                }
            }
            Checkout::Unknown(_) => {}
        }
    }
    mount_path(&format!("{field}.mount_path"), &repo.mount_path)
}

/// The repository name of a GitHub URL: its last path segment without `.git`.
pub(super) fn repo_name(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let path = rest.split(['?', '#']).next()?;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The first segment is the host.
    let name = *segments.get(1..)?.last()?;
    let name = name.strip_suffix(".git").unwrap_or(name);
    (!name.is_empty() && name != "." && name != "..").then_some(name)
}

fn file_resource(field: &str, file: &FileResourceCreate) -> Result<()> {
    non_empty(&format!("{field}.file_id"), file.file_id.as_str())?;
    mount_path(&format!("{field}.mount_path"), &file.mount_path)
}

fn memory_store(field: &str, store: &MemoryStoreResourceCreate) -> Result<()> {
    non_empty(
        &format!("{field}.memory_store_id"),
        store.memory_store_id.as_str(),
    )?;
    if let Nullable::Value(access) = &store.access {
        known(
            &format!("{field}.access"),
            access.is_unknown(),
            access.as_str(),
            MemoryStoreAccess::KNOWN,
        )?;
    }
    if let Nullable::Value(instructions) = &store.instructions {
        max_chars(
            &format!("{field}.instructions"),
            instructions,
            MAX_INSTRUCTIONS_CHARS,
        )?;
    }
    Ok(())
}

/// A mount path: absolute, at most [`MAX_MOUNT_PATH_CHARS`], without empty, `.` or `..`
/// segments or control characters. `null` and absent take the resource's default.
fn mount_path(field: &str, path: &Nullable<String>) -> Result<()> {
    let Nullable::Value(path) = path else {
        return Ok(());
    };
    max_chars(field, path, MAX_MOUNT_PATH_CHARS)?;
    let Some(rest) = path.strip_prefix('/') else {
        return Err(invalid(field, "must be an absolute path (start with `/`)"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty()
        || rest
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(invalid(
            field,
            format!("`{path}` is not a valid mount path"),
        ));
    }
    if path.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(())
}

fn initial_events(events: &[UserEvent]) -> Result<()> {
    max_items("initial_events", events, MAX_INITIAL_EVENTS)?;
    for (i, event) in events.iter().enumerate() {
        let field = format!("initial_events[{i}]");
        known(
            &format!("{field}.type"),
            event.is_unknown(),
            event.type_name(),
            UserEvent::KNOWN_TYPES,
        )?;
        match event {
            UserEvent::Message(message) => {
                crate::events::user_message_content(&field, &message.content)?;
            }
            UserEvent::DefineOutcome(outcome) => crate::events::define_outcome(&field, outcome)?,
            other => {
                return Err(invalid(
                    &format!("{field}.type"),
                    format!(
                        "`{}` cannot be an initial event; only `user.message` and `user.define_outcome` can",
                        other.type_name()
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names() {
        assert_eq!(
            repo_name("https://github.com/acme/widgets"),
            Some("widgets")
        );
        assert_eq!(
            repo_name("https://github.com/acme/widgets.git"),
            Some("widgets")
        );
        assert_eq!(
            repo_name("https://github.com/acme/widgets/"),
            Some("widgets")
        );
        assert_eq!(
            repo_name("https://github.com/acme/widgets?x=1"),
            Some("widgets")
        );
        assert_eq!(repo_name("https://github.com/"), None);
        assert_eq!(repo_name("github.com/acme/widgets"), None);
    }

    #[test]
    fn mount_paths() {
        let check = |p: &str| mount_path("m", &Nullable::Value(p.to_owned()));
        assert!(check("/mnt/data").is_ok());
        assert!(check("/mnt/data/").is_ok());
        for bad in ["mnt", "/", "/a//b", "/a/../b", "/a/./b", "/a\nb"] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        assert!(mount_path("m", &Nullable::Null).is_ok());
    }

    #[test]
    fn budgets() {
        let budget = |amount: &str, currency: &str| {
            serde_json::from_value::<Budget>(serde_json::json!({"type": "limit", "max_list_cost": {"amount": amount, "currency": currency}})).unwrap()
        };
        assert!(budget_limit("budget", &budget("2500", "USD")).is_ok());
        for (amount, currency) in [
            ("0", "USD"),
            ("-1", "USD"),
            ("1.5", "USD"),
            ("", "USD"),
            ("99999999999999999999", "USD"),
            ("10", "EUR"),
        ] {
            assert!(
                budget_limit("budget", &budget(amount, currency)).is_err(),
                "{amount} {currency}"
            );
        }
        let unknown: Budget = serde_json::from_value(serde_json::json!({"type": "soft"})).unwrap();
        let message = budget_limit("budget", &unknown)
            .unwrap_err()
            .body()
            .message
            .clone();
        assert!(
            message.contains("`budget.type`") && message.contains("soft"),
            "{message}"
        );
    }
}
