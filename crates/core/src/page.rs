//! Cursor pages as list endpoints return them.
//!
//! Lists end only on a `null` cursor: a page with empty `data` and a non-null `next_page` is not
//! the end (the SDKs keep requesting).

use serde::{Deserialize, Serialize};

/// A page of a cursor list (`PageCursor` in the SDK): every list except sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Cursor of the next page; `null` on the last page.
    pub next_page: Option<String>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            next_page: None,
        }
    }
}

/// A page of a list that can be walked both ways (`BidirectionalPageCursor`): `GET /v1/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidirectionalPage<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Cursor of the next page; `null` on the last page.
    pub next_page: Option<String>,
    /// Cursor of the previous page; `null` on the first page.
    pub prev_page: Option<String>,
}

impl<T> Default for BidirectionalPage<T> {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            next_page: None,
            prev_page: None,
        }
    }
}

/// Query parameters shared by every cursor list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageParams {
    /// Maximum items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `next_page` (or `prev_page`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}
