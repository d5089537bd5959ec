//! Static checks of agent requests: everything that needs neither stored state nor the other
//! fields of the agent (those are in [`super::resolve::check_tools_and_servers`]).

use std::collections::BTreeSet;

use steward_core::Nullable;
use steward_core::agent::{
    AdvisorConfig, AgentCreate, AgentListParams, AgentPoolParams, AgentRetrieveParams,
    AgentToolParams, AgentToolsetParams, AgentUpdate, BuiltinToolName, CoordinatorParams,
    CustomTool, EffortLevel, ExecutionIdentity, InlineAgents, McpServer, McpServerType,
    McpToolsetParams, ModelParam, MultiagentParams, OrShorthand, PermissionPolicy,
    RosterEntryParams, SkillParams, ToolConfigParams, ToolsetDefaultConfigParams,
    UrlSourceShorthand, UrlSourceToolFilter, UrlSourceUserInput, UrlSourcesParams, UserLocation,
    UserLocationType,
};
use steward_core::usage::Speed;

use crate::error::{Error, Result};
use crate::metadata;
use crate::validate::{Validate, chars_between, known, max_items, non_empty};

/// Most MCP servers an agent may have.
pub(crate) const MAX_MCP_SERVERS: usize = 20;
/// Most entries in a coordinator roster or a `predefined_agents` list.
pub(crate) const MAX_ROSTER: usize = 20;
/// Most domains in `allowed_domains` / `blocked_domains`.
pub(crate) const MAX_DOMAINS: usize = 64;
/// Most tools in a URL-source `only`/`except` list.
pub(crate) const MAX_URL_SOURCE_TOOLS: usize = 128;
/// Longest `role_arn`.
pub(crate) const MAX_ROLE_ARN: usize = 2048;

fn invalid(field: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid_request(format!("`{field}`: {message}"))
}

impl Validate for AgentCreate {
    fn validate(&self) -> Result<()> {
        non_empty("name", &self.name)?;
        model("model", &self.model)?;
        if let Some(tools) = &self.tools {
            tools_list(tools)?;
        }
        if let Some(servers) = &self.mcp_servers {
            mcp_servers(servers)?;
        }
        if let Some(list) = &self.skills {
            skills(list)?;
        }
        if let Some(metadata) = &self.metadata {
            metadata::validate(metadata)?;
        }
        if let Nullable::Value(multiagent) = &self.multiagent {
            multiagent_params(multiagent)?;
        }
        if let Nullable::Value(identity) = &self.execution_identity {
            execution_identity(identity)?;
        }
        Ok(())
    }
}

impl Validate for AgentUpdate {
    fn validate(&self) -> Result<()> {
        if let Some(name) = &self.name {
            non_empty("name", name)?;
        }
        if let Some(param) = &self.model {
            model("model", param)?;
        }
        if let Nullable::Value(tools) = &self.tools {
            tools_list(tools)?;
        }
        if let Nullable::Value(servers) = &self.mcp_servers {
            mcp_servers(servers)?;
        }
        if let Nullable::Value(list) = &self.skills {
            skills(list)?;
        }
        if let Nullable::Value(multiagent) = &self.multiagent {
            multiagent_params(multiagent)?;
        }
        if let Nullable::Value(identity) = &self.execution_identity {
            execution_identity(identity)?;
        }
        if self.version == Some(0) {
            return Err(invalid("version", "must be at least 1"));
        }
        Ok(())
    }
}

impl Validate for AgentListParams {}

impl Validate for AgentRetrieveParams {
    fn validate(&self) -> Result<()> {
        if self.version == Some(0) {
            return Err(invalid("version", "must be at least 1"));
        }
        Ok(())
    }
}

fn model(field: &str, param: &ModelParam) -> Result<()> {
    match param {
        ModelParam::Id(id) => non_empty(field, id.as_str()),
        ModelParam::Config(config) => {
            non_empty(&format!("{field}.id"), config.id.as_str())?;
            if let Nullable::Value(effort) = &config.effort {
                let level = effort.level();
                known(
                    &format!("{field}.effort"),
                    level.is_unknown(),
                    level.as_str(),
                    EffortLevel::KNOWN,
                )?;
            }
            if let Nullable::Value(speed) = &config.speed {
                known(
                    &format!("{field}.speed"),
                    speed.is_unknown(),
                    speed.as_str(),
                    Speed::KNOWN,
                )?;
            }
            if let Nullable::Value(geo) = &config.inference_geo {
                non_empty(&format!("{field}.inference_geo"), geo)?;
            }
            Ok(())
        }
    }
}

fn policy(field: &str, policy: &Nullable<PermissionPolicy>) -> Result<()> {
    if let Nullable::Value(p) = policy {
        known(
            field,
            p.is_unknown(),
            p.type_name(),
            PermissionPolicy::KNOWN_TYPES,
        )?;
    }
    Ok(())
}

fn default_config(field: &str, config: &Nullable<ToolsetDefaultConfigParams>) -> Result<()> {
    if let Nullable::Value(config) = config {
        policy(
            &format!("{field}.permission_policy"),
            &config.permission_policy,
        )?;
    }
    Ok(())
}

fn tools_list(tools: &[AgentToolParams]) -> Result<()> {
    for (i, tool) in tools.iter().enumerate() {
        let field = format!("tools[{i}]");
        known(
            &format!("{field}.type"),
            tool.is_unknown(),
            tool.type_name(),
            AgentToolParams::KNOWN_TYPES,
        )?;
        match tool {
            AgentToolParams::Toolset(toolset) => agent_toolset(&field, toolset)?,
            AgentToolParams::McpToolset(toolset) => mcp_toolset(&field, toolset)?,
            AgentToolParams::Custom(custom) => custom_tool(&field, custom)?,
            AgentToolParams::Unknown(_) => {}
        }
    }
    Ok(())
}

fn agent_toolset(field: &str, toolset: &AgentToolsetParams) -> Result<()> {
    default_config(&format!("{field}.default_config"), &toolset.default_config)?;
    let mut seen = BTreeSet::new();
    for (i, config) in toolset.configs.iter().flatten().enumerate() {
        let field = format!("{field}.configs[{i}]");
        tool_config(&field, config)?;
        if !seen.insert(config.name.as_str().to_owned()) {
            return Err(invalid(
                &format!("{field}.name"),
                format!("`{}` is configured twice", config.name),
            ));
        }
    }
    Ok(())
}

fn tool_config(field: &str, config: &ToolConfigParams) -> Result<()> {
    let name = &config.name;
    known(
        &format!("{field}.name"),
        name.is_unknown(),
        name.as_str(),
        BuiltinToolName::KNOWN,
    )?;
    if let Some(kind) = &config.kind {
        if kind != name {
            return Err(invalid(
                &format!("{field}.type"),
                format!("must equal `name` (`{name}`)"),
            ));
        }
    }
    policy(
        &format!("{field}.permission_policy"),
        &config.permission_policy,
    )?;
    let is_fetch = *name == BuiltinToolName::WebFetch;
    let is_search = *name == BuiltinToolName::WebSearch;
    let only_for = |present: bool, key: &str, allowed: bool, tools: &str| -> Result<()> {
        if present && !allowed {
            return Err(invalid(
                &format!("{field}.{key}"),
                format!("only applies to {tools}"),
            ));
        }
        Ok(())
    };
    let web = "`web_fetch` and `web_search`";
    only_for(
        config.allowed_domains.is_some(),
        "allowed_domains",
        is_fetch || is_search,
        web,
    )?;
    only_for(
        config.blocked_domains.is_some(),
        "blocked_domains",
        is_fetch || is_search,
        web,
    )?;
    only_for(
        !config.max_content_tokens.is_absent(),
        "max_content_tokens",
        is_fetch,
        "`web_fetch`",
    )?;
    only_for(
        !config.url_sources.is_absent(),
        "url_sources",
        is_fetch,
        "`web_fetch`",
    )?;
    only_for(
        !config.user_location.is_absent(),
        "user_location",
        is_search,
        "`web_search`",
    )?;
    if config.allowed_domains.is_some() && config.blocked_domains.is_some() {
        return Err(invalid(
            field,
            "`allowed_domains` and `blocked_domains` cannot be combined",
        ));
    }
    for (key, list) in [
        ("allowed_domains", &config.allowed_domains),
        ("blocked_domains", &config.blocked_domains),
    ] {
        if let Some(list) = list {
            domains(&format!("{field}.{key}"), list, is_search)?;
        }
    }
    if config.max_content_tokens == Nullable::Value(0) {
        return Err(invalid(
            &format!("{field}.max_content_tokens"),
            "must be at least 1",
        ));
    }
    if let Nullable::Value(sources) = &config.url_sources {
        url_sources(&format!("{field}.url_sources"), sources)?;
    }
    if let Nullable::Value(location) = &config.user_location {
        user_location(&format!("{field}.user_location"), location)?;
    }
    Ok(())
}

/// Plain hostnames (`web_search` also allows a path suffix): no scheme, port or whitespace.
fn domains(field: &str, list: &[String], allow_path: bool) -> Result<()> {
    if list.is_empty() {
        return Err(invalid(field, "must not be empty (omit the field instead)"));
    }
    max_items(field, list, MAX_DOMAINS)?;
    for (i, domain) in list.iter().enumerate() {
        let host = if allow_path {
            domain.split('/').next().unwrap_or_default()
        } else {
            domain.as_str()
        };
        let ok = !host.is_empty()
            && !domain.contains("://")
            && !domain.chars().any(char::is_whitespace)
            && !host.contains(':')
            && (allow_path || !domain.contains('/'));
        if !ok {
            return Err(invalid(
                &format!("{field}[{i}]"),
                format!("`{domain}` is not a plain hostname"),
            ));
        }
    }
    Ok(())
}

fn url_sources(field: &str, sources: &UrlSourcesParams) -> Result<()> {
    let mut none_count = 0;
    for (key, filter) in [
        ("client_tool_results", &sources.client_tool_results),
        ("server_tool_results", &sources.server_tool_results),
    ] {
        let field = format!("{field}.{key}");
        match filter {
            Nullable::Value(OrShorthand::Shorthand(short)) => {
                known(
                    &field,
                    short.is_unknown(),
                    short.as_str(),
                    UrlSourceShorthand::KNOWN,
                )?;
                none_count += usize::from(*short == UrlSourceShorthand::None);
            }
            Nullable::Value(OrShorthand::Full(filter)) => {
                known(
                    &format!("{field}.type"),
                    filter.is_unknown(),
                    filter.type_name(),
                    UrlSourceToolFilter::KNOWN_TYPES,
                )?;
                none_count += usize::from(matches!(filter, UrlSourceToolFilter::None(_)));
                let tools = match filter {
                    UrlSourceToolFilter::Only(list) => Some(&list.tools),
                    UrlSourceToolFilter::Except(list) => Some(&list.tools),
                    _ => None,
                };
                if let Some(tools) = tools {
                    if tools.is_empty() {
                        return Err(invalid(
                            &format!("{field}.tools"),
                            "must name at least one tool",
                        ));
                    }
                    max_items(&format!("{field}.tools"), tools, MAX_URL_SOURCE_TOOLS)?;
                    let mut names = BTreeSet::new();
                    for (i, tool) in tools.iter().enumerate() {
                        let tool_field = format!("{field}.tools[{i}]");
                        known(
                            &format!("{tool_field}.type"),
                            tool.kind.is_unknown(),
                            tool.kind.as_str(),
                            steward_core::agent::ToolReferenceType::KNOWN,
                        )?;
                        chars_between(&format!("{tool_field}.name"), &tool.name, 1, 128)?;
                        if !names.insert(tool.name.as_str()) {
                            return Err(invalid(
                                &tool_field,
                                format!("`{}` is listed twice", tool.name),
                            ));
                        }
                        if key == "server_tool_results"
                            && !matches!(tool.name.as_str(), "web_search" | "web_fetch")
                        {
                            return Err(invalid(
                                &format!("{tool_field}.name"),
                                "must be `web_search` or `web_fetch`",
                            ));
                        }
                    }
                }
            }
            Nullable::Absent | Nullable::Null => {}
        }
    }
    let field_user = format!("{field}.user_input");
    match &sources.user_input {
        Nullable::Value(OrShorthand::Shorthand(short)) => {
            known(
                &field_user,
                short.is_unknown(),
                short.as_str(),
                UrlSourceShorthand::KNOWN,
            )?;
            none_count += usize::from(*short == UrlSourceShorthand::None);
        }
        Nullable::Value(OrShorthand::Full(input)) => {
            known(
                &format!("{field_user}.type"),
                input.is_unknown(),
                input.type_name(),
                UrlSourceUserInput::KNOWN_TYPES,
            )?;
            none_count += usize::from(*input == UrlSourceUserInput::None);
        }
        Nullable::Absent | Nullable::Null => {}
    }
    if none_count == 3 {
        return Err(invalid(
            field,
            "setting every source to `none` leaves nothing to fetch",
        ));
    }
    Ok(())
}

fn user_location(field: &str, location: &UserLocation) -> Result<()> {
    known(
        &format!("{field}.type"),
        location.kind.is_unknown(),
        location.kind.as_str(),
        UserLocationType::KNOWN,
    )?;
    if let Nullable::Value(country) = &location.country {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                &format!("{field}.country"),
                "must be an ISO 3166-1 alpha-2 code in upper case",
            ));
        }
    }
    Ok(())
}

fn mcp_toolset(field: &str, toolset: &McpToolsetParams) -> Result<()> {
    chars_between(
        &format!("{field}.mcp_server_name"),
        &toolset.mcp_server_name,
        1,
        255,
    )?;
    default_config(&format!("{field}.default_config"), &toolset.default_config)?;
    let mut seen = BTreeSet::new();
    for (i, config) in toolset.configs.iter().flatten().enumerate() {
        let field = format!("{field}.configs[{i}]");
        chars_between(&format!("{field}.name"), &config.name, 1, 128)?;
        policy(
            &format!("{field}.permission_policy"),
            &config.permission_policy,
        )?;
        if !seen.insert(config.name.as_str()) {
            return Err(invalid(
                &format!("{field}.name"),
                format!("`{}` is configured twice", config.name),
            ));
        }
    }
    Ok(())
}

/// Whether a custom tool name matches `[A-Za-z0-9_-]{1,128}`.
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn custom_tool(field: &str, tool: &CustomTool) -> Result<()> {
    if !is_valid_tool_name(&tool.name) {
        return Err(invalid(
            &format!("{field}.name"),
            "must be 1 to 128 letters, digits, underscores or hyphens",
        ));
    }
    let schema_type = tool.input_schema.get("type").and_then(|t| t.as_str());
    if !tool.input_schema.is_object() || schema_type != Some("object") {
        return Err(invalid(
            &format!("{field}.input_schema"),
            "must be a JSON Schema object with `\"type\": \"object\"`",
        ));
    }
    Ok(())
}

fn mcp_servers(servers: &[McpServer]) -> Result<()> {
    max_items("mcp_servers", servers, MAX_MCP_SERVERS)?;
    let mut names = BTreeSet::new();
    for (i, server) in servers.iter().enumerate() {
        let field = format!("mcp_servers[{i}]");
        known(
            &format!("{field}.type"),
            server.kind.is_unknown(),
            server.kind.as_str(),
            McpServerType::KNOWN,
        )?;
        chars_between(&format!("{field}.name"), &server.name, 1, 255)?;
        if !(server.url.starts_with("https://") || server.url.starts_with("http://")) {
            return Err(invalid(
                &format!("{field}.url"),
                "must be an http or https URL",
            ));
        }
        if !names.insert(server.name.as_str()) {
            return Err(invalid(
                &format!("{field}.name"),
                format!("`{}` is used by another server", server.name),
            ));
        }
    }
    Ok(())
}

fn skills(list: &[SkillParams]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (i, skill) in list.iter().enumerate() {
        let field = format!("skills[{i}]");
        known(
            &format!("{field}.type"),
            skill.is_unknown(),
            skill.type_name(),
            SkillParams::KNOWN_TYPES,
        )?;
        let (id, version) = match skill {
            SkillParams::Anthropic(s) => (&s.skill_id, &s.version),
            SkillParams::Custom(s) => (&s.skill_id, &s.version),
            SkillParams::Unknown(_) => continue,
        };
        non_empty(&format!("{field}.skill_id"), id)?;
        if let Nullable::Value(version) = version {
            non_empty(&format!("{field}.version"), version)?;
        }
        if !seen.insert((skill.type_name().to_owned(), id.clone())) {
            return Err(invalid(
                &format!("{field}.skill_id"),
                format!("`{id}` is listed twice"),
            ));
        }
    }
    Ok(())
}

fn execution_identity(identity: &ExecutionIdentity) -> Result<()> {
    known(
        "execution_identity.type",
        identity.is_unknown(),
        identity.type_name(),
        ExecutionIdentity::KNOWN_TYPES,
    )?;
    if let ExecutionIdentity::AwsRole(role) = identity {
        chars_between(
            "execution_identity.role_arn",
            &role.role_arn,
            1,
            MAX_ROLE_ARN,
        )?;
    }
    Ok(())
}

fn multiagent_params(params: &MultiagentParams) -> Result<()> {
    known(
        "multiagent.type",
        params.is_unknown(),
        params.type_name(),
        MultiagentParams::KNOWN_TYPES,
    )?;
    match params {
        MultiagentParams::Coordinator(coordinator) => coordinator_params(coordinator),
        MultiagentParams::V20261001(v) => {
            if let Nullable::Value(advisor) = &v.advisor {
                advisor_config("multiagent.advisor", advisor)?;
            }
            for (key, pool) in [("subagents", &v.subagents), ("workflows", &v.workflows)] {
                if let Nullable::Value(pool) = pool {
                    agent_pool(&format!("multiagent.{key}"), pool)?;
                }
            }
            Ok(())
        }
        MultiagentParams::Unknown(_) => Ok(()),
    }
}

fn advisor_config(field: &str, advisor: &AdvisorConfig) -> Result<()> {
    known(
        &format!("{field}.type"),
        advisor.is_unknown(),
        advisor.type_name(),
        AdvisorConfig::KNOWN_TYPES,
    )?;
    if let AdvisorConfig::Enabled(model) = advisor {
        non_empty(&format!("{field}.model"), model.model.as_str())?;
    }
    Ok(())
}

fn agent_pool(field: &str, pool: &AgentPoolParams) -> Result<()> {
    known(
        &format!("{field}.type"),
        pool.is_unknown(),
        pool.type_name(),
        AgentPoolParams::KNOWN_TYPES,
    )?;
    let AgentPoolParams::Enabled(enabled) = pool else {
        return Ok(());
    };
    if let Nullable::Value(inline) = &enabled.inline_agents {
        known(
            &format!("{field}.inline_agents.type"),
            inline.is_unknown(),
            inline.type_name(),
            InlineAgents::KNOWN_TYPES,
        )?;
    }
    if let Nullable::Value(agents) = &enabled.predefined_agents {
        let list_field = format!("{field}.predefined_agents");
        max_items(&list_field, agents, MAX_ROSTER)?;
        for (i, entry) in agents.iter().enumerate() {
            let entry_field = format!("{list_field}[{i}]");
            roster_entry(&entry_field, entry)?;
            if matches!(entry, RosterEntryParams::Advisor(_)) {
                return Err(invalid(
                    &entry_field,
                    "an advisor cannot be a predefined agent",
                ));
            }
        }
    }
    Ok(())
}

fn coordinator_params(coordinator: &CoordinatorParams) -> Result<()> {
    let field = "multiagent.agents";
    if coordinator.agents.is_empty() {
        return Err(invalid(field, "must name at least one agent"));
    }
    max_items(field, &coordinator.agents, MAX_ROSTER)?;
    let mut selves = 0;
    let mut advisors = 0;
    for (i, entry) in coordinator.agents.iter().enumerate() {
        let entry_field = format!("{field}[{i}]");
        roster_entry(&entry_field, entry)?;
        match entry {
            RosterEntryParams::SelfAgent => selves += 1,
            RosterEntryParams::Advisor(_) => advisors += 1,
            _ => {}
        }
        if selves > 1 {
            return Err(invalid(&entry_field, "at most one `self` entry is allowed"));
        }
        if advisors > 1 {
            return Err(invalid(
                &entry_field,
                "at most one `advisor` entry is allowed",
            ));
        }
    }
    Ok(())
}

const ROSTER_TYPES: &[&str] = &["agent", "self", "advisor"];

fn roster_entry(field: &str, entry: &RosterEntryParams) -> Result<()> {
    match entry {
        RosterEntryParams::Unknown(raw) => known(
            &format!("{field}.type"),
            true,
            raw.get("type").and_then(|t| t.as_str()).unwrap_or_default(),
            ROSTER_TYPES,
        ),
        RosterEntryParams::Id(id) => non_empty(field, id.as_str()),
        RosterEntryParams::Agent(agent) => {
            non_empty(&format!("{field}.id"), agent.id.as_str())?;
            if agent.version == Some(0) {
                return Err(invalid(&format!("{field}.version"), "must be at least 1"));
            }
            Ok(())
        }
        RosterEntryParams::Advisor(advisor) => {
            non_empty(&format!("{field}.model"), advisor.model.as_str())
        }
        RosterEntryParams::SelfAgent => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(json: serde_json::Value) -> Result<()> {
        let body: AgentCreate = serde_json::from_value(json).unwrap();
        body.validate()
    }

    fn message(json: serde_json::Value) -> String {
        create(json).unwrap_err().body().message.clone()
    }

    #[test]
    fn accepts_a_full_agent() {
        create(serde_json::json!({
            "name": "a",
            "model": {"id": "claude-sonnet-4-6", "effort": "high", "speed": "fast"},
            "tools": [
                {"type": "agent_toolset_20260401", "default_config": {"permission_policy": {"type": "always_ask"}},
                 "configs": [{"name": "web_fetch", "allowed_domains": ["docs.rs"], "url_sources": {"user_input": "none"}},
                             {"name": "web_search", "user_location": {"type": "approximate", "country": "FR"}}]},
                {"type": "mcp_toolset", "mcp_server_name": "gh", "configs": [{"name": "search"}]},
                {"type": "custom", "name": "lookup-1", "description": "d", "input_schema": {"type": "object"}}
            ],
            "mcp_servers": [{"type": "url", "name": "gh", "url": "https://mcp.example.com"}],
            "skills": [{"type": "anthropic", "skill_id": "xlsx"}],
            "multiagent": {"type": "coordinator", "agents": [{"type": "self"}, "agent_x"]},
            "execution_identity": {"type": "aws_role", "role_arn": "arn:aws:iam::1:role/x"}
        }))
        .unwrap();
    }

    #[test]
    fn rejects_unknown_values_naming_the_field() {
        let m =
            message(serde_json::json!({"name": "a", "model": "m", "tools": [{"type": "laser"}]}));
        assert!(m.contains("`tools[0].type`") && m.contains("laser"), "{m}");
        let m = message(serde_json::json!({"name": "a", "model": "m",
            "tools": [{"type": "agent_toolset_20260401", "configs": [{"name": "teleport"}]}]}));
        assert!(m.contains("`tools[0].configs[0].name`"), "{m}");
        let m =
            message(serde_json::json!({"name": "a", "model": {"id": "m", "effort": "extreme"}}));
        assert!(m.contains("`model.effort`"), "{m}");
        let m = message(serde_json::json!({"name": "a", "model": "m",
            "tools": [{"type": "agent_toolset_20260401", "default_config": {"permission_policy": {"type": "sometimes"}}}]}));
        assert!(m.contains("permission_policy"), "{m}");
        let m = message(
            serde_json::json!({"name": "a", "model": "m", "multiagent": {"type": "swarm"}}),
        );
        assert!(m.contains("`multiagent.type`"), "{m}");
        let m = message(
            serde_json::json!({"name": "a", "model": "m", "execution_identity": {"type": "gcp"}}),
        );
        assert!(m.contains("`execution_identity.type`"), "{m}");
    }

    #[test]
    fn rejects_broken_rules() {
        for (json, needle) in [
            (serde_json::json!({"name": " ", "model": "m"}), "`name`"),
            (serde_json::json!({"name": "a", "model": ""}), "`model`"),
            (
                serde_json::json!({"name": "a", "model": "m", "tools": [{"type": "custom", "name": "bad name", "description": "", "input_schema": {"type": "object"}}]}),
                "`tools[0].name`",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "tools": [{"type": "custom", "name": "x", "description": "", "input_schema": {"type": "string"}}]}),
                "`tools[0].input_schema`",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "tools": [{"type": "agent_toolset_20260401", "configs": [{"name": "bash", "allowed_domains": ["a.com"]}]}]}),
                "allowed_domains",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "tools": [{"type": "agent_toolset_20260401", "configs": [{"name": "web_fetch", "allowed_domains": []}]}]}),
                "allowed_domains",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "tools": [{"type": "agent_toolset_20260401", "configs": [{"name": "web_fetch", "allowed_domains": ["https://a.com"]}]}]}),
                "allowed_domains[0]",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "tools": [{"type": "agent_toolset_20260401", "configs": [{"name": "bash"}, {"name": "bash"}]}]}),
                "configs[1].name",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "tools": [{"type": "agent_toolset_20260401", "configs": [{"name": "web_fetch", "url_sources": {"user_input": "none", "client_tool_results": "none", "server_tool_results": {"type": "none"}}}]}]}),
                "url_sources",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "mcp_servers": [{"type": "url", "name": "x", "url": "https://a"}, {"type": "url", "name": "x", "url": "https://b"}]}),
                "mcp_servers[1].name",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "mcp_servers": [{"type": "url", "name": "x", "url": "ftp://a"}]}),
                "mcp_servers[0].url",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "multiagent": {"type": "coordinator", "agents": []}}),
                "multiagent.agents",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "multiagent": {"type": "coordinator", "agents": [{"type": "self"}, {"type": "self"}]}}),
                "multiagent.agents[1]",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "multiagent": {"type": "multiagent_20261001", "subagents": {"type": "enabled", "predefined_agents": [{"type": "advisor", "model": "m"}]}}}),
                "predefined_agents[0]",
            ),
            (
                serde_json::json!({"name": "a", "model": "m", "metadata": {"k": "v".repeat(513)}}),
                "metadata",
            ),
        ] {
            let m = message(json.clone());
            assert!(m.contains(needle), "{json}: {m}");
        }
    }
}
