//! Server-sent events: a sans-IO parser, a stream adapter over any byte stream, and the typed
//! event layer that applies the SDK's rules on top.
//!
//! Layering (each usable alone):
//! 1. [`SseParser`]: bytes in, [`SseMessage`]s out, no I/O (WHATWG rules).
//! 2. [`SseStream`]: wraps a `Stream` of byte chunks (such as `reqwest::Response::bytes_stream`)
//!    into a `Stream` of messages.
//! 3. [`EventStream`]: the SDK's event rules (drop messages without `event:` and `event: ping`,
//!    turn `event: error` into [`Error::Api`](crate::Error::Api), decode the rest as JSON into
//!    `T`), plus an optional idle timeout between messages.
//!
//! Retrying or resuming after a stream has started is a session-level decision, not this
//! module's: a stream ends after its first error.

mod event;
mod parser;
mod stream;

pub use event::EventStream;
pub use parser::{SseMessage, SseParser};
pub use stream::SseStream;
