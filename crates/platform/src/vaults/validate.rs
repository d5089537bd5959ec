//! The static rules of vault and credential requests ([`Validate`] impls and their helpers).
//!
//! No message here quotes a submitted value (only field names and type tags), so none can
//! carry a secret; [`SecretJson`](super::body::SecretJson) scrubs them anyway.

use std::net::Ipv4Addr;

use steward_core::vault::{
    CredentialAuthCreate, CredentialAuthUpdate, CredentialCreate, CredentialListParams,
    CredentialNetworking, CredentialUpdate, InjectionLocationParams, McpOauthRefreshCreate,
    McpOauthRefreshUpdate, Secret, TokenEndpointAuthCreate, TokenEndpointAuthUpdate, VaultCreate,
    VaultListParams, VaultUpdate,
};
use steward_core::{Nullable, Timestamp};

use crate::error::{Error, Result};
use crate::metadata;
use crate::validate::{Validate, chars_between, known, max_chars, max_items, non_empty};

/// Longest `display_name`, in characters.
pub(super) const MAX_DISPLAY_NAME: usize = 255;
/// Most entries of `networking.allowed_hosts`.
pub(super) const MAX_ALLOWED_HOSTS: usize = 16;
/// Longest `secret_name`, in characters.
const MAX_SECRET_NAME: usize = 255;

impl Validate for VaultCreate {
    fn validate(&self) -> Result<()> {
        chars_between("display_name", &self.display_name, 1, MAX_DISPLAY_NAME)?;
        non_empty("display_name", &self.display_name)?;
        if let Some(metadata) = &self.metadata {
            metadata::validate(metadata)?;
        }
        Ok(())
    }
}

impl Validate for VaultUpdate {
    fn validate(&self) -> Result<()> {
        if let Nullable::Value(name) = &self.display_name {
            chars_between("display_name", name, 1, MAX_DISPLAY_NAME)?;
            non_empty("display_name", name)?;
        }
        Ok(())
    }
}

impl Validate for VaultListParams {}

impl Validate for CredentialListParams {}

impl Validate for CredentialCreate {
    fn validate(&self) -> Result<()> {
        if let Nullable::Value(name) = &self.display_name {
            max_chars("display_name", name, MAX_DISPLAY_NAME)?;
        }
        if let Some(metadata) = &self.metadata {
            metadata::validate(metadata)?;
        }
        known(
            "auth.type",
            self.auth.is_unknown(),
            self.auth.type_name(),
            CredentialAuthCreate::KNOWN_TYPES,
        )?;
        match &self.auth {
            CredentialAuthCreate::McpOauth(auth) => {
                secret("auth.access_token", &auth.access_token)?;
                http_url("auth.mcp_server_url", &auth.mcp_server_url)?;
                if let Nullable::Value(expires_at) = &auth.expires_at {
                    future("auth.expires_at", expires_at)?;
                }
                if let Nullable::Value(refresh) = &auth.refresh {
                    refresh_create(refresh)?;
                }
            }
            CredentialAuthCreate::StaticBearer(auth) => {
                secret("auth.token", &auth.token)?;
                http_url("auth.mcp_server_url", &auth.mcp_server_url)?;
            }
            CredentialAuthCreate::EnvironmentVariable(auth) => {
                secret_name("auth.secret_name", &auth.secret_name)?;
                secret("auth.secret_value", &auth.secret_value)?;
                networking("auth.networking", &auth.networking)?;
                if let Some(InjectionLocationParams {
                    body: Some(false),
                    header: Some(false),
                }) = auth.injection_location
                {
                    return Err(no_injection_location());
                }
            }
            CredentialAuthCreate::Unknown(_) => {}
        }
        Ok(())
    }
}

impl Validate for CredentialUpdate {
    fn validate(&self) -> Result<()> {
        if let Nullable::Value(name) = &self.display_name {
            chars_between("display_name", name, 1, MAX_DISPLAY_NAME)?;
        }
        let Some(auth) = &self.auth else {
            return Ok(());
        };
        known(
            "auth.type",
            auth.is_unknown(),
            auth.type_name(),
            CredentialAuthUpdate::KNOWN_TYPES,
        )?;
        match auth {
            CredentialAuthUpdate::McpOauth(auth) => {
                if let Nullable::Value(token) = &auth.access_token {
                    secret("auth.access_token", token)?;
                }
                if let Nullable::Value(expires_at) = &auth.expires_at {
                    future("auth.expires_at", expires_at)?;
                }
                if let Nullable::Value(refresh) = &auth.refresh {
                    refresh_update(refresh)?;
                }
            }
            CredentialAuthUpdate::StaticBearer(auth) => {
                if let Nullable::Value(token) = &auth.token {
                    secret("auth.token", token)?;
                }
            }
            CredentialAuthUpdate::EnvironmentVariable(auth) => {
                if let Nullable::Value(value) = &auth.secret_value {
                    secret("auth.secret_value", value)?;
                }
                if let Nullable::Value(net) = &auth.networking {
                    networking("auth.networking", net)?;
                }
            }
            CredentialAuthUpdate::Unknown(_) => {}
        }
        Ok(())
    }
}

fn refresh_create(refresh: &McpOauthRefreshCreate) -> Result<()> {
    non_empty("auth.refresh.client_id", &refresh.client_id)?;
    secret("auth.refresh.refresh_token", &refresh.refresh_token)?;
    http_url("auth.refresh.token_endpoint", &refresh.token_endpoint)?;
    let auth = &refresh.token_endpoint_auth;
    known(
        "auth.refresh.token_endpoint_auth.type",
        auth.is_unknown(),
        auth.type_name(),
        TokenEndpointAuthCreate::KNOWN_TYPES,
    )?;
    match auth {
        TokenEndpointAuthCreate::ClientSecretBasic(basic) => secret(
            "auth.refresh.token_endpoint_auth.client_secret",
            &basic.client_secret,
        ),
        TokenEndpointAuthCreate::ClientSecretPost(post) => secret(
            "auth.refresh.token_endpoint_auth.client_secret",
            &post.client_secret,
        ),
        TokenEndpointAuthCreate::None(_) | TokenEndpointAuthCreate::Unknown(_) => Ok(()),
    }
}

fn refresh_update(refresh: &McpOauthRefreshUpdate) -> Result<()> {
    if let Nullable::Value(token) = &refresh.refresh_token {
        secret("auth.refresh.refresh_token", token)?;
    }
    let Some(auth) = &refresh.token_endpoint_auth else {
        return Ok(());
    };
    known(
        "auth.refresh.token_endpoint_auth.type",
        auth.is_unknown(),
        auth.type_name(),
        TokenEndpointAuthUpdate::KNOWN_TYPES,
    )?;
    let client_secret = match auth {
        TokenEndpointAuthUpdate::ClientSecretBasic(basic) => &basic.client_secret,
        TokenEndpointAuthUpdate::ClientSecretPost(post) => &post.client_secret,
        TokenEndpointAuthUpdate::Unknown(_) => return Ok(()),
    };
    if let Nullable::Value(client_secret) = client_secret {
        secret(
            "auth.refresh.token_endpoint_auth.client_secret",
            client_secret,
        )?;
    }
    Ok(())
}

/// The 400 for injection locations that are all disabled.
pub(super) fn no_injection_location() -> Error {
    Error::invalid_request(
        "`auth.injection_location`: at least one of `body` and `header` must be true",
    )
}

/// A secret must not be empty. The message names the field only.
fn secret(field: &str, value: &Secret) -> Result<()> {
    if value.expose().trim().is_empty() {
        return Err(Error::invalid_request(format!(
            "`{field}`: must not be empty"
        )));
    }
    Ok(())
}

/// An absolute `http` or `https` URL with a host.
fn http_url(field: &str, value: &str) -> Result<()> {
    let ok = reqwest::Url::parse(value)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .unwrap_or(false);
    if !ok {
        return Err(Error::invalid_request(format!(
            "`{field}`: must be an absolute `http` or `https` URL"
        )));
    }
    Ok(())
}

/// A timestamp in RFC 3339 that lies in the future.
fn future(field: &str, value: &Timestamp) -> Result<()> {
    let at = value.to_datetime().ok_or_else(|| {
        Error::invalid_request(format!("`{field}`: must be an RFC 3339 timestamp"))
    })?;
    if at <= time::OffsetDateTime::now_utc() {
        return Err(Error::invalid_request(format!(
            "`{field}`: must be in the future"
        )));
    }
    Ok(())
}

/// An environment variable name: a letter or `_`, then letters, digits and `_`.
fn secret_name(field: &str, value: &str) -> Result<()> {
    max_chars(field, value, MAX_SECRET_NAME)?;
    let mut chars = value.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Error::invalid_request(format!(
            "`{field}`: must be an environment variable name (ASCII letters, digits and `_`, \
             not starting with a digit)"
        )));
    }
    Ok(())
}

fn networking(field: &str, value: &CredentialNetworking) -> Result<()> {
    known(
        &format!("{field}.type"),
        value.is_unknown(),
        value.type_name(),
        CredentialNetworking::KNOWN_TYPES,
    )?;
    if let CredentialNetworking::Limited(limited) = value {
        let hosts_field = format!("{field}.allowed_hosts");
        max_items(&hosts_field, &limited.allowed_hosts, MAX_ALLOWED_HOSTS)?;
        for (i, host) in limited.allowed_hosts.iter().enumerate() {
            if !is_allowed_host(host) {
                return Err(Error::invalid_request(format!(
                    "`{hosts_field}[{i}]`: must be a bare hostname, an IPv4 address or a `*.` \
                     wildcard (no scheme, port, path or IPv6)"
                )));
            }
        }
    }
    Ok(())
}

/// A bare hostname (`api.example.com`), an IPv4 address, or `*.` and a hostname.
pub(super) fn is_allowed_host(host: &str) -> bool {
    if host.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    // A name of digits and dots that is not a valid IPv4 address (`1.2.3.999`) is refused.
    if labels.iter().all(|l| l.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_hosts() {
        for ok in [
            "api.example.com",
            "localhost",
            "*.example.com",
            "192.0.2.1",
            "a-b.c",
        ] {
            assert!(is_allowed_host(ok), "{ok}");
        }
        for bad in [
            "",
            "*.",
            "https://example.com",
            "example.com:443",
            "example.com/path",
            "::1",
            "[::1]",
            "a.*.com",
            "*example.com",
            "-a.com",
            "a..com",
            "1.2.3.999",
            "exa mple.com",
        ] {
            assert!(!is_allowed_host(bad), "{bad}");
        }
    }

    #[test]
    fn secret_names_urls_and_times() {
        assert!(secret_name("f", "GITHUB_TOKEN").is_ok());
        assert!(secret_name("f", "_x1").is_ok());
        assert!(secret_name("f", "1X").is_err());
        assert!(secret_name("f", "").is_err());
        assert!(secret_name("f", "A-B").is_err());
        assert!(http_url("f", "https://mcp.example.com/mcp").is_ok());
        assert!(http_url("f", "http://127.0.0.1:9/x").is_ok());
        assert!(http_url("f", "ftp://example.com").is_err());
        assert!(http_url("f", "example.com").is_err());
        assert!(future("f", &Timestamp::new("2999-01-01T00:00:00Z")).is_ok());
        let past = future("f", &Timestamp::new("2000-01-01T00:00:00Z")).unwrap_err();
        assert!(past.body().message.contains("future"));
        assert!(future("f", &Timestamp::new("tomorrow")).is_err());
    }
}
