//! Two crates registering the same tool name: `Registry::from_inventory` fails with
//! `Duplicate` instead of letting one silently win.
//!
//! A separate test binary (an exception to one binary per crate): a duplicate registration
//! poisons `from_inventory` for every test linked with it, so it gets a binary of its own.

use steward_tools::{Registry, RegistryError, ToolContext, ToolError, ToolOutput, TypedTool};

/// A tool registered twice below, as two plugins picking the same name would.
#[derive(Default)]
struct Twin;

#[steward_tools::async_trait]
impl TypedTool for Twin {
    const NAME: &'static str = "twin";
    type Input = serde_json::Value;

    fn description(&self) -> &str {
        "Registered twice."
    }

    async fn run(
        &self,
        _input: serde_json::Value,
        _ctx: &ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("twin"))
    }
}

steward_tools::register_tool!(Twin);
steward_tools::register_tool!(Twin, Twin::default);

#[test]
fn a_name_registered_twice_is_an_error() {
    assert_eq!(
        Registry::from_inventory().unwrap_err(),
        RegistryError::Duplicate {
            name: "twin".into()
        }
    );
}
