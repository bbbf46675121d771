//! Concurrency and crash safety of publishing, with real processes: eight publishers at once
//! never share a version number or lose a record, and a publish killed at a random moment
//! leaves a consistent database (kills at exact points: `track_crash.rs`).

mod track_support;

use std::process::Child;
use std::time::Duration;

use serde_json::Value;
use track_support::{check_consistent, publish_process, Project};

#[test]
fn eight_concurrent_publishers_get_distinct_numbers() {
    for p in Project::on_both() {
        eight_publishers(&p);
    }
}

/// 8 `shotline publish` processes at once into SH010 COMP: numbers 1..8, no duplicate, no gap.
fn eight_publishers(p: &Project) {
    let dir = p.frames("comp", 1001..=1005);
    let kids: Vec<Child> = (0..8)
        .map(|i| publish_process(p, &format!("artist{i}"), &dir, &[]))
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
    assert_eq!(check_consistent(p, &dir), (1..=8).collect::<Vec<_>>());
    let ev = p.lines("x", &["log", "--action", "version.publish"]);
    assert_eq!(ev.len(), 8, "one audit event per publish");
}

/// `db check --json`, which exits 1 when a manifest is missing: parse it either way.
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
