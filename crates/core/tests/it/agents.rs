//! Agents: every object and request body round-trips; shorthand forms (bare model, bare effort,
//! `"all"`/`"none"` URL sources, agent ID roster entries) are kept as sent; unknown tool types,
//! permission policies and multiagent types survive; bad input names the field.

use pretty_assertions::assert_eq;
use serde_json::json;
use steward_core::agent::*;
use steward_core::usage::Speed;
use steward_core::{AgentId, Nullable, Page};

use crate::support::{parse_error, roundtrip};

#[test]
fn full_agent_round_trips() {
    let agent: Agent = roundtrip("objects/agent.json");
    assert_eq!(agent.id, "agent_011CZkYpogX7uDKUyvBTophP");
    assert_eq!(agent.kind, AgentType::Agent);
    assert_eq!(
        agent.model,
        ModelConfig {
            id: ModelId::CLAUDE_OPUS_4_7,
            effort: Some(EffortLevel::Xhigh.into()),
            inference_geo: Some("us".into()),
            speed: Some(Speed::Fast),
        }
    );
    assert_eq!(agent.tools.len(), 3);
    let AgentTool::Toolset(toolset) = &agent.tools[0] else {
        panic!("expected the built-in toolset, got {:?}", agent.tools[0]);
    };
    assert_eq!(
        toolset.default_config.permission_policy,
        PermissionPolicy::AlwaysAllow
    );
    let names: Vec<&str> = toolset.configs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "bash",
            "edit",
            "read",
            "write",
            "glob",
            "grep",
            "web_fetch",
            "web_search"
        ]
    );
    assert!(
        toolset
            .configs
            .iter()
            .all(|c| c.kind == c.name && !c.name.is_unknown())
    );
    let web_fetch = &toolset.configs[6];
    let Nullable::Value(sources) = &web_fetch.url_sources else {
        panic!("web_fetch has url_sources");
    };
    assert_eq!(
        sources.client_tool_results,
        Some(UrlSourceToolFilter::Only(UrlSourceTools {
            tools: vec![ToolReference::new("lookup_ticket")]
        }))
    );
    assert_eq!(sources.user_input, Some(UrlSourceUserInput::None));
    assert_eq!(web_fetch.max_content_tokens, Nullable::Value(20000));
    let web_search = &toolset.configs[7];
    assert_eq!(web_search.permission_policy, PermissionPolicy::Auto);
    assert_eq!(
        web_search
            .user_location
            .value()
            .and_then(|l| l.city.value())
            .map(String::as_str),
        Some("Lisbon")
    );

    let AgentTool::McpToolset(mcp) = &agent.tools[1] else {
        panic!("expected an MCP toolset");
    };
    assert_eq!(mcp.mcp_server_name, agent.mcp_servers[0].name);
    assert_eq!(
        agent.mcp_servers[0],
        McpServer::url("tracker", "https://mcp.tracker.example.com/sse")
    );

    let custom: Vec<&CustomTool> = agent.custom_tools().collect();
    assert_eq!(custom.len(), 1);
    assert_eq!(custom[0].name, "lookup_ticket");
    assert_eq!(custom[0].input_schema["required"], json!(["key"]));

    assert_eq!(
        agent.skills.iter().map(Skill::skill_id).collect::<Vec<_>>(),
        [Some("xlsx"), Some("skill_01XJ5abcdef")]
    );
    assert_eq!(
        agent.execution_identity,
        ExecutionIdentity::aws_role("arn:aws:iam::123456789012:role/release-reviewer")
    );
    let Some(Multiagent::V20261001(multi)) = &agent.multiagent else {
        panic!("expected multiagent_20261001");
    };
    assert_eq!(
        multi.advisor,
        AdvisorConfig::Enabled(AdvisorModel {
            model: ModelId::CLAUDE_OPUS_5
        })
    );
    let AgentPool::Enabled(subagents) = &multi.subagents else {
        panic!("subagents are enabled");
    };
    assert_eq!(subagents.inline_agents, InlineAgents::Enabled);
    assert_eq!(subagents.predefined_agents[1], agent.reference());
    assert_eq!(multi.workflows, AgentPool::Disabled(MemberDisabled {}));
    assert!(!agent.is_archived());
}

#[test]
fn minimal_agent_keeps_nulls_and_empties() {
    let agent: Agent = roundtrip("objects/agent--minimal.json");
    assert_eq!(agent.description, None);
    assert_eq!(agent.system, None);
    assert_eq!(agent.multiagent, None);
    assert_eq!(agent.model, ModelConfig::new("claude-sonnet-4-6"));
    assert_eq!(agent.execution_identity, ExecutionIdentity::default());
    assert!(agent.tools.is_empty() && agent.metadata.is_empty());
    assert!(agent.is_archived());
    assert_eq!(agent.custom_tools().count(), 0);
}

#[test]
fn coordinator_agent_round_trips() {
    let agent: Agent = roundtrip("objects/agent--coordinator.json");
    let Some(Multiagent::Coordinator(coordinator)) = &agent.multiagent else {
        panic!("expected a coordinator");
    };
    assert_eq!(
        coordinator.agents,
        [
            CoordinatorAgent::Agent(AgentVersion {
                id: AgentId::new("agent_011CZkYq1Gx3TestWriter"),
                version: 2
            }),
            CoordinatorAgent::Advisor(AdvisorModel {
                model: "claude-opus-5".into()
            }),
        ]
    );
    // Web tool configs: `url_sources`/`user_location` sent as null stay null, and the fields the
    // other tool does not carry stay absent.
    let AgentTool::Toolset(toolset) = &agent.tools[0] else {
        panic!("expected the built-in toolset");
    };
    assert!(toolset.configs[0].url_sources.is_null());
    assert!(toolset.configs[0].user_location.is_absent());
    assert!(toolset.configs[1].user_location.is_null());
    assert!(toolset.configs[1].url_sources.is_absent());
}

#[test]
fn agent_page_round_trips() {
    let page: Page<Agent> = roundtrip("objects/agent_page.json");
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].custom_tools().count(), 1);
    assert!(page.next_page.is_some());
}

#[test]
fn unknown_types_round_trip_losslessly() {
    let agent: Agent = roundtrip("objects/agent--forward-compat.json");
    assert_eq!(agent.model.id, "claude-zephyr-9");
    assert!(!agent.model.id.is_known());
    assert_eq!(
        agent.model.effort.as_ref().map(|e| e.level.as_str()),
        Some("ultra")
    );
    assert_eq!(agent.model.speed, Some(Speed::Unknown("warp".into())));

    let AgentTool::Toolset(toolset) = &agent.tools[0] else {
        panic!("expected the built-in toolset");
    };
    let policy = &toolset.default_config.permission_policy;
    assert!(policy.is_unknown());
    assert_eq!(policy.type_name(), "ask_once");
    assert_eq!(
        serde_json::to_value(policy).unwrap(),
        json!({"type": "ask_once", "ttl_seconds": 600})
    );
    assert_eq!(
        toolset.configs[0].name,
        BuiltinToolName::Unknown("teleport".into())
    );

    assert!(agent.tools[1].is_unknown());
    assert_eq!(agent.tools[1].type_name(), "computer_20270101");
    assert_eq!(agent.custom_tools().count(), 0);
    assert!(agent.mcp_servers[0].kind.is_unknown());
    assert!(agent.skills[0].is_unknown());
    assert_eq!(agent.skills[0].skill_id(), None);
    assert!(
        agent
            .multiagent
            .as_ref()
            .is_some_and(Multiagent::is_unknown)
    );
    assert_eq!(agent.execution_identity.type_name(), "gcp_service_account");
}

#[test]
fn unknown_tool_params_round_trip() {
    let raw = json!({"type": "computer_20270101", "display": {"width": 800}});
    let tool: AgentToolParams = serde_json::from_value(raw.clone()).unwrap();
    assert!(tool.is_unknown());
    assert_eq!(serde_json::to_value(&tool).unwrap(), raw);

    let raw = json!({"type": "escalate", "to": "oncall"});
    let policy: PermissionPolicy = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&policy).unwrap(), raw);
}

#[test]
fn full_create_round_trips_keeping_shorthand_forms() {
    let body: AgentCreate = roundtrip("params/agent_create.json");
    let ModelParam::Config(model) = &body.model else {
        panic!("expected the object form of model");
    };
    assert_eq!(
        model.effort,
        Nullable::Value(EffortParam::Level(EffortLevel::Xhigh))
    );
    assert_eq!(model.speed, Nullable::Value(Speed::Fast));

    let tools = body.tools.as_deref().unwrap();
    let AgentToolParams::Toolset(toolset) = &tools[0] else {
        panic!("expected the built-in toolset");
    };
    let configs = toolset.configs.as_deref().unwrap();
    assert_eq!(configs[0].kind, None);
    assert_eq!(
        configs[0].permission_policy,
        Nullable::Value(PermissionPolicy::AlwaysAsk)
    );
    assert_eq!(configs[1], {
        let mut write = ToolConfigParams::disabled(BuiltinToolName::Write);
        write.kind = Some(BuiltinToolName::Write);
        write
    });
    assert!(configs[2].enabled.is_null() && configs[2].permission_policy.is_null());
    let sources = configs[3].url_sources.value().unwrap();
    assert_eq!(
        sources.server_tool_results,
        Nullable::Value(OrShorthand::Shorthand(UrlSourceShorthand::None))
    );
    assert_eq!(
        sources.user_input,
        Nullable::Value(OrShorthand::Full(UrlSourceUserInput::All))
    );
    assert!(matches!(tools[2], AgentToolParams::Custom(_)));

    let skills = body.skills.as_deref().unwrap();
    assert_eq!(skills[0], SkillParams::anthropic("xlsx"));
    let SkillParams::Anthropic(pdf) = &skills[2] else {
        panic!("expected an anthropic skill");
    };
    assert!(pdf.version.is_null());

    let Nullable::Value(MultiagentParams::V20261001(multi)) = &body.multiagent else {
        panic!("expected multiagent_20261001");
    };
    assert!(multi.workflows.is_null());
    let Nullable::Value(AgentPoolParams::Enabled(subagents)) = &multi.subagents else {
        panic!("subagents are enabled");
    };
    assert_eq!(
        subagents.predefined_agents.value().unwrap(),
        &[
            RosterEntryParams::Id(AgentId::new("agent_011CZkYq1Gx3TestWriter")),
            RosterEntryParams::Agent(AgentVersionParams {
                id: AgentId::new("agent_011CZkYr9CoordinatorAa"),
                version: Some(2)
            }),
            RosterEntryParams::Agent(AgentVersionParams {
                id: AgentId::new("agent_011CZkYs0FutureAgent0"),
                version: None
            }),
            RosterEntryParams::SelfAgent,
        ]
    );
}

#[test]
fn coordinator_create_round_trips() {
    let body: AgentCreate = roundtrip("params/agent_create--coordinator.json");
    let ModelParam::Config(model) = &body.model else {
        panic!("expected the object form of model");
    };
    assert_eq!(
        model.effort,
        Nullable::Value(EffortParam::Object(Effort {
            level: EffortLevel::High
        }))
    );
    assert!(body.description.is_null() && body.system.is_null());
    assert!(body.execution_identity.is_null());
    assert_eq!(
        body.tools,
        Some(vec![AgentToolParams::agent_toolset()]),
        "a bare toolset entry is the default toolset"
    );
    let Nullable::Value(MultiagentParams::Coordinator(coordinator)) = &body.multiagent else {
        panic!("expected a coordinator");
    };
    assert_eq!(coordinator.agents[0], "agent_011CZkYq1Gx3TestWriter".into());
    assert_eq!(coordinator.agents[2], RosterEntryParams::SelfAgent);
    assert_eq!(
        coordinator.agents[3],
        RosterEntryParams::Advisor(AdvisorModel {
            model: ModelId::CLAUDE_OPUS_5
        })
    );
}

#[test]
fn minimal_create_is_name_and_model_string() {
    let body: AgentCreate = roundtrip("params/agent_create--minimal.json");
    let built = AgentCreate {
        name: "Test writer".into(),
        model: "claude-sonnet-4-6".into(),
        ..Default::default()
    };
    assert_eq!(body, built);
    assert_eq!(body.model, ModelParam::Id(ModelId::CLAUDE_SONNET_4_6));
    assert!(body.description.is_absent() && body.tools.is_none());
}

#[test]
fn model_parses_as_string_and_as_object() {
    let bare: ModelParam = serde_json::from_value(json!("claude-haiku-4-5")).unwrap();
    assert_eq!(bare, "claude-haiku-4-5".into());
    assert_eq!(bare.id(), &ModelId::CLAUDE_HAIKU_4_5);

    let object: ModelParam =
        serde_json::from_value(json!({"id": "claude-haiku-4-5", "effort": {"type": "low"}}))
            .unwrap();
    assert_eq!(object.id(), &ModelId::CLAUDE_HAIKU_4_5);
    let ModelParam::Config(config) = &object else {
        panic!("expected the object form");
    };
    assert_eq!(
        config.effort.value().map(EffortParam::level),
        Some(&EffortLevel::Low)
    );

    let built = ModelParam::from(ModelConfigParams {
        effort: Nullable::Value(EffortLevel::Max.into()),
        ..ModelConfigParams::new(ModelId::CLAUDE_OPUS_4_6)
    });
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        json!({"id": "claude-opus-4-6", "effort": "max"})
    );
    assert_eq!(
        serde_json::to_value(ModelParam::from("custom-model")).unwrap(),
        json!("custom-model")
    );
}

#[test]
fn update_distinguishes_absent_null_and_value() {
    let body: AgentUpdate = roundtrip("params/agent_update.json");
    assert_eq!(body.model, Some("claude-sonnet-4-6".into()));
    assert_eq!(body.description, Nullable::Value(String::new()));
    assert!(body.system.is_null() && body.tools.is_null() && body.skills.is_null());
    assert_eq!(body.mcp_servers, Nullable::Value(vec![]));
    let patch = body.metadata.value().unwrap();
    assert_eq!(patch["tier"], None);
    assert_eq!(patch["team"].as_deref(), Some("release-eng"));
    assert!(body.multiagent.is_null());
    assert_eq!(
        body.execution_identity,
        Nullable::Value(ExecutionIdentity::default())
    );
    assert_eq!(body.version, Some(7));

    let partial: AgentUpdate = roundtrip("params/agent_update--partial.json");
    assert!(partial.name.is_none() && partial.system.is_absent() && partial.version.is_none());
    assert!(partial.metadata.is_null());
    let Some(ModelParam::Config(model)) = &partial.model else {
        panic!("expected the object form of model");
    };
    assert!(model.effort.is_null() && model.inference_geo.is_null() && model.speed.is_null());
    let Nullable::Value(MultiagentParams::V20261001(multi)) = &partial.multiagent else {
        panic!("expected multiagent_20261001");
    };
    assert_eq!(
        multi.advisor,
        Nullable::Value(AdvisorConfig::Disabled(MemberDisabled {}))
    );
    let Nullable::Value(AgentPoolParams::Enabled(workflows)) = &multi.workflows else {
        panic!("workflows are enabled");
    };
    assert!(workflows.inline_agents.is_absent());
    assert_eq!(workflows.predefined_agents, Nullable::Value(vec![]));

    let empty = AgentUpdate {
        system: Nullable::Null,
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&empty).unwrap(),
        json!({"system": null})
    );
}

#[test]
fn query_params_round_trip_with_bracket_keys() {
    let list: AgentListParams = roundtrip("params/agent_list.json");
    assert_eq!(
        list.created_at_gte.as_ref().map(|t| t.as_str()),
        Some("2026-04-01T00:00:00Z")
    );
    assert_eq!(list.include_archived, Some(true));
    assert_eq!(
        serde_json::to_value(AgentListParams::default()).unwrap(),
        json!({})
    );

    let retrieve: AgentRetrieveParams = roundtrip("params/agent_retrieve.json");
    assert_eq!(retrieve.version, Some(3));
    let versions: AgentVersionListParams = roundtrip("params/agent_versions_list.json");
    assert_eq!(versions.limit, Some(20));
}

#[test]
fn helpers_build_the_wire_shapes() {
    let tools = vec![
        AgentToolParams::Toolset(AgentToolsetParams::with_policy(PermissionPolicy::AlwaysAsk)),
        AgentToolParams::mcp_toolset("tracker"),
        CustomTool::new(
            "get_weather",
            "Current weather.",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        )
        .into(),
    ];
    assert_eq!(
        serde_json::to_value(&tools).unwrap(),
        json!([
            {"type": "agent_toolset_20260401", "default_config": {"permission_policy": {"type": "always_ask"}}},
            {"type": "mcp_toolset", "mcp_server_name": "tracker"},
            {
                "type": "custom",
                "name": "get_weather",
                "description": "Current weather.",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}
            }
        ])
    );
    assert_eq!(
        serde_json::to_value(SkillParams::custom("skill_1")).unwrap(),
        json!({"type": "custom", "skill_id": "skill_1"})
    );
    assert_eq!(
        serde_json::to_value(ExecutionIdentity::default()).unwrap(),
        json!({"type": "service_account"})
    );
    assert_eq!(
        serde_json::to_value(AgentReference::new("agent_1", 2)).unwrap(),
        json!({"type": "agent", "id": "agent_1", "version": 2})
    );
    assert_eq!(ModelId::KNOWN.len(), 18);
    assert!(ModelId::CLAUDE_SONNET_4_6.is_known());
}

#[test]
fn bad_input_names_the_field() {
    let err = parse_error::<Agent>(r#"{"id":"agent_1","type":"agent"}"#);
    assert!(err.contains("missing field `name`"), "{err}");

    let err = parse_error::<AgentCreate>(r#"{"name":"x"}"#);
    assert!(err.contains("missing field `model`"), "{err}");

    let err = parse_error::<AgentCreate>(r#"{"name":"x","model":42}"#);
    assert!(err.contains("invalid model"), "{err}");
    assert!(err.contains("got a number"), "{err}");

    let err = parse_error::<AgentCreate>(r#"{"name":"x","model":{"effort":"high"}}"#);
    assert!(err.contains("invalid model: missing field `id`"), "{err}");

    let err = parse_error::<ModelConfigParams>(r#"{"id":"m","effort":7}"#);
    assert!(err.contains("invalid effort"), "{err}");

    let err = parse_error::<AgentToolParams>(r#"{"type":"custom","name":"t","description":"d"}"#);
    assert!(
        err.contains("invalid `custom`: missing field `input_schema`"),
        "{err}"
    );

    let err = parse_error::<AgentToolParams>(r#"{"name":"t"}"#);
    assert!(err.contains("missing field `type`"), "{err}");

    let err = parse_error::<PermissionPolicy>(r#"{"kind":"auto"}"#);
    assert!(
        err.contains("missing field `type` of PermissionPolicy"),
        "{err}"
    );

    let err = parse_error::<PermissionPolicy>(r#""auto""#);
    assert!(err.contains("expected an object"), "{err}");

    let err = parse_error::<ToolConfigParams>(r#"{"enabled":true}"#);
    assert!(err.contains("missing field `name`"), "{err}");

    let err = parse_error::<AgentUpdate>(r#"{"version":"7"}"#);
    assert!(err.contains("invalid type: string \"7\""), "{err}");

    let err = parse_error::<RosterEntryParams>("3");
    assert!(err.contains("invalid roster entry"), "{err}");
    let err = parse_error::<RosterEntryParams>(r#"{"type":"agent","version":1}"#);
    assert!(err.contains("invalid `agent`: missing field `id`"), "{err}");

    let err = parse_error::<UrlSourcesParams>(r#"{"user_input":true}"#);
    assert!(err.contains("invalid url source"), "{err}");

    let err = parse_error::<McpServer>(r#"{"type":"url","name":"x"}"#);
    assert!(err.contains("missing field `url`"), "{err}");
}
