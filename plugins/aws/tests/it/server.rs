//! The AWS tools against a local axum server on 127.0.0.1 that checks every request's
//! `Authorization` header the way AWS does: it parses the credential scope, rebuilds the
//! canonical request from what it received, derives the signing key from the secret it knows,
//! and compares signatures.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use steward_plugin_aws::env::{
    AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, AWS_REGION, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
};
use steward_plugin_aws::sigv4::{self, Request, Scope, Settings};
use steward_plugin_aws::{AwsConfig, AwsRequest, StsGetCallerIdentity};
use steward_tools::{Env, Tool, ToolContext, ToolError, ToolErrorKind};

const KEY_ID: &str = "AKIDCANARY00000001";
/// Canary secrets: must never appear in an output or an error.
const SECRET: &str = "canary/Secret+Access/Key0000000000000001";
const TOKEN: &str = "canary-session-token-FwoGZXIvYXdzEJr";

/// What the server accepted.
#[derive(Debug, Clone, PartialEq)]
struct Verified {
    method: String,
    path: String,
    query: String,
    region: String,
    service: String,
    signed_headers: String,
    body: String,
}

#[derive(Clone)]
struct Aws {
    /// The secret the server believes the key has.
    secret: &'static str,
    accepted: Arc<Mutex<Vec<Verified>>>,
}

impl Aws {
    fn new(secret: &'static str) -> Self {
        Self {
            secret,
            accepted: Arc::default(),
        }
    }

    fn accepted(&self) -> Vec<Verified> {
        self.accepted.lock().unwrap().clone()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, String> {
    headers
        .get(name)
        .ok_or_else(|| format!("missing header {name}"))?
        .to_str()
        .map_err(|_| format!("header {name} is not text"))
}

/// Checks a request's signature as AWS would.
fn verify(
    aws: &Aws,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verified, String> {
    let authorization = header(headers, "authorization")?;
    let fields = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("unknown algorithm")?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in fields.split(", ") {
        match field.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(format!("unexpected field {field}")),
        }
    }
    let (credential, signed_headers, signature) = (
        credential.ok_or("no Credential")?,
        signed_headers.ok_or("no SignedHeaders")?,
        signature.ok_or("no Signature")?,
    );
    let parts: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, "aws4_request"] = parts[..] else {
        return Err(format!("malformed credential {credential}"));
    };
    if key_id != KEY_ID {
        return Err("unknown access key".into());
    }
    let amz_date = header(headers, "x-amz-date")?;
    if !amz_date.starts_with(date) || amz_date.len() != 16 {
        return Err("x-amz-date does not match the credential scope".into());
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", "x-amz-date", "x-amz-security-token"] {
        if !names.contains(&required) {
            return Err(format!("{required} is not signed"));
        }
    }
    if header(headers, "x-amz-security-token")? != TOKEN {
        return Err("wrong security token".into());
    }
    let payload_sha256 = sigv4::sha256_hex(body);
    if let Ok(sent) = header(headers, "x-amz-content-sha256") {
        if sent != payload_sha256 {
            return Err("x-amz-content-sha256 does not match the body".into());
        }
    }
    let mut signed = Vec::new();
    for name in &names {
        for value in headers.get_all(*name) {
            let value = value.to_str().map_err(|_| "signed header is not text")?;
            signed.push(((*name).to_owned(), value.to_owned()));
        }
    }
    let request = Request {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &signed,
        payload_sha256: &payload_sha256,
    };
    let (canonical, recomputed_names) =
        sigv4::canonical_request(&request, Settings::for_service(service));
    if recomputed_names != signed_headers {
        return Err("SignedHeaders is not sorted and lowercase".into());
    }
    let scope = Scope {
        date,
        region,
        service,
    };
    let expected = sigv4::signature(
        &sigv4::signing_key(aws.secret, &scope),
        &sigv4::string_to_sign(amz_date, &scope, &canonical),
    );
    if expected != signature {
        return Err(
            "The request signature we calculated does not match the signature you \
                    provided."
                .into(),
        );
    }
    Ok(Verified {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers: signed_headers.to_owned(),
        body: String::from_utf8_lossy(body).into_owned(),
    })
}

async fn handle(
    State(aws): State<Aws>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verified = match verify(&aws, &method, &uri, &headers, &body) {
        Ok(verified) => verified,
        Err(message) => {
            let xml = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>\
                 <Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
            );
            return (StatusCode::FORBIDDEN, xml).into_response();
        }
    };
    aws.accepted.lock().unwrap().push(verified.clone());
    if verified.service == "sts" && verified.body == "Action=GetCallerIdentity&Version=2011-06-15" {
        return "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                <GetCallerIdentityResult>\
                <Arn>arn:aws:sts::123456789012:assumed-role/steward/session</Arn>\
                <UserId>AROAEXAMPLE:session</UserId>\
                <Account>123456789012</Account>\
                </GetCallerIdentityResult>\
                <ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata>\
                </GetCallerIdentityResponse>"
            .into_response();
    }
    if verified.path == "/echo-credentials" {
        // A misbehaving endpoint that quotes the credentials back.
        return (
            [("x-debug-token", TOKEN)],
            format!("token={TOKEN} secret={SECRET}"),
        )
            .into_response();
    }
    axum::Json(json!({
        "method": verified.method,
        "path": verified.path,
        "query": verified.query,
        "signed_headers": verified.signed_headers,
        "body": verified.body,
    }))
    .into_response()
}

async fn start(secret: &'static str) -> (Aws, SocketAddr) {
    let aws = Aws::new(secret);
    let router = Router::new().fallback(handle).with_state(aws.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (aws, addr)
}

fn env(addr: SocketAddr, region: Option<&str>) -> Env {
    let mut vars = vec![
        (AWS_ACCESS_KEY_ID, KEY_ID.to_owned()),
        (AWS_SECRET_ACCESS_KEY, SECRET.to_owned()),
        (AWS_SESSION_TOKEN, TOKEN.to_owned()),
        (AWS_ENDPOINT_URL, format!("http://{addr}")),
    ];
    if let Some(region) = region {
        vars.push((AWS_REGION, region.to_owned()));
    }
    Env::from_pairs(vars)
}

fn ctx() -> ToolContext {
    ToolContext::new("sesn_aws", "sevt_aws")
}

async fn call(tool: &dyn Tool, input: Value) -> Result<String, ToolError> {
    tool.call(input, &ctx()).await.map(|out| out.to_text())
}

/// The body after the status line and headers.
fn body(text: &str) -> &str {
    text.split_once("\n\n").unwrap().1
}

#[tokio::test]
async fn sts_get_caller_identity_is_signed_and_answered() {
    let (aws, addr) = start(SECRET).await;
    let tool = StsGetCallerIdentity::new(AwsConfig::new(env(addr, Some("eu-west-1"))));
    let out = call(&tool, json!({})).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({
            "account": "123456789012",
            "arn": "arn:aws:sts::123456789012:assumed-role/steward/session",
            "user_id": "AROAEXAMPLE:session"
        })
    );
    assert_eq!(
        aws.accepted(),
        [Verified {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            region: "eu-west-1".into(),
            service: "sts".into(),
            signed_headers: "content-type;host;x-amz-date;x-amz-security-token".into(),
            body: "Action=GetCallerIdentity&Version=2011-06-15".into(),
        }]
    );
}

#[tokio::test]
async fn sts_falls_back_to_us_east_1_without_a_configured_region() {
    let (aws, addr) = start(SECRET).await;
    let tool = StsGetCallerIdentity::new(AwsConfig::new(env(addr, None)));
    call(&tool, json!({})).await.unwrap();
    call(&tool, json!({"region": "ap-south-1"})).await.unwrap();
    let regions: Vec<String> = aws.accepted().into_iter().map(|v| v.region).collect();
    assert_eq!(regions, ["us-east-1", "ap-south-1"]);
}

/// Paths and query values that need encoding, for a double-encoding service and for S3.
#[tokio::test]
async fn aws_request_signatures_verify_for_encoded_paths_and_queries() {
    let (aws, addr) = start(SECRET).await;
    let tool = AwsRequest::new(AwsConfig::new(env(addr, Some("us-west-2"))));
    for (service, method, path, wire_path) in [
        (
            "execute-api",
            "GET",
            "/stage/items/a b+c",
            "/stage/items/a%20b%2Bc",
        ),
        (
            "s3",
            "PUT",
            "/bucket/dir/ké y.txt",
            "/bucket/dir/k%C3%A9%20y.txt",
        ),
    ] {
        let out = call(
            &tool,
            json!({
                "service": service,
                "method": method,
                "path": path,
                "query": {"prefix": "a/b c", "Z": "1", "list-type": "2", "empty": ""},
                "headers": {"x-amz-meta-note": "  spaced   value ", "Content-Type": "text/plain"},
                "body": "payload"
            }),
        )
        .await
        .unwrap();
        assert!(out.starts_with("HTTP 200 OK\n"), "{service}: {out}");
        let echoed: Value = serde_json::from_str(body(&out)).unwrap();
        assert_eq!(echoed["path"], wire_path, "{service}");
        assert_eq!(
            echoed["query"], "Z=1&empty=&list-type=2&prefix=a%2Fb%20c",
            "{service}"
        );
        assert_eq!(echoed["body"], "payload");
    }
    let accepted = aws.accepted();
    assert_eq!(accepted.len(), 2);
    assert_eq!(
        accepted[0].signed_headers,
        "content-type;host;x-amz-date;x-amz-meta-note;x-amz-security-token"
    );
    assert_eq!(
        accepted[1].signed_headers,
        "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-note;x-amz-security-token"
    );
}

/// The same request with a secret the server does not share fails its check: the verification
/// above is not vacuous, and the tool reports AWS's refusal as `permission_denied`.
#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_server() {
    let (aws, addr) = start("some-other-secret").await;
    let tool = StsGetCallerIdentity::new(AwsConfig::new(env(addr, Some("eu-west-1"))));
    let err = call(&tool, json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::PermissionDenied);
    assert_eq!(
        err.message(),
        "STS answered 403 Forbidden: SignatureDoesNotMatch: The request signature we \
         calculated does not match the signature you provided."
    );
    assert!(aws.accepted().is_empty());
}

#[tokio::test]
async fn echoed_credentials_are_redacted() {
    let (_aws, addr) = start(SECRET).await;
    let tool = AwsRequest::new(AwsConfig::new(env(addr, Some("us-east-1"))));
    let out = call(
        &tool,
        json!({"service": "execute-api", "path": "/echo-credentials"}),
    )
    .await
    .unwrap();
    assert_eq!(body(&out), "token=[REDACTED] secret=[REDACTED]");
    assert!(out.contains("x-debug-token: [REDACTED]\n"), "{out}");
}

#[tokio::test]
async fn inputs_the_tool_refuses() {
    let (aws, addr) = start(SECRET).await;
    let with_region = AwsRequest::new(AwsConfig::new(env(addr, Some("us-east-1"))));
    let without_region = AwsRequest::new(AwsConfig::new(env(addr, None)));
    let no_credentials = AwsRequest::new(AwsConfig::new(Env::empty()));
    let cases: [(&AwsRequest, Value, ToolErrorKind, &str); 7] = [
        (
            &no_credentials,
            json!({"service": "sts"}),
            ToolErrorKind::Unavailable,
            "no AWS credentials are configured on this host",
        ),
        (
            &without_region,
            json!({"service": "sts"}),
            ToolErrorKind::InvalidInput,
            "no region given and none configured on this host: pass `region`, such as `us-east-1`",
        ),
        (
            &with_region,
            json!({"service": "evil.example.com/"}),
            ToolErrorKind::InvalidInput,
            "`service` must be lowercase letters, digits and `-` (such as `us-east-1` or `sts`), \
             got `evil.example.com/`",
        ),
        (
            &with_region,
            json!({"service": "sts", "headers": {"Authorization": "x"}}),
            ToolErrorKind::InvalidInput,
            "the header `authorization` is set by the signer; leave it out",
        ),
        (
            &with_region,
            json!({"service": "sts", "host": "iam.amazonaws.com"}),
            ToolErrorKind::InvalidInput,
            "this host sends every AWS request to its configured endpoint; leave `host` out",
        ),
        (
            &with_region,
            json!({"service": "s3", "path": "/bucket/../etc"}),
            ToolErrorKind::InvalidInput,
            "`path` must not contain `.` or `..` segments",
        ),
        (
            &with_region,
            json!({"service": "sts", "region": 5}),
            ToolErrorKind::InvalidInput,
            "invalid input at `region`: invalid type: integer `5`, expected a string",
        ),
    ];
    for (tool, input, kind, message) in cases {
        let err = call(tool, input.clone()).await.unwrap_err();
        assert_eq!((err.kind(), err.message()), (kind, message), "{input}");
    }
    assert!(aws.accepted().is_empty());
}

/// Every path through both tools with canary credentials: the secret key and the session
/// token appear in no output and no error.
#[tokio::test]
async fn the_canary_appears_in_no_output_or_error() {
    let (_aws, addr) = start(SECRET).await;
    let (_wrong, wrong_addr) = start("wrong").await;
    let config = AwsConfig::new(env(addr, Some("us-east-1")));
    let mut texts = vec![
        format!("{:?}", AwsRequest::new(config.clone())),
        format!("{:?}", StsGetCallerIdentity::new(config.clone())),
    ];
    let tools: Vec<Box<dyn Tool>> = vec![
        Box::new(AwsRequest::new(config.clone())),
        Box::new(StsGetCallerIdentity::new(config)),
        Box::new(StsGetCallerIdentity::new(AwsConfig::new(env(
            wrong_addr,
            Some("us-east-1"),
        )))),
    ];
    let inputs = [
        json!({"service": "execute-api", "path": "/echo-credentials"}),
        json!({"service": "sts", "method": "POST", "body": "Action=GetCallerIdentity&Version=2011-06-15"}),
        json!({"service": "execute-api", "headers": {"x-amz-security-token": "x"}}),
        json!({}),
        json!({"region": "us-west-1"}),
    ];
    for tool in &tools {
        for input in &inputs {
            match call(tool.as_ref(), input.clone()).await {
                Ok(out) => texts.push(out),
                Err(err) => {
                    texts.push(err.model_text());
                    texts.push(format!("{err:?}"));
                }
            }
        }
    }
    for text in &texts {
        assert!(
            !text.contains(SECRET) && !text.contains(TOKEN),
            "a credential leaked into: {text}"
        );
    }
    assert!(texts.iter().any(|t| t.contains("[REDACTED]")));
}
