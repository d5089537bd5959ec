//! `steward vault`: MCP OAuth credentials whose tokens never appear on the command line or in
//! the output.

use pretty_assertions::assert_eq;

use crate::support::{CliTest, Run, check_failure};

const TOKEN: &str = "mcp-access-token-do-not-print";

#[test]
fn add_mcp_oauth_reads_the_token_from_the_environment_and_never_prints_it() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let run: Run = test
        .command(&[
            "vault",
            "add-mcp-oauth",
            "-u",
            "alice",
            "--mcp-server-url",
            "https://mcp.example.com/mcp",
            "--name",
            "example",
            "-v",
        ])
        .env("STEWARD_MCP_ACCESS_TOKEN", TOKEN)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(!run.both().contains(TOKEN), "{}", run.both());
    assert!(
        run.stdout.starts_with("added mcp_oauth credential vcrd_"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("created vault vlt_"), "{}", run.stderr);

    let list = test.json(&["vault", "list", "-u", "alice"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["kind"], "mcp_oauth");
    assert_eq!(list[0]["mcp_server_url"], "https://mcp.example.com/mcp");
    assert_eq!(list[0]["name"], "example");
    assert!(!list.to_string().contains(TOKEN));

    let users = test.json(&["user", "list"]);
    assert!(users[0]["vault_id"].as_str().unwrap().starts_with("vlt_"));
    let created = test.json(&["vault", "create", "-u", "alice"]);
    assert_eq!(created["status"], "existing");
    assert_eq!(created["vault_id"], users[0]["vault_id"]);
}

#[test]
fn the_token_can_come_from_stdin_but_never_from_argv() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let run = test.run_with_stdin(
        &[
            "vault",
            "add-mcp-oauth",
            "-u",
            "alice",
            "--mcp-server-url",
            "https://mcp.example.com/mcp",
            "--token-stdin",
        ],
        &format!("{TOKEN}\n"),
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(!run.both().contains(TOKEN));

    let run = test.run(&[
        "vault",
        "add-mcp-oauth",
        "-u",
        "alice",
        "--mcp-server-url",
        "https://mcp.example.com/mcp",
    ]);
    check_failure(&run, 2);
    assert!(
        run.stderr.contains("error: no access token given"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("never read from the command line"),
        "{}",
        run.stderr
    );
    // There is no flag that takes a token.
    let run = test.run(&[
        "vault",
        "add-mcp-oauth",
        "-u",
        "alice",
        "--mcp-server-url",
        "https://x",
        "--access-token",
        TOKEN,
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(
        test.json(&["vault", "list", "-u", "alice"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

// ---- `steward vault validate` against a local MCP server and OAuth token endpoint ----

const STALE: &str = "assistant-stale-access-canary";
const REFRESH: &str = "assistant-refresh-canary";
const CLIENT_SECRET: &str = "assistant-client-secret-canary";
/// Every access token the local token endpoint issues starts with this.
const ISSUED: &str = "assistant-issued-canary-";
/// HTTP Basic of client ID `cli:1` and [`CLIENT_SECRET`], each form-urlencoded first.
const BASIC: &str = "Basic Y2xpJTNBMTphc3Npc3RhbnQtY2xpZW50LXNlY3JldC1jYW5hcnk=";

fn assert_no_secret(text: &str) {
    for secret in [STALE, REFRESH, CLIENT_SECRET, ISSUED] {
        assert!(!text.contains(secret), "`{secret}` leaked: {text}");
    }
}

#[derive(Default)]
struct Oauth {
    /// Access tokens the MCP server accepts.
    accepted: Vec<String>,
    grants: usize,
    revoked: bool,
}

/// A local HTTP/1.1 server on 127.0.0.1 (one request per connection): `/token` is an OAuth
/// token endpoint for client `cli:1` with `client_secret_basic`, `/mcp` a JSON-RPC MCP server
/// that accepts the tokens the endpoint issued.
fn local_servers() -> (String, std::sync::Arc<std::sync::Mutex<Oauth>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = std::sync::Arc::new(std::sync::Mutex::new(Oauth::default()));
    let shared = state.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    break;
                }
                let (k, v) = line.split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            let length: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body = String::from_utf8(body).unwrap();
            let mut parts = request_line.split(' ');
            let (method, path) = (parts.next().unwrap(), parts.next().unwrap());
            let mut state = shared.lock().unwrap();
            let (status, content) = match (method, path) {
                ("POST", "/token") => {
                    state.grants += 1;
                    let form_ok = body.contains("grant_type=refresh_token")
                        && body.contains(&format!("refresh_token={REFRESH}"))
                        && !body.contains("client_secret");
                    if state.revoked
                        || !form_ok
                        || header("authorization").as_deref() != Some(BASIC)
                    {
                        (
                            "400 Bad Request",
                            r#"{"error":"invalid_grant","error_description":"revoked"}"#.to_owned(),
                        )
                    } else {
                        let token = format!("{ISSUED}{}", state.grants);
                        state.accepted.push(token.clone());
                        (
                            "200 OK",
                            format!(
                                r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#
                            ),
                        )
                    }
                }
                (_, "/mcp") => {
                    let authorized = header("authorization")
                        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned))
                        .is_some_and(|t| state.accepted.contains(&t));
                    if !authorized {
                        (
                            "401 Unauthorized",
                            r#"{"error":"invalid_token"}"#.to_owned(),
                        )
                    } else if method == "DELETE" {
                        ("200 OK", "{}".to_owned())
                    } else {
                        let request: serde_json::Value = serde_json::from_str(&body).unwrap();
                        match request["method"].as_str().unwrap() {
                            "notifications/initialized" => ("202 Accepted", String::new()),
                            _ => (
                                "200 OK",
                                serde_json::json!({"jsonrpc": "2.0", "id": request["id"],
                                                   "result": {"tools": [], "capabilities": {}}})
                                .to_string(),
                            ),
                        }
                    }
                }
                _ => ("404 Not Found", "{}".to_owned()),
            };
            drop(state);
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{content}",
                content.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (base, state)
}

#[test]
fn validate_refreshes_a_stale_token_and_prints_the_verdict() {
    let (base, oauth) = local_servers();
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let secrets = serde_json::json!({
        "access_token": STALE, "refresh_token": REFRESH, "client_secret": CLIENT_SECRET,
    });
    let mcp_url = format!("{base}/mcp");
    let token_url = format!("{base}/token");
    let run = test.run_with_stdin(
        &[
            "--json",
            "vault",
            "add-mcp-oauth",
            "-u",
            "alice",
            "--server-url",
            &mcp_url,
            "--token-endpoint",
            &token_url,
            "--client-id",
            "cli:1",
            "--client-auth",
            "basic",
            "--stdin",
        ],
        &secrets.to_string(),
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert_no_secret(&run.both());
    let added: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let credential = added["credential_id"].as_str().unwrap().to_owned();

    // The stored token is rejected; the refresh (HTTP Basic) gets one the server accepts.
    let run = test.run(&["vault", "validate", "-u", "alice", &credential]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_no_secret(&run.both());
    assert_eq!(
        run.stdout,
        format!("{credential}: valid (its access token was refreshed)\n")
    );
    assert_eq!(oauth.lock().unwrap().grants, 1);

    // The refreshed token was stored: valid without another grant.
    let result = test.json(&["vault", "validate", "-u", "alice", &credential]);
    assert_no_secret(&result.to_string());
    assert_eq!(result["type"], "vault_credential_validation");
    assert_eq!(result["status"], "valid");
    assert_eq!(result["refresh"], serde_json::Value::Null);
    assert_eq!(result["has_refresh_token"], true);
    assert_eq!(oauth.lock().unwrap().grants, 1);

    // Revoked everywhere: invalid, with why and what to do.
    {
        let mut state = oauth.lock().unwrap();
        state.accepted.clear();
        state.revoked = true;
    }
    let run = test.run(&["vault", "validate", "-u", "alice", &credential]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_no_secret(&run.both());
    assert_eq!(
        run.stdout,
        format!(
            "{credential}: invalid (the MCP server answered HTTP 401 to `initialize`; refreshing \
             the token failed: the token endpoint answered HTTP 400)\n"
        )
    );
    assert!(
        run.stderr.contains("hint: authorize again"),
        "{}",
        run.stderr
    );
    let list = test.json(&["vault", "list", "-u", "alice"]);
    assert_no_secret(&list.to_string());
    assert_eq!(list[0]["refresh_error"], "invalid_grant: revoked");
    let run = test.run(&["vault", "list", "-u", "alice"]);
    assert!(
        run.stderr.contains(&format!(
            "{credential}: the last token refresh failed: invalid_grant: revoked"
        )),
        "{}",
        run.both()
    );
}

#[test]
fn secrets_can_come_as_lines_on_stdin_and_validate_checks_its_arguments() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let run = test.run(&["vault", "validate", "-u", "alice", "vcrd_nothing"]);
    check_failure(&run, 2);
    assert!(
        run.stderr.contains("`alice` has no vault"),
        "{}",
        run.stderr
    );
    let run = test.run_with_stdin(
        &[
            "vault",
            "add-mcp-oauth",
            "-u",
            "alice",
            "--mcp-server-url",
            "https://mcp.example.com/mcp",
            "--token-endpoint",
            "https://auth.example.com/token",
            "--client-id",
            "cli",
            "--token-stdin",
        ],
        &format!("{STALE}\n{REFRESH}\n"),
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert_no_secret(&run.both());
    let list = test.json(&["vault", "list", "-u", "alice"]);
    assert_eq!(list[0]["refreshes"], true);
    assert_eq!(list[0].get("refresh_error"), None);

    let run = test.run(&["vault", "validate", "-u", "alice", "not-an-id"]);
    check_failure(&run, 2);
    let run = test.run(&["vault", "validate", "-u", "alice", "vcrd_missing"]);
    check_failure(&run, 1);

    // A malformed JSON object on stdin is refused without echoing it.
    let run = test.run_with_stdin(
        &[
            "vault",
            "add-mcp-oauth",
            "-u",
            "alice",
            "--mcp-server-url",
            "https://mcp.example.com/mcp",
            "--stdin",
        ],
        &format!("{{\"access_token\": \"{STALE}\", \"password\": \"{REFRESH}\"}}"),
    );
    check_failure(&run, 2);
    assert_no_secret(&run.both());
    assert!(
        run.stderr.contains("unexpected key `password`"),
        "{}",
        run.stderr
    );
}
