//! `cargo xtask bench [client|sessions] [-- <bench args>]`: the benches that need more than
//! `cargo bench`.
//!
//! * `client`: installs the official TypeScript SDK into `conformance/ts/node_modules` when it is
//!   missing (no lockfile), then runs `crates/runtime/benches/client.rs`, which starts one
//!   loopback server and drives it with the Rust client and with the SDK (`bench/ts/`) side by
//!   side, and prints requests per second, p50/p99 and the ratio.
//! * `sessions`: runs `crates/platform/benches/sessions.rs` (1,000 concurrent sessions on the
//!   offline model against one platform process).
//!
//! Without a name, both. Arguments after `--` go to the bench (`-- --quick`).

use std::path::Path;

use anyhow::{Result, bail};

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let (names, rest) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let all = names.is_empty();
    for name in names {
        if !matches!(name.as_str(), "client" | "sessions") {
            bail!("unknown bench `{name}` (client, sessions)");
        }
    }
    let wanted = |name: &str| all || names.iter().any(|n| n == name);
    if wanted("client") {
        let ts_dir = root.join("conformance/ts");
        if !ts_dir.join("node_modules/@anthropic-ai/sdk").exists() {
            crate::run(
                &ts_dir,
                "npm",
                &["install", "--no-package-lock", "--no-audit", "--no-fund"],
                &[],
            )?;
        }
        bench(root, "steward-runtime", "client", rest)?;
    }
    if wanted("sessions") {
        bench(root, "steward-platform", "sessions", rest)?;
    }
    Ok(())
}

fn bench(root: &Path, package: &str, bench: &str, rest: &[String]) -> Result<()> {
    let mut args = vec!["bench", "-p", package, "--bench", bench];
    if !rest.is_empty() {
        args.push("--");
        args.extend(rest.iter().map(String::as_str));
    }
    crate::run(root, "cargo", &args, &[])
}
