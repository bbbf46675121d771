//! End-to-end ingest tests that need the test hooks of `shotline-ingest` (a throttled copy, a
//! kill at a chosen point): built only with `--features shotline/test-hooks`, which the test
//! script always passes.
#![cfg(feature = "test-hooks")]

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use shotline_media::testdata::{write_exr_sequence, ExrCompression, ExrSpec};
use support::{assert_mhl_ok, env, files_in, ingest, ok, shotline_std, snapshot};

/// Waits (bounded) until `ready` holds, polling the filesystem the test watches.
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The partial (temp) copy in `dir` once one exists and is still short of `full` bytes by at
/// least one throttled chunk.
fn partial_copy(dir: &Path, full: u64) -> bool {
    dir.is_dir()
        && files_in(dir).iter().any(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".shotline-partial.")
                && std::fs::metadata(p).is_ok_and(|m| m.len() + (64 << 10) <= full)
        })
}

#[test]
fn sigkill_mid_copy_then_rerun_resumes() {
    // Small durability batches (2 frames) so some frames are final when the kill comes.
    let e = env("  batch_mib: 1\n");
    let d = e.root.join("delivery");
    std::fs::create_dir_all(&d).unwrap();
    let spec = ExrSpec::rgba(256, 256).compression(ExrCompression::None);
    write_exr_sequence(&d, "SQ010_SH020_plate_v001.", 4, 1001..=1008, &spec).unwrap();
    let before = snapshot(&d);
    let dir = e.project.join("shots/SQ010/SH020/PLATE/v001");
    let mut child = shotline_std(&e.project)
        .env("SHOTLINE_INGEST_TEST_THROTTLE_MS", "80")
        .args(["ingest", "-q", "--threads", "2"])
        .arg(&d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let full = std::fs::metadata(d.join("SQ010_SH020_plate_v001.1001.exr"))
        .unwrap()
        .len();
    // At least one frame final and another half written (a throttled chunk still to go).
    wait_for("a final frame and a partial one", || {
        let finals = dir.is_dir()
            && files_in(&dir).iter().any(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.ends_with(".exr") && !n.starts_with('.')
            });
        finals && partial_copy(&dir, full)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // No partial file under a final name: every final file equals its source.
    let mut finals = 0;
    let mut partials = 0;
    for p in files_in(&dir) {
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        if n.starts_with(".shotline-partial.") {
            partials += 1;
            continue;
        }
        if !n.ends_with(".exr") {
            continue; // the thumbnail, made while copying
        }
        let frame = n.rsplit('.').nth(1).unwrap();
        let src = d.join(format!("SQ010_SH020_plate_v001.{frame}.exr"));
        assert_eq!(
            std::fs::read(&src).unwrap(),
            std::fs::read(&p).unwrap(),
            "{n}"
        );
        finals += 1;
    }
    assert!(
        partials >= 1 && (1..8).contains(&finals),
        "{finals} {partials}"
    );
    assert!(
        !dir.join("ascmhl").exists(),
        "MHL written for an incomplete version"
    );

    // Re-run the same command: resumes into the same version, skipping verified files.
    let (code, r, err) = ingest(&e, &[], &[d.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}\n{r:#}");
    assert_eq!(r["resumed"], true);
    assert!(!r["cleaned_temp_files"].as_array().unwrap().is_empty());
    assert!(r["totals"]["files_resumed"].as_u64().unwrap() >= 1);
    assert_eq!(r["versions_created"][0]["version"], 1);
    assert!(!e.project.join("shots/SQ010/SH020/PLATE/v002").exists());
    for f in 1001..=1008 {
        let src = d.join(format!("SQ010_SH020_plate_v001.{f}.exr"));
        let dst = dir.join(format!("SQ010_SH020_PLATE_v001.{f}.exr"));
        assert_eq!(std::fs::read(&src).unwrap(), std::fs::read(&dst).unwrap());
    }
    assert!(files_in(&dir).iter().all(|p| !p
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(".shotline-partial")));
    assert_mhl_ok(&dir);
    assert_eq!(before, snapshot(&d), "the delivery was modified");
}

#[test]
fn a_source_rewritten_in_place_during_the_copy_fails_its_clip() {
    let e = env("");
    let d = e.root.join("delivery");
    std::fs::create_dir_all(&d).unwrap();
    let spec = ExrSpec::rgba(256, 256).compression(ExrCompression::None);
    write_exr_sequence(&d, "SQ010_SH020_plate_v001.", 4, 1001..=1001, &spec).unwrap();
    let src = d.join("SQ010_SH020_plate_v001.1001.exr");
    let full = std::fs::metadata(&src).unwrap().len();
    let dir = e.project.join("shots/SQ010/SH020/PLATE/v001");
    let child = shotline_std(&e.project)
        .env("SHOTLINE_INGEST_TEST_THROTTLE_MS", "40")
        .args(["ingest", "--json", "--no-thumbnails"])
        .arg(&d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("a partial copy", || partial_copy(&dir, full));
    // Rewrite the source in place, same size, other bytes (a render still writing it).
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&src).unwrap();
        f.write_all_at(&vec![0x5a; full as usize], 0).unwrap();
    }
    assert_eq!(std::fs::metadata(&src).unwrap().len(), full);
    let out = child.wait_with_output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{r:#}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = &r["plan"]["clips"][0];
    assert_eq!(c["status"], "failed", "{c:#}");
    assert!(
        c["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["code"] == "copy"
                && i["message"]
                    .as_str()
                    .unwrap()
                    .contains("changed while it was being copied")),
        "{c:#}"
    );
    assert!(r["versions_created"].as_array().unwrap().is_empty());
    assert!(
        !dir.join("SQ010_SH020_PLATE_v001.1001.exr").exists(),
        "a copy of a changing source got a final name"
    );
    assert!(!dir.join("ascmhl").exists());
}

#[test]
fn a_kill_right_after_registration_resumes_without_a_false_clash() {
    let e = env("");
    let sh = |args: &[&str]| {
        ok(&e.project, args);
    };
    std::fs::remove_file(e.project.join("shotline.yaml")).unwrap();
    sh(&["init", "--code", "DEMO", "--width", "64", "--height", "48"]);
    let mut cfg = std::fs::read_to_string(e.project.join("shotline.yaml")).unwrap();
    cfg.push_str("\ningest:\n  reserve_mib: 0\n");
    std::fs::write(e.project.join("shotline.yaml"), cfg).unwrap();
    sh(&["shot", "add", "SH020", "--sequence", "SQ010"]);
    sh(&["step", "add", "PLATE", "--kind", "shot"]);
    let d = e.root.join("delivery");
    std::fs::create_dir_all(&d).unwrap();
    write_exr_sequence(
        &d,
        "SQ010_SH020_plate_v001.",
        4,
        1001..=1002,
        &ExrSpec::rgba(64, 48),
    )
    .unwrap();
    let delivery = d.to_str().unwrap();
    let (code, _, _) = ingest(
        &e,
        &[("SHOTLINE_INGEST_TEST_KILL_AT", "after-registration")],
        &[delivery],
    );
    assert_eq!(code, -1, "killed by SIGKILL");
    let (code, r, err) = ingest(&e, &[], &[delivery]);
    assert_eq!(code, 0, "{err}\n{r:#}");
    assert_eq!(r["versions_created"][0]["registered"], true, "{r:#}");
    let ledger = std::fs::read_to_string(e.project.join(".shotline/ingest/ledger.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), 1, "{ledger}");
    assert!(ledger.contains("\"registered\":true"), "{ledger}");
    let (code, r, err) = ingest(&e, &[], &[delivery]);
    assert_eq!(code, 0, "{err}\n{r:#}");
    assert_eq!(r["plan"]["clips"][0]["status"], "already_ingested");
}
