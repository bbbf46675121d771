//! Versions: the batch registration used by publish and ingest, and the listing.
//!
//! A batch is one IMMEDIATE transaction: everything it needs (items, steps, current highest
//! numbers, referenced versions, tags) is fetched in a handful of queries up front, never one
//! query per row, and numbers are taken under the write lock so concurrent publishers can never
//! get the same number.

use std::path::Path;

use std::collections::{BTreeSet, HashMap};

use crate::bulk::Insert;
use crate::sql::{params, Conn, ToValue, Value};
use serde_json::json;

use shotline_layout::VersionNumber;

use crate::actor::Actor;
use crate::allocate::{after, claim_from, consume_reservation, highest_on_disk};
use crate::error::{Result, SqlContext, StoreError};
use crate::model::{
    Files, ItemKind, ItemRef, NewVersion, Role, State, Version, VersionPlace, VersionQuery,
};
use crate::prefetch::{all_steps, check_final, check_uses, max_numbers, prefetch_items, tag_ids};
use crate::publish::ManifestNames;
use crate::store::{acting_user, event, events_of, require, NewEvent, Store};
use crate::validate;

const SELECT_VERSIONS: &str = "SELECT v.id, i.kind, i.code, s.code, v.resource, v.number, v.state,
        f.dir, f.pattern, v.first_frame, v.last_frame, v.frame_range, v.missing_frames,
        v.width, v.height, v.fps, v.timecode, v.bytes, v.file_count, v.checksum,
        u.name, v.created_at, v.comment, v.source, v.published, v.manifest,
        (SELECT group_concat(d.uses_id) FROM dependencies d WHERE d.version_id = v.id),
        (SELECT group_concat(t.name) FROM version_tags vt JOIN tags t ON t.id = vt.tag_id
          WHERE vt.version_id = v.id)
   FROM versions v
   JOIN items i ON i.id = v.item_id
   JOIN steps s ON s.id = v.step_id
   JOIN file_sequences f ON f.id = v.files_id
   JOIN users u ON u.id = v.author_id";

fn row_to_version(r: &crate::sql::Row) -> crate::sql::Result<Version> {
    let kind: String = r.get(1)?;
    let state: String = r.get(6)?;
    let bad = |i: usize, s: &str| crate::sql::SqlError::Type {
        column: i,
        expected: "a known item kind or state",
        found: format!("{s:?}"),
    };
    let uses: Option<String> = r.get(26)?;
    let tags: Option<String> = r.get(27)?;
    Ok(Version {
        id: r.get(0)?,
        item: ItemRef {
            kind: kind.parse::<ItemKind>().map_err(|_| bad(1, &kind))?,
            code: r.get(2)?,
        },
        step: r.get(3)?,
        resource: r.get(4)?,
        number: r.get(5)?,
        state: state.parse::<State>().map_err(|_| bad(6, &state))?,
        files: Files {
            dir: r.get(7)?,
            pattern: r.get(8)?,
            first_frame: r.get(9)?,
            last_frame: r.get(10)?,
            frame_range: r.get(11)?,
            missing_frames: r.get(12)?,
            width: r.get(13)?,
            height: r.get(14)?,
            fps: r.get(15)?,
            timecode: r.get(16)?,
            bytes: r.get(17)?,
            file_count: r.get(18)?,
            checksum: r.get(19)?,
        },
        author: r.get(20)?,
        created_at: r.get(21)?,
        comment: r.get(22)?,
        source: r.get(23)?,
        published: r.get(24)?,
        manifest: r.get(25)?,
        uses: uses
            .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or_default(),
        tags: tags
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
    })
}

/// `SH010 COMP v003` / `SH010 COMP/BG v003`: how events and messages name a version.
pub fn version_name(item: &str, step: &str, resource: &str, number: i64) -> String {
    let label = label(number);
    if resource.is_empty() {
        format!("{item} {step} {label}")
    } else {
        format!("{item} {step}/{resource} {label}")
    }
}

/// `v003` through [`VersionNumber`]; a number outside its range (only a hand-edited database
/// holds one) is shown as `version N` rather than hidden.
pub(crate) fn label(number: i64) -> String {
    VersionNumber::from_i64(number)
        .map(|n| n.to_string())
        .unwrap_or_else(|| format!("version {number}"))
}

/// A version number given by a caller, checked against the range every layout can spell.
fn checked_number(n: i64) -> Result<VersionNumber> {
    VersionNumber::from_i64(n).ok_or_else(|| StoreError::Invalid {
        what: "version number",
        value: n.to_string(),
        expected: crate::versions::number_range(),
    })
}

/// What a version number may be, in [`VersionNumber`]'s own words.
pub(crate) fn number_range() -> String {
    "0".parse::<VersionNumber>()
        .err()
        .map(|e| {
            e.to_string()
                .replace("\"0\" is not a version number: expected ", "")
        })
        .unwrap_or_else(|| "a version number".into())
}

/// `files` with its frame ranges in the normalised spelling and its frames in range.
fn normalised_files(files: &Files) -> Result<Files> {
    let mut f = files.clone();
    f.frame_range = crate::frames::normalise("frame range", &f.frame_range)?;
    f.missing_frames = crate::frames::normalise("missing frames", &f.missing_frames)?;
    for frame in [f.first_frame, f.last_frame].into_iter().flatten() {
        crate::frames::check_frame("frame", frame)?;
    }
    Ok(f)
}

impl Store {
    /// Registers a batch of versions in one transaction and returns them with their numbers.
    /// Registering an APPROVED, FINAL, RETAKE or OMIT version needs lead or above. Any invalid
    /// row (unknown shot or step, bad resource) fails the whole batch before anything is written.
    pub fn register_versions(
        &mut self,
        actor: &Actor,
        batch: &[NewVersion],
    ) -> Result<Vec<Version>> {
        self.register_with(actor, batch, false)
    }

    /// [`Store::register_versions`]; with `manifests`, each version is numbered past the
    /// manifests already in the folder of its files and records the manifest path it gets
    /// (inside the same transaction).
    pub(crate) fn register_with(
        &mut self,
        actor: &Actor,
        batch: &[NewVersion],
        manifests: bool,
    ) -> Result<Vec<Version>> {
        let mut files = Vec::with_capacity(batch.len());
        for v in batch {
            check_new(v)?;
            files.push(normalised_files(&v.files)?);
        }
        let (project, path) = (self.project.id, self.path.clone());
        let tx = self.write_tx_for_versions(batch.iter().map(|v| {
            (
                v.item.kind,
                v.item.code.as_str(),
                v.step.as_str(),
                v.resource.as_str(),
            )
        }))?;
        let (author_id, role) = acting_user(&tx, &path, actor)?;
        if let Some(v) = batch.iter().find(|v| v.state.is_decision()) {
            require(
                actor,
                role,
                Role::Lead,
                &format!("registering a {} version", v.state),
            )?;
        }
        let items = prefetch_items(&tx, &path, project, batch)?;
        let steps = all_steps(&tx, &path, project)?;
        let mut keys = Vec::with_capacity(batch.len());
        for v in batch {
            let item_id = *items.get(&v.item).ok_or_else(|| StoreError::NotFound {
                kind: if v.item.kind == ItemKind::Shot {
                    "shot"
                } else {
                    "asset"
                },
                name: v.item.code.clone(),
            })?;
            let step_id =
                *steps
                    .get(&(v.item.kind, v.step.clone()))
                    .ok_or_else(|| StoreError::NotFound {
                        kind: if v.item.kind == ItemKind::Shot {
                            "shot step"
                        } else {
                            "asset step"
                        },
                        name: v.step.clone(),
                    })?;
            keys.push((item_id, step_id, v.resource.clone()));
        }
        let mut next = max_numbers(&tx, &path, &keys)?;
        check_final(&tx, &path, batch, &keys)?;
        check_uses(&tx, &path, batch)?;
        let mut tag_ids = tag_ids(&tx, &path, batch)?;
        let now = crate::time::now();
        let mut out = Vec::with_capacity(batch.len());
        let mut ids = Vec::with_capacity(batch.len());
        for ((v, (item_id, step_id, resource)), f) in batch.iter().zip(keys).zip(files) {
            let highest = next
                .entry((item_id, step_id, resource.clone()))
                .or_insert(0);
            let layout = manifests
                .then(|| ManifestNames::new(Path::new(&f.dir), &v.item.code, &v.step, &resource));
            let number = match v.number {
                // An explicit number (taken earlier by the allocator) is registered as it is and
                // consumes its reservation; later unnumbered versions of the same key in this
                // batch continue after it.
                Some(k) => {
                    let n = checked_number(k)?;
                    if layout.as_ref().is_some_and(|l| l.path(n).exists()) {
                        return Err(clash(v, &resource));
                    }
                    consume_reservation(&tx, &path, (item_id, step_id), &resource, k)?;
                    n
                }
                // The allocator's rule: past everything registered or reserved, and past every
                // manifest of this key already on disk (a database restored from an older backup
                // must not issue a second, different v00N).
                None => {
                    let mut top = VersionNumber::from_i64(*highest);
                    if let Some(l) = &layout {
                        top = top.max(highest_on_disk(l)?);
                    }
                    let parent = Path::new(&f.dir);
                    let start = after(top, parent)?;
                    match &layout {
                        Some(l) => claim_from(l, start)?.0,
                        None => start,
                    }
                }
            };
            *highest = (*highest).max(i64::from(number.get()));
            let number = i64::from(number.get());
            let manifest_file = layout
                .as_ref()
                .and_then(|l| VersionNumber::from_i64(number).map(|n| l.path(n)));
            ids.push(RowIds { item_id, step_id });
            out.push(Version {
                id: 0,
                item: v.item.clone(),
                step: v.step.clone(),
                resource,
                number,
                state: v.state,
                files: f,
                author: actor.user.clone(),
                created_at: now.clone(),
                comment: v.comment.clone(),
                source: v.source.clone(),
                published: true,
                manifest: manifest_file.map(|p| p.to_string_lossy().into_owned()),
                uses: v.uses.clone(),
                tags: v.tags.clone(),
            });
        }
        let rows = VersionRows {
            batch,
            ids: &ids,
            author_id,
            now: &now,
        };
        rows.insert(&tx, &path, &mut out)?;
        insert_uses(&tx, &path, &out)?;
        insert_tags(&tx, &path, &out, &mut tag_ids)?;
        version_events(&tx, &path, actor, &out)?;
        crate::hooks::pause_at("before-commit");
        tx.commit().db(&path)?;
        Ok(out)
    }

    /// Streams versions matching `q` to `f`, ordered by item, step, resource and number, without
    /// holding them all in memory (100,000 versions list in well under a second).
    pub fn versions_each<E: From<StoreError>>(
        &self,
        q: &VersionQuery,
        mut f: impl FnMut(Version) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut sql = format!(
            "{SELECT_VERSIONS} WHERE i.project_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR i.kind = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR i.code = ?3) AND (CAST(?4 AS TEXT) IS NULL OR s.code = ?4)
               AND (CAST(?5 AS TEXT) IS NULL OR v.resource = ?5)"
        );
        if q.latest {
            sql.push_str(
                " AND NOT EXISTS (SELECT 1 FROM versions w WHERE w.item_id = v.item_id
                   AND w.step_id = v.step_id AND w.resource = v.resource AND w.number > v.number)",
            );
        }
        sql.push_str(" ORDER BY i.kind DESC, i.code, s.code, v.resource, v.number LIMIT ?6");
        let limit = q
            .limit
            .map(|l| l.min(i64::MAX as u64) as i64)
            .unwrap_or(i64::MAX);
        let mut st = self
            .conn
            .prepare(&sql)
            .map_err(|e| E::from(db_err(&self.path, e)))?;
        let rows = st
            .query_map(
                params![
                    self.project.id,
                    q.kind.map(|k| k.as_str()),
                    q.item,
                    q.step,
                    q.resource,
                    limit
                ],
                row_to_version,
            )
            .map_err(|e| E::from(db_err(&self.path, e)))?;
        for r in rows {
            f(r.map_err(|e| E::from(db_err(&self.path, e)))?)?;
        }
        Ok(())
    }

    /// Every version of the project as a [`VersionPlace`], in no particular order: one query
    /// with no per-row subqueries (uses, tags) and no sort, the columns a path resolver needs.
    /// `versions_each` over 10,000 versions spent most of a scene audit's startup running
    /// 20,000 correlated subqueries and sorting wide rows through a temporary file.
    pub fn version_places_each<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(VersionPlace) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut st = self
            .conn
            .prepare(
                "SELECT v.id, i.kind, i.code, s.code, v.resource, v.number, f.dir, f.pattern,
                        v.frame_range, v.fps
                   FROM versions v
                   JOIN items i ON i.id = v.item_id
                   JOIN steps s ON s.id = v.step_id
                   JOIN file_sequences f ON f.id = v.files_id
                  WHERE i.project_id = ?1",
            )
            .map_err(|e| E::from(db_err(&self.path, e)))?;
        let rows = st
            .query_map(params![self.project.id], |r| {
                let kind: String = r.get(1)?;
                Ok(VersionPlace {
                    id: r.get(0)?,
                    item: ItemRef {
                        kind: kind.parse::<ItemKind>().map_err(|_| {
                            rusqlite::Error::FromSqlConversionFailure(
                                1,
                                rusqlite::types::Type::Text,
                                format!("unexpected value {kind:?}").into(),
                            )
                        })?,
                        code: r.get(2)?,
                    },
                    step: r.get(3)?,
                    resource: r.get(4)?,
                    number: r.get(5)?,
                    dir: r.get(6)?,
                    pattern: r.get(7)?,
                    frame_range: r.get(8)?,
                    fps: r.get(9)?,
                })
            })
            .map_err(|e| E::from(db_err(&self.path, e)))?;
        for r in rows {
            f(r.map_err(|e| E::from(db_err(&self.path, e)))?)?;
        }
        Ok(())
    }

    /// Versions matching `q`, collected.
    pub fn versions(&self, q: &VersionQuery) -> Result<Vec<Version>> {
        let mut out = Vec::new();
        self.versions_each(q, |v| {
            out.push(v);
            Ok::<(), StoreError>(())
        })?;
        Ok(out)
    }

    /// One version by id.
    pub fn version(&self, id: i64) -> Result<Version> {
        let sql = format!("{SELECT_VERSIONS} WHERE v.id = ?1 AND i.project_id = ?2");
        let mut st = self.conn.prepare(&sql).db(&self.path)?;
        let mut rows = st
            .query_map(params![id, self.project.id], row_to_version)
            .db(&self.path)?;
        match rows.next() {
            Some(v) => v.db(&self.path),
            None => Err(StoreError::NotFound {
                kind: "version",
                name: id.to_string(),
            }),
        }
    }

    /// Versions that use version `id` (reverse dependencies: what is affected by a change).
    pub fn used_by(&self, id: i64) -> Result<Vec<i64>> {
        let mut st = self
            .conn
            .prepare("SELECT version_id FROM dependencies WHERE uses_id = ?1 ORDER BY version_id")
            .db(&self.path)?;
        let rows = st.query_map(params![id], |r| r.get(0)).db(&self.path)?;
        rows.collect::<crate::sql::Result<_>>().db(&self.path)
    }

    /// Records the acting user's 1–5 rating of a version (replacing their previous one).
    pub fn rate_version(&mut self, actor: &Actor, id: i64, rating: i64) -> Result<()> {
        if !(1..=5).contains(&rating) {
            return Err(StoreError::Invalid {
                what: "rating",
                value: rating.to_string(),
                expected: "1 to 5".into(),
            });
        }
        let v = self.version(id)?;
        let path = self.path.clone();
        let tx = self.write_tx()?;
        let (user_id, _) = acting_user(&tx, &path, actor)?;
        tx.execute(
            "INSERT INTO ratings (version_id, user_id, rating, rated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (version_id, user_id) DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at",
            params![id, user_id, rating, crate::time::now()],
        )
        .db(&path)?;
        let name = version_name(&v.item.code, &v.step, &v.resource, v.number);
        event(
            &tx,
            &path,
            actor,
            "version.rate",
            "version",
            Some(id),
            &name,
            &json!({"rating": rating}),
        )?;
        tx.commit().db(&path)
    }
}

fn db_err(path: &Path, e: crate::sql::SqlError) -> StoreError {
    crate::error::from_sql(e, path)
}

/// Whether SQLite refused a row for a UNIQUE constraint (on `versions`, only the
/// item × step × resource × number key can be hit).
/// The error for an explicit number that is already taken.
fn clash(v: &NewVersion, resource: &str) -> StoreError {
    StoreError::VersionExists {
        item: v.item.code.clone(),
        step: v.step.clone(),
        resource: resource.to_string(),
        number: v.number.unwrap_or_default(),
    }
}

/// The database ids a version row refers to, resolved before anything is written.
struct RowIds {
    item_id: i64,
    step_id: i64,
}

/// What the `versions` rows of a batch need besides the [`Version`]s themselves.
struct VersionRows<'a> {
    batch: &'a [NewVersion],
    ids: &'a [RowIds],
    author_id: i64,
    now: &'a str,
}

/// The `versions` columns, in the order [`VersionRows::values`] writes them.
const VERSION_INSERT: Insert<'static> = Insert {
    into: "versions (item_id, item_kind, step_id, resource, number, state, files_id,
       first_frame, last_frame, frame_range, missing_frames, width, height, fps, timecode,
       bytes, file_count, checksum, author_id, created_at, comment, source, published, manifest)",
    width: 24,
    tail: "RETURNING id, item_id, step_id, resource, number",
};

impl VersionRows<'_> {
    /// Writes the rows of `out` and sets each version's id. Unnumbered versions go in multi-row
    /// statements; a version with an explicit number goes alone, so a clash with an existing
    /// row names that version (unnumbered ones cannot clash: they are numbered under the write
    /// lock). Batch order is kept, so ids grow in the order versions were given.
    fn insert(&self, conn: &Conn, path: &Path, out: &mut [Version]) -> Result<()> {
        let files = file_sequence_ids(conn, path, out)?;
        let mut run_start = 0;
        for i in 0..=out.len() {
            let explicit = i < out.len() && self.batch[i].number.is_some();
            if i < out.len() && !explicit {
                continue;
            }
            self.insert_range(conn, out, &files, run_start..i)
                .map_err(|e| db_err(path, e))?;
            if explicit {
                self.insert_range(conn, out, &files, i..i + 1)
                    .map_err(|e| {
                        if is_unique_violation(&e) {
                            clash(&self.batch[i], &out[i].resource)
                        } else {
                            db_err(path, e)
                        }
                    })?;
            }
            run_start = i + 1;
        }
        // Every row came back with its id (RETURNING): anything else is a database that did
        // not store what it was given, never to be passed on as version 0.
        if let Some(v) = out.iter().find(|v| v.id == 0) {
            return Err(StoreError::Sql {
                path: path.to_path_buf(),
                message: format!(
                    "no id returned for the new version {}",
                    version_name(&v.item.code, &v.step, &v.resource, v.number)
                ),
            });
        }
        Ok(())
    }

    /// Inserts `out[range]` and reads their ids back by (item, step, resource, number).
    fn insert_range(
        &self,
        conn: &Conn,
        out: &mut [Version],
        files: &HashMap<(String, String), i64>,
        range: std::ops::Range<usize>,
    ) -> crate::sql::Result<()> {
        if range.is_empty() {
            return Ok(());
        }
        let mut values = Vec::with_capacity(range.len() * VERSION_INSERT.width);
        for i in range.clone() {
            let files_id = files
                .get(&(out[i].files.dir.clone(), out[i].files.pattern.clone()))
                .copied()
                .unwrap_or_default();
            values.extend(self.values(&out[i], &self.ids[i], files_id));
        }
        let mut id_of = HashMap::with_capacity(range.len());
        for r in VERSION_INSERT.run(conn, &values)? {
            let key: (i64, i64, String, i64) = (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            id_of.insert(key, r.get::<i64>(0)?);
        }
        for i in range {
            let v = &mut out[i];
            let key = (
                self.ids[i].item_id,
                self.ids[i].step_id,
                v.resource.clone(),
                v.number,
            );
            v.id = id_of.get(&key).copied().unwrap_or_default();
        }
        Ok(())
    }

    /// One row's values, in [`VERSION_INSERT`]'s column order.
    fn values(&self, v: &Version, ids: &RowIds, files_id: i64) -> [Value; 24] {
        let f = &v.files;
        [
            ids.item_id.to_value(),
            v.item.kind.as_str().to_value(),
            ids.step_id.to_value(),
            v.resource.to_value(),
            v.number.to_value(),
            v.state.as_str().to_value(),
            files_id.to_value(),
            f.first_frame.to_value(),
            f.last_frame.to_value(),
            f.frame_range.to_value(),
            f.missing_frames.to_value(),
            f.width.to_value(),
            f.height.to_value(),
            f.fps.to_value(),
            f.timecode.to_value(),
            f.bytes.to_value(),
            f.file_count.to_value(),
            f.checksum.to_value(),
            self.author_id.to_value(),
            self.now.to_value(),
            v.comment.to_value(),
            v.source.to_value(),
            1i64.to_value(),
            v.manifest.to_value(),
        ]
    }
}

/// The `file_sequences` id of every (dir, pattern) in `out`, inserting the new ones: one
/// multi-row upsert of the distinct pairs (PostgreSQL refuses an upsert touching one row
/// twice, so pairs are deduplicated first).
fn file_sequence_ids(
    conn: &Conn,
    path: &Path,
    out: &[Version],
) -> Result<HashMap<(String, String), i64>> {
    // Sorted: two writers upserting the same pairs lock them in the same order, so they can
    // only wait for each other, never deadlock.
    let pairs: BTreeSet<(&str, &str)> = out
        .iter()
        .map(|v| (v.files.dir.as_str(), v.files.pattern.as_str()))
        .collect();
    let mut values = Vec::with_capacity(pairs.len() * 2);
    for (dir, pattern) in &pairs {
        values.push(dir.to_value());
        values.push(pattern.to_value());
    }
    let insert = Insert {
        into: "file_sequences (dir, pattern)",
        width: 2,
        tail:
            "ON CONFLICT (dir, pattern) DO UPDATE SET dir = excluded.dir RETURNING id, dir, pattern",
    };
    let mut ids = HashMap::with_capacity(pairs.len());
    for r in insert.run(conn, &values).db(path)? {
        ids.insert((r.get(1).db(path)?, r.get(2).db(path)?), r.get(0).db(path)?);
    }
    Ok(ids)
}

/// The `dependencies` rows of every version of the batch, in multi-row statements.
fn insert_uses(conn: &Conn, path: &Path, out: &[Version]) -> Result<()> {
    let values: Vec<Value> = out
        .iter()
        .flat_map(|v| {
            v.uses
                .iter()
                .flat_map(move |u| [v.id.to_value(), u.to_value()])
        })
        .collect();
    Insert {
        into: "dependencies (version_id, uses_id)",
        width: 2,
        tail: "ON CONFLICT DO NOTHING",
    }
    .run(conn, &values)
    .db(path)?;
    Ok(())
}

/// Creates the tags the batch names that do not exist yet, then links every version to its
/// tags; a handful of statements whatever the batch size.
fn insert_tags(
    conn: &Conn,
    path: &Path,
    out: &[Version],
    tag_ids: &mut HashMap<String, i64>,
) -> Result<()> {
    // Sorted and distinct, for the same reason as the file sequences.
    let new: Vec<Value> = out
        .iter()
        .flat_map(|v| v.tags.iter())
        .filter(|t| !tag_ids.contains_key(*t))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|t| t.to_value())
        .collect();
    let created = Insert {
        into: "tags (name)",
        width: 1,
        // A publisher of another shot may create the same tag meanwhile (keyed locks): take it.
        tail: "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id, name",
    }
    .run(conn, &new)
    .db(path)?;
    for r in created {
        tag_ids.insert(r.get(1).db(path)?, r.get(0).db(path)?);
    }
    let mut values = Vec::new();
    for v in out {
        for tag in &v.tags {
            let tag_id = tag_ids.get(tag).copied().unwrap_or_default();
            values.push(v.id.to_value());
            values.push(tag_id.to_value());
        }
    }
    Insert {
        into: "version_tags (version_id, tag_id)",
        width: 2,
        tail: "ON CONFLICT DO NOTHING",
    }
    .run(conn, &values)
    .db(path)?;
    Ok(())
}

/// One `version.publish` or `version.register` audit event per version, written together.
fn version_events(conn: &Conn, path: &Path, actor: &Actor, out: &[Version]) -> Result<()> {
    let events: Vec<NewEvent> = out
        .iter()
        .map(|v| {
            let f = &v.files;
            NewEvent {
                action: if v.source == "publish" {
                    "version.publish"
                } else {
                    "version.register"
                },
                entity_kind: "version",
                entity_id: Some(v.id),
                entity: version_name(&v.item.code, &v.step, &v.resource, v.number),
                details: json!({"state": v.state, "dir": f.dir, "pattern": f.pattern,
                    "frames": f.frame_range, "missing": f.missing_frames, "files": f.file_count,
                    "bytes": f.bytes, "source": v.source, "comment": v.comment,
                    "manifest": v.manifest}),
            }
        })
        .collect();
    events_of(conn, path, actor, &events)
}

fn is_unique_violation(e: &crate::sql::SqlError) -> bool {
    e.constraint() == Some(crate::sql::Constraint::Unique)
}

fn check_new(v: &NewVersion) -> Result<()> {
    if let Some(n) = v.number {
        checked_number(n)?;
    }
    validate::item_code("item code", &v.item.code)?;
    validate::code("step code", &v.step)?;
    validate::resource(&v.resource)?;
    for t in &v.tags {
        validate::item_code("tag", t)?;
    }
    let f = &v.files;
    if f.dir.is_empty() || f.pattern.is_empty() {
        return Err(StoreError::Invalid {
            what: "files",
            value: format!("{}/{}", f.dir, f.pattern),
            expected: "a folder and a file pattern".into(),
        });
    }
    if f.bytes < 0 || f.file_count < 0 {
        return Err(StoreError::Invalid {
            what: "files",
            value: format!("{} bytes, {} files", f.bytes, f.file_count),
            expected: "sizes and counts of 0 or more".into(),
        });
    }
    match (f.first_frame, f.last_frame) {
        (None, None) => Ok(()),
        (Some(a), Some(b)) if b >= a => Ok(()),
        (a, b) => Err(StoreError::Invalid {
            what: "frame range",
            value: format!("{a:?}-{b:?}"),
            expected: "both first and last frame (last ≥ first) or neither".into(),
        }),
    }
}

/// One version's ratings: the mean over the users who rated it, how many did, and the asking
/// user's own (the dashboard shows the mean and lets each user set theirs).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RatingSummary {
    /// The version.
    pub version_id: i64,
    /// Mean rating, 1–5.
    pub average: f64,
    /// How many users rated it.
    pub count: i64,
    /// The asking user's rating, if they gave one.
    pub mine: Option<i64>,
}

impl Store {
    /// For each of `ids`, the versions that use it (reverse dependencies), in one query
    /// whatever the number of ids: a page showing many versions asks once, not once per row.
    pub fn used_by_each(&self, ids: &[i64]) -> Result<std::collections::BTreeMap<i64, Vec<i64>>> {
        let mut out: std::collections::BTreeMap<i64, Vec<i64>> = std::collections::BTreeMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let list = serde_json::to_string(ids).map_err(|e| StoreError::Invalid {
            what: "version ids",
            value: format!("{ids:?}"),
            expected: e.to_string(),
        })?;
        let sql = format!(
            "SELECT uses_id, version_id FROM dependencies
             WHERE uses_id IN (SELECT CAST(value AS BIGINT) FROM {}) ORDER BY uses_id, version_id",
            crate::sql::json_scalars(self.conn.backend(), "?1")
        );
        let mut st = self.conn.prepare(&sql).db(&self.path)?;
        let rows = st
            .query_map(params![list], |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?)))
            .db(&self.path)?;
        for r in rows {
            let (uses, user) = r.db(&self.path)?;
            out.entry(uses).or_default().push(user);
        }
        Ok(out)
    }

    /// The ratings of every rated version of the project, with `user`'s own, in one query.
    pub fn rating_summaries(
        &self,
        user: &str,
    ) -> Result<std::collections::BTreeMap<i64, RatingSummary>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT r.version_id, AVG(r.rating), COUNT(*),
                        MAX(CASE WHEN u.name = ?2 THEN r.rating END)
                   FROM ratings r JOIN users u ON u.id = r.user_id
                   JOIN versions v ON v.id = r.version_id JOIN items i ON i.id = v.item_id
                  WHERE i.project_id = ?1 GROUP BY r.version_id",
            )
            .db(&self.path)?;
        let rows = st
            .query_map(params![self.project.id, user], |r| {
                Ok(RatingSummary {
                    version_id: r.get(0)?,
                    average: r.get(1)?,
                    count: r.get(2)?,
                    mine: r.get(3)?,
                })
            })
            .db(&self.path)?;
        rows.map(|r| r.map(|s| (s.version_id, s)))
            .collect::<crate::sql::Result<_>>()
            .db(&self.path)
    }

    /// Adds and removes free tags of a version (tags are labels, not history, so a published
    /// version may be retagged). The version's author may tag it; anyone else needs lead or
    /// above. Returns the version's tags afterwards.
    pub fn retag_version(
        &mut self,
        actor: &Actor,
        id: i64,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<String>> {
        for t in add.iter().chain(remove) {
            validate::item_code("tag", t)?;
        }
        let v = self.version(id)?;
        let path = self.path.clone();
        let tx = self.write_tx()?;
        let (_, role) = acting_user(&tx, &path, actor)?;
        if v.author != actor.user {
            require(actor, role, Role::Lead, "tagging another user's version")?;
        }
        for t in add {
            tx.execute(
                "INSERT INTO tags (name) VALUES (?1) ON CONFLICT DO NOTHING",
                params![t],
            )
            .db(&path)?;
            tx.execute(
                "INSERT INTO version_tags (version_id, tag_id)
                 SELECT CAST(?1 AS BIGINT), id FROM tags WHERE name = ?2 ON CONFLICT DO NOTHING",
                params![id, t],
            )
            .db(&path)?;
        }
        for t in remove {
            tx.execute(
                "DELETE FROM version_tags WHERE version_id = ?1
                   AND tag_id = (SELECT id FROM tags WHERE name = ?2)",
                params![id, t],
            )
            .db(&path)?;
        }
        let name = version_name(&v.item.code, &v.step, &v.resource, v.number);
        event(
            &tx,
            &path,
            actor,
            "version.tag",
            "version",
            Some(id),
            &name,
            &json!({"added": add, "removed": remove}),
        )?;
        let tags: Option<String> = tx
            .query_row(
                "SELECT group_concat(t.name) FROM version_tags vt JOIN tags t ON t.id = vt.tag_id
                  WHERE vt.version_id = ?1",
                params![id],
                |r| r.get(0),
            )
            .db(&path)?;
        tx.commit().db(&path)?;
        Ok(tags
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default())
    }
}
