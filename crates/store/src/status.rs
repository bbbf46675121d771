//! Task status (item × step): state, assignee, completion, with the approval rules.

use crate::sql::{params, OptionalExt};
use serde_json::json;

use crate::actor::Actor;
use crate::error::{Result, SqlContext, StatusConflict, StoreError};
use crate::model::{ItemKind, ItemRef, Role, State, Status, StatusChange};
use crate::store::{acting_user, ensure_user, event, require, Store};

const SELECT_STATUS: &str = "SELECT i.kind, i.code, s.code, t.state, a.name, t.completion,
        t.updated_at, u.name
   FROM status t JOIN items i ON i.id = t.item_id JOIN steps s ON s.id = t.step_id
   LEFT JOIN users a ON a.id = t.assignee_id JOIN users u ON u.id = t.updated_by";

/// A status row as read, before its text columns are parsed into enums.
struct RawStatus {
    item_kind: String,
    item_code: String,
    step: String,
    state: String,
    assignee: Option<String>,
    completion: i64,
    updated_at: String,
    updated_by: String,
}

fn row_to_status(r: &crate::sql::Row) -> crate::sql::Result<RawStatus> {
    Ok(RawStatus {
        item_kind: r.get(0)?,
        item_code: r.get(1)?,
        step: r.get(2)?,
        state: r.get(3)?,
        assignee: r.get(4)?,
        completion: r.get(5)?,
        updated_at: r.get(6)?,
        updated_by: r.get(7)?,
    })
}

fn to_status(t: RawStatus) -> Result<Status> {
    Ok(Status {
        item: ItemRef {
            kind: t.item_kind.parse()?,
            code: t.item_code,
        },
        step: t.step,
        state: t.state.parse()?,
        assignee: t.assignee,
        completion: t.completion,
        updated_at: t.updated_at,
        updated_by: t.updated_by,
    })
}

impl Store {
    /// Changes a task's status. Rules (the approval workflow):
    /// - anyone may set TODO, WIP or REVIEW, the assignee and the completion;
    /// - APPROVED, RETAKE, FINAL and OMIT are decisions: setting one, or moving a task out of
    ///   one, needs lead or above;
    /// - FINAL needs the task to be APPROVED first.
    pub fn set_status(&mut self, actor: &Actor, change: &StatusChange) -> Result<Status> {
        if let Some(c) = change.completion {
            if !(0..=100).contains(&c) {
                return Err(StoreError::Invalid {
                    what: "completion",
                    value: c.to_string(),
                    expected: "0 to 100".into(),
                });
            }
        }
        let (project, path) = (self.project.id, self.path.clone());
        let tx = self.write_tx()?;
        let (user_id, role) = acting_user(&tx, &path, actor)?;
        let item_id: i64 = tx
            .query_row(
                "SELECT id FROM items WHERE project_id = ?1 AND kind = ?2 AND code = ?3",
                params![project, change.item.kind.as_str(), change.item.code],
                |r| r.get(0),
            )
            .optional()
            .db(&path)?
            .ok_or_else(|| StoreError::NotFound {
                kind: kind_name(change.item.kind),
                name: change.item.code.clone(),
            })?;
        let step_id: i64 = tx
            .query_row(
                "SELECT id FROM steps WHERE project_id = ?1 AND kind = ?2 AND code = ?3",
                params![project, change.item.kind.as_str(), change.step],
                |r| r.get(0),
            )
            .optional()
            .db(&path)?
            .ok_or_else(|| StoreError::NotFound {
                kind: if change.item.kind == ItemKind::Shot {
                    "shot step"
                } else {
                    "asset step"
                },
                name: change.step.clone(),
            })?;
        let current: Option<CurrentStatus> = tx
            .query_row(
                "SELECT t.state, t.assignee_id, t.completion, u.name, t.updated_at
                 FROM status t JOIN users u ON u.id = t.updated_by
                 WHERE t.item_id = ?1 AND t.step_id = ?2",
                params![item_id, step_id],
                |r| {
                    Ok(CurrentStatus {
                        state: r.get(0)?,
                        assignee_id: r.get(1)?,
                        completion: r.get(2)?,
                        updated_by: r.get(3)?,
                        updated_at: r.get(4)?,
                    })
                },
            )
            .optional()
            .db(&path)?;
        let old_state: State = match &current {
            Some(c) => c.state.parse()?,
            None => State::Todo,
        };
        check_expected_state(change, old_state, current.as_ref())?;
        let new_state = change.state.unwrap_or(old_state);
        if new_state != old_state {
            if new_state.is_decision() || old_state.is_decision() {
                require(
                    actor,
                    role,
                    Role::Lead,
                    &format!("changing {old_state} to {new_state}"),
                )?;
            }
            if new_state == State::Final && old_state != State::Approved {
                return Err(StoreError::Invalid {
                    what: "state change",
                    value: format!("{old_state} -> FINAL"),
                    expected: "APPROVED before FINAL".into(),
                });
            }
        }
        let assignee_id = match &change.assignee {
            Some(name) if name.is_empty() => None,
            Some(name) => Some(ensure_user(&tx, &path, actor, name)?),
            None => current.as_ref().and_then(|c| c.assignee_id),
        };
        let completion = change
            .completion
            .or(current.as_ref().map(|c| c.completion))
            .unwrap_or(0);
        tx.execute(
            "INSERT INTO status (item_id, item_kind, step_id, state, assignee_id, completion, updated_at, updated_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (item_id, step_id) DO UPDATE SET state = excluded.state,
               assignee_id = excluded.assignee_id, completion = excluded.completion,
               updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            params![
                item_id,
                change.item.kind.as_str(),
                step_id,
                new_state.as_str(),
                assignee_id,
                completion,
                crate::time::now(),
                user_id
            ],
        )
        .db(&path)?;
        event(
            &tx,
            &path,
            actor,
            "status.set",
            "status",
            Some(item_id),
            &format!("{} {}", change.item.code, change.step),
            &json!({"state": [old_state, new_state], "assignee": change.assignee,
                    "completion": completion, "comment": change.comment}),
        )?;
        let sql = format!("{SELECT_STATUS} WHERE t.item_id = ?1 AND t.step_id = ?2");
        let row = tx
            .query_row(&sql, params![item_id, step_id], row_to_status)
            .db(&path)?;
        tx.commit().db(&path)?;
        to_status(row)
    }

    /// Task statuses, by item and step; `item` filters on a code.
    pub fn statuses(&self, item: Option<&str>) -> Result<Vec<Status>> {
        let sql = format!(
            "{SELECT_STATUS} WHERE i.project_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR i.code = ?2)
             ORDER BY i.kind DESC, i.code, s.code"
        );
        let mut st = self.conn.prepare(&sql).db(&self.path)?;
        let rows = st
            .query_map(params![self.project.id, item], row_to_status)
            .db(&self.path)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(to_status(r.db(&self.path)?)?);
        }
        Ok(out)
    }
}

/// A task's status row as a change reads it before deciding.
struct CurrentStatus {
    state: String,
    assignee_id: Option<i64>,
    completion: i64,
    updated_by: String,
    updated_at: String,
}

/// Refuses a change made against a state that is no longer current (the optimistic check):
/// read inside the write transaction, so no other writer can change it between the check and
/// the write.
fn check_expected_state(
    change: &StatusChange,
    now: State,
    current: Option<&CurrentStatus>,
) -> Result<()> {
    match change.if_state {
        Some(expected) if expected != now => {
            Err(StoreError::StatusChanged(Box::new(StatusConflict {
                item: change.item.code.clone(),
                step: change.step.clone(),
                expected: expected.to_string(),
                found: now.to_string(),
                by: current.map_or_else(|| "-".into(), |c| c.updated_by.clone()),
                at: current.map_or_else(|| "-".into(), |c| c.updated_at.clone()),
            })))
        }
        _ => Ok(()),
    }
}

fn kind_name(k: ItemKind) -> &'static str {
    match k {
        ItemKind::Shot => "shot",
        ItemKind::Asset => "asset",
    }
}
