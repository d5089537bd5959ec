//! Built-in host tools.
//!
//! * [`Clock`] (`clock`): the current time in UTC and in an IANA time zone. It needs no
//!   configuration and reads nothing secret, so it is registered through inventory: every host
//!   that links `steward-tools` offers it (remove it with [`Registry::remove`] if unwanted).
//! * [`HttpRequest`] (`http_request`): an HTTP request to a host-allow-listed host, with a
//!   secret header added from the host's environment. It is **not** registered through
//!   inventory: which hosts are allowed and which secret goes to which host is the host's
//!   decision, so a host opts in with [`HttpRequest::new`] and [`Registry::with`].
//!
//! [`Registry::remove`]: crate::Registry::remove
//! [`Registry::with`]: crate::Registry::with

mod clock;
mod http_request;

pub use clock::{Clock, ClockInput};
pub use http_request::{HttpRequest, HttpRequestConfig, HttpRequestInput, SecretHeaderRule};
