//! The system prompt of a model call: the agent's own `system`, then the platform's notes.
//!
//! Two notes follow the agent's prompt, as the hosted platform adds them: where the working
//! directory is, and (when memory stores are attached) a memory section describing each mounted
//! store: its name, mount path, access, description and the attachment's instructions. The
//! memory section has a fixed shape, one `- Key: value` line per fact, which the offline model
//! reads to find the stores (see [`super::model::offline`]):
//!
//! ```text
//! # Memory
//! <what the stores are for>
//!
//! ## user-preferences
//! - Mount path: /mnt/memory/user-preferences
//! - Access: read_write
//! - Description: What the user likes.
//! - Instructions: Keep one topic per file.
//! ```

use std::fmt::Write as _;

use super::mounts::Mount;
use super::toolset::fs::WORKDIR;

/// Heading of the memory section.
pub(crate) const MEMORY_HEADING: &str = "# Memory";

/// Line prefix of a store's mount path in the memory section.
pub(crate) const MOUNT_PATH_LINE: &str = "- Mount path: ";

/// Line prefix of a store's access in the memory section.
pub(crate) const ACCESS_LINE: &str = "- Access: ";

/// The system prompt for an agent whose own prompt is `system`, with these stores mounted.
pub(crate) fn system_prompt(system: Option<&str>, mounts: &[Mount]) -> String {
    let mut out = String::new();
    if let Some(system) = system.filter(|s| !s.trim().is_empty()) {
        out.push_str(system.trim_end());
        out.push_str("\n\n");
    }
    let _ = write!(
        out,
        "# Environment\nYour working directory is {WORKDIR}; relative paths given to the file \
         tools resolve against it.\n"
    );
    if !mounts.is_empty() {
        out.push('\n');
        out.push_str(&memory_note(mounts));
    }
    out
}

/// The memory section describing the mounted stores.
pub(crate) fn memory_note(mounts: &[Mount]) -> String {
    let mut out = format!(
        "{MEMORY_HEADING}\nMemory stores are mounted as directories. Use the file tools on them \
         (glob, grep and read to look through them; write and edit to change them): look \
         through them for what is already known before you answer, and save durable facts \
         (preferences, decisions, corrections) there. Every change you make is kept as a new \
         version of that memory. Read-only stores cannot be changed.\n"
    );
    for mount in mounts {
        let _ = write!(
            out,
            "\n## {}\n{MOUNT_PATH_LINE}{}\n{ACCESS_LINE}{}\n",
            one_line(&mount.name),
            mount.path,
            mount.access()
        );
        if !mount.description.trim().is_empty() {
            let _ = writeln!(out, "- Description: {}", one_line(&mount.description));
        }
        if let Some(instructions) = mount.instructions.as_deref() {
            if !instructions.trim().is_empty() {
                let _ = writeln!(out, "- Instructions: {}", one_line(instructions));
            }
        }
    }
    out
}

/// Text on one line (line breaks become spaces), so a value cannot forge a `- Key:` line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The mounts a system prompt describes: (mount path, whether read-only), in order.
pub(crate) fn parse_mounts(system: &str) -> Vec<(String, bool)> {
    let Some(start) = system.rfind(&format!("{MEMORY_HEADING}\n")) else {
        return Vec::new();
    };
    let mut mounts: Vec<(String, bool)> = Vec::new();
    for line in system[start..].lines() {
        if let Some(path) = line.strip_prefix(MOUNT_PATH_LINE) {
            mounts.push((path.trim().to_owned(), false));
        } else if let Some(access) = line.strip_prefix(ACCESS_LINE) {
            if let Some(last) = mounts.last_mut() {
                last.1 = access.trim() == "read_only";
            }
        }
    }
    mounts
}

#[cfg(test)]
mod tests {
    use steward_core::MemoryStoreId;

    use super::*;

    #[test]
    fn the_memory_note_describes_each_store_and_parses_back() {
        let mounts = vec![
            Mount {
                store_id: MemoryStoreId::from("memstore_1".to_owned()),
                name: "User Preferences".into(),
                description: "What the user likes.".into(),
                instructions: Some("Keep one topic\nper file.".into()),
                path: "/mnt/memory/user-preferences".into(),
                read_only: false,
            },
            Mount {
                store_id: MemoryStoreId::from("memstore_2".to_owned()),
                name: "policies".into(),
                description: String::new(),
                instructions: None,
                path: "/mnt/memory/policies".into(),
                read_only: true,
            },
        ];
        let prompt = system_prompt(Some("You are helpful.\n"), &mounts);
        insta::assert_snapshot!(prompt, @r"
        You are helpful.

        # Environment
        Your working directory is /workspace; relative paths given to the file tools resolve against it.

        # Memory
        Memory stores are mounted as directories. Use the file tools on them (glob, grep and read to look through them; write and edit to change them): look through them for what is already known before you answer, and save durable facts (preferences, decisions, corrections) there. Every change you make is kept as a new version of that memory. Read-only stores cannot be changed.

        ## User Preferences
        - Mount path: /mnt/memory/user-preferences
        - Access: read_write
        - Description: What the user likes.
        - Instructions: Keep one topic per file.

        ## policies
        - Mount path: /mnt/memory/policies
        - Access: read_only
        ");
        assert_eq!(
            parse_mounts(&prompt),
            vec![
                ("/mnt/memory/user-preferences".to_owned(), false),
                ("/mnt/memory/policies".to_owned(), true)
            ]
        );
        assert!(parse_mounts(&system_prompt(None, &[])).is_empty());
    }
}
