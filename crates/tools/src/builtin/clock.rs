//! The `clock` tool: the current time in UTC and, on request, in an IANA time zone.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::{ToolContext, ToolError, ToolOutput, TypedTool};

/// The `clock` tool. Registered through inventory; idempotent (it only reads the clock).
#[derive(Clone)]
pub struct Clock {
    now: Arc<dyn Fn() -> SystemTime + Send + Sync>,
}

impl Clock {
    /// A clock reading time from `now` instead of the system clock (for tests and replays).
    pub fn with_now(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self { now: Arc::new(now) }
    }
}

impl Default for Clock {
    /// The system clock.
    fn default() -> Self {
        Self::with_now(SystemTime::now)
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Input of the `clock` tool.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockInput {
    /// An IANA time zone name such as `Europe/Paris` or `America/New_York`, to also get the
    /// local time there. Omit it for UTC only.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[async_trait::async_trait]
impl TypedTool for Clock {
    const NAME: &'static str = "clock";
    type Input = ClockInput;

    fn description(&self) -> &str {
        "Returns the current date and time in UTC and, when `timezone` is given, in that IANA \
         time zone (local time, UTC offset, abbreviation and weekday)."
    }

    fn idempotent(&self) -> bool {
        true
    }

    async fn run(&self, input: ClockInput, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let zone = input.timezone.as_deref().map(lookup_zone).transpose()?;
        let now = Timestamp::try_from((self.now)())
            .and_then(|ts| Timestamp::from_second(ts.as_second()))
            .map_err(|e| ToolError::other("the host clock is out of range").with_source(e))?;
        let utc = now.to_zoned_datetime(TimeZone::UTC);
        let mut out = serde_json::Map::new();
        out.insert("utc".into(), now.to_string().into());
        out.insert("unix_seconds".into(), now.as_second().into());
        out.insert("utc_weekday".into(), utc.strftime("%A").to_string().into());
        if let Some((name, zone)) = zone {
            let local = now.to_zoned_datetime(zone);
            out.insert("timezone".into(), name.into());
            out.insert(
                "local".into(),
                local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string().into(),
            );
            out.insert(
                "utc_offset".into(),
                local.strftime("%:z").to_string().into(),
            );
            out.insert(
                "abbreviation".into(),
                local.strftime("%Z").to_string().into(),
            );
            out.insert("weekday".into(), local.strftime("%A").to_string().into());
        }
        ToolOutput::json(&out)
    }
}

crate::register_tool!(Clock);

/// Looks up an IANA zone; returns its canonical name as the database spells it.
fn lookup_zone(name: &str) -> Result<(String, TimeZone), ToolError> {
    let unknown = || {
        ToolError::invalid_input(format!(
            "unknown time zone `{name}`: use an IANA time zone name such as `Europe/Paris`, \
             `America/New_York` or `UTC`"
        ))
    };
    // A fixed offset ("+02:00") is not an IANA name, and jiff would not accept it anyway; only
    // names from the time zone database are looked up.
    let zone = TimeZone::get(name.trim()).map_err(|e| unknown().with_source(e))?;
    let canonical = zone
        .iana_name()
        .map_or_else(|| name.to_owned(), str::to_owned);
    Ok((canonical, zone))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use pretty_assertions::assert_eq;
    use serde_json::{Value, json};

    use super::*;
    use crate::{Tool, ToolErrorKind};

    /// 2026-04-01T12:00:00Z, a Wednesday; Paris is on summer time (CEST, +02:00).
    fn fixed() -> Clock {
        Clock::with_now(|| UNIX_EPOCH + Duration::from_secs(1_775_044_800))
    }

    fn ctx() -> ToolContext {
        ToolContext::new("sesn_1", "sevt_1")
    }

    async fn call(input: Value) -> Result<Value, ToolError> {
        let out = fixed().call(input, &ctx()).await?;
        Ok(serde_json::from_str(&out.to_text()).unwrap())
    }

    #[tokio::test]
    async fn utc_only_without_a_zone() {
        assert_eq!(
            call(json!({})).await.unwrap(),
            json!({
                "utc": "2026-04-01T12:00:00Z",
                "unix_seconds": 1_775_044_800,
                "utc_weekday": "Wednesday"
            })
        );
    }

    #[tokio::test]
    async fn local_time_in_a_valid_zone() {
        assert_eq!(
            call(json!({"timezone": "Europe/Paris"})).await.unwrap(),
            json!({
                "utc": "2026-04-01T12:00:00Z",
                "unix_seconds": 1_775_044_800,
                "utc_weekday": "Wednesday",
                "timezone": "Europe/Paris",
                "local": "2026-04-01T14:00:00+02:00",
                "utc_offset": "+02:00",
                "abbreviation": "CEST",
                "weekday": "Wednesday"
            })
        );
        let tokyo = call(json!({"timezone": "Asia/Tokyo"})).await.unwrap();
        assert_eq!(tokyo["local"], "2026-04-01T21:00:00+09:00");
    }

    #[tokio::test]
    async fn unknown_zone_is_invalid_input_naming_it() {
        let err = call(json!({"timezone": "Mars/Olympus_Mons"}))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::InvalidInput);
        assert_eq!(
            err.model_text(),
            "invalid_input: unknown time zone `Mars/Olympus_Mons`: use an IANA time zone name \
             such as `Europe/Paris`, `America/New_York` or `UTC`"
        );
    }

    #[tokio::test]
    async fn wrong_input_type_names_the_field() {
        let err = call(json!({"timezone": 2})).await.unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::InvalidInput);
        assert!(err.message().contains("`timezone`"), "{}", err.message());
    }

    #[test]
    fn is_idempotent() {
        assert!(Tool::idempotent(&fixed()));
    }
}
