//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), header form, implemented from the AWS
//! specification with `hmac` and `sha2`.
//!
//! The steps, each a public function so tests (and a verifying server) can check them one by
//! one against the values AWS publishes:
//!
//! 1. [`canonical_request`]: method, canonical URI, canonical query, canonical headers, signed
//!    header names and the payload hash, joined by newlines.
//! 2. [`string_to_sign`]: the algorithm, the timestamp, the credential scope and the hash of the
//!    canonical request.
//! 3. [`signing_key`]: `HMAC("AWS4" + secret, date)`, then region, service, `aws4_request`.
//! 4. [`signature`]: `hex(HMAC(signing key, string to sign))`, and the `Authorization` header
//!    ([`authorization`]).
//!
//! [`sign`] does all of it for a request and returns the headers to add.
//!
//! Canonical URI: the path as sent (already percent-encoded), which every service except S3
//! encodes a second time ([`Settings::double_encode_path`]). Canonical query: each name and
//! value percent-decoded, re-encoded with the SigV4 rules (everything except `A-Z a-z 0-9 - _
//! . ~` as `%XX`), sorted by name then value. Canonical headers: lowercase names, values trimmed
//! with inner runs of spaces collapsed, sorted by name.

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret as _;
use sha2::{Digest, Sha256};

use crate::Credentials;

/// The algorithm name in the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Hex SHA-256 of the empty payload.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Service-specific signing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Encode the (already encoded) path a second time: `true` for every service except S3.
    pub double_encode_path: bool,
    /// Send and sign `x-amz-content-sha256` (S3 requires it).
    pub content_sha256_header: bool,
}

impl Settings {
    /// The rules of `service`: S3 (`s3`) signs the path as sent and wants the payload hash
    /// header; every other service double-encodes the path.
    pub fn for_service(service: &str) -> Self {
        let s3 = service == "s3";
        Self {
            double_encode_path: !s3,
            content_sha256_header: s3,
        }
    }
}

/// A request as the signer sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method, uppercase.
    pub method: &'a str,
    /// The path as sent on the wire (percent-encoded), starting with `/`.
    pub path: &'a str,
    /// The query string as sent, without `?` (may be empty).
    pub query: &'a str,
    /// The headers to sign, `host` and `x-amz-date` included; names in any case.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body.
    pub payload_sha256: &'a str,
}

/// Where a signature is valid: `<date>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// `YYYYMMDD` (UTC).
    pub date: &'a str,
    /// Region, such as `us-east-1`.
    pub region: &'a str,
    /// The service's signing name, such as `iam` or `s3`.
    pub service: &'a str,
}

impl Scope<'_> {
    /// `<date>/<region>/<service>/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// The canonical request and the `;`-joined signed header names.
pub fn canonical_request(request: &Request<'_>, settings: Settings) -> (String, String) {
    let uri = canonical_uri(request.path, settings);
    let query = canonical_query(request.query);
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), canonical_header_value(value)))
        .collect();
    // Stable: repeated headers keep the order they were sent in.
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    // Repeated headers become one line, values comma-separated in the order sent.
    let mut merged: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        match merged.last_mut() {
            Some((last, values)) if *last == name => {
                values.push(',');
                values.push_str(&value);
            }
            _ => merged.push((name, value)),
        }
    }
    let mut canonical_headers = String::new();
    for (name, value) in &merged {
        let _ = writeln!(canonical_headers, "{name}:{value}");
    }
    let signed_headers = merged
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{uri}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method, request.payload_sha256
    );
    (canonical, signed_headers)
}

/// The string to sign for a canonical request.
pub fn string_to_sign(amz_date: &str, scope: &Scope<'_>, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        scope.credential_scope(),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The signing key derived from a secret access key for a scope.
pub fn signing_key(secret_access_key: &str, scope: &Scope<'_>) -> [u8; 32] {
    let k_date = hmac_sha256(
        format!("AWS4{secret_access_key}").as_bytes(),
        scope.date.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, scope.region.as_bytes());
    let k_service = hmac_sha256(&k_region, scope.service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// The hex signature of a string to sign.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// The `Authorization` header value.
pub fn authorization(
    access_key_id: &str,
    scope: &Scope<'_>,
    signed_headers: &str,
    signature: &str,
) -> String {
    format!(
        "{ALGORITHM} Credential={access_key_id}/{}, SignedHeaders={signed_headers}, \
         Signature={signature}",
        scope.credential_scope()
    )
}

/// The headers [`sign`] adds to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `x-amz-date`.
    pub amz_date: String,
    /// `x-amz-content-sha256`, when the service wants it.
    pub content_sha256: Option<String>,
    /// `x-amz-security-token`, with temporary credentials.
    pub security_token: Option<String>,
    /// `authorization`.
    pub authorization: String,
}

impl SignedHeaders {
    /// The headers as `(name, value)` pairs, lowercase names.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![("x-amz-date", self.amz_date.as_str())];
        if let Some(hash) = &self.content_sha256 {
            pairs.push(("x-amz-content-sha256", hash));
        }
        if let Some(token) = &self.security_token {
            pairs.push(("x-amz-security-token", token));
        }
        pairs.push(("authorization", &self.authorization));
        pairs
    }
}

/// A request to sign: what [`sign`] needs besides credentials, region, service and time.
#[derive(Debug, Clone, Copy)]
pub struct Unsigned<'a> {
    /// HTTP method, uppercase.
    pub method: &'a str,
    /// The path as sent on the wire (percent-encoded), starting with `/`.
    pub path: &'a str,
    /// The query string as sent, without `?` (may be empty).
    pub query: &'a str,
    /// The headers to sign, `host` included.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

/// Signs a request for `service` in `region` at `amz_date` (`YYYYMMDDTHHMMSSZ`), with the
/// service's [`Settings`].
///
/// Besides the request's own headers (`host` included), `sign` signs `x-amz-date`,
/// `x-amz-content-sha256` (per [`Settings`]) and `x-amz-security-token` (with a session token),
/// and returns them with the `Authorization` header, for the caller to send.
pub fn sign(
    credentials: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
    request: &Unsigned<'_>,
) -> SignedHeaders {
    let settings = Settings::for_service(service);
    let payload_sha256 = sha256_hex(request.body);
    let mut signed: Vec<(String, String)> = request.headers.to_vec();
    signed.push(("x-amz-date".into(), amz_date.into()));
    let content_sha256 = settings
        .content_sha256_header
        .then(|| payload_sha256.clone());
    if let Some(hash) = &content_sha256 {
        signed.push(("x-amz-content-sha256".into(), hash.clone()));
    }
    let security_token = credentials
        .session_token
        .as_ref()
        .map(|token| token.expose_secret().to_owned());
    if let Some(token) = &security_token {
        signed.push(("x-amz-security-token".into(), token.clone()));
    }
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let scope = Scope {
        date,
        region,
        service,
    };
    let canonical_input = Request {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: &signed,
        payload_sha256: &payload_sha256,
    };
    let (canonical, signed_headers) = canonical_request(&canonical_input, settings);
    let to_sign = string_to_sign(amz_date, &scope, &canonical);
    let key = signing_key(credentials.secret_access_key.expose_secret(), &scope);
    let signature = signature(&key, &to_sign);
    SignedHeaders {
        amz_date: amz_date.to_owned(),
        content_sha256,
        security_token,
        authorization: authorization(
            &credentials.access_key_id,
            &scope,
            &signed_headers,
            &signature,
        ),
    }
}

/// Percent-encodes with the SigV4 rules: every byte except `A-Z a-z 0-9 - _ . ~` becomes `%XX`
/// (uppercase hex); with `keep_slash`, `/` is kept too (for paths).
pub fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else if b == b'/' && keep_slash {
            out.push('/');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes `%XX` escapes (a `+` stays a `+`); an invalid escape is kept as it is.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical URI of a path as sent.
pub fn canonical_uri(path: &str, settings: Settings) -> String {
    let path = if path.is_empty() { "/" } else { path };
    if settings.double_encode_path {
        uri_encode(&remove_dot_segments(path), true)
    } else {
        path.to_owned()
    }
}

/// The canonical query string of a query as sent.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                uri_encode(&percent_decode(name), false),
                uri_encode(&percent_decode(value), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header value trimmed, with inner runs of spaces collapsed to one.
fn canonical_header_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// RFC 3986 dot-segment removal (`/a/./b/../c` → `/a/c`), as SigV4 normalizes non-S3 paths.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let trailing = path.ends_with("/.") || path.ends_with("/..");
    let mut out = format!("/{}", segments.join("/"));
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    //! Known answers published by AWS: the signature test suite (`aws-sig-v4-test-suite`,
    //! credentials `AKIDEXAMPLE`), the IAM guide's worked example (`ListUsers`), the signing key
    //! example, and the S3 API reference's `GET Object` example.

    use pretty_assertions::assert_eq;
    use secrecy::SecretString;

    use super::*;

    const SUITE_KEY_ID: &str = "AKIDEXAMPLE";
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";

    fn suite_credentials() -> Credentials {
        Credentials {
            access_key_id: SUITE_KEY_ID.into(),
            secret_access_key: SecretString::from(SUITE_SECRET),
            session_token: None,
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The signing key example of the IAM guide.
    #[test]
    fn signing_key_matches_the_documented_derivation() {
        let scope = Scope {
            date: "20120215",
            region: "us-east-1",
            service: "iam",
        };
        assert_eq!(
            hex::encode(signing_key(SUITE_SECRET, &scope)),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    /// `get-vanilla`: every intermediate value of the suite.
    #[test]
    fn get_vanilla_step_by_step() {
        let signed = headers(&[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", SUITE_DATE),
        ]);
        let request = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &signed,
            payload_sha256: EMPTY_PAYLOAD_SHA256,
        };
        let (canonical, signed_headers) =
            canonical_request(&request, Settings::for_service("service"));
        assert_eq!(
            canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(signed_headers, "host;x-amz-date");
        let scope = Scope {
            date: "20150830",
            region: "us-east-1",
            service: "service",
        };
        let to_sign = string_to_sign(SUITE_DATE, &scope, &canonical);
        assert_eq!(
            to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(
            signature(&signing_key(SUITE_SECRET, &scope), &to_sign),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    /// Whole requests of the suite through [`sign`].
    #[test]
    fn suite_requests_sign_to_the_published_authorization() {
        let cases = [
            (
                "get-vanilla",
                "GET",
                "",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            (
                "get-vanilla-query-order-key-case",
                "GET",
                "Param2=value2&Param1=value1",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            (
                "post-vanilla",
                "POST",
                "",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
        ];
        for (name, method, query, expected) in cases {
            let signed = sign(
                &suite_credentials(),
                "us-east-1",
                "service",
                SUITE_DATE,
                &Unsigned {
                    method,
                    path: "/",
                    query,
                    headers: &headers(&[("host", "example.amazonaws.com")]),
                    body: b"",
                },
            );
            assert_eq!(
                signed.authorization,
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/\
                     aws4_request, SignedHeaders=host;x-amz-date, Signature={expected}"
                ),
                "{name}"
            );
            assert_eq!(signed.amz_date, SUITE_DATE);
            assert_eq!(signed.content_sha256, None);
        }
    }

    /// The IAM guide's worked example: `GET https://iam.amazonaws.com/?Action=ListUsers&
    /// Version=2010-05-08` with a form content type.
    #[test]
    fn iam_list_users_matches_the_guide() {
        let signed = headers(&[
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("Host", "iam.amazonaws.com"),
            ("X-Amz-Date", SUITE_DATE),
        ]);
        let request = Request {
            method: "GET",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: &signed,
            payload_sha256: EMPTY_PAYLOAD_SHA256,
        };
        let (canonical, _) = canonical_request(&request, Settings::for_service("iam"));
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let out = sign(
            &suite_credentials(),
            "us-east-1",
            "iam",
            SUITE_DATE,
            &Unsigned {
                method: "GET",
                path: "/",
                query: "Action=ListUsers&Version=2010-05-08",
                headers: &headers(&[
                    (
                        "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8",
                    ),
                    ("host", "iam.amazonaws.com"),
                ]),
                body: b"",
            },
        );
        assert_eq!(
            out.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    /// The S3 API reference's `GET Object` example: the first ten bytes of `test.txt`, signed
    /// with `x-amz-content-sha256` and a path that S3 does not encode twice.
    #[test]
    fn s3_get_object_matches_the_api_reference() {
        let credentials = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: SecretString::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        };
        let out = sign(
            &credentials,
            "us-east-1",
            "s3",
            "20130524T000000Z",
            &Unsigned {
                method: "GET",
                path: "/test.txt",
                query: "",
                headers: &headers(&[
                    ("host", "examplebucket.s3.amazonaws.com"),
                    ("range", "bytes=0-9"),
                ]),
                body: b"",
            },
        );
        assert_eq!(
            out.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert_eq!(out.content_sha256.as_deref(), Some(EMPTY_PAYLOAD_SHA256));
    }

    #[test]
    fn session_tokens_are_signed_and_returned() {
        let credentials = Credentials {
            session_token: Some(SecretString::from("token-1")),
            ..suite_credentials()
        };
        let out = sign(
            &credentials,
            "us-east-1",
            "service",
            SUITE_DATE,
            &Unsigned {
                method: "GET",
                path: "/",
                query: "",
                headers: &headers(&[("host", "example.amazonaws.com")]),
                body: b"",
            },
        );
        assert_eq!(out.security_token.as_deref(), Some("token-1"));
        assert!(
            out.authorization
                .contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            "{}",
            out.authorization
        );
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(
            uri_encode("a b/c~d._-*+é", false),
            "a%20b%2Fc~d._-%2A%2B%C3%A9"
        );
        assert_eq!(uri_encode("/a b/c", true), "/a%20b/c");
        assert_eq!(percent_decode("a%20b%2fc+d%zz%"), "a b/c+d%zz%");
        assert_eq!(canonical_query("b=2&a=2&a=1&c"), "a=1&a=2&b=2&c=");
        assert_eq!(canonical_query("k=a%20b&k2=a+b"), "k=a%20b&k2=a%2Bb");
        let double = Settings::for_service("service");
        let single = Settings::for_service("s3");
        assert_eq!(
            canonical_uri("/documents%20and%20settings/", double),
            "/documents%2520and%2520settings/"
        );
        assert_eq!(
            canonical_uri("/documents%20and%20settings/", single),
            "/documents%20and%20settings/"
        );
        assert_eq!(canonical_uri("/a/./b/../c", double), "/a/c");
        assert_eq!(canonical_uri("", double), "/");
        assert_eq!(canonical_header_value("  a   b  c "), "a b c");
    }

    #[test]
    fn repeated_headers_are_merged_in_order() {
        let signed = headers(&[("X-B", "2"), ("host", "h"), ("x-b", "1")]);
        let request = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &signed,
            payload_sha256: EMPTY_PAYLOAD_SHA256,
        };
        let (canonical, signed_headers) = canonical_request(&request, Settings::for_service("x"));
        assert!(canonical.contains("host:h\nx-b:2,1\n"), "{canonical}");
        assert_eq!(signed_headers, "host;x-b");
    }
}
