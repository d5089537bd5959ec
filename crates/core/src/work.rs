//! The self-hosted work queue: the [`Work`] items a `self_hosted` environment's workers poll,
//! acknowledge, heartbeat and stop, under `/v1/environments/{environment_id}/work`.
//!
//! A session on a self-hosted environment makes the server queue a work item (at creation, or
//! when a long-dormant session gets new input). A worker polls it (the poll may carry a per-item
//! [`EncodedWorkSecret`]), acknowledges it, keeps its lease alive with heartbeats
//! ([`WorkHeartbeatParams`] → [`WorkHeartbeat`]), and stops it when done ([`WorkStop`]).

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::open::Tagged;
use crate::{EnvironmentId, Metadata, MetadataPatch, SessionId, Timestamp, WorkId};

crate::open_enum! {
    /// The constant `type` of the objects in this module.
    pub enum WorkObjectType {
        /// A [`Work`] item.
        Work = "work",
        /// A [`WorkHeartbeat`] response.
        WorkHeartbeat = "work_heartbeat",
        /// A [`WorkQueueStats`] response.
        WorkQueueStats = "work_queue_stats",
    }
}

crate::open_enum! {
    /// Lifecycle state of a work item.
    pub enum WorkState {
        /// Waiting to be polled.
        Queued = "queued",
        /// Polled, not yet running.
        Starting = "starting",
        /// Running under a live lease.
        Active = "active",
        /// A stop was requested; the worker should wind down.
        Stopping = "stopping",
        /// Finished.
        Stopped = "stopped",
    }
}

impl WorkState {
    /// Whether the worker should stop serving the item (`stopping` or `stopped`).
    pub fn should_stop(&self) -> bool {
        matches!(self, Self::Stopping | Self::Stopped)
    }
}

/// Work data of a session work item: serve this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionWorkData {
    /// The session to serve.
    pub id: SessionId,
}

crate::open_enum! {
    /// The `type` of [`HealthcheckWorkData`]: always `healthcheck` when sent.
    pub enum HealthcheckType {
        /// A health check.
        Healthcheck = "healthcheck",
    }
}

/// Work data of a health-check item: the worker probes connectivity to required services.
///
/// The SDK makes `type` optional on this variant; an item without a `type` is read as a health
/// check, and [`kind`](Self::kind) records whether `type` was sent so it serializes back as it
/// came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthcheckWorkData {
    /// Health check identifier (opaque).
    pub id: String,
    /// `Some(healthcheck)` when the `type` was sent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<HealthcheckType>,
}

/// What a work item asks the worker to do.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkData {
    /// `{"type": "session", id}`: serve a session.
    Session(SessionWorkData),
    /// `{"type": "healthcheck", id}` or `{id}`: a health check.
    Healthcheck(HealthcheckWorkData),
    /// An object whose `type` this version does not know, kept as sent.
    Unknown(serde_json::Value),
}

impl WorkData {
    /// The session to serve, for session work.
    pub fn session_id(&self) -> Option<&SessionId> {
        match self {
            Self::Session(data) => Some(&data.id),
            Self::Healthcheck(_) | Self::Unknown(_) => None,
        }
    }
}

impl Serialize for WorkData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Session(inner) => Tagged {
                r#type: "session",
                inner,
            }
            .serialize(serializer),
            // Carries its own optional `type`.
            Self::Healthcheck(inner) => inner.serialize(serializer),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for WorkData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        if !raw.is_object() {
            return Err(D::Error::custom("invalid WorkData: expected an object"));
        }
        let tag = match raw.get("type") {
            Some(serde_json::Value::String(tag)) => Some(tag.as_str()),
            Some(_) => {
                return Err(D::Error::custom(
                    "invalid `type` of WorkData: expected a string",
                ));
            }
            None => None,
        };
        match tag {
            Some("session") => crate::open::decode::<SessionWorkData>(&raw)
                .map(Self::Session)
                .map_err(|e| D::Error::custom(format_args!("invalid `session`: {e}"))),
            Some("healthcheck") | None => crate::open::decode::<HealthcheckWorkData>(&raw)
                .map(Self::Healthcheck)
                .map_err(|e| D::Error::custom(format_args!("invalid `healthcheck`: {e}"))),
            Some(_) => Ok(Self::Unknown(raw)),
        }
    }
}

/// The `secret` of a polled work item, as sent: base64url-encoded JSON (see [`WorkSecret`]).
///
/// It is a credential carrier: `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EncodedWorkSecret(String);

impl EncodedWorkSecret {
    /// Wraps the wire value.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The wire value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Decodes the payload: URL-safe or standard base64, padding optional, holding JSON.
    pub fn decode(&self) -> Result<WorkSecret, WorkSecretError> {
        let bytes = decode_base64(&self.0).ok_or(WorkSecretError::Base64)?;
        serde_json::from_slice(&bytes).map_err(WorkSecretError::Json)
    }
}

impl fmt::Debug for EncodedWorkSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncodedWorkSecret([redacted])")
    }
}

/// The decoded `secret` of a work item.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkSecret {
    /// Bearer credential for this item's calls (heartbeat, ack, events, stop); `sk-ant-req-...`.
    pub sessions_token: String,
    /// API base URL for those calls; the default endpoint when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base_url: Option<String>,
}

impl fmt::Debug for WorkSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkSecret")
            .field("sessions_token", &"[redacted]")
            .field("api_base_url", &self.api_base_url)
            .finish()
    }
}

/// Why a work item's `secret` could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum WorkSecretError {
    /// The payload is not base64.
    #[error("work secret is not valid base64")]
    Base64,
    /// The decoded payload is not the expected JSON.
    #[error("work secret is not valid JSON")]
    Json(#[source] serde_json::Error),
}

/// Decodes base64 in the URL-safe or standard alphabet, with or without `=` padding.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    }
    let body = text.trim_end_matches('=').as_bytes();
    if body.len() % 4 == 1 || text.len() - body.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let [_, b0, b1, b2] = acc.to_be_bytes();
        out.push(b0);
        if chunk.len() > 2 {
            out.push(b1);
        }
        if chunk.len() > 3 {
            out.push(b2);
        }
    }
    Some(out)
}

/// A unit of work in a self-hosted environment (`"type": "work"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Work {
    /// The item's ID (`work_...`).
    pub id: WorkId,
    /// Always `work`.
    #[serde(rename = "type")]
    pub kind: WorkObjectType,
    /// The environment the item belongs to.
    pub environment_id: EnvironmentId,
    /// What to do.
    pub data: WorkData,
    /// Lifecycle state.
    pub state: WorkState,
    /// Metadata.
    pub metadata: Metadata,
    /// Credential payload for the worker; may be set when polling, `null` elsewhere.
    pub secret: Option<EncodedWorkSecret>,
    /// When the item was created.
    pub created_at: Timestamp,
    /// When a worker acknowledged it.
    pub acknowledged_at: Option<Timestamp>,
    /// When execution started.
    pub started_at: Option<Timestamp>,
    /// The most recent heartbeat.
    pub latest_heartbeat_at: Option<Timestamp>,
    /// When a stop was requested.
    pub stop_requested_at: Option<Timestamp>,
    /// When execution stopped.
    pub stopped_at: Option<Timestamp>,
}

/// The response of `POST …/work/{work_id}/heartbeat` (`"type": "work_heartbeat"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkHeartbeat {
    /// Always `work_heartbeat`.
    #[serde(rename = "type")]
    pub kind: WorkObjectType,
    /// The most recent heartbeat recorded, or `""` if none; echo it as the next
    /// [`WorkHeartbeatParams::expected_last_heartbeat`].
    pub last_heartbeat: String,
    /// Whether the lease was extended.
    pub lease_extended: bool,
    /// Current state of the item.
    pub state: WorkState,
    /// TTL applied to the lease.
    pub ttl_seconds: u64,
}

/// A work item's lease as the server holds it: the details of a 412 `heartbeat_precondition_failed`
/// error (`current_state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkLeaseState {
    /// The stored heartbeat; `null` if there has been none.
    pub last_heartbeat: Option<String>,
    /// Always false: a refused heartbeat does not extend the lease.
    pub lease_extended: bool,
    /// Current state of the item.
    pub state: WorkState,
    /// TTL of the lease.
    pub ttl_seconds: u64,
}

/// Statistics of an environment's work queue (`"type": "work_queue_stats"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkQueueStats {
    /// Always `work_queue_stats`.
    #[serde(rename = "type")]
    pub kind: WorkObjectType,
    /// Items waiting to be picked up.
    pub depth: u64,
    /// Items polled but not acknowledged.
    pub pending: u64,
    /// Oldest item in the stream (queued or pending); `null` when empty.
    pub oldest_queued_at: Option<Timestamp>,
    /// Workers that polled in the last 30 s (needs `Anthropic-Worker-ID` on polls).
    pub workers_polling: Option<u64>,
}

/// Query of `GET …/work/poll`. The poll answers a [`Work`] item or `null`.
///
/// A `null` query value cannot be sent, so the SDK's `number | null` fields are plain options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkPollParams {
    /// How long to wait for work, 1-999 ms; non-blocking when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_ms: Option<u32>,
    /// Reclaim unacknowledged items older than this (5000 ms by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_older_than_ms: Option<u64>,
    /// Sent as the `Anthropic-Worker-ID` header, not in the query; the HTTP layer reads it.
    #[serde(skip)]
    pub worker_id: Option<String>,
}

/// Query of `POST …/work/{work_id}/heartbeat`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkHeartbeatParams {
    /// Desired lease TTL in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_ttl_seconds: Option<u64>,
    /// Optimistic lock: [`NO_HEARTBEAT`](Self::NO_HEARTBEAT) to claim an unclaimed lease, then
    /// the previous response's `last_heartbeat` exactly; a mismatch answers 412.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_last_heartbeat: Option<String>,
}

impl WorkHeartbeatParams {
    /// The `expected_last_heartbeat` value that claims a lease never heartbeated.
    pub const NO_HEARTBEAT: &'static str = "NO_HEARTBEAT";

    /// The first heartbeat, claiming the lease.
    pub fn claim(desired_ttl_seconds: Option<u64>) -> Self {
        Self {
            desired_ttl_seconds,
            expected_last_heartbeat: Some(Self::NO_HEARTBEAT.to_owned()),
        }
    }

    /// A following heartbeat, echoing the previous response's `last_heartbeat`.
    pub fn renew(previous: &WorkHeartbeat, desired_ttl_seconds: Option<u64>) -> Self {
        Self {
            desired_ttl_seconds,
            expected_last_heartbeat: Some(previous.last_heartbeat.clone()),
        }
    }
}

/// Body of `POST …/work/{work_id}/stop`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkStop {
    /// Stop at once, without graceful shutdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// Body of `POST …/work/{work_id}`: a metadata patch (a string upserts a key, `null` deletes it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkUpdate {
    /// The patch.
    pub metadata: MetadataPatch,
}

/// Query of `GET …/work`: the shared cursor parameters.
pub type WorkListParams = crate::PageParams;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_accepts_both_alphabets_with_or_without_padding() {
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_base64("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_base64("").unwrap(), b"");
        assert!(decode_base64("a").is_none());
        assert!(decode_base64("aG!k").is_none());
        assert!(decode_base64("aGk===").is_none());
    }

    #[test]
    fn secret_decodes_and_never_prints() {
        // {"sessions_token":"sk-ant-req-abc","api_base_url":"https://x"} without padding.
        let encoded = EncodedWorkSecret::new(
            "eyJzZXNzaW9uc190b2tlbiI6InNrLWFudC1yZXEtYWJjIiwiYXBpX2Jhc2VfdXJsIjoiaHR0cHM6Ly94In0",
        );
        let secret = encoded.decode().unwrap();
        assert_eq!(secret.sessions_token, "sk-ant-req-abc");
        assert_eq!(secret.api_base_url.as_deref(), Some("https://x"));
        assert!(!format!("{secret:?}{encoded:?}").contains("sk-ant"));
        assert!(matches!(
            EncodedWorkSecret::new("e30").decode(),
            Err(WorkSecretError::Json(_))
        ));
        assert!(matches!(
            EncodedWorkSecret::new("%%%").decode(),
            Err(WorkSecretError::Base64)
        ));
    }
}
