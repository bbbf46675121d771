//! The project model end to end: the tracking database, the layout and the one version
//! allocator working together across commands and processes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use serde_json::Value;
use shotline_media::testdata::{write_exr_sequence, ExrSpec};

fn exr_seq(dir: &Path, head: &str, frames: std::ops::RangeInclusive<i64>, seed: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let mut spec = ExrSpec::rgba(64, 48);
    spec.seed = seed;
    write_exr_sequence(dir, head, 4, frames, &spec).unwrap();
}

/// Runs `shotline` in `project` and asserts it succeeded.
fn sh(project: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::cargo_bin("shotline")
        .unwrap()
        .current_dir(project)
        .env("SHOTLINE_USER", "tester")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A project with shot SQ010/SH020 (cut 1001-1010) and step PLATE.
fn project_with_shot(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    sh(
        root,
        &["init", "--code", "DEMO", "--width", "64", "--height", "48"],
    );
    sh(
        root,
        &[
            "shot",
            "add",
            "SH020",
            "--sequence",
            "SQ010",
            "--in",
            "1001",
            "--out",
            "1010",
        ],
    );
    sh(root, &["step", "add", "PLATE", "--kind", "shot"]);
}

/// Several publishes and ingests of the same shot/step at once: every version number is taken
/// by the one allocator, so they are all distinct, and every ingested folder carries the number
/// its version is registered under (no clash, no renumbering).
#[test]
fn concurrent_publish_and_ingest_of_one_shot_step_never_share_a_number() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("p");
    project_with_shot(&project);
    let bin = assert_cmd::cargo::cargo_bin("shotline");
    let mut children = Vec::new();
    for i in 0..4u32 {
        let d = tmp.path().join(format!("delivery{i}"));
        exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1003, 10 + i);
        let pubs = tmp.path().join(format!("pub{i}"));
        exr_seq(&pubs, "SQ010_SH020_plate_v001.", 1001..=1002, 20 + i);
        let pattern = pubs.join("SQ010_SH020_plate_v001.%04d.exr");
        let spawn = |args: Vec<String>| {
            StdCommand::new(&bin)
                .current_dir(&project)
                .env("SHOTLINE_USER", "tester")
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        children.push((
            "ingest",
            spawn(vec![
                "ingest".into(),
                "--json".into(),
                "--no-thumbnails".into(),
                d.display().to_string(),
            ]),
        ));
        children.push((
            "publish",
            spawn(vec![
                "publish".into(),
                "--shot".into(),
                "SH020".into(),
                "--step".into(),
                "PLATE".into(),
                "--force".into(),
                pattern.display().to_string(),
            ]),
        ));
    }
    for (what, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{what}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = sh(&project, &["versions", "ls", "--json"]);
    let versions: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["item"]["code"] == "SH020")
        .collect();
    assert_eq!(versions.len(), 8, "{versions:#?}");
    let numbers: BTreeSet<i64> = versions
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=8).collect(), "{versions:#?}");
    for v in versions.iter().filter(|v| v["source"] == "ingest") {
        let n = v["number"].as_i64().unwrap();
        let dir = v["files"]["dir"].as_str().unwrap();
        assert!(dir.ends_with(&format!("/v{n:03}")), "{v:#}");
        assert!(
            v["files"]["pattern"]
                .as_str()
                .unwrap()
                .contains(&format!("_v{n:03}.")),
            "{v:#}"
        );
    }
    // Every reservation was consumed by its registration.
    let out = sh(&project, &["db", "check", "--json"]);
    let check: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check["reservations"], serde_json::json!([]), "{check:#}");
}
