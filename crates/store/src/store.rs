//! [`Store`]: an open tracking database bound to its project, plus the helpers every write
//! shares (acting user and role, audit events).

use std::path::{Path, PathBuf};

use crate::sql::{params, Conn, OptionalExt, Tx};

use crate::actor::Actor;
use crate::error::{Result, SqlContext, StoreError};
use crate::model::{ItemKind, NewProject, Project, Role};
use crate::schema;

/// An open tracking database and the project it holds.
pub struct Store {
    pub(crate) conn: Conn,
    pub(crate) path: PathBuf,
    pub(crate) project: Project,
    pub(crate) read_only: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("project", &self.project.code)
            .finish()
    }
}

impl Store {
    /// Creates the project in a new (or empty) database file and makes `actor` its admin.
    /// Refuses a file that already holds a project: `init` must never clobber.
    pub fn create(path: &Path, project: &NewProject, actor: &Actor) -> Result<Store> {
        crate::validate::code("project code", &project.code)?;
        let mut conn = crate::db::open_conn(
            path,
            crate::DEFAULT_BUSY_TIMEOUT_MS,
            crate::db::OpenMode::Create,
        )?;
        schema::migrate(&mut conn, path)?;
        let tx = conn.write_tx().db(path)?;
        let existing: Option<String> = tx
            .query_row("SELECT code FROM projects LIMIT 1", params![], |r| r.get(0))
            .optional()
            .db(path)?;
        if let Some(code) = existing {
            return Err(StoreError::Exists {
                kind: "project database",
                name: format!("{} ({code})", path.display()),
            });
        }
        let now = crate::time::now();
        tx.execute(
            "INSERT INTO projects (code, name, root, fps, width, height, pixel_aspect, start_frame, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                project.code,
                project.name,
                project.root,
                project.fps,
                project.width,
                project.height,
                project.pixel_aspect,
                project.start_frame,
                now
            ],
        )
        .map_err(|e| invalid_or_db(e, path, "project", &project.code))?;
        let id: i64 = tx
            .query_row(
                "INSERT INTO users (name, role, created_at) VALUES (?1, 'admin', ?2)
                 ON CONFLICT (name) DO UPDATE SET role = 'admin' RETURNING id",
                params![actor.user, now],
                |r| r.get(0),
            )
            .db(path)?;
        event(
            &tx,
            path,
            actor,
            "project.create",
            "project",
            Some(id),
            &project.code,
            &serde_json::json!({"name": project.name, "fps": project.fps,
                "width": project.width, "height": project.height, "admin": actor.user}),
        )?;
        tx.commit().db(path)?;
        let project = load_project(&conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            project,
            read_only: false,
        })
    }

    /// Opens an existing project database for reading and writing, applying pending
    /// migrations. A newer schema is refused.
    pub fn open(path: &Path, busy_timeout_ms: u64) -> Result<Store> {
        let mut conn = crate::db::open_conn(path, busy_timeout_ms, crate::db::OpenMode::ReadWrite)?;
        schema::migrate(&mut conn, path)?;
        let project = load_project(&conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            project,
            read_only: false,
        })
    }

    /// Opens an existing project database for reading only: nothing is written, not even a
    /// migration (an older schema is reported instead).
    pub fn open_read_only(path: &Path, busy_timeout_ms: u64) -> Result<Store> {
        let conn = crate::db::open_conn(path, busy_timeout_ms, crate::db::OpenMode::ReadOnly)?;
        let found = schema::refuse_newer(&conn, path)?;
        if found < schema::SCHEMA_VERSION {
            return Err(StoreError::Invalid {
                what: "schema version",
                value: found.to_string(),
                expected: format!(
                    "{}; run `shotline db migrate` (or any write command) first",
                    schema::SCHEMA_VERSION
                ),
            });
        }
        let project = load_project(&conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            project,
            read_only: true,
        })
    }

    /// The project this database holds.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// True when opened with [`Store::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        schema::version_of(&self.conn, &self.path)
    }

    /// Starts the one write transaction of an operation. IMMEDIATE takes the write lock up
    /// front, so the reads that decide (next version number, current state) cannot go stale.
    pub(crate) fn write_tx(&mut self) -> Result<Tx<'_>> {
        self.conn.write_tx().db(&self.path)
    }

    /// [`Store::write_tx`] confined to some version keys (see [`Conn::write_tx_keyed`]):
    /// publishers of different shots on PostgreSQL commit side by side.
    pub(crate) fn write_tx_for_versions<'k>(
        &mut self,
        keys: impl IntoIterator<Item = (ItemKind, &'k str, &'k str, &'k str)>,
    ) -> Result<Tx<'_>> {
        let locks: Vec<i64> = keys
            .into_iter()
            .map(|(kind, item, step, resource)| {
                crate::sql::version_lock_key(kind.as_str(), item, step, resource)
            })
            .collect();
        self.conn.write_tx_keyed(&locks).db(&self.path)
    }

    /// Which backend holds the project.
    pub fn backend(&self) -> crate::sql::Backend {
        self.conn.backend()
    }
}

pub(crate) fn load_project(conn: &Conn, path: &Path) -> Result<Project> {
    conn.query_row(
        "SELECT id, code, name, root, fps, width, height, pixel_aspect, start_frame, created_at
         FROM projects ORDER BY id LIMIT 1",
        params![],
        |r| {
            Ok(Project {
                id: r.get(0)?,
                code: r.get(1)?,
                name: r.get(2)?,
                root: r.get(3)?,
                fps: r.get(4)?,
                width: r.get(5)?,
                height: r.get(6)?,
                pixel_aspect: r.get(7)?,
                start_frame: r.get(8)?,
                created_at: r.get(9)?,
            })
        },
    )
    .optional()
    .db(path)?
    .ok_or_else(|| StoreError::NoProject(path.to_path_buf()))
}

/// The acting user's id and role, registering an unknown user as `standard` (with an event) so
/// artists can publish without set-up while approvals stay with leads.
pub(crate) fn acting_user(conn: &Conn, path: &Path, actor: &Actor) -> Result<(i64, Role)> {
    if let Some((id, role)) = conn
        .query_row(
            "SELECT id, role FROM users WHERE name = ?1",
            params![actor.user],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )
        .optional()
        .db(path)?
    {
        return Ok((id, role.parse()?));
    }
    let id = ensure_user(conn, path, actor, &actor.user)?;
    Ok((id, Role::Standard))
}

/// A user's id by name, creating them as `standard` when unknown (assignees, authors).
pub(crate) fn ensure_user(conn: &Conn, path: &Path, actor: &Actor, name: &str) -> Result<i64> {
    crate::validate::user_name(name)?;
    if let Some(id) = conn
        .query_row("SELECT id FROM users WHERE name = ?1", params![name], |r| {
            r.get(0)
        })
        .optional()
        .db(path)?
    {
        return Ok(id);
    }
    // Two publishers of different shots (keyed locks, not the store-wide one) may both meet a
    // new user: the second waits for the first's row and takes it, without a second event.
    let created = conn
        .query_opt(
            "INSERT INTO users (name, role, created_at) VALUES (?1, 'standard', ?2)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            params![name, crate::time::now()],
        )
        .db(path)?;
    let Some(row) = created else {
        return conn
            .query_row("SELECT id FROM users WHERE name = ?1", params![name], |r| {
                r.get(0)
            })
            .db(path);
    };
    let id: i64 = row.get(0).db(path)?;
    event(
        conn,
        path,
        actor,
        "user.create",
        "user",
        Some(id),
        name,
        &serde_json::json!({"role": "standard", "auto": true}),
    )?;
    Ok(id)
}

/// Fails with [`StoreError::Forbidden`] unless `role` is at least `needed`.
pub(crate) fn require(actor: &Actor, role: Role, needed: Role, action: &str) -> Result<()> {
    if role >= needed {
        Ok(())
    } else {
        Err(StoreError::Forbidden {
            user: actor.user.clone(),
            role: role.to_string(),
            action: action.to_string(),
            needed: needed.to_string(),
        })
    }
}

/// Appends one audit event (inside the caller's transaction, so the trail and the change commit
/// or fail together).
#[allow(clippy::too_many_arguments)]
pub(crate) fn event(
    conn: &Conn,
    path: &Path,
    actor: &Actor,
    action: &str,
    entity_kind: &str,
    entity_id: Option<i64>,
    entity: &str,
    details: &serde_json::Value,
) -> Result<()> {
    let one = NewEvent {
        action,
        entity_kind,
        entity_id,
        entity: entity.to_string(),
        details: details.clone(),
    };
    events_of(conn, path, actor, std::slice::from_ref(&one))
}

/// One audit event to append, by [`events_of`].
pub(crate) struct NewEvent<'a> {
    pub action: &'a str,
    pub entity_kind: &'a str,
    pub entity_id: Option<i64>,
    pub entity: String,
    pub details: serde_json::Value,
}

/// Appends audit events by `actor`, all stamped now, in multi-row statements (a batch of
/// 10,000 versions writes its trail in 20 statements, not 10,000).
pub(crate) fn events_of(
    conn: &Conn,
    path: &Path,
    actor: &Actor,
    events: &[NewEvent],
) -> Result<()> {
    let now = crate::time::now();
    let mut values = Vec::with_capacity(events.len() * 8);
    for e in events {
        values.extend_from_slice(params![
            now,
            actor.user,
            actor.host,
            e.action,
            e.entity_kind,
            e.entity_id,
            e.entity,
            e.details.to_string()
        ]);
    }
    crate::bulk::Insert {
        into: "events (at, \"user\", host, action, entity_kind, entity_id, entity, details)",
        width: 8,
        tail: "",
    }
    .run(conn, &values)
    .db(path)?;
    Ok(())
}

/// Turns a CHECK/UNIQUE violation into a user-facing message about `value`; other errors stay
/// database errors.
pub(crate) fn invalid_or_db(
    e: crate::sql::SqlError,
    path: &Path,
    what: &'static str,
    value: &str,
) -> StoreError {
    match e.constraint() {
        Some(crate::sql::Constraint::Unique) => StoreError::Exists {
            kind: what,
            name: value.to_string(),
        },
        Some(crate::sql::Constraint::Other) => StoreError::Invalid {
            what,
            value: value.to_string(),
            expected: format!("values the schema accepts ({e})"),
        },
        None => crate::error::from_sql(e, path),
    }
}
