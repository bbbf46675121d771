//! What a version batch needs, fetched in a handful of queries (never one per row): the items,
//! the steps, the highest numbers so far, referenced versions, tags, and the approval state of
//! tasks receiving FINAL versions.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::sql::{json_items, json_scalars, params, Conn, OptionalExt};

use crate::error::{Result, SqlContext, StoreError};
use crate::model::{ItemKind, ItemRef, NewVersion, State};

pub(crate) fn prefetch_items(
    conn: &Conn,
    path: &Path,
    project: i64,
    batch: &[NewVersion],
) -> Result<HashMap<ItemRef, i64>> {
    let wanted: HashSet<(&str, &str)> = batch
        .iter()
        .map(|v| (v.item.kind.as_str(), v.item.code.as_str()))
        .collect();
    let list = serde_json::to_string(&wanted.into_iter().collect::<Vec<_>>()).unwrap_or_default();
    let sql = format!(
        "SELECT id, kind, code FROM items WHERE project_id = ?1
           AND (kind, code) IN (SELECT value ->> 0, value ->> 1 FROM {})",
        json_items(conn.backend(), "?2")
    );
    let mut st = conn.prepare(&sql).db(path)?;
    let rows = st
        .query_map(params![project, list], |r| {
            Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?))
        })
        .db(path)?;
    let mut out = HashMap::new();
    for r in rows {
        let (id, kind, code) = r.db(path)?;
        out.insert(
            ItemRef {
                kind: kind.parse()?,
                code,
            },
            id,
        );
    }
    Ok(out)
}

pub(crate) fn all_steps(
    conn: &Conn,
    path: &Path,
    project: i64,
) -> Result<HashMap<(ItemKind, String), i64>> {
    let mut st = conn
        .prepare("SELECT id, kind, code FROM steps WHERE project_id = ?1")
        .db(path)?;
    let rows = st
        .query_map(params![project], |r| {
            Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?))
        })
        .db(path)?;
    let mut out = HashMap::new();
    for r in rows {
        let (id, kind, code) = r.db(path)?;
        out.insert((kind.parse()?, code), id);
    }
    Ok(out)
}

pub(crate) type Key = (i64, i64, String);

pub(crate) fn max_numbers(conn: &Conn, path: &Path, keys: &[Key]) -> Result<HashMap<Key, i64>> {
    let distinct: HashSet<&Key> = keys.iter().collect();
    let list = serde_json::to_string(&distinct.into_iter().collect::<Vec<_>>()).unwrap_or_default();
    let sql = format!(
        "SELECT item_id, step_id, resource, MAX(number) FROM (
           SELECT item_id, step_id, resource, number FROM versions
           UNION ALL
           SELECT item_id, step_id, resource, number FROM version_reservations) AS taken
          WHERE (item_id, step_id, resource) IN
                (SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT), value ->> 2
                   FROM {})
          GROUP BY item_id, step_id, resource",
        json_items(conn.backend(), "?1")
    );
    let mut st = conn.prepare(&sql).db(path)?;
    let rows = st
        .query_map(params![list], |r| {
            Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?))
        })
        .db(path)?;
    rows.collect::<crate::sql::Result<_>>().db(path)
}

/// The approval workflow: a FINAL version needs its task (item × step) approved first.
pub(crate) fn check_final(
    conn: &Conn,
    path: &Path,
    batch: &[NewVersion],
    keys: &[Key],
) -> Result<()> {
    for (v, (item_id, step_id, _)) in batch.iter().zip(keys) {
        if v.state != State::Final {
            continue;
        }
        let state: Option<String> = conn
            .query_row(
                "SELECT state FROM status WHERE item_id = ?1 AND step_id = ?2",
                params![item_id, step_id],
                |r| r.get(0),
            )
            .optional()
            .db(path)?;
        if !matches!(state.as_deref(), Some("APPROVED" | "FINAL")) {
            return Err(StoreError::Invalid {
                what: "FINAL version",
                value: format!("{} {}", v.item.code, v.step),
                expected: format!(
                    "the task APPROVED first (it is {})",
                    state.as_deref().unwrap_or("TODO")
                ),
            });
        }
    }
    Ok(())
}

pub(crate) fn check_uses(conn: &Conn, path: &Path, batch: &[NewVersion]) -> Result<()> {
    let wanted: HashSet<i64> = batch.iter().flat_map(|v| v.uses.iter().copied()).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let list = serde_json::to_string(&wanted.iter().collect::<Vec<_>>()).unwrap_or_default();
    let sql = format!(
        "SELECT id FROM versions WHERE id IN (SELECT CAST(value AS BIGINT) FROM {})",
        json_scalars(conn.backend(), "?1")
    );
    let mut st = conn.prepare(&sql).db(path)?;
    let found: HashSet<i64> = st
        .query_map(params![list], |r| r.get(0))
        .db(path)?
        .collect::<crate::sql::Result<_>>()
        .db(path)?;
    let mut missing: Vec<_> = wanted.difference(&found).collect();
    missing.sort();
    match missing.first() {
        Some(id) => Err(StoreError::NotFound {
            kind: "version (in uses)",
            name: id.to_string(),
        }),
        None => Ok(()),
    }
}

pub(crate) fn tag_ids(
    conn: &Conn,
    path: &Path,
    batch: &[NewVersion],
) -> Result<HashMap<String, i64>> {
    let wanted: HashSet<&String> = batch.iter().flat_map(|v| v.tags.iter()).collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let list = serde_json::to_string(&wanted.into_iter().collect::<Vec<_>>()).unwrap_or_default();
    let sql = format!(
        "SELECT name, id FROM tags WHERE name IN (SELECT value FROM {})",
        json_scalars(conn.backend(), "?1")
    );
    let mut st = conn.prepare(&sql).db(path)?;
    let rows = st
        .query_map(params![list], |r| Ok((r.get(0)?, r.get(1)?)))
        .db(path)?;
    rows.collect::<crate::sql::Result<_>>().db(path)
}
