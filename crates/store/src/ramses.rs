//! What the Ramses interop keeps in the project database (schema V3): the outbox of changes
//! waiting to be pushed to a Ramses daemon, and the Ramses ids and extra data of objects that
//! Ramses clients created or annotated through `shotline ramses serve`.
//!
//! The outbox is how "the daemon is down" never fails a publish: the change is recorded here
//! after the local commit, pushed when possible, and replayed by `shotline ramses sync`. Rows
//! are claimed (owner + lease) in an IMMEDIATE transaction, so two processes syncing at once
//! never push the same row twice, and a pusher that dies only delays its rows until the lease
//! lapses.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::actor::Actor;
use crate::error::{Result, SqlContext, StoreError};
use crate::store::{acting_user, event, Store};

/// What an outbox row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxKind {
    /// A task status (state, completion, comment) of an item × step.
    Status,
    /// A registered version (number, state, published flag, comment, files).
    Version,
}

impl OutboxKind {
    /// The spelling stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Status => "status",
            OutboxKind::Version => "version",
        }
    }

    fn parse(s: &str) -> Result<OutboxKind> {
        match s {
            "status" => Ok(OutboxKind::Status),
            "version" => Ok(OutboxKind::Version),
            other => Err(StoreError::Invalid {
                what: "outbox kind",
                value: other.to_string(),
                expected: "status or version".into(),
            }),
        }
    }
}

/// How a push ended for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxOutcome {
    /// Ramses accepted the change.
    Pushed,
    /// Ramses answered but refused it (unknown shot, step or state); retrying cannot help.
    Refused,
}

impl OutboxOutcome {
    fn as_str(self) -> &'static str {
        match self {
            OutboxOutcome::Pushed => "pushed",
            OutboxOutcome::Refused => "refused",
        }
    }
}

/// One change waiting for (or done with) a push.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    /// Row id (push order).
    pub id: i64,
    /// When the local change was recorded.
    pub created_at: String,
    /// Status or version.
    pub kind: OutboxKind,
    /// Human name (`SH010 COMP`, `SH010 COMP v003`).
    pub entity: String,
    /// What to push (see `shotline-ramses`' mirror for the fields).
    pub payload: Value,
    /// Failed push attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed, or why Ramses refused it.
    pub last_error: Option<String>,
    /// `pushed` or `refused` once done.
    pub outcome: Option<OutboxOutcome>,
}

/// A Ramses object id recorded in the database, with the data keys shotline does not model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RamsesObjectRow {
    /// The Ramses uuid.
    pub uuid: String,
    /// Ramses type (`RamShot`, `RamStatus`, ...).
    pub r#type: String,
    /// What it is in shotline (`shot:SH010`, `status:shot:SH010:COMP`).
    pub key: String,
    /// Extra data keys, given back as they were set.
    pub extra: Map<String, Value>,
}

const SELECT_OUTBOX: &str =
    "SELECT id, created_at, kind, entity, payload, attempts, last_error, outcome
   FROM ramses_outbox";

/// An outbox row as read, before its payload is parsed and its text columns become enums.
struct RawOutbox {
    id: i64,
    created_at: String,
    kind: String,
    entity: String,
    payload: String,
    attempts: i64,
    last_error: Option<String>,
    outcome: Option<String>,
}

fn raw_outbox(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawOutbox> {
    Ok(RawOutbox {
        id: r.get(0)?,
        created_at: r.get(1)?,
        kind: r.get(2)?,
        entity: r.get(3)?,
        payload: r.get(4)?,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        outcome: r.get(7)?,
    })
}

fn to_entry(t: RawOutbox) -> Result<OutboxEntry> {
    let payload = serde_json::from_str(&t.payload).map_err(|e| StoreError::Invalid {
        what: "outbox payload",
        value: format!("row {}", t.id),
        expected: format!("JSON ({e})"),
    })?;
    let outcome = match t.outcome.as_deref() {
        Some("pushed") => Some(OutboxOutcome::Pushed),
        Some("refused") => Some(OutboxOutcome::Refused),
        _ => None,
    };
    Ok(OutboxEntry {
        id: t.id,
        created_at: t.created_at,
        kind: OutboxKind::parse(&t.kind)?,
        entity: t.entity,
        payload,
        attempts: t.attempts,
        last_error: t.last_error,
        outcome,
    })
}

impl Store {
    /// Records a change to push to Ramses. Called after the local change committed, so the
    /// local operation never depends on Ramses.
    pub fn outbox_add(&mut self, kind: OutboxKind, entity: &str, payload: &Value) -> Result<i64> {
        let path = self.path.clone();
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO ramses_outbox (created_at, kind, entity, payload) VALUES (?1, ?2, ?3, ?4)",
            params![
                crate::time::now(),
                kind.as_str(),
                entity,
                payload.to_string()
            ],
        )
        .db(&path)?;
        let id = tx.last_insert_rowid();
        tx.commit().db(&path)?;
        Ok(id)
    }

    /// Claims up to `limit` pending rows for `owner` for `lease_secs` seconds, oldest first:
    /// rows nobody holds, or whose holder's lease lapsed. One IMMEDIATE transaction, so two
    /// processes never claim the same row.
    pub fn outbox_claim(
        &mut self,
        owner: &str,
        lease_secs: i64,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        let path = self.path.clone();
        let now = crate::time::now();
        let until = crate::time::in_seconds(lease_secs);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let tx = self.write_tx()?;
        let rows = {
            let sql = format!(
                "{SELECT_OUTBOX} WHERE done_at IS NULL
                   AND (claimed_until IS NULL OR claimed_until < ?1) ORDER BY id LIMIT ?2"
            );
            let mut st = tx.prepare(&sql).db(&path)?;
            let raw = st
                .query_map(params![now, limit], raw_outbox)
                .db(&path)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db(&path)?;
            raw
        };
        for r in &rows {
            tx.execute(
                "UPDATE ramses_outbox SET claimed_by = ?1, claimed_until = ?2 WHERE id = ?3",
                params![owner, until, r.id],
            )
            .db(&path)?;
        }
        tx.commit().db(&path)?;
        rows.into_iter().map(to_entry).collect()
    }

    /// Marks a claimed row done (pushed or refused). Returns false when `owner` no longer holds
    /// it (its lease lapsed and someone else took it): the other holder reports it.
    pub fn outbox_finish(
        &mut self,
        id: i64,
        owner: &str,
        outcome: OutboxOutcome,
        detail: Option<&str>,
    ) -> Result<bool> {
        let path = self.path.clone();
        let tx = self.write_tx()?;
        let n = tx
            .execute(
                "UPDATE ramses_outbox SET done_at = ?1, outcome = ?2, last_error = COALESCE(?3, last_error),
                   claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?4 AND claimed_by = ?5 AND done_at IS NULL",
                params![crate::time::now(), outcome.as_str(), detail, id, owner],
            )
            .db(&path)?;
        tx.commit().db(&path)?;
        Ok(n == 1)
    }

    /// Releases a claimed row after a failed attempt (daemon down, slow, garbled): it stays
    /// pending for the next sync, with the reason kept.
    pub fn outbox_retry_later(&mut self, id: i64, owner: &str, error: &str) -> Result<()> {
        let path = self.path.clone();
        let tx = self.write_tx()?;
        tx.execute(
            "UPDATE ramses_outbox SET attempts = attempts + 1, last_error = ?1,
               claimed_by = NULL, claimed_until = NULL
             WHERE id = ?2 AND claimed_by = ?3 AND done_at IS NULL",
            params![error, id, owner],
        )
        .db(&path)?;
        tx.commit().db(&path)
    }

    /// Rows not yet pushed or refused, oldest first.
    pub fn outbox_pending(&self) -> Result<Vec<OutboxEntry>> {
        let sql = format!("{SELECT_OUTBOX} WHERE done_at IS NULL ORDER BY id");
        let mut st = self.conn.prepare(&sql).db(&self.path)?;
        let rows = st
            .query_map([], raw_outbox)
            .db(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .db(&self.path)?;
        rows.into_iter().map(to_entry).collect()
    }

    /// Every outbox row, oldest first (pending and done).
    pub fn outbox_all(&self) -> Result<Vec<OutboxEntry>> {
        let sql = format!("{SELECT_OUTBOX} ORDER BY id");
        let mut st = self.conn.prepare(&sql).db(&self.path)?;
        let rows = st
            .query_map([], raw_outbox)
            .db(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .db(&self.path)?;
        rows.into_iter().map(to_entry).collect()
    }

    /// The Ramses ids and extra data recorded for this project.
    pub fn ramses_objects(&self) -> Result<Vec<RamsesObjectRow>> {
        let mut st = self
            .conn
            .prepare("SELECT uuid, type, key, extra FROM ramses_objects ORDER BY type, key")
            .db(&self.path)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .db(&self.path)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .db(&self.path)?;
        rows.into_iter()
            .map(|(uuid, r#type, key, extra)| {
                let extra = match serde_json::from_str::<Value>(&extra) {
                    Ok(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                Ok(RamsesObjectRow {
                    uuid,
                    r#type,
                    key,
                    extra,
                })
            })
            .collect()
    }

    /// Records (or updates) the Ramses id of an object and the data keys shotline does not
    /// model, with an audit event. A uuid already used by another object is refused.
    pub fn ramses_record_object(
        &mut self,
        actor: &Actor,
        uuid: &str,
        r#type: &str,
        key: &str,
        extra: &Map<String, Value>,
    ) -> Result<()> {
        let path = self.path.clone();
        let tx = self.write_tx()?;
        acting_user(&tx, &path, actor)?;
        let holder: Option<(String, String)> = tx
            .query_row(
                "SELECT type, key FROM ramses_objects WHERE uuid = ?1",
                [uuid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .db(&path)?;
        if let Some((t, k)) = holder {
            if t != r#type || k != key {
                return Err(StoreError::Exists {
                    kind: "Ramses uuid",
                    name: format!("{uuid} (already {t} {k})"),
                });
            }
        }
        let extra_text = Value::Object(extra.clone()).to_string();
        tx.execute(
            "INSERT INTO ramses_objects (uuid, type, key, extra, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (type, key) DO UPDATE SET uuid = excluded.uuid, extra = excluded.extra,
               updated_at = excluded.updated_at",
            params![uuid, r#type, key, extra_text, crate::time::now()],
        )
        .db(&path)?;
        event(
            &tx,
            &path,
            actor,
            "ramses.object",
            "ramses",
            None,
            key,
            &serde_json::json!({"uuid": uuid, "type": r#type, "extra_keys": extra.keys().collect::<Vec<_>>()}),
        )?;
        tx.commit().db(&path)
    }

    /// SQLite's `data_version`: changes whenever another connection commits, so a long-lived
    /// reader (`ramses serve`) knows when its cached view is stale.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .db(&self.path)
    }
}

/// Additions for the Ramses interop's second round: outbox retention, empty sequences and asset
/// groups (Ramses creates them before their shots and assets), pipeline objects only leads define.
impl Store {
    /// Deletes pushed outbox rows finished more than `keep_days` days ago; returns how many.
    /// Refused rows stay until someone resolves them; pending rows are never touched.
    pub fn outbox_prune(&mut self, keep_days: u32) -> Result<usize> {
        let path = self.path.clone();
        let cutoff = crate::time::in_seconds(-(i64::from(keep_days) * 86_400));
        let tx = self.write_tx()?;
        let n = tx
            .execute(
                "DELETE FROM ramses_outbox WHERE outcome = 'pushed' AND done_at IS NOT NULL
                   AND done_at < ?1",
                [cutoff],
            )
            .db(&path)?;
        tx.commit().db(&path)?;
        Ok(n)
    }

    /// Editorial sequence codes of the project, including ones no shot uses yet.
    pub fn sequence_codes(&self) -> Result<Vec<String>> {
        self.codes_of("SELECT code FROM sequences WHERE project_id = ?1 ORDER BY code")
    }

    /// Asset group codes of the project, including ones no asset uses yet.
    pub fn asset_group_codes(&self) -> Result<Vec<String>> {
        self.codes_of("SELECT code FROM asset_groups WHERE project_id = ?1 ORDER BY code")
    }

    fn codes_of(&self, sql: &str) -> Result<Vec<String>> {
        let mut st = self.conn.prepare(sql).db(&self.path)?;
        let rows = st
            .query_map([self.project.id], |r| r.get(0))
            .db(&self.path)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .db(&self.path)?;
        Ok(rows)
    }

    /// Creates an empty editorial sequence (lead or above), audited as `sequence.create`.
    pub fn add_sequence(&mut self, actor: &Actor, code: &str) -> Result<()> {
        self.add_container(actor, code, Container::Sequence)
    }

    /// Creates an empty asset group (lead or above), audited as `asset_group.create`.
    pub fn add_asset_group(&mut self, actor: &Actor, code: &str) -> Result<()> {
        self.add_container(actor, code, Container::AssetGroup)
    }

    fn add_container(&mut self, actor: &Actor, code: &str, c: Container) -> Result<()> {
        crate::validate::item_code(c.what(), code)?;
        let (project, path) = (self.project.id, self.path.clone());
        let tx = self.write_tx()?;
        let (_, role) = acting_user(&tx, &path, actor)?;
        crate::store::require(actor, role, crate::model::Role::Lead, c.action())?;
        let sql = format!(
            "INSERT INTO {} (project_id, code) VALUES (?1, ?2)",
            c.table()
        );
        tx.execute(&sql, params![project, code])
            .map_err(|e| crate::store::invalid_or_db(e, &path, c.what(), code))?;
        let id = tx.last_insert_rowid();
        event(
            &tx,
            &path,
            actor,
            c.event(),
            c.table().trim_end_matches('s'),
            Some(id),
            code,
            &serde_json::json!({}),
        )?;
        tx.commit().db(&path)
    }

    /// [`Store::ramses_record_object`] for pipeline definitions (pipes, pipe files, file types):
    /// like steps, only a lead or above may define them.
    pub fn ramses_define_object(
        &mut self,
        actor: &Actor,
        uuid: &str,
        r#type: &str,
        key: &str,
        extra: &Map<String, Value>,
    ) -> Result<()> {
        let (_, role) = acting_user(&self.conn, &self.path, actor)?;
        crate::store::require(
            actor,
            role,
            crate::model::Role::Lead,
            "defining Ramses pipes and file types",
        )?;
        self.ramses_record_object(actor, uuid, r#type, key, extra)
    }
}

/// The two containers Ramses creates empty.
#[derive(Debug, Clone, Copy)]
enum Container {
    Sequence,
    AssetGroup,
}

impl Container {
    fn table(self) -> &'static str {
        match self {
            Container::Sequence => "sequences",
            Container::AssetGroup => "asset_groups",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Container::Sequence => "sequence",
            Container::AssetGroup => "asset group",
        }
    }
    fn action(self) -> &'static str {
        match self {
            Container::Sequence => "adding sequences",
            Container::AssetGroup => "adding asset groups",
        }
    }
    fn event(self) -> &'static str {
        match self {
            Container::Sequence => "sequence.create",
            Container::AssetGroup => "asset_group.create",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewProject;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::create(
            &dir.path().join("t.db"),
            &NewProject {
                code: "DEMO".into(),
                name: "Demo".into(),
                root: dir.path().display().to_string(),
                fps: 24.0,
                width: 1920,
                height: 1080,
                pixel_aspect: 1.0,
                start_frame: 1001,
            },
            &Actor::named("ana"),
        )
        .unwrap();
        (dir, s)
    }

    #[test]
    fn claims_are_exclusive_and_finish_once() {
        let (dir, mut a) = store();
        let mut b = Store::open(&dir.path().join("t.db"), 5_000).unwrap();
        for i in 0..3 {
            a.outbox_add(
                OutboxKind::Status,
                &format!("SH0{i}0 COMP"),
                &serde_json::json!({"i": i}),
            )
            .unwrap();
        }
        let got_a = a.outbox_claim("a", 60, 2).unwrap();
        let got_b = b.outbox_claim("b", 60, 10).unwrap();
        assert_eq!(got_a.len(), 2);
        assert_eq!(got_b.len(), 1);
        assert!(got_a.iter().all(|e| got_b.iter().all(|f| f.id != e.id)));
        assert!(!b
            .outbox_finish(got_a[0].id, "b", OutboxOutcome::Pushed, None)
            .unwrap());
        assert!(a
            .outbox_finish(got_a[0].id, "a", OutboxOutcome::Pushed, None)
            .unwrap());
        a.outbox_retry_later(got_a[1].id, "a", "daemon down")
            .unwrap();
        let pending = a.outbox_pending().unwrap();
        assert_eq!(pending.len(), 2);
        let retried = pending.iter().find(|e| e.id == got_a[1].id).unwrap();
        assert_eq!(
            (retried.attempts, retried.last_error.as_deref()),
            (1, Some("daemon down"))
        );
        // An expired lease can be taken over.
        let again = a.outbox_claim("a", -10, 10).unwrap();
        assert_eq!(
            again.len(),
            1,
            "only the released row; b still holds its own"
        );
        assert_eq!(b.outbox_claim("b2", 60, 10).unwrap().len(), 1);
    }

    #[test]
    fn objects_keep_extra_keys_and_refuse_a_reused_uuid() {
        let (_dir, mut s) = store();
        let mut extra = Map::new();
        extra.insert("color".into(), "#ff0000".into());
        let ana = Actor::named("ana");
        s.ramses_record_object(&ana, "u-1", "RamShot", "shot:SH010", &extra)
            .unwrap();
        let rows = s.ramses_objects().unwrap();
        assert_eq!(rows[0].extra["color"], "#ff0000");
        let err = s
            .ramses_record_object(&ana, "u-1", "RamShot", "shot:SH020", &Map::new())
            .unwrap_err();
        assert!(err.to_string().contains("u-1"), "{err}");
    }

    #[test]
    fn prune_drops_old_pushed_rows_only() {
        let (_dir, mut s) = store();
        for i in 0..3 {
            s.outbox_add(
                OutboxKind::Status,
                &format!("SH0{i}0 COMP"),
                &serde_json::json!({}),
            )
            .unwrap();
        }
        let rows = s.outbox_claim("me", 60, 10).unwrap();
        s.outbox_finish(rows[0].id, "me", OutboxOutcome::Pushed, None)
            .unwrap();
        s.outbox_finish(
            rows[1].id,
            "me",
            OutboxOutcome::Refused,
            Some("no such shot"),
        )
        .unwrap();
        s.outbox_retry_later(rows[2].id, "me", "down").unwrap();
        assert_eq!(
            s.outbox_prune(30).unwrap(),
            0,
            "pushed just now: kept 30 days"
        );
        assert_eq!(s.outbox_prune(0).unwrap(), 1, "0 days: the pushed row goes");
        let left: Vec<_> = s.outbox_all().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(
            left,
            vec![rows[1].id, rows[2].id],
            "refused and pending stay"
        );
    }

    #[test]
    fn empty_sequences_and_groups_need_a_lead_and_are_audited() {
        let (_dir, mut s) = store();
        let ana = Actor::named("ana");
        s.add_sequence(&ana, "SQ010").unwrap();
        s.add_asset_group(&ana, "props").unwrap();
        assert_eq!(s.sequence_codes().unwrap(), vec!["SQ010"]);
        assert_eq!(s.asset_group_codes().unwrap(), vec!["props"]);
        assert!(s.add_sequence(&ana, "SQ010").is_err(), "duplicate refused");
        let bob = Actor::named("bob");
        let err = s.add_sequence(&bob, "SQ020").unwrap_err();
        assert!(err.to_string().contains("lead"), "{err}");
        let err = s
            .ramses_define_object(&bob, "u-9", "RamFileType", "filetype:exr", &Map::new())
            .unwrap_err();
        assert!(err.to_string().contains("lead"), "{err}");
        let events = s
            .events(&crate::EventQuery {
                action: Some("sequence.create".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(events.len(), 1);
    }
}
