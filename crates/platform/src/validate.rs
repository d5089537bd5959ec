//! Request validation shared by every resource.
//!
//! The platform parses strictly. The protocol types in `steward-core` accept values they do not
//! know (an `Unknown` variant of an open enum or union) so that a client survives a newer
//! server; the server must instead reject them with a 400 `invalid_request_error` naming the
//! field. Every body and query type the platform accepts implements [`Validate`], which the
//! [`Json`](crate::extract::Json) and [`Query`](crate::extract::Query) extractors call after
//! parsing: checks of unknown values ([`known`]) and the static rules of the type (lengths,
//! counts, patterns). Rules that need stored state are the handler's job.

use crate::error::{Error, Result};

/// Checks run on a parsed request before the handler sees it.
pub trait Validate {
    /// Returns a 400 naming the field when the value breaks a rule. The default accepts
    /// everything: types holding no open enum and no rule can use an empty `impl`.
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self) -> Result<()> {
        self.as_ref().map_or(Ok(()), Validate::validate)
    }
}

/// Rejects the `Unknown` variant of an open enum or union:
/// `known("tools[0].type", tool.is_unknown(), tool.type_name(), ToolParam::KNOWN_TYPES)`.
pub fn known(field: &str, is_unknown: bool, value: &str, expected: &[&str]) -> Result<()> {
    if !is_unknown {
        return Ok(());
    }
    let expected = expected
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::invalid_request(format!(
        "`{field}`: unknown value `{value}`, expected one of {expected}"
    )))
}

/// Rejects an empty (or all-whitespace) string.
pub fn non_empty(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid_request(format!(
            "`{field}`: must not be empty"
        )));
    }
    Ok(())
}

/// Rejects a string longer than `max` characters.
pub fn max_chars(field: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid_request(format!(
            "`{field}`: must be at most {max} characters"
        )));
    }
    Ok(())
}

/// Rejects a string outside `min..=max` characters.
pub fn chars_between(field: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let count = value.chars().count();
    if count < min || count > max {
        return Err(Error::invalid_request(format!(
            "`{field}`: must be {min} to {max} characters, got {count}"
        )));
    }
    Ok(())
}

/// Rejects a list longer than `max` items.
pub fn max_items<T>(field: &str, items: &[T], max: usize) -> Result<()> {
    if items.len() > max {
        return Err(Error::invalid_request(format!(
            "`{field}`: at most {max} items are allowed, got {}",
            items.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let err = known("tools[2].type", true, "laser", &["custom", "mcp_toolset"]).unwrap_err();
        assert_eq!(
            err.body().message,
            "`tools[2].type`: unknown value `laser`, expected one of `custom`, `mcp_toolset`"
        );
        assert!(known("x", false, "y", &[]).is_ok());
        assert!(
            non_empty("name", "  ")
                .unwrap_err()
                .body()
                .message
                .contains("`name`")
        );
        assert!(max_chars("name", "héllo", 5).is_ok());
        assert!(max_chars("name", "héllo!", 5).is_err());
        assert!(chars_between("n", "", 1, 3).is_err());
        assert!(max_items("tools", &[1, 2, 3], 2).is_err());
    }
}
