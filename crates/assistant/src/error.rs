//! What a failed command tells its caller: one `error:` line, maybe a `hint:` line, and an exit
//! code scripts can rely on.
//!
//! | Code | Meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the operation failed: the API refused it, the platform could not be reached, a file could not be read or written, an import did not verify |
//! | 2 | usage: invalid arguments, an unknown user, a malformed config file (nothing was sent) |
//! | 130 | interrupted (Ctrl-C) |
//!
//! Commands return `anyhow::Result`; a [`UserError`] anywhere in the chain sets the code and the
//! hint, and known API and connection failures get a hint of their own ([`Report::from_error`]).

use std::fmt;
use std::process::ExitCode;

use steward_core::ErrorType;

/// The exit code of a failure of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0.
    Success,
    /// 1: the operation failed.
    Failure,
    /// 2: the command line, a name or the config file was wrong.
    Usage,
    /// 130: interrupted.
    Interrupted,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Usage => 2,
            Self::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// An error meant for the person at the terminal: a message, an optional hint, an exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    /// The one-line message (lowercase, no trailing period).
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The exit code.
    pub exit: Exit,
}

impl UserError {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            exit: Exit::Usage,
        }
    }

    /// A failure (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            exit: Exit::Failure,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// The error `steward chat` returns when the user interrupts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// How a failed command is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The `error:` line, without the prefix: every message of the chain joined with `: `.
    pub message: String,
    /// The `hint:` line, without the prefix.
    pub hint: Option<String>,
    /// The exit code.
    pub exit: Exit,
}

impl Report {
    /// Classifies an error: the first [`UserError`] in the chain sets the code and hint;
    /// otherwise connection failures and some API errors get a hint, and the code is 1.
    pub fn from_error(error: &anyhow::Error) -> Self {
        // One line: the chain joined with ": ", each message flattened.
        let message = error
            .chain()
            .map(|e| e.to_string().replace('\n', " "))
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>()
            .join(": ");
        let mut report = Self {
            message,
            hint: None,
            exit: Exit::Failure,
        };
        for cause in error.chain() {
            if let Some(user) = cause.downcast_ref::<UserError>() {
                report.exit = user.exit;
                report.hint = user.hint.clone();
                return report;
            }
            if cause.downcast_ref::<Interrupted>().is_some() {
                report.exit = Exit::Interrupted;
                return report;
            }
            if let Some(api) = cause.downcast_ref::<steward_runtime::Error>() {
                report.hint = api_hint(api);
                return report;
            }
        }
        report
    }
}

/// A hint for a client error, where one helps.
fn api_hint(error: &steward_runtime::Error) -> Option<String> {
    use steward_runtime::Error as E;
    match error {
        E::Connect(_) | E::Timeout { .. } | E::Transport(_) => Some(format!(
            "check that the API at `{}` is up, or unset `{}` to use the embedded platform",
            crate::env::ANTHROPIC_BASE_URL,
            crate::env::ANTHROPIC_API_KEY
        )),
        E::Config(_) => Some(format!(
            "check `{}` and `{}`",
            crate::env::ANTHROPIC_API_KEY,
            crate::env::ANTHROPIC_BASE_URL
        )),
        E::Api(info) => {
            let code = info
                .error
                .as_ref()
                .and_then(|e| e.details.as_ref())
                .and_then(|d| d.error_code.as_deref());
            match (info.error_type.as_ref(), code) {
                (_, Some("memory_version_is_current")) => Some(
                    "a memory's current version cannot be redacted: change or remove the memory first (`steward memory put` or `steward memory rm`), then redact"
                        .to_owned(),
                ),
                (_, Some("memory_precondition_failed")) | (Some(ErrorType::MemoryPreconditionFailed), _) => Some(
                    "the memory changed while this command ran; look at `steward memory history` and try again".to_owned(),
                ),
                (Some(ErrorType::Authentication), _) => Some(format!(
                    "check `{}`",
                    crate::env::ANTHROPIC_API_KEY
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn user_errors_set_code_and_hint_through_context() {
        let error = anyhow::Error::new(UserError::usage("unknown user `bob`").hint("run it"))
            .context("failed to list memories");
        let report = Report::from_error(&error);
        assert_eq!(
            report,
            Report {
                message: "failed to list memories: unknown user `bob`".into(),
                hint: Some("run it".into()),
                exit: Exit::Usage,
            }
        );
    }

    #[test]
    fn other_errors_are_failures_on_one_line() {
        let error: anyhow::Result<()> = Err(anyhow::anyhow!("line one\nline two"));
        let report = Report::from_error(&error.context("outer").unwrap_err());
        assert_eq!(report.message, "outer: line one line two");
        assert_eq!(report.exit, Exit::Failure);
        assert_eq!(report.hint, None);
    }

    #[test]
    fn connect_errors_get_a_hint() {
        let error = anyhow::Error::new(steward_runtime::Error::Connect("refused".into()));
        let report = Report::from_error(&error);
        assert!(report.hint.unwrap().contains("ANTHROPIC_BASE_URL"));
        assert_eq!(report.exit, Exit::Failure);
    }
}
