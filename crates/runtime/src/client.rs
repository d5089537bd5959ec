//! [`Client`] and its [`ClientBuilder`].

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{ACCEPT, HeaderName, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method};
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::{Layer, Service, ServiceExt};

use crate::env;
use crate::error::Error;
use crate::http::auth::Credential;
use crate::http::rate_limit::RateLimit;
use crate::http::retry::RetryPolicy;
use crate::http::stack::{self, LayerFn, StackConfig};
use crate::http::{ApiRequest, ApiResponse, HttpService, ReqwestService, RetrySafety};
use crate::pagination::ListStream;
use crate::request::RequestBuilder;

/// The `anthropic-version` header.
pub const ANTHROPIC_VERSION_HEADER: HeaderName = HeaderName::from_static("anthropic-version");

/// The `anthropic-beta` header.
pub const ANTHROPIC_BETA_HEADER: HeaderName = HeaderName::from_static("anthropic-beta");

/// The default deadline of one attempt (the SDK's 10 minutes).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(600);

/// A client of the Managed Agents API. Cheap to clone; clones share connections and limits.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// Without a trailing slash.
    base_url: String,
    /// Sent on every request: version, accept, user agent, extra headers.
    headers: HeaderMap,
    /// Caller betas, sent before each endpoint's own beta.
    betas: Vec<String>,
    service: HttpService,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("betas", &self.inner.betas)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client configured from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` (see [`mod@env`]).
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::from_lookup(|name| std::env::var(name).ok()).build()
    }

    /// A builder with defaults and nothing read from the environment.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Starts a request to `path` (which starts with `/v1/`).
    pub fn request(&self, method: Method, path: impl Into<String>) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, path.into())
    }

    /// `GET path`, decoding the JSON response.
    pub async fn get<T: DeserializeOwned>(&self, path: impl Into<String>) -> Result<T, Error> {
        self.request(Method::GET, path).send().await
    }

    /// `GET path?query`, decoding the JSON response.
    pub async fn get_with_query<Q, T>(&self, path: impl Into<String>, query: &Q) -> Result<T, Error>
    where
        Q: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.request(Method::GET, path).query(query).send().await
    }

    /// `POST path` with a JSON body, treated as [`RetrySafety::NotIdempotent`] (a create or a
    /// send). For updates, use [`Client::request`] with [`RetrySafety::Idempotent`].
    pub async fn post<B, T>(&self, path: impl Into<String>, body: &B) -> Result<T, Error>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.request(Method::POST, path).json(body).send().await
    }

    /// `POST path` with no body at all (archive, redact, ack, validate), treated as
    /// [`RetrySafety::Idempotent`]: each of these sets a state, so repeating it is harmless.
    pub async fn post_empty<T: DeserializeOwned>(
        &self,
        path: impl Into<String>,
    ) -> Result<T, Error> {
        self.request(Method::POST, path)
            .retry_safety(RetrySafety::Idempotent)
            .send()
            .await
    }

    /// `DELETE path`, decoding the JSON receipt.
    pub async fn delete<T: DeserializeOwned>(&self, path: impl Into<String>) -> Result<T, Error> {
        self.request(Method::DELETE, path).send().await
    }

    /// Every item of a cursor list (`Page<T>`), fetching pages as the stream is read.
    pub fn list<T, Q>(&self, path: impl Into<String>, query: &Q) -> ListStream<T>
    where
        T: DeserializeOwned + Send + 'static,
        Q: Serialize + ?Sized,
    {
        self.request(Method::GET, path).query(query).list()
    }

    /// Sends a prepared request through the stack.
    pub(crate) async fn execute(
        &self,
        mut request: ApiRequest,
        beta: &str,
    ) -> Result<ApiResponse, Error> {
        let mut headers = self.inner.headers.clone();
        let mut betas: Vec<&str> = self.inner.betas.iter().map(String::as_str).collect();
        if !beta.is_empty() && !betas.contains(&beta) {
            betas.push(beta);
        }
        if !betas.is_empty() {
            let value =
                HeaderValue::from_str(&betas.join(",")).map_err(|e| Error::Build(Box::new(e)))?;
            headers.insert(ANTHROPIC_BETA_HEADER, value);
        }
        // Per-request headers replace client-wide ones of the same name.
        headers.extend(std::mem::take(&mut request.headers));
        request.headers = headers;
        self.inner.service.clone().oneshot(request).await
    }

    pub(crate) fn url(&self, path: &str, query: &str) -> Result<reqwest::Url, Error> {
        let slash = if path.starts_with('/') { "" } else { "/" };
        let mut url = reqwest::Url::parse(&format!("{}{slash}{path}", self.inner.base_url))
            .map_err(|e| Error::Build(Box::new(e)))?;
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        Ok(url)
    }
}

/// Configures a [`Client`]. Every setter takes and returns the builder by value.
pub struct ClientBuilder {
    credential: Option<Credential>,
    base_url: Option<String>,
    attempt_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    retry: RetryPolicy,
    concurrency_limit: Option<usize>,
    rate_limit: Option<RateLimit>,
    headers: HeaderMap,
    betas: Vec<String>,
    layers: Vec<LayerFn>,
    http_client: Option<reqwest::Client>,
    http_version: HttpVersion,
    transport: Option<HttpService>,
    errors: Vec<String>,
}

/// Which HTTP version the built-in `reqwest` client speaks ([`ClientBuilder::http_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.1 only, as the official SDKs speak it: one connection per open event stream,
    /// pooled connections for the rest. Works with any server, whatever its HTTP/2 limits.
    #[default]
    Http1,
    /// HTTP/2 only, without negotiation: h2c (prior knowledge) on `http://`, h2 on `https://`.
    /// Every request and event stream to one host shares one connection, which is what lets one
    /// process hold thousands of idle sessions cheaply against `steward-platform` (which serves
    /// h2c with a limit of 16,384 concurrent streams). Against a server with a lower limit on
    /// concurrent streams, requests past it wait for a stream to end, and event streams do not
    /// end: keep the number of open sessions under the server's limit.
    Http2,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credential: None,
            base_url: None,
            attempt_timeout: Some(DEFAULT_ATTEMPT_TIMEOUT),
            total_timeout: None,
            connect_timeout: None,
            retry: RetryPolicy::default(),
            concurrency_limit: None,
            rate_limit: None,
            headers: HeaderMap::new(),
            betas: Vec::new(),
            layers: Vec::new(),
            http_client: None,
            http_version: HttpVersion::default(),
            transport: None,
            errors: Vec::new(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credential", &self.credential)
            .field("base_url", &self.base_url)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("retry", &self.retry)
            .field("concurrency_limit", &self.concurrency_limit)
            .field("rate_limit", &self.rate_limit)
            .field("headers", &self.headers)
            .field("betas", &self.betas)
            .field("layers", &self.layers.len())
            .field("http_version", &self.http_version)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder filled from a variable lookup (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`;
    /// empty values count as unset). [`Client::from_env`] passes `std::env::var`; tests pass a
    /// closure instead of touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut builder = Self::default();
        if let Some(key) = read(env::ANTHROPIC_API_KEY) {
            builder = builder.api_key(key);
        }
        if let Some(url) = read(env::ANTHROPIC_BASE_URL) {
            builder = builder.base_url(url);
        }
        builder
    }

    /// The API key, sent as `x-api-key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credential = Some(Credential::ApiKey(SecretString::from(key.into())));
        self
    }

    /// A bearer token instead of an API key, sent as `Authorization: Bearer` (self-hosted
    /// environment keys and per-work session tokens).
    pub fn auth_token(mut self, token: impl Into<String>) -> Self {
        self.credential = Some(Credential::Bearer(SecretString::from(token.into())));
        self
    }

    /// The base URL (default `https://api.anthropic.com`); a path prefix is kept.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The deadline of one attempt, until the response headers (and a JSON body) arrived.
    /// Default 10 minutes.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Sets or removes the per-attempt deadline.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The deadline of a whole call, all attempts and the waits between them. Default none.
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = Some(timeout);
        self
    }

    /// The deadline for opening a connection (a failure counts as a connect error, so any
    /// request is retried). Default none.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt (default 2); shorthand for a [`RetryPolicy`] change.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.retry = self.retry.max_retries(n);
        self
    }

    /// The whole retry policy (count, delays, classifier).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// At most `n` attempts in flight at once across clones of this client. The permit is held
    /// until the response headers arrived, not while a stream is read. Default unlimited.
    pub fn concurrency_limit(mut self, n: usize) -> Self {
        self.concurrency_limit = Some(n);
        self
    }

    /// Keeps every clone of this client within requests-per-minute budgets for reads, creates
    /// and other writes (token buckets; a waiting attempt also waits a random share of one
    /// token's interval, so a fleet of reconnecting streams is spread out). Each attempt takes
    /// a token, retries included. Default: no limit. See [`crate::http::rate_limit`].
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// A header sent on every request (such as `anthropic-workspace-id`). An invalid name or
    /// value makes [`ClientBuilder::build`] fail.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(value)) => {
                self.headers.insert(name, value);
            }
            _ => self.errors.push("invalid extra header".to_owned()),
        }
        self
    }

    /// An extra beta sent on every request, before the endpoint's own beta.
    pub fn beta(mut self, beta: impl Into<String>) -> Self {
        self.betas.push(beta.into());
        self
    }

    /// Adds a `tower` layer around each attempt, outside the auth layer (so it never sees the
    /// key) and inside retries and the attempt timeout. The first layer added is the outermost.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<HttpService> + Send + Sync + 'static,
        L::Service: Service<ApiRequest, Response = ApiResponse, Error = Error>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<ApiRequest>>::Future: Send + 'static,
    {
        self.layers
            .push(Arc::new(move |inner| HttpService::new(layer.layer(inner))));
        self
    }

    /// The HTTP version of the built-in client (default [`HttpVersion::Http1`]). Ignored when
    /// [`http_client`](Self::http_client) or [`transport`](Self::transport) is given.
    pub fn http_version(mut self, version: HttpVersion) -> Self {
        self.http_version = version;
        self
    }

    /// The `reqwest` client to send with (proxies, TLS roots, pools).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Replaces the transport (for an in-process server or a test double). The auth layer still
    /// runs before it.
    pub fn transport<S>(mut self, transport: S) -> Self
    where
        S: Service<ApiRequest, Response = ApiResponse, Error = Error>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.transport = Some(HttpService::new(transport));
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(error) = self.errors.into_iter().next() {
            return Err(Error::Config(error));
        }
        let credential = self.credential.ok_or_else(|| {
            Error::Config(format!(
                "no API key: set {} or call ClientBuilder::api_key",
                env::ANTHROPIC_API_KEY
            ))
        })?;
        let base_url = self
            .base_url
            .unwrap_or_else(|| env::DEFAULT_BASE_URL.to_owned());
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|e| Error::Config(format!("invalid base URL `{base_url}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "invalid base URL `{base_url}`: not http or https"
            )));
        }
        let transport = match self.transport {
            Some(transport) => transport,
            None => {
                let client = match self.http_client {
                    Some(client) => client,
                    None => {
                        let mut builder = match self.http_version {
                            HttpVersion::Http1 => reqwest::Client::builder().http1_only(),
                            HttpVersion::Http2 => {
                                reqwest::Client::builder().http2_prior_knowledge()
                            }
                        };
                        if let Some(timeout) = self.connect_timeout {
                            builder = builder.connect_timeout(timeout);
                        }
                        builder.build().map_err(|e| Error::Config(e.to_string()))?
                    }
                };
                HttpService::new(ReqwestService::new(client))
            }
        };
        let service = stack::build(StackConfig {
            transport,
            credential,
            attempt_timeout: self.attempt_timeout,
            total_timeout: self.total_timeout,
            retry: self.retry,
            concurrency_limit: self.concurrency_limit,
            rate_limit: self.rate_limit,
            layers: self.layers,
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(
            ANTHROPIC_VERSION_HEADER,
            HeaderValue::from_static(steward_core::ANTHROPIC_VERSION),
        );
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("steward/", env!("CARGO_PKG_VERSION"))),
        );
        for (name, value) in self.headers.iter() {
            headers.insert(name.clone(), value.clone());
        }
        Ok(Client {
            inner: Arc::new(Inner {
                base_url: base_url.trim_end_matches('/').to_owned(),
                headers,
                betas: self.betas,
                service,
            }),
        })
    }
}

/// A route template for logs: the given one, else the path.
pub(crate) fn route_or_path(route: Option<Cow<'static, str>>, path: &str) -> Cow<'static, str> {
    route.unwrap_or_else(|| Cow::Owned(path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_lookup_reads_both_variables_and_ignores_empty_ones() {
        let client = ClientBuilder::from_lookup(|name| match name {
            "ANTHROPIC_API_KEY" => Some("sk-test-secret".into()),
            "ANTHROPIC_BASE_URL" => Some("http://localhost:1234/prefix/".into()),
            _ => None,
        })
        .build()
        .unwrap();
        assert_eq!(client.base_url(), "http://localhost:1234/prefix");
        assert!(!format!("{client:?}").contains("sk-test-secret"));

        let client = ClientBuilder::from_lookup(|name| {
            (name == "ANTHROPIC_API_KEY").then(|| "k".to_owned())
        })
        .base_url("")
        .build();
        assert!(
            matches!(client, Err(Error::Config(_))),
            "empty explicit base URL is invalid"
        );

        let client = ClientBuilder::from_lookup(|name| {
            Some(
                if name == "ANTHROPIC_API_KEY" {
                    "k"
                } else {
                    " "
                }
                .to_owned(),
            )
        })
        .build()
        .unwrap();
        assert_eq!(client.base_url(), env::DEFAULT_BASE_URL);

        let missing = ClientBuilder::from_lookup(|_| None).build().unwrap_err();
        assert!(
            missing.to_string().contains("ANTHROPIC_API_KEY"),
            "{missing}"
        );
    }

    #[test]
    fn builder_debug_hides_the_key_and_rejects_bad_config() {
        let builder = Client::builder().api_key("sk-very-secret");
        assert!(!format!("{builder:?}").contains("very-secret"));
        let bad = Client::builder().api_key("k").base_url("ftp://x").build();
        assert!(matches!(bad, Err(Error::Config(_))));
        let bad = Client::builder()
            .api_key("k")
            .header("bad header", "v")
            .build();
        assert!(matches!(bad, Err(Error::Config(_))));
    }

    #[test]
    fn urls_keep_the_prefix_and_take_the_encoded_query() {
        let client = Client::builder()
            .api_key("k")
            .base_url("http://h/p/")
            .build()
            .unwrap();
        assert_eq!(
            client.url("/v1/agents", "a%5B%5D=1").unwrap().as_str(),
            "http://h/p/v1/agents?a%5B%5D=1"
        );
        assert_eq!(client.url("v1/x", "").unwrap().as_str(), "http://h/p/v1/x");
    }
}
