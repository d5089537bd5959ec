//! [`RequestBuilder`]: the one general way to make a call; the `Client` shorthands and every
//! resource go through it.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName};
use http::{HeaderMap, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Client, route_or_path};
use crate::error::{ApiErrorInfo, Error};
use crate::http::{ApiRequest, ApiResponse, ResponseMode, RetrySafety};
use crate::pagination::{self, CursorPage, ListStream};
use crate::query;
use crate::sse::EventStream;

/// A request being prepared. The first error (a body or query that does not serialize, a bad
/// header) is kept and returned when the request is sent, so setters chain without `?`.
pub struct RequestBuilder {
    client: Client,
    parts: Result<RequestParts, Error>,
}

/// What a request is made of before it is sent; cloned for each page of a list.
#[derive(Debug, Clone)]
pub(crate) struct RequestParts {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) route: Option<Cow<'static, str>>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) beta: Cow<'static, str>,
    pub(crate) retry_safety: RetrySafety,
    pub(crate) response_mode: ResponseMode,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, path: String) -> Self {
        // POST defaults to not idempotent (creates, sends); every other verb the API uses
        // (GET, DELETE) is idempotent.
        let retry_safety = if method == Method::POST {
            RetrySafety::NotIdempotent
        } else {
            RetrySafety::Idempotent
        };
        Self {
            client,
            parts: Ok(RequestParts {
                method,
                path,
                route: None,
                query: Vec::new(),
                headers: HeaderMap::new(),
                body: None,
                beta: Cow::Borrowed(steward_core::MANAGED_AGENTS_BETA),
                retry_safety,
                response_mode: ResponseMode::Buffered,
            }),
        }
    }

    fn map(mut self, f: impl FnOnce(&mut RequestParts) -> Result<(), Error>) -> Self {
        if let Ok(parts) = &mut self.parts {
            if let Err(error) = f(parts) {
                self.parts = Err(error);
            }
        }
        self
    }

    /// Adds query parameters, encoded as the SDK does (see [`crate::query`]).
    pub fn query<Q: Serialize + ?Sized>(self, query: &Q) -> Self {
        self.map(|parts| {
            parts.query.extend(query::to_pairs(query)?);
            Ok(())
        })
    }

    /// Sets a JSON body (and `content-type: application/json`).
    pub fn json<B: Serialize + ?Sized>(self, body: &B) -> Self {
        self.map(|parts| {
            let bytes = serde_json::to_vec(body).map_err(|e| Error::Build(Box::new(e)))?;
            parts.body = Some(Bytes::from(bytes));
            parts
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(())
        })
    }

    /// Sets a header on this request (replacing a client-wide one of the same name).
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: std::error::Error + Send + Sync + 'static,
        V: TryInto<HeaderValue>,
        V::Error: std::error::Error + Send + Sync + 'static,
    {
        self.map(|parts| {
            let name = name.try_into().map_err(|e| Error::Build(Box::new(e)))?;
            let value = value.try_into().map_err(|e| Error::Build(Box::new(e)))?;
            parts.headers.insert(name, value);
            Ok(())
        })
    }

    /// The endpoint's beta, sent after the client's own betas (default
    /// [`steward_core::MANAGED_AGENTS_BETA`]; memory endpoints use
    /// [`steward_core::AGENT_MEMORY_BETA`]).
    pub fn beta(self, beta: impl Into<Cow<'static, str>>) -> Self {
        let beta = beta.into();
        self.map(|parts| {
            parts.beta = beta;
            Ok(())
        })
    }

    /// The route template for the tracing span (default: the path).
    pub fn route(self, route: impl Into<Cow<'static, str>>) -> Self {
        let route = route.into();
        self.map(|parts| {
            parts.route = Some(route);
            Ok(())
        })
    }

    /// Whether repeating the request could duplicate its effect (default: POST is not
    /// idempotent, other methods are).
    pub fn retry_safety(self, safety: RetrySafety) -> Self {
        self.map(|parts| {
            parts.retry_safety = safety;
            Ok(())
        })
    }

    /// Sends the request and decodes the JSON response (an empty body reads as `null`).
    pub async fn send<T: DeserializeOwned>(self) -> Result<T, Error> {
        send_json(&self.client, self.parts?).await
    }

    /// Sends the request and returns the response, turning a non-2xx status into
    /// [`Error::Api`].
    pub async fn send_raw(self) -> Result<ApiResponse, Error> {
        send_checked(&self.client, self.parts?).await
    }

    /// Sends the request and reads the response as a stream of server-sent events.
    pub async fn stream<T: DeserializeOwned>(self) -> Result<EventStream<T>, Error> {
        let mut parts = self.parts?;
        parts.response_mode = ResponseMode::Streaming;
        let response = send_checked(&self.client, parts).await?;
        Ok(EventStream::from_bytes(response.into_stream()))
    }

    /// Walks a `Page<T>` list, yielding every item (see [`crate::pagination`]).
    pub fn list<T: DeserializeOwned + Send + 'static>(self) -> ListStream<T> {
        self.pages::<steward_core::Page<T>>().items()
    }

    /// Walks a `BidirectionalPage<T>` list forward, yielding every item.
    pub fn list_bidirectional<T: DeserializeOwned + Send + 'static>(self) -> ListStream<T> {
        self.pages::<steward_core::BidirectionalPage<T>>().items()
    }

    /// Walks a list page by page.
    pub fn pages<P: CursorPage>(self) -> pagination::Pages<P> {
        pagination::Pages::new(self.client, self.parts)
    }
}

/// Sends `parts` and decodes the JSON response.
pub(crate) async fn send_json<T: DeserializeOwned>(
    client: &Client,
    parts: RequestParts,
) -> Result<T, Error> {
    let what = format!(
        "response of {} {}",
        parts.method,
        route_or_path(parts.route.clone(), &parts.path)
    );
    let body = send_checked(client, parts).await?.bytes().await?;
    let json: &[u8] = if body.is_empty() { b"null" } else { &body };
    serde_json::from_slice(json).map_err(|e| Error::decode(what, e))
}

/// Sends `parts` and checks the status.
pub(crate) async fn send_checked(
    client: &Client,
    parts: RequestParts,
) -> Result<ApiResponse, Error> {
    let url = client.url(&parts.path, &query::encode_pairs(&parts.query))?;
    let mut request = ApiRequest::new(parts.method, url);
    request.route = route_or_path(parts.route, &parts.path);
    request.headers = parts.headers;
    request.body = parts.body;
    request.retry_safety = parts.retry_safety;
    request.response_mode = parts.response_mode;
    let response = client.execute(request, &parts.beta).await?;
    if response.status.is_success() {
        return Ok(response);
    }
    let status = response.status;
    let headers = response.headers.clone();
    let body = response.bytes().await?;
    Err(Error::Api(Box::new(ApiErrorInfo::from_response(
        status, &headers, &body,
    ))))
}
