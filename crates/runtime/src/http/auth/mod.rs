//! Adds the credential header, innermost in the stack, just before the transport.
//!
//! The value is a [`HeaderValue`] marked sensitive, so `Debug` of a request or of this layer
//! shows `Sensitive`, and user layers (which sit outside) never see the key at all.

mod layer;

use std::task::{Context, Poll};

use http::HeaderValue;
use http::header::{AUTHORIZATION, HeaderName};
use secrecy::{ExposeSecret, SecretString};
use tower::Service;

use super::ApiRequest;
use crate::error::Error;

pub use layer::AuthLayer;

/// The `x-api-key` header.
pub const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// How the client proves who it is.
#[derive(Clone)]
pub enum Credential {
    /// An API key, sent as `x-api-key: <key>`.
    ApiKey(SecretString),
    /// A bearer token (such as a per-work `sk-ant-req-…` session token), sent as
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiKey(_) => f.write_str("ApiKey([redacted])"),
            Self::Bearer(_) => f.write_str("Bearer([redacted])"),
        }
    }
}

impl Credential {
    /// The header to send, marked sensitive; an error if the secret is not a valid header value
    /// (the message does not include it).
    pub fn header(&self) -> Result<(HeaderName, HeaderValue), Error> {
        let (name, value) = match self {
            Self::ApiKey(key) => (X_API_KEY, HeaderValue::from_str(key.expose_secret())),
            Self::Bearer(token) => (
                AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())),
            ),
        };
        let mut value = value.map_err(|_| {
            Error::Config("the credential contains characters not allowed in a header".into())
        })?;
        value.set_sensitive(true);
        Ok((name, value))
    }
}

/// Sets the credential header on every request.
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    name: HeaderName,
    value: HeaderValue,
}

impl<S> Auth<S> {
    /// Wraps `inner`, sending `name: value` (the value should be marked sensitive).
    pub fn new(inner: S, name: HeaderName, value: HeaderValue) -> Self {
        Self { inner, name, value }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> Service<ApiRequest> for Auth<S>
where
    S: Service<ApiRequest, Error = Error>,
{
    type Response = S::Response;
    type Error = Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: ApiRequest) -> Self::Future {
        request
            .headers
            .insert(self.name.clone(), self.value.clone());
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let key = Credential::ApiKey(SecretString::from("sk-ant-secret-123"));
        assert!(!format!("{key:?}").contains("secret-123"));
        let (name, value) = key.header().unwrap();
        assert_eq!(name, "x-api-key");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("secret-123"));
        let bearer = Credential::Bearer(SecretString::from("tok-456"));
        let (name, value) = bearer.header().unwrap();
        assert_eq!(name, AUTHORIZATION);
        assert_eq!(value.to_str().unwrap(), "Bearer tok-456");
        let bad = Credential::ApiKey(SecretString::from("line\nbreak-789"));
        let error = bad.header().unwrap_err();
        assert!(!format!("{error:?} {error}").contains("789"));
    }
}
