//! [`AuthLayer`].

use http::HeaderValue;
use http::header::HeaderName;
use tower::Layer;

use super::{Auth, Credential};
use crate::error::Error;

/// Applies [`Auth`] to a service.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    name: HeaderName,
    value: HeaderValue,
}

impl AuthLayer {
    /// Sends `credential` on every request.
    pub fn new(credential: &Credential) -> Result<Self, Error> {
        let (name, value) = credential.header()?;
        Ok(Self { name, value })
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth::new(inner, self.name.clone(), self.value.clone())
    }
}
