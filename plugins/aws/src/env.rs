//! The environment variables the AWS tools read, the names the AWS SDKs and CLI use.

/// Access key ID (`AKIA…` for long-term keys, `ASIA…` for temporary ones).
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// Secret access key.
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// Session token of temporary credentials (optional).
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// Default region.
pub const AWS_REGION: &str = "AWS_REGION";
/// Default region, read when [`AWS_REGION`] is unset.
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// An endpoint that every request goes to instead of `https://<service>.<region>.amazonaws.com`
/// (a VPC endpoint, LocalStack, a test server).
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
