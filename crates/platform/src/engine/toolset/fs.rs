//! Paths as the agent sees them, and the session's workspace directory on disk.
//!
//! The agent sees one virtual file system: its working directory [`WORKDIR`] (`/workspace`),
//! backed by a per-session directory under the data directory, and the memory stores mounted
//! at `/mnt/memory/<store>/`, backed by SQLite (see [`super::super::mounts`]). A path the agent
//! gives is first resolved *lexically* in that namespace ([`resolve_virtual`]: relative to
//! `/workspace`, `.` and `..` collapsed, never above `/`). A path inside `/workspace` is then
//! mapped onto the host directory and resolved *for real* ([`canonicalize`]: every symlink,
//! the leaf included, even a dangling one), and the canonical host path must still lie inside
//! the canonical workspace directory ([`Workspace::confine`]); a file with more than one hard
//! link counts as outside, since its other names may be ([`linked_elsewhere`]). Symlinks
//! resolve on the host, so a link whose target is `/workspace/x` or `/mnt/memory/…` points at
//! the host's path of that name, which is outside, and is refused. Host paths never appear in tool output or
//! errors: results name the path as the agent gave it, or its virtual form.
//!
//! The same port of the SDK's `fs-util.ts` supplies the atomic write (temporary sibling,
//! fsync, rename; new files `0600`, existing files keep their mode, new directories `0700`)
//! and the errno-based error wording.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Component, Path, PathBuf};

/// The agent's working directory, as the agent sees it.
pub(crate) const WORKDIR: &str = "/workspace";

/// Most symlinks followed while resolving one path (Linux's `MAXSYMLINKS`).
const MAX_SYMLINK_HOPS: usize = 40;

/// Resolves `input` against [`WORKDIR`] in the agent's namespace, lexically: the result is
/// absolute, `/`-separated, without `.`, `..` or empty segments (`..` at the root stays at the
/// root, as POSIX `path.resolve` does).
pub(crate) fn resolve_virtual(input: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let full;
    let text = if input.starts_with('/') {
        input
    } else {
        full = format!("{WORKDIR}/{input}");
        &full
    };
    for segment in text.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    format!("/{}", segments.join("/"))
}

/// Whether `path` is `root` itself or below it (both virtual, normalised paths).
pub(crate) fn is_within(root: &str, path: &str) -> bool {
    path == root
        || path
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/') || root.ends_with('/'))
}

/// A failure to resolve a path on disk.
#[derive(Debug)]
pub(crate) enum ResolveError {
    /// A symlink cycle, or more than [`MAX_SYMLINK_HOPS`] links.
    Loop,
    /// Any other error of the file system.
    Io(io::Error),
}

impl From<io::Error> for ResolveError {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

/// Whether an error says that a path (or one of its parents) does not exist.
fn is_missing(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Fully resolves the absolute host path `abs`: the longest existing prefix is resolved with
/// `realpath` and the rest re-appended, except that a component that is itself a symlink (a
/// dangling one included) is read and resolution continues from its target. Returns a path
/// free of symlinks, or an error; never `abs` unresolved. A port of the SDK's `canonicalize`.
pub(crate) fn canonicalize(abs: &Path) -> Result<PathBuf, ResolveError> {
    let mut tail: Vec<OsString> = Vec::new();
    let mut prefix = abs.to_path_buf();
    let mut hops = 0;
    loop {
        let realpath_error = match fs::canonicalize(&prefix) {
            Ok(mut real) => {
                for component in tail.iter().rev() {
                    real.push(component);
                }
                return Ok(real);
            }
            Err(e) => e,
        };
        let is_link = match fs::symlink_metadata(&prefix) {
            Ok(meta) => meta.file_type().is_symlink(),
            Err(lstat_error) => {
                if !is_missing(&lstat_error) {
                    return Err(lstat_error.into());
                }
                let (Some(parent), Some(name)) = (prefix.parent(), prefix.file_name()) else {
                    return Err(lstat_error.into());
                };
                tail.push(name.to_owned());
                prefix = parent.to_path_buf();
                continue;
            }
        };
        if !is_link {
            return Err(realpath_error.into());
        }
        hops += 1;
        if hops > MAX_SYMLINK_HOPS {
            return Err(ResolveError::Loop);
        }
        let parent = match prefix.parent() {
            Some(parent) => fs::canonicalize(parent)?,
            None => return Err(realpath_error.into()),
        };
        let mut next = parent.join(fs::read_link(&prefix)?);
        for component in tail.drain(..).rev() {
            next.push(component);
        }
        prefix = normalize_lexically(&next);
    }
}

/// Whether `real` (a canonical host path) is a file, not a directory, with more than one hard
/// link. Its other names may lie outside the workspace (a hard link, unlike a symlink, does
/// not say where the file also lives), so the tools treat it as outside: reading it could
/// show a file of the host, and editing it in place could change one. A missing path is not.
pub(crate) fn linked_elsewhere(real: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        fs::symlink_metadata(real).is_ok_and(|meta| !meta.is_dir() && meta.nlink() > 1)
    }
    #[cfg(not(unix))]
    {
        let _ = real;
        false
    }
}

/// Collapses `.` and `..` components without touching the file system (as `path.resolve`).
fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The session's workspace directory on the host.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    /// The canonical host path of the directory.
    root: PathBuf,
}

impl Workspace {
    /// Creates the directory (`0700`) if needed and remembers its canonical path.
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        create_dir_all(dir)?;
        Ok(Self {
            root: fs::canonicalize(dir)?,
        })
    }

    /// The host path of a virtual path inside [`WORKDIR`] (not yet resolved); `None` for a path
    /// outside it.
    pub(crate) fn host_path(&self, virtual_path: &str) -> Option<PathBuf> {
        if !is_within(WORKDIR, virtual_path) {
            return None;
        }
        let rest = virtual_path[WORKDIR.len()..].trim_start_matches('/');
        let mut host = self.root.clone();
        for segment in rest.split('/').filter(|s| !s.is_empty()) {
            host.push(segment);
        }
        Some(host)
    }

    /// Resolves a host path below the workspace and checks that its canonical form stays
    /// inside. `Ok(None)` when it resolves outside, or names a file with other hard links
    /// (see [`linked_elsewhere`]).
    pub(crate) fn confine(&self, host: &Path) -> Result<Option<PathBuf>, ResolveError> {
        let real = canonicalize(host)?;
        if !real.starts_with(&self.root) || linked_elsewhere(&real) {
            return Ok(None);
        }
        Ok(Some(real))
    }

    /// The virtual path of a canonical host path inside the workspace.
    pub(crate) fn virtual_of(&self, real: &Path) -> String {
        let rest = real.strip_prefix(&self.root).unwrap_or(real);
        let mut out = String::from(WORKDIR);
        for component in rest.components() {
            out.push('/');
            out.push_str(&component.as_os_str().to_string_lossy());
        }
        out
    }
}

/// Creates a directory and its parents, each new one `0700`. A file in the way is reported
/// as "not a directory" (as Node's recursive `mkdir` reports it).
pub(crate) fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => io::Error::from(io::ErrorKind::NotADirectory),
        _ => e,
    })
}

/// Writes `content` to `target` atomically: a temporary sibling file is written and fsynced,
/// then renamed over the target. A new file is created `0600`; an existing one keeps its mode.
pub(crate) fn atomic_write(target: &Path, content: &[u8]) -> io::Result<()> {
    let dir = target
        .parent()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let temp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        crate::ids::random_base62(16)
    ));
    let existing_mode = fs::metadata(target).ok().map(|meta| meta.permissions());
    let written = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        if let Some(permissions) = existing_mode {
            file.set_permissions(permissions)?;
        }
        file.write_all(content)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Linux errno values the error wording singles out (std has no stable `ErrorKind` for them).
mod errno {
    pub(super) const ENFILE: i32 = 23;
    pub(super) const EMFILE: i32 = 24;
    pub(super) const ENOSPC: i32 = 28;
    pub(super) const ENAMETOOLONG: i32 = 36;
    pub(super) const ELOOP: i32 = 40;
}

/// Words an I/O error the way the SDK's `fsErrorMessage` does, about `file` (as the agent
/// named it); never the host's path or the OS's own message.
pub(crate) fn io_error_message(error: &io::Error, file: &str) -> String {
    let what = match (error.kind(), error.raw_os_error()) {
        (io::ErrorKind::NotFound, _) => "no such file or directory".to_owned(),
        (io::ErrorKind::PermissionDenied, _) => "permission denied".to_owned(),
        (io::ErrorKind::NotADirectory, _) => "not a directory".to_owned(),
        (io::ErrorKind::IsADirectory, _) => "is a directory".to_owned(),
        (_, Some(errno::ELOOP)) => "too many levels of symbolic links".to_owned(),
        (_, Some(errno::ENAMETOOLONG)) => "file name too long".to_owned(),
        (_, Some(errno::ENOSPC)) => "no space left on device".to_owned(),
        (_, Some(errno::EMFILE | errno::ENFILE)) => "too many open files".to_owned(),
        (_, Some(code)) => format!("i/o error (errno {code})"),
        (_, None) => "i/o error".to_owned(),
    };
    format!("{file}: {what}")
}

/// [`io_error_message`] for a resolution failure.
pub(crate) fn resolve_error_message(error: &ResolveError, file: &str) -> String {
    match error {
        ResolveError::Loop => format!("{file}: too many levels of symbolic links"),
        ResolveError::Io(e) => io_error_message(e, file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_paths_resolve_lexically_against_the_workdir() {
        for (input, expected) in [
            ("notes.md", "/workspace/notes.md"),
            ("./a/../b/./c", "/workspace/b/c"),
            ("../..", "/"),
            ("../../../etc/passwd", "/etc/passwd"),
            ("/mnt/memory/prefs/", "/mnt/memory/prefs"),
            ("/mnt/memory/prefs/../other", "/mnt/memory/other"),
            ("a//b", "/workspace/a/b"),
            ("", "/workspace"),
        ] {
            assert_eq!(resolve_virtual(input), expected, "{input:?}");
        }
    }

    #[test]
    fn within_compares_whole_segments() {
        assert!(is_within("/workspace", "/workspace"));
        assert!(is_within("/workspace", "/workspace/a"));
        assert!(!is_within("/workspace", "/workspaces"));
        assert!(!is_within("/mnt/memory/a", "/mnt/memory/ab/c"));
    }

    #[cfg(unix)]
    #[test]
    fn canonicalize_follows_dangling_and_chained_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        std::os::unix::fs::symlink("/nonexistent/target", root.join("dangling")).unwrap();
        assert_eq!(
            canonicalize(&root.join("dangling")).unwrap(),
            PathBuf::from("/nonexistent/target")
        );
        std::os::unix::fs::symlink("sub", root.join("link")).unwrap();
        assert_eq!(
            canonicalize(&root.join("link/new/file.txt")).unwrap(),
            root.join("sub/new/file.txt")
        );
        std::os::unix::fs::symlink("loop2", root.join("loop1")).unwrap();
        std::os::unix::fs::symlink("loop1", root.join("loop2")).unwrap();
        assert!(matches!(
            canonicalize(&root.join("loop1")),
            Err(ResolveError::Loop)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn confine_refuses_links_out_and_files_linked_elsewhere() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        let outside = base.join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), "secret").unwrap();
        let ws = Workspace::open(&base.join("ws")).unwrap();
        let root = base.join("ws");
        fs::write(root.join("mine"), "mine").unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        fs::hard_link(outside.join("secret"), root.join("hard")).unwrap();
        for (name, target) in [
            ("up", "..".to_owned()),
            ("out", outside.display().to_string()),
            ("etc", "/etc".to_owned()),
            ("proc", "/proc/self".to_owned()),
            ("host-root", "/proc/self/root".to_owned()),
            ("cwd", "/proc/self/cwd".to_owned()),
            ("virtual", "/workspace/mine".to_owned()),
            ("memory", "/mnt/memory/notes".to_owned()),
            ("chain", "sub/../up/outside".to_owned()),
        ] {
            symlink(&target, root.join(name)).unwrap();
        }
        symlink(".", root.join("self")).unwrap();
        symlink("loop-b", root.join("loop-a")).unwrap();
        symlink("loop-a", root.join("loop-b")).unwrap();
        let confine = |rel: &str| ws.confine(&ws.host_path(&resolve_virtual(rel)).unwrap());

        for rel in [
            "hard",
            "up/outside/secret",
            "out/secret",
            "out/new-file",
            "etc/passwd",
            "proc/environ",
            "host-root/etc/passwd",
            "cwd",
            "virtual",
            "memory/x.md",
            "chain/secret",
            "self/self/out/secret",
        ] {
            assert!(
                matches!(confine(rel), Ok(None)),
                "{rel} must resolve outside: {:?}",
                confine(rel)
            );
        }
        assert!(matches!(confine("loop-a"), Err(ResolveError::Loop)));
        let Err(ResolveError::Io(below_loop)) = confine("loop-a/x") else {
            panic!("a path below a loop must fail")
        };
        assert_eq!(
            io_error_message(&below_loop, "loop-a/x"),
            "loop-a/x: too many levels of symbolic links"
        );
        assert_eq!(confine("self/self/mine").unwrap(), Some(root.join("mine")));
        assert_eq!(confine("sub/new").unwrap(), Some(root.join("sub/new")));
        // The hard link's other name is untouched, and a file with one link is fine again.
        fs::remove_file(outside.join("secret")).unwrap();
        assert_eq!(confine("hard").unwrap(), Some(root.join("hard")));
        assert!(!linked_elsewhere(&root.join("sub")));
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_creates_private_files_and_keeps_modes() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.txt");
        atomic_write(&file, b"one").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"one");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&file, fs::Permissions::from_mode(0o750)).unwrap();
        atomic_write(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o750
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }
}
