//! `cargo xtask fuzz [--cases N | --secs N]`: the property-based fuzz targets, run far longer
//! than CI runs them.
//!
//! The targets are proptest properties that read the case count from `PROPTEST_CASES`:
//!
//! * the runtime's SSE parser over arbitrary chunkings of random streams
//!   (`crates/runtime/tests/it/sse.rs`);
//! * the platform's router with arbitrary JSON and arbitrary bytes on every POST route, wire
//!   types reading mutated protocol fixtures, and memory path validation, directly and through
//!   the API (`crates/platform/tests/it/fuzz.rs`).
//!
//! `--cases N` runs every target once with `PROPTEST_CASES=N` (default 10,000). `--secs N`
//! runs them again and again, 2,000 cases at a time, each round with fresh random seeds, until
//! `N` seconds of fuzzing have passed (the build comes first and does not count; a round that
//! has started finishes). Any failure stops the run; proptest prints the shrunk input.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// Cases per target when no flag is given.
const DEFAULT_CASES: u64 = 10_000;

/// Cases per target in one round of a `--secs` run.
const ROUND_CASES: u64 = 2_000;

/// `(package, test filter)` of each fuzz target, all in the package's `it` test binary.
const TARGETS: [(&str, &str); 2] = [
    ("steward-runtime", "sse::arbitrary_chunkings"),
    ("steward-platform", "fuzz::"),
];

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let number = |value: Option<&String>, flag: &str| -> Result<u64> {
        match value.map(|v| v.parse::<u64>()) {
            Some(Ok(n)) if n > 0 => Ok(n),
            _ => bail!("{flag} needs a positive whole number"),
        }
    };
    let (cases, budget) = match args.first().map(String::as_str) {
        None => (DEFAULT_CASES, None),
        Some("--cases") if args.len() == 2 => (number(args.get(1), "--cases")?, None),
        Some("--secs") if args.len() == 2 => (
            ROUND_CASES,
            Some(Duration::from_secs(number(args.get(1), "--secs")?)),
        ),
        _ => bail!("usage: cargo xtask fuzz [--cases N | --secs N]"),
    };
    // Build first, so that a time budget is spent fuzzing.
    for (package, _) in TARGETS {
        crate::run(
            root,
            "cargo",
            &["test", "-p", package, "--test", "it", "--no-run"],
            &[],
        )?;
    }
    let started = Instant::now();
    let mut round = 0u32;
    loop {
        round += 1;
        let cases = cases.to_string();
        for (package, filter) in TARGETS {
            crate::run(
                root,
                "cargo",
                &["test", "-p", package, "--test", "it", "--", filter],
                &[("PROPTEST_CASES", &cases)],
            )?;
        }
        let elapsed = started.elapsed();
        match budget {
            Some(budget) if elapsed < budget => continue,
            _ => {
                eprintln!(
                    "fuzz: {round} round(s) of {cases} cases per target, {:.0} s, no failure",
                    elapsed.as_secs_f64()
                );
                return Ok(());
            }
        }
    }
}
