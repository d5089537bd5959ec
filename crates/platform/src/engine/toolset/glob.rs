//! `glob`: files under a directory (the workdir by default) whose path relative to it matches
//! a pattern; full (virtual) paths, newest first, at most 200, or `no matches`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use regex::Regex;
use serde::Deserialize;

use super::{DEFAULT_SEARCH_PATH, Target, ToolError, ToolResult, Toolset, blocking, internal};
use crate::engine::mounts::Lookup;

/// Most paths `glob` returns.
pub(super) const RESULT_LIMIT: usize = 200;

/// Most entries a walk visits (the SDK's bound).
pub(super) const WALK_MAX_ENTRIES: usize = 50_000;

/// Deepest directory level a walk enters.
pub(super) const WALK_MAX_DEPTH: usize = 40;

/// Input of `glob`.
#[derive(Debug, Deserialize)]
pub(super) struct GlobInput {
    pattern: Option<String>,
    path: Option<String>,
}

pub(super) async fn run(toolset: &Toolset, input: GlobInput) -> ToolResult {
    let Some(pattern) = input.pattern.filter(|p| !p.is_empty()) else {
        return Err(ToolError::new("glob: pattern is required"));
    };
    if pattern.starts_with('/') {
        return Err(ToolError::new(
            "glob: absolute pattern not permitted; pass a relative pattern (and optionally path)",
        ));
    }
    if pattern.split(['\\', '/', '{', '}', ',']).any(|s| s == "..") {
        return Err(ToolError::new(
            "glob: \"..\" is not permitted in the pattern",
        ));
    }
    let matcher = compile(&pattern).map_err(|e| ToolError::new(format!("glob: {e}")))?;
    let shown = input
        .path
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_SEARCH_PATH.to_owned());
    // (virtual path, modification time) of every match.
    let mut matches: Vec<(String, SystemTime)> = match toolset.resolve(&shown)? {
        Target::Disk(root) => {
            let workspace = toolset.workspace().clone();
            let shown = shown.clone();
            blocking("glob", move || {
                if root.is_file() {
                    return Err(ToolError::new(format!("glob: {shown}: not a directory")));
                }
                Ok(walk_disk(&root, &matcher)
                    .into_iter()
                    .map(|(real, mtime)| (workspace.virtual_of(&real), mtime))
                    .collect())
            })
            .await?
        }
        Target::Memory { mount, path } => {
            let memory = toolset.memory();
            if let Lookup::File(_) = memory
                .lookup(&mount.store_id, path.as_deref())
                .await
                .map_err(|e| internal("glob", &e))?
            {
                return Err(ToolError::new(format!("glob: {shown}: not a directory")));
            }
            let prefix = format!("{}/", path.as_deref().unwrap_or(""));
            memory
                .list(&mount.store_id)
                .await
                .map_err(|e| internal("glob", &e))?
                .into_iter()
                .filter_map(|m| {
                    let relative = m.path.strip_prefix(&prefix)?;
                    matcher.is_match(relative).then(|| {
                        let mtime = m
                            .updated_at
                            .to_datetime()
                            .map_or(SystemTime::UNIX_EPOCH, SystemTime::from);
                        (mount.virtual_path(&m.path), mtime)
                    })
                })
                .collect()
        }
    };
    if matches.is_empty() {
        return Ok("no matches".to_owned());
    }
    matches.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    matches.truncate(RESULT_LIMIT);
    Ok(matches
        .into_iter()
        .map(|(path, _)| path)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Whether a directory entry is one the walks skip.
pub(super) fn skipped(name: &std::ffi::OsStr) -> bool {
    name == ".git" || name == "node_modules"
}

/// The entries of a directory, sorted by name (so walks are deterministic); empty when the
/// directory cannot be read.
pub(super) fn sorted_entries(dir: &Path) -> Vec<std::fs::DirEntry> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<_> = read.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    entries
}

/// The regular files below `root` whose relative path matches, with their modification times.
/// Symlinks to files count when they resolve inside `root`; symlinked directories are not
/// entered.
fn walk_disk(root: &Path, matcher: &Regex) -> Vec<(PathBuf, SystemTime)> {
    let mut found = Vec::new();
    let mut remaining = WALK_MAX_ENTRIES;
    let mut stack: Vec<(PathBuf, String, usize)> = vec![(root.to_path_buf(), String::new(), 0)];
    // Depth first, in name order: children are pushed in reverse.
    while let Some((dir, relative, depth)) = stack.pop() {
        if depth > WALK_MAX_DEPTH {
            continue;
        }
        let mut subdirs = Vec::new();
        for entry in sorted_entries(&dir) {
            if skipped(&entry.file_name()) {
                continue;
            }
            if remaining == 0 {
                return found;
            }
            remaining -= 1;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                subdirs.push((path, child, depth + 1));
            } else if kind.is_file() || kind.is_symlink() {
                if kind.is_symlink() {
                    match std::fs::canonicalize(&path) {
                        Ok(real) if real.starts_with(root) && real.is_file() => {}
                        _ => continue,
                    }
                }
                if matcher.is_match(&child) {
                    let mtime = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .unwrap_or(SystemTime::UNIX_EPOCH);
                    found.push((path, mtime));
                }
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    found
}

/// Compiles a glob pattern into an anchored regex over `/`-separated relative paths:
/// `**` as a whole segment spans any number of directories, `*` and `?` stay within one
/// segment, `[…]` (with `!` or `^` to negate) is a class, `{a,b}` alternatives (nestable),
/// `\` escapes the next character.
pub(super) fn compile(pattern: &str) -> Result<Regex, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::from("^");
    let mut braces = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                let at_start = i == 0 || chars[i - 1] == '/';
                let mut j = i;
                while chars.get(j) == Some(&'*') {
                    j += 1;
                }
                match chars.get(j) {
                    Some('/') if at_start => {
                        out.push_str("(?:[^/]*/)*");
                        j += 1;
                    }
                    None if at_start => out.push_str(".*"),
                    _ => out.push_str("[^/]*"),
                }
                i = j;
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => match chars[i + 1..].iter().position(|c| *c == ']') {
                Some(offset) if offset > 0 => {
                    let body: String = chars[i + 1..i + 1 + offset].iter().collect();
                    let (negate, body) = match body.strip_prefix(['!', '^']) {
                        Some(rest) => (true, rest.to_owned()),
                        None => (false, body),
                    };
                    out.push('[');
                    if negate {
                        out.push('^');
                    }
                    for c in body.chars() {
                        if matches!(c, '\\' | '[' | ']' | '&' | '~') {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push(']');
                    i += offset + 2;
                    continue;
                }
                _ => out.push_str(r"\["),
            },
            '{' => {
                braces += 1;
                out.push_str("(?:");
            }
            '}' if braces > 0 => {
                braces -= 1;
                out.push(')');
            }
            ',' if braces > 0 => out.push('|'),
            '\\' if i + 1 < chars.len() => {
                out.push_str(&regex::escape(&chars[i + 1].to_string()));
                i += 2;
                continue;
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    if braces > 0 {
        return Err(format!(
            "unclosed `{{` in pattern {}",
            super::quoted(pattern)
        ));
    }
    out.push('$');
    Regex::new(&out).map_err(|e| format!("invalid pattern {}: {e}", super::quoted(pattern)))
}

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn patterns_match_like_globs() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("*.md", &["a.md", ".hidden.md"], &["dir/a.md", "a.txt"]),
            (
                "**/*.md",
                &["a.md", "x/a.md", "x/y/a.md"],
                &["a.txt", "x/a.mdx"],
            ),
            ("**", &["a", "x/y/z"], &[]),
            ("notes/**", &["notes/a", "notes/b/c"], &["other/a"]),
            (
                "src/**/test?.rs",
                &["src/test1.rs", "src/a/b/testX.rs"],
                &["src/test10.rs"],
            ),
            ("*.{md,txt}", &["a.md", "b.txt"], &["c.rs"]),
            ("[ab]*.md", &["a1.md", "b.md"], &["c.md"]),
            ("[!ab]*.md", &["c.md"], &["a.md"]),
            ("a+b(1).md", &["a+b(1).md"], &["aab1.md"]),
        ];
        for (pattern, good, bad) in cases {
            let re = compile(pattern).unwrap();
            for path in *good {
                assert!(re.is_match(path), "{pattern} should match {path}");
            }
            for path in *bad {
                assert!(!re.is_match(path), "{pattern} should not match {path}");
            }
        }
        assert!(compile("{a,b").is_err());
    }
}
