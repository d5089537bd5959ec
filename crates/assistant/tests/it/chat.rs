//! `steward chat` against the embedded platform and its offline model (deterministic: it reads
//! the mounted stores, writes durable facts into the user's store, calls custom tools it is
//! asked for by name).

use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::support::CliTest;

fn paths(ls: &Value) -> Vec<String> {
    ls.as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_durable_fact_lands_in_the_users_store_written_by_the_session() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice", "--pref", "Reports use metric units"]);
    let turn = test.json(&[
        "chat",
        "--user",
        "alice",
        "Remember that I prefer tea over coffee.",
    ]);
    assert_eq!(turn["stop"], "end_turn");
    assert_eq!(turn["user"], "alice");
    let session = turn["session_id"].as_str().unwrap().to_owned();
    assert!(session.starts_with("sesn_"));
    assert!(
        turn["messages"][0]
            .as_str()
            .unwrap()
            .starts_with("[offline model] Noted")
    );
    assert!(turn["usage"]["input_tokens"].as_u64().unwrap() > 0);

    let ls = test.json(&["memory", "ls", "-u", "alice"]);
    assert_eq!(
        paths(&ls),
        vec![
            "/coffee.md".to_owned(),
            "/preferences/reports-use-metric-units.md".to_owned()
        ]
    );
    let history = test.json(&["memory", "history", "-u", "alice", "/coffee.md"]);
    assert_eq!(history[0]["actor"], format!("session:{session}"));

    // The chat ran setup implicitly, once.
    let setup = test.json(&["setup"]);
    assert_eq!(setup["agent"]["status"], "reused");
    assert_eq!(setup["agent"]["version"], 1);
}

#[test]
fn the_agent_checks_memory_first_and_users_stay_apart() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice", "--pref", "Reports use metric units"]);
    test.ok(&["user", "add", "bob"]);
    let text = test.ok(&["chat", "-u", "alice", "Which units do reports use?"]);
    assert!(text.contains("Reports use metric units"), "{text}");
    let text = test.ok(&["chat", "-u", "bob", "Which units do reports use?"]);
    assert!(!text.contains("metric"), "{text}");
    assert!(text.starts_with("[offline model]"), "{text}");

    // The shared store is mounted read-only into everyone's sessions.
    test.run_with_stdin(
        &["shared", "put", "/policies/travel.md", "-"],
        "Travel policy: book economy\n",
    );
    let text = test.ok(&["chat", "-u", "bob", "What is the travel policy?"]);
    assert!(text.contains("book economy"), "{text}");
}

#[test]
fn custom_tools_run_on_this_host_and_tool_calls_are_one_line_each() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let run = test.run(&["chat", "-u", "alice", "use clock please"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("\"utc_weekday\""), "{}", run.stdout);
    let tool_lines: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("· ")).collect();
    assert!(
        tool_lines.iter().any(|l| l.starts_with("· clock {")),
        "{}",
        run.stderr
    );
    assert!(
        tool_lines.iter().any(|l| l.starts_with("· glob {")),
        "{}",
        run.stderr
    );
    let turn = test.json(&["chat", "-u", "alice", "use clock please"]);
    assert_eq!(
        turn["tool_calls"],
        serde_json::json!([{"name": "clock", "is_error": false}])
    );
}

#[test]
fn without_a_message_it_reads_messages_until_the_end_of_input() {
    let test = CliTest::new();
    test.ok(&["user", "add", "bob"]);
    let run = test.run_with_stdin(
        &["chat", "-u", "bob"],
        "Remember my favourite color is green\n\nwhat is my favourite color?\n/exit\nnot sent\n",
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let answers: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("[offline model]"))
        .collect();
    assert_eq!(answers.len(), 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("- Remember my favourite color is green"),
        "{}",
        run.stdout
    );
    // One session for the whole conversation.
    let usage = test.json(&["usage", "-u", "bob"]);
    assert_eq!(usage["sessions"].as_array().unwrap().len(), 1);
}

#[test]
fn usage_counts_tokens_per_user_and_estimates_cost_only_with_prices() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    test.ok(&["user", "add", "bob"]);
    test.ok(&["chat", "-u", "alice", "hello"]);
    test.ok(&["chat", "-u", "alice", "hello again"]);
    test.ok(&["chat", "-u", "bob", "hello"]);
    let usage = test.json(&["usage"]);
    let users = usage["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["user"], "alice");
    assert_eq!(users[0]["sessions"], 2);
    assert_eq!(users[1]["sessions"], 1);
    assert!(users[0]["tokens"]["input"].as_u64().unwrap() > 0);
    assert_eq!(usage["estimated_cost_usd"], Value::Null);
    assert!(
        usage["cost_note"]
            .as_str()
            .unwrap()
            .contains("no price table")
    );
    let run = test.run(&["usage"]);
    assert!(run.stderr.contains("no price table"), "{}", run.stderr);

    let only_bob = test.json(&["usage", "--user", "bob"]);
    assert_eq!(only_bob["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(only_bob["sessions"][0]["user"], "bob");

    std::fs::write(
        test.data_dir().join("config.toml"),
        "[prices.\"claude-sonnet-4-6\"]\ninput = 3.0\noutput = 15.0\n",
    )
    .unwrap();
    let usage = test.json(&["usage"]);
    let total = &usage["total"];
    let expected = (total["input"].as_f64().unwrap() * 3.0
        + total["output"].as_f64().unwrap() * 15.0)
        / 1_000_000.0;
    let cost = usage["estimated_cost_usd"].as_f64().unwrap();
    assert!((cost - expected).abs() < 1e-9, "{cost} != {expected}");
    assert_eq!(usage["cost_note"], Value::Null);
}

#[test]
fn chatting_as_an_unknown_user_creates_nothing() {
    let test = CliTest::new();
    let stderr = test.fails(&["chat", "-u", "carol", "hi"], 2);
    assert!(stderr.contains("unknown user `carol`"), "{stderr}");
    let state = std::fs::read_to_string(test.data_dir().join("state.json")).unwrap_or_default();
    assert!(!state.contains("agent_id"), "{state}");
}

#[test]
fn ctrl_c_while_waiting_for_input_leaves_cleanly() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    let test = CliTest::new();
    test.ok(&["user", "add", "bob"]);
    let mut child = test
        .command(&["chat", "-u", "bob"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("chatting as") {
        line.clear();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0, "stderr ended");
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn ctrl_c_during_a_turn_interrupts_the_session() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    // An AWS endpoint that accepts connections and never answers: the tool call hangs.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", hole.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hole.incoming().flatten() {
            held.push(stream);
        }
    });

    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let mut child = test
        .command(&["chat", "-u", "alice", "use aws_sts_get_caller_identity"])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &endpoint)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("· aws_sts_get_caller_identity") {
        line.clear();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0, "stderr ended");
    }
    let interrupt = || {
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
    };
    assert!(interrupt().success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(
        rest.starts_with("interrupting; press Ctrl-C again to quit\n"),
        "{rest}"
    );
    assert!(rest.ends_with("error: interrupted\n"), "{rest}");
}
