//! The [`Registry`] of tools a host can run, filled at link time from [`ToolRegistration`]s
//! (`inventory`) and by hand ([`Registry::with`]).
//!
//! A plugin crate registers a tool with one line, [`register_tool!`](crate::register_tool);
//! every binary that links the crate then finds the tool in [`Registry::from_inventory`]. A
//! crate that is a dependency but is never referenced from Rust code may be dropped by the
//! linker, taking its registrations with it (rust-lang/rust#64402): a host names each plugin
//! crate it wants, `use steward_plugin_aws as _;`.
//!
//! Names are unique: two tools with one name are [`RegistryError::Duplicate`], never a silent
//! override. Iteration, [`Registry::names`] and the agent tool definitions are sorted by name,
//! whatever order the linker put the registrations in.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use steward_core::agent::{AgentToolParams, CustomTool};
use tracing::Instrument as _;

use crate::{RegistryError, Tool, ToolContext, ToolError, ToolOutput};

/// A link-time registration of a tool: its name and a function that builds it.
///
/// Submitted with [`register_tool!`](crate::register_tool) (or `inventory::submit!` through
/// [`steward_tools::inventory`](crate::inventory) for a tool that is not a
/// [`TypedTool`](crate::TypedTool)) and collected by [`Registry::from_inventory`].
#[derive(Debug, Clone, Copy)]
pub struct ToolRegistration {
    /// The name the built tool reports; checked when the registry is built.
    pub name: &'static str,
    /// Builds the tool (called once per [`Registry::from_inventory`]).
    pub build: fn() -> Box<dyn Tool>,
}

impl ToolRegistration {
    /// A registration, usable in a `static` (as `inventory::submit!` requires).
    pub const fn new(name: &'static str, build: fn() -> Box<dyn Tool>) -> Self {
        Self { name, build }
    }
}

inventory::collect!(ToolRegistration);

/// The tools a host can run, by unique name, iterated in name order.
#[derive(Clone, Default)]
pub struct Registry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every tool registered with [`register_tool!`](crate::register_tool) in the crates linked
    /// into this binary, each built afresh.
    pub fn from_inventory() -> Result<Self, RegistryError> {
        Self::from_registrations(inventory::iter::<ToolRegistration>)
    }

    /// A registry built from these registrations (what [`from_inventory`](Self::from_inventory)
    /// does with the linked ones).
    pub fn from_registrations<'a>(
        registrations: impl IntoIterator<Item = &'a ToolRegistration>,
    ) -> Result<Self, RegistryError> {
        let mut registry = Self::new();
        for registration in registrations {
            let tool = (registration.build)();
            if tool.name() != registration.name {
                return Err(RegistryError::NameMismatch {
                    registered: registration.name.to_owned(),
                    actual: tool.name().to_owned(),
                });
            }
            registry.insert(Arc::from(tool))?;
        }
        Ok(registry)
    }

    /// Adds a tool, by value; builder form of [`insert`](Self::insert).
    pub fn with(mut self, tool: impl Tool + 'static) -> Result<Self, RegistryError> {
        self.insert(Arc::new(tool))?;
        Ok(self)
    }

    /// Adds a tool; a name already present is [`RegistryError::Duplicate`] and leaves the
    /// registry unchanged.
    pub fn insert(&mut self, tool: Arc<dyn Tool>) -> Result<(), RegistryError> {
        let name = tool.name();
        validate_name(name)?;
        if self.tools.contains_key(name) {
            return Err(RegistryError::Duplicate {
                name: name.to_owned(),
            });
        }
        self.tools.insert(name.to_owned(), tool);
        Ok(())
    }

    /// Removes a tool (for example one a linked plugin registers that this host does not want
    /// to offer), returning it.
    pub fn remove(&mut self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.remove(name)
    }

    /// The tool with this name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.get(name)
    }

    /// Whether a tool has this name.
    pub fn contains(&self, name: &str) -> bool {
        self.tools.contains_key(name)
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.tools.keys().map(String::as_str).collect()
    }

    /// The tools, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.values()
    }

    /// How many tools there are.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The `custom` tool definitions of every tool, sorted by name.
    pub fn custom_tools(&self) -> Vec<CustomTool> {
        self.iter().map(|tool| tool.definition()).collect()
    }

    /// The tool entries of an agent that declares exactly these tools
    /// (`AgentCreate { tools: Some(registry.agent_tools()), .. }`), sorted by name.
    pub fn agent_tools(&self) -> Vec<AgentToolParams> {
        self.custom_tools()
            .into_iter()
            .map(AgentToolParams::Custom)
            .collect()
    }

    /// Calls the named tool in the context's span, and stops awaiting it when the context's
    /// token is cancelled.
    ///
    /// An unknown name is [`ToolErrorKind::NotFound`](crate::ToolErrorKind::NotFound);
    /// cancellation is [`ToolErrorKind::Cancelled`](crate::ToolErrorKind::Cancelled) (the
    /// tool's future is dropped). Timeouts are the caller's choice, not the registry's.
    pub async fn call(
        &self,
        name: &str,
        input: Value,
        ctx: &ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let Some(tool) = self.get(name) else {
            return Err(ToolError::not_found(format!(
                "this host has no tool named `{name}`"
            )));
        };
        ctx.span.record("tool", name);
        let call = tool.call(input, ctx).instrument(ctx.span.clone());
        let result = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => Err(ToolError::cancelled()),
            result = call => result,
        };
        if let Err(error) = &result {
            tracing::debug!(parent: &ctx.span, kind = %error.kind(), "tool call failed");
        }
        result
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Registry").field(&self.names()).finish()
    }
}

impl<'a> IntoIterator for &'a Registry {
    type Item = &'a Arc<dyn Tool>;
    type IntoIter = std::collections::btree_map::Values<'a, String, Arc<dyn Tool>>;

    fn into_iter(self) -> Self::IntoIter {
        self.tools.values()
    }
}

/// Checks a tool name against the API's rule: 1-128 ASCII letters, digits, `_` and `-`.
pub fn validate_name(name: &str) -> Result<(), RegistryError> {
    let reason = if name.is_empty() {
        "a tool name cannot be empty"
    } else if name.len() > 128 {
        "a tool name has at most 128 characters"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        "a tool name has only ASCII letters, digits, `_` and `-`"
    } else {
        return Ok(());
    };
    Err(RegistryError::InvalidName {
        name: name.to_owned(),
        reason,
    })
}
