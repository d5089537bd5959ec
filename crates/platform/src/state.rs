//! [`AppState`]: what every handler can reach.
//!
//! Handlers take `State(state): State<AppState>`. A resource that needs shared in-memory state
//! (for example a broadcast hub for session event streams) adds a field here and initialises it
//! in [`AppState::new`].

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::db::Db;

/// Default maximum size of a request body: 2 MiB. Larger bodies get a 413.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Shared state of a running platform; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Cancelled when the platform shuts down. Long-lived responses (event streams, long polls)
    /// must end when it fires, or graceful shutdown waits for them.
    pub shutdown: CancellationToken,
    /// Settings fixed at start.
    pub config: Arc<Config>,
    /// The key that seals vault credential secrets at rest ([`crate::vaults::crypto`]).
    pub vault_key: crate::vaults::VaultKey,
    /// Session event streams, engine wakeups and interrupt signals ([`crate::events::EventHub`]).
    pub events: crate::events::EventHub,
    /// Per-key request rate limiting ([`crate::limits`]), as set by [`Config::rate_limit`].
    pub rate_limiter: crate::limits::RateLimiter,
    /// Bearer tokens for MCP servers from session vaults, with OAuth refresh
    /// ([`crate::vaults::TokenBroker`]).
    pub tokens: crate::vaults::TokenBroker,
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Maximum request body size in bytes.
    pub body_limit: usize,
    /// Per-key rate limit (`None`: unlimited); see [`crate::limits`].
    pub rate_limit: Option<crate::limits::RateLimit>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            rate_limit: Some(crate::limits::DEFAULT_RATE_LIMIT),
        }
    }
}

impl AppState {
    /// State around an opened database and its data directory's vault key
    /// ([`crate::vaults::open_key`]).
    pub fn new(db: Db, config: Config, vault_key: crate::vaults::VaultKey) -> Self {
        Self {
            events: crate::events::EventHub::new(db.clone()),
            rate_limiter: crate::limits::RateLimiter::new(config.rate_limit),
            tokens: crate::vaults::TokenBroker::new(db.clone(), vault_key.clone()),
            db,
            shutdown: CancellationToken::new(),
            config: Arc::new(config),
            vault_key,
        }
    }
}
