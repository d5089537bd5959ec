//! `steward vault create|list|add-mcp-oauth`: a vault per user, attached to that user's
//! sessions, holding MCP OAuth credentials.
//!
//! Secrets never come from the command line (where `ps` and shell history would keep them):
//! the access token is read from `STEWARD_MCP_ACCESS_TOKEN` or, with `--token-stdin`, from the
//! first line of stdin; the refresh token and client secret from their variables. They are
//! held in [`Secret`]s, which do not print, and the API never returns them.

use std::io::BufRead as _;

use anyhow::Context as _;
use futures::TryStreamExt as _;
use serde::Serialize;
use steward_core::vault::{
    ClientSecretBasicCreate, ClientSecretPostCreate, Credential, CredentialAuth,
    CredentialAuthCreate, CredentialCreate, CredentialListParams, McpOauthCreate,
    McpOauthRefreshCreate, Secret, TokenEndpointAuthCreate, TokenEndpointAuthNone, Vault,
    VaultCreate, VaultListParams,
};
use steward_core::{Metadata, Nullable, Timestamp};

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
    Ok(())
}

/// The access token: from stdin's first line with `--token-stdin`, else from the environment.
fn access_token(app: &App, from_stdin: bool) -> Result<Secret, UserError> {
    let missing = || {
        UserError::usage("no access token given").hint(format!(
            "set {} or pass `--token-stdin` and write the token to stdin; tokens are never read from the command line",
            env::STEWARD_MCP_ACCESS_TOKEN
        ))
    };
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| UserError::failure(format!("cannot read the token from stdin: {e}")))?;
        let token = line.trim();
        if token.is_empty() {
            return Err(missing());
        }
        return Ok(Secret::new(token));
    }
    app.env
        .get(env::STEWARD_MCP_ACCESS_TOKEN)
        .map(Secret::new)
        .ok_or_else(missing)
}

fn secret_from_env(app: &App, name: &str, why: &str) -> Result<Secret, UserError> {
    app.env
        .get(name)
        .map(Secret::new)
        .ok_or_else(|| UserError::usage(format!("{name} is not set ({why})")))
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
    let refresh = match (&args.client_id, &args.token_endpoint) {
        (Some(client_id), Some(token_endpoint)) => {
            check_url("token endpoint", token_endpoint)?;
            let refresh_token = secret_from_env(
                app,
                env::STEWARD_MCP_REFRESH_TOKEN,
                "`--client-id` needs a refresh token",
            )?;
            let why = "this token endpoint auth needs the client secret";
            let token_endpoint_auth = match args.token_endpoint_auth {
                TokenEndpointAuth::None => TokenEndpointAuthCreate::None(TokenEndpointAuthNone {}),
                TokenEndpointAuth::ClientSecretBasic => {
                    TokenEndpointAuthCreate::ClientSecretBasic(ClientSecretBasicCreate {
                        client_secret: secret_from_env(app, env::STEWARD_MCP_CLIENT_SECRET, why)?,
                    })
                }
                TokenEndpointAuth::ClientSecretPost => {
                    TokenEndpointAuthCreate::ClientSecretPost(ClientSecretPostCreate {
                        client_secret: secret_from_env(app, env::STEWARD_MCP_CLIENT_SECRET, why)?,
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
    let access_token = access_token(app, args.token_stdin)?;
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
