//! The allocator under concurrency and crashes: threads, processes, hand-made folders.

use std::path::Path;

use crate::testdb::on_both;
use crate::tests::{nv, setup_on};
use crate::*;

fn key(step: &str) -> VersionKey {
    VersionKey {
        item: ItemRef::shot("SH010"),
        step: step.into(),
        resource: String::new(),
    }
}

/// Allocates one number and registers it, as ingest does.
fn allocate_and_register(s: &mut Store, a: &Actor, plates: &Path) -> i64 {
    let layout = VersionFolders::plain(plates);
    let got = s.allocate_version(a, &key("COMP"), &layout).unwrap();
    let mut v = nv(&got.dir, "SH010", "COMP");
    v.number = Some(i64::from(got.number.get()));
    v.source = "ingest".into();
    s.register_versions(a, &[v]).unwrap()[0].number
}

on_both! {
    fn publish_and_allocation_from_threads_never_share_a_number(b) {
        let Some((d, path, _s, _boss)) = setup_on(b) else {
            return;
        };
        let plates = d.path().join("plates");
        let renders = d.path().join("renders");
        std::fs::create_dir_all(&renders).unwrap();
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (path, plates, renders) = (path.clone(), plates.clone(), renders.clone());
                std::thread::spawn(move || {
                    let mut s = Store::open(&path, 30_000).unwrap();
                    let a = Actor::named(&format!("w{i}"));
                    (0..8)
                        .map(|_| {
                            if i % 2 == 0 {
                                allocate_and_register(&mut s, &a, &plates)
                            } else {
                                s.publish(&a, nv(&renders, "SH010", "COMP")).unwrap().number
                            }
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
        assert_eq!(all, (1..=48).collect::<Vec<_>>());
        let s = Store::open(&path, 30_000).unwrap();
        assert!(s.reservations().unwrap().is_empty(), "all consumed");
    }
}

/// Child mode of the process test: allocate a few numbers into `$ALLOC_CHILD_DB` and print them.
#[test]
fn alloc_child() {
    let (Some(db), Some(plates)) = (
        std::env::var_os("ALLOC_CHILD_DB"),
        std::env::var_os("ALLOC_CHILD_PLATES"),
    ) else {
        return;
    };
    let mut s = Store::open(Path::new(&db), 30_000).unwrap();
    let a = Actor::named("child");
    for _ in 0..5 {
        let n = allocate_and_register(&mut s, &a, Path::new(&plates));
        println!("ALLOCATED {n}");
    }
}

on_both! {
    fn allocation_from_processes_never_shares_a_number(b) {
        let Some((d, path, _s, _boss)) = setup_on(b) else {
            return;
        };
        let plates = d.path().join("plates");
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..4)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args(["--exact", "tests_allocate::alloc_child", "--nocapture"])
                    .env("ALLOC_CHILD_DB", &path)
                    .env("ALLOC_CHILD_PLATES", &plates)
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut all: Vec<i64> = Vec::new();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            let text = String::from_utf8(out.stdout).unwrap();
            all.extend(
                text.lines()
                    .filter_map(|l| l.strip_prefix("ALLOCATED "))
                    .map(|n| n.trim().parse::<i64>().unwrap()),
            );
        }
        all.sort();
        assert_eq!(all, (1..=20).collect::<Vec<_>>());
    }
}

on_both! {
    fn a_crash_after_mkdir_leaves_a_folder_that_is_skipped(b) {
        let Some((d, _path, mut s, boss)) = setup_on(b) else {
            return;
        };
        let plates = d.path().join("plates");
        assert_eq!(allocate_and_register(&mut s, &boss, &plates), 1);
        // What a writer killed between its mkdir and its commit leaves: an empty v002, no row.
        std::fs::create_dir(plates.join("v002")).unwrap();
        assert_eq!(allocate_and_register(&mut s, &boss, &plates), 3);
        assert!(std::fs::read_dir(plates.join("v002"))
            .unwrap()
            .next()
            .is_none());
    }
}

on_both! {
    fn a_hand_made_folder_is_never_reused_and_numbering_continues_after_it(b) {
        let Some((d, _path, mut s, boss)) = setup_on(b) else {
            return;
        };
        let plates = d.path().join("plates");
        std::fs::create_dir_all(plates.join("v007")).unwrap();
        std::fs::write(plates.join("v007/mine.txt"), "x").unwrap();
        assert_eq!(allocate_and_register(&mut s, &boss, &plates), 8);
        assert_eq!(
            std::fs::read_to_string(plates.join("v007/mine.txt")).unwrap(),
            "x"
        );
    }
}

on_both! {
    fn reservations_count_for_registration_and_are_releasable(b) {
        let Some((d, _path, mut s, boss)) = setup_on(b) else {
            return;
        };
        let plates = d.path().join("plates");
        let got = s
            .allocate_version(&boss, &key("COMP"), &VersionFolders::plain(&plates))
            .unwrap();
        assert_eq!(got.number.get(), 1);
        // Someone registering without a number meanwhile goes past the reserved one.
        let v = s
            .register_versions(&boss, &[nv(d.path(), "SH010", "COMP")])
            .unwrap();
        assert_eq!(v[0].number, 2);
        let listed = s.reservations().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].version, "SH010 COMP v001");
        s.release_reservation(&boss, listed[0].id).unwrap();
        assert!(s.reservations().unwrap().is_empty());
        assert!(s.release_reservation(&boss, listed[0].id).is_err());
    }
}

on_both! {
    fn resource_and_step_with_underscore_never_share_a_manifest_or_skip_numbers(b) {
        let Some((d, _path, mut s, boss)) = setup_on(b) else {
            return;
        };
        s.add_step(&boss, "COMP_BG", ItemKind::Shot, "").unwrap();
        let mut bg = nv(d.path(), "SH010", "COMP");
        bg.resource = "BG".into();
        let a = s.publish(&boss, bg.clone()).unwrap();
        let b = s.publish(&boss, nv(d.path(), "SH010", "COMP_BG")).unwrap();
        let c = s.publish(&boss, bg).unwrap();
        assert_eq!((a.number, b.number, c.number), (1, 1, 2));
        assert_ne!(a.manifest, b.manifest);
        assert!(a
            .manifest
            .unwrap()
            .ends_with("SH010_COMP+BG_v001.publish.json"));
    }
}

on_both! {
    fn frame_ranges_are_stored_normalised_and_bad_ones_refused(b) {
        let Some((d, _path, mut s, boss)) = setup_on(b) else {
            return;
        };
        let mut v = nv(d.path(), "SH010", "COMP");
        v.files.frame_range = "1001,1002,1003,1005".into();
        v.files.missing_frames = "1004".into();
        let got = s.register_versions(&boss, &[v.clone()]).unwrap();
        assert_eq!(got[0].files.frame_range, "1001-1003,1005");
        let listed = s.version(got[0].id).unwrap();
        assert_eq!(listed.files.frame_range, "1001-1003,1005");
        v.files.frame_range = "1001-x".into();
        let e = s.register_versions(&boss, &[v]).unwrap_err();
        assert!(e.to_string().contains("frame range"), "{e}");
    }
}

/// Child mode of the publisher test: publish a few versions into `$PUBLISH_CHILD_DB`.
#[test]
fn publish_child() {
    let (Some(db), Some(dir)) = (
        std::env::var_os("PUBLISH_CHILD_DB"),
        std::env::var_os("PUBLISH_CHILD_DIR"),
    ) else {
        return;
    };
    let mut s = Store::open(Path::new(&db), 60_000).unwrap();
    let a = Actor::named(&format!("p{}", std::process::id()));
    for _ in 0..PUBLISHES_PER_PROCESS {
        let v = s.publish(&a, nv(Path::new(&dir), "SH010", "COMP")).unwrap();
        println!("PUBLISHED {}", v.number);
    }
}

const PUBLISHERS: usize = 8;
const PUBLISHES_PER_PROCESS: usize = 10;

on_both! {
    /// 8 processes publish into the same shot × step at once: every number from 1 to 8 × N
    /// is handed out exactly once (no duplicate, no gap), on either backend.
    fn concurrent_publishers_in_processes_get_every_number_once(b) {
        let Some((d, path, _s, _boss)) = setup_on(b) else {
            return;
        };
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..PUBLISHERS)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args(["--exact", "tests_allocate::publish_child", "--nocapture"])
                    .env("PUBLISH_CHILD_DB", &path)
                    .env("PUBLISH_CHILD_DIR", d.path())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut all: Vec<i64> = Vec::new();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            let text = String::from_utf8(out.stdout).unwrap();
            all.extend(
                text.lines()
                    .filter_map(|l| l.strip_prefix("PUBLISHED "))
                    .map(|n| n.trim().parse::<i64>().unwrap()),
            );
        }
        all.sort();
        let n = i64::try_from(PUBLISHERS * PUBLISHES_PER_PROCESS).unwrap();
        assert_eq!(all, (1..=n).collect::<Vec<_>>());
    }
}

/// On PostgreSQL, writers of different version keys do not wait for each other; writers of the
/// same key, and store-wide writers, do.
#[test]
fn publishers_of_different_shots_do_not_wait_for_each_other_on_postgres() {
    let Some((d, path, mut holder, boss)) = setup_on(crate::testdb::TestDb::Postgres) else {
        return;
    };
    for f in ["a", "b"] {
        std::fs::create_dir(d.path().join(f)).unwrap();
    }
    // A short lock_timeout turns "would wait" into an error instead of a hang.
    let mut other = Store::open(&path, 300).unwrap();
    let held = holder
        .write_tx_for_versions([(ItemKind::Shot, "SH010", "COMP", "")])
        .unwrap();
    let got = other.publish(&boss, nv(&d.path().join("b"), "SH020", "COMP"));
    assert_eq!(
        got.unwrap().number,
        1,
        "another shot publishes while SH010 is held"
    );
    let same = other.publish(&boss, nv(&d.path().join("a"), "SH010", "COMP"));
    assert!(waited(&same), "the same key waits: {same:?}");
    let wide = other.write_shots(
        &boss,
        &[NewShot {
            code: "SH030".into(),
            fields: ShotFields::default(),
        }],
        ShotWrite::Create,
    );
    assert!(
        waited(&wide),
        "a store-wide writer waits for keyed ones: {wide:?}"
    );
    drop(held);
    let after = other.publish(&boss, nv(&d.path().join("a"), "SH010", "COMP"));
    assert_eq!(after.unwrap().number, 1);
    // And the other way: a store-wide writer holds off every keyed writer.
    let mut wide_holder = Store::open(&path, 300).unwrap();
    let held = wide_holder.write_tx().unwrap();
    let blocked = other.publish(&boss, nv(&d.path().join("b"), "SH020", "COMP"));
    assert!(waited(&blocked), "{blocked:?}");
    drop(held);
    assert_eq!(
        other
            .publish(&boss, nv(&d.path().join("b"), "SH020", "COMP"))
            .unwrap()
            .number,
        2
    );
}

#[test]
fn version_lock_keys_are_stable_across_builds() {
    // Hosts running different builds must agree on the key: a changed hash would let two of
    // them publish the same version key at once. Pinned values.
    let k = crate::sql::version_lock_key("shot", "SH010", "COMP", "");
    assert_eq!(k, crate::sql::version_lock_key("shot", "SH010", "COMP", ""));
    assert_ne!(
        k,
        crate::sql::version_lock_key("shot", "SH010", "COMP", "BG")
    );
    assert_ne!(
        crate::sql::version_lock_key("shot", "SH01", "0COMP", ""),
        crate::sql::version_lock_key("shot", "SH010", "COMP", "")
    );
    assert_eq!(k, PINNED_SH010_COMP);
}

/// FNV-1a 64 of `shot\0SH010\0COMP\0\0`, computed independently.
const PINNED_SH010_COMP: i64 = -1_142_484_901_347_987_956;

/// Whether `r` failed by waiting for a lock past the connection's lock_timeout.
fn waited<T: std::fmt::Debug>(r: &Result<T>) -> bool {
    matches!(r, Err(e) if e.to_string().contains("lock timeout"))
}
