//! Shots: create, update, batch import (one transaction, existing shots prefetched in one
//! query) and listing.

use std::collections::HashMap;

use crate::sql::{params, Conn};
use serde_json::json;

use crate::actor::Actor;
use crate::error::{Result, SqlContext, StoreError};
use crate::model::{ImportSummary, NewShot, Role, Shot, ShotFields};
use crate::store::{acting_user, event, require, Store};
use crate::validate;

/// How [`Store::write_shots`] treats codes that exist or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShotWrite {
    /// Every code must be new (`shot add`).
    Create,
    /// Every code must exist (`shot set`).
    Update,
    /// Create what is new, update what exists (`shot import`).
    Upsert,
}

const SELECT_SHOTS: &str =
    "SELECT i.id, i.code, i.name, q.code, s.frame_in, s.frame_out, s.handles,
        s.fps, s.source, s.timecode_in, i.created_at
   FROM items i JOIN shots s ON s.item_id = i.id LEFT JOIN sequences q ON q.id = s.sequence_id";

fn row_to_shot(r: &crate::sql::Row) -> crate::sql::Result<Shot> {
    Ok(Shot {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        sequence: r.get(3)?,
        frame_in: r.get(4)?,
        frame_out: r.get(5)?,
        handles: r.get(6)?,
        fps: r.get(7)?,
        source: r.get(8)?,
        timecode_in: r.get(9)?,
        created_at: r.get(10)?,
    })
}

impl Store {
    /// All shots, ordered by code; `sequence` filters on the editorial sequence.
    pub fn shots(&self, sequence: Option<&str>) -> Result<Vec<Shot>> {
        let sql = format!(
            "{SELECT_SHOTS} WHERE i.project_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR q.code = ?2) ORDER BY i.code"
        );
        let mut st = self.conn.prepare(&sql).db(&self.path)?;
        let rows = st
            .query_map(params![self.project.id, sequence], row_to_shot)
            .db(&self.path)?;
        rows.collect::<crate::sql::Result<Vec<_>>>().db(&self.path)
    }

    /// One shot by code.
    pub fn shot(&self, code: &str) -> Result<Shot> {
        let found = prefetch(&self.conn, &self.path, self.project.id, &[code.to_string()])?;
        found
            .into_values()
            .next()
            .ok_or_else(|| StoreError::NotFound {
                kind: "shot",
                name: code.to_string(),
            })
    }

    /// Creates and/or updates shots in one transaction (lead or above). Existing shots are
    /// fetched in one query; every created or changed shot leaves an audit event with the
    /// fields before and after. Nothing is written if any row is invalid.
    pub fn write_shots(
        &mut self,
        actor: &Actor,
        rows: &[NewShot],
        mode: ShotWrite,
    ) -> Result<ImportSummary> {
        let project = self.project.clone();
        let path = self.path.clone();
        let tx = self.write_tx()?;
        let (_, role) = acting_user(&tx, &path, actor)?;
        require(actor, role, Role::Lead, "changing shots")?;
        let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
        let mut existing = prefetch(&tx, &path, project.id, &codes)?;
        let mut sequences = sequence_ids(&tx, &path, project.id)?;
        let mut summary = ImportSummary::default();
        for row in rows {
            validate::item_code("shot code", &row.code)?;
            let before = existing.get(&row.code).cloned();
            match (mode, &before) {
                (ShotWrite::Create, Some(_)) => {
                    return Err(StoreError::Exists {
                        kind: "shot",
                        name: row.code.clone(),
                    })
                }
                (ShotWrite::Update, None) => {
                    return Err(StoreError::NotFound {
                        kind: "shot",
                        name: row.code.clone(),
                    })
                }
                _ => {}
            }
            let base = before.clone().unwrap_or_else(|| Shot {
                id: 0,
                code: row.code.clone(),
                name: String::new(),
                sequence: None,
                frame_in: project.start_frame,
                frame_out: row.fields.frame_in.unwrap_or(project.start_frame),
                handles: 0,
                fps: None,
                source: None,
                timecode_in: None,
                created_at: crate::time::now(),
            });
            let after = merge(&base, &row.fields)?;
            let seq_id = match &after.sequence {
                Some(code) => Some(sequence_id(&tx, &path, project.id, &mut sequences, code)?),
                None => None,
            };
            match before {
                Some(b) if b == after => summary.unchanged.push(after.code.clone()),
                Some(b) => {
                    tx.prepare_cached("UPDATE items SET name = ?2 WHERE id = ?1")
                        .and_then(|mut s| s.execute(params![b.id, after.name]))
                        .db(&path)?;
                    tx.prepare_cached(
                        "UPDATE shots SET sequence_id = ?2, frame_in = ?3, frame_out = ?4,
                           handles = ?5, fps = ?6, source = ?7, timecode_in = ?8 WHERE item_id = ?1",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            b.id,
                            seq_id,
                            after.frame_in,
                            after.frame_out,
                            after.handles,
                            after.fps,
                            after.source,
                            after.timecode_in
                        ])
                    })
                    .db(&path)?;
                    event(
                        &tx,
                        &path,
                        actor,
                        "shot.update",
                        "shot",
                        Some(b.id),
                        &b.code,
                        &diff(&b, &after),
                    )?;
                    summary.updated.push(after.code.clone());
                    existing.insert(after.code.clone(), after);
                }
                None => {
                    let id: i64 = tx
                        .prepare_cached(
                            "INSERT INTO items (project_id, kind, code, name, created_at)
                             VALUES (?1, 'shot', ?2, ?3, ?4) RETURNING id",
                        )
                        .and_then(|mut s| {
                            s.query_row(
                                params![project.id, after.code, after.name, after.created_at],
                                |r| r.get(0),
                            )
                        })
                        .db(&path)?;
                    tx.prepare_cached(
                        "INSERT INTO shots (item_id, sequence_id, frame_in, frame_out, handles, fps, source, timecode_in)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            id,
                            seq_id,
                            after.frame_in,
                            after.frame_out,
                            after.handles,
                            after.fps,
                            after.source,
                            after.timecode_in
                        ])
                    })
                    .db(&path)?;
                    event(
                        &tx,
                        &path,
                        actor,
                        "shot.create",
                        "shot",
                        Some(id),
                        &after.code,
                        &fields_json(&after),
                    )?;
                    summary.created.push(after.code.clone());
                    existing.insert(after.code.clone(), Shot { id, ..after });
                }
            }
        }
        tx.commit().db(&path)?;
        Ok(summary)
    }
}

/// The fields of a new shot, for its creation event.
fn fields_json(s: &Shot) -> serde_json::Value {
    json!({"name": s.name, "sequence": s.sequence, "frame_in": s.frame_in,
           "frame_out": s.frame_out, "handles": s.handles, "fps": s.fps,
           "source": s.source, "timecode_in": s.timecode_in})
}

/// Applies `f` to `base`, checking the result as a whole (in ≤ out, handles ≥ 0, ...).
fn merge(base: &Shot, f: &ShotFields) -> Result<Shot> {
    let mut s = base.clone();
    if let Some(v) = &f.name {
        s.name = v.clone();
    }
    if let Some(v) = &f.sequence {
        s.sequence = if v.is_empty() { None } else { Some(v.clone()) };
    }
    if let Some(v) = f.frame_in {
        s.frame_in = v;
    }
    if let Some(v) = f.frame_out {
        s.frame_out = v;
    }
    if let Some(v) = f.handles {
        s.handles = v;
    }
    if let Some(v) = f.fps {
        s.fps = Some(v);
    }
    if let Some(v) = &f.source {
        s.source = if v.is_empty() { None } else { Some(v.clone()) };
    }
    if let Some(v) = &f.timecode_in {
        s.timecode_in = if v.is_empty() { None } else { Some(v.clone()) };
    }
    crate::frames::check_frame("frame in", s.frame_in)?;
    crate::frames::check_frame("frame out", s.frame_out)?;
    crate::frames::check_frame("handles", s.handles)?;
    if s.frame_out < s.frame_in {
        return Err(StoreError::Invalid {
            what: "frame range",
            value: format!("{} {}-{}", s.code, s.frame_in, s.frame_out),
            expected: "frame out at or after frame in".into(),
        });
    }
    if s.handles < 0 {
        return Err(StoreError::Invalid {
            what: "handles",
            value: format!("{} {}", s.code, s.handles),
            expected: "0 or more frames".into(),
        });
    }
    if let Some(fps) = s.fps {
        if !(fps.is_finite() && fps > 0.0) {
            return Err(StoreError::Invalid {
                what: "fps",
                value: format!("{} {fps}", s.code),
                expected: "a positive frame rate such as 24 or 23.976".into(),
            });
        }
    }
    if let Some(seq) = &s.sequence {
        validate::item_code("sequence code", seq)?;
    }
    if let Some(tc) = &s.timecode_in {
        validate::timecode(tc)?;
    }
    Ok(s)
}

/// `{field: [before, after]}` for the fields that differ (the audit trail's details).
fn diff(a: &Shot, b: &Shot) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, x: serde_json::Value, y: serde_json::Value| {
        if x != y {
            m.insert(k.to_string(), json!([x, y]));
        }
    };
    put("name", json!(a.name), json!(b.name));
    put("sequence", json!(a.sequence), json!(b.sequence));
    put("frame_in", json!(a.frame_in), json!(b.frame_in));
    put("frame_out", json!(a.frame_out), json!(b.frame_out));
    put("handles", json!(a.handles), json!(b.handles));
    put("fps", json!(a.fps), json!(b.fps));
    put("source", json!(a.source), json!(b.source));
    put("timecode_in", json!(a.timecode_in), json!(b.timecode_in));
    serde_json::Value::Object(m)
}

/// The shots among `codes` that exist, in one query.
fn prefetch(
    conn: &Conn,
    path: &std::path::Path,
    project: i64,
    codes: &[String],
) -> Result<HashMap<String, Shot>> {
    let list = serde_json::to_string(codes).unwrap_or_else(|_| "[]".into());
    let sql = format!(
        "{SELECT_SHOTS} WHERE i.project_id = ?1 AND i.kind = 'shot'
           AND i.code IN (SELECT value FROM {})",
        crate::sql::json_scalars(conn.backend(), "?2")
    );
    let mut st = conn.prepare_cached(&sql).db(path)?;
    let rows = st.query_map(params![project, list], row_to_shot).db(path)?;
    let mut out = HashMap::new();
    for r in rows {
        let s = r.db(path)?;
        out.insert(s.code.clone(), s);
    }
    Ok(out)
}

fn sequence_ids(conn: &Conn, path: &std::path::Path, project: i64) -> Result<HashMap<String, i64>> {
    let mut st = conn
        .prepare("SELECT code, id FROM sequences WHERE project_id = ?1")
        .db(path)?;
    let rows = st
        .query_map(params![project], |r| Ok((r.get(0)?, r.get(1)?)))
        .db(path)?;
    rows.collect::<crate::sql::Result<_>>().db(path)
}

fn sequence_id(
    conn: &Conn,
    path: &std::path::Path,
    project: i64,
    cache: &mut HashMap<String, i64>,
    code: &str,
) -> Result<i64> {
    if let Some(id) = cache.get(code) {
        return Ok(*id);
    }
    let id: i64 = conn
        .query_row(
            "INSERT INTO sequences (project_id, code) VALUES (?1, ?2) RETURNING id",
            params![project, code],
            |r| r.get(0),
        )
        .db(path)?;
    cache.insert(code.to_string(), id);
    Ok(id)
}
