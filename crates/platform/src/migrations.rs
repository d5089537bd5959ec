//! Schema migrations: one ordered, append-only list, tracked by SQLite's `user_version`.
//!
//! Each resource module owns its tables and declares its migrations as `pub(crate) const`
//! [`Migration`] values next to the code that uses them; [`MIGRATIONS`] lists them all in the
//! order they were added. At start the platform applies every migration past the database's
//! `user_version`, each in its own transaction together with the `user_version` bump, so a
//! failed migration leaves the database as it was.
//!
//! Rules for adding one:
//! * Append to the end of [`MIGRATIONS`]; never reorder, edit or remove an entry that has been
//!   released. Change a table with a new migration (`ALTER TABLE`, or create-copy-drop).
//! * Give it a unique `name` (`"<module>_<what>"`). The names of applied migrations are kept
//!   in `schema_migrations`, and start-up refuses a database whose recorded names differ from
//!   this list (two branches that each appended a migration would otherwise silently skip one).
//! * Tables hold the wire object as a JSON `body` column plus the columns that queries filter
//!   or sort on (`created_at`, `archived_at`, foreign keys). Timestamps are RFC 3339 text with
//!   microseconds, which sorts in time order.

use rusqlite::Connection;

use crate::error::StartError;

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Unique name, `"<module>_<what>"`.
    pub name: &'static str,
    /// SQL run with `execute_batch` inside the migration's transaction.
    pub sql: &'static str,
}

/// Every migration, in the order applied. Append only.
pub const MIGRATIONS: &[Migration] = &[
    crate::auth::MIGRATION_API_KEYS,
    crate::agents::MIGRATION_AGENTS,
    crate::environments::MIGRATION_ENVIRONMENTS,
    crate::sessions::MIGRATION_SESSIONS,
    crate::memory::MIGRATION_MEMORY,
    crate::vaults::MIGRATION_VAULTS,
];

const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
) STRICT;";

/// Brings the schema up to date. Called once at start on the writer connection.
pub(crate) fn run(conn: &mut Connection) -> Result<(), StartError> {
    run_list(conn, MIGRATIONS)
}

fn run_list(conn: &mut Connection, migrations: &[Migration]) -> Result<(), StartError> {
    conn.execute_batch(BOOKKEEPING)?;
    let current: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current > migrations.len() {
        return Err(StartError::Schema(format!(
            "the database is at schema version {current}, newer than this build ({}); \
             use a newer steward-platform",
            migrations.len()
        )));
    }
    check_applied_names(conn, &migrations[..current])?;
    for (index, migration) in migrations.iter().enumerate().skip(current) {
        let version = index + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![version, migration.name, crate::clock::now().as_str()],
        )?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::debug!(version, name = migration.name, "applied migration");
    }
    Ok(())
}

fn check_applied_names(conn: &Connection, applied: &[Migration]) -> Result<(), StartError> {
    let mut stmt = conn.prepare("SELECT version, name FROM schema_migrations ORDER BY version")?;
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, usize>(0)?, row.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (version, name) = row?;
        let Some(expected) = version.checked_sub(1).and_then(|i| applied.get(i)) else {
            continue;
        };
        if expected.name != name {
            return Err(StartError::Schema(format!(
                "migration {version} is `{name}` in the database but `{}` in this build",
                expected.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Migration = Migration {
        name: "test_a",
        sql: "CREATE TABLE a (x INTEGER);",
    };
    const B: Migration = Migration {
        name: "test_b",
        sql: "CREATE TABLE b (y INTEGER);",
    };
    const BROKEN: Migration = Migration {
        name: "test_broken",
        sql: "CREATE TABLE c (z INTEGER); SELECT * FROM missing_table;",
    };

    fn version(conn: &Connection) -> usize {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn applies_pending_migrations_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        run_list(&mut conn, &[A]).unwrap();
        assert_eq!(version(&conn), 1);
        run_list(&mut conn, &[A, B]).unwrap();
        assert_eq!(version(&conn), 2);
        conn.execute("INSERT INTO b (y) VALUES (1)", []).unwrap();
        run_list(&mut conn, &[A, B]).unwrap();
        assert_eq!(version(&conn), 2);
    }

    #[test]
    fn a_failed_migration_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        run_list(&mut conn, &[A]).unwrap();
        assert!(run_list(&mut conn, &[A, BROKEN]).is_err());
        assert_eq!(version(&conn), 1);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'c'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }

    #[test]
    fn refuses_reordered_or_newer_schemas() {
        let mut conn = Connection::open_in_memory().unwrap();
        run_list(&mut conn, &[A, B]).unwrap();
        let err = run_list(&mut conn, &[B, A]).unwrap_err();
        assert!(err.to_string().contains("migration 1 is `test_a`"), "{err}");
        let err = run_list(&mut conn, &[A]).unwrap_err();
        assert!(err.to_string().contains("newer than this build"), "{err}");
    }

    #[test]
    fn the_real_list_applies_and_names_are_unique() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        run(&mut conn).unwrap();
        assert_eq!(version(&conn), MIGRATIONS.len());
        let mut names: Vec<_> = MIGRATIONS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MIGRATIONS.len());
    }
}
