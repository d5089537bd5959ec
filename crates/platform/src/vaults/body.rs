//! The JSON body extractor of requests that carry secrets, and the scrubbing of error messages.
//!
//! [`SecretJson`] behaves like [`crate::extract::Json`] (same `Content-Type`, size and syntax
//! checks, same field-naming messages, then [`Validate`]), with one difference: serde's
//! messages quote the values they reject (`invalid type: string "…", expected …`), which could
//! put a submitted secret into a 400. So the body is first read as a `serde_json::Value`
//! (syntax errors name a line and column, never content), then decoded, and every error message
//! (decoding, validation, and whatever the handler adds through [`scrub_error`]) is scrubbed:
//! * every value under a secret key (`access_token`, `refresh_token`, `client_secret`, `token`,
//!   `secret_value`) anywhere in the body is replaced wherever it appears in the message
//!   (values under 4 characters only where quoted, so that "t" does not mangle "type");
//! * every other string of the body is replaced where it appears quoted the way serde quotes
//!   strings, in case a secret was sent under a wrong key.

use axum::extract::{FromRef, FromRequest, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::extract::Json;
use crate::state::AppState;
use crate::validate::Validate;

/// The keys whose values are write-only secrets.
pub(super) const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "client_secret",
    "token",
    "secret_value",
];

/// What replaces a secret in a message.
const REDACTED: &str = "[redacted]";

/// Secrets shorter than this (in characters) are scrubbed only where quoted.
const MIN_BARE_SCRUB: usize = 4;

/// A JSON body that may carry secrets: decoded, validated, and with scrubbed error messages.
/// `raw` is the body as sent (handlers check immutable fields against it, and pass it to
/// [`scrub_error`]). Deliberately not `Debug`: `raw` holds the secrets in clear.
pub(super) struct SecretJson<T> {
    /// The decoded body.
    pub(super) body: T,
    /// The body as sent.
    pub(super) raw: Value,
}

/// Any JSON value, with no rules of its own: the first step of [`SecretJson`].
#[derive(Deserialize)]
#[serde(transparent)]
struct RawBody(Value);

impl Validate for RawBody {}

impl<T, S> FromRequest<S> for SecretJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        let Json(RawBody(raw)) = Json::<RawBody>::from_request(request, state).await?;
        let body = decode::<T>(&raw).map_err(|e| scrub_error(e, &raw))?;
        body.validate().map_err(|e| scrub_error(e, &raw))?;
        Ok(Self { body, raw })
    }
}

/// Decodes `raw` into `T`, naming the offending field the way [`crate::extract`] does.
fn decode<T: DeserializeOwned>(raw: &Value) -> Result<T> {
    serde_path_to_error::deserialize(raw).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            Error::invalid_request(format!("invalid request body: {inner}"))
        } else {
            Error::invalid_request(format!("invalid request body: `{path}`: {inner}"))
        }
    })
}

/// Removes from an error's message anything of `raw` that could be a secret (see the module
/// docs).
pub(super) fn scrub_error(mut error: Error, raw: &Value) -> Error {
    let message = scrub(&error.body().message, raw);
    error.body_mut().message = message;
    error
}

fn scrub(message: &str, raw: &Value) -> String {
    let mut secrets = Vec::new();
    let mut strings = Vec::new();
    collect(raw, false, &mut secrets, &mut strings);
    let mut out = message.to_owned();
    for string in strings.iter().filter(|s| !s.is_empty()) {
        out = out.replace(&format!("{string:?}"), &format!("\"{REDACTED}\""));
    }
    // Longest first, so that a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if secret.chars().count() < MIN_BARE_SCRUB {
            // Replacing a short secret everywhere would mangle the message ("t" in "type");
            // serde quotes what it echoes, so replace the quoted forms only.
            out = out.replace(&format!("{secret:?}"), &format!("\"{REDACTED}\""));
            out = out.replace(&format!("`{secret}`"), &format!("`{REDACTED}`"));
            continue;
        }
        let escaped = secret.escape_debug().to_string();
        out = out.replace(secret.as_str(), REDACTED);
        if escaped != *secret {
            out = out.replace(&escaped, REDACTED);
        }
    }
    out
}

/// Collects every scalar under a secret key (as text) and every string of `value`.
fn collect(
    value: &Value,
    under_secret: bool,
    secrets: &mut Vec<String>,
    strings: &mut Vec<String>,
) {
    match value {
        Value::String(s) => {
            if under_secret {
                secrets.push(s.clone());
            }
            strings.push(s.clone());
        }
        Value::Number(n) if under_secret => secrets.push(n.to_string()),
        Value::Bool(b) if under_secret => secrets.push(b.to_string()),
        Value::Array(items) => {
            for item in items {
                collect(item, under_secret, secrets, strings);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let secret = under_secret || SECRET_KEYS.contains(&key.as_str());
                collect(item, secret, secrets, strings);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use steward_core::vault::{CredentialCreate, CredentialUpdate};

    use super::*;

    const CANARY: &str = "canary-7f3e\"quoted\\";

    fn message<T: DeserializeOwned + std::fmt::Debug>(raw: Value) -> String {
        scrub_error(decode::<T>(&raw).unwrap_err(), &raw)
            .body()
            .message
            .clone()
    }

    #[test]
    fn decode_errors_never_quote_a_secret() {
        let cases = [
            // A secret under its own key, with another field wrong.
            json!({"auth": {"type": "static_bearer", "token": CANARY, "mcp_server_url": 5}}),
            // A secret of the wrong JSON type under a secret key.
            json!({"auth": {"type": "static_bearer", "token": {"x": CANARY}, "mcp_server_url": "u"}}),
            // A secret sent under a key that expects a number or a bool.
            json!({"auth": {"type": "environment_variable", "secret_name": "A", "secret_value": "v",
                   "networking": {"type": "unrestricted"}, "injection_location": {"body": CANARY}}}),
            // A secret where an object is expected.
            json!({"auth": CANARY}),
            json!({"auth": {"type": "mcp_oauth", "access_token": "t", "mcp_server_url": "u",
                   "refresh": {"client_id": "c", "refresh_token": CANARY, "token_endpoint": "e",
                               "token_endpoint_auth": {"type": "client_secret_post", "client_secret": [CANARY]}}}}),
        ];
        for raw in cases {
            let m = message::<CredentialCreate>(raw.clone());
            assert!(!m.contains("canary"), "{m} for {raw}");
            assert!(m.starts_with("invalid request body"), "{m}");
        }
        let m = message::<CredentialUpdate>(
            json!({"auth": {"type": "static_bearer", "token": 12345678}}),
        );
        assert!(!m.contains("12345678"), "{m}");
        assert!(m.contains("`auth`"), "{m}");
    }

    #[test]
    fn scrub_keeps_what_is_not_secret() {
        let raw = json!({"display_name": "x", "auth": {"token": "s3cr3t"}});
        assert_eq!(
            scrub(
                "`display_name`: must be at most 255 characters; token s3cr3t",
                &raw
            ),
            "`display_name`: must be at most 255 characters; token [redacted]"
        );
        let short = json!({"auth": {"token": "t", "secret_value": 5}});
        assert_eq!(
            scrub(
                "invalid type: integer `5`, expected a string at token \"t\"",
                &short
            ),
            "invalid type: integer `[redacted]`, expected a string at token \"[redacted]\""
        );
        assert_eq!(
            scrub(r#"invalid type: string "x""#, &raw),
            r#"invalid type: string "[redacted]""#
        );
    }
}
