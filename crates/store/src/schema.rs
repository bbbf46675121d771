//! The schema and its migrations. Each migration is one SQL script applied in one transaction
//! and recorded in `store_migrations`; a database newer than this build is refused, never
//! downgraded. The render queue shares the file and keeps its own `render_*` tables and
//! bookkeeping, so this module never touches `PRAGMA user_version`.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Result, SqlContext, StoreError};

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 4;

/// A data step run after a migration's SQL, in the same transaction.
type DataStep = fn(&rusqlite::Transaction<'_>, &Path) -> Result<()>;

/// Ordered migrations: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[(&str, &str, Option<DataStep>)] = &[
    ("initial schema", V1, None),
    (
        "version reservations; normalised frame ranges",
        V2,
        Some(crate::frames::normalise_stored_ranges),
    ),
    ("ramses interop: object ids and the outbox", V3, None),
    ("server accounts: passwords, API tokens, sessions", V4, None),
];

/// The studio server's credentials (see `crates/server/src/accounts.rs`). Roles are never
/// stored here: who may do what is always `users.role`. Servers before this migration created
/// `server_users` and `server_tokens` themselves, hence `IF NOT EXISTS` for those two.
///
/// `server_sessions`: browser sessions, so a restart logs nobody out. Only the SHA-256 of the
/// cookie's token is kept (a copied database holds no usable session); `last_seen` and
/// `expires_at` are Unix seconds, `expires_at` moving forward with use (idle expiry).
const V4: &str = r#"
CREATE TABLE IF NOT EXISTS server_users (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS server_tokens_by_name ON server_tokens(name);
CREATE TABLE server_sessions (
  id           INTEGER PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
  user         TEXT NOT NULL CHECK (user <> ''),
  csrf         TEXT NOT NULL CHECK (csrf <> ''),
  created_at   TEXT NOT NULL,
  last_seen    INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL CHECK (expires_at >= last_seen)
);
CREATE INDEX server_sessions_by_user ON server_sessions(user);
CREATE INDEX server_sessions_by_expiry ON server_sessions(expires_at);
"#;

/// Ramses interop (see `ramses.rs` and `docs/ramses.md`).
///
/// `ramses_objects`: the uuid a Ramses client gave an object it created through `ramses serve`
/// (ours are derived, so only foreign ones need a row), and the data keys Ramses clients set
/// that shotline does not model (kept and given back, never dropped).
///
/// `ramses_outbox`: changes to push to a Ramses daemon, kept until pushed or refused so a daemon
/// that is down, slow or wrong never fails the local operation. A pusher claims a row (owner and
/// lease) in a write transaction, so two `shotline ramses sync` at once never push it twice.
const V3: &str = r#"
CREATE TABLE ramses_objects (
  uuid       TEXT PRIMARY KEY CHECK (uuid <> ''),
  type       TEXT NOT NULL CHECK (type GLOB 'Ram*'),
  key        TEXT NOT NULL,
  extra      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra)),
  updated_at TEXT NOT NULL,
  UNIQUE (type, key)
);
CREATE TABLE ramses_outbox (
  id            INTEGER PRIMARY KEY,
  created_at    TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('status','version')),
  entity        TEXT NOT NULL CHECK (entity <> ''),
  payload       TEXT NOT NULL CHECK (json_valid(payload)),
  attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error    TEXT,
  claimed_by    TEXT,
  claimed_until TEXT,
  done_at       TEXT,
  outcome       TEXT CHECK (outcome IS NULL OR outcome IN ('pushed','refused'))
);
CREATE INDEX ramses_outbox_pending ON ramses_outbox(done_at, id);
"#;

/// Version numbers taken by the allocator and not yet registered (see `allocate.rs`). A row
/// disappears when its version is registered or when it is released as stale.
const V2: &str = r#"
CREATE TABLE version_reservations (
  id          INTEGER PRIMARY KEY,
  item_id     INTEGER NOT NULL,
  item_kind   TEXT NOT NULL,
  step_id     INTEGER NOT NULL,
  resource    TEXT NOT NULL DEFAULT '' CHECK (resource NOT GLOB '*[^A-Za-z0-9_-]*'),
  number      INTEGER NOT NULL CHECK (number >= 1),
  path        TEXT,
  user        TEXT NOT NULL,
  host        TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  reserved_at TEXT NOT NULL,
  UNIQUE (item_id, step_id, resource, number),
  FOREIGN KEY (item_id, item_kind) REFERENCES items(id, kind),
  FOREIGN KEY (step_id, item_kind) REFERENCES steps(id, kind)
);
"#;

const V1: &str = r#"
CREATE TABLE projects (
  id           INTEGER PRIMARY KEY,
  code         TEXT NOT NULL UNIQUE CHECK (code <> '' AND code NOT GLOB '*[^A-Za-z0-9_-]*'),
  name         TEXT NOT NULL,
  root         TEXT NOT NULL,
  fps          REAL NOT NULL CHECK (fps > 0),
  width        INTEGER NOT NULL CHECK (width > 0),
  height       INTEGER NOT NULL CHECK (height > 0),
  pixel_aspect REAL NOT NULL CHECK (pixel_aspect > 0),
  start_frame  INTEGER NOT NULL,
  created_at   TEXT NOT NULL
);
CREATE TABLE users (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE CHECK (name <> ''),
  role       TEXT NOT NULL CHECK (role IN ('standard','lead','project_admin','admin')),
  created_at TEXT NOT NULL
);
CREATE TABLE sequences (
  id         INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  code       TEXT NOT NULL CHECK (code <> '' AND code NOT GLOB '*[^A-Za-z0-9_.-]*'),
  UNIQUE (project_id, code)
);
CREATE TABLE asset_groups (
  id         INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  code       TEXT NOT NULL CHECK (code <> '' AND code NOT GLOB '*[^A-Za-z0-9_.-]*'),
  UNIQUE (project_id, code)
);
-- Shots and assets share one id space so versions and status can reference either with a real
-- foreign key; (id, kind) lets the schema insist that a shot step is only used on a shot.
CREATE TABLE items (
  id         INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  kind       TEXT NOT NULL CHECK (kind IN ('shot','asset')),
  code       TEXT NOT NULL CHECK (code <> '' AND code NOT GLOB '*[^A-Za-z0-9_.-]*'),
  name       TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  UNIQUE (project_id, kind, code),
  UNIQUE (id, kind)
);
CREATE TABLE shots (
  item_id     INTEGER PRIMARY KEY REFERENCES items(id),
  sequence_id INTEGER REFERENCES sequences(id),
  frame_in    INTEGER NOT NULL,
  frame_out   INTEGER NOT NULL,
  handles     INTEGER NOT NULL DEFAULT 0 CHECK (handles >= 0),
  fps         REAL CHECK (fps IS NULL OR fps > 0),
  source      TEXT,
  timecode_in TEXT CHECK (timecode_in IS NULL OR timecode_in GLOB '[0-9][0-9]:[0-9][0-9]:[0-9][0-9][:;][0-9][0-9]'),
  CHECK (frame_out >= frame_in)
);
CREATE TABLE assets (
  item_id  INTEGER PRIMARY KEY REFERENCES items(id),
  group_id INTEGER REFERENCES asset_groups(id)
);
CREATE TABLE steps (
  id         INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  kind       TEXT NOT NULL CHECK (kind IN ('shot','asset')),
  code       TEXT NOT NULL CHECK (code <> '' AND code NOT GLOB '*[^A-Za-z0-9_-]*'),
  name       TEXT NOT NULL DEFAULT '',
  UNIQUE (project_id, kind, code),
  UNIQUE (id, kind)
);
CREATE TABLE status (
  item_id     INTEGER NOT NULL,
  item_kind   TEXT NOT NULL,
  step_id     INTEGER NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('TODO','WIP','REVIEW','RETAKE','APPROVED','FINAL','OMIT')),
  assignee_id INTEGER REFERENCES users(id),
  completion  INTEGER NOT NULL DEFAULT 0 CHECK (completion BETWEEN 0 AND 100),
  updated_at  TEXT NOT NULL,
  updated_by  INTEGER NOT NULL REFERENCES users(id),
  PRIMARY KEY (item_id, step_id),
  FOREIGN KEY (item_id, item_kind) REFERENCES items(id, kind),
  FOREIGN KEY (step_id, item_kind) REFERENCES steps(id, kind)
);
-- One row per image sequence on disk: a folder and a pattern are one sequence, never two.
CREATE TABLE file_sequences (
  id      INTEGER PRIMARY KEY,
  dir     TEXT NOT NULL CHECK (dir <> ''),
  pattern TEXT NOT NULL CHECK (pattern <> ''),
  UNIQUE (dir, pattern)
);
CREATE TABLE versions (
  id             INTEGER PRIMARY KEY,
  item_id        INTEGER NOT NULL,
  item_kind      TEXT NOT NULL,
  step_id        INTEGER NOT NULL,
  resource       TEXT NOT NULL DEFAULT '' CHECK (resource NOT GLOB '*[^A-Za-z0-9_-]*'),
  number         INTEGER NOT NULL CHECK (number >= 1),
  state          TEXT NOT NULL CHECK (state IN ('TODO','WIP','REVIEW','RETAKE','APPROVED','FINAL','OMIT')),
  files_id       INTEGER NOT NULL REFERENCES file_sequences(id),
  first_frame    INTEGER,
  last_frame     INTEGER,
  frame_range    TEXT NOT NULL DEFAULT '',
  missing_frames TEXT NOT NULL DEFAULT '',
  width          INTEGER CHECK (width IS NULL OR width > 0),
  height         INTEGER CHECK (height IS NULL OR height > 0),
  fps            REAL CHECK (fps IS NULL OR fps > 0),
  timecode       TEXT,
  bytes          INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  file_count     INTEGER NOT NULL DEFAULT 0 CHECK (file_count >= 0),
  checksum       TEXT,
  author_id      INTEGER NOT NULL REFERENCES users(id),
  created_at     TEXT NOT NULL,
  comment        TEXT NOT NULL DEFAULT '',
  source         TEXT NOT NULL DEFAULT 'publish',
  published      INTEGER NOT NULL DEFAULT 1 CHECK (published IN (0, 1)),
  manifest       TEXT,
  UNIQUE (item_id, step_id, resource, number),
  CHECK ((first_frame IS NULL) = (last_frame IS NULL)),
  CHECK (last_frame IS NULL OR last_frame >= first_frame),
  FOREIGN KEY (item_id, item_kind) REFERENCES items(id, kind),
  FOREIGN KEY (step_id, item_kind) REFERENCES steps(id, kind)
);
CREATE INDEX versions_by_step ON versions(step_id);
CREATE INDEX versions_by_files ON versions(files_id);
CREATE INDEX versions_by_author ON versions(author_id);
-- A published version is history: only its state and comment may change, and it is never deleted.
CREATE TRIGGER versions_published_immutable BEFORE UPDATE ON versions
WHEN OLD.published = 1 AND (NEW.item_id IS NOT OLD.item_id OR NEW.step_id IS NOT OLD.step_id
  OR NEW.resource IS NOT OLD.resource OR NEW.number IS NOT OLD.number
  OR NEW.files_id IS NOT OLD.files_id OR NEW.bytes IS NOT OLD.bytes
  OR NEW.file_count IS NOT OLD.file_count OR NEW.checksum IS NOT OLD.checksum
  OR NEW.author_id IS NOT OLD.author_id OR NEW.created_at IS NOT OLD.created_at
  OR NEW.published IS NOT OLD.published)
BEGIN SELECT RAISE(ABORT, 'a published version cannot be changed'); END;
CREATE TRIGGER versions_published_kept BEFORE DELETE ON versions WHEN OLD.published = 1
BEGIN SELECT RAISE(ABORT, 'a published version cannot be deleted'); END;
CREATE TABLE dependencies (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  uses_id    INTEGER NOT NULL REFERENCES versions(id),
  PRIMARY KEY (version_id, uses_id),
  CHECK (version_id <> uses_id)
);
CREATE INDEX dependencies_by_uses ON dependencies(uses_id);
CREATE TABLE tags (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (name <> '' AND name NOT GLOB '*[^A-Za-z0-9_.-]*')
);
CREATE TABLE version_tags (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  tag_id     INTEGER NOT NULL REFERENCES tags(id),
  PRIMARY KEY (version_id, tag_id)
);
CREATE TABLE ratings (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  user_id    INTEGER NOT NULL REFERENCES users(id),
  rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
  rated_at   TEXT NOT NULL,
  PRIMARY KEY (version_id, user_id)
);
CREATE TABLE locks (
  what         TEXT PRIMARY KEY CHECK (what <> ''),
  user_id      INTEGER NOT NULL REFERENCES users(id),
  owner        TEXT NOT NULL,
  acquired_at  TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL,
  expires_at   TEXT NOT NULL CHECK (expires_at > heartbeat_at)
);
-- The audit trail: append-only, enforced by the schema itself.
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  user        TEXT NOT NULL,
  host        TEXT NOT NULL,
  action      TEXT NOT NULL CHECK (action <> ''),
  entity_kind TEXT NOT NULL,
  entity_id   INTEGER,
  entity      TEXT NOT NULL,
  details     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
);
CREATE INDEX events_by_at ON events(at);
CREATE INDEX events_by_entity ON events(entity);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"#;

/// The schema version recorded in the file (0 for a fresh or foreign file).
pub fn current_version(conn: &Connection, path: &Path) -> Result<i64> {
    let has_table: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()
        .db(path)?;
    if has_table.is_none() {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM store_migrations",
        [],
        |r| r.get(0),
    )
    .db(path)
}

/// Refuses a file written by a newer shotline. Every user of the database file (tracking,
/// ingest, the render queue) calls this before writing, so an old shotline never writes into a
/// schema it does not understand. Returns the version found.
pub fn check_not_newer(conn: &Connection, path: &Path) -> Result<i64> {
    let found = current_version(conn, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Applies pending migrations, each in its own IMMEDIATE transaction so two processes opening a
/// fresh file at once cannot both apply it. Returns (version before, version after).
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(i64, i64)> {
    let before = check_not_newer(conn, path)?;
    if before == SCHEMA_VERSION {
        return Ok((before, before));
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .db(path)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS store_migrations (
           version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .db(path)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    let mut version = check_not_newer(&tx, path)?;
    while version < SCHEMA_VERSION {
        let (name, sql, data) = MIGRATIONS[version as usize];
        tx.execute_batch(sql).db(path)?;
        if let Some(step) = data {
            step(&tx, path)?;
        }
        version += 1;
        tx.execute(
            "INSERT INTO store_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![version, name, crate::time::now()],
        )
        .db(path)?;
    }
    tx.commit().db(path)?;
    Ok((before, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = crate::connect(&path).unwrap();
        assert_eq!(migrate(&mut conn, &path).unwrap(), (0, SCHEMA_VERSION));
        assert_eq!(
            migrate(&mut conn, &path).unwrap(),
            (SCHEMA_VERSION, SCHEMA_VERSION)
        );
        conn.execute(
            "INSERT INTO store_migrations VALUES (?1, 'future', 'x')",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
        let err = migrate(&mut conn, &path).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
        assert!(err.to_string().contains("upgrade shotline"));
    }

    #[test]
    fn audit_trail_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = crate::connect(&path).unwrap();
        migrate(&mut conn, &path).unwrap();
        conn.execute(
            "INSERT INTO events (at, user, host, action, entity_kind, entity) VALUES ('t','u','h','a','k','e')",
            [],
        )
        .unwrap();
        assert!(conn.execute("DELETE FROM events", []).is_err());
        assert!(conn.execute("UPDATE events SET user = 'x'", []).is_err());
    }
}
