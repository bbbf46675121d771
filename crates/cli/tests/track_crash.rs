//! Crash safety of publishing at exact points: a publish killed (SIGKILL) at each pause point
//! leaves a consistent database and a manifest that is complete or absent. The pause points
//! exist only in a build with the `test-hooks` feature (`scripts/test.sh` enables it).
#![cfg(feature = "test-hooks")]

mod track_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use track_support::{check_consistent, publish_process, Project};

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
