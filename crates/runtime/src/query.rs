//! Query strings encoded the way the official SDK's `qs` (format `brackets`) encodes them.
//!
//! A query struct from `steward_core` serializes to a JSON object; this module flattens it:
//! * nested objects become bracketed keys: `{"created_at":{"gte":"t"}}` → `created_at[gte]=t`;
//! * arrays repeat the key with `[]`: `{"statuses":["a","b"]}` → `statuses[]=a&statuses[]=b`
//!   (a key already ending in `[]`, as when a field is renamed `statuses[]`, is not doubled);
//! * booleans are `true`/`false`, `null` is an empty value (`key=`), absent fields are omitted;
//! * keys and values are percent-encoded as RFC 3986 (`[` → `%5B`, space → `%20`), everything
//!   but `A-Z a-z 0-9 - . _ ~` escaped, as `qs` does.

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;

/// Flattens a serializable query into `(key, value)` pairs, not yet percent-encoded.
///
/// `()` and `None` give no pairs. Anything that is not an object (or null) at the top is an
/// [`Error::Build`].
pub fn to_pairs<Q: Serialize + ?Sized>(query: &Q) -> Result<Vec<(String, String)>, Error> {
    let value = serde_json::to_value(query).map_err(|e| Error::Build(Box::new(e)))?;
    let mut pairs = Vec::new();
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (key, value) in map {
                flatten(key, value, &mut pairs);
            }
        }
        other => {
            return Err(Error::Build(
                format!("a query must serialize to an object, not {other}").into(),
            ));
        }
    }
    Ok(pairs)
}

fn flatten(prefix: String, value: Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => out.push((prefix, String::new())),
        Value::Bool(b) => out.push((prefix, b.to_string())),
        Value::Number(n) => out.push((prefix, n.to_string())),
        Value::String(s) => out.push((prefix, s)),
        Value::Array(items) => {
            let key = if prefix.ends_with("[]") {
                prefix
            } else {
                format!("{prefix}[]")
            };
            for item in items {
                flatten(key.clone(), item, out);
            }
        }
        Value::Object(map) => {
            for (key, value) in map {
                flatten(format!("{prefix}[{key}]"), value, out);
            }
        }
    }
}

/// Encodes pairs as `k=v&k=v`, percent-encoding both sides.
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode(key, &mut out);
        out.push('=');
        percent_encode(value, &mut out);
    }
    out
}

/// Serializes and encodes a query in one step (empty string for no pairs).
pub fn encode<Q: Serialize + ?Sized>(query: &Q) -> Result<String, Error> {
    Ok(encode_pairs(&to_pairs(query)?))
}

/// Sets `key` to `value`, in place if present (keeping the order), else appended.
pub(crate) fn set_pair(pairs: &mut Vec<(String, String)>, key: &str, value: &str) {
    match pairs.iter().position(|(k, _)| k == key) {
        Some(at) => {
            pairs[at].1 = value.to_owned();
            let mut index = 0;
            pairs.retain(|(k, _)| {
                index += 1;
                index - 1 <= at || k != key
            });
        }
        None => pairs.push((key.to_owned(), value.to_owned())),
    }
}

pub(crate) fn percent_encode(input: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in input.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn check(query: Value, expect: &str) {
        assert_eq!(encode(&query).unwrap(), expect);
    }

    #[test]
    fn encodes_like_qs_brackets() {
        check(json!(null), "");
        check(json!({}), "");
        check(
            json!({"statuses": ["idle", "running"], "limit": 10}),
            "statuses%5B%5D=idle&statuses%5B%5D=running&limit=10",
        );
        check(
            json!({"created_at": {"gte": "2026-01-01T00:00:00Z"}}),
            "created_at%5Bgte%5D=2026-01-01T00%3A00%3A00Z",
        );
        check(json!({"types[]": ["a"]}), "types%5B%5D=a");
        check(json!({"created_at[lte]": "x"}), "created_at%5Blte%5D=x");
        check(
            json!({"include_archived": true, "page": null}),
            "include_archived=true&page=",
        );
        check(json!({"q": "a b/ü~"}), "q=a%20b%2F%C3%BC~");
        check(json!({"empty": []}), "");
    }

    #[test]
    fn rejects_non_objects() {
        assert!(matches!(encode(&json!("x")), Err(Error::Build(_))));
        assert!(matches!(encode(&json!([1])), Err(Error::Build(_))));
    }

    #[test]
    fn serializes_structs_and_skips_absent_fields() {
        #[derive(Serialize)]
        struct Params {
            #[serde(skip_serializing_if = "Option::is_none")]
            limit: Option<u32>,
            order: &'static str,
        }
        assert_eq!(
            encode(&Params {
                limit: None,
                order: "asc"
            })
            .unwrap(),
            "order=asc"
        );
        assert_eq!(encode(&()).unwrap(), "");
    }

    #[test]
    fn set_pair_replaces_or_appends() {
        let mut pairs = vec![
            ("page".to_owned(), "a".to_owned()),
            ("order".to_owned(), "asc".to_owned()),
            ("page".to_owned(), "dup".to_owned()),
        ];
        set_pair(&mut pairs, "page", "b");
        set_pair(&mut pairs, "limit", "1");
        assert_eq!(
            encode_pairs(&pairs),
            "page=b&order=asc&limit=1",
            "the old cursor is replaced in place"
        );
    }
}
