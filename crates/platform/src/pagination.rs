//! Cursor pagination over SQL tables, shared by every list endpoint.
//!
//! Lists are in a stable order: by a sort column and then by ID (keyset pagination), so a page
//! never repeats or skips an item when others are created meanwhile. A cursor (`next_page`,
//! `prev_page`) is opaque to clients: URL-safe base64 of a small JSON object holding the
//! direction and the sort key of the item it continues from. `next_page` is `null` only on
//! the last page; `prev_page` (bidirectional lists only) is `null` only on the first.
//!
//! `limit` defaults to [`Limits::STANDARD`]`.default` (20). A larger value than the list's
//! maximum (100 unless the list says otherwise) is clamped to the maximum rather than
//! rejected, because the SDK helpers ask for large pages (the session runner asks events for
//! 1000); `limit=0` is a 400.
//!
//! Use:
//! ```
//! # use steward_platform::pagination::{Filter, Limits, Listing, PageRequest};
//! # let conn = rusqlite::Connection::open_in_memory().unwrap();
//! # conn.execute_batch("CREATE TABLE agents (id TEXT, created_at TEXT, archived_at TEXT, body TEXT);
//! #     INSERT INTO agents VALUES ('agent_1', '2026-01-01T00:00:00.000000Z', NULL, '\"a\"');").unwrap();
//! let request = PageRequest::new(Some(10), None, Limits::STANDARD)?;
//! let mut filter = Filter::new();
//! filter.and("archived_at IS NULL");
//! let page = Listing::new("agents", "body", &filter).page(&conn, &request, |row| {
//!     steward_platform::db::from_json::<String>(&row.get::<_, String>(0)?)
//! })?;
//! assert_eq!(page.data, ["a"]);
//! assert_eq!(page.next_page, None);
//! # Ok::<(), steward_platform::Error>(())
//! ```
//!
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::Value;
use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};
use steward_core::{BidirectionalPage, Page};

use crate::error::{Error, Result};

/// Default and maximum page size of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Page size when `limit` is omitted.
    pub default: u32,
    /// Largest page size; larger requests are clamped to it.
    pub max: u32,
}

impl Limits {
    /// The limits of most lists: 20 by default, at most 100.
    pub const STANDARD: Limits = Limits {
        default: 20,
        max: 100,
    };
}

/// Direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest (smallest key) first.
    Asc,
    /// Newest (largest key) first.
    Desc,
}

impl Order {
    fn reverse(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }

    /// The comparison selecting keys after a key when scanning in this order.
    fn after(self, inclusive: bool) -> &'static str {
        match (self, inclusive) {
            (Self::Asc, false) => ">",
            (Self::Asc, true) => ">=",
            (Self::Desc, false) => "<",
            (Self::Desc, true) => "<=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Direction {
    #[serde(rename = "n")]
    Next,
    #[serde(rename = "p")]
    Prev,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "d")]
    direction: Direction,
    #[serde(rename = "k")]
    key: Vec<serde_json::Value>,
    /// Whether the item with exactly this key belongs to the page the cursor points to.
    #[serde(rename = "i", default, skip_serializing_if = "std::ops::Not::not")]
    inclusive: bool,
}

impl Cursor {
    fn encode(&self) -> Result<String> {
        Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(self)?))
    }

    fn decode(text: &str) -> Result<Self> {
        let invalid = || Error::invalid_request("`page`: invalid page cursor");
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }

    fn sql_key(&self) -> Result<Vec<Value>> {
        self.key
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(Value::Text(s.clone())),
                serde_json::Value::Number(n) => n
                    .as_i64()
                    .map(Value::Integer)
                    .ok_or_else(|| Error::invalid_request("`page`: invalid page cursor")),
                _ => Err(Error::invalid_request("`page`: invalid page cursor")),
            })
            .collect()
    }
}

fn json_key(values: &[Value]) -> Result<Vec<serde_json::Value>> {
    values
        .iter()
        .map(|v| match v {
            Value::Text(s) => Ok(serde_json::Value::String(s.clone())),
            Value::Integer(i) => Ok(serde_json::Value::from(*i)),
            other => Err(Error::internal(format!(
                "sort key of type {:?} cannot be paginated",
                other.data_type()
            ))),
        })
        .collect()
}

/// A validated `limit` and decoded `page` cursor.
#[derive(Debug, Clone)]
pub struct PageRequest {
    limit: u32,
    cursor: Option<Cursor>,
}

impl PageRequest {
    /// Checks `limit` (0 is a 400; above the maximum is clamped) and decodes `page`.
    pub fn new(limit: Option<u32>, page: Option<&str>, limits: Limits) -> Result<Self> {
        let limit = match limit {
            None => limits.default,
            Some(0) => return Err(Error::invalid_request("`limit`: must be at least 1")),
            Some(n) => n.min(limits.max),
        };
        let cursor = match page {
            None | Some("") => None,
            Some(text) => Some(Cursor::decode(text)?),
        };
        Ok(Self { limit, cursor })
    }

    /// The effective page size.
    pub fn limit(&self) -> u32 {
        self.limit
    }
}

/// SQL conditions joined with `AND`, with their `?` parameters in order.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    conditions: Vec<String>,
    params: Vec<Value>,
}

impl Filter {
    /// No conditions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a condition without parameters (`archived_at IS NULL`).
    pub fn and(&mut self, condition: impl Into<String>) -> &mut Self {
        self.conditions.push(condition.into());
        self
    }

    /// Adds a condition with `?` placeholders and the values that fill them, in order
    /// (`filter.and_with("created_at >= ?", [gte.to_string()])`).
    pub fn and_with<I, V>(&mut self, condition: impl Into<String>, params: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Value>,
    {
        self.conditions.push(condition.into());
        self.params.extend(params.into_iter().map(Into::into));
        self
    }

    fn clause(&self, extra: Option<&str>) -> String {
        let mut all: Vec<&str> = self.conditions.iter().map(String::as_str).collect();
        all.extend(extra);
        if all.is_empty() {
            String::new()
        } else {
            format!(
                " WHERE {}",
                all.iter()
                    .map(|c| format!("({c})"))
                    .collect::<Vec<_>>()
                    .join(" AND ")
            )
        }
    }
}

/// What to list: a table (or join), the columns the row mapper reads, filters, sort keys.
#[derive(Debug, Clone)]
pub struct Listing<'a> {
    from: &'a str,
    columns: &'a str,
    filter: &'a Filter,
    keys: &'a [&'a str],
    order: Order,
}

/// Items of one page and both cursors.
struct Fetched<T> {
    items: Vec<T>,
    next: Option<String>,
    prev: Option<String>,
}

impl<'a> Listing<'a> {
    /// Lists `columns` of `from` matching `filter`, by `created_at` then `id`, oldest first.
    /// The row mapper sees `columns` at indexes 0, 1, ….
    pub fn new(from: &'a str, columns: &'a str, filter: &'a Filter) -> Self {
        Self {
            from,
            columns,
            filter,
            keys: &["created_at", "id"],
            order: Order::Asc,
        }
    }

    /// Sorts by these columns instead (the last one must be unique, such as `id`).
    pub fn keys(mut self, keys: &'a [&'a str]) -> Self {
        self.keys = keys;
        self
    }

    /// Sets the direction.
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// One page of a forward-only list (`PageCursor`).
    pub fn page<T>(
        &self,
        conn: &Connection,
        request: &PageRequest,
        map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Page<T>> {
        let fetched = self.fetch(conn, request, false, map)?;
        Ok(Page {
            data: fetched.items,
            next_page: fetched.next,
        })
    }

    /// One page of a list walkable both ways (`BidirectionalPageCursor`).
    pub fn bidirectional_page<T>(
        &self,
        conn: &Connection,
        request: &PageRequest,
        map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<BidirectionalPage<T>> {
        let fetched = self.fetch(conn, request, true, map)?;
        Ok(BidirectionalPage {
            data: fetched.items,
            next_page: fetched.next,
            prev_page: fetched.prev,
        })
    }

    fn tuple(&self) -> String {
        format!("({})", self.keys.join(", "))
    }

    fn placeholders(&self) -> String {
        format!("({})", vec!["?"; self.keys.len()].join(", "))
    }

    /// Condition selecting keys after `key` when scanning in `scan`.
    fn after_condition(&self, scan: Order, inclusive: bool) -> String {
        format!(
            "{} {} {}",
            self.tuple(),
            scan.after(inclusive),
            self.placeholders()
        )
    }

    fn exists(
        &self,
        conn: &Connection,
        scan: Order,
        key: &[Value],
        inclusive: bool,
    ) -> Result<bool> {
        let condition = self.after_condition(scan, inclusive);
        let sql = format!(
            "SELECT EXISTS(SELECT 1 FROM {}{})",
            self.from,
            self.filter.clause(Some(&condition))
        );
        let params = self.filter.params.iter().chain(key);
        Ok(conn.query_row(&sql, rusqlite::params_from_iter(params), |row| row.get(0))?)
    }

    fn cursor(direction: Direction, key: &[Value], inclusive: bool) -> Result<String> {
        Cursor {
            direction,
            key: json_key(key)?,
            inclusive,
        }
        .encode()
    }

    fn fetch<T>(
        &self,
        conn: &Connection,
        request: &PageRequest,
        bidirectional: bool,
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Fetched<T>> {
        let (direction, key, inclusive) = match &request.cursor {
            None => (Direction::Next, None, false),
            Some(cursor) => {
                let key = cursor.sql_key()?;
                if key.len() != self.keys.len() {
                    return Err(Error::invalid_request("`page`: invalid page cursor"));
                }
                (cursor.direction, Some(key), cursor.inclusive)
            }
        };
        let scan = match direction {
            Direction::Next => self.order,
            Direction::Prev => self.order.reverse(),
        };
        let condition = key.as_ref().map(|_| self.after_condition(scan, inclusive));
        let key_columns: Vec<String> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{k} AS _k{i}"))
            .collect();
        let order_by: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{k} {}", scan.sql()))
            .collect();
        let sql = format!(
            "SELECT {}, {} FROM {}{} ORDER BY {} LIMIT {}",
            self.columns,
            key_columns.join(", "),
            self.from,
            self.filter.clause(condition.as_deref()),
            order_by.join(", "),
            u64::from(request.limit) + 1,
        );
        let params = self.filter.params.iter().chain(key.iter().flatten());
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let key_names: Vec<String> = (0..self.keys.len()).map(|i| format!("_k{i}")).collect();
        let mut fetched: Vec<(T, Vec<Value>)> = Vec::new();
        // Set when a row beyond `limit` exists: there is more in the scan direction.
        let mut more_in_scan = false;
        while let Some(row) = rows.next()? {
            if fetched.len() == request.limit as usize {
                more_in_scan = true;
                break;
            }
            let row_key = key_names
                .iter()
                .map(|name| row.get::<_, Value>(name.as_str()))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            fetched.push((map(row)?, row_key));
        }
        drop(rows);
        if direction == Direction::Prev {
            fetched.reverse();
        }
        let first_key = fetched.first().map(|(_, k)| k.clone());
        let last_key = fetched.last().map(|(_, k)| k.clone());
        let items: Vec<T> = fetched.into_iter().map(|(item, _)| item).collect();

        // The cursor past the end of the page in list order.
        let next = match (direction, &last_key) {
            (Direction::Next, Some(last)) if more_in_scan => {
                Some(Self::cursor(Direction::Next, last, false)?)
            }
            (Direction::Next, _) => None,
            (Direction::Prev, Some(last)) => self
                .exists(conn, self.order, last, false)?
                .then(|| Self::cursor(Direction::Next, last, false))
                .transpose()?,
            // An empty page walking back: continue forward from the cursor's own key.
            (Direction::Prev, None) => match &key {
                Some(k) => self
                    .exists(conn, self.order, k, !inclusive)?
                    .then(|| Self::cursor(Direction::Next, k, !inclusive))
                    .transpose()?,
                None => None,
            },
        };
        // The cursor before the start of the page in list order (bidirectional lists only).
        let prev = if !bidirectional {
            None
        } else {
            let back = self.order.reverse();
            match (direction, &first_key) {
                (Direction::Prev, Some(first)) if more_in_scan => {
                    Some(Self::cursor(Direction::Prev, first, false)?)
                }
                (Direction::Prev, _) => None,
                (Direction::Next, _) if key.is_none() => None,
                (Direction::Next, Some(first)) => self
                    .exists(conn, back, first, false)?
                    .then(|| Self::cursor(Direction::Prev, first, false))
                    .transpose()?,
                (Direction::Next, None) => match &key {
                    Some(k) => self
                        .exists(conn, back, k, !inclusive)?
                        .then(|| Self::cursor(Direction::Prev, k, !inclusive))
                        .transpose()?,
                    None => None,
                },
            }
        };
        Ok(Fetched { items, next, prev })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(n: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL)",
        )
        .unwrap();
        for i in 0..n {
            // Two items per timestamp, so the ID breaks ties.
            conn.execute(
                "INSERT INTO t (id, created_at, kind) VALUES (?1, ?2, ?3)",
                rusqlite::params![
                    format!("id{i:03}"),
                    format!("2026-01-01T00:00:{:02}Z", i / 2),
                    if i % 3 == 0 { "a" } else { "b" }
                ],
            )
            .unwrap();
        }
        conn
    }

    fn ids(
        conn: &Connection,
        filter: &Filter,
        order: Order,
        limit: u32,
        page: Option<&str>,
    ) -> BidirectionalPage<String> {
        let request = PageRequest::new(Some(limit), page, Limits::STANDARD).unwrap();
        Listing::new("t", "id", filter)
            .order(order)
            .bidirectional_page(conn, &request, |row| Ok(row.get(0)?))
            .unwrap()
    }

    fn walk_forward(
        conn: &Connection,
        filter: &Filter,
        order: Order,
        limit: u32,
    ) -> Vec<BidirectionalPage<String>> {
        let mut pages = vec![ids(conn, filter, order, limit, None)];
        while let Some(next) = pages.last().unwrap().next_page.clone() {
            pages.push(ids(conn, filter, order, limit, Some(&next)));
            assert!(pages.len() < 100);
        }
        pages
    }

    #[test]
    fn forward_and_back_in_both_orders() {
        let conn = db(7);
        for order in [Order::Asc, Order::Desc] {
            let pages = walk_forward(&conn, &Filter::new(), order, 3);
            let all: Vec<String> = pages.iter().flat_map(|p| p.data.clone()).collect();
            let mut expected: Vec<String> = (0..7).map(|i| format!("id{i:03}")).collect();
            if order == Order::Desc {
                expected.reverse();
            }
            assert_eq!(all, expected);
            assert_eq!(pages.len(), 3);
            assert!(pages[0].prev_page.is_none());
            assert!(pages[1].prev_page.is_some());
            // Walking back from the last page gives the same pages in reverse.
            let mut back = vec![pages[2].clone()];
            while let Some(prev) = back.last().unwrap().prev_page.clone() {
                back.push(ids(&conn, &Filter::new(), order, 3, Some(&prev)));
            }
            let back_data: Vec<_> = back.iter().rev().map(|p| p.data.clone()).collect();
            let forward_data: Vec<_> = pages.iter().map(|p| p.data.clone()).collect();
            assert_eq!(back_data, forward_data);
            // The page reached backwards points forward again.
            assert_eq!(
                ids(
                    &conn,
                    &Filter::new(),
                    order,
                    3,
                    back[2].next_page.as_deref()
                )
                .data,
                pages[1].data
            );
        }
    }

    #[test]
    fn exact_multiple_ends_with_null_cursor() {
        let conn = db(6);
        let pages = walk_forward(&conn, &Filter::new(), Order::Asc, 3);
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[1].data.len(), 3);
        assert!(pages[1].next_page.is_none());
        let empty = db(0);
        let page = ids(&empty, &Filter::new(), Order::Asc, 3, None);
        assert!(page.data.is_empty() && page.next_page.is_none() && page.prev_page.is_none());
    }

    #[test]
    fn filters_apply_to_every_page() {
        let conn = db(10);
        let mut filter = Filter::new();
        filter.and_with("kind = ?", ["a".to_owned()]);
        let pages = walk_forward(&conn, &filter, Order::Asc, 2);
        let all: Vec<String> = pages.iter().flat_map(|p| p.data.clone()).collect();
        assert_eq!(all, ["id000", "id003", "id006", "id009"]);
    }

    #[test]
    fn limits_and_bad_cursors() {
        assert_eq!(
            PageRequest::new(None, None, Limits::STANDARD)
                .unwrap()
                .limit(),
            20
        );
        assert_eq!(
            PageRequest::new(Some(1000), None, Limits::STANDARD)
                .unwrap()
                .limit(),
            100
        );
        assert!(PageRequest::new(Some(0), None, Limits::STANDARD).is_err());
        let err = PageRequest::new(None, Some("not a cursor!"), Limits::STANDARD).unwrap_err();
        assert!(err.body().message.contains("`page`"));
        let wrong_arity = Cursor {
            direction: Direction::Next,
            key: vec!["x".into()],
            inclusive: false,
        }
        .encode()
        .unwrap();
        let request = PageRequest::new(None, Some(&wrong_arity), Limits::STANDARD).unwrap();
        let conn = db(1);
        let filter = Filter::new();
        assert!(
            Listing::new("t", "id", &filter)
                .page(&conn, &request, |row| Ok(row.get::<_, String>(0)?))
                .is_err()
        );
    }
}
