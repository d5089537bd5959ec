//! `cargo xtask conformance`: the official SDKs against a local platform.
//!
//! Builds `steward-platform`, starts it on a free loopback port with a temporary data dir, and
//! runs `conformance/ts/check.mjs` (TypeScript SDK) and `conformance/py/check.py` (Python SDK)
//! against it. The SDKs are installed on first use: the TypeScript SDK into
//! `conformance/ts/node_modules`, the Python SDK into a venv at `target/conformance-venv`
//! (`$STEWARD_PYTHON` overrides the interpreter).
//!
//! When the `mcp` group runs (no filter, or one that `mcp` contains), it also starts the MCP
//! fixture (`steward-test-support`'s `mcp-fixture` binary: a local MCP server that requires a
//! bearer token, with its token endpoint) and passes its URLs and the tokens it accepts to the
//! scripts as `STEWARD_MCP_URL`, `STEWARD_MCP_TOKEN_URL`, `STEWARD_MCP_ACCESS_TOKEN` and
//! `STEWARD_MCP_REFRESH_TOKEN`; it is stopped with the platform when the run ends.

use std::io::{BufRead as _, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Kills the platform when the run ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run(root: &Path, filter: Option<&str>) -> Result<()> {
    crate::run(
        root,
        "cargo",
        &[
            "build",
            "--quiet",
            "-p",
            "steward-platform",
            "--bin",
            "steward-platform",
        ],
        &[],
    )?;
    let with_mcp = filter.is_none_or(|f| "mcp".contains(f));
    if with_mcp {
        crate::run(
            root,
            "cargo",
            &[
                "build",
                "--quiet",
                "-p",
                "steward-test-support",
                "--bin",
                "mcp-fixture",
            ],
            &[],
        )?;
    }
    let ts_dir = root.join("conformance/ts");
    if !ts_dir.join("node_modules/@anthropic-ai/sdk").exists() {
        crate::run(
            &ts_dir,
            "npm",
            &["install", "--no-package-lock", "--no-audit", "--no-fund"],
            &[],
        )?;
    }

    let data_dir = std::env::temp_dir().join(format!("steward-conformance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir)?;
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binary = target_dir.join("debug/steward-platform");
    let child = Command::new(&binary)
        .args(["serve", "--listen", &listen, "--data-dir"])
        .arg(&data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("failed to start {}", binary.display()))?;
    let _server = Server(child);
    wait_for(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    let key = std::fs::read_to_string(data_dir.join("api_key"))
        .context("the platform wrote no api_key file in its data dir")?;
    let base_url = format!("http://{listen}");
    let mut envs: Vec<(&str, String)> = vec![
        ("STEWARD_BASE_URL", base_url),
        ("STEWARD_API_KEY", key.trim().to_owned()),
    ];
    let _fixture = if with_mcp {
        let (fixture, fixture_envs) = start_mcp_fixture(&target_dir)?;
        envs.extend(fixture_envs);
        Some(fixture)
    } else {
        None
    };
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let mut args_ts = vec!["check.mjs"];
    let mut args_py = vec!["check.py"];
    if let Some(filter) = filter {
        args_ts.push(filter);
        args_py.push(filter);
    }
    let python = python(root)?;
    let ts = crate::run(&ts_dir, "node", &args_ts, &envs);
    let py = crate::run(&root.join("conformance/py"), &python, &args_py, &envs);
    let _ = std::fs::remove_dir_all(&data_dir);
    match (ts, py) {
        (Ok(()), Ok(())) => Ok(()),
        (ts, py) => bail!(
            "SDK conformance failed (typescript: {}, python: {})",
            outcome(&ts),
            outcome(&py)
        ),
    }
}

/// Starts the MCP fixture and reads the `NAME=value` lines it prints once it listens (up to
/// `ready`): the scripts' `STEWARD_MCP_*` variables.
fn start_mcp_fixture(target_dir: &Path) -> Result<(Server, Vec<(&'static str, String)>)> {
    let binary = target_dir.join("debug/mcp-fixture");
    let mut child = Command::new(&binary)
        .env("RUST_LOG", "warn")
        // Its stdin closing (this process gone) stops it too.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("failed to start {}", binary.display()))?;
    let stdout = child
        .stdout
        .take()
        .context("no stdout of the MCP fixture")?;
    let fixture = Server(child);
    let mut envs = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading the MCP fixture's address")?;
        if line == "ready" {
            break;
        }
        let Some((name, value)) = line.split_once('=') else {
            bail!("the MCP fixture printed {line:?}, not NAME=value");
        };
        let name = [
            "STEWARD_MCP_URL",
            "STEWARD_MCP_TOKEN_URL",
            "STEWARD_MCP_ACCESS_TOKEN",
            "STEWARD_MCP_REFRESH_TOKEN",
        ]
        .into_iter()
        .find(|known| *known == name)
        .with_context(|| format!("the MCP fixture printed an unknown variable {name}"))?;
        envs.push((name, value.to_owned()));
    }
    if envs.len() != 4 {
        bail!("the MCP fixture stopped before printing its address");
    }
    Ok((fixture, envs))
}

/// The interpreter with the Python SDK: `$STEWARD_PYTHON`, else a venv under `target/` that is
/// created and filled from `conformance/py/requirements.txt` when missing.
fn python(root: &Path) -> Result<String> {
    if let Ok(python) = std::env::var("STEWARD_PYTHON") {
        return Ok(python);
    }
    let venv = root.join("target/conformance-venv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import anthropic"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ready {
        let venv_arg = venv.to_string_lossy().into_owned();
        crate::run(root, "python3", &["-m", "venv", &venv_arg], &[])?;
        let pip = venv.join("bin/pip").to_string_lossy().into_owned();
        crate::run(
            root,
            &pip,
            &[
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                "conformance/py/requirements.txt",
            ],
            &[],
        )?;
    }
    Ok(python.to_string_lossy().into_owned())
}

fn outcome(result: &Result<()>) -> &'static str {
    if result.is_ok() { "ok" } else { "failed" }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn wait_for(addr: SocketAddr) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("the platform did not listen on {addr} within 60 s")
}
