//! Starting and stopping a platform: [`Platform`], its builder and [`PlatformHandle`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), steward_platform::StartError> {
//! // In-process, on 127.0.0.1 with a free port and a temporary data directory:
//! let platform = steward_platform::Platform::builder().start_ephemeral().await?;
//! let base_url = platform.base_url(); // "http://127.0.0.1:PORT"
//! let key = platform.api_key();       // send as `Authorization: Bearer <key>`
//! platform.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! [`PlatformBuilder::open`] opens the data directory without listening and gives a
//! [`Platform`] whose [`Platform::router`] can be driven with `tower::ServiceExt::oneshot`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::error::StartError;
use crate::state::{AppState, Config, DEFAULT_BODY_LIMIT};

/// Default listen address of `steward-platform serve`.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 4610);

/// How long [`PlatformHandle::shutdown`] waits for open requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The platform's default data directory: the XDG data directory `steward/platform`
/// (`~/.local/share/steward/platform` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "steward").map(|dirs| dirs.data_dir().join("platform"))
}

/// Configures and starts a platform.
#[derive(Debug, Clone, Default)]
pub struct PlatformBuilder {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    api_key: Option<String>,
    body_limit: Option<usize>,
    rate_limit: Option<Option<crate::limits::RateLimit>>,
    http2_max_streams: Option<u32>,
    engine: crate::engine::EngineOptions,
}

impl PlatformBuilder {
    /// Where the database and key file live. Default for [`start`](Self::start): the XDG data
    /// directory; for [`start_ephemeral`](Self::start_ephemeral): a fresh temporary directory
    /// removed at shutdown.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// The address to listen on (default [`DEFAULT_LISTEN`]; port 0 picks a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Makes this key valid (stored by hash if new) and the one [`Platform::api_key`] returns,
    /// instead of the key in the data directory's key file.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Maximum request body size in bytes (default 2 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// Per-key rate limit (default [`crate::limits::DEFAULT_RATE_LIMIT`], 1000 requests per
    /// second with bursts of 2000); `None` turns rate limiting off. See [`crate::limits`].
    pub fn rate_limit(mut self, limit: Option<crate::limits::RateLimit>) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Limit on concurrent HTTP/2 streams per connection (default
    /// [`crate::listen::DEFAULT_HTTP2_MAX_STREAMS`]). A client that multiplexes its event
    /// streams on one h2c connection can hold this many at once, requests included.
    pub fn http2_max_streams(mut self, streams: u32) -> Self {
        self.http2_max_streams = Some(streams);
        self
    }

    /// How the session engine runs sessions: the model provider (the offline test model when
    /// none is set) and the retry policy of model calls.
    pub fn engine(mut self, options: crate::engine::EngineOptions) -> Self {
        self.engine = options;
        self
    }

    /// Opens the data directory (creating it, migrating the database, making sure a key exists)
    /// without listening.
    pub async fn open(self) -> Result<Platform, StartError> {
        let (data_dir, temp_dir) = match self.data_dir.clone() {
            Some(dir) => (dir, None),
            None => {
                let dir = default_data_dir().ok_or(StartError::NoDataDir)?;
                (dir, None)
            }
        };
        self.open_in(data_dir, temp_dir).await
    }

    async fn open_in(
        self,
        data_dir: PathBuf,
        temp_dir: Option<tempfile::TempDir>,
    ) -> Result<Platform, StartError> {
        let body_limit = self.body_limit.unwrap_or(DEFAULT_BODY_LIMIT);
        let rate_limit = self
            .rate_limit
            .unwrap_or(Some(crate::limits::DEFAULT_RATE_LIMIT));
        let engine = self.engine;
        let http2_max_streams = self
            .http2_max_streams
            .unwrap_or(crate::listen::DEFAULT_HTTP2_MAX_STREAMS);
        let seed = self.api_key;
        let dir = data_dir.clone();
        let (db, api_key, vault_key) = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|source| StartError::Io {
                path: dir.clone(),
                source,
            })?;
            let db = Db::open(&dir)?;
            let key = crate::auth::ensure_key(&db, &dir, seed.as_deref())?;
            let vault_key = crate::vaults::open_key(&db, &dir)?;
            Ok::<_, StartError>((db, key, vault_key))
        })
        .await
        .map_err(|e| StartError::Setup(crate::Error::internal(e)))??;
        Ok(Platform {
            state: AppState::new(
                db,
                Config {
                    body_limit,
                    rate_limit,
                },
                vault_key,
            ),
            data_dir,
            api_key,
            temp_dir,
            engine,
            http2_max_streams,
        })
    }

    /// Opens the data directory and serves on the listen address in a background task.
    pub async fn start(self) -> Result<PlatformHandle, StartError> {
        let listen = self.listen.unwrap_or(DEFAULT_LISTEN);
        self.open().await?.serve(listen).await
    }

    /// Serves on `127.0.0.1:0` (a free port) from a temporary data directory (or the one set
    /// with [`data_dir`](Self::data_dir)). For tests and the assistant's embedded default.
    pub async fn start_ephemeral(self) -> Result<PlatformHandle, StartError> {
        let listen = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        let platform = match self.data_dir.clone() {
            Some(dir) => self.open_in(dir, None).await?,
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("steward-platform-")
                    .tempdir()
                    .map_err(|source| StartError::Io {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let dir = temp.path().to_path_buf();
                self.open_in(dir, Some(temp)).await?
            }
        };
        platform.serve(listen).await
    }
}

/// An opened platform: database, key and router, not yet listening.
#[derive(Debug)]
pub struct Platform {
    state: AppState,
    data_dir: PathBuf,
    api_key: String,
    temp_dir: Option<tempfile::TempDir>,
    engine: crate::engine::EngineOptions,
    http2_max_streams: u32,
}

impl Platform {
    /// Starts configuring a platform.
    pub fn builder() -> PlatformBuilder {
        PlatformBuilder::default()
    }

    /// The whole HTTP API as an axum router (for `tower::ServiceExt::oneshot` in tests).
    pub fn router(&self) -> Router {
        crate::routes::router(self.state.clone())
    }

    /// A key that authenticates requests.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The shared state handlers see.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Binds `addr` and serves in a background task.
    pub async fn serve(self, addr: SocketAddr) -> Result<PlatformHandle, StartError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let router = self.router();
        // Sessions run while the platform serves (not when it is only opened, as by the CLI's
        // key commands next to a running server).
        crate::engine::spawn(self.state.clone(), &self.data_dir, self.engine.clone());
        let signal = self.state.shutdown.clone();
        let task = tokio::spawn(crate::listen::serve(
            listener,
            router,
            self.http2_max_streams,
            signal,
        ));
        tracing::info!(
            base_url = %format!("http://{local}"),
            data_dir = %self.data_dir.display(),
            "platform listening"
        );
        Ok(PlatformHandle {
            base_url: format!("http://{local}"),
            addr: local,
            platform: self,
            task: Some(task),
        })
    }
}

/// A running platform. Dropping it stops the server (without waiting); call
/// [`shutdown`](Self::shutdown) to stop gracefully.
#[derive(Debug)]
pub struct PlatformHandle {
    base_url: String,
    addr: SocketAddr,
    platform: Platform,
    task: Option<JoinHandle<()>>,
}

impl PlatformHandle {
    /// Base URL to give a client, such as `http://127.0.0.1:4610` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A key that authenticates requests.
    pub fn api_key(&self) -> &str {
        self.platform.api_key()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.platform.data_dir()
    }

    /// Path of the file holding the key created on first start.
    pub fn api_key_file(&self) -> PathBuf {
        self.platform.data_dir().join(crate::auth::API_KEY_FILE)
    }

    /// The opened platform (router, state).
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Stops accepting connections, lets open requests finish (up to 10 s), and waits for the
    /// server task. A temporary data directory is removed afterwards.
    pub async fn shutdown(mut self) {
        self.platform.state.shutdown.cancel();
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                tracing::warn!("open requests did not finish in time; dropping them");
                task.abort();
                let _ = task.await;
            }
        }
        if let Some(temp) = self.platform.temp_dir.take() {
            let _ = temp.close();
        }
    }

    /// Waits until the server stops (after [`shutdown`](Self::shutdown) from elsewhere or a
    /// fatal error).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// A token that stops the server when cancelled (for signal handlers).
    pub fn shutdown_token(&self) -> tokio_util::sync::CancellationToken {
        self.platform.state.shutdown.clone()
    }
}

impl Drop for PlatformHandle {
    fn drop(&mut self) {
        self.platform.state.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
