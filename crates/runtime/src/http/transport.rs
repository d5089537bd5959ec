//! The innermost service: sends an [`ApiRequest`] with `reqwest`.

use std::task::{Context, Poll};

use futures::StreamExt;
use futures::future::BoxFuture;
use http::Method;
use http::header::CONTENT_LENGTH;
use tower::Service;

use super::{ApiRequest, ApiResponse, ResponseBody, ResponseMode};
use crate::error::Error;

/// Sends requests with a [`reqwest::Client`].
///
/// Failures map to [`Error::Connect`] when no connection was made (nothing sent) and to
/// [`Error::Transport`] otherwise. Buffered bodies and every non-2xx body are read inside the
/// call; a 2xx body in [`ResponseMode::Streaming`] is handed back as a stream.
#[derive(Debug, Clone, Default)]
pub struct ReqwestService {
    client: reqwest::Client,
}

impl ReqwestService {
    /// Wraps a client.
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// The client.
    pub fn get_ref(&self) -> &reqwest::Client {
        &self.client
    }

    /// The client, mutably.
    pub fn get_mut(&mut self) -> &mut reqwest::Client {
        &mut self.client
    }

    /// Unwraps the client.
    pub fn into_inner(self) -> reqwest::Client {
        self.client
    }
}

impl Service<ApiRequest> for ReqwestService {
    type Response = ApiResponse;
    type Error = Error;
    type Future = BoxFuture<'static, Result<ApiResponse, Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ApiRequest) -> Self::Future {
        Box::pin(send(self.client.clone(), request))
    }
}

async fn send(client: reqwest::Client, request: ApiRequest) -> Result<ApiResponse, Error> {
    let is_post = request.method == Method::POST;
    let mut builder = client
        .request(request.method, request.url)
        .headers(request.headers);
    match request.body {
        Some(body) => builder = builder.body(body),
        // "No body at all", but still `content-length: 0`, as fetch sends it: some proxies
        // answer a bodiless POST without a length with 411.
        None if is_post => builder = builder.header(CONTENT_LENGTH, "0"),
        None => {}
    }
    let response = builder.send().await.map_err(from_reqwest)?;
    let status = response.status();
    let headers = response.headers().clone();
    if request.response_mode == ResponseMode::Buffered || !status.is_success() {
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::Transport(Box::new(e)))?;
        return Ok(ApiResponse::new(status, headers, body));
    }
    let stream = response
        .bytes_stream()
        .map(|chunk| chunk.map_err(|e| Error::Transport(Box::new(e))));
    Ok(ApiResponse {
        status,
        headers,
        body: ResponseBody::Stream(Box::pin(stream)),
    })
}

fn from_reqwest(error: reqwest::Error) -> Error {
    if error.is_connect() {
        Error::Connect(Box::new(error))
    } else if error.is_builder() {
        Error::Build(Box::new(error))
    } else {
        Error::Transport(Box::new(error))
    }
}
