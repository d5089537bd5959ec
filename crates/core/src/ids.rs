//! Typed identifiers.
//!
//! On the wire every ID is a plain string; in Rust an [`AgentId`] cannot be passed where a
//! [`SessionId`] is expected. Each type knows the prefix the API gives its IDs (`agent_`, `sesn_`, …).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix the API gives this kind of ID (may be empty where none is documented).
            pub const PREFIX: &'static str = $prefix;

            /// Wraps an ID string as it came from the API.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The ID as the string sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Consumes the ID and returns the wire string.
            pub fn into_inner(self) -> String {
                self.0
            }

            /// Whether the ID carries this kind's documented prefix.
            pub fn has_expected_prefix(&self) -> bool {
                self.0.starts_with(Self::PREFIX)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// ID of an agent (`agent_…`).
    AgentId, "agent_"
);
id_type!(
    /// ID of an environment (`env_…`).
    EnvironmentId, "env_"
);
id_type!(
    /// ID of a self-hosted work item (`work_…`).
    WorkId, "work_"
);
id_type!(
    /// ID of a session (`sesn_…`).
    SessionId, "sesn_"
);
id_type!(
    /// ID of a session thread (`sthr_…`).
    SessionThreadId, "sthr_"
);
id_type!(
    /// ID of a session resource (`sesrsc_…`).
    SessionResourceId, "sesrsc_"
);
id_type!(
    /// ID of an outcome defined with `user.define_outcome` (`outc_…`).
    OutcomeId, "outc_"
);
id_type!(
    /// ID of a session event. The API documents no prefix; the local platform uses `sevt_`.
    EventId, "sevt_"
);
id_type!(
    /// ID of a memory store (`memstore_…`).
    MemoryStoreId, "memstore_"
);
id_type!(
    /// ID of a memory (`mem_…`); stable across renames.
    MemoryId, "mem_"
);
id_type!(
    /// ID of an immutable memory version (`memver_…`).
    MemoryVersionId, "memver_"
);
id_type!(
    /// ID of a vault (`vlt_…`).
    VaultId, "vlt_"
);
id_type!(
    /// ID of a vault credential (`vcrd_…`).
    CredentialId, "vcrd_"
);
id_type!(
    /// ID of a file uploaded through the Files API (`file_…`).
    FileId, "file_"
);
id_type!(
    /// ID of a workspace (`wrkspc_…`).
    WorkspaceId, "wrkspc_"
);
id_type!(
    /// ID of an API key (`apikey_…`).
    ApiKeyId, "apikey_"
);
id_type!(
    /// ID of a service account (`svac_…`).
    ServiceAccountId, "svac_"
);
id_type!(
    /// ID of a user (`user_…`).
    UserId, "user_"
);
id_type!(
    /// ID of a multi-agent workflow run. The API documents no prefix.
    WorkflowRunId, ""
);
id_type!(
    /// ID of a phase of a workflow run. The API documents no prefix.
    WorkflowPhaseId, ""
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_strings_on_the_wire() {
        let id: SessionId = serde_json::from_str("\"sesn_011CZkZAtmR3yMPDzynEDxu7\"").unwrap();
        assert_eq!(id.as_str(), "sesn_011CZkZAtmR3yMPDzynEDxu7");
        assert!(id.has_expected_prefix());
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"sesn_011CZkZAtmR3yMPDzynEDxu7\""
        );
        assert!(!AgentId::new("sesn_x").has_expected_prefix());
    }
}
