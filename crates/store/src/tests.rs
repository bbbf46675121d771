//! Behaviour tests of the store through its public API.

use std::path::{Path, PathBuf};

use crate::testdb::{on_both, TestDb};
use crate::*;

fn project() -> NewProject {
    NewProject {
        code: "DEMO".into(),
        name: "Demo".into(),
        root: "/proj".into(),
        fps: 24.0,
        width: 1920,
        height: 1080,
        pixel_aspect: 1.0,
        start_frame: 1001,
    }
}

pub(crate) fn setup() -> (tempfile::TempDir, PathBuf, Store, Actor) {
    setup_on(TestDb::Sqlite).expect("SQLite is always there")
}

/// [`setup`] on `db`; `None` when that backend is skipped here.
pub(crate) fn setup_on(db: TestDb) -> Option<(tempfile::TempDir, PathBuf, Store, Actor)> {
    let dir = tempfile::tempdir().unwrap();
    let path = db.location(dir.path())?;
    let boss = Actor::named("boss");
    let mut s = Store::create(&path, &project(), &boss).unwrap();
    s.add_step(&boss, "COMP", ItemKind::Shot, "Compositing")
        .unwrap();
    s.add_step(&boss, "MOD", ItemKind::Asset, "Modeling")
        .unwrap();
    let shots: Vec<NewShot> = ["SH010", "SH020"]
        .iter()
        .map(|c| NewShot {
            code: c.to_string(),
            fields: ShotFields {
                frame_in: Some(1001),
                frame_out: Some(1100),
                ..Default::default()
            },
        })
        .collect();
    s.write_shots(&boss, &shots, ShotWrite::Create).unwrap();
    Some((dir, path, s, boss))
}

pub(crate) fn nv(dir: &Path, shot: &str, step: &str) -> NewVersion {
    NewVersion {
        item: ItemRef::shot(shot),
        step: step.into(),
        resource: String::new(),
        number: None,
        state: State::Wip,
        files: Files {
            dir: dir.to_string_lossy().into_owned(),
            pattern: "comp.####.exr".into(),
            first_frame: Some(1001),
            last_frame: Some(1100),
            frame_range: "1001-1100".into(),
            bytes: 100,
            file_count: 100,
            ..Default::default()
        },
        comment: "c".into(),
        source: "publish".into(),
        uses: vec![],
        tags: vec![],
    }
}

on_both! {
    fn create_refuses_existing_project(b) {
        let Some((_d, path, _s, boss)) = setup_on(b) else {
            return;
        };
        let e = Store::create(&path, &project(), &boss).unwrap_err();
        assert!(matches!(e, StoreError::Exists { .. }), "{e}");
    }
}

on_both! {
    fn batch_numbers_per_item_step_resource(b) {
        let Some((d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let mut batch = vec![nv(d.path(), "SH010", "COMP"); 3];
        batch.push(nv(d.path(), "SH020", "COMP"));
        let mut bg = nv(d.path(), "SH010", "COMP");
        bg.resource = "BG".into();
        batch.push(bg);
        let out = s.register_versions(&boss, &batch).unwrap();
        let nums: Vec<i64> = out.iter().map(|v| v.number).collect();
        assert_eq!(nums, [1, 2, 3, 1, 1]);
        let again = s.register_versions(&boss, &batch[..1]).unwrap();
        assert_eq!(again[0].number, 4);
        let latest = s
            .versions(&VersionQuery {
                latest: true,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(latest.len(), 3);
        let v = s.version(again[0].id).unwrap();
        assert_eq!(v.number, 4);
        assert_eq!(v.author, "boss");
        assert_eq!(v.files.frame_range, "1001-1100");
    }
}

on_both! {
    fn version_places_are_the_versions_without_their_history(b) {
        let Some((d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let mut batch = vec![nv(d.path(), "SH010", "COMP"); 2];
        batch.push(nv(d.path(), "SH020", "COMP"));
        s.register_versions(&boss, &batch).unwrap();
        let mut places = Vec::new();
        s.version_places_each(|p| {
            places.push(p);
            Ok::<(), StoreError>(())
        })
        .unwrap();
        places.sort_by_key(|p| p.id);
        let full = s.versions(&VersionQuery::default()).unwrap();
        assert_eq!(places.len(), full.len());
        for v in full {
            let p = places.iter().find(|p| p.id == v.id).unwrap();
            assert_eq!(
                (&p.item, &p.step, &p.resource, p.number),
                (&v.item, &v.step, &v.resource, v.number)
            );
            assert_eq!(
                (&p.dir, &p.pattern, &p.frame_range, p.fps),
                (
                    &v.files.dir,
                    &v.files.pattern,
                    &v.files.frame_range,
                    v.files.fps
                )
            );
        }
    }
}

on_both! {
    fn explicit_numbers_are_kept_and_clashes_are_typed_errors(b) {
        let Some((d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let mut v2 = nv(d.path(), "SH010", "COMP");
        v2.number = Some(2);
        let out = s
            .register_versions(&boss, &[v2.clone(), nv(d.path(), "SH010", "COMP")])
            .unwrap();
        let nums: Vec<i64> = out.iter().map(|v| v.number).collect();
        // The unnumbered version continues after the explicit one.
        assert_eq!(nums, [2, 3]);
        assert_eq!(s.version(out[0].id).unwrap().number, 2);
        // A gap may be filled explicitly.
        let mut v1 = nv(d.path(), "SH010", "COMP");
        v1.number = Some(1);
        assert_eq!(s.register_versions(&boss, &[v1]).unwrap()[0].number, 1);
        // A used number is refused, naming item, step, resource and number, and nothing is written.
        let mut bg = nv(d.path(), "SH020", "COMP");
        bg.resource = "BG".into();
        let e = s.register_versions(&boss, &[bg, v2]).unwrap_err();
        assert!(
            matches!(&e, StoreError::VersionExists { item, step, resource, number: 2 }
                if item == "SH010" && step == "COMP" && resource.is_empty()),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("SH010") && msg.contains("COMP") && msg.contains('2'),
            "{msg}"
        );
        assert_eq!(s.versions(&VersionQuery::default()).unwrap().len(), 3);
        let mut zero = nv(d.path(), "SH010", "COMP");
        zero.number = Some(0);
        assert!(matches!(
            s.register_versions(&boss, &[zero]),
            Err(StoreError::Invalid { .. })
        ));
    }
}

on_both! {
    fn a_bad_row_fails_the_whole_batch(b) {
        let Some((d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let batch = vec![nv(d.path(), "SH010", "COMP"), nv(d.path(), "SH999", "COMP")];
        let e = s.register_versions(&boss, &batch).unwrap_err();
        assert!(e.to_string().contains("SH999"), "{e}");
        assert!(s.versions(&VersionQuery::default()).unwrap().is_empty());
        // A shot step on an asset is refused too.
        let mut wrong = nv(d.path(), "SH010", "MOD");
        wrong.item = ItemRef::shot("SH010");
        assert!(s.register_versions(&boss, &[wrong]).is_err());
    }
}

on_both! {
    fn uses_and_tags_are_recorded(b) {
        let Some((d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let base = s
            .register_versions(&boss, &[nv(d.path(), "SH010", "COMP")])
            .unwrap();
        let mut v = nv(d.path(), "SH020", "COMP");
        v.uses = vec![base[0].id];
        v.tags = vec!["hero".into()];
        let out = s.register_versions(&boss, &[v.clone()]).unwrap();
        let got = s.version(out[0].id).unwrap();
        assert_eq!(got.uses, [base[0].id]);
        assert_eq!(got.tags, ["hero"]);
        assert_eq!(s.used_by(base[0].id).unwrap(), [out[0].id]);
        v.uses = vec![9999];
        assert!(s
            .register_versions(&boss, &[v])
            .unwrap_err()
            .to_string()
            .contains("9999"));
    }
}

on_both! {
    fn roles_gate_structure_and_approvals(b) {
        let Some((d, _p, mut s, _boss)) = setup_on(b) else {
            return;
        };
        let artist = Actor::named("ana");
        let e = s.add_step(&artist, "LGT", ItemKind::Shot, "").unwrap_err();
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
        // Artists publish WIP, not APPROVED.
        s.register_versions(&artist, &[nv(d.path(), "SH010", "COMP")])
            .unwrap();
        let mut appr = nv(d.path(), "SH010", "COMP");
        appr.state = State::Approved;
        assert!(s.register_versions(&artist, &[appr]).is_err());
        let change = |state| StatusChange {
            item: ItemRef::shot("SH010"),
            step: "COMP".into(),
            state: Some(state),
            assignee: Some("ana".into()),
            completion: Some(50),
            comment: String::new(),
            if_state: None,
        };
        assert_eq!(
            s.set_status(&artist, &change(State::Review)).unwrap().state,
            State::Review
        );
        let e = s.set_status(&artist, &change(State::Approved)).unwrap_err();
        assert!(e.to_string().contains("needs lead"), "{e}");
        let boss = Actor::named("boss");
        s.set_role(&boss, "lea", Role::Lead).unwrap();
        let lead = Actor::named("lea");
        // FINAL only after APPROVED.
        assert!(s.set_status(&lead, &change(State::Final)).is_err());
        s.set_status(&lead, &change(State::Approved)).unwrap();
        // An artist cannot undo an approval.
        assert!(s.set_status(&artist, &change(State::Wip)).is_err());
        // A FINAL version needs the task approved: refused before, accepted now.
        let mut fin = nv(d.path(), "SH020", "COMP");
        fin.state = State::Final;
        let e = s.register_versions(&lead, &[fin.clone()]).unwrap_err();
        assert!(e.to_string().contains("APPROVED first"), "{e}");
        fin.item = ItemRef::shot("SH010");
        assert_eq!(
            s.register_versions(&lead, &[fin]).unwrap()[0].state,
            State::Final
        );
        let st = s.set_status(&lead, &change(State::Final)).unwrap();
        assert_eq!((st.state, st.updated_by.as_str()), (State::Final, "lea"));
        // The last admin cannot be demoted; a lead cannot grant roles.
        assert!(s.set_role(&boss, "boss", Role::Lead).is_err());
        assert!(s.set_role(&lead, "ana", Role::Lead).is_err());
    }
}

on_both! {
    fn a_status_change_against_a_stale_state_is_refused_and_writes_nothing(b) {
        let Some((_d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let change = |state, if_state| StatusChange {
            item: ItemRef::shot("SH010"),
            step: "COMP".into(),
            state: Some(state),
            assignee: None,
            completion: None,
            comment: String::new(),
            if_state,
        };
        // A task with no status row yet is TODO.
        s.set_status(&boss, &change(State::Wip, Some(State::Todo)))
            .unwrap();
        s.set_status(&boss, &change(State::Review, Some(State::Wip)))
            .unwrap();
        let events = s.events(&EventQuery::default()).unwrap().len();
        // Someone looked while it was WIP; it is REVIEW now.
        let e = s
            .set_status(&boss, &change(State::Retake, Some(State::Wip)))
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::StatusChanged(c)
                if c.expected == "WIP" && c.found == "REVIEW" && c.by == "boss"),
            "{e}"
        );
        assert!(e.to_string().contains("SH010 COMP is REVIEW (set by boss"), "{e}");
        assert_eq!(s.statuses(Some("SH010")).unwrap()[0].state, State::Review);
        assert_eq!(s.events(&EventQuery::default()).unwrap().len(), events);
        // Without the check the change is made whatever the state.
        s.set_status(&boss, &change(State::Retake, None)).unwrap();
        assert_eq!(s.statuses(Some("SH010")).unwrap()[0].state, State::Retake);
    }
}

on_both! {
    fn events_record_every_change(b) {
        let Some((d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        s.register_versions(&boss, &[nv(d.path(), "SH010", "COMP")])
            .unwrap();
        let ev = s.events(&EventQuery::default()).unwrap();
        let actions: Vec<&str> = ev.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "project.create",
                "step.create",
                "step.create",
                "shot.create",
                "shot.create",
                "version.publish"
            ]
        );
        let only = s
            .events(&EventQuery {
                entity: Some("SH010".into()),
                action: Some("version.".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].entity, "SH010 COMP v001");
        let future = s
            .events(&EventQuery {
                since: Some("2999-01-01T00:00:00.000000Z".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(future.is_empty());
    }
}

on_both! {
    fn shot_upsert_and_diff(b) {
        let Some((_d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let rows = vec![
            NewShot {
                code: "SH010".into(),
                fields: ShotFields {
                    frame_out: Some(1200),
                    sequence: Some("SQ01".into()),
                    ..Default::default()
                },
            },
            NewShot {
                code: "SH020".into(),
                fields: ShotFields::default(),
            },
            NewShot {
                code: "SH030".into(),
                fields: ShotFields::default(),
            },
        ];
        let sum = s.write_shots(&boss, &rows, ShotWrite::Upsert).unwrap();
        assert_eq!(sum.created, ["SH030"]);
        assert_eq!(sum.updated, ["SH010"]);
        assert_eq!(sum.unchanged, ["SH020"]);
        let sh = s.shot("SH010").unwrap();
        assert_eq!((sh.frame_out, sh.sequence.as_deref()), (1200, Some("SQ01")));
        assert_eq!(s.shots(Some("SQ01")).unwrap().len(), 1);
        // Inverted range rejected, nothing written.
        let bad = NewShot {
            code: "SH010".into(),
            fields: ShotFields {
                frame_in: Some(2000),
                ..Default::default()
            },
        };
        assert!(s.write_shots(&boss, &[bad], ShotWrite::Update).is_err());
        assert_eq!(s.shot("SH010").unwrap().frame_in, 1001);
    }
}

on_both! {
    fn publish_writes_manifest_and_never_overwrites(b) {
        let Some((d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let v = s.publish(&boss, nv(d.path(), "SH010", "COMP")).unwrap();
        let m = manifest_path(&v).unwrap();
        assert_eq!(m.file_name().unwrap(), "SH010_COMP_v001.publish.json");
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
        assert_eq!(json["version"]["number"], 1);
        assert_eq!(json["shotline_manifest"], 1);
        // A manifest already at v002's name (published before a restore): the number is skipped,
        // the file untouched.
        std::fs::write(d.path().join("SH010_COMP_v002.publish.json"), "mine").unwrap();
        let v3 = s.publish(&boss, nv(d.path(), "SH010", "COMP")).unwrap();
        assert_eq!(v3.number, 3);
        assert_eq!(
            std::fs::read_to_string(d.path().join("SH010_COMP_v002.publish.json")).unwrap(),
            "mine"
        );
        // Any entry holding a manifest name (even a dangling link) is stepped over, never
        // written through.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(
                d.path().join("nowhere"),
                d.path().join("SH010_COMP_v004.publish.json"),
            )
            .unwrap();
            let v5 = s.publish(&boss, nv(d.path(), "SH010", "COMP")).unwrap();
            assert_eq!(v5.number, 5);
        }
        // If the manifest cannot be written (the folder of the files is gone), the version is
        // recorded, the error says so, and db check reports it.
        let gone = d.path().join("gone");
        let e = s.publish(&boss, nv(&gone, "SH010", "COMP")).unwrap_err();
        assert!(e.to_string().contains("was recorded"), "{e}");
        let c = s.check().unwrap();
        assert!(c.orphans.iter().any(|o| o.contains("v006")), "{c:?}");
    }
}

#[test]
fn backup_restore_and_check() {
    let (d, path, mut s, boss) = setup();
    s.publish(&boss, nv(d.path(), "SH010", "COMP")).unwrap();
    let bak = d.path().join("backup.db");
    s.backup(&bak).unwrap();
    assert!(s.backup(&bak).is_err(), "backup must not overwrite");
    s.publish(&boss, nv(d.path(), "SH010", "COMP")).unwrap();
    assert_eq!(s.versions(&VersionQuery::default()).unwrap().len(), 2);
    // A corrupt backup is refused and the live DB is untouched.
    let junk = d.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, definitely not").unwrap();
    assert!(s.restore(&boss, &junk).is_err());
    assert_eq!(s.versions(&VersionQuery::default()).unwrap().len(), 2);
    // An artist may not restore.
    assert!(s.restore(&Actor::named("ana"), &bak).is_err());
    let r = s.restore(&boss, &bak).unwrap();
    assert!(Path::new(&r.previous).is_file());
    assert_eq!(s.versions(&VersionQuery::default()).unwrap().len(), 1);
    // Other connections see the restored content.
    let other = Store::open_read_only(&path, 1000).unwrap();
    assert_eq!(other.versions(&VersionQuery::default()).unwrap().len(), 1);
    let c = other.check().unwrap();
    assert!(!c.has_problems(), "{c:?}");
    // Remove a manifest: check reports it.
    std::fs::remove_file(d.path().join("SH010_COMP_v001.publish.json")).unwrap();
    assert!(other.check().unwrap().has_problems());
}

on_both! {
    fn locks_exclude_others_until_expiry(b) {
        let Some((_d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let mut other = boss.clone();
        other.pid += 1;
        s.acquire_lock(&boss, "shot/SH010/COMP", 60).unwrap();
        let e = s.acquire_lock(&other, "shot/SH010/COMP", 60).unwrap_err();
        assert!(matches!(e, StoreError::Locked { .. }), "{e}");
        s.acquire_lock(&boss, "shot/SH010/COMP", 60).unwrap();
        assert!(s.release_lock(&boss, "shot/SH010/COMP").unwrap());
        s.acquire_lock(&other, "shot/SH010/COMP", 60).unwrap();
        assert_eq!(s.locks().unwrap()[0].owner, other.owner());
    }
}

on_both! {
    fn concurrent_writers_get_distinct_numbers(b) {
        let Some((d, path, _s, _boss)) = setup_on(b) else {
            return;
        };
        let dir = d.path().to_path_buf();
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (path, dir) = (path.clone(), dir.clone());
                std::thread::spawn(move || {
                    let mut s = Store::open(&path, 30_000).unwrap();
                    let a = Actor::named(&format!("w{i}"));
                    (0..10)
                        .map(|_| {
                            s.register_versions(&a, &[nv(&dir, "SH010", "COMP")])
                                .unwrap()[0]
                                .number
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<i64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort();
        assert_eq!(all, (1..=60).collect::<Vec<_>>());
    }
}

#[test]
fn published_versions_are_immutable_in_the_schema() {
    let (d, path, mut s, boss) = setup();
    s.register_versions(&boss, &[nv(d.path(), "SH010", "COMP")])
        .unwrap();
    let c = connect(&path).unwrap();
    assert!(c.execute("UPDATE versions SET number = 7", []).is_err());
    assert!(c.execute("DELETE FROM versions", []).is_err());
    assert!(c
        .execute("UPDATE versions SET state = 'REVIEW'", [])
        .is_ok());
    // Duplicate numbers are impossible even through raw SQL.
    let dup = c.execute(
        "INSERT INTO versions (item_id, item_kind, step_id, resource, number, state, files_id, author_id, created_at)
         SELECT item_id, item_kind, step_id, resource, number, state, files_id, author_id, created_at FROM versions",
        [],
    );
    assert!(dup.is_err());
}

#[test]
fn backup_is_consistent_while_another_process_writes() {
    let (d, path, s, _boss) = setup();
    let dir = d.path().to_path_buf();
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let mut w = Store::open(&writer_path, 30_000).unwrap();
        let a = Actor::named("w");
        for _ in 0..40 {
            w.register_versions(&a, &[nv(&dir, "SH010", "COMP"), nv(&dir, "SH020", "COMP")])
                .unwrap();
        }
    });
    let mut sizes = Vec::new();
    for i in 0..5 {
        let bak = d.path().join(format!("b{i}.db"));
        s.backup(&bak).unwrap();
        let b = Store::open_read_only(&bak, 1000).unwrap();
        assert!(!b.check().unwrap().has_problems());
        // Each snapshot holds whole transactions: both shots have the same count.
        let all = b.versions(&VersionQuery::default()).unwrap();
        let sh10 = all.iter().filter(|v| v.item.code == "SH010").count();
        assert_eq!(sh10 * 2, all.len());
        sizes.push(all.len());
    }
    writer.join().unwrap();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
}

on_both! {
    fn tracker_trait_is_object_safe_and_backed_by_the_store(b) {
        let Some((d, _p, s, boss)) = setup_on(b) else {
            return;
        };
        let mut t: Box<dyn Tracker> = Box::new(s);
        assert_eq!(t.project().unwrap().code, "DEMO");
        assert_eq!(t.shots(None).unwrap().len(), 2);
        assert_eq!(t.steps(Some(ItemKind::Asset)).unwrap()[0].code, "MOD");
        let v = t.publish(&boss, nv(d.path(), "SH020", "COMP")).unwrap();
        assert_eq!(t.version(v.id).unwrap().number, 1);
        let q = VersionQuery {
            item: Some("SH020".into()),
            ..Default::default()
        };
        assert_eq!(t.versions(&q).unwrap().len(), 1);
        assert!(t.assets(None).unwrap().is_empty());
        assert!(!t.events(&EventQuery::default()).unwrap().is_empty());
    }
}

on_both! {
    /// The database itself refuses to rewrite history: events are append-only and a published
    /// version can be neither changed nor deleted, whatever client writes to it.
    fn schema_enforces_append_only_events_and_immutable_versions(b) {
        let Some((d, _path, mut s, boss)) = setup_on(b) else {
            return;
        };
        s.register_versions(&boss, &[nv(d.path(), "SH010", "COMP")])
            .unwrap();
        let c = &s.conn;
        let refused = |sql: &str, needle: &str| {
            let e = c.execute(sql, crate::sql::params![]).unwrap_err();
            assert!(e.to_string().contains(needle), "{sql}: {e}");
        };
        refused("UPDATE events SET \"user\" = 'x'", "append-only");
        refused("DELETE FROM events", "append-only");
        refused("UPDATE versions SET bytes = 1", "cannot be changed");
        refused("DELETE FROM versions", "cannot be deleted");
        if b == TestDb::Postgres {
            refused("TRUNCATE events", "append-only");
        }
        // State and comment may still change.
        c.execute("UPDATE versions SET comment = 'ok'", crate::sql::params![])
            .unwrap();
    }
}

on_both! {
    /// A database written by a newer shotline is refused, never written into.
    fn newer_schema_is_refused(b) {
        let Some((_d, path, s, _boss)) = setup_on(b) else {
            return;
        };
        s.conn
            .execute(
                "INSERT INTO store_migrations (version, name, applied_at) VALUES (?1, 'future', 'x')",
                crate::sql::params![SCHEMA_VERSION + 1],
            )
            .unwrap();
        drop(s);
        let e = Store::open(&path, 1000).unwrap_err();
        assert!(matches!(e, StoreError::NewerSchema { .. }), "{e}");
        assert!(e.to_string().contains("upgrade shotline"), "{e}");
        let e = Store::open_read_only(&path, 1000).unwrap_err();
        assert!(matches!(e, StoreError::NewerSchema { .. }), "{e}");
    }
}

on_both! {
    fn a_batch_larger_than_one_statement_keeps_order_ids_links_and_events(b) {
        let Some((d, _p, mut s, boss)) = setup_on(b) else {
            return;
        };
        let base = s
            .register_versions(&boss, &[nv(d.path(), "SH020", "COMP")])
            .unwrap()
            .remove(0);
        // 1,201 rows cross two chunk boundaries; an explicit number in the middle splits a run;
        // two folders, one existing tag and one new tag, and a dependency on an earlier version.
        let mut batch = Vec::new();
        for i in 0..1201 {
            let mut v = nv(&d.path().join(format!("f{}", i % 2)), "SH010", "COMP");
            v.resource = format!("R{}", i % 3);
            v.tags = vec![format!("t{}", i % 2)];
            v.uses = vec![base.id];
            if i == 700 {
                v.resource = "X".into();
                v.number = Some(9);
            }
            batch.push(v);
        }
        s.register_versions(&boss, &[{
            let mut t = nv(d.path(), "SH020", "COMP");
            t.tags = vec!["t0".into()];
            t
        }])
        .unwrap();
        let out = s.register_versions(&boss, &batch).unwrap();
        assert_eq!(out.len(), 1201);
        assert!(out.windows(2).all(|w| w[0].id < w[1].id), "ids follow batch order");
        assert_eq!((out[700].resource.as_str(), out[700].number), ("X", 9));
        // R0 has no explicit number: numbered 1..=401 without a gap across the chunks.
        let r0: Vec<i64> = out.iter().filter(|v| v.resource == "R0").map(|v| v.number).collect();
        assert_eq!(r0, (1..=401).collect::<Vec<_>>());
        // An explicit number already taken names its version, and the batch writes nothing.
        let before = s.versions(&VersionQuery::default()).unwrap().len();
        let mut late = batch[..600].to_vec();
        late[550].resource = "R0".into();
        late[550].number = Some(5);
        let e = s.register_versions(&boss, &late).unwrap_err();
        assert!(
            matches!(&e, StoreError::VersionExists { resource, number: 5, .. } if resource == "R0"),
            "{e:?}"
        );
        assert_eq!(s.versions(&VersionQuery::default()).unwrap().len(), before);
        for v in [&out[0], &out[699], &out[700], &out[1200]] {
            let stored = s.version(v.id).unwrap();
            assert_eq!(
                (&stored.resource, stored.number, &stored.files.dir, &stored.tags, &stored.uses),
                (&v.resource, v.number, &v.files.dir, &v.tags, &v.uses)
            );
        }
        let events = s
            .events(&EventQuery {
                action: Some("version.publish".into()),
                ..Default::default()
            })
            .unwrap();
        let batch_events: Vec<_> = events.iter().filter(|e| e.entity_id >= Some(out[0].id)).collect();
        assert_eq!(batch_events.len(), 1201);
        assert!(batch_events
            .iter()
            .zip(&out)
            .all(|(e, v)| e.entity_id == Some(v.id)));
    }
}
