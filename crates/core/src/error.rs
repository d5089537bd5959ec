//! The API's error body: `{"type":"error","error":{"type":…,"message":…},"request_id":…}`.

use serde::{Deserialize, Serialize};

crate::open_enum! {
    /// `error.type` of an API error.
    pub enum ErrorType {
        /// The request was malformed or broke a rule (400, 413, 422).
        InvalidRequest = "invalid_request_error",
        /// The key is missing or wrong (401).
        Authentication = "authentication_error",
        /// Billing problem (402).
        Billing = "billing_error",
        /// The key may not do this (403).
        Permission = "permission_error",
        /// No such object (404).
        NotFound = "not_found_error",
        /// Too many requests (429).
        RateLimit = "rate_limit_error",
        /// The request took too long (408, 504).
        Timeout = "timeout_error",
        /// Server-side failure (500).
        Api = "api_error",
        /// The service is overloaded (529).
        Overloaded = "overloaded_error",
        /// A memory precondition (`content_sha256`) did not hold (409).
        MemoryPreconditionFailed = "memory_precondition_failed_error",
        /// A memory path is taken or overlaps another (409).
        MemoryPathConflict = "memory_path_conflict_error",
        /// Another conflict, such as an agent version lock (409).
        Conflict = "conflict_error",
    }
}

/// The whole error response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// Always `"error"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong.
    pub error: ApiError,
    /// The request ID, when the server assigned one.
    #[serde(default)]
    pub request_id: Option<String>,
}

impl ErrorResponse {
    /// An error body with the given type and message.
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            kind: "error".to_owned(),
            error: ApiError {
                error_type,
                message: message.into(),
                details: None,
                conflicting_memory_id: None,
                conflicting_path: None,
            },
            request_id: None,
        }
    }
}

/// `error` inside an error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// The error's category.
    #[serde(rename = "type")]
    pub error_type: ErrorType,
    /// A human-readable message.
    pub message: String,
    /// Extra detail, such as `{"error_code": "environment_archived"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ErrorDetails>,
    /// On `memory_path_conflict_error`: the memory holding the path (`""` = unknown, retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicting_memory_id: Option<String>,
    /// On `memory_path_conflict_error`: the path that conflicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicting_path: Option<String>,
}

/// `error.details`: a specific error code and any fields that go with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// The specific code, such as `invalid_metadata` or `environment_archived`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Other detail fields (for example `current_state` on a heartbeat precondition failure).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
