//! Developer tasks: `cargo xtask <task>`.
//!
//! * `ci`: what CI runs: format check, clippy with `-D warnings`, every test, doc tests, docs, and
//!   the SDK conformance scripts.
//! * `test`: every test (nextest when installed).
//! * `conformance`: starts `steward-platform` on a free port in a temporary data dir and runs the
//!   official TypeScript and Python SDKs against it (`conformance/`).
//! * `bench`: the client-overhead bench beside the TypeScript SDK and the 1,000-session bench
//!   (`bench.rs`).
//! * `load`: sustained mixed load with 1,000 SSE streams on one platform process (`load.rs`).
//! * `fuzz`: the proptest fuzz targets with a high `PROPTEST_CASES` (`fuzz.rs`).

#![expect(clippy::print_stderr, reason = "xtask reports progress on stderr")]

mod bench;
mod conformance;
mod fuzz;
mod load;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let task = std::env::args().nth(1);
    let root = project_root();
    match task.as_deref() {
        Some("ci") => ci(&root),
        Some("test") => test(&root),
        Some("conformance") => conformance::run(&root, std::env::args().nth(2).as_deref()),
        Some("bench") => bench::run(&root, &std::env::args().skip(2).collect::<Vec<_>>()),
        Some("load") => load::run(&root, &std::env::args().skip(2).collect::<Vec<_>>()),
        Some("fuzz") => fuzz::run(&root, &std::env::args().skip(2).collect::<Vec<_>>()),
        Some("-h" | "--help") | None => {
            eprintln!(
                "usage: cargo xtask <task>\n\ntasks:\n  ci           fmt check, clippy -D warnings, tests, doc tests, docs, conformance\n  test         every test (nextest when installed, else cargo test)\n  conformance  the official TypeScript and Python SDKs against a local platform [filter]\n  bench        client overhead beside the TypeScript SDK, 1,000 sessions [client|sessions] [-- args]\n  load         1,000 SSE streams and 200 requests/s on one platform [--streams N --rps N --secs N --settle N]\n  fuzz         the proptest fuzz targets with many cases [--cases N | --secs N]"
            );
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}` (try `cargo xtask --help`)"),
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn ci(root: &Path) -> Result<()> {
    run(root, "cargo", &["fmt", "--all", "--", "--check"], &[])?;
    run(
        root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    test(root)?;
    run(
        root,
        "cargo",
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    conformance::run(root, None)
}

fn test(root: &Path) -> Result<()> {
    let have_nextest = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if have_nextest {
        let profile = if std::env::var_os("CI").is_some() {
            "ci"
        } else {
            "default"
        };
        run(
            root,
            "cargo",
            &["nextest", "run", "--workspace", "--profile", profile],
            &[],
        )?;
        run(root, "cargo", &["test", "--workspace", "--doc"], &[])
    } else {
        run(root, "cargo", &["test", "--workspace"], &[])
    }
}

pub(crate) fn run(root: &Path, program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root)
        .status()
        .with_context(|| format!("failed to start `{program}`"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}
