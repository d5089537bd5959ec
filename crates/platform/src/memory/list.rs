//! List Memories: memories in path order below a prefix, with `depth` rollups.
//!
//! The walk reads the `(store_id, path)` index from a position and steps one row at a time.
//! A memory within `depth` segments of the prefix is an item; the first memory deeper than that
//! becomes a `memory_prefix` item for its directory, and the walk seeks past the whole directory
//! (every path starting with `dir/` sorts before `dir0`, as `0` follows `/`). A page thus costs
//! at most `limit + 1` row reads plus one index seek per rolled-up directory, wherever it
//! starts: no OFFSET.
//!
//! The cursor is the position after the page's last item: after a memory's path (exclusive), or
//! at the end of a rolled-up directory (inclusive). It is URL-safe base64 of a small JSON object.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use steward_core::memory::{MemoryListItem, MemoryPrefix, MemoryPrefixType};
use steward_core::{MemoryStoreId, Page};

use super::store::{MEMORY_COLUMNS, MemoryRow};
use crate::error::{Error, Result};

/// A position in the path order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Cursor {
    /// A path (or the end of a directory).
    #[serde(rename = "k")]
    key: String,
    /// Whether a memory at exactly `key` comes after the position.
    #[serde(rename = "i", default, skip_serializing_if = "std::ops::Not::not")]
    inclusive: bool,
}

impl Cursor {
    fn encode(&self) -> Result<String> {
        Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(self)?))
    }

    /// Decodes a `page` value.
    pub(super) fn decode(text: &str) -> Result<Self> {
        let invalid = || Error::invalid_request("`page`: invalid page cursor");
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

/// What to list.
#[derive(Debug, Clone)]
pub(super) struct ListRequest {
    /// The store.
    pub(super) store_id: MemoryStoreId,
    /// A valid prefix ending with `/` (`/` for the whole store).
    pub(super) prefix: String,
    /// `0` for every memory below the prefix, else the most segments below it.
    pub(super) depth: u32,
    /// Whether memories carry their content.
    pub(super) full: bool,
    /// Page size.
    pub(super) limit: u32,
    /// Where the page starts.
    pub(super) cursor: Option<Cursor>,
}

/// The byte index of the `n`-th `/` in `rel` (counting from 1), if it has that many.
fn nth_slash(rel: &str, n: u32) -> Option<usize> {
    rel.match_indices('/')
        .nth(usize::try_from(n).ok()?.checked_sub(1)?)
        .map(|(index, _)| index)
}

/// One page of List Memories.
pub(super) fn page(conn: &Connection, request: &ListRequest) -> Result<Page<MemoryListItem>> {
    let prefix = request.prefix.as_str();
    // Everything below `prefix` sorts in `[prefix, upper)`: `prefix` ends with `/`.
    let upper = format!("{}0", &prefix[..prefix.len() - 1]);
    let start = Cursor {
        key: prefix.to_owned(),
        inclusive: true,
    };
    let mut position = match &request.cursor {
        Some(cursor) if cursor.key.as_str() >= prefix => cursor.clone(),
        _ => start,
    };
    let content = if request.full { "v.content" } else { "NULL" };
    let join = if request.full {
        " LEFT JOIN memory_versions v ON v.id = m.version_id"
    } else {
        ""
    };
    let want = request.limit as usize + 1;
    let mut items: Vec<(MemoryListItem, Cursor)> = Vec::with_capacity(want);
    while items.len() < want {
        let op = if position.inclusive { ">=" } else { ">" };
        let sql = format!(
            "SELECT {MEMORY_COLUMNS}, {content} FROM memories m{join}
             WHERE m.store_id = ?1 AND m.path {op} ?2 AND m.path < ?3
             ORDER BY m.path LIMIT ?4"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let remaining = i64::try_from(want - items.len()).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![
            request.store_id.as_str(),
            position.key,
            upper,
            remaining
        ])?;
        let mut seek = None;
        while let Some(row) = rows.next()? {
            let path: String = row.get(2)?;
            let rel = path.get(prefix.len()..).unwrap_or_default();
            if request.depth > 0 {
                if let Some(cut) = nth_slash(rel, request.depth) {
                    let dir = format!("{prefix}{}", &rel[..cut]);
                    let after = Cursor {
                        key: format!("{dir}0"),
                        inclusive: true,
                    };
                    items.push((
                        MemoryListItem::Prefix(MemoryPrefix {
                            kind: MemoryPrefixType::MemoryPrefix,
                            path: format!("{dir}/"),
                        }),
                        after.clone(),
                    ));
                    seek = Some(after);
                    break;
                }
            }
            let mut memory =
                MemoryRow::from_row(row)?.into_memory(row.get::<_, Option<String>>(8)?);
            if request.full && memory.content.is_null() {
                memory.content = String::new().into();
            }
            items.push((
                MemoryListItem::Memory(memory),
                Cursor {
                    key: path,
                    inclusive: false,
                },
            ));
        }
        match seek {
            // A directory was rolled up: continue after it, unless the page is full.
            Some(after) => position = after,
            // The rows ran out: either the page is full or the store has no more.
            None => break,
        }
    }
    let next_page = if items.len() > request.limit as usize {
        items.truncate(request.limit as usize);
        items.last().map(|(_, after)| after.encode()).transpose()?
    } else {
        None
    };
    Ok(Page {
        data: items.into_iter().map(|(item, _)| item).collect(),
        next_page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_are_counted_from_one() {
        assert_eq!(nth_slash("a/b/c", 1), Some(1));
        assert_eq!(nth_slash("a/b/c", 2), Some(3));
        assert_eq!(nth_slash("a/b/c", 3), None);
        assert_eq!(nth_slash("a", 1), None);
        assert_eq!(nth_slash("a/b", 0), None);
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_400() {
        let cursor = Cursor {
            key: "/notes0".into(),
            inclusive: true,
        };
        assert_eq!(Cursor::decode(&cursor.encode().unwrap()).unwrap(), cursor);
        let err = Cursor::decode("not a cursor").unwrap_err();
        assert_eq!(err.status().as_u16(), 400);
    }
}
