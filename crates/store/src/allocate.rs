//! The one version allocator: every version number in a project comes from here, whether
//! publish, ingest or another tool asks, with or without a database.
//!
//! The rule: the next number is one more than the highest of (a) every number registered or
//! reserved in the database for that item × step × resource and (b) every entry the caller's
//! [`VersionLayout`] recognises on disk; then the entry is claimed on disk with an atomic
//! `mkdir` (an existing entry, made by hand or by a crashed writer, moves on to the next
//! number), its parent folder is fsynced, and the number is recorded as a reservation, all
//! inside one write transaction. So two writers can never get the same number: the database
//! write lock orders writers that share a database, and `mkdir` orders everyone else. A crash
//! after the `mkdir` and before the commit leaves an empty folder that the next allocation
//! skips, never reuses.

use std::path::{Path, PathBuf};

use crate::sql::{params, Conn, OptionalExt};
use serde::Serialize;
use serde_json::json;
use shotline_layout::VersionNumber;

use crate::actor::Actor;
use crate::error::{IoContext, Result, SqlContext, StoreError};
use crate::model::{ItemKind, ItemRef};
use crate::store::{acting_user, event, Store};
use crate::validate;

/// How many taken entries one allocation steps over before giving up (a folder full of
/// hand-made entries must not turn into an endless loop).
pub const MAX_SKIPS: u32 = 10_000;

/// What a version number is allocated for: one item × step × resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct VersionKey {
    /// The shot or asset.
    pub item: ItemRef,
    /// Step code.
    pub step: String,
    /// Resource within the step (`""` for the main one).
    pub resource: String,
}

/// How a caller lays versions out on disk: where they live and how an entry is named. The
/// allocator scans [`VersionLayout::parent`] with [`VersionLayout::number_of`] to find the
/// highest number on disk, and claims [`VersionLayout::entry_name`] for the number it takes.
pub trait VersionLayout {
    /// The folder holding one entry per version.
    fn parent(&self) -> &Path;
    /// The entry (folder or file name) of version `n` inside [`VersionLayout::parent`].
    fn entry_name(&self, n: VersionNumber) -> String;
    /// The version an existing entry name stands for, or `None` when it is not a version
    /// entry of this key.
    fn number_of(&self, name: &str) -> Option<VersionNumber>;
    /// `true` (the default): the allocator claims the number by creating the entry as a folder.
    /// `false`: the entry is a file the caller writes later (a publish manifest, written with
    /// `Overwrite::Never`); the allocator only steps over entries that exist.
    fn creates_folder(&self) -> bool {
        true
    }
}

/// The common layout: version folders named `<prefix>vNNN<suffix>` in one parent folder
/// (`/show/shots/SH010/plates/v001`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFolders {
    /// Folder holding the version folders.
    pub parent: PathBuf,
    /// Text before `vNNN` (often empty).
    pub prefix: String,
    /// Text after `vNNN` (often empty).
    pub suffix: String,
}

impl VersionFolders {
    /// Folders named plainly `v001`, `v002`, … in `parent`.
    pub fn plain(parent: impl Into<PathBuf>) -> VersionFolders {
        VersionFolders {
            parent: parent.into(),
            prefix: String::new(),
            suffix: String::new(),
        }
    }
}

impl VersionLayout for VersionFolders {
    fn parent(&self) -> &Path {
        &self.parent
    }
    fn entry_name(&self, n: VersionNumber) -> String {
        format!("{}{n}{}", self.prefix, self.suffix)
    }
    fn number_of(&self, name: &str) -> Option<VersionNumber> {
        let v = name
            .strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())?;
        parse_v_number(v)
    }
}

/// `v001` (and only the `v` spelling) as a number: a bare `001` next to version folders is not
/// taken for one.
pub(crate) fn parse_v_number(text: &str) -> Option<VersionNumber> {
    if !text.starts_with('v') {
        return None;
    }
    text.parse().ok()
}

/// A number taken by [`Store::allocate_version`]: the entry exists on disk and the number is
/// reserved in the database until a version is registered with it (which consumes the
/// reservation) or the reservation is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    /// The number taken.
    pub number: VersionNumber,
    /// The entry claimed for it (the version folder, created and empty).
    pub dir: PathBuf,
    /// Id of the reservation row.
    pub reservation: i64,
}

/// A number taken by [`allocate_on_disk`] (no database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskAllocation {
    /// The number taken.
    pub number: VersionNumber,
    /// The entry claimed for it.
    pub dir: PathBuf,
}

/// A reservation as `db check` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reservation {
    /// Id (what `db release-reservation` takes).
    pub id: i64,
    /// `SH010 COMP v003`.
    pub version: String,
    /// The entry claimed on disk, if any.
    pub path: Option<String>,
    /// Who reserved it.
    pub user: String,
    /// On which machine.
    pub host: String,
    /// By which process.
    pub pid: u32,
    /// When (RFC 3339 UTC).
    pub reserved_at: String,
}

/// The highest version entry of `layout` on disk (`None`: none, or the parent does not exist).
pub fn highest_on_disk(layout: &dyn VersionLayout) -> Result<Option<VersionNumber>> {
    let parent = layout.parent();
    let entries = match std::fs::read_dir(parent) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).io(parent),
    };
    let mut highest = None;
    for entry in entries {
        let entry = entry.io(parent)?;
        let name = entry.file_name();
        let number = name.to_str().and_then(|n| layout.number_of(n));
        highest = highest.max(number);
    }
    Ok(highest)
}

/// Claims the first free entry of `layout` at or after `start`: `mkdir` (then fsync of the
/// parent) for folder layouts, a free name for file layouts. Bounded by [`MAX_SKIPS`].
pub(crate) fn claim_from(
    layout: &dyn VersionLayout,
    start: VersionNumber,
) -> Result<(VersionNumber, PathBuf)> {
    let parent = layout.parent();
    if layout.creates_folder() {
        std::fs::create_dir_all(parent).io(parent)?;
    }
    let mut n = start;
    for _ in 0..MAX_SKIPS {
        let name = layout.entry_name(n);
        shotline_layout::check_component("version folder", &name).map_err(|e| {
            StoreError::Invalid {
                what: "version entry",
                value: name.clone(),
                expected: e.to_string(),
            }
        })?;
        let path = parent.join(&name);
        let free = if layout.creates_folder() {
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    shotline_fsio::sync_dir(parent)?;
                    true
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
                Err(e) => return Err(e).io(&path),
            }
        } else {
            match std::fs::symlink_metadata(&path) {
                Ok(_) => false,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                Err(e) => return Err(e).io(&path),
            }
        };
        if free {
            return Ok((n, path));
        }
        n = n.next().ok_or_else(|| exhausted(parent))?;
    }
    Err(exhausted(parent))
}

fn exhausted(parent: &Path) -> StoreError {
    StoreError::Invalid {
        what: "version folder",
        value: parent.display().to_string(),
        expected: format!(
            "a free version number (the next {MAX_SKIPS} are taken, or the highest possible is reached)"
        ),
    }
}

/// One more than `highest` (the first version when there is none).
pub(crate) fn after(highest: Option<VersionNumber>, parent: &Path) -> Result<VersionNumber> {
    match highest {
        None => Ok(VersionNumber::FIRST),
        Some(h) => h.next().ok_or_else(|| exhausted(parent)),
    }
}

/// The allocator for a project without a database (ingest into a bare folder tree): the same
/// numbering rule on disk alone, one more than the highest entry, claimed with `mkdir`.
pub fn allocate_on_disk(layout: &dyn VersionLayout) -> Result<DiskAllocation> {
    let start = after(highest_on_disk(layout)?, layout.parent())?;
    let (number, dir) = claim_from(layout, start)?;
    Ok(DiskAllocation { number, dir })
}

/// The highest number registered or reserved in the database for one key.
pub(crate) fn highest_in_db(
    conn: &Conn,
    path: &Path,
    item_id: i64,
    step_id: i64,
    resource: &str,
) -> Result<Option<VersionNumber>> {
    let n: Option<i64> = conn
        .prepare_cached(
            "SELECT MAX(n) FROM (
               SELECT MAX(number) AS n FROM versions
                WHERE item_id = ?1 AND step_id = ?2 AND resource = ?3
               UNION ALL
               SELECT MAX(number) FROM version_reservations
                WHERE item_id = ?1 AND step_id = ?2 AND resource = ?3) AS taken",
        )
        .and_then(|mut s| s.query_row(params![item_id, step_id, resource], |r| r.get(0)))
        .db(path)?;
    Ok(n.and_then(VersionNumber::from_i64))
}

/// The ids of the key's item and step.
pub(crate) fn key_ids(
    conn: &Conn,
    path: &Path,
    project: i64,
    key: &VersionKey,
) -> Result<(i64, i64)> {
    let kind = key.item.kind;
    let item: Option<i64> = conn
        .query_row(
            "SELECT id FROM items WHERE project_id = ?1 AND kind = ?2 AND code = ?3",
            params![project, kind.as_str(), key.item.code],
            |r| r.get(0),
        )
        .optional()
        .db(path)?;
    let item = item.ok_or_else(|| StoreError::NotFound {
        kind: if kind == ItemKind::Shot {
            "shot"
        } else {
            "asset"
        },
        name: key.item.code.clone(),
    })?;
    let step: Option<i64> = conn
        .query_row(
            "SELECT id FROM steps WHERE project_id = ?1 AND kind = ?2 AND code = ?3",
            params![project, kind.as_str(), key.step],
            |r| r.get(0),
        )
        .optional()
        .db(path)?;
    let step = step.ok_or_else(|| StoreError::NotFound {
        kind: if kind == ItemKind::Shot {
            "shot step"
        } else {
            "asset step"
        },
        name: key.step.clone(),
    })?;
    Ok((item, step))
}

/// Removes the reservation of a number that is being registered (no-op when there is none).
pub(crate) fn consume_reservation(
    conn: &Conn,
    path: &Path,
    ids: (i64, i64),
    resource: &str,
    number: i64,
) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM version_reservations
          WHERE item_id = ?1 AND step_id = ?2 AND resource = ?3 AND number = ?4",
    )
    .and_then(|mut s| s.execute(params![ids.0, ids.1, resource, number]))
    .db(path)?;
    Ok(())
}

impl Store {
    /// Takes the next version number of `key` and claims its entry in `layout`, as one
    /// crash-safe step (see the module documentation). Register the version later with
    /// `NewVersion::number = Some(allocation.number)`: that consumes the reservation.
    pub fn allocate_version(
        &mut self,
        actor: &Actor,
        key: &VersionKey,
        layout: &dyn VersionLayout,
    ) -> Result<Allocation> {
        validate::item_code("item code", &key.item.code)?;
        validate::code("step code", &key.step)?;
        validate::resource(&key.resource)?;
        let (project, path) = (self.project.id, self.path.clone());
        let tx = self.write_tx_for_versions([(
            key.item.kind,
            key.item.code.as_str(),
            key.step.as_str(),
            key.resource.as_str(),
        )])?;
        acting_user(&tx, &path, actor)?;
        let ids = key_ids(&tx, &path, project, key)?;
        let db_max = highest_in_db(&tx, &path, ids.0, ids.1, &key.resource)?;
        let disk_max = highest_on_disk(layout)?;
        let start = after(db_max.max(disk_max), layout.parent())?;
        let (number, dir) = claim_from(layout, start)?;
        crate::hooks::pause_at("allocated");
        let reservation: i64 = tx
            .query_row(
                "INSERT INTO version_reservations (item_id, item_kind, step_id, resource, number,
                   path, \"user\", host, pid, reserved_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                params![
                    ids.0,
                    key.item.kind.as_str(),
                    ids.1,
                    key.resource,
                    number.get(),
                    dir.to_string_lossy(),
                    actor.user,
                    actor.host,
                    actor.pid,
                    crate::time::now()
                ],
                |r| r.get(0),
            )
            .db(&path)?;
        let name = crate::versions::version_name(
            &key.item.code,
            &key.step,
            &key.resource,
            i64::from(number.get()),
        );
        event(
            &tx,
            &path,
            actor,
            "version.reserve",
            "version",
            None,
            &name,
            &json!({"reservation": reservation, "path": dir}),
        )?;
        tx.commit().db(&path)?;
        Ok(Allocation {
            number,
            dir,
            reservation,
        })
    }

    /// Reservations not yet consumed by a registration, oldest first.
    pub fn reservations(&self) -> Result<Vec<Reservation>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT r.id, i.code, s.code, r.resource, r.number, r.path, r.\"user\", r.host, r.pid,
                        r.reserved_at
                   FROM version_reservations r
                   JOIN items i ON i.id = r.item_id JOIN steps s ON s.id = r.step_id
                  WHERE i.project_id = ?1 ORDER BY r.reserved_at, r.id",
            )
            .db(&self.path)?;
        let rows = st
            .query_map(params![self.project.id], |r| {
                let item: String = r.get(1)?;
                let step: String = r.get(2)?;
                let resource: String = r.get(3)?;
                Ok(Reservation {
                    id: r.get(0)?,
                    version: crate::versions::version_name(&item, &step, &resource, r.get(4)?),
                    path: r.get(5)?,
                    user: r.get(6)?,
                    host: r.get(7)?,
                    pid: r.get(8)?,
                    reserved_at: r.get(9)?,
                })
            })
            .db(&self.path)?;
        rows.collect::<crate::sql::Result<_>>().db(&self.path)
    }

    /// Releases a reservation (a writer that died before registering). The number stays
    /// skipped while its folder exists on disk; it is never given to someone else while the
    /// folder is there.
    pub fn release_reservation(&mut self, actor: &Actor, id: i64) -> Result<()> {
        let path = self.path.clone();
        let found = self
            .reservations()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| StoreError::NotFound {
                kind: "reservation",
                name: id.to_string(),
            })?;
        let tx = self.write_tx()?;
        tx.execute(
            "DELETE FROM version_reservations WHERE id = ?1",
            params![id],
        )
        .db(&path)?;
        event(
            &tx,
            &path,
            actor,
            "version.release",
            "version",
            None,
            &found.version,
            &json!({"reservation": id, "path": found.path, "reserved_by": found.user,
                    "host": found.host, "pid": found.pid}),
        )?;
        tx.commit().db(&path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_allocation_skips_hand_made_and_takes_after_highest() {
        let d = tempfile::tempdir().unwrap();
        let layout = VersionFolders::plain(d.path().join("plates"));
        assert_eq!(allocate_on_disk(&layout).unwrap().number.get(), 1);
        std::fs::create_dir(d.path().join("plates/v005")).unwrap();
        std::fs::create_dir(d.path().join("plates/notes")).unwrap();
        let a = allocate_on_disk(&layout).unwrap();
        assert_eq!(a.number.get(), 6);
        assert!(a.dir.ends_with("plates/v006") && a.dir.is_dir());
    }

    #[test]
    fn number_of_needs_the_v_spelling() {
        let l = VersionFolders {
            parent: "/x".into(),
            prefix: "SH010_".into(),
            suffix: String::new(),
        };
        assert_eq!(l.number_of("SH010_v012").map(|n| n.get()), Some(12));
        assert_eq!(l.number_of("SH010_012"), None);
        assert_eq!(l.number_of("SH020_v001"), None);
    }
}
