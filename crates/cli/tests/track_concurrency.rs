//! Concurrency and crash safety of publishing, with real processes: eight publishers at once
//! never share a version number or lose a record, and a publish killed at any point leaves a
//! consistent database and a manifest that is complete or absent.

mod track_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use track_support::Project;

fn publish_process(p: &Project, user: &str, dir: &Path, env: &[(&str, &Path)]) -> Child {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("shotline"));
    c.current_dir(p.root())
        .env("NO_COLOR", "1")
        .env("SHOTLINE_USER", user)
        .env_remove("SHOTLINE_CONFIG")
        .env_remove("SHOTLINE_DB")
        .env_remove("SHOTLINE_TEST_PAUSE_AT")
        .args(["publish", "--shot", "SH010", "--step", "COMP", "--json"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Every manifest in `dir` parses completely and names a version the database has; returns
/// the manifest numbers.
fn check_consistent(p: &Project, dir: &Path) -> Vec<i64> {
    let check = db_check(p);
    assert_eq!(check["integrity"], serde_json::json!(["ok"]), "{check}");
    assert_eq!(check["foreign_keys"], serde_json::json!([]), "{check}");
    let versions = p.lines("x", &["versions", "ls"]);
    let mut numbers: Vec<i64> = versions
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=numbers.len() as i64).collect::<Vec<_>>(),
        "numbers are dense"
    );
    let mut manifests = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".publish.json") {
            let m: Value = serde_json::from_slice(&std::fs::read(dir.join(&name)).unwrap())
                .unwrap_or_else(|e| panic!("{name} is not complete JSON: {e}"));
            let n = m["version"]["number"].as_i64().unwrap();
            assert!(numbers.contains(&n), "{name} names a version the DB lacks");
            manifests.push(n);
        }
    }
    manifests.sort();
    manifests
}

#[test]
fn eight_concurrent_publishers_get_distinct_numbers() {
    let p = Project::new();
    let dir = p.frames("comp", 1001..=1005);
    let kids: Vec<Child> = (0..8)
        .map(|i| publish_process(&p, &format!("artist{i}"), &dir, &[]))
        .collect();
    let mut numbers = Vec::new();
    for k in kids {
        let out = k.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        numbers.push(v["version"]["number"].as_i64().unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    assert_eq!(check_consistent(&p, &dir), (1..=8).collect::<Vec<_>>());
    let ev = p.lines("x", &["log", "--action", "version.publish"]);
    assert_eq!(ev.len(), 8, "one audit event per publish");
}

/// `db check --json`, which exits 1 when a manifest is missing: parse it either way.
fn db_check(p: &Project) -> Value {
    let out = p.cmd("x").args(["db", "check", "--json"]).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn wait_for(file: &Path) {
    let start = Instant::now();
    while !file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "publish never reached the pause point"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killed_publish_leaves_consistent_state_at_every_step() {
    let p = Project::new();
    let dir = p.frames("comp", 1001..=1005);
    let mut expected_versions = 0;
    for (i, point) in ["before-commit", "after-commit", "manifest-written"]
        .iter()
        .enumerate()
    {
        let flag: PathBuf = p.root().join(format!("paused-{i}"));
        let mut k = publish_process(
            &p,
            "ana",
            &dir,
            &[
                ("SHOTLINE_TEST_PAUSE_AT", Path::new(point)),
                ("SHOTLINE_TEST_PAUSE_FILE", &flag),
            ],
        );
        wait_for(&flag);
        k.kill().unwrap(); // SIGKILL
        k.wait().unwrap();
        if *point != "before-commit" {
            expected_versions += 1;
        }
        let manifests = check_consistent(&p, &dir);
        assert!(
            manifests.is_empty(),
            "{point}: no manifest may appear: {manifests:?}"
        );
        assert_eq!(
            p.lines("x", &["versions", "ls"]).len(),
            expected_versions,
            "{point}"
        );
    }
    // Publishing goes on normally afterwards, with the next free number.
    let out = publish_process(&p, "ana", &dir, &[])
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"]["number"], 3);
    assert_eq!(check_consistent(&p, &dir), [3]);
    // The versions whose publish was killed after the commit are reported by db check.
    let err = p.fails("x", &["db", "check"], 1);
    assert!(err.contains("v001") || err.contains("manifest"), "{err}");
}

#[test]
fn kills_at_random_moments_never_corrupt() {
    let p = Project::new();
    let dir = p.frames("comp", 1001..=1005);
    // Deterministic "random" delays spread over a publish's lifetime.
    for delay_ms in [0u64, 15, 40, 80, 150] {
        let mut k = publish_process(&p, "ana", &dir, &[]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = k.kill();
        k.wait().unwrap();
        check_consistent(&p, &dir);
    }
}
