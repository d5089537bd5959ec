//! Shared helpers: load a JSON fixture and check that it round-trips through a type.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The folder holding every fixture.
pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Reads a fixture by its path under `tests/fixtures` (for example `objects/agent.json`).
pub(crate) fn fixture(rel: &str) -> serde_json::Value {
    let path = fixtures_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {rel} is not JSON: {e}"))
}

/// Parses the fixture as `T` and checks that serializing it gives back the same JSON value.
/// Returns the parsed value for further assertions.
#[track_caller]
pub(crate) fn roundtrip<T: DeserializeOwned + Serialize>(rel: &str) -> T {
    let raw = fixture(rel);
    let text = raw.to_string();
    let parsed: T = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "fixture {rel} does not parse as {}: {e}",
            std::any::type_name::<T>()
        )
    });
    let back = serde_json::to_value(&parsed)
        .unwrap_or_else(|e| panic!("fixture {rel} does not serialize back: {e}"));
    pretty_assertions::assert_eq!(back, raw, "fixture {rel} does not round-trip");
    parsed
}

/// Parses `json` as `T` and returns the error text, failing if it parses.
#[track_caller]
pub(crate) fn parse_error<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
    match serde_json::from_str::<T>(json) {
        Ok(v) => panic!("expected an error parsing {json}, got {v:?}"),
        Err(e) => e.to_string(),
    }
}
