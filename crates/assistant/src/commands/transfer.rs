//! `steward memory export|import`: a user's memories as plain files plus a manifest of their
//! SHA-256 hashes, and back.
//!
//! An export directory looks like this:
//!
//! ```text
//! manifest.json            {"format": "steward-memory-export", "format_version": 1, "user", "store",
//!                           "exported_at", "memories": [{"path", "file", "sha256", "size_bytes"}]}
//! memories/preferences/reports-use-metric-units.md
//! ```
//!
//! Each memory's file is `memories/` followed by its path. The manifest is written last, so an
//! interrupted export has none and cannot be imported. Import verifies every file against the
//! manifest (hash, size, UTF-8, the file name the path implies) before it writes anything: a
//! single mismatch refuses the whole import.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use steward_core::Timestamp;
use steward_core::memory::validate_memory_path;

use crate::app::{App, validate_user};
use crate::error::UserError;
use crate::memories::{self, Put, sha256_hex};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// The manifest's `format`.
pub const FORMAT: &str = "steward-memory-export";

/// The manifest's `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// The directory of the memory files.
pub const MEMORIES_DIR: &str = "memories";

/// The manifest of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The user whose memories these are.
    pub user: String,
    /// The store they came from.
    pub store: StoreInfo,
    /// When the export was made.
    pub exported_at: String,
    /// One entry per memory, in path order.
    pub memories: Vec<Entry>,
}

/// The store an export came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One memory of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The memory's path.
    pub path: String,
    /// Its file, relative to the export directory (`memories/…`).
    pub file: String,
    /// The content's lowercase hex SHA-256.
    pub sha256: String,
    /// The content's size in bytes.
    pub size_bytes: u64,
}

/// The file of a memory path, relative to the export directory.
fn file_of(path: &str) -> String {
    format!("{MEMORIES_DIR}{path}")
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> UserError {
    UserError::failure(format!("cannot {what} `{}`: {e}", path.display()))
}

/// Checks that `dir` does not exist or is an empty directory.
pub fn check_export_dir(dir: &Path) -> Result<(), UserError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(
                    UserError::usage(format!("`{}` is not empty", dir.display()))
                        .hint("export into a new directory"),
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("use the export directory", dir, &e)),
    }
}

/// `steward memory export --user U <dir>`.
pub async fn export(app: &mut App, user: &str, dir: &Path) -> anyhow::Result<()> {
    let store = app.user_store(user).await?;
    let memories = memories::list_full(app.client(), &store.id).await?;
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, &e))?;
    let mut entries = Vec::with_capacity(memories.len());
    for memory in &memories {
        let content = memory.content.value().map_or("", String::as_str);
        let sha256 = sha256_hex(content.as_bytes());
        if sha256 != memory.content_sha256 {
            return Err(UserError::failure(format!(
                "memory `{}` arrived with content that does not match its hash",
                memory.path
            ))
            .into());
        }
        let file = file_of(&memory.path);
        let target = dir.join(&file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("create", parent, &e))?;
        }
        std::fs::write(&target, content).map_err(|e| io_error("write", &target, &e))?;
        entries.push(Entry {
            path: memory.path.clone(),
            file,
            sha256,
            size_bytes: content.len() as u64,
        });
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        user: user.to_owned(),
        store: StoreInfo {
            id: store.id.to_string(),
            name: store.name.clone(),
        },
        exported_at: Timestamp::now().to_string(),
        memories: entries,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest)?;
    bytes.push(b'\n');
    let path = dir.join(MANIFEST);
    std::fs::write(&path, bytes).map_err(|e| io_error("write", &path, &e))?;
    if app.printer.json {
        app.printer.json(&manifest)?;
        return Ok(());
    }
    app.printer.line(format!(
        "exported {} {} of `{user}` to {}",
        manifest.memories.len(),
        plural(manifest.memories.len(), "memory", "memories"),
        dir.display()
    ))?;
    Ok(())
}

/// `n thing(s)`.
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// A verified export: the manifest and each memory's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The manifest.
    pub manifest: Manifest,
    /// `(path, content)` per memory, in manifest order.
    pub contents: Vec<(String, String)>,
    /// Files under `memories/` the manifest does not list (ignored).
    pub unlisted: Vec<String>,
}

/// Reads and verifies an export directory without touching the API.
pub fn verify(dir: &Path) -> Result<Verified, UserError> {
    let manifest_path = dir.join(MANIFEST);
    let bytes = match std::fs::read(&manifest_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(UserError::failure(format!(
                "`{}` is not a steward memory export: it has no {MANIFEST}",
                dir.display()
            ))
            .hint("export with `steward memory export --user <user> <dir>`"));
        }
        Err(e) => return Err(io_error("read", &manifest_path, &e)),
    };
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        UserError::failure(format!(
            "the manifest `{}` is invalid: {e}",
            manifest_path.display()
        ))
    })?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(UserError::failure(format!(
            "the manifest `{}` is of format `{}` version {}; this steward reads `{FORMAT}` version {FORMAT_VERSION}",
            manifest_path.display(),
            manifest.format,
            manifest.format_version
        )));
    }
    let mut seen = BTreeSet::new();
    let mut contents = Vec::with_capacity(manifest.memories.len());
    for entry in &manifest.memories {
        let refuse = |why: String| {
            UserError::failure(format!("{why}; nothing was imported"))
                .hint("the export was changed after it was made; export it again")
        };
        validate_memory_path(&entry.path).map_err(|e| {
            refuse(format!(
                "the manifest lists an invalid path `{}`: {e}",
                entry.path
            ))
        })?;
        if !seen.insert(entry.path.clone()) {
            return Err(refuse(format!("the manifest lists `{}` twice", entry.path)));
        }
        let expected = file_of(&entry.path);
        if entry.file != expected {
            return Err(refuse(format!(
                "the manifest puts `{}` in `{}` instead of `{expected}`",
                entry.path, entry.file
            )));
        }
        let file = dir.join(&expected);
        let bytes =
            std::fs::read(&file).map_err(|e| refuse(format!("cannot read `{expected}`: {e}")))?;
        let sha256 = sha256_hex(&bytes);
        if sha256 != entry.sha256.to_ascii_lowercase() || bytes.len() as u64 != entry.size_bytes {
            return Err(refuse(format!(
                "`{expected}` does not match the manifest (sha256 {}…, the manifest says {}…)",
                &sha256[..12],
                entry.sha256.get(..12).unwrap_or(&entry.sha256)
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| refuse(format!("`{expected}` is not UTF-8 text")))?;
        contents.push((entry.path.clone(), text));
    }
    let listed: BTreeSet<String> = manifest.memories.iter().map(|e| e.file.clone()).collect();
    let mut unlisted = Vec::new();
    collect_files(
        &dir.join(MEMORIES_DIR),
        Path::new(MEMORIES_DIR),
        &mut unlisted,
    )
    .map_err(|e| io_error("read", &dir.join(MEMORIES_DIR), &e))?;
    unlisted.retain(|f| !listed.contains(f));
    Ok(Verified {
        manifest,
        contents,
        unlisted,
    })
}

/// Every file below `dir`, as `/`-joined paths starting with `rel`.
fn collect_files(dir: &Path, rel: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut entries: Vec<_> = entries.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let rel: PathBuf = rel.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            collect_files(&entry.path(), &rel, out)?;
        } else {
            let parts: Vec<String> = rel
                .components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct Imported {
    user: String,
    memory_store_id: String,
    created: usize,
    updated: usize,
    unchanged: usize,
    memories: Vec<ImportedMemory>,
}

#[derive(Debug, Serialize)]
struct ImportedMemory {
    path: String,
    status: &'static str,
}

/// `steward memory import --user U <dir>`: verifies everything first, then writes each memory
/// (creating the user's store when needed).
pub async fn import(app: &mut App, user: &str, verified: Verified) -> anyhow::Result<()> {
    validate_user(user)?;
    for file in &verified.unlisted {
        app.printer
            .warn(format!("ignored `{file}`: the manifest does not list it"));
    }
    let store = match app.find_user_store(user).await? {
        Some(store) => store,
        None => {
            let store = super::user::create_store(app, user).await?;
            app.printer.note(format!("added user `{user}`"));
            store
        }
    };
    let mut results = Vec::with_capacity(verified.contents.len());
    for (path, content) in &verified.contents {
        let (outcome, _) = memories::put(app.client(), &store.id, path, content).await?;
        results.push(ImportedMemory {
            path: path.clone(),
            status: outcome.as_str(),
        });
    }
    let count = |status: Put| {
        results
            .iter()
            .filter(|r| r.status == status.as_str())
            .count()
    };
    let imported = Imported {
        user: user.to_owned(),
        memory_store_id: store.id.to_string(),
        created: count(Put::Created),
        updated: count(Put::Updated),
        unchanged: count(Put::Unchanged),
        memories: results,
    };
    if app.printer.json {
        app.printer.json(&imported)?;
        return Ok(());
    }
    let n = imported.memories.len();
    app.printer.line(format!(
        "imported {n} {} into `{user}` ({} created, {} updated, {} unchanged); every hash verified",
        plural(n, "memory", "memories"),
        imported.created,
        imported.updated,
        imported.unchanged
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_export(dir: &Path, files: &[(&str, &str)]) {
        let mut entries = Vec::new();
        for (path, content) in files {
            let file = dir.join(file_of(path));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, content).unwrap();
            entries.push(Entry {
                path: (*path).to_owned(),
                file: file_of(path),
                sha256: sha256_hex(content.as_bytes()),
                size_bytes: content.len() as u64,
            });
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            user: "alice".into(),
            store: StoreInfo {
                id: "memstore_1".into(),
                name: "user-alice".into(),
            },
            exported_at: "2026-01-01T00:00:00Z".into(),
            memories: entries,
        };
        std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&manifest).unwrap()).unwrap();
    }

    #[test]
    fn a_clean_export_verifies() {
        let dir = tempfile::tempdir().unwrap();
        write_export(dir.path(), &[("/a.md", "one\n"), ("/p/b.md", "two\n")]);
        std::fs::write(dir.path().join("memories/extra.md"), "x").unwrap();
        let verified = verify(dir.path()).unwrap();
        assert_eq!(
            verified.contents,
            vec![
                ("/a.md".to_owned(), "one\n".to_owned()),
                ("/p/b.md".to_owned(), "two\n".to_owned())
            ]
        );
        assert_eq!(verified.unlisted, vec!["memories/extra.md".to_owned()]);
    }

    #[test]
    fn tampering_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write_export(dir.path(), &[("/a.md", "one\n")]);
        std::fs::write(dir.path().join("memories/a.md"), "0ne\n").unwrap();
        let error = verify(dir.path()).unwrap_err();
        assert!(
            error
                .message
                .starts_with("`memories/a.md` does not match the manifest"),
            "{error}"
        );
        assert!(error.message.ends_with("nothing was imported"));

        std::fs::remove_file(dir.path().join("memories/a.md")).unwrap();
        let error = verify(dir.path()).unwrap_err();
        assert!(
            error.message.starts_with("cannot read `memories/a.md`"),
            "{error}"
        );
    }

    #[test]
    fn a_manifest_cannot_point_outside() {
        let dir = tempfile::tempdir().unwrap();
        write_export(dir.path(), &[("/a.md", "one\n")]);
        let path = dir.path().join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"memories/a.md\"", "\"../a.md\"");
        std::fs::write(&path, text).unwrap();
        let error = verify(dir.path()).unwrap_err();
        assert!(
            error.message.contains("instead of `memories/a.md`"),
            "{error}"
        );
    }

    #[test]
    fn no_manifest_is_not_an_export() {
        let dir = tempfile::tempdir().unwrap();
        let error = verify(dir.path()).unwrap_err();
        assert!(error.message.contains("is not a steward memory export"));
        std::fs::write(dir.path().join("x"), "").unwrap();
        assert!(check_export_dir(dir.path()).is_err());
        check_export_dir(&dir.path().join("new")).unwrap();
    }
}
