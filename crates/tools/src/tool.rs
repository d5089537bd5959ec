//! The [`Tool`] trait every host-side tool implements, and [`TypedTool`], the typed form tool
//! authors write, blanket-implemented into [`Tool`].
//!
//! [`Tool`] is dyn-compatible (`#[async_trait]`), so a [`Registry`](crate::Registry) holds
//! `Arc<dyn Tool>`. A [`TypedTool`] names its input type; the blanket impl generates the JSON
//! Schema with `schemars` ([`input_schema_for`]) and decodes the model's input with `serde`
//! ([`decode_input`]), turning a decoding failure into a [`ToolErrorKind::InvalidInput`]
//! error that names the offending field, so the model can correct its call.
//!
//! [`ToolErrorKind::InvalidInput`]: crate::ToolErrorKind::InvalidInput

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use steward_core::agent::CustomTool;

use crate::{ToolContext, ToolError, ToolOutput};

/// A tool the host runs when the agent calls it (an `agent.custom_tool_use` event).
///
/// Most tools implement [`TypedTool`] instead and get this trait from the blanket impl.
#[async_trait::async_trait]
pub trait Tool: Send + Sync {
    /// The name the agent calls the tool by: 1-128 ASCII letters, digits, `_` and `-`, unique
    /// in a [`Registry`](crate::Registry).
    fn name(&self) -> &str;

    /// What the tool does, written for the model.
    fn description(&self) -> &str;

    /// JSON Schema of the input: an object schema (`"type": "object"`).
    fn input_schema(&self) -> Value;

    /// Whether running the same call twice has the same effect as running it once.
    ///
    /// A runner re-runs a call that was interrupted by a crash (started, no result posted) only
    /// when this is `true`; otherwise it reports the interruption to the model instead. Tools
    /// that read (a clock, a lookup) say `true`; tools that act (send a message, make a
    /// payment) keep the default `false`, or pass
    /// [`ToolContext::idempotency_key`] on to a system that deduplicates.
    fn idempotent(&self) -> bool {
        false
    }

    /// Runs the tool on the model's input.
    async fn call(&self, input: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError>;

    /// The tool as an agent's `custom` tool definition.
    fn definition(&self) -> CustomTool {
        CustomTool::new(self.name(), self.description(), self.input_schema())
    }
}

/// A tool with a typed input, the form tool authors usually write.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use steward_tools::{ToolContext, ToolError, ToolOutput, TypedTool};
///
/// #[derive(Default)]
/// struct Add;
///
/// /// Two numbers to add.
/// #[derive(Deserialize, JsonSchema)]
/// struct AddInput {
///     /// The first number.
///     a: i64,
///     /// The second number.
///     b: i64,
/// }
///
/// #[steward_tools::async_trait]
/// impl TypedTool for Add {
///     const NAME: &'static str = "add";
///     type Input = AddInput;
///
///     fn description(&self) -> &str {
///         "Adds two integers."
///     }
///
///     fn idempotent(&self) -> bool {
///         true
///     }
///
///     async fn run(&self, input: AddInput, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
///         let sum = input.a.checked_add(input.b).ok_or_else(|| ToolError::invalid_input("overflow"))?;
///         Ok(ToolOutput::text(sum.to_string()))
///     }
/// }
///
/// // In a plugin crate, one line registers it with every host that links the crate:
/// steward_tools::register_tool!(Add);
/// ```
#[async_trait::async_trait]
pub trait TypedTool: Send + Sync {
    /// The tool's name (see [`Tool::name`]).
    const NAME: &'static str;

    /// The input, decoded from the model's JSON; its `schemars` schema is the tool's input
    /// schema. Doc comments on the type and its fields become schema descriptions the model
    /// reads.
    type Input: DeserializeOwned + JsonSchema + Send;

    /// What the tool does, written for the model.
    fn description(&self) -> &str;

    /// See [`Tool::idempotent`].
    fn idempotent(&self) -> bool {
        false
    }

    /// Runs the tool on a decoded input.
    async fn run(&self, input: Self::Input, ctx: &ToolContext) -> Result<ToolOutput, ToolError>;
}

#[async_trait::async_trait]
impl<T: TypedTool> Tool for T {
    fn name(&self) -> &str {
        T::NAME
    }

    fn description(&self) -> &str {
        TypedTool::description(self)
    }

    fn input_schema(&self) -> Value {
        input_schema_for::<T::Input>()
    }

    fn idempotent(&self) -> bool {
        TypedTool::idempotent(self)
    }

    async fn call(&self, input: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let input = decode_input::<T::Input>(input)?;
        self.run(input, ctx).await
    }
}

/// The input schema of a tool whose input is `T`, as the API wants it.
///
/// JSON Schema 2020-12 without the `$schema` key, subschemas inlined where the type is not
/// recursive. A schema that is not an object schema (such as `true` for [`Value`]) becomes
/// `{"type": "object"}`, the only kind of input schema the API accepts.
pub fn input_schema_for<T: JsonSchema + ?Sized>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.meta_schema = None;
            settings.inline_subschemas = true;
        })
        .into_generator();
    match generator.into_root_schema_for::<T>().to_value() {
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("object") => {
            Value::Object(map)
        }
        _ => serde_json::json!({ "type": "object" }),
    }
}

/// Decodes a tool input, naming the offending field on failure.
///
/// The error is [`ToolErrorKind::InvalidInput`](crate::ToolErrorKind::InvalidInput) with a
/// message such as ``invalid input at `timeout_ms`: invalid type: string "5", expected u64``
/// or ``invalid input: missing field `url` ``.
pub fn decode_input<T: DeserializeOwned>(input: Value) -> Result<T, ToolError> {
    serde_path_to_error::deserialize::<_, T>(input).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            ToolError::invalid_input(format!("invalid input: {inner}"))
        } else {
            ToolError::invalid_input(format!("invalid input at `{path}`: {inner}"))
        }
    })
}
