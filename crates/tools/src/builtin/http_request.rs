//! The `http_request` tool: an HTTP request to a host the host allows, carrying a secret header
//! the model never sees.
//!
//! The host configures rules `{host, header, env var}` ([`SecretHeaderRule`]); the model gives
//! the method, URL, headers and body. The tool:
//!
//! * refuses URLs that are not `https` (plain `http` only to loopback addresses, so a secret
//!   never crosses a network in clear text), that carry user info, or whose host and port
//!   match no rule;
//! * refuses model headers that the host sets (a rule's header) or that HTTP owns (`host`,
//!   `content-length`, hop-by-hop headers);
//! * reads each matching rule's secret from its [`Env`] at call time and adds it as a
//!   sensitive header; the secret never enters the input, the output, an error or a log line;
//! * does not follow redirects (a redirect would carry the secret header to wherever the
//!   `Location` points); a 3xx is returned to the model like any other status;
//! * bounds the wait ([`HttpRequestConfig::timeout`]) and the returned body
//!   ([`HttpRequestConfig::max_response_bytes`]), and replaces any echo of a secret in the
//!   response headers and body with `[REDACTED]` ([`Redactor`]).
//!
//! An HTTP error status is a successful tool call: the model reads the status and decides.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use schemars::JsonSchema;
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::http::{render_response, transport_error};
use crate::{ConfigError, Env, Redactor, ToolContext, ToolError, ToolOutput, TypedTool};

/// The tool's name.
const NAME: &str = "http_request";

/// Request headers the model may not set: HTTP itself owns them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
];

/// Methods the tool sends.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// One allow-list entry: requests to `host` (and `port`) get `header: <value_prefix><secret>`,
/// where the secret is the value of the environment variable `env_var` on the host.
///
/// Several rules may name the same host (several headers); a host must appear in at least one
/// rule to be reachable at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHeaderRule {
    /// Host name or IP address, matched exactly and case-insensitively (no wildcards). An IPv6
    /// address is written in brackets, `[::1]`.
    pub host: String,
    /// Port; `None` allows only the scheme's default port (443 for https, 80 for http).
    pub port: Option<u16>,
    /// Header name, such as `authorization` or `x-api-key`.
    pub header: String,
    /// Name of the environment variable holding the secret.
    pub env_var: String,
    /// Text put before the secret in the header value, such as `"Bearer "`.
    pub value_prefix: String,
}

impl SecretHeaderRule {
    /// A rule for `host` on its default port, with no value prefix.
    pub fn new(
        host: impl Into<String>,
        header: impl Into<String>,
        env_var: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port: None,
            header: header.into(),
            env_var: env_var.into(),
            value_prefix: String::new(),
        }
    }

    /// Allows this port instead of the scheme's default.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Puts `prefix` before the secret (`"Bearer "` for a bearer token).
    #[must_use]
    pub fn value_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.value_prefix = prefix.into();
        self
    }
}

/// How the host configures `http_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequestConfig {
    /// The allow-list: which hosts may be called and which secret each one gets.
    pub rules: Vec<SecretHeaderRule>,
    /// Limit on the whole exchange, from connecting to the end of the response body.
    /// Default 30 s.
    pub timeout: Duration,
    /// At most this many bytes of the response body are returned (the rest is not read).
    /// Default 256 KiB.
    pub max_response_bytes: usize,
}

impl Default for HttpRequestConfig {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            timeout: Duration::from_secs(30),
            max_response_bytes: 256 * 1024,
        }
    }
}

/// A validated rule.
#[derive(Debug, Clone)]
struct Rule {
    /// Lowercase host as [`Url::host_str`] writes it.
    host: String,
    port: Option<u16>,
    header: HeaderName,
    env_var: String,
    value_prefix: String,
}

impl Rule {
    fn matches(&self, host: &str, port: u16, default_port: u16) -> bool {
        self.host == host && self.port.unwrap_or(default_port) == port
    }

    /// `host` or `host:port`, as shown to the model.
    fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

/// The allowed hosts (`host` or `host:port`), sorted, each once.
fn allowed_hosts(rules: &[Rule]) -> Vec<String> {
    let mut hosts: Vec<String> = rules.iter().map(Rule::authority).collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// The `http_request` tool. Not idempotent (it may send a `POST`).
pub struct HttpRequest {
    rules: Vec<Rule>,
    env: Env,
    client: reqwest::Client,
    timeout: Duration,
    max_response_bytes: usize,
    description: String,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("rules", &self.rules)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl HttpRequest {
    /// The tool with this allow-list, reading secrets from `env` at each call
    /// ([`Env::process`] in production).
    ///
    /// Fails when there is no rule, a host is not a bare host name or IP address, a header name
    /// is invalid or reserved, or the HTTP client cannot be built.
    pub fn new(config: HttpRequestConfig, env: Env) -> Result<Self, ConfigError> {
        if config.rules.is_empty() {
            return Err(ConfigError::new(
                NAME,
                "no host is allowed (the rule list is empty)",
            ));
        }
        let mut rules = Vec::with_capacity(config.rules.len());
        for rule in config.rules {
            let host = Url::parse(&format!("https://{}/", rule.host))
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned))
                .filter(|host| host.eq_ignore_ascii_case(&rule.host))
                .ok_or_else(|| {
                    ConfigError::new(
                        NAME,
                        format!("`{}` is not a host name or IP address", rule.host),
                    )
                })?;
            let header = HeaderName::from_bytes(rule.header.as_bytes()).map_err(|e| {
                ConfigError::new(NAME, format!("`{}` is not a header name", rule.header))
                    .with_source(e)
            })?;
            if RESERVED_HEADERS.contains(&header.as_str()) {
                return Err(ConfigError::new(
                    NAME,
                    format!("the header `{header}` cannot carry a secret"),
                ));
            }
            if rule.env_var.is_empty() {
                return Err(ConfigError::new(
                    NAME,
                    format!("the rule for `{host}` names no environment variable"),
                ));
            }
            rules.push(Rule {
                host,
                port: rule.port,
                header,
                env_var: rule.env_var,
                value_prefix: rule.value_prefix,
            });
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .build()
            .map_err(|e| {
                ConfigError::new(NAME, "the HTTP client cannot be built").with_source(e)
            })?;
        let description = format!(
            "Sends an HTTP request to one of the hosts this host allows, which adds the \
             credentials itself (do not send any), and returns the response status, headers \
             and body (at most {} bytes; redirects are not followed). URLs must be https \
             (http only for localhost). Allowed hosts: {}.",
            config.max_response_bytes,
            allowed_hosts(&rules).join(", ")
        );
        Ok(Self {
            rules,
            env,
            client,
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
            description,
        })
    }

    /// Checks the URL against the scheme policy and the allow-list; returns the host and the
    /// matching rules.
    fn route(&self, url: &Url) -> Result<(String, Vec<&Rule>), ToolError> {
        let scheme = url.scheme();
        if scheme != "https" && scheme != "http" {
            return Err(ToolError::invalid_input(format!(
                "unsupported URL scheme `{scheme}`: only https (and http to localhost) URLs \
                 are allowed"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ToolError::invalid_input(
                "the URL must not contain user info (`user:password@`); credentials are added \
                 by the host",
            ));
        }
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return Err(ToolError::invalid_input("the URL has no host"));
        };
        if scheme == "http" && !is_loopback(&host) {
            return Err(ToolError::permission_denied(format!(
                "plain http is allowed only to localhost; use https://{host}"
            )));
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port = url.port().unwrap_or(default_port);
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|rule| rule.matches(&host, port, default_port))
            .collect();
        if rules.is_empty() {
            let shown = match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            };
            return Err(ToolError::permission_denied(format!(
                "`{shown}` is not an allowed host; allowed: {}",
                allowed_hosts(&self.rules).join(", ")
            )));
        }
        Ok((host, rules))
    }

    /// The model's headers, validated.
    fn model_headers(
        headers: &BTreeMap<String, String>,
        rules: &[&Rule],
    ) -> Result<HeaderMap, ToolError> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ToolError::invalid_input(format!("`{name}` is not a valid header name"))
            })?;
            if RESERVED_HEADERS.contains(&header.as_str()) {
                return Err(ToolError::invalid_input(format!(
                    "the header `{header}` is set by HTTP itself; leave it out"
                )));
            }
            if rules.iter().any(|rule| rule.header == header) {
                return Err(ToolError::invalid_input(format!(
                    "the header `{header}` carries this host's credential and is added by the \
                     host; leave it out"
                )));
            }
            let value = HeaderValue::from_str(value).map_err(|_| {
                ToolError::invalid_input(format!(
                    "the value of header `{header}` is not a valid header value"
                ))
            })?;
            map.append(header, value);
        }
        Ok(map)
    }

    /// Adds each rule's secret to `headers` and to `redactor`.
    fn add_secrets(
        &self,
        host: &str,
        rules: &[&Rule],
        headers: &mut HeaderMap,
        redactor: &mut Redactor,
    ) -> Result<(), ToolError> {
        for rule in rules {
            let Some(secret) = self.env.secret(&rule.env_var) else {
                tracing::warn!(
                    host,
                    env_var = %rule.env_var,
                    "http_request: the credential's environment variable is not set"
                );
                return Err(ToolError::unavailable(format!(
                    "no credential is configured on this host for `{host}`"
                )));
            };
            let secret = secret.expose_secret();
            redactor.add(secret);
            let full = format!("{}{secret}", rule.value_prefix);
            redactor.add(&full);
            let mut value = HeaderValue::from_str(&full).map_err(|_| {
                ToolError::unavailable(format!(
                    "the credential configured on this host for `{host}` is not a valid \
                     header value"
                ))
            })?;
            value.set_sensitive(true);
            headers.insert(rule.header.clone(), value);
        }
        Ok(())
    }

    async fn send(&self, input: HttpRequestInput) -> Result<ToolOutput, ToolError> {
        let method = parse_method(&input.method)?;
        let url = Url::parse(&input.url)
            .map_err(|e| ToolError::invalid_input(format!("`url` is not an absolute URL: {e}")))?;
        let (host, rules) = self.route(&url)?;
        let mut headers = Self::model_headers(&input.headers, &rules)?;
        let mut redactor = Redactor::new();
        self.add_secrets(&host, &rules, &mut headers, &mut redactor)?;

        tracing::debug!(method = %method, host = %host, path = url.path(), "http_request: sending");
        let mut request = self.client.request(method, url).headers(headers);
        if let Some(body) = input.body {
            request = request.body(body);
        }
        let fail = |e: reqwest::Error| transport_error(&e, &host, self.timeout, &redactor);
        let response = request.send().await.map_err(fail)?;
        let text = render_response(response, &redactor, self.max_response_bytes)
            .await
            .map_err(fail)?;
        Ok(ToolOutput::text(text))
    }
}

/// Input of the `http_request` tool.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpRequestInput {
    /// The HTTP method.
    #[serde(default = "default_method")]
    #[schemars(extend("enum" = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]))]
    pub method: String,
    /// The absolute URL: `https://<allowed host>/path?query`.
    pub url: String,
    /// Extra request headers by name. Credentials for allowed hosts are added by the host:
    /// do not send them.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body, sent as UTF-8 text (set a `content-type` header to match).
    #[serde(default)]
    pub body: Option<String>,
}

fn default_method() -> String {
    "GET".to_owned()
}

fn parse_method(method: &str) -> Result<Method, ToolError> {
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

/// Whether a URL host (as [`Url::host_str`] writes it) is a loopback address.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[async_trait::async_trait]
impl TypedTool for HttpRequest {
    const NAME: &'static str = NAME;
    type Input = HttpRequestInput;

    fn description(&self) -> &str {
        &self.description
    }

    async fn run(
        &self,
        input: HttpRequestInput,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => Err(ToolError::cancelled()),
            result = self.send(input) => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(rules: Vec<SecretHeaderRule>) -> Result<HttpRequest, ConfigError> {
        HttpRequest::new(
            HttpRequestConfig {
                rules,
                ..HttpRequestConfig::default()
            },
            Env::empty(),
        )
    }

    #[test]
    fn config_is_validated() {
        let cases = [
            (vec![], "no host is allowed (the rule list is empty)"),
            (
                vec![SecretHeaderRule::new(
                    "https://api.example.com",
                    "x-api-key",
                    "K",
                )],
                "`https://api.example.com` is not a host name or IP address",
            ),
            (
                vec![SecretHeaderRule::new("api.example.com", "bad header", "K")],
                "`bad header` is not a header name",
            ),
            (
                vec![SecretHeaderRule::new("api.example.com", "Host", "K")],
                "the header `host` cannot carry a secret",
            ),
            (
                vec![SecretHeaderRule::new("api.example.com", "x-api-key", "")],
                "the rule for `api.example.com` names no environment variable",
            ),
        ];
        for (rules, reason) in cases {
            let err = tool(rules).unwrap_err();
            assert_eq!(err.reason, reason);
        }
    }

    #[test]
    fn routing_follows_scheme_host_and_port() {
        let tool = tool(vec![
            SecretHeaderRule::new("API.example.com", "x-api-key", "K"),
            SecretHeaderRule::new("127.0.0.1", "x-api-key", "K").port(8080),
        ])
        .unwrap();
        let route = |url: &str| {
            tool.route(&Url::parse(url).unwrap())
                .map(|(host, rules)| (host, rules.len()))
                .map_err(|e| e.model_text())
        };
        assert_eq!(
            route("https://api.example.com/x"),
            Ok(("api.example.com".into(), 1))
        );
        assert_eq!(
            route("https://API.EXAMPLE.COM:443/x"),
            Ok(("api.example.com".into(), 1))
        );
        assert_eq!(route("http://127.0.0.1:8080/"), Ok(("127.0.0.1".into(), 1)));
        assert_eq!(
            route("https://api.example.com:8443/"),
            Err(
                "permission_denied: `api.example.com:8443` is not an allowed host; allowed: \
                 127.0.0.1:8080, api.example.com"
                    .into()
            )
        );
        assert_eq!(
            route("http://api.example.com/"),
            Err(
                "permission_denied: plain http is allowed only to localhost; use \
                 https://api.example.com"
                    .into()
            )
        );
        assert_eq!(
            route("ftp://api.example.com/"),
            Err(
                "invalid_input: unsupported URL scheme `ftp`: only https (and http to \
                 localhost) URLs are allowed"
                    .into()
            )
        );
        assert_eq!(
            route("https://u:p@api.example.com/"),
            Err(
                "invalid_input: the URL must not contain user info (`user:password@`); \
                 credentials are added by the host"
                    .into()
            )
        );
        assert_eq!(
            route("https://evil.example.com/"),
            Err(
                "permission_denied: `evil.example.com` is not an allowed host; allowed: \
                 127.0.0.1:8080, api.example.com"
                    .into()
            )
        );
    }

    #[test]
    fn the_description_lists_the_allowed_hosts_and_no_variable() {
        let tool = tool(vec![
            SecretHeaderRule::new("b.example.com", "x-api-key", "B_KEY"),
            SecretHeaderRule::new("a.example.com", "x-api-key", "A_KEY").port(8443),
            SecretHeaderRule::new("b.example.com", "x-other", "B_OTHER"),
        ])
        .unwrap();
        let description = TypedTool::description(&tool);
        assert!(
            description.ends_with("Allowed hosts: a.example.com:8443, b.example.com."),
            "{description}"
        );
        assert!(!description.contains("_KEY"), "{description}");
        assert!(!TypedTool::idempotent(&tool));
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "a.localhost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "[::2]", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn methods_are_checked() {
        assert_eq!(parse_method("post").unwrap(), Method::POST);
        assert_eq!(
            parse_method("CONNECT").unwrap_err().model_text(),
            "invalid_input: unsupported method `CONNECT`: use one of GET, HEAD, POST, PUT, \
             PATCH, DELETE, OPTIONS"
        );
    }
}
