//! What both AWS tools share: configuration, endpoint resolution, input validation, signing and
//! sending.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use secrecy::ExposeSecret as _;
use steward_tools::{Env, Redactor, ToolContext, ToolError};

use crate::Credentials;
use crate::env::{AWS_ACCESS_KEY_ID, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, AWS_REGION};
use crate::sigv4::{self, Unsigned};

/// Headers the model may not set: the signer, the host or HTTP owns them.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "host",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
];

/// Host name suffixes of AWS endpoints that a model-chosen `host` may have.
const AWS_HOST_SUFFIXES: &[&str] = &[".amazonaws.com", ".amazonaws.com.cn", ".api.aws"];

/// Configuration of the AWS tools.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    /// Where credentials, the default region and an endpoint override are read from, at each
    /// call ([`Env::process`] by default).
    pub env: Env,
    /// Limit on the whole exchange. Default 30 s.
    pub timeout: Duration,
    /// At most this many bytes of a response body are returned. Default 256 KiB.
    pub max_response_bytes: usize,
}

impl AwsConfig {
    /// Defaults, reading from `env`.
    pub fn new(env: Env) -> Self {
        Self {
            env,
            timeout: Duration::from_secs(30),
            max_response_bytes: 256 * 1024,
        }
    }
}

impl Default for AwsConfig {
    /// Defaults, reading the process environment.
    fn default() -> Self {
        Self::new(Env::process())
    }
}

/// A request before signing, in the model's terms.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) service: String,
    pub(crate) region: Option<String>,
    /// The region when neither the call nor the host names one (`None`: an error).
    pub(crate) fallback_region: Option<&'static str>,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: BTreeMap<String, String>,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Option<String>,
    pub(crate) host: Option<String>,
}

/// The shared sender.
pub(crate) struct AwsClient {
    config: AwsConfig,
    /// `None` when the HTTP client could not be built (reported at call time, so that a
    /// registration through inventory never panics).
    http: Option<reqwest::Client>,
}

impl fmt::Debug for AwsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AwsClient {
    pub(crate) fn new(config: AwsConfig) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .build();
        if let Err(error) = &http {
            tracing::warn!(%error, "aws: the HTTP client cannot be built");
        }
        Self {
            http: http.ok(),
            config,
        }
    }

    /// Reads a response for the model (see [`steward_tools::http::render_response`]).
    pub(crate) async fn render(
        &self,
        response: reqwest::Response,
        redactor: &Redactor,
        host: &str,
    ) -> Result<String, ToolError> {
        steward_tools::http::render_response(response, redactor, self.config.max_response_bytes)
            .await
            .map_err(|e| {
                steward_tools::http::transport_error(&e, host, self.config.timeout, redactor)
            })
    }

    /// Signs and sends a call; returns the response, a redactor holding the secrets, and the
    /// host name for messages.
    pub(crate) async fn send(
        &self,
        call: Call,
        ctx: &ToolContext,
    ) -> Result<(reqwest::Response, Redactor, String), ToolError> {
        let env = &self.config.env;
        let Some(credentials) = Credentials::from_env(env) else {
            tracing::warn!(
                "aws: {AWS_ACCESS_KEY_ID} and AWS_SECRET_ACCESS_KEY must both be set on the host"
            );
            return Err(ToolError::unavailable(
                "no AWS credentials are configured on this host",
            ));
        };
        let mut redactor = Redactor::new();
        redactor.add(credentials.secret_access_key.expose_secret());
        if let Some(token) = &credentials.session_token {
            redactor.add(token.expose_secret());
        }

        check_name("service", &call.service)?;
        let region = match call.region {
            Some(region) => region,
            None => env
                .var(AWS_REGION)
                .or_else(|| env.var(AWS_DEFAULT_REGION))
                .or_else(|| call.fallback_region.map(str::to_owned))
                .ok_or_else(|| {
                    ToolError::invalid_input(
                        "no region given and none configured on this host: pass `region`, \
                         such as `us-east-1`",
                    )
                })?,
        };
        check_name("region", &region)?;
        let method = parse_method(&call.method)?;
        let path = encode_path(&call.path)?;
        let query = call
            .query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    sigv4::uri_encode(k, false),
                    sigv4::uri_encode(v, false)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let url = self.url(&call.service, &region, call.host.as_deref(), &path, &query)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };

        let mut headers: Vec<(String, String)> = vec![("host".into(), host_header)];
        for (name, value) in &call.headers {
            let name = name.to_ascii_lowercase();
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ToolError::invalid_input(format!(
                    "`{name}` is not a valid header name"
                )));
            }
            if RESERVED_HEADERS.contains(&name.as_str()) {
                return Err(ToolError::invalid_input(format!(
                    "the header `{name}` is set by the signer; leave it out"
                )));
            }
            if HeaderValue::from_str(value).is_err() {
                return Err(ToolError::invalid_input(format!(
                    "the value of header `{name}` is not a valid header value"
                )));
            }
            headers.push((name, value.clone()));
        }
        let body = call.body.unwrap_or_default().into_bytes();
        let amz_date = Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
        let wire_path = url.path().to_owned();
        let wire_query = url.query().unwrap_or_default().to_owned();
        let signed = sigv4::sign(
            &credentials,
            &region,
            &call.service,
            &amz_date,
            &Unsigned {
                method: method.as_str(),
                path: &wire_path,
                query: &wire_query,
                headers: &headers,
                body: &body,
            },
        );

        let Some(http) = &self.http else {
            return Err(ToolError::unavailable(
                "the HTTP client of this host could not be initialised",
            ));
        };
        let mut request = http.request(method.clone(), url);
        // `host` is derived from the URL by the HTTP client, the same value as signed.
        for (name, value) in headers.iter().skip(1) {
            request = request.header(name.as_str(), value.as_str());
        }
        for (name, value) in signed.pairs() {
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                ToolError::unavailable(
                    "the AWS credentials configured on this host are not valid header values",
                )
            })?;
            value.set_sensitive(true);
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.body(body);
        }
        tracing::debug!(
            service = %call.service,
            region = %region,
            method = %method,
            path = %wire_path,
            tool_use_id = %ctx.tool_use_id,
            "aws: sending signed request"
        );
        let response = request.send().await.map_err(|e| {
            steward_tools::http::transport_error(&e, &host, self.config.timeout, &redactor)
        })?;
        Ok((response, redactor, host))
    }

    /// The URL to send to: the host's endpoint override, else the model's AWS host, else
    /// `https://<service>.<region>.amazonaws.com`.
    fn url(
        &self,
        service: &str,
        region: &str,
        host: Option<&str>,
        path: &str,
        query: &str,
    ) -> Result<Url, ToolError> {
        let base = if let Some(endpoint) = self.config.env.var(AWS_ENDPOINT_URL) {
            if host.is_some() {
                return Err(ToolError::invalid_input(
                    "this host sends every AWS request to its configured endpoint; leave \
                     `host` out",
                ));
            }
            let endpoint = Url::parse(&endpoint).map_err(|_| {
                ToolError::unavailable("the AWS endpoint URL configured on this host is invalid")
            })?;
            format!(
                "{}{}",
                endpoint.origin().ascii_serialization(),
                endpoint.path().trim_end_matches('/')
            )
        } else if let Some(host) = host {
            let host = host.to_ascii_lowercase();
            let valid = host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                && AWS_HOST_SUFFIXES
                    .iter()
                    .any(|suffix| host.ends_with(suffix));
            if !valid {
                return Err(ToolError::permission_denied(format!(
                    "`{host}` is not an AWS endpoint: a host must end in {}",
                    AWS_HOST_SUFFIXES.join(", ")
                )));
            }
            format!("https://{host}")
        } else {
            format!("https://{service}.{region}.amazonaws.com")
        };
        let mut url = format!("{base}{path}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        Url::parse(&url).map_err(|e| ToolError::invalid_input(format!("invalid request URL: {e}")))
    }
}

/// A service or region name: lowercase letters, digits and `-` (they become part of a host
/// name, so nothing else may pass).
fn check_name(field: &str, value: &str) -> Result<(), ToolError> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(ToolError::invalid_input(format!(
            "`{field}` must be lowercase letters, digits and `-` (such as `us-east-1` or `sts`), \
             got `{value}`"
        )))
    }
}

fn parse_method(method: &str) -> Result<Method, ToolError> {
    const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
    let upper = method.to_ascii_uppercase();
    if !METHODS.contains(&upper.as_str()) {
        return Err(ToolError::invalid_input(format!(
            "unsupported method `{method}`: use one of {}",
            METHODS.join(", ")
        )));
    }
    Method::from_bytes(upper.as_bytes())
        .map_err(|_| ToolError::invalid_input(format!("unsupported method `{method}`")))
}

/// Percent-encodes an unencoded path, keeping `/`; refuses `.` and `..` segments, which URL
/// parsing would remove and so change what was signed.
fn encode_path(path: &str) -> Result<String, ToolError> {
    if !path.starts_with('/') {
        return Err(ToolError::invalid_input(format!(
            "`path` must start with `/`, got `{path}`"
        )));
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(ToolError::invalid_input(
            "`path` must not contain `.` or `..` segments",
        ));
    }
    Ok(sigv4::uri_encode(path, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(env: Env) -> AwsClient {
        AwsClient::new(AwsConfig::new(env))
    }

    #[test]
    fn endpoints() {
        let plain = client(Env::empty());
        let url = |c: &AwsClient, host: Option<&str>| {
            c.url("sts", "eu-west-1", host, "/a%20b", "x=1")
                .map(|u| u.to_string())
                .map_err(|e| e.model_text())
        };
        assert_eq!(
            url(&plain, None),
            Ok("https://sts.eu-west-1.amazonaws.com/a%20b?x=1".into())
        );
        assert_eq!(
            url(&plain, Some("IAM.amazonaws.com")),
            Ok("https://iam.amazonaws.com/a%20b?x=1".into())
        );
        assert_eq!(
            url(&plain, Some("evil.example.com")),
            Err(
                "permission_denied: `evil.example.com` is not an AWS endpoint: a host must end \
                 in .amazonaws.com, .amazonaws.com.cn, .api.aws"
                    .into()
            )
        );
        assert!(url(&plain, Some("x.amazonaws.com@evil.example")).is_err());
        let local = client(Env::from_pairs([(
            AWS_ENDPOINT_URL,
            "http://127.0.0.1:4566/",
        )]));
        assert_eq!(
            url(&local, None),
            Ok("http://127.0.0.1:4566/a%20b?x=1".into())
        );
        assert!(url(&local, Some("iam.amazonaws.com")).is_err());
    }

    #[test]
    fn names_and_paths_are_checked() {
        assert!(check_name("region", "us-east-1").is_ok());
        for bad in ["", "US-EAST-1", "evil.com/x", "a b"] {
            assert!(check_name("region", bad).is_err(), "{bad}");
        }
        assert_eq!(
            encode_path("/my bucket/a+b.txt").unwrap(),
            "/my%20bucket/a%2Bb.txt"
        );
        assert!(encode_path("no-slash").is_err());
        assert!(encode_path("/a/../b").is_err());
        assert!(parse_method("get").is_ok());
        assert!(parse_method("CONNECT").is_err());
    }
}
