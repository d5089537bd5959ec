//! From request params to the resolved agent: defaults filled in, shorthand forms expanded,
//! and the checks that look at several fields at once.

use std::collections::BTreeSet;

use steward_core::Nullable;
use steward_core::agent::{
    AgentTool, AgentToolParams, AgentToolset, AgentToolsetParams, AnthropicSkill, BuiltinToolName,
    CustomSkill, Effort, EffortLevel, EffortParam, ExecutionIdentity, McpServer, McpToolConfig,
    McpToolset, McpToolsetParams, ModelConfig, ModelParam, OrShorthand, PermissionPolicy, Skill,
    SkillParams, ToolConfig, ToolConfigParams, ToolsetDefaultConfig, ToolsetDefaultConfigParams,
    UrlSourceAll, UrlSourceNone, UrlSourceShorthand, UrlSourceToolFilter, UrlSourceUserInput,
    UrlSources, UrlSourcesParams,
};
use steward_core::usage::Speed;

use crate::error::{Error, Result};

/// Effort stored when a request sets none (and no earlier version had one).
pub const DEFAULT_EFFORT: EffortLevel = EffortLevel::High;
/// Version stored for a skill whose request omits `version`.
pub const LATEST_SKILL_VERSION: &str = "latest";
/// Most tools an agent may have, counted as described in [`tool_count`].
pub const MAX_TOOLS: usize = 256;

/// Resolves the model. On update (`stored` set) an omitted effort keeps the stored one; every
/// other omitted field takes its default (`inference_geo` unset, `speed` standard).
pub fn model(param: ModelParam, stored: Option<&ModelConfig>) -> ModelConfig {
    let stored_effort = stored.and_then(|m| m.effort.clone());
    let default_effort = || {
        stored_effort.clone().unwrap_or(Effort {
            level: DEFAULT_EFFORT,
        })
    };
    match param {
        ModelParam::Id(id) => ModelConfig {
            id,
            effort: Some(default_effort()),
            inference_geo: None,
            speed: Some(Speed::Standard),
        },
        ModelParam::Config(config) => ModelConfig {
            id: config.id,
            effort: Some(match config.effort {
                Nullable::Value(EffortParam::Level(level)) => Effort { level },
                Nullable::Value(EffortParam::Object(effort)) => effort,
                Nullable::Null => Effort {
                    level: DEFAULT_EFFORT,
                },
                Nullable::Absent => default_effort(),
            }),
            inference_geo: config.inference_geo.into_option(),
            speed: Some(config.speed.into_option().unwrap_or(Speed::Standard)),
        },
    }
}

/// `""` and `null` both mean "no text" for `description` and `system`.
pub fn text(value: Nullable<String>) -> Option<String> {
    value.into_option().filter(|s| !s.is_empty())
}

/// The execution identity; omitted and `null` store the default service account.
pub fn execution_identity(value: Nullable<ExecutionIdentity>) -> ExecutionIdentity {
    value.into_option().unwrap_or_default()
}

/// Skills with their version resolved (`"latest"` when omitted: the platform keeps no skill
/// registry).
pub fn skills(params: Vec<SkillParams>) -> Vec<Skill> {
    let version = |v: Nullable<String>| {
        v.into_option()
            .unwrap_or_else(|| LATEST_SKILL_VERSION.to_owned())
    };
    params
        .into_iter()
        .filter_map(|skill| match skill {
            SkillParams::Anthropic(s) => Some(Skill::Anthropic(AnthropicSkill {
                skill_id: s.skill_id,
                version: version(s.version),
            })),
            SkillParams::Custom(s) => Some(Skill::Custom(CustomSkill {
                skill_id: s.skill_id,
                version: version(s.version),
            })),
            // Rejected by validation before resolution.
            SkillParams::Unknown(_) => None,
        })
        .collect()
}

fn toolset_defaults(
    params: Nullable<ToolsetDefaultConfigParams>,
    default_policy: PermissionPolicy,
) -> ToolsetDefaultConfig {
    let params = params.into_option().unwrap_or_default();
    ToolsetDefaultConfig {
        enabled: params.enabled.into_option().unwrap_or(true),
        permission_policy: params
            .permission_policy
            .into_option()
            .unwrap_or(default_policy),
    }
}

/// Resolves tool params: the built-in toolset lists all eight tools, MCP toolsets list the
/// tools their request configured.
pub fn tools(params: Vec<AgentToolParams>) -> Vec<AgentTool> {
    params
        .into_iter()
        .filter_map(|tool| match tool {
            AgentToolParams::Toolset(toolset) => Some(AgentTool::Toolset(agent_toolset(toolset))),
            AgentToolParams::McpToolset(toolset) => {
                Some(AgentTool::McpToolset(mcp_toolset(toolset)))
            }
            AgentToolParams::Custom(custom) => Some(AgentTool::Custom(custom)),
            // Rejected by validation before resolution.
            AgentToolParams::Unknown(_) => None,
        })
        .collect()
}

fn agent_toolset(params: AgentToolsetParams) -> AgentToolset {
    let defaults = toolset_defaults(params.default_config, PermissionPolicy::AlwaysAllow);
    let mut overrides = params.configs.unwrap_or_default();
    let configs = BuiltinToolName::KNOWN
        .iter()
        .map(|name| {
            let name = BuiltinToolName::from(*name);
            let found = overrides.iter().position(|c| c.name == name);
            let params = match found {
                Some(index) => overrides.swap_remove(index),
                None => ToolConfigParams::new(name),
            };
            tool_config(params, &defaults)
        })
        .collect();
    AgentToolset {
        configs,
        default_config: defaults,
    }
}

fn tool_config(params: ToolConfigParams, defaults: &ToolsetDefaultConfig) -> ToolConfig {
    let is_fetch = params.name == BuiltinToolName::WebFetch;
    let is_search = params.name == BuiltinToolName::WebSearch;
    ToolConfig {
        kind: params.name.clone(),
        name: params.name,
        enabled: params.enabled.into_option().unwrap_or(defaults.enabled),
        permission_policy: params
            .permission_policy
            .into_option()
            .unwrap_or_else(|| defaults.permission_policy.clone()),
        // Required (nullable) on web_fetch, absent elsewhere.
        url_sources: if is_fetch {
            params.url_sources.into_option().map(url_sources).into()
        } else {
            Nullable::Absent
        },
        allowed_domains: params.allowed_domains,
        blocked_domains: params.blocked_domains,
        max_content_tokens: if is_fetch {
            params.max_content_tokens
        } else {
            Nullable::Absent
        },
        user_location: if is_search {
            params.user_location
        } else {
            Nullable::Absent
        },
    }
}

fn filter(value: Nullable<OrShorthand<UrlSourceToolFilter>>) -> Option<UrlSourceToolFilter> {
    match value.into_option()? {
        OrShorthand::Shorthand(UrlSourceShorthand::None) => {
            Some(UrlSourceToolFilter::None(UrlSourceNone {}))
        }
        OrShorthand::Shorthand(_) => Some(UrlSourceToolFilter::All(UrlSourceAll {})),
        OrShorthand::Full(filter) => Some(filter),
    }
}

/// URL sources in the object form responses use.
fn url_sources(params: UrlSourcesParams) -> UrlSources {
    UrlSources {
        client_tool_results: filter(params.client_tool_results),
        server_tool_results: filter(params.server_tool_results),
        user_input: match params.user_input.into_option() {
            None => None,
            Some(OrShorthand::Shorthand(UrlSourceShorthand::None)) => {
                Some(UrlSourceUserInput::None)
            }
            Some(OrShorthand::Shorthand(_)) => Some(UrlSourceUserInput::All),
            Some(OrShorthand::Full(input)) => Some(input),
        },
    }
}

fn mcp_toolset(params: McpToolsetParams) -> McpToolset {
    let defaults = toolset_defaults(params.default_config, PermissionPolicy::AlwaysAsk);
    let configs = params
        .configs
        .unwrap_or_default()
        .into_iter()
        .map(|config| McpToolConfig {
            name: config.name,
            enabled: config.enabled.into_option().unwrap_or(defaults.enabled),
            permission_policy: config
                .permission_policy
                .into_option()
                .unwrap_or_else(|| defaults.permission_policy.clone()),
        })
        .collect();
    McpToolset {
        mcp_server_name: params.mcp_server_name,
        configs,
        default_config: defaults,
    }
}

/// How many tools a tool list holds: each custom tool counts 1, the built-in toolset 8, and an
/// MCP toolset the number of tools it configures (at least 1; the platform cannot ask the
/// server how many it has).
pub fn tool_count(tools: &[AgentTool]) -> usize {
    tools
        .iter()
        .map(|tool| match tool {
            AgentTool::Toolset(toolset) => toolset.configs.len(),
            AgentTool::McpToolset(toolset) => toolset.configs.len().max(1),
            AgentTool::Custom(_) | AgentTool::Unknown(_) => 1,
        })
        .sum()
}

/// Checks the resolved tools and MCP servers together: at most one built-in toolset, one
/// toolset per MCP server and every toolset's server declared, every server used, unique
/// custom tool names that do not shadow built-in tools, URL-source lists naming custom tools
/// of this agent, and at most [`MAX_TOOLS`] tools.
pub fn check_tools_and_servers(tools: &[AgentTool], servers: &[McpServer]) -> Result<()> {
    let count = tool_count(tools);
    if count > MAX_TOOLS {
        return Err(Error::invalid_request(format!(
            "`tools`: at most {MAX_TOOLS} tools are allowed across all toolsets, got {count}"
        )));
    }
    let server_names: BTreeSet<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    let mut used_servers = BTreeSet::new();
    let mut custom_names = BTreeSet::new();
    let mut has_toolset = false;
    for (i, tool) in tools.iter().enumerate() {
        match tool {
            AgentTool::Toolset(_) => {
                if has_toolset {
                    return Err(Error::invalid_request(format!(
                        "`tools[{i}]`: `agent_toolset_20260401` may appear only once"
                    )));
                }
                has_toolset = true;
            }
            AgentTool::McpToolset(toolset) => {
                let name = toolset.mcp_server_name.as_str();
                if !server_names.contains(name) {
                    return Err(Error::invalid_request(format!(
                        "`tools[{i}].mcp_server_name`: no MCP server named `{name}` in `mcp_servers`"
                    )));
                }
                if !used_servers.insert(name) {
                    return Err(Error::invalid_request(format!(
                        "`tools[{i}].mcp_server_name`: MCP server `{name}` has another toolset"
                    )));
                }
            }
            AgentTool::Custom(custom) => {
                if !custom_names.insert(custom.name.as_str()) {
                    return Err(Error::invalid_request(format!(
                        "`tools[{i}].name`: custom tool `{}` is defined twice",
                        custom.name
                    )));
                }
            }
            AgentTool::Unknown(_) => {}
        }
    }
    if has_toolset {
        if let Some(clash) = custom_names
            .iter()
            .find(|name| BuiltinToolName::KNOWN.contains(name))
        {
            return Err(Error::invalid_request(format!(
                "`tools`: custom tool `{clash}` has the name of a built-in tool"
            )));
        }
    }
    if let Some(unused) = servers
        .iter()
        .position(|s| !used_servers.contains(s.name.as_str()))
    {
        return Err(Error::invalid_request(format!(
            "`mcp_servers[{unused}]`: MCP server `{}` is not used by any `mcp_toolset` in `tools`",
            servers[unused].name
        )));
    }
    for (i, tool) in tools.iter().enumerate() {
        let AgentTool::Toolset(toolset) = tool else {
            continue;
        };
        for config in &toolset.configs {
            let Nullable::Value(sources) = &config.url_sources else {
                continue;
            };
            let listed = match &sources.client_tool_results {
                Some(UrlSourceToolFilter::Only(list)) => &list.tools,
                Some(UrlSourceToolFilter::Except(list)) => &list.tools,
                _ => continue,
            };
            if let Some(missing) = listed
                .iter()
                .find(|t| !custom_names.contains(t.name.as_str()))
            {
                return Err(Error::invalid_request(format!(
                    "`tools[{i}]`: `web_fetch.url_sources.client_tool_results` names `{}`, which is not a custom tool of this agent",
                    missing.name
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use steward_core::agent::{AgentToolParams, McpServer};

    use super::*;

    fn parse_tools(json: serde_json::Value) -> Vec<AgentTool> {
        tools(serde_json::from_value::<Vec<AgentToolParams>>(json).unwrap())
    }

    #[test]
    fn the_builtin_toolset_lists_every_tool_resolved() {
        let resolved = parse_tools(serde_json::json!([{
            "type": "agent_toolset_20260401",
            "default_config": {"enabled": false},
            "configs": [{"name": "read", "enabled": true, "permission_policy": {"type": "always_ask"}},
                        {"name": "web_fetch", "enabled": true, "url_sources": {"user_input": "none", "client_tool_results": "all"}}]
        }]));
        let value = serde_json::to_value(&resolved).unwrap();
        let toolset = &value[0];
        assert_eq!(
            toolset["default_config"],
            serde_json::json!({"enabled": false, "permission_policy": {"type": "always_allow"}})
        );
        let configs = toolset["configs"].as_array().unwrap();
        let names: Vec<&str> = configs
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, BuiltinToolName::KNOWN);
        assert_eq!(
            configs[0],
            serde_json::json!({"type": "bash", "name": "bash", "enabled": false, "permission_policy": {"type": "always_allow"}})
        );
        assert_eq!(
            configs[2],
            serde_json::json!({"type": "read", "name": "read", "enabled": true, "permission_policy": {"type": "always_ask"}})
        );
        assert_eq!(
            configs[6]["url_sources"],
            serde_json::json!({"client_tool_results": {"type": "all"}, "server_tool_results": null, "user_input": {"type": "none"}})
        );
        // web_search carries no url_sources; web_fetch without one says null.
        let plain = parse_tools(serde_json::json!([{"type": "agent_toolset_20260401"}]));
        let plain = serde_json::to_value(&plain).unwrap();
        assert_eq!(
            plain[0]["configs"][6]["url_sources"],
            serde_json::Value::Null
        );
        assert!(plain[0]["configs"][7].get("url_sources").is_none());
    }

    #[test]
    fn mcp_toolsets_default_to_asking() {
        let resolved = parse_tools(
            serde_json::json!([{"type": "mcp_toolset", "mcp_server_name": "gh", "configs": [{"name": "search", "permission_policy": {"type": "auto"}}, {"name": "push"}]}]),
        );
        let value = serde_json::to_value(&resolved).unwrap();
        assert_eq!(
            value[0]["default_config"],
            serde_json::json!({"enabled": true, "permission_policy": {"type": "always_ask"}})
        );
        assert_eq!(
            value[0]["configs"][0]["permission_policy"],
            serde_json::json!({"type": "auto"})
        );
        assert_eq!(
            value[0]["configs"][1]["permission_policy"],
            serde_json::json!({"type": "always_ask"})
        );
    }

    #[test]
    fn cross_checks() {
        let server = McpServer::url("gh", "https://x");
        let mcp =
            parse_tools(serde_json::json!([{"type": "mcp_toolset", "mcp_server_name": "gh"}]));
        assert!(check_tools_and_servers(&mcp, std::slice::from_ref(&server)).is_ok());
        let err = check_tools_and_servers(&[], std::slice::from_ref(&server)).unwrap_err();
        assert!(
            err.body().message.contains("not used"),
            "{}",
            err.body().message
        );
        let err = check_tools_and_servers(&mcp, &[]).unwrap_err();
        assert!(err.body().message.contains("no MCP server named `gh`"));
        let twice = parse_tools(
            serde_json::json!([{"type": "agent_toolset_20260401"}, {"type": "agent_toolset_20260401"}]),
        );
        assert!(check_tools_and_servers(&twice, &[]).is_err());
        let shadow = parse_tools(
            serde_json::json!([{"type": "agent_toolset_20260401"}, {"type": "custom", "name": "bash", "description": "", "input_schema": {"type": "object"}}]),
        );
        assert!(check_tools_and_servers(&shadow, &[]).is_err());
        let many: Vec<serde_json::Value> = (0..257).map(|i| serde_json::json!({"type": "custom", "name": format!("t{i}"), "description": "", "input_schema": {"type": "object"}})).collect();
        let err =
            check_tools_and_servers(&parse_tools(serde_json::Value::Array(many)), &[]).unwrap_err();
        assert!(err.body().message.contains("256"));
        let bad_ref = parse_tools(
            serde_json::json!([{"type": "agent_toolset_20260401", "configs": [{"name": "web_fetch", "url_sources": {"client_tool_results": {"type": "only", "tools": [{"type": "tool_reference", "name": "nope"}]}}}]}]),
        );
        assert!(
            check_tools_and_servers(&bad_ref, &[])
                .unwrap_err()
                .body()
                .message
                .contains("`nope`")
        );
    }

    #[test]
    fn model_resolution() {
        let m = model("claude-x".into(), None);
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"id": "claude-x", "effort": {"type": "high"}, "speed": "standard"})
        );
        let stored: ModelConfig = serde_json::from_value(serde_json::json!({"id": "a", "effort": {"type": "low"}, "inference_geo": "us", "speed": "fast"})).unwrap();
        let m = model("b".into(), Some(&stored));
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"id": "b", "effort": {"type": "low"}, "speed": "standard"})
        );
        let param: ModelParam = serde_json::from_value(
            serde_json::json!({"id": "c", "effort": "max", "inference_geo": "eu"}),
        )
        .unwrap();
        let m = model(param, Some(&stored));
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"id": "c", "effort": {"type": "max"}, "inference_geo": "eu", "speed": "standard"})
        );
    }
}
