//! Store benchmark (run by `bench/store.sh`): batch registration against a naive
//! one-transaction-per-row loop, listing 100,000 versions against an N+1 listing, and eight
//! concurrent publisher processes. Prints one JSON object per measurement and a summary table.
//!
//! `cargo run --release -p shotline-store --example store_bench -- [DIR]`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use shotline_store::{
    Actor, Files, ItemKind, ItemRef, NewProject, NewShot, NewVersion, ShotFields, ShotWrite, State,
    Store, VersionQuery,
};

const SHOTS: usize = 100;
const BATCH: usize = 10_000;
const NAIVE: usize = 2_000;
const LIST: usize = 100_000;
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

fn fresh(dir: &Path, name: &str) -> (PathBuf, Store) {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let boss = Actor::named("bench");
    let mut s = Store::create(
        &path,
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
    (path, s)
}

fn report(name: &str, n: usize, secs: f64, extra: &str) {
    println!(
        "{{\"bench\":\"{name}\",\"items\":{n},\"seconds\":{secs:.4},\"per_second\":{:.0}{extra}}}",
        n as f64 / secs
    );
}

fn publisher(db: &Path, dir: &Path, id: usize) {
    let mut s = Store::open(db, 120_000).expect("open");
    let a = Actor::named(&format!("pub{id}"));
    for _ in 0..PER_PUBLISHER {
        let mut v = new_version(0, dir);
        v.item = ItemRef::shot("SH0000");
        v.source = "publish".into();
        s.publish(&a, v).expect("publish");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--publisher") {
        let (db, dir, id) = (&args[2], &args[3], &args[4]);
        publisher(Path::new(db), Path::new(dir), id.parse().unwrap_or(0));
        return;
    }
    let dir = args
        .get(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("shotline-store-bench"));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let actor = Actor::named("bench");

    // 1. 10,000 versions in one batch vs one transaction per row.
    let (_, mut s) = fresh(&dir, "batch.db");
    let batch: Vec<NewVersion> = (0..BATCH).map(|i| new_version(i, &dir)).collect();
    let t = Instant::now();
    s.register_versions(&actor, &batch).expect("batch");
    let batch_secs = t.elapsed().as_secs_f64();
    report("register_batch", BATCH, batch_secs, "");
    let (_, mut naive) = fresh(&dir, "naive.db");
    let t = Instant::now();
    for v in batch.iter().take(NAIVE) {
        naive
            .register_versions(&actor, std::slice::from_ref(v))
            .expect("row");
    }
    let naive_secs = t.elapsed().as_secs_f64();
    report("register_naive_per_row_tx", NAIVE, naive_secs, "");
    let reg_ratio = (BATCH as f64 / batch_secs) / (NAIVE as f64 / naive_secs);

    // 2. List 100,000 versions: one streaming query vs N+1 (ids, then one query each).
    let (list_db, mut s) = fresh(&dir, "list.db");
    for chunk in 0..LIST / BATCH {
        let b: Vec<NewVersion> = (chunk * BATCH..(chunk + 1) * BATCH)
            .map(|i| new_version(i, &dir))
            .collect();
        s.register_versions(&actor, &b).expect("fill");
    }
    let q = VersionQuery::default();
    let t = Instant::now();
    let mut n = 0usize;
    let mut ids = Vec::with_capacity(LIST);
    s.versions_each(&q, |v| {
        n += 1;
        ids.push(v.id);
        Ok::<(), shotline_store::StoreError>(())
    })
    .expect("list");
    let list_secs = t.elapsed().as_secs_f64();
    report("list_versions", n, list_secs, "");
    let t = Instant::now();
    for id in &ids {
        s.version(*id).expect("one");
    }
    let n1_secs = t.elapsed().as_secs_f64();
    report("list_versions_n_plus_1", ids.len(), n1_secs, "");
    let t = Instant::now();
    let latest = s
        .versions(&VersionQuery {
            latest: true,
            ..Default::default()
        })
        .expect("latest");
    report("list_latest", latest.len(), t.elapsed().as_secs_f64(), "");

    // 3. Eight publisher processes × 200 publishes (each: own transaction + manifest).
    let (pub_db, _) = fresh(&dir, "publish.db");
    let pub_dir = dir.join("publish_frames");
    let _ = std::fs::remove_dir_all(&pub_dir);
    std::fs::create_dir_all(&pub_dir).expect("dir");
    let exe = std::env::current_exe().expect("exe");
    let t = Instant::now();
    let kids: Vec<_> = (0..PUBLISHERS)
        .map(|i| {
            Command::new(&exe)
                .arg("--publisher")
                .arg(&pub_db)
                .arg(&pub_dir)
                .arg(i.to_string())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().expect("wait").success(), "a publisher failed");
    }
    let conc_secs = t.elapsed().as_secs_f64();
    let check = Store::open_read_only(&pub_db, 10_000).expect("open");
    let mut numbers: Vec<i64> = check
        .versions(&VersionQuery::default())
        .expect("versions")
        .iter()
        .map(|v| v.number)
        .collect();
    numbers.sort();
    let total = PUBLISHERS * PER_PUBLISHER;
    let distinct = numbers == (1..=total as i64).collect::<Vec<_>>();
    report(
        "concurrent_publish_8x200",
        total,
        conc_secs,
        &format!(",\"distinct_numbers\":{distinct}"),
    );
    // Baseline: one publisher doing the same count sequentially.
    let (seq_db, _) = fresh(&dir, "publish_seq.db");
    let seq_dir = dir.join("publish_seq_frames");
    let _ = std::fs::remove_dir_all(&seq_dir);
    std::fs::create_dir_all(&seq_dir).expect("dir");
    let t = Instant::now();
    for i in 0..PUBLISHERS {
        let ok = Command::new(&exe)
            .arg("--publisher")
            .arg(&seq_db)
            .arg(&seq_dir)
            .arg(i.to_string())
            .status()
            .expect("spawn")
            .success();
        assert!(ok);
    }
    let seq_secs = t.elapsed().as_secs_f64();
    report("sequential_publish_1x1600", total, seq_secs, "");

    eprintln!();
    eprintln!("{:<44} {:>12} {:>10}", "measurement", "per second", "ratio");
    eprintln!(
        "{:<44} {:>12.0} {:>9.1}x",
        "register 10,000 in one batch",
        BATCH as f64 / batch_secs,
        reg_ratio
    );
    eprintln!(
        "{:<44} {:>12.0} {:>10}",
        "  naive: one transaction per row",
        NAIVE as f64 / naive_secs,
        "1.0x"
    );
    eprintln!(
        "{:<44} {:>12.0} {:>9.1}x",
        "list 100,000 versions (one query, streamed)",
        n as f64 / list_secs,
        n1_secs / list_secs
    );
    eprintln!(
        "{:<44} {:>12.0} {:>10}",
        "  naive: N+1 queries",
        ids.len() as f64 / n1_secs,
        "1.0x"
    );
    eprintln!(
        "{:<44} {:>12.0} {:>9.2}x",
        format!("8 publisher processes x 200 (distinct: {distinct})"),
        total as f64 / conc_secs,
        seq_secs / conc_secs
    );
    eprintln!(
        "{:<44} {:>12.0} {:>10}",
        "  one publisher x 1600",
        total as f64 / seq_secs,
        "1.0x"
    );
    assert!(
        distinct,
        "concurrent publishers shared or lost version numbers"
    );
    println!("{{\"list_db\":{:?}}}", list_db.to_string_lossy());
}
