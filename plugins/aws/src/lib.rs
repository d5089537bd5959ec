//! AWS tools for Steward sessions, signed with SigV4 from the host's credentials.
//!
//! The motivating case for host-side tools: the agent asks for an AWS call, the host signs it
//! with credentials that never leave the host (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! optional `AWS_SESSION_TOKEN`; see [`env`](mod@env)), and the model sees only the response, with any
//! echo of a secret redacted.
//!
//! * `aws_request` ([`AwsRequest`]): any AWS API call (service, region, method, path, query,
//!   headers, body).
//! * `aws_sts_get_caller_identity` ([`StsGetCallerIdentity`]): which account and principal the
//!   host's credentials are.
//!
//! Both are registered with inventory: linking this crate is all a host does to offer them.
//! A crate that is only a Cargo dependency and never named from Rust can be dropped by the
//! linker (rust-lang/rust#64402), so a host names it:
//!
//! ```
//! use steward_plugin_aws as _;
//!
//! let registry = steward_tools::Registry::from_inventory().unwrap();
//! assert!(registry.contains("aws_request"));
//! ```
//!
//! Registered tools read the process environment at each call ([`AwsConfig::default`]); a host
//! (or a test) that wants another source builds them with [`AwsRequest::new`] and
//! [`StsGetCallerIdentity::new`] and adds them with `Registry::with` (after removing the
//! registered ones).
//!
//! Signing ([`sigv4`]) is implemented here from the AWS specification with `hmac` and `sha2`
//! and checked against the values AWS publishes.

mod client;
mod credentials;
pub mod env;
pub mod sigv4;
mod tools;

pub use client::AwsConfig;
pub use credentials::Credentials;
pub use tools::{AwsRequest, AwsRequestInput, StsGetCallerIdentity, StsGetCallerIdentityInput};

steward_tools::register_tool!(AwsRequest);
steward_tools::register_tool!(StsGetCallerIdentity);
