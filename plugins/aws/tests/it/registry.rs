//! Linking the plugin is all it takes to register its tools.

use steward_tools::Registry;

#[test]
fn linking_the_plugin_registers_its_tools() {
    let registry = Registry::from_inventory().unwrap();
    insta::assert_snapshot!(registry.names().join("\n"), @r"
    aws_request
    aws_sts_get_caller_identity
    clock
    ");
    assert!(!registry.get("aws_request").unwrap().idempotent());
    assert!(
        registry
            .get("aws_sts_get_caller_identity")
            .unwrap()
            .idempotent()
    );
}

#[test]
fn the_agent_declares_the_plugin_tools() {
    let registry = Registry::from_inventory().unwrap();
    let tools = registry.custom_tools();
    let request = tools.iter().find(|t| t.name == "aws_request").unwrap();
    assert_eq!(request.input_schema["type"], "object");
    assert_eq!(
        request.input_schema["required"],
        serde_json::json!(["service"])
    );
    assert_eq!(
        request.input_schema["properties"]["method"]["enum"],
        serde_json::json!(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    );
    let whoami = tools
        .iter()
        .find(|t| t.name == "aws_sts_get_caller_identity")
        .unwrap();
    assert_eq!(whoami.input_schema["additionalProperties"], false);
}
