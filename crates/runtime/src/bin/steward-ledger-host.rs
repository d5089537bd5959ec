//! `steward-ledger-host`: a minimal runner host for testing the durable ledger across a real
//! process kill (`tests/it/ledger_kill.rs`). Not a tool for users.
//!
//! ```text
//! steward-ledger-host <base-url> <api-key> <ledger-file> <log-file> <session-id> [message]
//! ```
//!
//! Drives one session with a [`FileLedger`]: sends `message` and drives the turn, or, without a
//! message, attaches (answers what is pending and follows the turn to its end). Its tools are
//! `charge` (not idempotent) and `lookup` (idempotent); each appends `start <name> <tool-use-id>`
//! to the log file (synced) when called and `end <name> <tool-use-id>` when done, and answers
//! `<name> done`.
//!
//! * `STEWARD_HOST_BLOCK=charge,lookup`: these tools never return after logging their start.
//! * `STEWARD_HOST_HOLD_RESULTS=1`: result posts never leave (they hang), so results stay
//!   computed in the ledger and undelivered.
//!
//! Prints one line per outcome on stdout (`started <name>`, `finished <name> <origin>`,
//! `posted <tool-use-id> <true|false>`, `stop <reason>`) and exits 0 when the turn ended.

use std::error::Error;
use std::io::Write as _;
use std::path::PathBuf;
use std::task::{Context, Poll};

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use steward_core::SessionId;
use steward_runtime::runner::{FileLedger, Outcome, SessionRunner};
use steward_runtime::{ApiRequest, ApiResponse, Client};
use steward_tools::{Registry, Tool, ToolContext, ToolError, ToolOutput};
use tower::{Layer, Service};

/// `charge` or `lookup`.
struct Logged {
    name: &'static str,
    idempotent: bool,
    block: bool,
    log: PathBuf,
}

impl Logged {
    fn append(&self, what: &str, id: &str) -> Result<(), ToolError> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| ToolError::other(e.to_string()))?;
        writeln!(file, "{what} {} {id}", self.name).map_err(|e| ToolError::other(e.to_string()))?;
        file.sync_data()
            .map_err(|e| ToolError::other(e.to_string()))
    }
}

#[steward_tools::async_trait]
impl Tool for Logged {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        "Logs its calls"
    }

    fn input_schema(&self) -> Value {
        json!({"type": "object"})
    }

    fn idempotent(&self) -> bool {
        self.idempotent
    }

    async fn call(&self, _input: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        self.append("start", ctx.idempotency_key())?;
        if self.block {
            std::future::pending::<()>().await;
        }
        self.append("end", ctx.idempotency_key())?;
        Ok(ToolOutput::text(format!("{} done", self.name)))
    }
}

/// Holds every result post forever.
#[derive(Clone)]
struct Hold<S> {
    inner: S,
}

impl<S> Service<ApiRequest> for Hold<S>
where
    S: Service<ApiRequest, Response = ApiResponse, Error = steward_runtime::Error>,
    S::Future: Send + 'static,
{
    type Response = ApiResponse;
    type Error = steward_runtime::Error;
    type Future = BoxFuture<'static, Result<ApiResponse, steward_runtime::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: ApiRequest) -> Self::Future {
        let is_result = req.method == http::Method::POST
            && req
                .body
                .as_ref()
                .is_some_and(|b| String::from_utf8_lossy(b).contains("user.custom_tool_result"));
        if is_result {
            return Box::pin(std::future::pending());
        }
        Box::pin(self.inner.call(req))
    }
}

#[derive(Clone)]
struct HoldLayer;

impl<S> Layer<S> for HoldLayer {
    type Service = Hold<S>;
    fn layer(&self, inner: S) -> Hold<S> {
        Hold { inner }
    }
}

fn say(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, api_key, ledger, log, session, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: steward-ledger-host <base-url> <api-key> <ledger-file> <log-file> \
                    <session-id> [message]"
                .into(),
        );
    };
    let blocked = std::env::var("STEWARD_HOST_BLOCK").unwrap_or_default();
    let blocked: Vec<&str> = blocked.split(',').collect();
    let hold = std::env::var_os("STEWARD_HOST_HOLD_RESULTS").is_some();

    let mut builder = Client::builder().api_key(api_key).base_url(base_url);
    if hold {
        builder = builder.layer(HoldLayer);
    }
    let client = builder.build()?;
    let mut registry = Registry::new();
    for (name, idempotent) in [("charge", false), ("lookup", true)] {
        registry.insert(std::sync::Arc::new(Logged {
            name,
            idempotent,
            block: blocked.contains(&name),
            log: PathBuf::from(log),
        }))?;
    }
    let runner = SessionRunner::builder(client, registry)
        .ledger(FileLedger::open(ledger).await?)
        .build();
    let session = SessionId::new(session.clone());
    let turn = match rest.first() {
        Some(message) => runner.turn(&session).message(message.clone()),
        None => runner.attach(&session),
    };
    let mut outcomes = turn.stream();
    while let Some(outcome) = outcomes.next().await {
        match outcome? {
            Outcome::ToolStarted(call) => say(&format!("started {}", call.name))?,
            Outcome::ToolFinished(record) => {
                say(&format!(
                    "finished {} {:?}",
                    record.call.name, record.origin
                ))?;
            }
            Outcome::ResultPosted {
                tool_use_id,
                posted,
                ..
            } => say(&format!("posted {tool_use_id} {posted}"))?,
            Outcome::Finished(result) => {
                say(&format!("stop {:?}", result.stop))?;
                return Ok(());
            }
            _ => {}
        }
    }
    Err("the turn ended without a result".into())
}
