//! A scripted session, snapshot whole: what a person sees, IDs, times and paths filtered.

use crate::support::CliTest;

/// Runs each command and records `$ steward …`, the exit code, stdout and stderr.
fn transcript(test: &CliTest, script: &[(&[&str], Option<&str>)]) -> String {
    let mut out = String::new();
    for (args, stdin) in script {
        let run = match stdin {
            Some(input) => test.run_with_stdin(args, input),
            None => test.run(args),
        };
        out.push_str(&format!("$ steward {}\n", args.join(" ")));
        if let Some(input) = stdin {
            out.push_str(&format!("(stdin) {input}"));
        }
        out.push_str(&run.stdout);
        for line in run.stderr.lines() {
            out.push_str(&format!("[stderr] {line}\n"));
        }
        if run.code != 0 {
            out.push_str(&format!("[exit {}]\n", run.code));
        }
        out.push('\n');
    }
    out
}

#[test]
fn a_first_session_at_the_terminal() {
    let test = CliTest::new();
    let pref = "/preferences/reports-use-metric-units.md";
    let script: &[(&[&str], Option<&str>)] = &[
        (&["setup"], None),
        (
            &["user", "add", "alice", "--pref", "Reports use metric units"],
            None,
        ),
        (&["user", "list"], None),
        (&["memory", "ls", "--user", "alice"], None),
        (&["memory", "cat", "--user", "alice", pref], None),
        (
            &["memory", "put", "--user", "alice", pref, "-"],
            Some("Reports use SI units\n"),
        ),
        (&["memory", "history", "--user", "alice"], None),
        (
            &[
                "chat",
                "--user",
                "alice",
                "Remember that I prefer tea over coffee.",
            ],
            None,
        ),
        (
            &["memory", "history", "--user", "alice", "/coffee.md"],
            None,
        ),
        (
            &["shared", "put", "/policies/travel.md", "-"],
            Some("Travel policy: book economy\n"),
        ),
        (&["shared", "ls"], None),
        (
            &["-q", "chat", "-u", "alice", "What is the travel policy?"],
            None,
        ),
        (&["usage"], None),
        (&["memory", "ls", "--user", "bob"], None),
        (&["-q", "setup"], None),
    ];
    insta::assert_snapshot!(transcript(&test, script));
}
