//! The tools: `aws_request` (any AWS API call) and `aws_sts_get_caller_identity` (who am I).

use std::collections::BTreeMap;
use std::fmt;

use reqwest::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use steward_tools::{ToolContext, ToolError, ToolOutput, TypedTool};

use crate::AwsConfig;
use crate::client::{AwsClient, Call};

/// `aws_request`: an AWS API request signed with the host's credentials.
///
/// Not idempotent: it may create, change or delete resources.
pub struct AwsRequest {
    client: AwsClient,
}

impl AwsRequest {
    /// The tool with this configuration.
    pub fn new(config: AwsConfig) -> Self {
        Self {
            client: AwsClient::new(config),
        }
    }
}

impl Default for AwsRequest {
    /// Reads the process environment at each call.
    fn default() -> Self {
        Self::new(AwsConfig::default())
    }
}

impl fmt::Debug for AwsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsRequest")
            .field("client", &self.client)
            .finish()
    }
}

/// Input of `aws_request`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsRequestInput {
    /// The service's signing name, such as `sts`, `s3`, `iam`, `ec2`, `lambda` or `dynamodb`.
    pub service: String,
    /// The region, such as `us-east-1`; defaults to the region configured on the host.
    #[serde(default)]
    pub region: Option<String>,
    /// The HTTP method.
    #[serde(default = "default_method")]
    #[schemars(extend("enum" = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]))]
    pub method: String,
    /// The URI path, not percent-encoded (the tool encodes it), starting with `/`.
    #[serde(default = "default_path")]
    pub path: String,
    /// Query parameters, not percent-encoded, such as `{"Action": "ListUsers", "Version":
    /// "2010-05-08"}`.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Extra headers, such as `content-type` or `x-amz-target`. Signing headers are added by
    /// the tool.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body, as UTF-8 text.
    #[serde(default)]
    pub body: Option<String>,
    /// The endpoint host when it is not `<service>.<region>.amazonaws.com` (for example
    /// `iam.amazonaws.com`); must be an AWS host name.
    #[serde(default)]
    pub host: Option<String>,
}

fn default_method() -> String {
    "GET".to_owned()
}

fn default_path() -> String {
    "/".to_owned()
}

#[steward_tools::async_trait]
impl TypedTool for AwsRequest {
    const NAME: &'static str = "aws_request";
    type Input = AwsRequestInput;

    fn description(&self) -> &str {
        "Sends a request to an AWS API, signed (SigV4) with this host's AWS credentials, and \
         returns the response status, headers and body. Give the service's signing name, the \
         method, the unencoded path and query parameters, and the body the API expects (for \
         example a form body `Action=...&Version=...` for query APIs, or JSON with an \
         `x-amz-target` header for JSON APIs). Credentials are never shown."
    }

    async fn run(
        &self,
        input: AwsRequestInput,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let call = Call {
            service: input.service,
            region: input.region,
            fallback_region: None,
            method: input.method,
            path: input.path,
            query: input.query,
            headers: input.headers,
            body: input.body,
            host: input.host,
        };
        tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => Err(ToolError::cancelled()),
            result = async {
                let (response, redactor, host) = self.client.send(call, ctx).await?;
                let text = self.client.render(response, &redactor, &host).await?;
                Ok(ToolOutput::text(text))
            } => result,
        }
    }
}

/// `aws_sts_get_caller_identity`: the account, ARN and user ID of the host's credentials.
///
/// Idempotent (it only reads).
pub struct StsGetCallerIdentity {
    client: AwsClient,
}

impl StsGetCallerIdentity {
    /// The tool with this configuration.
    pub fn new(config: AwsConfig) -> Self {
        Self {
            client: AwsClient::new(config),
        }
    }
}

impl Default for StsGetCallerIdentity {
    /// Reads the process environment at each call.
    fn default() -> Self {
        Self::new(AwsConfig::default())
    }
}

impl fmt::Debug for StsGetCallerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsGetCallerIdentity")
            .field("client", &self.client)
            .finish()
    }
}

/// Input of `aws_sts_get_caller_identity`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StsGetCallerIdentityInput {
    /// The STS region; defaults to the region configured on the host, else `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
}

#[steward_tools::async_trait]
impl TypedTool for StsGetCallerIdentity {
    const NAME: &'static str = "aws_sts_get_caller_identity";
    type Input = StsGetCallerIdentityInput;

    fn description(&self) -> &str {
        "Returns the AWS account, ARN and user ID of the credentials this host uses for AWS \
         (STS GetCallerIdentity)."
    }

    fn idempotent(&self) -> bool {
        true
    }

    async fn run(
        &self,
        input: StsGetCallerIdentityInput,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let call = Call {
            service: "sts".into(),
            region: input.region,
            fallback_region: Some("us-east-1"),
            method: "POST".into(),
            path: "/".into(),
            query: BTreeMap::new(),
            headers: BTreeMap::from([(
                "content-type".to_owned(),
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            )]),
            body: Some("Action=GetCallerIdentity&Version=2011-06-15".into()),
            host: None,
        };
        tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => Err(ToolError::cancelled()),
            result = self.caller_identity(call, ctx) => result,
        }
    }
}

impl StsGetCallerIdentity {
    async fn caller_identity(
        &self,
        call: Call,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let (response, redactor, host) = self.client.send(call, ctx).await?;
        let status = response.status();
        let text = self.client.render(response, &redactor, &host).await?;
        let body = text.split_once("\n\n").map_or("", |(_, body)| body);
        if status.is_success() {
            let field = |tag: &str| xml_text(body, tag).unwrap_or_default();
            return ToolOutput::json(&serde_json::json!({
                "account": field("Account"),
                "arn": field("Arn"),
                "user_id": field("UserId"),
            }));
        }
        let detail = match (xml_text(body, "Code"), xml_text(body, "Message")) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code,
            _ => body.chars().take(200).collect(),
        };
        let message = format!("STS answered {status}: {detail}");
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                ToolError::permission_denied(message)
            }
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
                ToolError::unavailable(message)
            }
            _ => ToolError::other(message),
        })
    }
}

/// The text of the first `<tag>…</tag>` element (no entity decoding beyond the five XML ones).
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(
        xml[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_reads_the_first_element() {
        let xml = "<R><Arn>arn:aws:iam::1:user/a&amp;b</Arn><Arn>x</Arn></R>";
        assert_eq!(
            xml_text(xml, "Arn").as_deref(),
            Some("arn:aws:iam::1:user/a&b")
        );
        assert_eq!(xml_text(xml, "Missing"), None);
    }
}
