//! `db backup|restore|check|migrate`: the operations that lost data in the studio tools we
//! replace (copying a live SQLite file, restoring over it in place) done the safe way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::json;

use crate::actor::Actor;
use crate::allocate::Reservation;
use crate::error::{IoContext, Result, SqlContext, StoreError};
use crate::model::Role;
use crate::schema;
use crate::sql::{params as sql_params, Backend};
use crate::store::{event, require, Store};

/// What `db check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The database file.
    pub path: String,
    /// Schema version.
    pub schema_version: i64,
    /// `PRAGMA integrity_check` lines (`["ok"]` when healthy).
    pub integrity: Vec<String>,
    /// Foreign-key violations, as `table rowid -> parent`.
    pub foreign_keys: Vec<String>,
    /// Consistency problems the schema cannot express (a shot item without shot data, a
    /// published version whose manifest is missing on disk).
    pub orphans: Vec<String>,
    /// File sequences no version refers to (harmless; reported for clean-up).
    pub unused_file_sequences: i64,
    /// Database file size in bytes.
    pub db_bytes: i64,
    /// Write-ahead log size in bytes.
    pub wal_bytes: i64,
    /// Free pages (space a VACUUM would return), in bytes.
    pub free_bytes: i64,
    /// Rows per table.
    pub rows: Vec<(String, i64)>,
    /// Version numbers reserved by the allocator and never registered (a writer that died or
    /// is still running); release stale ones with `db release-reservation`.
    pub reservations: Vec<Reservation>,
    /// Versions whose manifest file is missing (`db check --repair` rewrites them).
    pub missing_manifests: Vec<i64>,
    /// Leftover `.shotline-tmp-*` files of interrupted atomic writes, in the database folder and
    /// the folders of published files.
    pub temp_files: Vec<TempFile>,
}

/// A leftover temp file of an interrupted atomic write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TempFile {
    /// Its path.
    pub path: String,
    /// Seconds since it was last written.
    pub age_s: u64,
}

/// What `db check --repair` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RepairReport {
    /// Manifests written (only where none existed).
    pub manifests_written: Vec<String>,
    /// Temp files removed (older than the age asked for).
    pub temp_files_removed: Vec<String>,
}

impl CheckReport {
    /// True when the database is corrupt, breaks a foreign key or has orphans.
    pub fn has_problems(&self) -> bool {
        self.integrity != ["ok"] || !self.foreign_keys.is_empty() || !self.orphans.is_empty()
    }
}

/// What `db restore` did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// The backup restored.
    pub from: String,
    /// The live database.
    pub database: String,
    /// Where the database as it was before the restore was kept.
    pub previous: String,
}

/// Applies pending migrations to the file (`db migrate`); returns (before, after) versions.
pub fn migrate_file(path: &Path, busy_timeout_ms: u64) -> Result<(i64, i64)> {
    let mut conn = crate::db::open_conn(path, busy_timeout_ms, crate::db::OpenMode::ReadWrite)?;
    schema::migrate(&mut conn, path)
}

/// Copies `from` into a new file at `to` with SQLite's online backup (consistent while others
/// write), verifies the copy, and moves it into place atomically without overwriting anything.
fn backup_conn(from: &Connection, from_path: &Path, to: &Path) -> Result<i64> {
    let dir = shotline_fsio::parent_dir(to);
    if to.exists() {
        return Err(StoreError::Io {
            path: to.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists; refusing to overwrite it",
            ),
        });
    }
    let tmp = shotline_fsio::temp_builder(".shotline-backup-")
        .suffix(".db")
        .tempfile_in(dir)
        .io(dir)?;
    {
        let mut dst = Connection::open(tmp.path()).db(tmp.path())?;
        {
            let b = Backup::new(from, &mut dst).db(from_path)?;
            copy_all(&b).db(from_path)?;
        }
        // A backup is one self-contained file: no WAL beside it.
        let _: String = dst
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .db(tmp.path())?;
        verify(&dst, tmp.path())?;
    }
    tmp.as_file().sync_all().io(tmp.path())?;
    let bytes = tmp.as_file().metadata().io(tmp.path())?.len() as i64;
    tmp.persist_noclobber(to).map_err(|e| StoreError::Io {
        path: to.to_path_buf(),
        source: e.error,
    })?;
    shotline_fsio::sync_dir(dir)?;
    Ok(bytes)
}

/// Copies every page in one step (one consistent snapshot: a page-by-page copy restarts
/// whenever another process writes, and could chase a busy database for ever). A busy or locked
/// peer is waited for, up to a minute.
fn copy_all(b: &Backup<'_, '_>) -> rusqlite::Result<()> {
    use rusqlite::backup::StepResult;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match b.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some(
                        "database stayed busy for 60 s; try again when fewer writers are active"
                            .into(),
                    ),
                ))
            }
        }
    }
}

/// Fails unless `PRAGMA integrity_check` says ok and no foreign key is broken.
fn verify(conn: &Connection, path: &Path) -> Result<()> {
    let lines = integrity(conn, path)?;
    if lines != ["ok"] {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: lines.join("; "),
        });
    }
    let fks = foreign_keys(conn, path)?;
    if let Some(first) = fks.first() {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("{} foreign key violation(s), first: {first}", fks.len()),
        });
    }
    Ok(())
}

fn integrity(conn: &Connection, path: &Path) -> Result<Vec<String>> {
    let mut st = conn.prepare("PRAGMA integrity_check").db(path)?;
    let rows = st.query_map([], |r| r.get::<_, String>(0)).db(path)?;
    rows.collect::<rusqlite::Result<_>>().db(path)
}

fn foreign_keys(conn: &Connection, path: &Path) -> Result<Vec<String>> {
    let mut st = conn.prepare("PRAGMA foreign_key_check").db(path)?;
    let rows = st
        .query_map([], |r| {
            Ok(format!(
                "{} row {} -> {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?.unwrap_or(-1),
                r.get::<_, String>(2)?
            ))
        })
        .db(path)?;
    rows.collect::<rusqlite::Result<_>>().db(path)
}

/// Why the manifest at `path` does not describe version `id`, if it does not.
fn manifest_problem(id: i64, path: &Path) -> Option<String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some("is missing".into()),
        Err(e) => return Some(format!("cannot be read: {e}")),
    };
    let json: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(j) => j,
        Err(e) => return Some(format!("is not valid JSON: {e}")),
    };
    match json["version"]["id"].as_i64() {
        Some(found) if found == id => None,
        Some(found) => Some(format!("belongs to version {found}")),
        None => Some("has no version id".into()),
    }
}

impl Store {
    /// `db backup`: a consistent copy of the live database at `to` (never overwritten), taken
    /// with the online backup API so publishers can keep writing. Returns its size.
    ///
    /// On PostgreSQL the copy is `pg_dump -Fc` (one consistent snapshot while others write),
    /// written to a temp file beside `to` and moved into place without overwriting; restore it
    /// with `pg_restore` (see docs/tracking.md).
    pub fn backup(&self, to: &Path) -> Result<i64> {
        match self.conn.backend() {
            Backend::Sqlite => backup_conn(self.sqlite("db backup")?, &self.path, to),
            Backend::Postgres => pg_dump(&self.path, to),
        }
    }

    /// The SQLite connection for an operation that only exists there, or a refusal that says
    /// what to use on PostgreSQL instead.
    fn sqlite(&self, what: &str) -> Result<&Connection> {
        self.conn
            .as_sqlite()
            .ok_or_else(|| pg_refusal(&self.path, what))
    }

    /// `db restore` (project_admin or above): checks `from` (integrity, foreign keys, schema
    /// not newer, a project inside), copies it to a temp file, keeps the current database
    /// beside the live one (`<db>.pre-restore-<time>`), then replaces the live content through
    /// the backup API in one SQLite transaction. Renaming over a live WAL database would let
    /// the old `-wal` file replay onto the new one; this way other processes simply wait and
    /// then see the restored data, and any failure leaves the live database untouched.
    pub fn restore(&mut self, actor: &Actor, from: &Path) -> Result<RestoreReport> {
        // Read the role without registering anyone: a refused restore writes nothing.
        let role = self.role_of(&actor.user)?;
        require(actor, role, Role::ProjectAdmin, "restoring the database")?;
        if self.conn.backend() == Backend::Postgres {
            return self.restore_postgres(actor, from);
        }
        let src = Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .db(from)?;
        verify(&src, from)?;
        let version = schema::check_not_newer(&src, from)?;
        let has_project: bool = version > 0
            && src
                .query_row("SELECT count(*) > 0 FROM projects", [], |r| r.get(0))
                .db(from)?;
        if !has_project {
            return Err(StoreError::NoProject(from.to_path_buf()));
        }
        let dir = shotline_fsio::parent_dir(&self.path).to_path_buf();
        let staged = tempfile::Builder::new()
            .prefix(".shotline-restore-")
            .suffix(".db")
            .tempfile_in(&dir)
            .io(&dir)?;
        {
            let mut dst = Connection::open(staged.path()).db(staged.path())?;
            Backup::new(&src, &mut dst)
                .and_then(|b| copy_all(&b))
                .db(from)?;
            verify(&dst, staged.path())?;
        }
        drop(src);
        let stamp = crate::time::now().replace([':', '.'], "");
        let previous = dir.join(format!(
            "{}.pre-restore-{stamp}",
            self.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "shotline.db".into())
        ));
        backup_conn(self.sqlite("db restore")?, &self.path, &previous)?;
        {
            let staged_conn = Connection::open_with_flags(
                staged.path(),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .db(staged.path())?;
            let live = self
                .conn
                .as_sqlite_mut()
                .ok_or_else(|| pg_refusal(&self.path, "db restore"))?;
            Backup::new(&staged_conn, live)
                .and_then(|b| copy_all(&b))
                .db(&self.path)?;
        }
        drop(staged);
        let database = self.path.to_string_lossy().into_owned();
        self.after_restore(actor, from, &previous, database)
    }

    /// The end of a restore on either backend: the restored schema migrated to this build, the
    /// project reloaded, and the restore recorded in the (restored) audit trail.
    fn after_restore(
        &mut self,
        actor: &Actor,
        from: &Path,
        previous: &Path,
        database: String,
    ) -> Result<RestoreReport> {
        schema::migrate(&mut self.conn, &self.path)?;
        self.project = crate::store::load_project(&self.conn, &self.path)?;
        let path = self.path.clone();
        let tx = self.write_tx()?;
        event(
            &tx,
            &path,
            actor,
            "db.restore",
            "db",
            None,
            &database,
            &json!({"from": from.to_string_lossy(), "previous": previous.to_string_lossy()}),
        )?;
        tx.commit().db(&path)?;
        Ok(RestoreReport {
            from: from.to_string_lossy().into_owned(),
            database,
            previous: previous.to_string_lossy().into_owned(),
        })
    }

    /// `db restore` on PostgreSQL, from a `db backup` dump (`pg_dump -Fc`):
    /// 1. the dump is read, not restored, to check it: a valid archive, a schema not newer than
    ///    this build (`store_migrations` read with `pg_restore --data-only -f -`), a project
    ///    inside; nothing is touched when it fails;
    /// 2. the live database is dumped beside `from` (`<db>.pre-restore-<time>.dump`), never
    ///    overwriting anything;
    /// 3. `pg_restore --single-transaction --clean --if-exists --no-owner`: the dump's tables are
    ///    dropped and recreated in one transaction, so other clients wait and then see either
    ///    the old or the restored data, and a failure leaves the live database as it was.
    ///
    /// Tables the dump does not contain (created by a newer shotline since) are left alone.
    /// The password comes from `PGPASSWORD` or `.pgpass`, as for every connection.
    fn restore_postgres(&mut self, actor: &Actor, from: &Path) -> Result<RestoreReport> {
        let target = crate::target::PgTarget::parse(&self.path.to_string_lossy())?;
        let version = dump_schema_version(from)?;
        schema::newer_refused(version, from)?;
        if version == 0 || !dump_has_rows(from, "projects")? {
            return Err(StoreError::NoProject(from.to_path_buf()));
        }
        let dir = shotline_fsio::parent_dir(from).to_path_buf();
        let stamp = crate::time::now().replace([':', '.'], "");
        let previous = dir.join(format!("{}.pre-restore-{stamp}.dump", target.dbname()));
        pg_dump(&self.path, &previous)?;
        run_pg_tool(
            "pg_restore",
            &format!("pg_restore of {}", from.display()),
            |cmd| {
                cmd.args([
                    "--single-transaction",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-password",
                    "--exit-on-error",
                    "--dbname",
                ])
                .arg(target.conninfo())
                .arg(from);
            },
        )?;
        // The tables were recreated: statements prepared on this connection point at the old
        // ones, so they are dropped here and on the server.
        self.conn.batch("DEALLOCATE ALL").db(&self.path)?;
        self.after_restore(actor, from, &previous, target.url)
    }

    /// `db check`: integrity, foreign keys, orphans, sizes. Reads only.
    pub fn check(&self) -> Result<CheckReport> {
        let p = &self.path;
        let c = &self.conn;
        let mut orphans = Vec::new();
        for (kind, table) in [("shot", "shots"), ("asset", "assets")] {
            let sql = format!(
                "SELECT code FROM items WHERE kind = '{kind}' AND id NOT IN (SELECT item_id FROM {table})"
            );
            for code in c
                .query_map(&sql, sql_params![], |r| r.get::<String>(0))
                .db(p)?
            {
                orphans.push(format!("{kind} {code} has no {kind} data"));
            }
        }
        let manifests = c
            .query_map(
                "SELECT v.id, v.manifest FROM versions v WHERE v.published = 1 AND v.manifest IS NOT NULL",
                sql_params![],
                |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
            )
            .db(p)?;
        let mut missing_manifests = Vec::new();
        let mut folders = std::collections::BTreeSet::new();
        for (id, manifest) in manifests {
            let manifest_path = Path::new(&manifest);
            if let Some(dir) = manifest_path.parent() {
                folders.insert(dir.to_path_buf());
            }
            if let Some(problem) = manifest_problem(id, manifest_path) {
                if !manifest_path.exists() && manifest_path.symlink_metadata().is_err() {
                    missing_manifests.push(id);
                }
                orphans.push(format!("version {id}: manifest {manifest} {problem}"));
            }
        }
        if c.backend() == Backend::Sqlite {
            if let Some(dir) = p.parent() {
                folders.insert(dir.to_path_buf());
            }
        }
        let temp_files = temp_files_in(&folders);
        let unused: i64 = c
            .query_row(
                "SELECT count(*) FROM file_sequences WHERE id NOT IN (SELECT files_id FROM versions)",
                sql_params![],
                |r| r.get(0),
            )
            .db(p)?;
        let mut rows = Vec::new();
        for t in TRACKING_TABLES {
            let n: i64 = c
                .query_row(&format!("SELECT count(*) FROM {t}"), sql_params![], |r| {
                    r.get(0)
                })
                .db(p)?;
            rows.push((t.to_string(), n));
        }
        let health = match c.as_sqlite() {
            Some(sqlite) => sqlite_health(sqlite, p)?,
            None => pg_health(c, p)?,
        };
        Ok(CheckReport {
            path: p.to_string_lossy().into_owned(),
            schema_version: schema::version_of(c, p)?,
            integrity: health.integrity,
            foreign_keys: health.foreign_keys,
            orphans,
            unused_file_sequences: unused,
            db_bytes: health.db_bytes,
            wal_bytes: health.wal_bytes,
            free_bytes: health.free_bytes,
            rows,
            reservations: self.reservations()?,
            missing_manifests,
            temp_files,
        })
    }

    /// `db check --repair`: writes the manifest of every version whose manifest is missing
    /// (never over an existing file) and removes leftover temp files older than `min_age`
    /// (younger ones may belong to a write in progress).
    pub fn repair(&self, actor: &Actor, min_age: std::time::Duration) -> Result<RepairReport> {
        let report = self.check()?;
        let mut done = RepairReport::default();
        for id in report.missing_manifests {
            let v = self.version(id)?;
            let path = self.write_manifest(actor, &v)?;
            done.manifests_written
                .push(path.to_string_lossy().into_owned());
        }
        for t in report.temp_files {
            if t.age_s >= min_age.as_secs() {
                let path = PathBuf::from(&t.path);
                match std::fs::remove_file(&path) {
                    Ok(()) => done.temp_files_removed.push(t.path),
                    // Finished (renamed into place) since it was listed: nothing left to do.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).io(&path),
                }
            }
        }
        Ok(done)
    }
}

/// The tables `db check` counts (the tracking schema; the render queue reports its own).
const TRACKING_TABLES: [&str; 18] = [
    "projects",
    "users",
    "sequences",
    "asset_groups",
    "items",
    "shots",
    "assets",
    "steps",
    "status",
    "file_sequences",
    "versions",
    "dependencies",
    "tags",
    "version_tags",
    "ratings",
    "locks",
    "events",
    "version_reservations",
];

/// The storage-level part of `db check`.
struct Health {
    integrity: Vec<String>,
    foreign_keys: Vec<String>,
    db_bytes: i64,
    wal_bytes: i64,
    free_bytes: i64,
}

fn sqlite_health(c: &Connection, p: &Path) -> Result<Health> {
    let page_size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).db(p)?;
    let free: i64 = c
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .db(p)?;
    let size = |path: PathBuf| {
        std::fs::metadata(path)
            .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    };
    let mut wal = p.to_path_buf().into_os_string();
    wal.push("-wal");
    Ok(Health {
        integrity: integrity(c, p)?,
        foreign_keys: foreign_keys(c, p)?,
        db_bytes: size(p.to_path_buf()),
        wal_bytes: size(PathBuf::from(wal)),
        free_bytes: free.saturating_mul(page_size),
    })
}

/// PostgreSQL checksums its own pages and enforces every foreign key on each write, so there is
/// no file-level check to run: integrity is reported `ok` once the server answered, foreign
/// keys as enforced, and the size is the database's on the server.
fn pg_health(c: &crate::sql::Conn, p: &Path) -> Result<Health> {
    let db_bytes: i64 = c
        .query_row(
            "SELECT pg_database_size(current_database())",
            sql_params![],
            |r| r.get(0),
        )
        .db(p)?;
    Ok(Health {
        integrity: vec!["ok".into()],
        foreign_keys: Vec::new(),
        db_bytes,
        wal_bytes: 0,
        free_bytes: 0,
    })
}

/// `pg_dump -Fc` of the database at `url` into `to` (never overwritten). The password is not
/// passed: pg_dump reads `PGPASSWORD` or the pgpass file like shotline does.
fn pg_dump(url: &Path, to: &Path) -> Result<i64> {
    let target = crate::target::PgTarget::parse(&url.to_string_lossy())?;
    let dir = shotline_fsio::parent_dir(to);
    if to.exists() {
        return Err(StoreError::Io {
            path: to.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists; refusing to overwrite it",
            ),
        });
    }
    let tmp = shotline_fsio::temp_builder(".shotline-backup-")
        .suffix(".dump")
        .tempfile_in(dir)
        .io(dir)?;
    run_pg_tool("pg_dump", &format!("pg_dump of {}", target.url), |cmd| {
        cmd.args(["--format=custom", "--no-password", "--file"])
            .arg(tmp.path())
            .arg("--dbname")
            .arg(target.conninfo());
    })?;
    tmp.as_file().sync_all().io(tmp.path())?;
    let bytes = tmp.as_file().metadata().io(tmp.path())?.len();
    tmp.persist_noclobber(to).map_err(|e| StoreError::Io {
        path: to.to_path_buf(),
        source: e.error,
    })?;
    shotline_fsio::sync_dir(dir)?;
    Ok(i64::try_from(bytes).unwrap_or(i64::MAX))
}

/// Runs a PostgreSQL client tool (found by [`crate::target::pg_tool`]); its stderr becomes the error, named
/// by `what`. Returns its stdout.
fn run_pg_tool(
    name: &str,
    what: &str,
    args: impl FnOnce(&mut std::process::Command),
) -> Result<Vec<u8>> {
    let tool = crate::target::pg_tool(name);
    let mut cmd = std::process::Command::new(&tool);
    args(&mut cmd);
    let out = cmd.output().map_err(|e| StoreError::Target {
        what: what.to_string(),
        message: format!(
            "cannot run {}: {e} (install PostgreSQL's client tools: apt-get install postgresql-client)",
            tool.display()
        ),
    })?;
    if !out.status.success() {
        return Err(StoreError::Target {
            what: what.to_string(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// The rows of one table of a `pg_dump -Fc` archive, as `COPY` text lines (tab-separated
/// columns), read without restoring anything.
fn dump_table_rows(from: &Path, table: &str) -> Result<Vec<String>> {
    if !from.is_file() {
        return Err(StoreError::Io {
            path: from.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such dump file"),
        });
    }
    let out = run_pg_tool(
        "pg_restore",
        &format!(
            "reading {} (a `db backup` dump of PostgreSQL)",
            from.display()
        ),
        |cmd| {
            cmd.args(["--data-only", "--file=-", "--table", table])
                .arg(from);
        },
    )?;
    let text = String::from_utf8_lossy(&out);
    let mut rows = Vec::new();
    let mut in_copy = false;
    for line in text.lines() {
        if in_copy {
            if line == "\\." {
                in_copy = false;
            } else {
                rows.push(line.to_string());
            }
        } else if line.starts_with("COPY ") && line.ends_with("FROM stdin;") {
            in_copy = true;
        }
    }
    Ok(rows)
}

/// The schema version recorded in a dump (0 when it has no `store_migrations`).
fn dump_schema_version(from: &Path) -> Result<i64> {
    let mut newest = 0i64;
    for row in dump_table_rows(from, "store_migrations")? {
        let first = row.split('\t').next().unwrap_or_default();
        let v: i64 = first.parse().map_err(|_| StoreError::Target {
            what: from.display().to_string(),
            message: format!(
                "store_migrations holds {first:?} where a version number was expected"
            ),
        })?;
        newest = newest.max(v);
    }
    Ok(newest)
}

/// Whether `table` has at least one row in the dump.
fn dump_has_rows(from: &Path, table: &str) -> Result<bool> {
    Ok(!dump_table_rows(from, table)?.is_empty())
}

/// What to use on PostgreSQL for an operation that copies the SQLite file.
fn pg_refusal(path: &Path, what: &str) -> StoreError {
    StoreError::Target {
        what: format!("{what} on {}", path.display()),
        message: "this step copies a SQLite file and has no PostgreSQL form; use `db backup` \
                  (pg_dump) and `db restore` (pg_restore) there (see docs/tracking.md, PostgreSQL)"
            .into(),
    }
}

/// `.shotline-tmp-*` files directly inside `folders` (unreadable folders are skipped: `db check`
/// reports what it can see).
fn temp_files_in(folders: &std::collections::BTreeSet<PathBuf>) -> Vec<TempFile> {
    let now = std::time::SystemTime::now();
    let mut out = Vec::new();
    for dir in folders {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            if !name
                .to_string_lossy()
                .starts_with(shotline_fsio::TEMP_PREFIX)
            {
                continue;
            }
            let age_s = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .map(|d| d.as_secs())
                .unwrap_or(0);
            out.push(TempFile {
                path: e.path().to_string_lossy().into_owned(),
                age_s,
            });
        }
    }
    out
}
