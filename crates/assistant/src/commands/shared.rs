//! `steward shared put|ls|cat`: the shared reference store, mounted read-only into every
//! session.

use steward_core::memory::MemoryStore;

use super::{print_memories, read_source};
use crate::app::App;
use crate::commands::setup::ensure_shared_store;
use crate::error::UserError;
use crate::memories::{self, memory_path};

/// The shared store if it exists (never creates it).
async fn existing(app: &mut App) -> anyhow::Result<Option<MemoryStore>> {
    let name = app.config.shared_store.clone();
    if let Some(id) = app.ids().shared_store_id.clone() {
        if let Some(store) = app.live_store(&id).await? {
            if store.name == name {
                return Ok(Some(store));
            }
        }
    }
    app.find_store(|s| {
        s.name == name && s.metadata.get(crate::app::ROLE_KEY).map(String::as_str) == Some("shared")
    })
    .await
}

/// `steward shared put <path> <file|->`.
pub async fn put(app: &mut App, path: &str, source: &str) -> anyhow::Result<()> {
    let path = memory_path(path)?;
    let content = read_source(source)?;
    let (store, _) = ensure_shared_store(app).await?;
    let (outcome, memory) = memories::put(app.client(), &store.id, &path, &content).await?;
    super::print_put(app, &store, outcome, &memory)
}

/// `steward shared ls`.
pub async fn ls(app: &mut App) -> anyhow::Result<()> {
    let memories = match existing(app).await? {
        Some(store) => memories::list(app.client(), &store.id, None).await?,
        None => Vec::new(),
    };
    if memories.is_empty() && !app.printer.json {
        app.printer.note("the shared store is empty");
        app.printer
            .hint("add a file with `steward shared put <path> <file>`");
        return Ok(());
    }
    print_memories(app, &memories)
}

/// `steward shared cat <path>`.
pub async fn cat(app: &mut App, path: &str) -> anyhow::Result<()> {
    let path = memory_path(path)?;
    let Some(store) = existing(app).await? else {
        return Err(UserError::failure(format!("no memory at `{path}`"))
            .hint("the shared store is empty; add a file with `steward shared put`")
            .into());
    };
    let memory = memories::read(app.client(), &store.id, &path).await?;
    app.printer
        .data(memory.content.value().map_or("", String::as_str))?;
    Ok(())
}
