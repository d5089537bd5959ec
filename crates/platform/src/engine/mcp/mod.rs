//! The engine's MCP client: the tools of the agent's MCP servers, offered to the model and run
//! on the servers, over streamable HTTP with the official Rust SDK (`rmcp`).
//!
//! **Connections.** Per session, lazily: the first model call of a session whose agent has
//! `mcp_toolset`s connects to each server they name (the URL from the agent's `mcp_servers`),
//! sends `initialize` and `tools/list`, and keeps the client and the tool list. A connection
//! lives while the session's driver runs (a driver ends when the session waits for the client
//! or is idle, see [`super`]); the next driver connects again. The tool list is kept for the
//! session's life, so a server that cannot be reached later still has its tools offered (and
//! their calls fail with a tool error saying why). A call that fails on the connection drops it;
//! the next use connects again. Every HTTP request carries the session's credential for the
//! server (see [`http`]): selection, refresh and the single retry after a `401` live there.
//!
//! **Tools the model sees.** Each enabled tool of each `mcp_toolset` (a per-tool config
//! overrides `default_config`; a server's tools come from its `tools/list`, or, when it was
//! never listed, from the toolset's `configs` with an empty input schema) is offered as
//! `mcp__<server>__<tool>` ([`model_name`]): letters, digits, `_` and `-` kept, anything else
//! replaced by `_`; a name that had to be changed, or is longer than 128 characters, or whose
//! server name contains `__`, is cut and gets `_` and eight hex digits of a hash of the exact
//! server and tool names, so two different tools never share a name. A name already used by a
//! custom tool is not offered.
//!
//! **Permission policies.** `always_allow` runs the call (`evaluated_permission: allow`,
//! evaluation `always_allow`); `always_ask` waits for a `user.tool_confirmation`
//! (`ask`, `always_ask`). `auto` is judged `ask` (`auto` evaluation, reason `indeterminate`):
//! the platform has no classifier, and an MCP tool acts outside the session, so it is never
//! judged safe on its own.
//!
//! **Results.** `agent.mcp_tool_result` carries the tool's content as text blocks (text, and
//! the text of embedded text resources; other content is described in one line, such as
//! `[image content: image/png]`), or the JSON of its `structuredContent` when it has no content,
//! with `is_error` when the tool said `isError`. A call that cannot run is an error result
//! whose text names the server and says why: no credential for its URL, a refresh that failed
//! (with the token endpoint's `error: error_description`), the credential rejected, the server
//! unreachable or failing. Messages never carry a secret.

pub(crate) mod http;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_core::agent::{AgentTool, PermissionPolicy};
use steward_core::content::ContentBlock;
use steward_core::event::JsonObject;
use steward_core::session::Session;
use steward_core::{SessionId, VaultId};

use self::http::{AuthState, AuthedClient, HttpError};
use super::model::ToolSpec;
use crate::vaults::TokenBroker;

/// Most characters of a tool name the model sees.
const MAX_NAME: usize = 128;

/// Longest wait for one connection (`initialize` and `tools/list`) or one tool call.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// One MCP tool as the session offers it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct McpTool {
    /// The server's name in the agent's `mcp_servers`.
    pub(crate) server: String,
    /// The tool's own name on the server.
    pub(crate) name: String,
    /// The name the model sees ([`model_name`]).
    pub(crate) model_name: String,
    /// Its description.
    pub(crate) description: String,
    /// JSON Schema of its input.
    pub(crate) input_schema: Value,
    /// Its permission policy.
    pub(crate) policy: PermissionPolicy,
}

impl McpTool {
    /// How the model sees it.
    pub(crate) fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.model_name.clone(),
            description: self.description.clone(),
            input_schema: self.input_schema.clone(),
        }
    }
}

/// The name the model sees for `tool` of `server` (see the module docs).
pub(crate) fn model_name(server: &str, tool: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let name = format!("mcp__{}__{}", clean(server), clean(tool));
    let changed = clean(server) != server || clean(tool) != tool || server.contains("__");
    if !changed && name.len() <= MAX_NAME {
        return name;
    }
    let mut hash = Sha256::new();
    hash.update(server.as_bytes());
    hash.update([0]);
    hash.update(tool.as_bytes());
    let digest = hash.finalize();
    let mut suffix = String::from("_");
    for byte in &digest[..4] {
        let _ = write!(suffix, "{byte:02x}");
    }
    let keep = MAX_NAME - suffix.len();
    let mut cut: String = name.chars().take(keep).collect();
    cut.push_str(&suffix);
    cut
}

/// A live client of one server.
struct Connection {
    service: RunningService<RoleClient, ClientConfig>,
    auth: Arc<AuthState>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

/// What a session knows of one server.
#[derive(Debug, Default)]
struct Server {
    url: String,
    connection: Option<Arc<Connection>>,
    tools: Option<Vec<rmcp::model::Tool>>,
}

/// What a session knows of its servers, by name.
type Servers = Arc<tokio::sync::Mutex<HashMap<String, Server>>>;

/// The MCP clients of every session (see the module docs).
#[derive(Debug)]
pub(crate) struct McpClients {
    tokens: TokenBroker,
    http: Result<reqwest::Client, String>,
    sessions: Mutex<HashMap<SessionId, Servers>>,
}

/// Why a server could not be used: the text of the error result, naming the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct McpFailure(pub(crate) String);

impl McpClients {
    /// No connections yet; tokens come from `tokens`.
    pub(crate) fn new(tokens: TokenBroker) -> Self {
        Self {
            tokens,
            http: http::http_client().map_err(|e| http::describe(&e)),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn servers(&self, session: &SessionId) -> Servers {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(session.clone())
            .or_default()
            .clone()
    }

    /// Closes the session's connections, keeping its tool lists (its driver ended).
    pub(crate) async fn release(&self, session: &SessionId) {
        let servers = self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(session)
            .cloned();
        if let Some(servers) = servers {
            let closing: Vec<Arc<Connection>> = servers
                .lock()
                .await
                .values_mut()
                .filter_map(|s| s.connection.take())
                .collect();
            drop(closing);
        }
    }

    /// Forgets a deleted session.
    pub(crate) fn forget(&self, session: &SessionId) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(session);
    }

    /// The MCP tools the session offers, connecting to servers not listed yet. `custom` are
    /// the names of the agent's custom tools (which win over an MCP tool of the same name).
    pub(crate) async fn tools(&self, session: &Session, custom: &[String]) -> Vec<McpTool> {
        let mut offered: Vec<McpTool> = Vec::new();
        let servers = self.servers(&session.id);
        for tool in &session.agent.tools {
            let AgentTool::McpToolset(toolset) = tool else {
                continue;
            };
            let server_name = &toolset.mcp_server_name;
            let Some(url) = server_url(session, server_name) else {
                continue;
            };
            let listed = {
                let mut servers = servers.lock().await;
                let server = servers.entry(server_name.clone()).or_default();
                if server.url != url {
                    *server = Server {
                        url: url.clone(),
                        ..Server::default()
                    };
                }
                if server.tools.is_none() {
                    match self.connect(session, server_name, &url).await {
                        Ok((connection, tools)) => {
                            server.connection = Some(connection);
                            server.tools = Some(tools);
                        }
                        Err(failure) => {
                            tracing::warn!(
                                session_id = %session.id,
                                mcp_server_name = %server_name,
                                reason = %failure.0,
                                "could not list the tools of an MCP server"
                            );
                        }
                    }
                }
                server.tools.clone()
            };
            let candidates: Vec<(String, String, Value)> = match listed {
                Some(tools) => tools
                    .iter()
                    .map(|t| {
                        (
                            t.name.to_string(),
                            t.description.as_deref().unwrap_or_default().to_owned(),
                            Value::Object((*t.input_schema).clone()),
                        )
                    })
                    .collect(),
                None => toolset
                    .configs
                    .iter()
                    .map(|c| {
                        (
                            c.name.clone(),
                            format!(
                                "A tool of the MCP server `{server_name}` (its tool list could \
                                 not be read)."
                            ),
                            json!({"type": "object"}),
                        )
                    })
                    .collect(),
            };
            for (name, description, input_schema) in candidates {
                let config = toolset.configs.iter().find(|c| c.name == name);
                let enabled = config.map_or(toolset.default_config.enabled, |c| c.enabled);
                let policy = config.map_or(&toolset.default_config.permission_policy, |c| {
                    &c.permission_policy
                });
                let model_name = model_name(server_name, &name);
                if !enabled
                    || custom.contains(&model_name)
                    || offered.iter().any(|t| t.model_name == model_name)
                {
                    continue;
                }
                offered.push(McpTool {
                    server: server_name.clone(),
                    name,
                    model_name,
                    description,
                    input_schema,
                    policy: policy.clone(),
                });
            }
        }
        offered
    }

    /// Connects to a server: `initialize`, then `tools/list`.
    async fn connect(
        &self,
        session: &Session,
        server_name: &str,
        url: &str,
    ) -> Result<(Arc<Connection>, Vec<rmcp::model::Tool>), McpFailure> {
        let http = self
            .http
            .clone()
            .map_err(|e| failure(server_name, url, &format!("no HTTP client: {e}")))?;
        let auth = Arc::new(AuthState::new(
            self.tokens.clone(),
            vault_ids(session),
            url.to_owned(),
        ));
        let transport = StreamableHttpClientTransport::with_client(
            AuthedClient::new(http, auth.clone()),
            StreamableHttpClientTransportConfig::with_uri(url.to_owned()),
        );
        let config = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("steward-platform", env!("CARGO_PKG_VERSION")),
        );
        let connecting = async {
            let service = config.serve(transport).await.map_err(|e| e.to_string())?;
            let tools = service.list_all_tools().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((service, tools))
        };
        let outcome = tokio::time::timeout(CALL_TIMEOUT, connecting).await;
        let (service, tools) = match outcome {
            Ok(Ok(connected)) => connected,
            Ok(Err(error)) => return Err(explain(server_name, url, &auth, &error)),
            Err(_) => return Err(failure(server_name, url, "timed out connecting")),
        };
        tracing::debug!(session_id = %session.id, mcp_server_name = %server_name, tools = tools.len(), "connected to an MCP server");
        Ok((Arc::new(Connection { service, auth }), tools))
    }

    /// Calls `tool` of `server_name` with `input`: the result's content and whether it is an
    /// error.
    pub(crate) async fn call(
        &self,
        session: &Session,
        server_name: &str,
        tool: &str,
        input: &JsonObject,
    ) -> (Vec<ContentBlock>, bool) {
        match self.try_call(session, server_name, tool, input).await {
            Ok(result) => result,
            Err(McpFailure(text)) => (vec![ContentBlock::text(text)], true),
        }
    }

    async fn try_call(
        &self,
        session: &Session,
        server_name: &str,
        tool: &str,
        input: &JsonObject,
    ) -> Result<(Vec<ContentBlock>, bool), McpFailure> {
        let Some(url) = server_url(session, server_name) else {
            return Err(McpFailure(format!(
                "MCP server `{server_name}`: the agent has no MCP server of that name"
            )));
        };
        let servers = self.servers(&session.id);
        let connection = {
            let mut servers = servers.lock().await;
            let server = servers.entry(server_name.to_owned()).or_default();
            if server.url != url {
                *server = Server {
                    url: url.clone(),
                    ..Server::default()
                };
            }
            match &server.connection {
                Some(connection) => connection.clone(),
                None => {
                    let (connection, tools) = self.connect(session, server_name, &url).await?;
                    server.connection = Some(connection.clone());
                    server.tools = Some(tools);
                    connection
                }
            }
        };
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params = params.with_arguments(input.clone());
        let outcome =
            tokio::time::timeout(CALL_TIMEOUT, connection.service.call_tool(params)).await;
        let error = match outcome {
            Ok(Ok(result)) => {
                let is_error = result.is_error == Some(true);
                return Ok((content(&result), is_error));
            }
            Ok(Err(rmcp::ServiceError::McpError(error))) => {
                // The server answered with a JSON-RPC error (such as an unknown tool): the
                // connection is fine.
                return Err(failure(
                    server_name,
                    &url,
                    &format!("the server refused the call: {}", error.message),
                ));
            }
            Ok(Err(error)) => explain(server_name, &url, &connection.auth, &error.to_string()),
            Err(_) => failure(server_name, &url, "the tool call timed out"),
        };
        // Drop the connection; the next use connects again.
        let mut servers = servers.lock().await;
        if let Some(server) = servers.get_mut(server_name) {
            if server
                .connection
                .as_ref()
                .is_some_and(|c| Arc::ptr_eq(c, &connection))
            {
                server.connection = None;
            }
        }
        Err(error)
    }
}

/// The URL of the agent's server `name`.
fn server_url(session: &Session, name: &str) -> Option<String> {
    session
        .agent
        .mcp_servers
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.url.clone())
}

fn vault_ids(session: &Session) -> Vec<VaultId> {
    session.vault_ids.clone()
}

fn failure(server_name: &str, url: &str, why: &str) -> McpFailure {
    McpFailure(format!("MCP server `{server_name}` ({url}): {why}"))
}

/// The failure of a request: what the credential side recorded, or rmcp's error.
fn explain(server_name: &str, url: &str, auth: &AuthState, error: &str) -> McpFailure {
    match auth.take_failure() {
        Some(HttpError::Token(token)) => failure(server_name, url, &token.to_string()),
        Some(other) => failure(server_name, url, &other.to_string()),
        None => failure(server_name, url, error),
    }
}

/// The content of a tool result as text blocks (see the module docs).
fn content(result: &rmcp::model::CallToolResult) -> Vec<ContentBlock> {
    use rmcp::model::{ContentBlock as Mcp, ResourceContents};
    let mut blocks: Vec<ContentBlock> = result
        .content
        .iter()
        .map(|block| match block {
            Mcp::Text(text) => ContentBlock::text(text.text.clone()),
            Mcp::Image(image) => {
                ContentBlock::text(format!("[image content: {}]", image.mime_type))
            }
            Mcp::Audio(audio) => {
                ContentBlock::text(format!("[audio content: {}]", audio.mime_type))
            }
            Mcp::Resource(resource) => match &resource.resource {
                ResourceContents::TextResourceContents { text, .. } => {
                    ContentBlock::text(text.clone())
                }
                ResourceContents::BlobResourceContents { uri, .. } => {
                    ContentBlock::text(format!("[binary resource: {uri}]"))
                }
                _ => ContentBlock::text("[a resource of a kind this platform does not read]"),
            },
            Mcp::ResourceLink(link) => ContentBlock::text(format!("[resource link: {}]", link.uri)),
            _ => ContentBlock::text("[content of a type this platform does not read]"),
        })
        .collect();
    if blocks.is_empty() {
        if let Some(structured) = &result.structured_content {
            blocks.push(ContentBlock::text(structured.to_string()));
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::model_name;

    #[test]
    fn model_names_are_distinct_and_valid() {
        assert_eq!(model_name("docs", "search"), "mcp__docs__search");
        let odd = model_name("my server", "a.b");
        assert!(odd.starts_with("mcp__my_server__a_b_"), "{odd}");
        assert_ne!(
            model_name("my server", "a.b"),
            model_name("my_server", "a_b")
        );
        assert_ne!(model_name("a__b", "c"), model_name("a", "b__c"));
        let long = model_name(&"s".repeat(200), "t");
        assert_eq!(long.len(), 128);
        for name in [odd, long] {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            );
        }
    }
}
