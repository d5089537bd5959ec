//! `mcp-fixture`: serves an [`McpFixture`] for the SDK conformance run (`cargo xtask
//! conformance`), until stdin closes or the process is killed.
//!
//! Once it listens it prints, one per line, the variables the conformance scripts read, then
//! `ready`:
//!
//! ```text
//! STEWARD_MCP_URL=http://127.0.0.1:<port>/mcp
//! STEWARD_MCP_TOKEN_URL=http://127.0.0.1:<port>/token
//! STEWARD_MCP_ACCESS_TOKEN=<a token the MCP server accepts>
//! STEWARD_MCP_REFRESH_TOKEN=<a refresh token the token endpoint honours>
//! ready
//! ```
//!
//! The tokens are fresh random values on each run unless given as `--access-token` /
//! `--refresh-token`; `--listen ADDR` picks the address (default `127.0.0.1:0`).

use std::io::Write as _;

use steward_test_support::mcp::McpFixture;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut access, mut refresh) = (None, None);
    let mut listen = "127.0.0.1:0".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--access-token" => access = args.next(),
            "--refresh-token" => refresh = args.next(),
            "--listen" => listen = args.next().unwrap_or(listen),
            other => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "unknown argument {other}; usage: mcp-fixture [--listen ADDR] [--access-token T] [--refresh-token T]"
                    ),
                ));
            }
        }
    }
    let random = || format!("{:032x}", rand::random::<u128>());
    let access = access.unwrap_or_else(|| format!("fixture-access-{}", random()));
    let refresh = refresh.unwrap_or_else(|| format!("fixture-refresh-{}", random()));
    let fixture = McpFixture::start_on(&listen).await?;
    fixture.accept(&access);
    fixture.add_refresh_token(&refresh);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "STEWARD_MCP_URL={}", fixture.mcp_url())?;
    writeln!(stdout, "STEWARD_MCP_TOKEN_URL={}", fixture.token_url())?;
    writeln!(stdout, "STEWARD_MCP_ACCESS_TOKEN={access}")?;
    writeln!(stdout, "STEWARD_MCP_REFRESH_TOKEN={refresh}")?;
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    drop(stdout);
    // Serve until stdin closes (the parent went away) or the process is killed.
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink)
    })
    .await;
    fixture.stop();
    Ok(())
}
