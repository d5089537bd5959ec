//! Every environment variable the `steward` CLI reads, declared once.
//!
//! Only [`Lookup::process`] reads the process environment (clap reads the `env = …` of a few
//! flags too); everything else takes a [`Lookup`], so tests pass their own values instead of
//! setting variables.

use std::collections::BTreeMap;

/// The API key. Set, it selects the hosted API (or [`ANTHROPIC_BASE_URL`]); unset, the CLI
/// starts the embedded platform.
pub const ANTHROPIC_API_KEY: &str = steward_runtime::env::ANTHROPIC_API_KEY;

/// Overrides the API's base URL (used only together with [`ANTHROPIC_API_KEY`]).
pub const ANTHROPIC_BASE_URL: &str = steward_runtime::env::ANTHROPIC_BASE_URL;

/// The data directory (`--data-dir`): state, config file and the embedded platform's data.
pub const STEWARD_DATA_DIR: &str = "STEWARD_DATA_DIR";

/// The config file (`--config`).
pub const STEWARD_CONFIG: &str = "STEWARD_CONFIG";

/// The access token of `steward vault add-mcp-oauth` (or `--token-stdin`).
pub const STEWARD_MCP_ACCESS_TOKEN: &str = "STEWARD_MCP_ACCESS_TOKEN";

/// The refresh token of `steward vault add-mcp-oauth --client-id …` (unless stdin gives it).
pub const STEWARD_MCP_REFRESH_TOKEN: &str = "STEWARD_MCP_REFRESH_TOKEN";

/// The OAuth client secret of `steward vault add-mcp-oauth --token-endpoint-auth
/// client-secret-basic|client-secret-post` (unless stdin gives it).
pub const STEWARD_MCP_CLIENT_SECRET: &str = "STEWARD_MCP_CLIENT_SECRET";

/// The data directory of `steward platform serve|keys` (read by the platform's own parser);
/// unset, those commands use the embedded platform's directory inside steward's data directory.
pub const STEWARD_PLATFORM_DATA_DIR: &str = steward_platform::cli::DATA_DIR_ENV;

/// Set to anything non-empty, it turns colour off (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";

/// The `tracing` filter (`info`, `steward=debug`, …); it overrides `--verbose`.
pub const RUST_LOG: &str = "RUST_LOG";

/// Where environment variables come from: the process, or a fixed map in tests.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    fixed: Option<BTreeMap<String, String>>,
}

impl Lookup {
    /// The process environment.
    pub fn process() -> Self {
        Self { fixed: None }
    }

    /// Only these variables.
    pub fn fixed<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Self {
        Self {
            fixed: Some(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// The variable's value, trimmed; unset and empty values are both `None`.
    pub fn get(&self, name: &str) -> Option<String> {
        let raw = match &self.fixed {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// The variable's value as set (not trimmed), for secrets whose whitespace may matter;
    /// empty counts as unset.
    pub fn get_raw(&self, name: &str) -> Option<String> {
        let raw = match &self.fixed {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        raw.filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let env = Lookup::fixed([(ANTHROPIC_API_KEY, "  "), (STEWARD_CONFIG, " x ")]);
        assert_eq!(env.get(ANTHROPIC_API_KEY), None);
        assert_eq!(env.get(STEWARD_CONFIG).as_deref(), Some("x"));
        assert_eq!(env.get_raw(STEWARD_CONFIG).as_deref(), Some(" x "));
        assert_eq!(env.get(STEWARD_DATA_DIR), None);
    }
}
