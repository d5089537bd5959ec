//! `steward user add|list`: each user has a read-write memory store named `user-<user>`,
//! described for the model and seeded with the preferences given.

use anyhow::Context as _;
use serde::Serialize;
use steward_core::Metadata;
use steward_core::memory::{MemoryCreate, MemoryStore, MemoryStoreCreate};

use crate::app::{App, ROLE_KEY, USER_KEY, user_store_name, validate_user};
use crate::memories::{self, sha256_hex};
use crate::output::table;
use crate::state::UserState;

/// Where preferences given to `steward user add --pref` go.
pub const PREFERENCES_DIR: &str = "/preferences/";

/// The description of a user's store, written for the model.
pub fn store_description(user: &str) -> String {
    format!(
        "The personal memory of {user}, read-write. It holds what {user} asked you to remember: \
         preferences (under /preferences/), facts about them and their work, and notes from \
         earlier conversations. Check it before you answer; record new durable facts as small \
         Markdown files, one topic per file."
    )
}

#[derive(Debug, Serialize)]
struct Added {
    user: String,
    memory_store_id: String,
    memory_store_name: String,
    status: &'static str,
    preferences: Vec<Preference>,
}

#[derive(Debug, Serialize)]
struct Preference {
    path: String,
    status: &'static str,
}

/// `steward user add <user> [--pref TEXT]...`.
pub async fn add(app: &mut App, user: &str, prefs: &[String]) -> anyhow::Result<()> {
    validate_user(user)?;
    let (store, status) = match app.find_user_store(user).await? {
        Some(store) => (store, "existing"),
        None => (create_store(app, user).await?, "created"),
    };
    let mut written = Vec::new();
    for pref in prefs {
        let text = pref.trim();
        if text.is_empty() {
            app.printer.warn("skipped an empty preference");
            continue;
        }
        written.push(write_preference(app, &store, text).await?);
    }
    if app.printer.json {
        app.printer.json(&Added {
            user: user.to_owned(),
            memory_store_id: store.id.to_string(),
            memory_store_name: store.name.clone(),
            status,
            preferences: written,
        })?;
        return Ok(());
    }
    let verb = if status == "created" {
        "added"
    } else {
        "found existing"
    };
    app.printer.line(format!(
        "{verb} user `{user}` (memory store `{}`, {})",
        store.name, store.id
    ))?;
    for pref in &written {
        app.printer
            .line(format!("  {} {}", pref.status, pref.path))?;
    }
    Ok(())
}

/// Creates the user's store and records it.
pub async fn create_store(app: &mut App, user: &str) -> anyhow::Result<MemoryStore> {
    let body = MemoryStoreCreate {
        name: user_store_name(user),
        description: Some(store_description(user)),
        metadata: Some(Metadata::from([
            (ROLE_KEY.to_owned(), "user".to_owned()),
            (USER_KEY.to_owned(), user.to_owned()),
        ])),
    };
    let store = app
        .client()
        .memory_stores()
        .create(&body)
        .await
        .with_context(|| format!("failed to create the memory store of `{user}`"))?;
    app.ids().users.insert(
        user.to_owned(),
        UserState {
            memory_store_id: store.id.clone(),
            vault_id: None,
        },
    );
    app.save()?;
    Ok(store)
}

/// Writes one preference as `/preferences/<slug>.md`, picking another name when a different
/// preference already has that one.
async fn write_preference(
    app: &App,
    store: &MemoryStore,
    text: &str,
) -> anyhow::Result<Preference> {
    let content = format!("{text}\n");
    let sha = sha256_hex(content.as_bytes());
    let base = match memories::slug(text) {
        slug if slug.is_empty() => "preference".to_owned(),
        slug => slug,
    };
    for n in 1..=100 {
        let path = if n == 1 {
            format!("{PREFERENCES_DIR}{base}.md")
        } else {
            format!("{PREFERENCES_DIR}{base}-{n}.md")
        };
        match memories::find(app.client(), &store.id, &path).await? {
            Some(existing) if existing.content_sha256 == sha => {
                return Ok(Preference {
                    path,
                    status: "unchanged",
                });
            }
            Some(_) => continue,
            None => {
                let body = MemoryCreate {
                    path: path.clone(),
                    content: Some(content),
                };
                app.client()
                    .memory_stores()
                    .memories()
                    .create(&store.id, &body)
                    .await
                    .with_context(|| format!("failed to write preference `{path}`"))?;
                return Ok(Preference {
                    path,
                    status: "created",
                });
            }
        }
    }
    anyhow::bail!("too many preferences named like `{base}`")
}

#[derive(Debug, Serialize)]
struct Listed {
    user: String,
    memory_store_id: String,
    memory_store_name: String,
    vault_id: Option<String>,
    created_at: String,
}

/// `steward user list`.
pub async fn list(app: &mut App) -> anyhow::Result<()> {
    let stores = app.user_stores().await?;
    let users: Vec<Listed> = stores
        .into_iter()
        .map(|(user, store)| {
            let vault_id = app
                .ids()
                .users
                .get(&user)
                .and_then(|u| u.vault_id.as_ref())
                .map(ToString::to_string);
            Listed {
                memory_store_id: store.id.to_string(),
                memory_store_name: store.name,
                created_at: store.created_at.to_string(),
                vault_id,
                user,
            }
        })
        .collect();
    if app.printer.json {
        app.printer.json(&users)?;
        return Ok(());
    }
    if users.is_empty() {
        app.printer.note("no users yet");
        app.printer.hint("add one with `steward user add <user>`");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.user.clone(),
                u.memory_store_id.clone(),
                u.vault_id.clone().unwrap_or_else(|| "-".to_owned()),
                crate::output::short_time(&u.created_at),
            ]
        })
        .collect();
    app.printer
        .data(&table(&["USER", "MEMORY STORE", "VAULT", "CREATED"], &rows))?;
    Ok(())
}
