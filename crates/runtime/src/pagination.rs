//! Walking cursor lists as `Stream`s.
//!
//! A list is walked the way the official SDK walks it: the first request carries the caller's
//! query; each next request re-sends that query with `page=<next_page>` (replacing any `page`
//! the caller gave); the walk ends only when `next_page` is `null` (or empty), **even if a page
//! has no items**. [`PrevPages`] walks a bidirectional list the other way, by `prev_page`. Pages are fetched lazily as the stream is read, one at a time; an error ends
//! the stream. Each page request goes through the whole stack, so it is retried on its own.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use steward_core::{BidirectionalPage, Page};

use crate::client::Client;
use crate::error::Error;
use crate::query;
use crate::request::{RequestParts, send_json};

/// A stream of list items.
pub type ListStream<T> = BoxStream<'static, Result<T, Error>>;

/// A page shape with a forward cursor.
pub trait CursorPage: DeserializeOwned + Send + 'static {
    /// The item type.
    type Item: Send + 'static;

    /// The cursor of the next page; `None` (or empty) ends the list.
    fn next_cursor(&self) -> Option<&str>;

    /// The page's items.
    fn into_items(self) -> Vec<Self::Item>;
}

impl<T: DeserializeOwned + Send + 'static> CursorPage for Page<T> {
    type Item = T;

    fn next_cursor(&self) -> Option<&str> {
        self.next_page.as_deref()
    }

    fn into_items(self) -> Vec<T> {
        self.data
    }
}

impl<T: DeserializeOwned + Send + 'static> CursorPage for BidirectionalPage<T> {
    type Item = T;

    fn next_cursor(&self) -> Option<&str> {
        self.next_page.as_deref()
    }

    fn into_items(self) -> Vec<T> {
        self.data
    }
}

/// A [`BidirectionalPage`] walked backward: its cursor is `prev_page`.
///
/// `Pages::<PrevPages<T>>` starts from the caller's query (whose `page` should be a
/// `prev_page` cursor) and follows `prev_page` until it is `null` or empty.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(transparent)]
pub struct PrevPages<T>(pub BidirectionalPage<T>);

impl<T: DeserializeOwned + Send + 'static> CursorPage for PrevPages<T> {
    type Item = T;

    fn next_cursor(&self) -> Option<&str> {
        self.0.prev_page.as_deref()
    }

    fn into_items(self) -> Vec<T> {
        self.0.data
    }
}

/// A stream of whole pages; [`Pages::items`] flattens it.
pub struct Pages<P> {
    inner: BoxStream<'static, Result<P, Error>>,
}

impl<P> std::fmt::Debug for Pages<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

enum State {
    Start(Result<RequestParts, Error>),
    Next(RequestParts, String),
    Done,
}

impl<P: CursorPage> Pages<P> {
    pub(crate) fn new(client: Client, parts: Result<RequestParts, Error>) -> Self {
        let inner = stream::unfold(State::Start(parts), move |state| {
            let client = client.clone();
            async move {
                let (parts, cursor) = match state {
                    State::Start(Ok(parts)) => (parts, None),
                    State::Start(Err(error)) => return Some((Err(error), State::Done)),
                    State::Next(parts, cursor) => (parts, Some(cursor)),
                    State::Done => return None,
                };
                let mut request = parts.clone();
                if let Some(cursor) = &cursor {
                    query::set_pair(&mut request.query, "page", cursor);
                }
                match send_json::<P>(&client, request).await {
                    Ok(page) => {
                        let next = match page.next_cursor() {
                            Some(cursor) if !cursor.is_empty() => {
                                State::Next(parts, cursor.to_owned())
                            }
                            _ => State::Done,
                        };
                        Some((Ok(page), next))
                    }
                    Err(error) => Some((Err(error), State::Done)),
                }
            }
        });
        Self {
            inner: inner.boxed(),
        }
    }

    /// Every item of every page.
    pub fn items(self) -> ListStream<P::Item> {
        self.inner
            .map_ok(|page| stream::iter(page.into_items().into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}

impl<P> Stream for Pages<P> {
    type Item = Result<P, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
