//! `steward vault create|list|add-mcp-oauth|validate`: a vault per user, attached to that
//! user's sessions, holding MCP OAuth credentials.
//!
//! Secrets never come from the command line (where `ps` and shell history would keep them).
//! They are read from `STEWARD_MCP_ACCESS_TOKEN`, `STEWARD_MCP_REFRESH_TOKEN` and
//! `STEWARD_MCP_CLIENT_SECRET`, or, with `--token-stdin` (alias `--stdin`), from stdin: either
//! a JSON object with the keys `access_token`, `refresh_token` and `client_secret`, or up to
//! three lines in that order. A secret stdin does not give falls back to its variable, except
//! the access token, which then must come from stdin. They are held in [`Secret`]s, which do
//! not print, and the API never returns them; error messages name a key, never a value.
//!
//! `validate` prints the platform's verdict (`valid`, `invalid`, `unknown`) and exits 0
//! whichever it is: the command worked. Scripts read `status` from `--json`.

use std::io::Read as _;

use anyhow::Context as _;
use futures::TryStreamExt as _;
use serde::Serialize;
use steward_core::vault::{
    ClientSecretBasicCreate, ClientSecretPostCreate, Credential, CredentialAuth,
    CredentialAuthCreate, CredentialCreate, CredentialListParams, CredentialValidation,
    CredentialValidationStatus, McpOauthCreate, McpOauthRefreshCreate, RefreshStatus, Secret,
    TokenEndpointAuthCreate, TokenEndpointAuthNone, Vault, VaultCreate, VaultListParams,
};
use steward_core::{CredentialId, Metadata, Nullable, Timestamp};

use crate::app::{App, ROLE_KEY, USER_KEY, is_not_found};
use crate::cli::{AddMcpOauthArgs, TokenEndpointAuth};
use crate::env;
use crate::error::UserError;
use crate::output::table;

/// The user's vault if there is one (from the state file, else by metadata).
pub async fn find(app: &mut App, user: &str) -> anyhow::Result<Option<Vault>> {
    let remembered = app.ids().users.get(user).and_then(|u| u.vault_id.clone());
    if let Some(id) = remembered {
        match app.client().vaults().retrieve(&id).await {
            Ok(vault) if vault.archived_at.is_none() => return Ok(Some(vault)),
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(anyhow::Error::new(e).context("failed to read the vault")),
        }
    }
    let vaults: Vec<Vault> = app
        .client()
        .vaults()
        .list(&VaultListParams::default())
        .try_collect()
        .await
        .context("failed to list vaults")?;
    let found = vaults.into_iter().find(|v| {
        v.archived_at.is_none()
            && v.metadata.get(ROLE_KEY).map(String::as_str) == Some("vault")
            && v.metadata.get(USER_KEY).map(String::as_str) == Some(user)
    });
    remember(app, user, found.as_ref())?;
    Ok(found)
}

fn remember(app: &mut App, user: &str, vault: Option<&Vault>) -> anyhow::Result<()> {
    if let Some(state) = app.ids().users.get_mut(user) {
        let id = vault.map(|v| v.id.clone());
        if state.vault_id != id {
            state.vault_id = id;
            app.save()?;
        }
    }
    Ok(())
}

/// The user's vault, created if needed; `true` when it was created now.
async fn ensure(app: &mut App, user: &str) -> anyhow::Result<(Vault, bool)> {
    app.user_store(user).await?;
    if let Some(vault) = find(app, user).await? {
        return Ok((vault, false));
    }
    let body = VaultCreate {
        display_name: format!("steward: {user}"),
        metadata: Some(Metadata::from([
            (ROLE_KEY.to_owned(), "vault".to_owned()),
            (USER_KEY.to_owned(), user.to_owned()),
        ])),
    };
    let vault = app
        .client()
        .vaults()
        .create(&body)
        .await
        .with_context(|| format!("failed to create the vault of `{user}`"))?;
    remember(app, user, Some(&vault))?;
    Ok((vault, true))
}

#[derive(Debug, Serialize)]
struct VaultView {
    user: String,
    vault_id: String,
    status: &'static str,
}

/// `steward vault create --user U`.
pub async fn create(app: &mut App, user: &str) -> anyhow::Result<()> {
    let (vault, created) = ensure(app, user).await?;
    let status = if created { "created" } else { "existing" };
    if app.printer.json {
        app.printer.json(&VaultView {
            user: user.to_owned(),
            vault_id: vault.id.to_string(),
            status,
        })?;
        return Ok(());
    }
    if created {
        app.printer
            .line(format!("created vault {} for `{user}`", vault.id))?;
    } else {
        app.printer
            .line(format!("`{user}` already has vault {}", vault.id))?;
    }
    Ok(())
}

/// A credential as `vault list` shows it (never a secret: the API returns none).
#[derive(Debug, Serialize)]
struct CredentialView {
    id: String,
    kind: String,
    name: Option<String>,
    mcp_server_url: Option<String>,
    expires_at: Option<String>,
    refreshes: bool,
    /// Why the last refresh failed (`type: message`), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_error: Option<String>,
    created_at: String,
}

impl From<&Credential> for CredentialView {
    fn from(c: &Credential) -> Self {
        let (url, expires, refreshes) = match &c.auth {
            CredentialAuth::McpOauth(a) => (
                Some(a.mcp_server_url.clone()),
                a.expires_at.value().map(ToString::to_string),
                a.refresh.value().is_some(),
            ),
            CredentialAuth::StaticBearer(a) => (Some(a.mcp_server_url.clone()), None, false),
            _ => (None, None, false),
        };
        Self {
            id: c.id.to_string(),
            kind: c.auth.type_name().to_owned(),
            name: c.display_name.value().cloned(),
            mcp_server_url: url,
            expires_at: expires,
            refreshes,
            refresh_error: c
                .refresh_error
                .as_ref()
                .map(|e| format!("{}: {}", e.kind, e.message)),
            created_at: c.created_at.to_string(),
        }
    }
}

/// `steward vault list --user U`.
pub async fn list(app: &mut App, user: &str) -> anyhow::Result<()> {
    app.user_store(user).await?;
    let Some(vault) = find(app, user).await? else {
        if app.printer.json {
            app.printer.json(&Vec::<CredentialView>::new())?;
            return Ok(());
        }
        app.printer.note(format!("`{user}` has no vault"));
        app.printer.hint(format!(
            "create one with `steward vault create --user {user}`"
        ));
        return Ok(());
    };
    let credentials: Vec<Credential> = app
        .client()
        .vaults()
        .credentials()
        .list(&vault.id, &CredentialListParams::default())
        .try_collect()
        .await
        .context("failed to list credentials")?;
    let views: Vec<CredentialView> = credentials
        .iter()
        .filter(|c| c.archived_at.is_none())
        .map(CredentialView::from)
        .collect();
    if app.printer.json {
        app.printer.json(&views)?;
        return Ok(());
    }
    if views.is_empty() {
        app.printer.note(format!(
            "vault {} of `{user}` holds no credentials",
            vault.id
        ));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.kind.clone(),
                c.mcp_server_url.clone().unwrap_or_else(|| "-".into()),
                c.expires_at.clone().unwrap_or_else(|| "-".into()),
                c.name.clone().unwrap_or_default(),
            ]
        })
        .collect();
    app.printer.data(&table(
        &["CREDENTIAL", "TYPE", "MCP SERVER", "EXPIRES", "NAME"],
        &rows,
    ))?;
    for view in &views {
        if let Some(error) = &view.refresh_error {
            app.printer.warn(format!(
                "{}: the last token refresh failed: {error}",
                view.id
            ));
        }
    }
    Ok(())
}

/// The secrets of `add-mcp-oauth`, each from stdin or the environment.
#[derive(Debug, Default, PartialEq)]
struct Secrets {
    access_token: Option<Secret>,
    refresh_token: Option<Secret>,
    client_secret: Option<Secret>,
}

/// The keys of the stdin JSON object, in the order of the lines form.
const SECRET_KEYS: [&str; 3] = ["access_token", "refresh_token", "client_secret"];

impl Secrets {
    /// Parses stdin: a JSON object (see the module docs) or up to three lines. Messages name
    /// keys and positions, never values.
    fn parse(text: &str) -> Result<Self, UserError> {
        let mut values: [Option<Secret>; 3] = Default::default();
        if text.trim_start().starts_with('{') {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(text).map_err(|_| {
                    UserError::usage("stdin is not a valid JSON object").hint(
                        "send {\"access_token\": …, \"refresh_token\": …, \"client_secret\": …} or one secret per line in that order",
                    )
                })?;
            for (key, value) in object {
                let Some(slot) = SECRET_KEYS.iter().position(|k| *k == key) else {
                    return Err(UserError::usage(format!(
                        "unexpected key `{key}` in the JSON on stdin"
                    ))
                    .hint(format!("the keys are {}", SECRET_KEYS.join(", "))));
                };
                match value {
                    serde_json::Value::Null => {}
                    serde_json::Value::String(s) if !s.trim().is_empty() => {
                        values[slot] = Some(Secret::new(s.trim()));
                    }
                    _ => {
                        return Err(UserError::usage(format!(
                            "`{key}` in the JSON on stdin must be a non-empty string"
                        )));
                    }
                }
            }
        } else {
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if lines.len() > SECRET_KEYS.len() {
                return Err(UserError::usage(format!(
                    "stdin has {} lines; expected at most 3 ({})",
                    lines.len(),
                    SECRET_KEYS.join(", ")
                )));
            }
            for (slot, line) in lines.into_iter().enumerate() {
                values[slot] = Some(Secret::new(line));
            }
        }
        let [access_token, refresh_token, client_secret] = values;
        Ok(Self {
            access_token,
            refresh_token,
            client_secret,
        })
    }

    /// The secrets from stdin (with `from_stdin`) and the environment.
    fn read(app: &App, from_stdin: bool) -> Result<Self, UserError> {
        let from_env = |name: &str| app.env.get(name).map(Secret::new);
        let mut secrets = if from_stdin {
            let mut text = String::new();
            std::io::stdin()
                .lock()
                .read_to_string(&mut text)
                .map_err(|e| {
                    UserError::failure(format!("cannot read the secrets from stdin: {e}"))
                })?;
            Self::parse(&text)?
        } else {
            Self {
                access_token: from_env(env::STEWARD_MCP_ACCESS_TOKEN),
                ..Self::default()
            }
        };
        secrets.refresh_token = secrets
            .refresh_token
            .or_else(|| from_env(env::STEWARD_MCP_REFRESH_TOKEN));
        secrets.client_secret = secrets
            .client_secret
            .or_else(|| from_env(env::STEWARD_MCP_CLIENT_SECRET));
        Ok(secrets)
    }

    fn access_token(&mut self) -> Result<Secret, UserError> {
        self.access_token.take().ok_or_else(|| {
            UserError::usage("no access token given").hint(format!(
                "set {} or pass `--token-stdin` and write the token to stdin; tokens are never read from the command line",
                env::STEWARD_MCP_ACCESS_TOKEN
            ))
        })
    }

    fn refresh_token(&mut self) -> Result<Secret, UserError> {
        self.refresh_token.take().ok_or_else(|| {
            UserError::usage(format!(
                "{} is not set (`--client-id` needs a refresh token)",
                env::STEWARD_MCP_REFRESH_TOKEN
            ))
            .hint("or pass `--token-stdin` with `refresh_token` on stdin")
        })
    }

    fn client_secret(&mut self) -> Result<Secret, UserError> {
        self.client_secret.take().ok_or_else(|| {
            UserError::usage(format!(
                "{} is not set (this token endpoint auth needs the client secret)",
                env::STEWARD_MCP_CLIENT_SECRET
            ))
            .hint("or pass `--token-stdin` with `client_secret` on stdin")
        })
    }
}

fn check_url(what: &str, url: &str) -> Result<(), UserError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(UserError::usage(format!(
            "invalid {what} `{url}`: expected an http(s) URL"
        )))
    }
}

#[derive(Debug, Serialize)]
struct Added {
    user: String,
    vault_id: String,
    credential_id: String,
    mcp_server_url: String,
}

/// `steward vault add-mcp-oauth --user U --mcp-server-url URL …`.
pub async fn add_mcp_oauth(app: &mut App, args: &AddMcpOauthArgs) -> anyhow::Result<()> {
    let user = args.user.user.as_str();
    check_url("MCP server URL", &args.mcp_server_url)?;
    let expires_at = match &args.expires_at {
        Some(raw) => {
            let at = Timestamp::new(raw.trim());
            if at.to_datetime().is_none() {
                return Err(UserError::usage(format!(
                    "invalid `--expires-at` `{raw}`: expected an RFC 3339 time such as 2026-01-31T12:00:00Z"
                ))
                .into());
            }
            Nullable::Value(at)
        }
        None => Nullable::Absent,
    };
    let mut secrets = Secrets::read(app, args.token_stdin)?;
    let refresh = match (&args.client_id, &args.token_endpoint) {
        (Some(client_id), Some(token_endpoint)) => {
            check_url("token endpoint", token_endpoint)?;
            let refresh_token = secrets.refresh_token()?;
            let token_endpoint_auth = match args.token_endpoint_auth {
                TokenEndpointAuth::None => TokenEndpointAuthCreate::None(TokenEndpointAuthNone {}),
                TokenEndpointAuth::ClientSecretBasic => {
                    TokenEndpointAuthCreate::ClientSecretBasic(ClientSecretBasicCreate {
                        client_secret: secrets.client_secret()?,
                    })
                }
                TokenEndpointAuth::ClientSecretPost => {
                    TokenEndpointAuthCreate::ClientSecretPost(ClientSecretPostCreate {
                        client_secret: secrets.client_secret()?,
                    })
                }
            };
            Nullable::Value(McpOauthRefreshCreate {
                client_id: client_id.clone(),
                refresh_token,
                token_endpoint: token_endpoint.clone(),
                token_endpoint_auth,
                resource: args
                    .resource
                    .clone()
                    .map_or(Nullable::Absent, Nullable::Value),
                scope: args.scope.clone().map_or(Nullable::Absent, Nullable::Value),
            })
        }
        _ => Nullable::Absent,
    };
    let access_token = secrets.access_token()?;
    let (vault, created) = ensure(app, user).await?;
    if created {
        app.printer
            .note(format!("created vault {} for `{user}`", vault.id));
    }
    let mut body = CredentialCreate::new(CredentialAuthCreate::McpOauth(McpOauthCreate {
        access_token,
        mcp_server_url: args.mcp_server_url.clone(),
        expires_at,
        refresh,
    }));
    if let Some(name) = &args.name {
        body.display_name = Nullable::Value(name.clone());
    }
    let credential = app
        .client()
        .vaults()
        .credentials()
        .create(&vault.id, &body)
        .await
        .context("failed to add the credential")?;
    if app.printer.json {
        app.printer.json(&Added {
            user: user.to_owned(),
            vault_id: vault.id.to_string(),
            credential_id: credential.id.to_string(),
            mcp_server_url: args.mcp_server_url.clone(),
        })?;
        return Ok(());
    }
    app.printer.line(format!(
        "added mcp_oauth credential {} for {} to vault {} of `{user}`",
        credential.id, args.mcp_server_url, vault.id
    ))?;
    Ok(())
}

/// `steward vault validate --user U CREDENTIAL`.
pub async fn validate(app: &mut App, user: &str, credential: &str) -> anyhow::Result<()> {
    app.user_store(user).await?;
    if !credential.starts_with(CredentialId::PREFIX) {
        return Err(UserError::usage(format!(
            "`{credential}` is not a credential ID (`{}…`)",
            CredentialId::PREFIX
        ))
        .hint(format!("see `steward vault list --user {user}`"))
        .into());
    }
    let Some(vault) = find(app, user).await? else {
        return Err(UserError::usage(format!("`{user}` has no vault"))
            .hint(format!(
                "add a credential with `steward vault add-mcp-oauth --user {user} …`"
            ))
            .into());
    };
    let result = app
        .client()
        .vaults()
        .credentials()
        .mcp_oauth_validate(&vault.id, &CredentialId::new(credential))
        .await
        .with_context(|| format!("failed to validate credential `{credential}`"))?;
    if app.printer.json {
        app.printer.json(&result)?;
        return Ok(());
    }
    let (verdict, hint) = describe(&result);
    app.printer
        .line(format!("{}: {verdict}", result.credential_id))?;
    if let Some(hint) = hint {
        app.printer.hint(hint);
    }
    Ok(())
}

/// A validation in words, and what to do about it.
fn describe(result: &CredentialValidation) -> (String, Option<&'static str>) {
    let mut reasons = Vec::new();
    if let Some(probe) = &result.mcp_probe {
        reasons.push(match &probe.http_response {
            Some(response) => format!(
                "the MCP server answered HTTP {} to `{}`",
                response.status_code, probe.method
            ),
            None => format!(
                "`{}` got no answer from the MCP server (network error or timeout)",
                probe.method
            ),
        });
    }
    if let Some(refresh) = &result.refresh {
        reasons.push(match &refresh.status {
            RefreshStatus::Succeeded => "its access token was refreshed".to_owned(),
            RefreshStatus::Failed => match &refresh.http_response {
                Some(response) => format!(
                    "refreshing the token failed: the token endpoint answered HTTP {}",
                    response.status_code
                ),
                None => "refreshing the token failed".to_owned(),
            },
            RefreshStatus::ConnectError => "the token endpoint could not be reached".to_owned(),
            RefreshStatus::NoRefreshToken => "no refresh token is stored".to_owned(),
            RefreshStatus::Unknown(other) => format!("refresh: {other}"),
        });
    }
    let (word, hint) = match &result.status {
        CredentialValidationStatus::Valid => ("valid", None),
        CredentialValidationStatus::Invalid => (
            "invalid",
            Some("authorize again and store the new tokens with `steward vault add-mcp-oauth`"),
        ),
        CredentialValidationStatus::Inconclusive => (
            "unknown",
            Some("validate again once the servers are reachable"),
        ),
        CredentialValidationStatus::Unknown(_) => ("unrecognised verdict", None),
    };
    let text = if reasons.is_empty() {
        word.to_owned()
    } else {
        format!("{word} ({})", reasons.join("; "))
    };
    (text, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_secrets_as_json_or_lines() {
        let json = Secrets::parse(
            r#"{"access_token": "a", "refresh_token": " r ", "client_secret": null}"#,
        )
        .unwrap();
        assert_eq!(
            json,
            Secrets {
                access_token: Some(Secret::new("a")),
                refresh_token: Some(Secret::new("r")),
                client_secret: None,
            }
        );
        let lines = Secrets::parse("a\n\nr\ns\n").unwrap();
        assert_eq!(lines.client_secret, Some(Secret::new("s")));
        assert_eq!(Secrets::parse("").unwrap(), Secrets::default());
        for bad in [
            r#"{"access_token": "hunter2-secret""#,
            r#"{"token": "hunter2-secret"}"#,
            r#"{"access_token": 12}"#,
            "a\nb\nc\nhunter2-secret",
        ] {
            let err = Secrets::parse(bad).unwrap_err();
            assert!(!err.message.contains("hunter2"), "{}", err.message);
            assert_eq!(err.exit, crate::error::Exit::Usage);
        }
    }
}
