//! Helpers shared by tools that make HTTP requests with host credentials (the built-in
//! `http_request`, the AWS plugin): rendering a response for the model with secrets redacted
//! and the body bounded, and turning transport failures into [`ToolError`]s.

use std::fmt::Write as _;
use std::time::Duration;

use crate::{Redactor, ToolError};

/// Reads `response` and renders it for the model:
///
/// ```text
/// HTTP 200 OK
/// content-type: application/json
///
/// {"ok":true}
/// ```
///
/// Every header value and the body pass through `redactor`. At most `max_body_bytes` of the
/// body are shown, followed by a `[body truncated: …]` note when there was more; reading stops
/// shortly after the limit. A body that is not UTF-8 is described, not dumped.
pub async fn render_response(
    mut response: reqwest::Response,
    redactor: &Redactor,
    max_body_bytes: usize,
) -> Result<String, reqwest::Error> {
    let status = response.status();
    let mut text = format!("HTTP {status}\n");
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes());
        let _ = writeln!(text, "{name}: {}", redactor.redact(&value));
    }
    text.push('\n');

    // Read enough past the limit to recognise a secret that straddles it (see
    // `Redactor::redact_prefix`), plus one byte to know whether anything was cut.
    let wanted = max_body_bytes.saturating_add(redactor.max_pattern_len());
    let mut body = Vec::new();
    while body.len() <= wanted {
        match response.chunk().await? {
            Some(chunk) => body.extend_from_slice(&chunk),
            None => break,
        }
    }
    drop(response);
    body.truncate(wanted.saturating_add(1));
    let received = body.len();
    let (body, truncated) = redactor.redact_prefix(&body, max_body_bytes);
    tracing::debug!(
        status = status.as_u16(),
        received,
        truncated,
        "response received"
    );
    match String::from_utf8(body) {
        Ok(body) => text.push_str(&body),
        // Cut inside a multi-byte character by the limit: keep the complete characters.
        Err(e) if truncated && e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
        Err(e) => {
            let _ = write!(
                text,
                "[the body is not UTF-8 text: {} bytes not shown]",
                e.as_bytes().len()
            );
        }
    }
    if truncated {
        let _ = write!(
            text,
            "\n[body truncated: only the first {max_body_bytes} bytes are shown]"
        );
    }
    Ok(text)
}

/// A transport failure talking to `host` as a [`ToolError`]: [`Timeout`] when `timeout`
/// ran out, [`Unavailable`] otherwise.
///
/// The reqwest error is kept as the source, as text passed through `redactor`; reqwest errors
/// carry the URL and never header values, so this is belt and braces.
///
/// [`Timeout`]: crate::ToolErrorKind::Timeout
/// [`Unavailable`]: crate::ToolErrorKind::Unavailable
pub fn transport_error(
    error: &reqwest::Error,
    host: &str,
    timeout: Duration,
    redactor: &Redactor,
) -> ToolError {
    let source = redactor.redact(&error.to_string()).into_owned();
    let tool_error = if error.is_timeout() {
        ToolError::timeout(format!(
            "the request to `{host}` did not complete within {} s",
            timeout.as_secs_f64()
        ))
    } else if error.is_connect() {
        ToolError::unavailable(format!("could not connect to `{host}`"))
    } else {
        ToolError::unavailable(format!("the request to `{host}` failed"))
    };
    tool_error.with_source(source)
}
