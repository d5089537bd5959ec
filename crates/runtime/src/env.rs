//! Every environment variable this crate reads, declared once.
//!
//! Only [`Client::from_env`](crate::Client::from_env) reads the process environment; everything
//! else takes its configuration as arguments, so tests never have to set variables.

/// The API key, sent as `x-api-key` on every request.
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";

/// Overrides the base URL (default [`DEFAULT_BASE_URL`]); an empty value counts as unset.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";

/// The base URL used when [`ANTHROPIC_BASE_URL`] is unset.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
