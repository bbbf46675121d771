//! SQLite vs PostgreSQL (run by `bench/pg.sh`): a 10,000-version batch registration and eight
//! concurrent publisher processes × 200 publishes (all to one shot: every publish contends for
//! the same next number; then each to its own shot: on PostgreSQL they take different keyed
//! locks and commit side by side), on each backend in the same run. Prints one
//! JSON object per measurement and a summary with PostgreSQL/SQLite ratios.
//!
//! `cargo run --release -p shotline-store --example pg_bench -- DIR postgres://…/postgres`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use shotline_store::target::PgTarget;
use shotline_store::{
    Actor, Files, ItemKind, ItemRef, NewProject, NewShot, NewVersion, ShotFields, ShotWrite, State,
    Store, VersionQuery,
};

const SHOTS: usize = 100;
const BATCH: usize = 10_000;
const PUBLISHERS: usize = 8;
const PER_PUBLISHER: usize = 200;

fn new_version(i: usize, dir: &Path) -> NewVersion {
    NewVersion {
        item: ItemRef::shot(format!("SH{:04}", i % SHOTS)),
        step: "COMP".into(),
        resource: String::new(),
        number: None,
        state: State::Wip,
        files: Files {
            dir: dir.to_string_lossy().into_owned(),
            pattern: format!("comp_{i}.%04d.exr"),
            first_frame: Some(1001),
            last_frame: Some(1100),
            frame_range: "1001-1100".into(),
            width: Some(1920),
            height: Some(1080),
            fps: Some(24.0),
            bytes: 1 << 30,
            file_count: 100,
            ..Files::default()
        },
        comment: "bench".into(),
        source: "ingest".into(),
        uses: vec![],
        tags: vec![],
    }
}

/// A fresh database: a SQLite file in `dir`, or a new database on the PostgreSQL server.
fn location(dir: &Path, pg: Option<&PgTarget>, name: &str) -> PathBuf {
    match pg {
        None => {
            let p = dir.join(format!("{name}.db"));
            let _ = std::fs::remove_file(&p);
            p
        }
        Some(t) => {
            let db = format!("bench_{name}_{}", std::process::id());
            PathBuf::from(
                t.create_database(&db, Duration::from_secs(60))
                    .expect("createdb")
                    .url,
            )
        }
    }
}

fn fresh(path: &Path, dir: &Path) -> Store {
    let boss = Actor::named("bench");
    let mut s = Store::create(
        path,
        &NewProject {
            code: "BENCH".into(),
            name: "Bench".into(),
            root: dir.to_string_lossy().into_owned(),
            fps: 24.0,
            width: 1920,
            height: 1080,
            pixel_aspect: 1.0,
            start_frame: 1001,
        },
        &boss,
    )
    .expect("create");
    s.add_step(&boss, "COMP", ItemKind::Shot, "").expect("step");
    let shots: Vec<NewShot> = (0..SHOTS)
        .map(|i| NewShot {
            code: format!("SH{i:04}"),
            fields: ShotFields::default(),
        })
        .collect();
    s.write_shots(&boss, &shots, ShotWrite::Create)
        .expect("shots");
    s
}

fn publisher(db: &Path, dir: &Path, id: usize, own_shot: bool) {
    let mut s = Store::open(db, 120_000).expect("open");
    let a = Actor::named(&format!("pub{id}"));
    let shot = if own_shot { id } else { 0 };
    for _ in 0..PER_PUBLISHER {
        let mut v = new_version(0, dir);
        v.item = ItemRef::shot(format!("SH{shot:04}"));
        v.source = "publish".into();
        s.publish(&a, v).expect("publish");
    }
}

/// Seconds for one batch registration of `BATCH` versions.
fn batch(dir: &Path, pg: Option<&PgTarget>, label: &str) -> f64 {
    let actor = Actor::named("bench");
    let db = location(dir, pg, &format!("{label}_batch"));
    let mut s = fresh(&db, dir);
    let batch: Vec<NewVersion> = (0..BATCH).map(|i| new_version(i, dir)).collect();
    let t = Instant::now();
    s.register_versions(&actor, &batch).expect("batch");
    let secs = t.elapsed().as_secs_f64();
    println!("{{\"bench\":\"register_batch\",\"backend\":\"{label}\",\"items\":{BATCH},\"seconds\":{secs:.4}}}");
    secs
}

/// (seconds, numbers distinct and gap-free per shot) for `PUBLISHERS` processes publishing
/// `PER_PUBLISHER` versions each: all to one shot, or each to its own shot.
fn publishers(dir: &Path, pg: Option<&PgTarget>, label: &str, own_shot: bool) -> (f64, bool) {
    let case = if own_shot { "own_shot" } else { "one_shot" };
    let db = location(dir, pg, &format!("{label}_publish_{case}"));
    drop(fresh(&db, dir));
    let frames = dir.join(format!("{label}_{case}_frames"));
    let _ = std::fs::remove_dir_all(&frames);
    std::fs::create_dir_all(&frames).expect("dir");
    let exe = std::env::current_exe().expect("exe");
    let t = Instant::now();
    let kids: Vec<_> = (0..PUBLISHERS)
        .map(|i| {
            Command::new(&exe)
                .arg("--publisher")
                .arg(&db)
                .arg(&frames)
                .arg(i.to_string())
                .arg(case)
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().expect("wait").success(), "a publisher failed");
    }
    let secs = t.elapsed().as_secs_f64();
    let check = Store::open_read_only(&db, 10_000).expect("open");
    let mut numbers: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for v in check.versions(&VersionQuery::default()).expect("versions") {
        numbers.entry(v.item.code).or_default().push(v.number);
    }
    let per_shot = if own_shot {
        PER_PUBLISHER
    } else {
        PUBLISHERS * PER_PUBLISHER
    };
    let distinct = numbers.values_mut().all(|n| {
        n.sort();
        *n == (1..=per_shot as i64).collect::<Vec<_>>()
    }) && numbers.values().map(Vec::len).sum::<usize>()
        == PUBLISHERS * PER_PUBLISHER;
    let total = PUBLISHERS * PER_PUBLISHER;
    println!("{{\"bench\":\"concurrent_publish_8x200_{case}\",\"backend\":\"{label}\",\"items\":{total},\"seconds\":{secs:.4},\"distinct_numbers\":{distinct}}}");
    (secs, distinct)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--publisher") {
        let (db, dir, id) = (&args[2], &args[3], &args[4]);
        let own_shot = args.get(5).map(String::as_str) == Some("own_shot");
        publisher(
            Path::new(db),
            Path::new(dir),
            id.parse().unwrap_or(0),
            own_shot,
        );
        return;
    }
    let dir = PathBuf::from(args.get(1).expect("usage: pg_bench DIR POSTGRES_URL"));
    let pg = PgTarget::parse(args.get(2).expect("usage: pg_bench DIR POSTGRES_URL")).expect("url");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let (sb, pb) = (
        batch(&dir, None, "sqlite"),
        batch(&dir, Some(&pg), "postgres"),
    );
    let total = (PUBLISHERS * PER_PUBLISHER) as f64;
    eprintln!();
    eprintln!(
        "{:<52} {:>10} {:>12} {:>9}",
        "measurement", "SQLite/s", "PostgreSQL/s", "PG/SQLite"
    );
    eprintln!(
        "{:<52} {:>10.0} {:>12.0} {:>8.2}x",
        "register 10,000 versions in one batch",
        BATCH as f64 / sb,
        BATCH as f64 / pb,
        sb / pb
    );
    let mut ok = true;
    for own_shot in [false, true] {
        let (sp, sd) = publishers(&dir, None, "sqlite", own_shot);
        let (pp, pd) = publishers(&dir, Some(&pg), "postgres", own_shot);
        ok &= sd && pd;
        let case = if own_shot {
            "each its own shot"
        } else {
            "all one shot"
        };
        eprintln!(
            "{:<52} {:>10.0} {:>12.0} {:>8.2}x",
            format!("8 publishers x 200, {case} (distinct: {sd}/{pd})"),
            total / sp,
            total / pp,
            sp / pp
        );
    }
    assert!(ok, "publishers shared or lost version numbers");
}
