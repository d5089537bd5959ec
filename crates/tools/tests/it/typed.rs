//! Typed tools: input decoding errors the model can act on, and the generated schema.

use pretty_assertions::assert_eq;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_tools::{Tool, ToolContext, ToolError, ToolErrorKind, ToolOutput, TypedTool};

use crate::support::ctx;

/// A forecast tool whose input exercises nesting, defaults, enums and optional fields.
#[derive(Default)]
struct Forecast;

/// Where and how far ahead to forecast.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ForecastInput {
    /// City name, such as `Paris`.
    city: String,
    /// Days ahead, 1 to 7.
    #[serde(default = "one")]
    days: u8,
    /// Unit system.
    #[serde(default)]
    units: Option<Units>,
    /// Exact coordinates, when the city name is ambiguous.
    #[serde(default)]
    at: Option<Coordinates>,
}

fn one() -> u8 {
    1
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Units {
    Metric,
    Imperial,
}

/// A point on Earth.
#[derive(Debug, Deserialize, JsonSchema)]
struct Coordinates {
    /// Latitude in degrees.
    lat: f64,
    /// Longitude in degrees.
    lon: f64,
}

#[steward_tools::async_trait]
impl TypedTool for Forecast {
    const NAME: &'static str = "forecast";
    type Input = ForecastInput;

    fn description(&self) -> &str {
        "Weather forecast for a city."
    }

    async fn run(&self, input: ForecastInput, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text(format!(
            "{} day(s) in {} ({:?}, {:?}) for {}",
            input.days,
            input.city,
            input.units,
            input.at.map(|at| (at.lat, at.lon)),
            ctx.tool_use_id
        )))
    }
}

async fn call(input: Value) -> Result<String, ToolError> {
    Forecast.call(input, &ctx()).await.map(|out| out.to_text())
}

#[tokio::test]
async fn good_input_is_decoded_with_defaults() {
    assert_eq!(
        call(json!({"city": "Paris"})).await.unwrap(),
        "1 day(s) in Paris (None, None) for sevt_test"
    );
    assert_eq!(
        call(
            json!({"city": "Paris", "days": 3, "units": "metric", "at": {"lat": 48.9, "lon": 2.3}})
        )
        .await
        .unwrap(),
        "3 day(s) in Paris (Some(Metric), Some((48.9, 2.3))) for sevt_test"
    );
}

/// Each bad input gives `invalid_input` and a message naming what to fix.
#[tokio::test]
async fn bad_input_is_invalid_input_naming_the_field() {
    let cases = [
        (
            json!({"city": "Paris", "days": "three"}),
            "invalid input at `days`: invalid type: string \"three\", expected u8",
        ),
        (
            json!({"city": "Paris", "at": {"lat": "north", "lon": 2.3}}),
            "invalid input at `at.lat`: invalid type: string \"north\", expected f64",
        ),
        (
            json!({"city": "Paris", "units": "kelvin"}),
            "invalid input at `units`: unknown variant `kelvin`, expected `metric` or `imperial`",
        ),
        (json!({"days": 2}), "invalid input: missing field `city`"),
        (
            json!({"cty": "Paris"}),
            "invalid input at `cty`: unknown field `cty`, expected one of `city`, `days`, `units`, `at`",
        ),
        (
            json!("Paris"),
            "invalid input: invalid type: string \"Paris\", expected struct ForecastInput",
        ),
    ];
    for (input, message) in cases {
        let err = call(input.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::InvalidInput, "{input}");
        assert_eq!(err.message(), message, "{input}");
        assert_eq!(err.model_text(), format!("invalid_input: {message}"));
    }
}

#[test]
fn schema_is_generated_from_the_input_type() {
    assert_eq!(
        Forecast.input_schema(),
        json!({
            "title": "ForecastInput",
            "description": "Where and how far ahead to forecast.",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "city": {"type": "string", "description": "City name, such as `Paris`."},
                "days": {
                    "type": "integer",
                    "format": "uint8",
                    "minimum": 0,
                    "maximum": 255,
                    "description": "Days ahead, 1 to 7.",
                    "default": 1
                },
                "units": {
                    "type": ["string", "null"],
                    "enum": ["metric", "imperial", null],
                    "description": "Unit system."
                },
                "at": {
                    "type": ["object", "null"],
                    "properties": {
                        "lat": {"type": "number", "format": "double", "description": "Latitude in degrees."},
                        "lon": {"type": "number", "format": "double", "description": "Longitude in degrees."}
                    },
                    "required": ["lat", "lon"],
                    "description": "Exact coordinates, when the city name is ambiguous."
                }
            },
            "required": ["city"]
        })
    );
}

#[test]
fn definition_carries_name_description_and_schema() {
    let definition = Forecast.definition();
    assert_eq!(definition.name, "forecast");
    assert_eq!(definition.description, "Weather forecast for a city.");
    assert_eq!(definition.input_schema, Forecast.input_schema());
    assert!(!Tool::idempotent(&Forecast));
}

#[test]
fn non_object_inputs_get_an_object_schema() {
    assert_eq!(
        steward_tools::input_schema_for::<Value>(),
        json!({"type": "object"})
    );
}
