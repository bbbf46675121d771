//! Opening the database file: where it lives and the connection settings every user of the file
//! (tracking, ingest, the render queue) must share so that concurrent processes stay safe.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::sql::Conn;
use crate::target::{is_postgres_url, PgTarget};

use crate::error::{IoContext, Result, SqlContext};

/// Environment variable naming the database file; wins over `store.path` in the config.
pub const DB_ENV: &str = "SHOTLINE_DB";

/// Default wait for another writer before a command gives up (milliseconds).
pub const DEFAULT_BUSY_TIMEOUT_MS: u64 = 30_000;

/// The database for a project: `$SHOTLINE_DB`, else `store.url` (PostgreSQL), else `store.path`
/// from the config (relative to the project root), else `<root>/.shotline/shotline.db`. One rule
/// so every command and every crate finds the same database.
///
/// A PostgreSQL database is returned as its URL in a `PathBuf` (so the many callers that pass
/// "the database" around need no change); [`crate::Store`] recognises it, and
/// `store.sslmode` is carried as the URL's `sslmode` parameter unless the URL has one.
pub fn default_db_path(project_root: &Path, config: &shotline_config::StoreConfig) -> PathBuf {
    if let Some(env) = std::env::var_os(DB_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(env);
    }
    if let Some(url) = &config.url {
        return PathBuf::from(with_sslmode(url, config.sslmode.as_str()));
    }
    match &config.path {
        Some(p) if p.is_absolute() || is_postgres_url(p) => p.clone(),
        Some(p) => project_root.join(p),
        None => project_root.join(".shotline").join("shotline.db"),
    }
}

fn with_sslmode(url: &str, mode: &str) -> String {
    if url.contains("sslmode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&sslmode={mode}")
    } else {
        format!("{url}?sslmode={mode}")
    }
}

/// How [`open_conn`] opens the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the SQLite file if missing (`init`).
    Create,
    /// An existing database, for writing.
    ReadWrite,
    /// An existing database; nothing is written (SQLite: read-only file and `query_only`;
    /// PostgreSQL: `default_transaction_read_only`).
    ReadOnly,
}

/// Opens a connection on either backend with the settings every user of the database shares:
/// a `postgres://` URL connects to the server (through the pool), anything else is a SQLite
/// file. It neither creates nor migrates any schema: the tracking schema belongs to
/// [`crate::Store`], and other users of the same database (the render queue, the server's
/// accounts) migrate their own tables on the connection this returns.
pub fn open_conn(path: &Path, busy_timeout_ms: u64, mode: OpenMode) -> Result<Conn> {
    if is_postgres_url(path) {
        let target = PgTarget::parse(&path.to_string_lossy())?;
        let client = crate::target::checkout(&target, Duration::from_millis(busy_timeout_ms))?;
        let conn = Conn::Postgres(Box::new(std::cell::RefCell::new(client)));
        let read_only = if mode == OpenMode::ReadOnly {
            "on"
        } else {
            "off"
        };
        conn.batch(&format!("SET default_transaction_read_only = {read_only}"))
            .db(path)?;
        return Ok(conn);
    }
    let conn = match mode {
        OpenMode::Create => connect_with_timeout(path, busy_timeout_ms)?,
        OpenMode::ReadWrite => connect_existing(path, busy_timeout_ms, false)?,
        OpenMode::ReadOnly => connect_existing(path, busy_timeout_ms, true)?,
    };
    Ok(Conn::Sqlite(conn))
}

/// Opens (creating if needed) the SQLite file with the settings shared by all shotline crates:
/// parent folder created, WAL journal (readers never block the writer), foreign keys enforced,
/// a 30 s busy timeout (publishers queue instead of failing) and `synchronous=FULL` (a commit
/// reported to the user survives a power cut; publishes are few, so the cost is irrelevant).
///
/// It does not create or migrate the tracking schema: see [`crate::Store::open`].
pub fn connect(path: &Path) -> Result<Connection> {
    connect_with_timeout(path, DEFAULT_BUSY_TIMEOUT_MS)
}

/// [`connect`] with an explicit busy timeout (config `store.busy_timeout_ms`).
///
/// SQLite only (`open_conn` under `OpenMode::Create`, tests that read the file directly). A
/// PostgreSQL URL is refused: creating a file named like a URL would hide the mistake; every
/// caller that may meet either backend (store, render queue, server) goes through [`open_conn`].
pub fn connect_with_timeout(path: &Path, busy_timeout_ms: u64) -> Result<Connection> {
    refuse_url(path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).io(parent)?;
    }
    let conn = Connection::open(path).db(path)?;
    configure(&conn, path, busy_timeout_ms)?;
    Ok(conn)
}

/// Opens an existing database without creating it. `read_only` connections write nothing and
/// leave the journal mode alone (read-only commands must not change the file).
pub(crate) fn connect_existing(
    path: &Path,
    busy_timeout_ms: u64,
    read_only: bool,
) -> Result<Connection> {
    use rusqlite::OpenFlags;
    refuse_url(path)?;
    if !path.is_file() {
        return Err(crate::StoreError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no tracking database here; run `shotline init` or set SHOTLINE_DB",
            ),
        });
    }
    let mode = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let conn =
        Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX).db(path)?;
    if read_only {
        conn.busy_timeout(Duration::from_millis(busy_timeout_ms))
            .db(path)?;
        conn.execute_batch("PRAGMA query_only = ON;").db(path)?;
    } else {
        configure(&conn, path, busy_timeout_ms)?;
    }
    Ok(conn)
}

fn refuse_url(path: &Path) -> Result<()> {
    if is_postgres_url(path) {
        return Err(crate::StoreError::Target {
            what: path.display().to_string(),
            message: "this command needs a SQLite database file; on PostgreSQL only the tracking \
                      and render commands are supported so far (see docs/tracking.md, PostgreSQL)"
                .into(),
        });
    }
    Ok(())
}

fn configure(conn: &Connection, path: &Path, busy_timeout_ms: u64) -> Result<()> {
    conn.busy_timeout(Duration::from_millis(busy_timeout_ms))
        .db(path)?;
    // journal_mode returns a row; WAL persists in the file once set.
    // Some filesystems (network shares) refuse WAL; SQLite then keeps its rollback journal,
    // which is still safe, only slower for readers, so the answer is not an error.
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .db(path)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .db(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_precedence() {
        let root = Path::new("/proj");
        let mut cfg = shotline_config::StoreConfig::default();
        // The env var is process-global; this test only checks the non-env branches when unset.
        if std::env::var_os(DB_ENV).is_none() {
            assert_eq!(
                default_db_path(root, &cfg),
                PathBuf::from("/proj/.shotline/shotline.db")
            );
            cfg.path = Some(PathBuf::from("db/x.db"));
            assert_eq!(default_db_path(root, &cfg), PathBuf::from("/proj/db/x.db"));
            cfg.path = Some(PathBuf::from("/abs/y.db"));
            assert_eq!(default_db_path(root, &cfg), PathBuf::from("/abs/y.db"));
        }
    }

    #[test]
    fn connect_sets_wal_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/t.db");
        let conn = connect(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        assert!(path.is_file());
    }
}
