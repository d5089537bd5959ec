//! Request extractors that answer bad input in the API's error shape.
//!
//! * [`Json`] reads a JSON body strictly: a malformed body, a wrong type or a missing field is
//!   a 400 `invalid_request_error` whose message names the field (`tools[0].name: invalid
//!   type: …`); a body over the size limit is a 413; then [`Validate`] runs. As a response,
//!   `Json(value)` is a 200 with the value as JSON.
//! * [`Query`] reads the query string with qs "brackets" conventions: keys are percent-decoded
//!   (`created_at%5Bgte%5D` → `created_at[gte]`), a trailing `[]` on a key is dropped, and a
//!   key may repeat (`statuses[]=a&statuses[]=b` and `statuses=a&statuses=b` both give
//!   `statuses: ["a", "b"]`). Query structs therefore name array fields without `[]`. Unknown
//!   keys are ignored; then [`Validate`] runs.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::validate::Validate;

/// A JSON request body (strictly parsed and validated) or a JSON response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        check_content_type(request.headers())?;
        let limit = AppState::from_ref(state).config.body_limit;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Error::payload_too_large(limit)
                } else {
                    Error::from_status(rejection.status(), rejection.body_text())
                }
            })?;
        let value: T = parse_json(&bytes)?;
        value.validate()?;
        Ok(Self(value))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                bytes,
            )
                .into_response(),
            Err(e) => Error::internal(e).into_response(),
        }
    }
}

/// A JSON body must be sent as `application/json` (a missing `Content-Type` is tolerated);
/// a charset other than UTF-8 is refused the way the API does.
fn check_content_type(headers: &HeaderMap) -> Result<()> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let value = value
        .to_str()
        .map_err(|_| Error::invalid_request("invalid `Content-Type` header"))?
        .to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    let mime = parts.next().unwrap_or_default();
    if mime != "application/json" && !mime.ends_with("+json") {
        return Err(Error::invalid_request(format!(
            "`Content-Type` must be `application/json`, got `{mime}`"
        )));
    }
    for param in parts {
        if let Some(charset) = param.strip_prefix("charset=") {
            let charset = charset.trim_matches('"');
            if !matches!(charset, "utf-8" | "utf8" | "us-ascii" | "iso-8859-1") {
                return Err(Error::invalid_request(format!(
                    "unsupported charset `{charset}`: send UTF-8"
                ))
                .with_code("unsupported_charset"));
            }
        }
    }
    Ok(())
}

/// Parses a JSON body into `T`, naming the offending field on error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid_request(
            "request body is empty: expected a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            Error::invalid_request(format!("invalid JSON body: {inner}"))
        } else if path == "." {
            Error::invalid_request(format!("invalid request body: {inner}"))
        } else {
            Error::invalid_request(format!("invalid request body: `{path}`: {inner}"))
        }
    })?;
    deserializer
        .end()
        .map_err(|e| Error::invalid_request(format!("invalid JSON body: {e}")))?;
    Ok(value)
}

/// Query-string parameters (qs brackets conventions), validated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let value: T = parse_query(parts.uri.query().unwrap_or_default())?;
        value.validate()?;
        Ok(Self(value))
    }
}

/// Parses a raw query string into `T` (see the module docs for the conventions).
pub fn parse_query<T: DeserializeOwned>(raw: &str) -> Result<T> {
    let invalid =
        |e: &dyn std::fmt::Display| Error::invalid_request(format!("invalid query string: {e}"));
    let pairs: Vec<(String, String)> = serde_html_form::from_str(raw).map_err(|e| invalid(&e))?;
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(key, value)| match key.strip_suffix("[]") {
            Some(bare) => (bare.to_owned(), value),
            None => (key, value),
        })
        .collect();
    let normalized = serde_html_form::to_string(&pairs).map_err(|e| invalid(&e))?;
    let deserializer = serde_html_form::Deserializer::from_bytes(normalized.as_bytes());
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            invalid(&inner)
        } else {
            Error::invalid_request(format!("invalid query parameter `{path}`: {inner}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        name: String,
        #[serde(default)]
        tools: Vec<Tool>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Tool {
        name: String,
    }

    #[test]
    fn json_errors_name_the_field() {
        let message = |json: &str| {
            parse_json::<Body>(json.as_bytes())
                .unwrap_err()
                .body()
                .message
                .clone()
        };
        assert!(
            message("{}").contains("missing field `name`"),
            "{}",
            message("{}")
        );
        let m = message(r#"{"name": 3}"#);
        assert!(m.contains("`name`") && m.contains("invalid type"), "{m}");
        let m = message(r#"{"name": "a", "tools": [{"name": "x"}, {"name": false}]}"#);
        assert!(m.contains("`tools[1].name`"), "{m}");
        let m = message(r#"{"name": "a", "tools": [{}]}"#);
        assert!(
            m.contains("`tools[0]`") && m.contains("missing field `name`"),
            "{m}"
        );
        assert!(message("{").starts_with("invalid JSON body"));
        assert!(message("").contains("empty"));
        assert!(message(r#"{"name":"a"} x"#).contains("trailing"));
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    struct List {
        #[serde(rename = "created_at[gte]")]
        created_at_gte: Option<String>,
        #[serde(default)]
        statuses: Vec<String>,
        include_archived: Option<bool>,
        limit: Option<u32>,
    }

    #[test]
    fn query_brackets_and_repeats() {
        let parsed: List = parse_query(
            "created_at%5Bgte%5D=2026-01-01T00%3A00%3A00Z&statuses%5B%5D=idle&statuses[]=running&include_archived=true&limit=5",
        )
        .unwrap();
        assert_eq!(
            parsed,
            List {
                created_at_gte: Some("2026-01-01T00:00:00Z".into()),
                statuses: vec!["idle".into(), "running".into()],
                include_archived: Some(true),
                limit: Some(5),
            }
        );
        let bare: List = parse_query("statuses=idle&statuses=running&unknown=1").unwrap();
        assert_eq!(bare.statuses, ["idle", "running"]);
        let one: List = parse_query("statuses=idle").unwrap();
        assert_eq!(one.statuses, ["idle"]);
        assert_eq!(parse_query::<List>("").unwrap(), List::default());
        let err = parse_query::<List>("limit=abc").unwrap_err();
        assert!(
            err.body().message.contains("`limit`"),
            "{}",
            err.body().message
        );
        let err = parse_query::<List>("created_at%5Bgte%5D=1&created_at%5Bgte%5D=2").unwrap_err();
        assert!(
            err.body().message.contains("created_at[gte]"),
            "{}",
            err.body().message
        );
        assert!(parse_query::<List>("include_archived=maybe").is_err());
    }

    #[test]
    fn content_types() {
        let mut headers = HeaderMap::new();
        assert!(check_content_type(&headers).is_ok());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(check_content_type(&headers).is_ok());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-16"),
        );
        assert_eq!(
            check_content_type(&headers).unwrap_err().code(),
            Some("unsupported_charset")
        );
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(check_content_type(&headers).is_err());
    }
}
