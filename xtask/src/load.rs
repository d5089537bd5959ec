//! `cargo xtask load [--streams N] [--rps N] [--secs N] [--settle N]`: sustained mixed load on
//! one platform process with many SSE streams held open.
//!
//! Runs `crates/platform/benches/load.rs` in the bench (release) profile; it starts the
//! `steward-platform` binary of that build in a temporary data directory, opens `--streams`
//! event streams (default 1,000), sends `--rps` requests per second (default 200) of memory
//! writes and reads, session lists and retrieves and event posts for `--secs` seconds (default
//! 60), waits `--settle` seconds (default 30), and prints errors, p50/p99 latency per kind, the
//! platform's resident memory before, at peak and after, and the streams still open. It fails
//! on any error or closed stream. RELIABILITY.md records a run.

use std::path::Path;

use anyhow::{Result, bail};

/// The flags the load driver takes, each followed by a number.
const FLAGS: [&str; 4] = ["--streams", "--rps", "--secs", "--settle"];

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut pairs = args.chunks(2);
    for pair in pairs.by_ref() {
        match pair {
            [flag, value] if FLAGS.contains(&flag.as_str()) => {
                if value.parse::<u64>().is_err() {
                    bail!("{flag} needs a whole number, not `{value}`");
                }
            }
            _ => bail!(
                "usage: cargo xtask load [--streams N] [--rps N] [--secs N] [--settle N] \
                 (got `{}`)",
                pair.join(" ")
            ),
        }
    }
    let mut command = vec!["bench", "-p", "steward-platform", "--bench", "load", "--"];
    command.extend(args.iter().map(String::as_str));
    crate::run(root, "cargo", &command, &[])
}
