//! Metadata rules shared by every resource.
//!
//! A metadata map holds at most [`MAX_PAIRS`] pairs; keys are 1 to [`MAX_KEY_CHARS`]
//! characters, values at most [`MAX_VALUE_CHARS`]. A breach is a 400 `invalid_request_error`
//! with `details.error_code = "invalid_metadata"`.
//!
//! Updates are patches ([`apply_patch`]): a string value sets the key, `null` deletes it, keys
//! not mentioned stay. Environments also delete on `""` ([`EmptyString::Deletes`]); elsewhere
//! `""` is stored as a value. The limits apply to the map after the patch.

use steward_core::{Metadata, MetadataPatch};

use crate::error::{Error, Result};

/// Most pairs a metadata map may hold.
pub const MAX_PAIRS: usize = 16;
/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 64;
/// Longest value, in characters.
pub const MAX_VALUE_CHARS: usize = 512;

/// What an empty-string value means in a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyString {
    /// `""` is a value like any other.
    IsValue,
    /// `""` deletes the key, like `null` (environments).
    Deletes,
}

fn invalid(message: String) -> Error {
    Error::invalid_request(message).with_code("invalid_metadata")
}

fn check_key(key: &str) -> Result<()> {
    let chars = key.chars().count();
    if chars == 0 || chars > MAX_KEY_CHARS {
        return Err(invalid(format!(
            "`metadata`: keys must be 1 to {MAX_KEY_CHARS} characters, `{}` has {chars}",
            key.chars().take(MAX_KEY_CHARS).collect::<String>()
        )));
    }
    Ok(())
}

/// Checks a whole metadata map against the limits.
pub fn validate(metadata: &Metadata) -> Result<()> {
    if metadata.len() > MAX_PAIRS {
        return Err(invalid(format!(
            "`metadata`: at most {MAX_PAIRS} pairs are allowed, got {}",
            metadata.len()
        )));
    }
    for (key, value) in metadata {
        check_key(key)?;
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid(format!(
                "`metadata.{key}`: values must be at most {MAX_VALUE_CHARS} characters"
            )));
        }
    }
    Ok(())
}

/// Applies a patch to a stored map and checks the result. Returns whether anything changed.
pub fn apply_patch(
    stored: &mut Metadata,
    patch: &MetadataPatch,
    empty: EmptyString,
) -> Result<bool> {
    let mut next = stored.clone();
    for (key, value) in patch {
        check_key(key)?;
        match value {
            Some(value) if !(value.is_empty() && empty == EmptyString::Deletes) => {
                next.insert(key.clone(), value.clone());
            }
            _ => {
                next.remove(key);
            }
        }
    }
    validate(&next)?;
    let changed = next != *stored;
    *stored = next;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Metadata {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn limits() {
        assert!(validate(&map(&[("a", "b")])).is_ok());
        let many: Metadata = (0..17).map(|i| (format!("k{i}"), String::new())).collect();
        let err = validate(&many).unwrap_err();
        assert_eq!(err.code(), Some("invalid_metadata"));
        assert!(validate(&map(&[(&"k".repeat(65), "v")])).is_err());
        assert!(validate(&map(&[(&"k".repeat(64), "v")])).is_ok());
        assert!(validate(&map(&[("", "v")])).is_err());
        assert!(validate(&map(&[("k", &"v".repeat(513))])).is_err());
        assert!(validate(&map(&[("k", &"é".repeat(512))])).is_ok());
    }

    #[test]
    fn patches() {
        let mut stored = map(&[("keep", "1"), ("drop", "2"), ("empty", "3")]);
        let patch: MetadataPatch = [
            ("drop".to_owned(), None),
            ("empty".to_owned(), Some(String::new())),
            ("new".to_owned(), Some("4".to_owned())),
        ]
        .into_iter()
        .collect();
        let mut env = stored.clone();
        assert!(apply_patch(&mut stored, &patch, EmptyString::IsValue).unwrap());
        assert_eq!(stored, map(&[("keep", "1"), ("empty", ""), ("new", "4")]));
        assert!(apply_patch(&mut env, &patch, EmptyString::Deletes).unwrap());
        assert_eq!(env, map(&[("keep", "1"), ("new", "4")]));
        assert!(!apply_patch(&mut env, &MetadataPatch::new(), EmptyString::Deletes).unwrap());
    }

    #[test]
    fn a_patch_over_the_limit_changes_nothing() {
        let mut stored: Metadata = (0..16).map(|i| (format!("k{i}"), String::new())).collect();
        let before = stored.clone();
        let patch: MetadataPatch = [("one_more".to_owned(), Some("x".to_owned()))].into();
        assert!(apply_patch(&mut stored, &patch, EmptyString::IsValue).is_err());
        assert_eq!(stored, before);
    }
}
