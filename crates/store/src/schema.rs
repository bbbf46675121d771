//! The schema and its migrations. Each migration is one SQL script applied in one transaction
//! and recorded in `store_migrations`; a database newer than this build is refused, never
//! downgraded. The render queue shares the file and keeps its own `render_*` tables and
//! bookkeeping, so this module never touches `PRAGMA user_version`.

use std::path::Path;

use crate::sql::{params, Backend, Conn, OptionalExt};

use crate::error::{Result, SqlContext, StoreError};

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 4;

/// A data step run after a migration's SQL, in the same transaction.
type DataStep = fn(&Conn, &Path) -> Result<()>;

/// One schema version: its SQL per dialect and an optional data step (portable SQL).
struct Migration {
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    data: Option<DataStep>,
}

impl Migration {
    fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// Ordered migrations: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "initial schema",
        sqlite: V1,
        postgres: PG_V1,
        data: None,
    },
    Migration {
        name: "version reservations; normalised frame ranges",
        sqlite: V2,
        postgres: PG_V2,
        data: Some(crate::frames::normalise_stored_ranges),
    },
    Migration {
        name: "ramses interop: object ids and the outbox",
        sqlite: V3,
        postgres: PG_V3,
        data: None,
    },
    Migration {
        name: "server accounts: passwords, API tokens, sessions",
        sqlite: V4,
        postgres: PG_V4,
        data: None,
    },
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

/// The PostgreSQL twins of V1..V3: the same tables, keys and CHECKs (GLOB becomes a regular
/// expression, `json_valid` a function), BIGINT/BIGSERIAL for SQLite's 64-bit integers, TEXT
/// compared byte-wise (`COLLATE "C"`, as SQLite's BINARY) so listings sort the same on both,
/// and the append-only and immutability rules as plpgsql triggers raising the same messages.
/// A new version adds one const per dialect and one [`Migration`] row.
const PG_V1: &str = r#"-- SQLite's json_valid(), for the CHECKs on JSON text columns (TEXT rather than JSONB so the
-- text is kept byte for byte, as SQLite keeps it).
CREATE FUNCTION shotline_json_valid(t TEXT) RETURNS BOOLEAN LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM t::json;
  RETURN TRUE;
EXCEPTION WHEN others THEN
  RETURN FALSE;
END $$;
-- SQLite's group_concat(x): the listing reads dependencies and tags in one query.
CREATE FUNCTION shotline_concat_step(acc TEXT, v anyelement) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v::text ELSE acc || ',' || v::text END
$$;
CREATE AGGREGATE group_concat(anyelement) (SFUNC = shotline_concat_step, STYPE = TEXT);

CREATE TABLE projects (
  id           BIGSERIAL PRIMARY KEY,
  code         TEXT COLLATE "C" NOT NULL UNIQUE CHECK (code <> '' AND code !~ '[^A-Za-z0-9_-]'),
  name         TEXT COLLATE "C" NOT NULL,
  root         TEXT COLLATE "C" NOT NULL,
  fps          DOUBLE PRECISION NOT NULL CHECK (fps > 0),
  width        BIGINT NOT NULL CHECK (width > 0),
  height       BIGINT NOT NULL CHECK (height > 0),
  pixel_aspect DOUBLE PRECISION NOT NULL CHECK (pixel_aspect > 0),
  start_frame  BIGINT NOT NULL,
  created_at   TEXT COLLATE "C" NOT NULL
);
CREATE TABLE users (
  id         BIGSERIAL PRIMARY KEY,
  name       TEXT COLLATE "C" NOT NULL UNIQUE CHECK (name <> ''),
  role       TEXT COLLATE "C" NOT NULL CHECK (role IN ('standard','lead','project_admin','admin')),
  created_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE sequences (
  id         BIGSERIAL PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  code       TEXT COLLATE "C" NOT NULL CHECK (code <> '' AND code !~ '[^A-Za-z0-9_.-]'),
  UNIQUE (project_id, code)
);
CREATE TABLE asset_groups (
  id         BIGSERIAL PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  code       TEXT COLLATE "C" NOT NULL CHECK (code <> '' AND code !~ '[^A-Za-z0-9_.-]'),
  UNIQUE (project_id, code)
);
-- Shots and assets share one id space so versions and status can reference either with a real
-- foreign key; (id, kind) lets the schema insist that a shot step is only used on a shot.
CREATE TABLE items (
  id         BIGSERIAL PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('shot','asset')),
  code       TEXT COLLATE "C" NOT NULL CHECK (code <> '' AND code !~ '[^A-Za-z0-9_.-]'),
  name       TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at TEXT COLLATE "C" NOT NULL,
  UNIQUE (project_id, kind, code),
  UNIQUE (id, kind)
);
CREATE TABLE shots (
  item_id     BIGINT PRIMARY KEY REFERENCES items(id),
  sequence_id BIGINT REFERENCES sequences(id),
  frame_in    BIGINT NOT NULL,
  frame_out   BIGINT NOT NULL,
  handles     BIGINT NOT NULL DEFAULT 0 CHECK (handles >= 0),
  fps         DOUBLE PRECISION CHECK (fps IS NULL OR fps > 0),
  source      TEXT COLLATE "C",
  timecode_in TEXT COLLATE "C" CHECK (timecode_in IS NULL OR timecode_in ~ '^[0-9]{2}:[0-9]{2}:[0-9]{2}[:;][0-9]{2}$'),
  CHECK (frame_out >= frame_in)
);
CREATE TABLE assets (
  item_id  BIGINT PRIMARY KEY REFERENCES items(id),
  group_id BIGINT REFERENCES asset_groups(id)
);
CREATE TABLE steps (
  id         BIGSERIAL PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('shot','asset')),
  code       TEXT COLLATE "C" NOT NULL CHECK (code <> '' AND code !~ '[^A-Za-z0-9_-]'),
  name       TEXT COLLATE "C" NOT NULL DEFAULT '',
  UNIQUE (project_id, kind, code),
  UNIQUE (id, kind)
);
CREATE TABLE status (
  item_id     BIGINT NOT NULL,
  item_kind   TEXT COLLATE "C" NOT NULL,
  step_id     BIGINT NOT NULL,
  state       TEXT COLLATE "C" NOT NULL CHECK (state IN ('TODO','WIP','REVIEW','RETAKE','APPROVED','FINAL','OMIT')),
  assignee_id BIGINT REFERENCES users(id),
  completion  BIGINT NOT NULL DEFAULT 0 CHECK (completion BETWEEN 0 AND 100),
  updated_at  TEXT COLLATE "C" NOT NULL,
  updated_by  BIGINT NOT NULL REFERENCES users(id),
  PRIMARY KEY (item_id, step_id),
  FOREIGN KEY (item_id, item_kind) REFERENCES items(id, kind),
  FOREIGN KEY (step_id, item_kind) REFERENCES steps(id, kind)
);
-- One row per image sequence on disk: a folder and a pattern are one sequence, never two.
CREATE TABLE file_sequences (
  id      BIGSERIAL PRIMARY KEY,
  dir     TEXT COLLATE "C" NOT NULL CHECK (dir <> ''),
  pattern TEXT COLLATE "C" NOT NULL CHECK (pattern <> ''),
  UNIQUE (dir, pattern)
);
CREATE TABLE versions (
  id             BIGSERIAL PRIMARY KEY,
  item_id        BIGINT NOT NULL,
  item_kind      TEXT COLLATE "C" NOT NULL,
  step_id        BIGINT NOT NULL,
  resource       TEXT COLLATE "C" NOT NULL DEFAULT '' CHECK (resource !~ '[^A-Za-z0-9_-]'),
  number         BIGINT NOT NULL CHECK (number >= 1),
  state          TEXT COLLATE "C" NOT NULL CHECK (state IN ('TODO','WIP','REVIEW','RETAKE','APPROVED','FINAL','OMIT')),
  files_id       BIGINT NOT NULL REFERENCES file_sequences(id),
  first_frame    BIGINT,
  last_frame     BIGINT,
  frame_range    TEXT COLLATE "C" NOT NULL DEFAULT '',
  missing_frames TEXT COLLATE "C" NOT NULL DEFAULT '',
  width          BIGINT CHECK (width IS NULL OR width > 0),
  height         BIGINT CHECK (height IS NULL OR height > 0),
  fps            DOUBLE PRECISION CHECK (fps IS NULL OR fps > 0),
  timecode       TEXT COLLATE "C",
  bytes          BIGINT NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  file_count     BIGINT NOT NULL DEFAULT 0 CHECK (file_count >= 0),
  checksum       TEXT COLLATE "C",
  author_id      BIGINT NOT NULL REFERENCES users(id),
  created_at     TEXT COLLATE "C" NOT NULL,
  comment        TEXT COLLATE "C" NOT NULL DEFAULT '',
  source         TEXT COLLATE "C" NOT NULL DEFAULT 'publish',
  published      BIGINT NOT NULL DEFAULT 1 CHECK (published IN (0, 1)),
  manifest       TEXT COLLATE "C",
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
CREATE FUNCTION versions_published_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.published = 1 THEN
      RAISE EXCEPTION 'a published version cannot be deleted';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.published = 1 AND (NEW.item_id IS DISTINCT FROM OLD.item_id
      OR NEW.step_id IS DISTINCT FROM OLD.step_id OR NEW.resource IS DISTINCT FROM OLD.resource
      OR NEW.number IS DISTINCT FROM OLD.number OR NEW.files_id IS DISTINCT FROM OLD.files_id
      OR NEW.bytes IS DISTINCT FROM OLD.bytes OR NEW.file_count IS DISTINCT FROM OLD.file_count
      OR NEW.checksum IS DISTINCT FROM OLD.checksum OR NEW.author_id IS DISTINCT FROM OLD.author_id
      OR NEW.created_at IS DISTINCT FROM OLD.created_at
      OR NEW.published IS DISTINCT FROM OLD.published) THEN
    RAISE EXCEPTION 'a published version cannot be changed';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER versions_published_immutable BEFORE UPDATE OR DELETE ON versions
  FOR EACH ROW EXECUTE FUNCTION versions_published_guard();
CREATE FUNCTION versions_published_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a published version cannot be deleted'; END $$;
CREATE TRIGGER versions_published_kept BEFORE TRUNCATE ON versions
  FOR EACH STATEMENT EXECUTE FUNCTION versions_published_no_truncate();
CREATE TABLE dependencies (
  version_id BIGINT NOT NULL REFERENCES versions(id),
  uses_id    BIGINT NOT NULL REFERENCES versions(id),
  PRIMARY KEY (version_id, uses_id),
  CHECK (version_id <> uses_id)
);
CREATE INDEX dependencies_by_uses ON dependencies(uses_id);
CREATE TABLE tags (
  id   BIGSERIAL PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE CHECK (name <> '' AND name !~ '[^A-Za-z0-9_.-]')
);
CREATE TABLE version_tags (
  version_id BIGINT NOT NULL REFERENCES versions(id),
  tag_id     BIGINT NOT NULL REFERENCES tags(id),
  PRIMARY KEY (version_id, tag_id)
);
CREATE TABLE ratings (
  version_id BIGINT NOT NULL REFERENCES versions(id),
  user_id    BIGINT NOT NULL REFERENCES users(id),
  rating     BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
  rated_at   TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (version_id, user_id)
);
CREATE TABLE locks (
  what         TEXT COLLATE "C" PRIMARY KEY CHECK (what <> ''),
  user_id      BIGINT NOT NULL REFERENCES users(id),
  owner        TEXT COLLATE "C" NOT NULL,
  acquired_at  TEXT COLLATE "C" NOT NULL,
  heartbeat_at TEXT COLLATE "C" NOT NULL,
  expires_at   TEXT COLLATE "C" NOT NULL CHECK (expires_at > heartbeat_at)
);
-- The audit trail: append-only, enforced by the schema itself.
CREATE TABLE events (
  id          BIGSERIAL PRIMARY KEY,
  at          TEXT COLLATE "C" NOT NULL,
  "user"        TEXT COLLATE "C" NOT NULL,
  host        TEXT COLLATE "C" NOT NULL,
  action      TEXT COLLATE "C" NOT NULL CHECK (action <> ''),
  entity_kind TEXT COLLATE "C" NOT NULL,
  entity_id   BIGINT,
  entity      TEXT COLLATE "C" NOT NULL,
  details     TEXT COLLATE "C" NOT NULL DEFAULT '{}' CHECK (shotline_json_valid(details))
);
CREATE INDEX events_by_at ON events(at);
CREATE INDEX events_by_entity ON events(entity);
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

"#;

/// PostgreSQL twin of [`V2`].
const PG_V2: &str = r#"
CREATE TABLE version_reservations (
  id          BIGSERIAL PRIMARY KEY,
  item_id     BIGINT NOT NULL,
  item_kind   TEXT COLLATE "C" NOT NULL,
  step_id     BIGINT NOT NULL,
  resource    TEXT COLLATE "C" NOT NULL DEFAULT '' CHECK (resource !~ '[^A-Za-z0-9_-]'),
  number      BIGINT NOT NULL CHECK (number >= 1),
  path        TEXT COLLATE "C",
  "user"        TEXT COLLATE "C" NOT NULL,
  host        TEXT COLLATE "C" NOT NULL,
  pid         BIGINT NOT NULL,
  reserved_at TEXT COLLATE "C" NOT NULL,
  UNIQUE (item_id, step_id, resource, number),
  FOREIGN KEY (item_id, item_kind) REFERENCES items(id, kind),
  FOREIGN KEY (step_id, item_kind) REFERENCES steps(id, kind)
);

"#;

/// PostgreSQL twin of [`V3`].
const PG_V3: &str = r#"
CREATE TABLE ramses_objects (
  uuid       TEXT COLLATE "C" PRIMARY KEY CHECK (uuid <> ''),
  type       TEXT COLLATE "C" NOT NULL CHECK (type LIKE 'Ram%'),
  key        TEXT COLLATE "C" NOT NULL,
  extra      TEXT COLLATE "C" NOT NULL DEFAULT '{}' CHECK (shotline_json_valid(extra)),
  updated_at TEXT COLLATE "C" NOT NULL,
  UNIQUE (type, key)
);
CREATE TABLE ramses_outbox (
  id            BIGSERIAL PRIMARY KEY,
  created_at    TEXT COLLATE "C" NOT NULL,
  kind          TEXT COLLATE "C" NOT NULL CHECK (kind IN ('status','version')),
  entity        TEXT COLLATE "C" NOT NULL CHECK (entity <> ''),
  payload       TEXT COLLATE "C" NOT NULL CHECK (shotline_json_valid(payload)),
  attempts      BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error    TEXT COLLATE "C",
  claimed_by    TEXT COLLATE "C",
  claimed_until TEXT COLLATE "C",
  done_at       TEXT COLLATE "C",
  outcome       TEXT COLLATE "C" CHECK (outcome IS NULL OR outcome IN ('pushed','refused'))
);
CREATE INDEX ramses_outbox_pending ON ramses_outbox(done_at, id);
"#;

/// [`V4`] for PostgreSQL.
const PG_V4: &str = r#"
CREATE TABLE IF NOT EXISTS server_users (
  name          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  password_hash TEXT COLLATE "C" NOT NULL,
  updated_at    TEXT COLLATE "C" NOT NULL
);
CREATE TABLE IF NOT EXISTS server_tokens (
  id           BIGSERIAL PRIMARY KEY,
  name         TEXT COLLATE "C" NOT NULL,
  token_sha256 TEXT COLLATE "C" NOT NULL UNIQUE,
  label        TEXT COLLATE "C" NOT NULL,
  created_at   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS server_tokens_by_name ON server_tokens(name);
CREATE TABLE server_sessions (
  id           BIGSERIAL PRIMARY KEY,
  token_sha256 TEXT COLLATE "C" NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
  "user"       TEXT COLLATE "C" NOT NULL CHECK ("user" <> ''),
  csrf         TEXT COLLATE "C" NOT NULL CHECK (csrf <> ''),
  created_at   TEXT COLLATE "C" NOT NULL,
  last_seen    BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL CHECK (expires_at >= last_seen)
);
CREATE INDEX server_sessions_by_user ON server_sessions("user");
CREATE INDEX server_sessions_by_expiry ON server_sessions(expires_at);
"#;

/// The schema version recorded in the file (0 for a fresh or foreign file).
pub fn current_version(conn: &rusqlite::Connection, path: &Path) -> Result<i64> {
    let has_table: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_migrations'",
        [],
        |r| r.get(0),
    ))
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
pub fn check_not_newer(conn: &rusqlite::Connection, path: &Path) -> Result<i64> {
    newer_refused(current_version(conn, path)?, path)
}

pub(crate) fn newer_refused(found: i64, path: &Path) -> Result<i64> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// [`current_version`] on either backend.
pub(crate) fn version_of(conn: &Conn, path: &Path) -> Result<i64> {
    let probe = match conn.backend() {
        Backend::Sqlite => {
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_migrations'"
        }
        Backend::Postgres => "SELECT 1 WHERE to_regclass('store_migrations') IS NOT NULL",
    };
    let has_table: Option<i64> = conn
        .query_row(probe, params![], |r| r.get(0))
        .optional()
        .db(path)?;
    if has_table.is_none() {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM store_migrations",
        params![],
        |r| r.get(0),
    )
    .db(path)
}

/// [`check_not_newer`] on either backend: every user of a database (the render queue
/// included) calls it before writing or reading, on its own connection.
pub fn refuse_newer(conn: &Conn, path: &Path) -> Result<i64> {
    newer_refused(version_of(conn, path)?, path)
}

/// Applies pending migrations, each in its own IMMEDIATE transaction so two processes opening a
/// fresh file at once cannot both apply it. Returns (version before, version after).
pub(crate) fn migrate(conn: &mut Conn, path: &Path) -> Result<(i64, i64)> {
    let before = refuse_newer(conn, path)?;
    if before == SCHEMA_VERSION {
        return Ok((before, before));
    }
    let tx = conn.write_tx().db(path)?;
    let version = apply_pending(&tx, path)?;
    tx.commit().db(path)?;
    Ok((before, version))
}

/// Creates the whole schema inside the caller's transaction (`db migrate-to`).
pub(crate) fn apply_all(tx: &Conn, path: &Path) -> Result<i64> {
    apply_pending(tx, path)
}

/// Applies the migrations the database lacks inside `tx` (which holds the write lock).
fn apply_pending(tx: &Conn, path: &Path) -> Result<i64> {
    let backend = tx.backend();
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS store_migrations (
           version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .db(path)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    let mut version = refuse_newer(tx, path)?;
    while version < SCHEMA_VERSION {
        let m = usize::try_from(version)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
            .ok_or_else(|| StoreError::Invalid {
                what: "schema version",
                value: version.to_string(),
                expected: format!("0 to {SCHEMA_VERSION}"),
            })?;
        tx.execute_batch(m.sql(backend)).db(path)?;
        if let Some(step) = m.data {
            step(tx, path)?;
        }
        let name = m.name;
        version += 1;
        tx.execute(
            "INSERT INTO store_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, crate::time::now()],
        )
        .db(path)?;
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = crate::sql::Conn::Sqlite(crate::connect(&path).unwrap());
        assert_eq!(migrate(&mut conn, &path).unwrap(), (0, SCHEMA_VERSION));
        assert_eq!(
            migrate(&mut conn, &path).unwrap(),
            (SCHEMA_VERSION, SCHEMA_VERSION)
        );
        conn.execute(
            "INSERT INTO store_migrations VALUES (?1, 'future', 'x')",
            params![SCHEMA_VERSION + 1],
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
        let mut conn = crate::sql::Conn::Sqlite(crate::connect(&path).unwrap());
        migrate(&mut conn, &path).unwrap();
        conn.execute(
            "INSERT INTO events (at, \"user\", host, action, entity_kind, entity) VALUES ('t','u','h','a','k','e')", params![],
        )
        .unwrap();
        assert!(conn.execute("DELETE FROM events", params![]).is_err());
        assert!(conn
            .execute("UPDATE events SET \"user\" = 'x'", params![])
            .is_err());
    }
}
