//! Reading the audit trail, and the users and roles it names.

use crate::sql::{params, OptionalExt};
use serde_json::json;

use crate::actor::Actor;
use crate::error::{Result, SqlContext, StoreError};
use crate::model::{Event, EventQuery, Role, User};
use crate::store::{acting_user, event, require, Store};
use crate::validate;

impl Store {
    /// Events matching `q`, oldest first (with a limit: the newest `limit`, still oldest first).
    pub fn events(&self, q: &EventQuery) -> Result<Vec<Event>> {
        let limit = q
            .limit
            .map(|l| l.min(i64::MAX as u64) as i64)
            .unwrap_or(i64::MAX);
        let mut st = self
            .conn
            .prepare(
                // Portable forms: a substring test by replace() (SQLite's instr() is not in
                // PostgreSQL), a prefix test by substr()/length() of a TEXT parameter.
                "SELECT * FROM (SELECT id, at, \"user\", host, action, entity_kind, entity_id, entity, details
                   FROM events WHERE (CAST(?1 AS TEXT) IS NULL OR at >= ?1)
                    AND (CAST(?2 AS TEXT) IS NULL OR length(replace(entity, ?2, '')) < length(entity)
                         OR ?2 = '')
                    AND (CAST(?3 AS TEXT) IS NULL OR \"user\" = ?3)
                    AND (CAST(?4 AS TEXT) IS NULL OR substr(action, 1, length(CAST(?4 AS TEXT))) = ?4)
                  ORDER BY id DESC LIMIT ?5) AS recent ORDER BY id",
            )
            .db(&self.path)?;
        let rows = st
            .query_map(params![q.since, q.entity, q.user, q.action, limit], |r| {
                let details: String = r.get(8)?;
                Ok(Event {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    user: r.get(2)?,
                    host: r.get(3)?,
                    action: r.get(4)?,
                    entity_kind: r.get(5)?,
                    entity_id: r.get(6)?,
                    entity: r.get(7)?,
                    details: serde_json::from_str(&details)
                        .unwrap_or(serde_json::Value::String(details)),
                })
            })
            .db(&self.path)?;
        rows.collect::<crate::sql::Result<_>>().db(&self.path)
    }

    /// All users, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        let mut st = self
            .conn
            .prepare("SELECT name, role, created_at FROM users ORDER BY name")
            .db(&self.path)?;
        let rows = st
            .query_map(params![], |r| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get(2)?))
            })
            .db(&self.path)?;
        let mut out = Vec::new();
        for r in rows {
            let (name, role, created_at) = r.db(&self.path)?;
            out.push(User {
                name,
                role: role.parse()?,
                created_at,
            });
        }
        Ok(out)
    }

    /// The role of `name` (`standard` for users not seen yet).
    pub fn role_of(&self, name: &str) -> Result<Role> {
        let role: Option<String> = self
            .conn
            .query_row(
                "SELECT role FROM users WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .db(&self.path)?;
        role.map(|r| r.parse()).unwrap_or(Ok(Role::Standard))
    }

    /// Sets a user's role. project_admin or above; only an admin may grant admin or change an
    /// admin; nobody can demote the last admin (the project would be unmanageable).
    pub fn set_role(&mut self, actor: &Actor, name: &str, role: Role) -> Result<User> {
        validate::user_name(name)?;
        let path = self.path.clone();
        let tx = self.write_tx()?;
        let (_, my_role) = acting_user(&tx, &path, actor)?;
        require(actor, my_role, Role::ProjectAdmin, "changing roles")?;
        let old: Option<String> = tx
            .query_row(
                "SELECT role FROM users WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .db(&path)?;
        let old_role: Option<Role> = old.map(|r| r.parse()).transpose()?;
        if role == Role::Admin || old_role == Some(Role::Admin) {
            require(actor, my_role, Role::Admin, "granting or changing admin")?;
        }
        if old_role == Some(Role::Admin) && role != Role::Admin {
            let admins: i64 = tx
                .query_row(
                    "SELECT count(*) FROM users WHERE role = 'admin'",
                    params![],
                    |r| r.get(0),
                )
                .db(&path)?;
            if admins <= 1 {
                return Err(StoreError::Invalid {
                    what: "role change",
                    value: format!("{name} admin -> {role}"),
                    expected: "another admin to exist first (the last admin cannot be demoted)"
                        .into(),
                });
            }
        }
        let now = crate::time::now();
        tx.execute(
            "INSERT INTO users (name, role, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role",
            params![name, role.as_str(), now],
        )
        .db(&path)?;
        let created_at: String = tx
            .query_row(
                "SELECT created_at FROM users WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .db(&path)?;
        event(
            &tx,
            &path,
            actor,
            "user.role",
            "user",
            None,
            name,
            &json!({"role": [old_role, role]}),
        )?;
        tx.commit().db(&path)?;
        Ok(User {
            name: name.to_string(),
            role,
            created_at,
        })
    }
}
