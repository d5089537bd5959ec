//! `steward chat`'s interactive loop in a pseudo-terminal, the way a person uses it: the line
//! editor reads from a real terminal (raw mode), the answer streams back, Ctrl-C is a byte
//! typed on the terminal (not a signal sent from outside) and Ctrl-D leaves.
//!
//! The other chat tests use pipes, where the line editor and the spinner are off; these drive
//! both. Every wait has a generous deadline (a loaded machine starts the embedded platform
//! slowly) and fails with everything the terminal showed so far.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use expectrl::process::unix::{PtyStream, UnixProcess, WaitStatus};
use expectrl::{ControlCode, Eof, Expect as _, Needle, Regex, Session};

use crate::support::CliTest;

/// The longest wait for one expected output (only reached on a failure).
const DEADLINE: Duration = Duration::from_secs(60);

/// How often the terminal is read while waiting.
const POLL: Duration = Duration::from_millis(20);

/// The prompt of the user these tests chat as.
const PROMPT: &str = "alice> ";

/// The binary in a pseudo-terminal, and what it showed so far.
struct Terminal {
    session: Session<UnixProcess, PtyStream>,
    shown: String,
}

impl Terminal {
    /// Runs `command` (its standard streams are the terminal's).
    fn spawn(mut command: Command) -> Self {
        // `CliTest::command` closes stdin; here the terminal is every stream.
        command
            .stdin(Stdio::inherit())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        let session = Session::spawn(command).unwrap();
        Self {
            session,
            shown: String::new(),
        }
    }

    /// Waits for `pattern` (a regex) and returns the text up to and including it.
    fn expect(&mut self, pattern: &str) -> String {
        self.wait(&format!("/{pattern}/"), || Regex(pattern))
    }

    /// Waits for the end of output: every end of the terminal is closed.
    fn expect_eof(&mut self) -> String {
        self.wait("the end of output", || Eof)
    }

    /// Polls for `needle` until [`DEADLINE`]. (The library's own `expect` spins on a
    /// non-blocking read, which would take a core from the binary under test.)
    fn wait<N: Needle>(&mut self, what: &str, needle: impl Fn() -> N) -> String {
        let start = Instant::now();
        loop {
            match self.session.check(needle()) {
                Ok(found) if !found.is_empty() => {
                    let text = String::from_utf8_lossy(found.as_bytes()).into_owned();
                    self.shown.push_str(&text);
                    return text;
                }
                Ok(_) if start.elapsed() < DEADLINE => std::thread::sleep(POLL),
                Ok(_) => self.fail(&format!("no {what} within {DEADLINE:?}")),
                Err(e) => self.fail(&format!("waiting for {what}: {e}")),
            }
        }
    }

    /// Types a line (the terminal sends a carriage return for Enter).
    fn type_line(&mut self, line: &str) {
        self.session.send(format!("{line}\r")).unwrap();
    }

    fn press(&mut self, key: ControlCode) {
        self.session.send(key).unwrap();
    }

    /// The exit code, once the output has ended (polled, so a chat that closed the terminal
    /// without exiting fails the test instead of hanging it).
    fn exit_code(&mut self) -> i32 {
        let start = Instant::now();
        loop {
            match self.session.get_process().status().unwrap() {
                WaitStatus::StillAlive if start.elapsed() < DEADLINE => {
                    std::thread::sleep(POLL);
                }
                WaitStatus::Exited(_, code) => return code,
                other => self.fail(&format!("the chat did not exit: {other:?}")),
            }
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        // Whatever arrived without matching.
        if let Ok(rest) = self.session.check(Regex(r"(?s).+")) {
            self.shown
                .push_str(&String::from_utf8_lossy(rest.as_bytes()));
        }
        panic!("{what}\n--- the terminal showed\n{}", self.shown);
    }
}

/// An AWS endpoint that accepts connections and never answers: a call to it hangs, so a turn
/// that makes one runs until it is interrupted.
fn black_hole() -> String {
    let hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", hole.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hole.incoming().flatten() {
            held.push(stream);
        }
    });
    endpoint
}

/// `steward chat -u alice` in a terminal, with AWS credentials aimed at a [`black_hole`].
fn chat(test: &CliTest) -> Terminal {
    let endpoint = black_hole();
    let mut command = test.command(&["chat", "-u", "alice"]);
    command
        .env("TERM", "xterm")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &endpoint);
    Terminal::spawn(command)
}

#[test]
fn a_message_streams_an_answer_ctrl_c_interrupts_the_turn_and_ctrl_d_leaves() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let mut term = chat(&test);

    term.expect("chatting as `alice` in session sesn_");
    term.expect(PROMPT);
    term.type_line("Remember that my timezone is Europe/Lisbon");
    // The line editor echoes what is typed; the answer is what follows `[offline model]`.
    let answer = term.expect(r"\[offline model\][^\n]*Lisbon");
    assert!(answer.contains("Noted in "), "{}", term.shown);
    term.expect(PROMPT);

    // A turn that hangs on a tool call, until Ctrl-C.
    term.type_line("use aws_sts_get_caller_identity");
    term.expect("· aws_sts_get_caller_identity");
    term.press(ControlCode::EndOfText);
    term.expect("interrupting; press Ctrl-C again to quit");
    // The turn's end, on a line of its own (after the spinner is cleared).
    term.expect(r"interrupted\r?\n");
    // Still chatting, in the same session: the memory written by the first turn is there.
    term.expect(PROMPT);
    term.type_line("What is my timezone?");
    // The answer spans lines: what is on record, one file a line.
    term.expect(r"(?s)\[offline model\] Here is what I have on record:.*?Europe/Lisbon");
    term.expect(PROMPT);

    // Ctrl-D on an empty line leaves, successfully.
    term.press(ControlCode::EndOfTransmission);
    term.expect_eof();
    assert_eq!(term.exit_code(), 0, "{}", term.shown);
    assert!(!term.shown.contains("panicked"), "{}", term.shown);
    assert!(!term.shown.contains("error:"), "{}", term.shown);

    let usage = test.json(&["usage", "-u", "alice"]);
    assert_eq!(usage["sessions"].as_array().unwrap().len(), 1, "{usage}");
}

#[test]
fn ctrl_c_at_the_prompt_leaves_and_gives_the_terminal_back() {
    let test = CliTest::new();
    test.ok(&["user", "add", "alice"]);
    let mut term = chat(&test);
    term.expect(PROMPT);
    term.press(ControlCode::EndOfText);
    let rest = term.expect_eof();
    // The line editor turned bracketed paste off again: the terminal is as it found it.
    assert!(rest.contains("\u{1b}[?2004l"), "{rest:?}");
    assert_eq!(term.exit_code(), 0, "{}", term.shown);
    assert!(!term.shown.contains("error:"), "{}", term.shown);
}
