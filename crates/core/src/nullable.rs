//! [`Nullable`]: a field that may be absent, `null`, or a value.
//!
//! The API gives these three states different meanings in several places: on an update, an absent
//! `system` keeps the stored prompt while `"system": null` clears it; on an event, an absent
//! `is_error` and `"is_error": null` are both legal and must round-trip as sent.
//!
//! Use it with `#[serde(default, skip_serializing_if = "Nullable::is_absent")]`.
//! Fields that are required-but-nullable (`x!|null` in the reference) are plain `Option<T>`;
//! fields that may be absent but are never `null` are `Option<T>` with `skip_serializing_if`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field that distinguishes "absent", "explicitly `null`" and "a value".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Nullable<T> {
    /// The field was not sent. Serializing skips it (with `skip_serializing_if`).
    #[default]
    Absent,
    /// The field was sent as `null`.
    Null,
    /// The field was sent with a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// Whether the field is absent; the `skip_serializing_if` predicate.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// Whether the field was sent as `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The value, if one was sent.
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value(v) => Some(v),
            Self::Absent | Self::Null => None,
        }
    }

    /// Converts into an `Option`, folding "absent" and `null` together.
    pub fn into_option(self) -> Option<T> {
        match self {
            Self::Value(v) => Some(v),
            Self::Absent | Self::Null => None,
        }
    }

    /// Borrows the value inside.
    pub fn as_ref(&self) -> Nullable<&T> {
        match self {
            Self::Absent => Nullable::Absent,
            Self::Null => Nullable::Null,
            Self::Value(v) => Nullable::Value(v),
        }
    }

    /// Maps the value inside, keeping absent and `null` as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Nullable<U> {
        match self {
            Self::Absent => Nullable::Absent,
            Self::Null => Nullable::Null,
            Self::Value(v) => Nullable::Value(f(v)),
        }
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    /// `None` becomes an explicit `null`.
    fn from(value: Option<T>) -> Self {
        match value {
            Some(v) => Self::Value(v),
            None => Self::Null,
        }
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Only reached when a field forgot `skip_serializing_if`; `null` is the closest honest output.
            Self::Absent | Self::Null => serializer.serialize_none(),
            Self::Value(v) => serializer.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.into())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::Nullable;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Patch {
        #[serde(default, skip_serializing_if = "Nullable::is_absent")]
        system: Nullable<String>,
    }

    #[test]
    fn three_states_round_trip() {
        for (json, expected) in [
            ("{}", Nullable::Absent),
            (r#"{"system":null}"#, Nullable::Null),
            (r#"{"system":"hi"}"#, Nullable::Value("hi".to_owned())),
        ] {
            let patch: Patch = serde_json::from_str(json).unwrap();
            assert_eq!(patch.system, expected);
            assert_eq!(serde_json::to_string(&patch).unwrap(), json);
        }
    }
}
