//! Forward-compatible enums.
//!
//! The API adds event types, content blocks, tool types and enum values over time. A client built
//! against this version must keep working, and must be able to write back what it read unchanged.
//! Two macros generate such types:
//!
//! * [`open_enum!`](crate::open_enum) for string enums (`"idle"`, `"running"`, …): an unknown value
//!   becomes `Unknown(String)` and serializes back to the same string.
//! * [`open_union!`](crate::open_union) for objects tagged by a `type` field: each known tag maps to
//!   a struct holding the other fields; an unknown tag becomes `Unknown(serde_json::Value)` holding
//!   the whole raw object, which serializes back to exactly the same JSON.
//!
//! The local platform parses strictly: it rejects the `Unknown` arm of any input with a 400.

/// Defines a string enum whose unknown values are kept in an `Unknown(String)` variant.
///
/// ```
/// steward_core::open_enum! {
///     /// Colour of a thing.
///     pub enum Colour {
///         /// Red.
///         Red = "red",
///         /// Light blue.
///         LightBlue = "light_blue",
///     }
/// }
/// let c: Colour = serde_json::from_str("\"mauve\"").unwrap();
/// assert_eq!(c, Colour::Unknown("mauve".into()));
/// assert_eq!(serde_json::to_string(&c).unwrap(), "\"mauve\"");
/// assert_eq!(Colour::LightBlue.as_str(), "light_blue");
/// ```
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know, kept as sent.
            Unknown(::std::string::String),
        }

        impl $name {
            /// Every value this version knows, in declaration order.
            pub const KNOWN: &'static [&'static str] = &[$($value),*];

            /// The wire string of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )*
                    Self::Unknown(other) => other.as_str(),
                }
            }

            /// Whether this is a value this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $value => Self::$variant, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value.as_ref()))
            }
        }
    };
}

/// Defines an object union tagged by its `type` field, whose unknown tags keep the raw JSON.
///
/// Each variant wraps a struct with the other fields (not `type`). Deserializing reads `type`
/// first, then decodes the rest into that struct, so an error names the missing or mistyped
/// field. Serializing writes `type` followed by the struct's fields.
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// /// A text block.
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// pub struct Text { pub text: String }
///
/// steward_core::open_union! {
///     /// A content block.
///     pub enum Block {
///         /// Plain text.
///         "text" => Text(Text),
///     }
/// }
///
/// let b: Block = serde_json::from_str(r#"{"type":"text","text":"hi"}"#).unwrap();
/// assert_eq!(b, Block::Text(Text { text: "hi".into() }));
/// let raw = r#"{"type":"hologram","depth":3}"#;
/// let u: Block = serde_json::from_str(raw).unwrap();
/// assert_eq!(u.type_name(), "hologram");
/// assert_eq!(serde_json::to_string(&u).unwrap(), raw);
/// ```
#[macro_export]
macro_rules! open_union {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $tag:literal => $variant:ident($ty:ty) ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant($ty), )*
            /// An object whose `type` this version does not know; the raw JSON is kept and
            /// serializes back unchanged.
            Unknown(::serde_json::Value),
        }

        impl $name {
            /// Every `type` tag this version knows, in declaration order.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($tag),*];

            /// The `type` tag of this object (for `Unknown`, the tag as sent, or `""`).
            pub fn type_name(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $tag, )*
                    Self::Unknown(raw) => raw.get("type").and_then(|t| t.as_str()).unwrap_or(""),
                }
            }

            /// Whether this is an object of a type this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        $(
            impl ::std::convert::From<$ty> for $name {
                fn from(value: $ty) -> Self {
                    Self::$variant(value)
                }
            }
        )*

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(inner) => ::serde::Serialize::serialize(&$crate::open::Tagged { r#type: $tag, inner }, serializer), )*
                    Self::Unknown(raw) => ::serde::Serialize::serialize(raw, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                use ::serde::de::Error as _;
                let raw = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                let tag = match raw.get("type") {
                    Some(::serde_json::Value::String(tag)) => tag.as_str(),
                    Some(_) => return Err(D::Error::custom(concat!("invalid `type` of ", stringify!($name), ": expected a string"))),
                    None if raw.is_object() => return Err(D::Error::custom(concat!("missing field `type` of ", stringify!($name)))),
                    None => return Err(D::Error::custom(concat!("invalid ", stringify!($name), ": expected an object"))),
                };
                match tag {
                    $( $tag => $crate::open::decode::<$ty>(&raw)
                        .map(Self::$variant)
                        .map_err(|e| D::Error::custom(format_args!("invalid `{}`: {}", $tag, e))), )*
                    _ => Ok(Self::Unknown(raw)),
                }
            }
        }
    };
}

/// Decodes one variant of a union from its raw JSON object, keeping the path of a nested error.
///
/// `serde_json::from_value` alone reports only the innermost message ("invalid type: string,
/// expected u32"); this adds where it happened (`` `networking.allowed_hosts[0]`: … ``), so a
/// 400 from the platform names the field.
#[doc(hidden)]
pub fn decode<T: serde::de::DeserializeOwned>(raw: &serde_json::Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(raw).map_err(|e| {
        let path = e.path().to_string();
        DecodeError {
            path: if path == "." { None } else { Some(path) },
            inner: e.into_inner(),
        }
    })
}

/// A decode error with the path of the field it happened at; see [`decode`].
#[doc(hidden)]
#[derive(Debug)]
pub struct DecodeError {
    path: Option<String>,
    inner: serde_json::Error,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "`{path}`: {}", self.inner),
            None => write!(f, "{}", self.inner),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.inner)
    }
}

/// Serializes `{"type": tag, ...inner}`; used by [`open_union!`](crate::open_union).
#[doc(hidden)]
#[derive(serde::Serialize)]
pub struct Tagged<'a, T> {
    /// The `type` tag.
    pub r#type: &'static str,
    /// The variant's own fields.
    #[serde(flatten)]
    pub inner: &'a T,
}

#[cfg(test)]
#[expect(
    unreachable_pub,
    reason = "the macros generate `pub` methods on test-private types"
)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Text {
        text: String,
    }

    crate::open_union! {
        enum Block {
            "text" => Text(Text),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let err = serde_json::from_str::<Block>(r#"{"type":"text"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `text`"), "{err}");
        let err = serde_json::from_str::<Block>(r#"{"type":"text","text":3}"#).unwrap_err();
        assert!(
            err.to_string().contains("invalid type: integer `3`"),
            "{err}"
        );
        let err = serde_json::from_str::<Block>(r#"{"text":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `type`"), "{err}");
        assert!(serde_json::from_str::<Block>("[1]").is_err());
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Nested {
        inner: Vec<u32>,
    }

    crate::open_union! {
        enum Outer {
            "nested" => Nested(Nested),
        }
    }

    #[test]
    fn nested_errors_carry_their_path() {
        let err =
            serde_json::from_str::<Outer>(r#"{"type":"nested","inner":[1,"x"]}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid `nested`: `inner[1]`: invalid type: string \"x\""),
            "{err}"
        );
        let _ = Outer::KNOWN_TYPES;
        assert!(!Outer::Nested(Nested { inner: vec![] }).is_unknown());
        assert_eq!(
            Outer::Nested(Nested { inner: vec![] }).type_name(),
            "nested"
        );
    }

    #[test]
    fn unknown_keeps_raw_json() {
        let raw = serde_json::json!({"type": "x.new", "nested": {"a": [1, null]}});
        let block: Block = serde_json::from_value(raw.clone()).unwrap();
        assert!(block.is_unknown());
        assert_eq!(block.type_name(), "x.new");
        assert_eq!(Block::KNOWN_TYPES, &["text"]);
        assert_eq!(serde_json::to_value(&block).unwrap(), raw);
    }
}
