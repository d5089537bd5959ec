//! Which API the CLI talks to: the hosted one when `ANTHROPIC_API_KEY` is set, otherwise the
//! embedded platform, started in-process for the length of the command.
//!
//! The embedded platform serves on `127.0.0.1` with a free port, keeps its data in the data
//! directory's `platform/` (so it persists between commands) and runs sessions on its offline
//! model; a one-line note on stderr says so and how to use a real model.

use std::time::Duration;

use anyhow::Context as _;
use steward_platform::{Platform, PlatformHandle};
use steward_runtime::{Client, ClientBuilder, HttpVersion};

use crate::env::{self, Lookup};
use crate::output::Printer;
use crate::paths::Paths;

/// The state key of the embedded platform.
pub const EMBEDDED: &str = "embedded";

/// How long opening a connection may take before it counts as a failure.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connected API.
#[derive(Debug)]
pub struct Backend {
    /// The client.
    pub client: Client,
    /// The key of this API's IDs in the state file: [`EMBEDDED`] or the base URL.
    pub key: String,
    platform: Option<PlatformHandle>,
}

impl Backend {
    /// Connects: to the hosted API when `ANTHROPIC_API_KEY` is set in `env`, else to a freshly
    /// started embedded platform.
    pub async fn connect(paths: &Paths, env: &Lookup, printer: &Printer) -> anyhow::Result<Self> {
        if env.get(env::ANTHROPIC_API_KEY).is_some() {
            let client = ClientBuilder::from_lookup(|name| env.get(name))
                .connect_timeout(CONNECT_TIMEOUT)
                .build()
                .context("failed to configure the API client")?;
            tracing::debug!(base_url = client.base_url(), "using the API");
            return Ok(Self {
                key: client.base_url().to_owned(),
                client,
                platform: None,
            });
        }
        let dir = paths.platform_dir();
        let handle = Platform::builder()
            .data_dir(&dir)
            .start_ephemeral()
            .await
            .with_context(|| {
                format!(
                    "failed to start the embedded platform in `{}`",
                    dir.display()
                )
            })?;
        printer.note(format!(
            "using the embedded platform and its offline model (data in `{}`); set {} to use a real model",
            dir.display(),
            env::ANTHROPIC_API_KEY
        ));
        // The platform serves h2c: one connection carries every request and event stream.
        let client = Client::builder()
            .api_key(handle.api_key())
            .base_url(handle.base_url())
            .http_version(HttpVersion::Http2)
            .build()
            .context("failed to configure the client of the embedded platform")?;
        Ok(Self {
            client,
            key: EMBEDDED.to_owned(),
            platform: Some(handle),
        })
    }

    /// Whether this is the embedded platform.
    pub fn is_embedded(&self) -> bool {
        self.platform.is_some()
    }

    /// Stops the embedded platform, if any, letting open requests finish.
    pub async fn shutdown(self) {
        if let Some(platform) = self.platform {
            platform.shutdown().await;
        }
    }
}
