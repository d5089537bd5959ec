//! Small shared types: timestamps, metadata, money and deletion receipts.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A `string → string` metadata map as objects return it (≤16 pairs, keys ≤64, values ≤512 chars).
pub type Metadata = BTreeMap<String, String>;

/// A metadata patch as updates take it: a `null` value deletes the key, a string sets it.
pub type MetadataPatch = BTreeMap<String, Option<String>>;

/// An RFC 3339 timestamp, kept exactly as sent so that it serializes back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// Wraps a timestamp string as it came from the API.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The current time in UTC, with microsecond precision.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Formats a date-time as RFC 3339 in UTC with microsecond precision
    /// (`2026-04-01T12:00:00.123456Z`), which sorts correctly as text.
    pub fn from_datetime(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let micros = at.microsecond();
        Self(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
        ))
    }

    /// Parses the timestamp; `None` when it is not valid RFC 3339.
    pub fn to_datetime(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.0, &Rfc3339).ok()
    }

    /// The timestamp as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Self {
        Self::from_datetime(at)
    }
}

/// An amount of money: integer minor units as a string (`"2500"` = $25.00) and a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Integer minor units, as a string.
    pub amount: String,
    /// ISO currency code; the API uses `"USD"`.
    pub currency: String,
}

impl Money {
    /// An amount in US cents.
    pub fn usd_cents(cents: u64) -> Self {
        Self {
            amount: cents.to_string(),
            currency: "USD".to_owned(),
        }
    }

    /// The amount in minor units, if it is a valid integer.
    pub fn minor_units(&self) -> Option<u64> {
        self.amount.parse().ok()
    }
}

crate::open_enum! {
    /// The `type` of a deletion receipt.
    pub enum DeletedType {
        /// An environment was deleted.
        Environment = "environment_deleted",
        /// A session was deleted.
        Session = "session_deleted",
        /// A session resource was deleted.
        SessionResource = "session_resource_deleted",
        /// A memory store was deleted.
        MemoryStore = "memory_store_deleted",
        /// A memory was deleted.
        Memory = "memory_deleted",
        /// A vault was deleted.
        Vault = "vault_deleted",
        /// A vault credential was deleted.
        VaultCredential = "vault_credential_deleted",
    }
}

/// The receipt a `DELETE` returns: `{id, type}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted<Id> {
    /// ID of what was deleted.
    pub id: Id,
    /// Which kind of object was deleted.
    #[serde(rename = "type")]
    pub kind: DeletedType,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_sortably_and_parse_back() {
        let at = time::macros::datetime!(2026-04-01 12:00:00.5 UTC);
        let ts = Timestamp::from(at);
        assert_eq!(ts.as_str(), "2026-04-01T12:00:00.500000Z");
        assert_eq!(ts.to_datetime(), Some(at));
        assert!(Timestamp::new("yesterday").to_datetime().is_none());
    }
}
