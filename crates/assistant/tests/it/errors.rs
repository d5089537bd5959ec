//! Bad input: one clear `error:` line, a documented exit code, no panic.

use crate::support::{CliTest, Run, check_failure};

#[test]
fn an_unknown_user_is_a_usage_error_with_a_hint() {
    let test = CliTest::new();
    for args in [
        &["memory", "ls", "--user", "bob"][..],
        &["memory", "cat", "--user", "bob", "/x.md"],
        &["memory", "history", "--user", "bob"],
        &["vault", "create", "--user", "bob"],
        &["usage", "--user", "bob"],
    ] {
        let stderr = test.fails(args, 2);
        assert!(
            stderr.contains("error: unknown user `bob`\n"),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("hint: create it with `steward user add bob`"),
            "{stderr}"
        );
    }
}

#[test]
fn invalid_names_paths_and_versions_are_usage_errors() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let cases: [(&[&str], &str); 4] = [
        (&["user", "add", "Alice"], "invalid user name `Alice`"),
        (
            &["memory", "cat", "-u", "alice", "/a/../b"],
            "invalid memory path `/a/../b`",
        ),
        (
            &["memory", "restore", "-u", "alice", "v1"],
            "invalid version `v1`",
        ),
        (
            &["memory", "put", "-u", "alice", "/a.md", "/no/such/file"],
            "cannot read `/no/such/file`",
        ),
    ];
    for (args, message) in cases {
        let stderr = test.fails(args, 2);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // clap's own usage errors exit with 2 as well.
    let run = test.run(&["memory", "ls"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(run.stderr.contains("--user <USER>"), "{}", run.stderr);
}

#[test]
fn an_unwritable_data_dir_is_one_clear_line() {
    let test = CliTest::new();
    let file = test.write("not-a-dir", "x");
    let run: Run = test
        .command_in(&file.join("data"), &["user", "list"])
        .output()
        .unwrap()
        .into();
    check_failure(&run, 1);
    assert!(
        run.stderr
            .starts_with("error: cannot create the data directory"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: pass a writable directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_malformed_config_file_names_the_line() {
    let test = CliTest::new();
    let config = test.write("data/config.toml", "model = \"m\"\nsystem_prompt = [\n");
    let stderr = test.fails(&["setup"], 2);
    let first = stderr.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "error: invalid config file `{}`: line 2",
            config.display()
        )),
        "{stderr}"
    );
    test.write("data/config.toml", "modle = \"m\"\n");
    let stderr = test.fails(&["setup"], 2);
    assert!(stderr.contains("unknown field `modle`"), "{stderr}");
}

#[test]
fn a_platform_that_is_down_is_one_clear_line() {
    let test = CliTest::new();
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run: Run = test
        .command(&["user", "list"])
        .env("ANTHROPIC_API_KEY", "sk-test")
        .env("ANTHROPIC_BASE_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap()
        .into();
    check_failure(&run, 1);
    assert!(run.stderr.contains("failed to connect"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: check that the API"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("sk-test"), "{}", run.stderr);
    // No embedded platform was started for it.
    assert!(!test.data_dir().join("platform").exists());
}
