//! `steward memory export` and `import`: hashes verified, tampering refused.

use pretty_assertions::assert_eq;

use crate::support::{CliTest, Run, check_failure};

fn exported() -> (CliTest, std::path::PathBuf) {
    let test = CliTest::new();
    test.ok(&[
        "user",
        "add",
        "alice",
        "--pref",
        "Reports use metric units",
        "--pref",
        "Meetings after 10am",
    ]);
    test.run_with_stdin(
        &["memory", "put", "-u", "alice", "/work/projects.md", "-"],
        "Steward\nRust\n",
    );
    let dir = test.root().join("export");
    let manifest = test.json(&["memory", "export", "-u", "alice", dir.to_str().unwrap()]);
    assert_eq!(manifest["format"], "steward-memory-export");
    assert_eq!(manifest["memories"].as_array().unwrap().len(), 3);
    (test, dir)
}

#[test]
fn export_then_import_into_a_fresh_data_dir() {
    let (test, dir) = exported();
    assert_eq!(
        std::fs::read_to_string(dir.join("memories/work/projects.md")).unwrap(),
        "Steward\nRust\n"
    );
    let fresh = test.root().join("fresh");
    let run: Run = test
        .command_in(
            &fresh,
            &[
                "memory",
                "import",
                "-u",
                "alice",
                dir.to_str().unwrap(),
                "--json",
            ],
        )
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.both());
    let imported: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(imported["created"], 3);

    let listing = |data_dir: &std::path::Path| -> Vec<(String, String)> {
        let out = test
            .command_in(data_dir, &["memory", "ls", "-u", "alice", "--json"])
            .output()
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["path"].as_str().unwrap().to_owned(),
                    m["content_sha256"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(listing(&fresh), listing(&test.data_dir()));

    // Importing again changes nothing.
    let again: Run = test
        .command_in(
            &fresh,
            &[
                "memory",
                "import",
                "-u",
                "alice",
                dir.to_str().unwrap(),
                "--json",
            ],
        )
        .output()
        .unwrap()
        .into();
    let again: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(again["unchanged"], 3);
}

#[test]
fn a_tampered_file_is_refused_and_nothing_is_imported() {
    let (test, dir) = exported();
    std::fs::write(dir.join("memories/work/projects.md"), "Steward\nPython\n").unwrap();
    let fresh = test.root().join("fresh");
    let run: Run = test
        .command_in(
            &fresh,
            &["memory", "import", "-u", "alice", dir.to_str().unwrap()],
        )
        .output()
        .unwrap()
        .into();
    check_failure(&run, 1);
    assert!(
        run.stderr
            .contains("`memories/work/projects.md` does not match the manifest"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nothing was imported"),
        "{}",
        run.stderr
    );
    // Not even the user was created.
    let users = test
        .command_in(&fresh, &["user", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&users.stdout).trim(), "[]");

    // A missing file and a doctored manifest are refused too.
    std::fs::remove_file(dir.join("memories/work/projects.md")).unwrap();
    let stderr = test.fails(
        &["memory", "import", "-u", "alice", dir.to_str().unwrap()],
        1,
    );
    assert!(
        stderr.contains("cannot read `memories/work/projects.md`"),
        "{stderr}"
    );
}

#[test]
fn export_needs_a_new_or_empty_directory() {
    let (test, dir) = exported();
    let stderr = test.fails(
        &["memory", "export", "-u", "alice", dir.to_str().unwrap()],
        2,
    );
    assert!(stderr.contains("is not empty"), "{stderr}");
    let stderr = test.fails(
        &[
            "memory",
            "import",
            "-u",
            "alice",
            test.root().to_str().unwrap(),
        ],
        1,
    );
    assert!(
        stderr.contains("is not a steward memory export"),
        "{stderr}"
    );
}
