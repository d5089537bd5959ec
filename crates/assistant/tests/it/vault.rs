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
