//! API keys: how they are made, stored and checked.
//!
//! Every request must carry a key the platform knows, as `Authorization: Bearer <key>` (what
//! SDK 1.10.0 sends) or `x-api-key: <key>` (older SDKs); otherwise it gets a 401
//! `authentication_error`. Keys look like `sk-steward-` followed by 48 base62 characters.
//! Only a SHA-256 of each key is stored (table `api_keys`), next to an `apikey_…` ID that
//! identifies the caller as an actor (for example in memory versions' `created_by`).
//!
//! On first start the platform creates one key and writes it to `<data_dir>/api_key` (mode
//! 0600), logging the file's path but never the key. Later starts reuse the key in that file.
//! `steward-platform keys create` adds more keys.
//!
//! A successful check puts a [`Caller`] into the request's extensions; handlers take it as an
//! extractor argument. Other credential kinds (environment keys, per-work session tokens) are
//! added as further [`Caller`] variants and lookups in [`resolve`].

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use steward_core::ApiKeyId;

use crate::db::{Db, optional};
use crate::error::{Error, Result, StartError};
use crate::migrations::Migration;
use crate::state::AppState;

/// Name of the file in the data directory that holds the key created on first start.
pub const API_KEY_FILE: &str = "api_key";

/// Prefix of every key the platform generates.
pub const KEY_PREFIX: &str = "sk-steward-";

/// Table of known keys.
pub(crate) const MIGRATION_API_KEYS: Migration = Migration {
    name: "auth_api_keys",
    sql: "CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        key_sha256 TEXT NOT NULL UNIQUE,
        name TEXT,
        created_at TEXT NOT NULL
    ) STRICT;",
};

/// Who made a request, as established by the auth middleware.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A platform API key.
    ApiKey(ApiKeyId),
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::authentication("missing API key"))
    }
}

/// A key as listed by `keys list` (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key's ID.
    pub id: ApiKeyId,
    /// Optional label.
    pub name: Option<String>,
    /// When it was created.
    pub created_at: String,
}

/// A fresh random key.
pub fn generate_key() -> String {
    format!("{KEY_PREFIX}{}", crate::ids::random_base62(48))
}

/// Lowercase hex SHA-256 of a key, as stored.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Stores a key (by its hash) and returns its ID; an already known key keeps its ID.
pub fn insert_key(conn: &Connection, key: &str, name: Option<&str>) -> Result<ApiKeyId> {
    let hash = hash_key(key);
    if let Some(id) = find_key(conn, &hash)? {
        return Ok(id);
    }
    let id: ApiKeyId = crate::ids::new_id(ApiKeyId::PREFIX);
    conn.execute(
        "INSERT INTO api_keys (id, key_sha256, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![id.as_str(), hash, name, crate::clock::now().as_str()],
    )?;
    Ok(id)
}

/// Every stored key, oldest first.
pub fn list_keys(conn: &Connection) -> Result<Vec<KeyInfo>> {
    let mut stmt =
        conn.prepare("SELECT id, name, created_at FROM api_keys ORDER BY created_at, id")?;
    let rows = stmt.query_map([], |row| {
        Ok(KeyInfo {
            id: ApiKeyId::new(row.get::<_, String>(0)?),
            name: row.get(1)?,
            created_at: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn find_key(conn: &Connection, hash: &str) -> Result<Option<ApiKeyId>> {
    optional(conn.query_row(
        "SELECT id FROM api_keys WHERE key_sha256 = ?1",
        [hash],
        |row| row.get::<_, String>(0),
    ))
    .map(|id| id.map(ApiKeyId::new))
}

/// Who a presented credential belongs to, if anyone.
pub fn resolve(conn: &Connection, credential: &str) -> Result<Option<Caller>> {
    Ok(find_key(conn, &hash_key(credential))?.map(Caller::ApiKey))
}

/// Makes sure the platform has a usable key and returns it.
///
/// * `seed` given: that key is stored if new, and returned; the key file is not touched.
/// * Otherwise the key in `<data_dir>/api_key` is returned if the database knows it, or stored
///   and returned if the database holds no key at all (it was deleted).
/// * Otherwise a new key is created and written to that file (mode 0600).
pub(crate) fn ensure_key(
    db: &Db,
    data_dir: &Path,
    seed: Option<&str>,
) -> Result<String, StartError> {
    if let Some(seed) = seed {
        let seed = seed.to_owned();
        let key = seed.clone();
        db.write_blocking(move |tx| insert_key(tx, &seed, Some("seeded")))
            .map_err(StartError::Setup)?;
        return Ok(key);
    }
    let path = data_dir.join(API_KEY_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let key = text.trim().to_owned();
        let known = {
            let key = key.clone();
            db.read_blocking(move |conn| resolve(conn, &key))
                .map_err(StartError::Setup)?
        };
        if known.is_some() {
            tracing::info!(path = %path.display(), "using the API key in the key file");
            return Ok(key);
        }
        // A fresh database next to an old key file (the database was deleted): adopt the key
        // rather than invalidate what clients were given.
        let empty = db
            .read_blocking(|conn| Ok(list_keys(conn)?.is_empty()))
            .map_err(StartError::Setup)?;
        if empty && !key.is_empty() {
            let adopted = key.clone();
            db.write_blocking(move |tx| insert_key(tx, &adopted, Some("initial")))
                .map_err(StartError::Setup)?;
            tracing::info!(path = %path.display(), "registered the API key in the key file");
            return Ok(key);
        }
        tracing::warn!(path = %path.display(), "the key file holds an unknown key; replacing it");
    }
    let key = generate_key();
    {
        let key = key.clone();
        db.write_blocking(move |tx| insert_key(tx, &key, Some("initial")))
            .map_err(StartError::Setup)?;
    }
    write_key_file(&path, &key)?;
    tracing::info!(path = %path.display(), "created an API key; it is in the key file");
    Ok(key)
}

/// Writes a key file readable only by its owner, replacing any old one atomically.
pub fn write_key_file(path: &Path, key: &str) -> Result<(), StartError> {
    let io = |source| StartError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp: PathBuf = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    file.write_all(format!("{key}\n").as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)
}

/// The credential a request presents: `Authorization: Bearer …`, else `x-api-key`.
fn presented_credentials(headers: &HeaderMap) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        if let Some((scheme, token)) = value.split_once(' ') {
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
                found.push(token.trim().to_owned());
            }
        }
    }
    if let Some(value) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        if !value.trim().is_empty() {
            found.push(value.trim().to_owned());
        }
    }
    found
}

/// Middleware: rejects requests without a known key with 401, and records the [`Caller`].
pub(crate) async fn require_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response> {
    let credentials = presented_credentials(request.headers());
    if credentials.is_empty() {
        return Err(Error::authentication(
            "missing API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
        ));
    }
    let caller = state
        .db
        .read(move |conn| {
            for credential in &credentials {
                if let Some(caller) = resolve(conn, credential)? {
                    return Ok(Some(caller));
                }
            }
            Ok(None)
        })
        .await?
        .ok_or_else(|| Error::authentication("invalid API key"))?;
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn both_header_forms_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer k1"));
        headers.insert("x-api-key", HeaderValue::from_static("k2"));
        assert_eq!(presented_credentials(&headers), ["k1", "k2"]);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(presented_credentials(&headers), ["k2"]);
    }

    #[test]
    fn keys_are_hashed_and_prefixed() {
        let key = generate_key();
        assert!(key.starts_with(KEY_PREFIX));
        assert_eq!(hash_key(&key).len(), 64);
        assert_ne!(hash_key(&key), hash_key(&generate_key()));
    }
}
