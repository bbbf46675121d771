//! The render queue's tables (`render_*`) in the project's database, on either backend.
//!
//! The queue shares the database with the tracking store but keeps its own schema version
//! (`render_schema_version`), so the two evolve separately and an older queue file keeps
//! migrating exactly as it always did. The schema lives here, beside the store's, so that
//! `db migrate-to` creates the real queue tables on PostgreSQL (keys, checks, serial ids)
//! rather than a copy of SQLite's columns.

use std::path::Path;

use crate::error::{Result, SqlContext, StoreError};
use crate::sql::{params, Backend, Conn, OptionalExt};

/// The newest render queue schema this build knows.
pub const RENDER_SCHEMA_VERSION: i64 = 3;

/// One render schema version: its SQL per dialect.
struct RenderMigration {
    sqlite: &'static str,
    postgres: &'static str,
}

/// Ordered migrations: `MIGRATIONS[i]` takes the queue from version `i` to `i + 1`.
const MIGRATIONS: &[RenderMigration] = &[
    RenderMigration {
        sqlite: V1,
        postgres: PG_V1,
    },
    RenderMigration {
        sqlite: V2,
        postgres: PG_V2,
    },
    RenderMigration {
        sqlite: V3,
        postgres: PG_V3,
    },
];

/// Jobs, their dependencies and chunked tasks, the workers and every attempt of a task.
const V1: &str = r#"
CREATE TABLE render_jobs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    preset TEXT NOT NULL,
    frames TEXT NOT NULL,
    spec TEXT NOT NULL,
    priority INTEGER NOT NULL,
    control TEXT NOT NULL CHECK (control IN ('active','paused','cancelled')),
    dir TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE TABLE render_job_deps (
    job_id INTEGER NOT NULL REFERENCES render_jobs(id) ON DELETE CASCADE,
    depends_on INTEGER NOT NULL REFERENCES render_jobs(id),
    PRIMARY KEY (job_id, depends_on)
);
CREATE TABLE render_tasks (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES render_jobs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    first_frame INTEGER NOT NULL,
    last_frame INTEGER NOT NULL,
    step INTEGER NOT NULL,
    frame_count INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    frames_done INTEGER NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT,
    UNIQUE (job_id, idx)
);
CREATE INDEX render_tasks_state ON render_tasks(state, job_id, idx);
CREATE TABLE render_workers (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    proc_start INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at INTEGER
);
CREATE TABLE render_attempts (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES render_tasks(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    executor TEXT NOT NULL,
    host TEXT NOT NULL,
    worker_id INTEGER REFERENCES render_workers(id),
    pid INTEGER,
    proc_start INTEGER,
    threads INTEGER NOT NULL,
    gpus TEXT NOT NULL,
    log_path TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT,
    exit_code INTEGER,
    signal INTEGER,
    message TEXT
);
CREATE INDEX render_attempts_open ON render_attempts(task_id, outcome);
"#;

/// Farm executors: a job runs on the local queue or on a farm (`executor`); each farm
/// submission (a Slurm job array) is a row, and each attempt names its farm task (`123_4`).
const V2: &str = r#"
ALTER TABLE render_jobs ADD COLUMN executor TEXT NOT NULL DEFAULT 'local';
CREATE TABLE render_farm_arrays (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES render_jobs(id) ON DELETE CASCADE,
    farm TEXT NOT NULL,
    farm_job TEXT NOT NULL,
    tasks TEXT NOT NULL,
    submitted_at INTEGER NOT NULL
);
CREATE INDEX render_farm_arrays_job ON render_farm_arrays(job_id);
ALTER TABLE render_attempts ADD COLUMN farm_task TEXT;
CREATE INDEX render_attempts_farm ON render_attempts(executor, outcome);
"#;

/// Who submitted a job (the store's actor): listings show it and an encode-only review slate
/// names them as the artist. NULL for jobs queued before it was recorded.
const V3: &str = r#"
ALTER TABLE render_jobs ADD COLUMN submitted_by TEXT;
"#;

/// [`V1`] for PostgreSQL: 64-bit serial ids (SQLite's rowids), BIGINT numbers (times are
/// Unix milliseconds), DOUBLE PRECISION progress, text compared byte-wise as SQLite does.
const PG_V1: &str = r#"
CREATE TABLE render_jobs (
    id BIGSERIAL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    preset TEXT COLLATE "C" NOT NULL,
    frames TEXT COLLATE "C" NOT NULL,
    spec TEXT COLLATE "C" NOT NULL,
    priority BIGINT NOT NULL,
    control TEXT COLLATE "C" NOT NULL CHECK (control IN ('active','paused','cancelled')),
    dir TEXT COLLATE "C" NOT NULL,
    submitted_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE TABLE render_job_deps (
    job_id BIGINT NOT NULL REFERENCES render_jobs(id) ON DELETE CASCADE,
    depends_on BIGINT NOT NULL REFERENCES render_jobs(id),
    PRIMARY KEY (job_id, depends_on)
);
CREATE TABLE render_tasks (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES render_jobs(id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    first_frame BIGINT NOT NULL,
    last_frame BIGINT NOT NULL,
    step BIGINT NOT NULL,
    frame_count BIGINT NOT NULL,
    state TEXT COLLATE "C" NOT NULL CHECK (state IN ('queued','running','done','failed','cancelled')),
    attempts BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    frames_done BIGINT NOT NULL DEFAULT 0,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    message TEXT COLLATE "C",
    UNIQUE (job_id, idx)
);
CREATE INDEX render_tasks_state ON render_tasks(state, job_id, idx);
CREATE TABLE render_workers (
    id BIGSERIAL PRIMARY KEY,
    host TEXT COLLATE "C" NOT NULL,
    pid BIGINT NOT NULL,
    proc_start BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    stopped_at BIGINT
);
CREATE TABLE render_attempts (
    id BIGSERIAL PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES render_tasks(id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    executor TEXT COLLATE "C" NOT NULL,
    host TEXT COLLATE "C" NOT NULL,
    worker_id BIGINT REFERENCES render_workers(id),
    pid BIGINT,
    proc_start BIGINT,
    threads BIGINT NOT NULL,
    gpus TEXT COLLATE "C" NOT NULL,
    log_path TEXT COLLATE "C" NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    outcome TEXT COLLATE "C",
    exit_code BIGINT,
    signal BIGINT,
    message TEXT COLLATE "C"
);
CREATE INDEX render_attempts_open ON render_attempts(task_id, outcome);
"#;

/// [`V2`] for PostgreSQL.
const PG_V2: &str = r#"
ALTER TABLE render_jobs ADD COLUMN executor TEXT COLLATE "C" NOT NULL DEFAULT 'local';
CREATE TABLE render_farm_arrays (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES render_jobs(id) ON DELETE CASCADE,
    farm TEXT COLLATE "C" NOT NULL,
    farm_job TEXT COLLATE "C" NOT NULL,
    tasks TEXT COLLATE "C" NOT NULL,
    submitted_at BIGINT NOT NULL
);
CREATE INDEX render_farm_arrays_job ON render_farm_arrays(job_id);
ALTER TABLE render_attempts ADD COLUMN farm_task TEXT COLLATE "C";
CREATE INDEX render_attempts_farm ON render_attempts(executor, outcome);
"#;

/// [`V3`] for PostgreSQL.
const PG_V3: &str = r#"
ALTER TABLE render_jobs ADD COLUMN submitted_by TEXT COLLATE "C";
"#;

/// Whether `table` exists in the database (the current schema on PostgreSQL), read without
/// creating anything, so read-only listings can tell "no queue yet" from an error.
pub fn table_exists(conn: &Conn, db: &Path, table: &str) -> Result<bool> {
    let sql = match conn.backend() {
        Backend::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        Backend::Postgres => "SELECT 1 WHERE to_regclass(CAST(?1 AS TEXT)) IS NOT NULL",
    };
    let found: Option<i64> = conn
        .query_row(sql, params![table], |r| r.get(0))
        .optional()
        .db(db)?;
    Ok(found.is_some())
}

/// Whether `table` has `column` (a queue opened read-only may predate a migration).
pub fn column_exists(conn: &Conn, db: &Path, table: &str, column: &str) -> Result<bool> {
    let sql = match conn.backend() {
        Backend::Sqlite => "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
        Backend::Postgres => {
            "SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 AND column_name = ?2"
        }
    };
    let found: Option<i64> = conn
        .query_row(sql, params![table, column], |r| r.get(0))
        .optional()
        .db(db)?;
    Ok(found.is_some())
}

/// The render schema version recorded in the database; `None` when the queue was never
/// created there. Reads only.
pub fn render_schema_version(conn: &Conn, db: &Path) -> Result<Option<i64>> {
    if !table_exists(conn, db, "render_schema_version")? {
        return Ok(None);
    }
    let v: Option<i64> = conn
        .query_row(
            "SELECT max(version) FROM render_schema_version",
            params![],
            |r| r.get(0),
        )
        .db(db)?;
    Ok(Some(v.unwrap_or(0)))
}

/// Refuses a queue written by a newer shotline (its tables could hold what this build would
/// lose); returns the version found (0: none yet).
pub fn refuse_newer_render(conn: &Conn, db: &Path) -> Result<i64> {
    let found = render_schema_version(conn, db)?.unwrap_or(0);
    if found > RENDER_SCHEMA_VERSION {
        return Err(StoreError::Target {
            what: format!("the render queue in {}", db.display()),
            message: format!(
                "its schema is version {found}, newer than this shotline understands \
                 ({RENDER_SCHEMA_VERSION}); upgrade shotline"
            ),
        });
    }
    Ok(found)
}

/// Creates or migrates the render tables. Nothing is written when they are current; otherwise
/// the pending migrations run in one write transaction (SQLite `BEGIN IMMEDIATE`, PostgreSQL the
/// store's writer lock), so two processes opening a fresh database at once cannot both create
/// them. Returns the version now in place.
pub fn migrate_render(conn: &mut Conn, db: &Path) -> Result<i64> {
    if refuse_newer_render(conn, db)? == RENDER_SCHEMA_VERSION {
        return Ok(RENDER_SCHEMA_VERSION);
    }
    let tx = conn.write_tx().db(db)?;
    let version = apply_render_pending(&tx, db)?;
    tx.commit().db(db)?;
    Ok(version)
}

/// Applies the render migrations the database lacks inside `tx`, which holds the write lock
/// (also used by `db migrate-to` inside its one transaction).
pub(crate) fn apply_render_pending(tx: &Conn, db: &Path) -> Result<i64> {
    tx.execute_batch("CREATE TABLE IF NOT EXISTS render_schema_version (version BIGINT NOT NULL)")
        .db(db)?;
    // Re-read under the lock: another process may have migrated meanwhile.
    let current = refuse_newer_render(tx, db)?;
    let pending = usize::try_from(current).unwrap_or(0);
    for (i, m) in MIGRATIONS.iter().enumerate().skip(pending) {
        let sql = match tx.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        tx.execute_batch(sql).db(db)?;
        record_version(tx, db, i as i64 + 1)?;
    }
    Ok(RENDER_SCHEMA_VERSION.max(current))
}

/// Keeps the one row of `render_schema_version` at `version`.
fn record_version(tx: &Conn, db: &Path, version: i64) -> Result<()> {
    tx.execute("DELETE FROM render_schema_version", params![])
        .db(db)?;
    tx.execute(
        "INSERT INTO render_schema_version (version) VALUES (?1)",
        params![version],
    )
    .db(db)?;
    Ok(())
}

/// The SQL of render schema version `v` (1-based) for SQLite, for tests that build an older
/// queue file the way an older shotline left it.
#[cfg(any(test, feature = "test-support"))]
pub fn sqlite_migration(v: usize) -> Option<&'static str> {
    MIGRATIONS.get(v.checked_sub(1)?).map(|m| m.sqlite)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdb::{on_both, TestDb};
    use crate::OpenMode;

    fn open(b: TestDb, dir: &Path) -> Option<(Conn, std::path::PathBuf)> {
        let db = b.location(dir)?;
        Some((crate::open_conn(&db, 5000, OpenMode::Create).unwrap(), db))
    }

    on_both! {
        fn creates_once_reads_back_and_refuses_newer(b) {
            let dir = tempfile::tempdir().unwrap();
            let Some((mut conn, db)) = open(b, dir.path()) else { return };
            assert_eq!(render_schema_version(&conn, &db).unwrap(), None);
            assert!(!table_exists(&conn, &db, "render_jobs").unwrap());
            assert_eq!(migrate_render(&mut conn, &db).unwrap(), RENDER_SCHEMA_VERSION);
            assert_eq!(migrate_render(&mut conn, &db).unwrap(), RENDER_SCHEMA_VERSION);
            assert_eq!(
                render_schema_version(&conn, &db).unwrap(),
                Some(RENDER_SCHEMA_VERSION)
            );
            assert!(table_exists(&conn, &db, "render_attempts").unwrap());
            assert!(column_exists(&conn, &db, "render_jobs", "submitted_by").unwrap());
            assert!(!column_exists(&conn, &db, "render_jobs", "nope").unwrap());
            // Ids come from the serial column on both backends.
            let id: i64 = conn
                .query_row(
                    "INSERT INTO render_jobs (name, preset, frames, spec, priority, control, dir, submitted_at)
                     VALUES ('a', 'generic', '1', '', 0, 'active', '', 0) RETURNING id",
                    params![],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(id, 1);
            conn.execute("UPDATE render_schema_version SET version = 99", params![])
                .unwrap();
            let err = migrate_render(&mut conn, &db).unwrap_err().to_string();
            assert!(err.contains("newer than this shotline"), "{err}");
        }
    }
}
