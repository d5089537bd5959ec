//! The accept loop: HTTP/1.1 and h2c on one port.
//!
//! Each accepted connection gets `TCP_NODELAY` (without it a small response on a reused
//! keep-alive connection waits for the client's delayed ACK, 40 ms on Linux) and is served by
//! hyper's auto builder, which reads the first bytes to tell HTTP/1.1 from an HTTP/2 client
//! that speaks it with prior knowledge (h2c). The official SDKs use HTTP/1.1; a runner that
//! holds thousands of event streams can multiplex them all on one h2c connection instead of
//! one connection each.
//!
//! HTTP/2's limit on concurrent streams per connection is ours to set
//! ([`DEFAULT_HTTP2_MAX_STREAMS`]): hyper's default of 200 would make a client holding more
//! event streams than that queue its next requests (tool results included) behind streams that
//! never end. `axum::serve` cannot change it, hence this loop.
//!
//! Shutdown stops accepting, asks every connection to finish gracefully (HTTP/2 `GOAWAY`;
//! HTTP/1.1 closes after the request in flight) and waits for them.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Default limit on concurrent HTTP/2 streams per connection: room for a runner holding ten
/// thousand event streams on one connection, with its requests beside them.
pub const DEFAULT_HTTP2_MAX_STREAMS: u32 = 16_384;

/// How long the loop waits after an accept error (out of descriptors, say) before it tries again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` until `shutdown` is cancelled, then waits for open
/// connections to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    http2_max_streams: u32,
    shutdown: CancellationToken,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(http2_max_streams)
        // Keep-alive pings find a half-open client without touching healthy ones.
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    builder.http1().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::trace!(error = %e, "could not set TCP_NODELAY on a connection");
        }
        let service = TowerToHyperService::new(router.clone());
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(tcp), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::trace!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
