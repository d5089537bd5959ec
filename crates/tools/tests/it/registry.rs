//! The registry: link-time collection, duplicates, agent tool definitions, dispatch.

use std::sync::Arc;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_core::agent::{AgentCreate, AgentTool, AgentToolParams};
use steward_tools::builtin::Clock;
use steward_tools::{
    Registry, RegistryError, Tool, ToolContext, ToolError, ToolErrorKind, ToolOutput,
    ToolRegistration,
};

use crate::support::ctx;

/// A tool implemented directly on [`Tool`] (no typed input): echoes its input.
struct Echo(&'static str);

#[steward_tools::async_trait]
impl Tool for Echo {
    fn name(&self) -> &str {
        self.0
    }

    fn description(&self) -> &str {
        "Echoes its input."
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object", "properties": {"text": {"type": "string"}}})
    }

    async fn call(&self, input: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text(input.to_string()))
    }
}

/// Never finishes unless cancelled.
struct Hang;

#[steward_tools::async_trait]
impl Tool for Hang {
    fn name(&self) -> &str {
        "hang"
    }

    fn description(&self) -> &str {
        "Waits forever."
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object"})
    }

    async fn call(&self, _input: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        std::future::pending().await
    }
}

#[test]
fn inventory_holds_the_builtins_and_no_unlinked_plugin() {
    let registry = Registry::from_inventory().unwrap();
    // `http_request` needs host configuration, so it is a constructor, not a registration;
    // `aws_*` tools live in steward-plugin-aws, which this binary does not link.
    assert_eq!(registry.names(), ["clock"]);
    assert!(!registry.names().iter().any(|name| name.starts_with("aws_")));
    assert!(registry.get("clock").unwrap().idempotent());
}

#[test]
fn duplicate_names_are_an_error_not_an_override() {
    let err = Registry::new()
        .with(Echo("echo"))
        .unwrap()
        .with(Echo("echo"))
        .unwrap_err();
    assert_eq!(
        err,
        RegistryError::Duplicate {
            name: "echo".into()
        }
    );
    assert_eq!(err.to_string(), "tool `echo` is registered more than once");

    // A hand-added tool may not shadow one from inventory either.
    let err = Registry::from_inventory()
        .unwrap()
        .with(Clock::default())
        .unwrap_err();
    assert_eq!(
        err,
        RegistryError::Duplicate {
            name: "clock".into()
        }
    );
}

#[test]
fn registrations_are_checked() {
    static SAME_NAME: [ToolRegistration; 2] = [
        ToolRegistration::new("clock", || Box::new(Clock::default())),
        ToolRegistration::new("clock", || Box::new(Clock::default())),
    ];
    assert_eq!(
        Registry::from_registrations(&SAME_NAME).unwrap_err(),
        RegistryError::Duplicate {
            name: "clock".into()
        }
    );

    static MISNAMED: [ToolRegistration; 1] =
        [ToolRegistration::new("time", || Box::new(Clock::default()))];
    assert_eq!(
        Registry::from_registrations(&MISNAMED).unwrap_err(),
        RegistryError::NameMismatch {
            registered: "time".into(),
            actual: "clock".into()
        }
    );
}

#[test]
fn invalid_names_are_refused() {
    for (name, reason) in [
        ("", "a tool name cannot be empty"),
        (
            "has space",
            "a tool name has only ASCII letters, digits, `_` and `-`",
        ),
        (
            "héllo",
            "a tool name has only ASCII letters, digits, `_` and `-`",
        ),
    ] {
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        assert_eq!(
            Registry::new().with(Echo(leaked)).unwrap_err(),
            RegistryError::InvalidName {
                name: name.into(),
                reason
            }
        );
    }
    let long: &'static str = Box::leak("x".repeat(129).into_boxed_str());
    assert!(matches!(
        Registry::new().with(Echo(long)),
        Err(RegistryError::InvalidName { .. })
    ));
    let max: &'static str = Box::leak("x".repeat(128).into_boxed_str());
    assert!(Registry::new().with(Echo(max)).is_ok());
}

#[test]
fn iteration_is_sorted_by_name_whatever_the_insertion_order() {
    let registry = Registry::new()
        .with(Echo("zeta"))
        .unwrap()
        .with(Echo("alpha"))
        .unwrap()
        .with(Echo("mid"))
        .unwrap();
    assert_eq!(registry.names(), ["alpha", "mid", "zeta"]);
    let iterated: Vec<&str> = registry.iter().map(|tool| tool.name()).collect();
    assert_eq!(iterated, ["alpha", "mid", "zeta"]);
    let mut registry = registry;
    assert!(registry.remove("mid").is_some());
    assert_eq!(registry.names(), ["alpha", "zeta"]);
    assert_eq!(registry.len(), 2);
}

/// The registry becomes the agent's `custom` tools, which read back as the same core types,
/// both as a request (`AgentCreate`) and as the tools a response returns (`AgentTool`).
#[test]
fn registry_becomes_the_agents_custom_tools() {
    let registry = Registry::from_inventory()
        .unwrap()
        .with(Echo("echo"))
        .unwrap();
    let create = AgentCreate {
        name: "Assistant".into(),
        model: "claude-sonnet-4-6".into(),
        tools: Some(registry.agent_tools()),
        ..Default::default()
    };
    let wire = serde_json::to_value(&create).unwrap();
    let clock = registry.get("clock").unwrap();
    assert_eq!(
        wire["tools"],
        json!([
            {
                "type": "custom",
                "name": "clock",
                "description": clock.description(),
                "input_schema": clock.input_schema()
            },
            {
                "type": "custom",
                "name": "echo",
                "description": "Echoes its input.",
                "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}}
            }
        ])
    );

    let back: AgentCreate = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(back, create);
    let tools = back.tools.unwrap();
    assert!(
        tools
            .iter()
            .all(|t| matches!(t, AgentToolParams::Custom(_)))
    );

    let returned: Vec<AgentTool> = serde_json::from_value(wire["tools"].clone()).unwrap();
    let declared: Vec<_> = returned
        .into_iter()
        .map(|tool| match tool {
            AgentTool::Custom(custom) => custom,
            other => panic!("not a custom tool: {other:?}"),
        })
        .collect();
    assert_eq!(declared, registry.custom_tools());
    assert_eq!(
        serde_json::to_value(&declared).unwrap(),
        serde_json::to_value(registry.custom_tools()).unwrap()
    );
}

#[tokio::test]
async fn call_dispatches_by_name() {
    let registry = Registry::new().with(Echo("echo")).unwrap();
    let out = registry
        .call("echo", json!({"text": "hi"}), &ctx())
        .await
        .unwrap();
    assert_eq!(out.to_text(), r#"{"text":"hi"}"#);

    let err = registry.call("nope", json!({}), &ctx()).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::NotFound);
    assert_eq!(
        err.model_text(),
        "not_found: this host has no tool named `nope`"
    );
}

#[tokio::test]
async fn call_stops_when_the_context_is_cancelled() {
    let registry = Registry::new().with(Hang).unwrap();
    let ctx = ctx();
    let cancel = ctx.cancel.clone();
    let registry = Arc::new(registry);
    let task = tokio::spawn({
        let registry = Arc::clone(&registry);
        async move { registry.call("hang", json!({}), &ctx).await }
    });
    tokio::task::yield_now().await;
    assert!(!task.is_finished());
    cancel.cancel();
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Cancelled);
    assert_eq!(err.model_text(), "cancelled: the tool call was cancelled");
}

#[test]
fn context_carries_user_and_idempotency_key() {
    let ctx = ToolContext::new("sesn_1", "sevt_42").with_user("user_7");
    assert_eq!(ctx.idempotency_key(), "sevt_42");
    assert_eq!(ctx.user.as_ref().map(|u| u.as_str()), Some("user_7"));
    assert_eq!(ctx.session_id, "sesn_1");
}
