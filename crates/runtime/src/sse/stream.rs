//! [`SseStream`]: the parser driven by a stream of byte chunks.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::Stream;
use pin_project_lite::pin_project;

use super::parser::{SseMessage, SseParser};

pin_project! {
    /// A `Stream` of [`SseMessage`]s parsed from a `Stream` of byte chunks.
    ///
    /// Errors of the byte stream are passed through and end the stream. A message left
    /// unfinished when the byte stream ends is discarded; [`SseStream::ended_mid_message`] tells
    /// whether that happened.
    pub struct SseStream<S> {
        #[pin]
        inner: S,
        parser: SseParser,
        pending: VecDeque<SseMessage>,
        done: bool,
        truncated: bool,
    }
}

impl<S> SseStream<S> {
    /// Wraps a byte stream.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            parser: SseParser::new(),
            pending: VecDeque::new(),
            done: false,
            truncated: false,
        }
    }

    /// Whether the byte stream ended in the middle of a message (known once this stream has
    /// returned `None`).
    pub fn ended_mid_message(&self) -> bool {
        self.truncated
    }

    /// The parser, for its last event ID and retry value.
    pub fn parser(&self) -> &SseParser {
        &self.parser
    }
}

impl<S, B, E> Stream for SseStream<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    type Item = Result<SseMessage, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(message) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(message)));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => this.parser.feed(chunk.as_ref(), this.pending),
                Some(Err(error)) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    *this.done = true;
                    *this.truncated = this.parser.finish();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt, stream};

    #[tokio::test]
    async fn parses_chunks_and_reports_truncation() {
        let chunks: Vec<Result<&[u8], ()>> =
            vec![Ok(b"event: a\nda"), Ok(b"ta: 1\n"), Ok(b"\nevent: b\n")];
        let mut sse = SseStream::new(stream::iter(chunks));
        let first = sse.next().await.unwrap().unwrap();
        assert_eq!(first.event.as_deref(), Some("a"));
        assert_eq!(first.data, "1");
        assert!(sse.next().await.is_none());
        assert!(sse.ended_mid_message());
    }

    #[tokio::test]
    async fn passes_errors_through_and_stops() {
        let chunks: Vec<Result<&[u8], &str>> =
            vec![Ok(b"data: 1\n\n"), Err("reset"), Ok(b"data: 2\n\n")];
        let got: Vec<_> = SseStream::new(stream::iter(chunks)).collect().await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], Err("reset"));
    }
}
