//! [`Credentials`]: the host's AWS credentials, read from its environment at each call.

use secrecy::SecretString;
use steward_tools::Env;

use crate::env::{AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN};

/// An access key pair, and a session token for temporary credentials.
///
/// The secret parts are [`SecretString`]s: `Debug` prints `[REDACTED]` for them.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Access key ID; identifies the key, not secret by itself.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: SecretString,
    /// Session token, with temporary credentials.
    pub session_token: Option<SecretString>,
}

impl Credentials {
    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`; `None`
    /// unless both parts of the key pair are set.
    pub fn from_env(env: &Env) -> Option<Self> {
        Some(Self {
            access_key_id: env.var(AWS_ACCESS_KEY_ID)?,
            secret_access_key: env.secret(AWS_SECRET_ACCESS_KEY)?,
            session_token: env.secret(AWS_SESSION_TOKEN),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_key_parts_are_required_and_debug_hides_secrets() {
        assert!(Credentials::from_env(&Env::from_pairs([(AWS_ACCESS_KEY_ID, "AKID")])).is_none());
        let credentials = Credentials::from_env(&Env::from_pairs([
            (AWS_ACCESS_KEY_ID, "AKID"),
            (AWS_SECRET_ACCESS_KEY, "very-secret"),
            (AWS_SESSION_TOKEN, "token-secret"),
        ]))
        .unwrap();
        let debug = format!("{credentials:?}");
        assert!(debug.contains("AKID"), "{debug}");
        assert!(
            !debug.contains("very-secret") && !debug.contains("token-secret"),
            "{debug}"
        );
    }
}
