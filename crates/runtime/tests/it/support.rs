//! Local test servers on 127.0.0.1:0 and a client pointed at them.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use steward_runtime::{Client, ClientBuilder, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// A running axum server.
pub(crate) struct Server {
    pub(crate) url: String,
    pub(crate) requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    pub(crate) fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub(crate) fn request(&self, i: usize) -> Recorded {
        self.requests.lock().unwrap()[i].clone()
    }

    /// A client for this server with fast, jitter-free retries.
    pub(crate) fn client(&self) -> Client {
        self.builder().build().unwrap()
    }

    pub(crate) fn builder(&self) -> ClientBuilder {
        Client::builder()
            .api_key("sk-ant-test-key")
            .base_url(&self.url)
            .retry_policy(fast_retries())
    }
}

pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_delay(Duration::from_millis(10))
        .jitter(0.0)
}

/// Serves every request with `handler(request, index)`, recording each request first.
pub(crate) async fn serve<F, Fut>(handler: F) -> Server
where
    F: Fn(Recorded, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let log = requests.clone();
    let app = axum::Router::new().fallback(move |request: Request| {
        let handler = handler.clone();
        let log = log.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let recorded = Recorded {
                method: parts.method,
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().map(str::to_owned),
                headers: parts.headers,
                body,
            };
            let index = {
                let mut log = log.lock().unwrap();
                log.push(recorded.clone());
                log.len() - 1
            };
            handler(recorded, index).await
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        url: format!("http://{addr}"),
        requests,
    }
}

/// A JSON response with extra headers.
pub(crate) fn json(status: u16, body: &str, headers: &[(&str, &str)]) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

/// A raw TCP server: connection `i` gets `replies[i]` written back (then closed), or is closed
/// without a reply when it is `None` (or past the end).
pub(crate) struct RawServer {
    pub(crate) url: String,
    pub(crate) connections: Arc<AtomicUsize>,
}

pub(crate) async fn serve_raw(replies: Vec<Option<&'static str>>) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let i = count.fetch_add(1, Ordering::SeqCst);
            let reply = replies.get(i).copied().flatten();
            tokio::spawn(async move {
                read_request(&mut socket).await;
                if let Some(reply) = reply {
                    socket.write_all(reply.as_bytes()).await.unwrap();
                    socket.shutdown().await.ok();
                }
            });
        }
    });
    RawServer {
        url: format!("http://{addr}"),
        connections,
    }
}

/// Reads one request (headers and a `content-length` body).
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return;
            }
        }
    }
}

/// An address nothing listens on.
pub(crate) async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
