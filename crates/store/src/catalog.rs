//! Assets and pipeline steps: small tables, created by leads, listed by everyone.

use crate::sql::{params, OptionalExt};
use serde_json::json;

use crate::actor::Actor;
use crate::error::{Result, SqlContext};
use crate::model::{Asset, ItemKind, Role, Step};
use crate::store::{acting_user, event, invalid_or_db, require, Store};
use crate::validate;

impl Store {
    /// Creates an asset (lead or above); the group is created on first use.
    pub fn add_asset(
        &mut self,
        actor: &Actor,
        code: &str,
        name: &str,
        group: Option<&str>,
    ) -> Result<Asset> {
        validate::item_code("asset code", code)?;
        if let Some(g) = group {
            validate::item_code("asset group", g)?;
        }
        let (project, path) = (self.project.id, self.path.clone());
        let tx = self.write_tx()?;
        let (_, role) = acting_user(&tx, &path, actor)?;
        require(actor, role, Role::Lead, "adding assets")?;
        let group_id = match group {
            Some(g) => {
                let found: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM asset_groups WHERE project_id = ?1 AND code = ?2",
                        params![project, g],
                        |r| r.get(0),
                    )
                    .optional()
                    .db(&path)?;
                match found {
                    Some(id) => Some(id),
                    None => {
                        let id: i64 = tx
                            .query_row(
                                "INSERT INTO asset_groups (project_id, code) VALUES (?1, ?2) RETURNING id",
                                params![project, g],
                                |r| r.get(0),
                            )
                            .db(&path)?;
                        Some(id)
                    }
                }
            }
            None => None,
        };
        let now = crate::time::now();
        let id: i64 = tx
            .query_row(
                "INSERT INTO items (project_id, kind, code, name, created_at) VALUES (?1, 'asset', ?2, ?3, ?4) RETURNING id",
                params![project, code, name, now],
                |r| r.get(0),
            )
            .map_err(|e| invalid_or_db(e, &path, "asset", code))?;
        tx.execute(
            "INSERT INTO assets (item_id, group_id) VALUES (?1, ?2)",
            params![id, group_id],
        )
        .db(&path)?;
        event(
            &tx,
            &path,
            actor,
            "asset.create",
            "asset",
            Some(id),
            code,
            &json!({"name": name, "group": group}),
        )?;
        tx.commit().db(&path)?;
        Ok(Asset {
            id,
            code: code.to_string(),
            name: name.to_string(),
            group: group.map(str::to_string),
            created_at: now,
        })
    }

    /// All assets by code; `group` filters.
    pub fn assets(&self, group: Option<&str>) -> Result<Vec<Asset>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT i.id, i.code, i.name, g.code, i.created_at
                   FROM items i JOIN assets a ON a.item_id = i.id
                   LEFT JOIN asset_groups g ON g.id = a.group_id
                  WHERE i.project_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR g.code = ?2) ORDER BY i.code",
            )
            .db(&self.path)?;
        let rows = st
            .query_map(params![self.project.id, group], |r| {
                Ok(Asset {
                    id: r.get(0)?,
                    code: r.get(1)?,
                    name: r.get(2)?,
                    group: r.get(3)?,
                    created_at: r.get(4)?,
                })
            })
            .db(&self.path)?;
        rows.collect::<crate::sql::Result<_>>().db(&self.path)
    }

    /// Declares a step for shots or assets (lead or above).
    pub fn add_step(
        &mut self,
        actor: &Actor,
        code: &str,
        kind: ItemKind,
        name: &str,
    ) -> Result<Step> {
        validate::code("step code", code)?;
        let (project, path) = (self.project.id, self.path.clone());
        let tx = self.write_tx()?;
        let (_, role) = acting_user(&tx, &path, actor)?;
        require(actor, role, Role::Lead, "adding steps")?;
        let id: i64 = tx
            .query_row(
                "INSERT INTO steps (project_id, kind, code, name) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                params![project, kind.as_str(), code, name],
                |r| r.get(0),
            )
            .map_err(|e| invalid_or_db(e, &path, "step", &format!("{kind} step {code}")))?;
        event(
            &tx,
            &path,
            actor,
            "step.create",
            "step",
            Some(id),
            code,
            &json!({"kind": kind, "name": name}),
        )?;
        tx.commit().db(&path)?;
        Ok(Step {
            id,
            code: code.to_string(),
            kind,
            name: name.to_string(),
        })
    }

    /// Steps, shot steps first, by code; `kind` filters.
    pub fn steps(&self, kind: Option<ItemKind>) -> Result<Vec<Step>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, code, kind, name FROM steps
                  WHERE project_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2) ORDER BY kind DESC, code",
            )
            .db(&self.path)?;
        let rows = st
            .query_map(params![self.project.id, kind.map(|k| k.as_str())], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<String>(3)?,
                ))
            })
            .db(&self.path)?;
        let mut out = Vec::new();
        for r in rows {
            let (id, code, kind, name) = r.db(&self.path)?;
            out.push(Step {
                id,
                code,
                kind: kind.parse()?,
                name,
            });
        }
        Ok(out)
    }
}
