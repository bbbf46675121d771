//! End-to-end tests of `shotline ingest` on deliveries of real EXR/DPX/movie files generated in a
//! temp dir: matching and EDL mapping, unmatched/colliding/truncated clips, already-ingested
//! content, concurrent ingests of one shot, unsafe path values, odd file names, links, huge frame
//! gaps. Tests that need the test hooks (a kill at a chosen point, a throttled copy) are in
//! `ingest_hooks.rs`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use shotline_media::testdata::{truncate_file, write_dpx, DpxSpec};
use support::{
    all_files, assert_mhl_ok, clip, dpx_seq, env, exr_count, exr_seq, files_in, ingest, json,
    json_lines, ok, project_with_shot, run, shotline, shotline_std, snapshot,
};

/// A real half-second H.264 movie at `path`; false when ffmpeg cannot make one.
fn movie(path: &Path) -> bool {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=64x48:rate=24")
        .args(["-t", "0.5", "-pix_fmt", "yuv420p"])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn dry_run_plans_matches_and_writes_nothing() {
    let e = env("");
    let d = e.root.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v003.", 1001..=1004, 1);
    dpx_seq(&d.join("SQ030"), "SH040_bg01.", 1..=3);
    let has_movie = movie(&d.join("A001C003_230101_R1AB.mov"));
    std::fs::write(d.join("readme.txt"), b"notes").unwrap();
    let (code, r, err) = ingest(&e, &[], &[d.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, 1, "unmatched clips are problems: {err}");
    assert_eq!(r["schema"], "shotline.ingest/1");
    assert_eq!(r["dry_run"], true);
    let exr = clip(&r, "SQ010_SH020_plate_v003.####.exr");
    assert_eq!(exr["status"], "planned");
    assert_eq!(exr["match"]["id"]["sequence"], "SQ010");
    assert_eq!(exr["match"]["id"]["shot"], "SH020");
    assert_eq!(exr["match"]["id"]["vendor_version"], 3);
    assert_eq!(exr["files_count"], 4);
    let dpx = clip(&r, "SQ030/SH040_bg01.####.dpx");
    assert_eq!(
        dpx["match"]["id"]["sequence"], "SQ030",
        "parent folder as sequence"
    );
    assert_eq!(dpx["match"]["id"]["resource"], "bg01");
    if has_movie {
        let cam = clip(&r, "A001C003_230101_R1AB.mov");
        assert_eq!(
            cam["status"], "unmatched",
            "camera originals are never guessed"
        );
    }
    assert_eq!(clip(&r, "readme.txt")["status"], "unmatched");
    let versions = r["plan"]["versions"].as_array().unwrap();
    assert!(versions.iter().any(|v| v["dir"]
        .as_str()
        .unwrap()
        .ends_with("shots/SQ010/SH020/PLATE/v001")));
    assert!(!e.project.join("shots").exists(), "dry run wrote files");
    assert!(!e.project.join(".shotline").exists(), "dry run wrote state");

    // The human table.
    let out = shotline(&e.project)
        .args(["ingest", "--dry-run", d.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CLIP") && text.contains("DESTINATION"),
        "{text}"
    );
    assert!(text.contains("SQ010/SH020/PLATE"), "{text}");
}

#[test]
fn ingest_copies_verifies_and_records_everything() {
    let e = env("");
    let d = e.root.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v003.", 1001..=1005, 7);
    // In a folder sorting after the plate, so the plate is the first version.
    let has_movie = movie(&d.join("zz_camera/A001C003_230101_R1AB.mov"));
    let before = snapshot(&d);
    let mut args = vec![d.to_str().unwrap().to_string()];
    if has_movie {
        args.push("--override".into());
        args.push("A001C003_230101_R1AB.mov=SQ010/SH020".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, r, err) = ingest(&e, &[], &args);
    assert_eq!(code, 0, "{err}\n{r:#}");
    // One version per clip: the movie of the same shot is the next version.
    let versions = 1 + usize::from(has_movie);
    assert_eq!(r["versions_created"].as_array().unwrap().len(), versions);
    let v = &r["versions_created"][0];
    assert_eq!(v["version"], 1);
    let dir = PathBuf::from(v["dir"].as_str().unwrap());
    assert_eq!(dir, e.project.join("shots/SQ010/SH020/PLATE/v001"));
    // Every copy is byte-identical with the source mtime.
    for f in 1001..=1005 {
        let src = d.join(format!("SQ010_SH020_plate_v003.{f}.exr"));
        let dst = dir.join(format!("SQ010_SH020_PLATE_v001.{f}.exr"));
        assert_eq!(std::fs::read(&src).unwrap(), std::fs::read(&dst).unwrap());
        assert_eq!(
            std::fs::metadata(&src).unwrap().modified().unwrap(),
            std::fs::metadata(&dst).unwrap().modified().unwrap()
        );
    }
    if has_movie {
        assert!(e
            .project
            .join("shots/SQ010/SH020/PLATE/v002/SQ010_SH020_PLATE_v002.mov")
            .is_file());
    }
    // Sidecar keyed by file name, thumbnail PNG, MHL verified by the reference tool.
    let side: Value =
        serde_json::from_slice(&std::fs::read(dir.join("_ramses_data.json")).unwrap()).unwrap();
    assert_eq!(side["SQ010_SH020_PLATE_v001.1003.exr"]["version"], 1);
    let png = std::fs::read(dir.join("_thumbnail.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(v["mhl"].as_str().unwrap().contains("/ascmhl/0001_v001_"));
    assert_mhl_ok(&dir);
    // Ledger and saved reports.
    let ledger = std::fs::read_to_string(e.project.join(".shotline/ingest/ledger.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), versions);
    let saved = r["saved"].as_array().unwrap();
    assert!(saved
        .iter()
        .all(|p| Path::new(p.as_str().unwrap()).is_file()));
    let html = std::fs::read_to_string(saved[1].as_str().unwrap()).unwrap();
    assert!(html.contains("SQ010/SH020/PLATE"));
    // No temp files left, the delivery untouched, the job state gone.
    assert!(files_in(&dir).iter().all(|p| !p
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(".shotline-partial")));
    assert_eq!(before, snapshot(&d), "the delivery was modified");
    let jobs = e.project.join(".shotline/ingest/jobs");
    for j in std::fs::read_dir(&jobs).unwrap() {
        assert!(!j.unwrap().path().join("state.json").exists());
    }

    // Same content again: skipped as already ingested, no new version, exit 0.
    let (code, r2, err) = ingest(&e, &[], &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        clip(&r2, "SQ010_SH020_plate_v003.####.exr")["status"],
        "already_ingested"
    );
    assert!(r2["versions_created"].as_array().unwrap().is_empty());
    assert_eq!(
        e.project.join("shots/SQ010/SH020/PLATE/v002").exists(),
        has_movie
    );

    // A new delivery of the same shot with new content becomes the next version; v001 is
    // untouched.
    let d2 = e.root.join("delivery2");
    exr_seq(&d2, "SQ010_SH020_plate_v004.", 1001..=1002, 99);
    let v1_before = snapshot(&dir);
    let (code, r3, err) = ingest(&e, &[], &[d2.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(r3["versions_created"][0]["version"], versions + 1);
    assert_eq!(
        v1_before,
        snapshot(&dir),
        "a published version was modified"
    );
}

#[test]
fn edl_maps_camera_originals_and_ramses_template() {
    let e = env("");
    let d = e.root.join("cam");
    exr_seq(&d, "A001C003_230101_R1AB.", 86400..=86402, 3);
    exr_seq(&d, "B002C001_230101_R2CD.", 1..=2, 4);
    let edl = e.root.join("cut.edl");
    std::fs::write(
        &edl,
        "TITLE: CUT\nFCM: NON-DROP FRAME\n\n\
001  A001C003 V     C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00\n\
* FROM CLIP NAME: A001C003_230101_R1AB\n\
* COMMENT: SH050\n",
    )
    .unwrap();
    let (code, r, err) = ingest(
        &e,
        &[],
        &[
            d.to_str().unwrap(),
            "--edl",
            edl.to_str().unwrap(),
            "--template",
            "ramses",
            "--hash",
            "md5",
        ],
    );
    assert_eq!(
        code, 1,
        "the clip missing from the EDL stays unmatched: {err}"
    );
    let a = clip(&r, "A001C003_230101_R1AB.#####.exr");
    assert_eq!(a["status"], "ingested", "{a:#}");
    assert_eq!(a["match"]["by"]["by"], "edl");
    assert_eq!(a["match"]["by"]["line"], 4);
    assert_eq!(
        clip(&r, "B002C001_230101_R2CD.####.exr")["status"],
        "unmatched"
    );
    let dir = e
        .project
        .join("05-SHOTS/DEMO_S_SH050/DEMO_S_SH050_PLATE/_published/001");
    assert!(dir.join("DEMO_S_SH050_PLATE.86401.exr").is_file());
    let mhl = std::fs::read_dir(dir.join("ascmhl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "mhl"))
        .unwrap();
    assert!(std::fs::read_to_string(mhl)
        .unwrap()
        .contains("<md5 action=\"original\""));
    assert_mhl_ok(&dir);
}

#[test]
fn two_clips_of_one_shot_are_two_versions_and_truncated_frames_are_blocked() {
    let e = env("");
    let d = e.root.join("delivery");
    // Two vendor versions of one plate: each is a version of its own, never one version with
    // the other's pattern and file count.
    exr_seq(&d, "SQ010_SH020_plate_v003.", 1001..=1002, 1);
    exr_seq(&d, "SQ010_SH020_plate_v004.", 1001..=1002, 2);
    // A cut transfer.
    exr_seq(&d, "SQ010_SH030_plate_v001.", 1001..=1004, 3);
    let cut = d.join("SQ010_SH030_plate_v001.1003.exr");
    let len = std::fs::metadata(&cut).unwrap().len();
    truncate_file(&cut, len / 2).unwrap();
    // A healthy clip still goes through.
    dpx_seq(&d, "SQ010_SH040_plate_v001.", 1..=2);
    let (code, r, err) = ingest(&e, &[], &[d.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    for (k, v) in [
        ("SQ010_SH020_plate_v003.####.exr", "v001"),
        ("SQ010_SH020_plate_v004.####.exr", "v002"),
    ] {
        assert_eq!(clip(&r, k)["status"], "ingested", "{r:#}");
        let dir = e.project.join("shots/SQ010/SH020/PLATE").join(v);
        assert_eq!(exr_count(&dir), 2, "{v}");
    }
    let t = clip(&r, "SQ010_SH030_plate_v001.####.exr");
    assert_eq!(t["status"], "blocked");
    let issue = t["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "truncated")
        .expect("truncated issue");
    assert!(
        issue["message"].as_str().unwrap().contains("1003"),
        "{issue}"
    );
    assert_eq!(
        clip(&r, "SQ010_SH040_plate_v001.####.dpx")["status"],
        "ingested"
    );
    assert!(!e.project.join("shots/SQ010/SH030").exists());
}

#[test]
fn concurrent_ingests_of_one_shot_get_different_versions() {
    let e = env("");
    let mut children = Vec::new();
    for i in 0..2 {
        let d = e.root.join(format!("delivery{i}"));
        exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1006, 10 + i);
        children.push(
            shotline_std(&e.project)
                .args(["ingest", "--json", "-q"])
                .arg(&d)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    let mut versions = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        versions.push(r["versions_created"][0]["version"].as_u64().unwrap());
    }
    versions.sort();
    assert_eq!(versions, vec![1, 2]);
    for v in ["v001", "v002"] {
        let dir = e.project.join("shots/SQ010/SH020/PLATE").join(v);
        assert_eq!(exr_count(&dir), 6);
        assert_mhl_ok(&dir);
    }
}

#[test]
fn bad_input_is_a_usage_error() {
    let e = env("");
    let d = e.root.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", 1..=2, 1);
    let (code, _, err) = ingest(&e, &[], &[e.root.join("missing").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing"), "{err}");
    let (code, _, err) = ingest(&e, &[], &[d.to_str().unwrap(), "--override", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("--override"), "{err}");
    let (code, _, err) = ingest(&e, &[], &[d.to_str().unwrap(), "--hash", "crc32"]);
    assert_eq!(code, 2);
    assert!(err.contains("crc32"), "{err}");
    let edl = e.root.join("bad.edl");
    std::fs::write(&edl, "TITLE: X\n001  A001 V C 01:00:00:00\n").unwrap();
    let (code, _, err) = ingest(
        &e,
        &[],
        &[d.to_str().unwrap(), "--edl", edl.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("line 2"), "{err}");
    let bad = env("  rules:\n    - pattern: \"(unclosed\"\n");
    exr_seq(&bad.root.join("d"), "SQ010_SH020_plate_v001.", 1..=2, 1);
    let (code, _, err) = ingest(&bad, &[], &[bad.root.join("d").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("rule 1"), "{err}");
    // Nothing was written anywhere.
    assert!(!e.project.join("shots").exists());
}

#[test]
fn registers_versions_in_the_tracking_database() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("p");
    let sh = |args: &[&str]| ok(&project, args);
    project_with_shot(&project);
    let d = tmp.path().join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v003.", 1001..=1003, 5);
    // A shot the database does not know: nothing registered, files still safe on disk.
    exr_seq(&d, "SQ010_SH999_plate_v001.", 1..=2, 6);
    let (code, r) = json(
        &project,
        &[
            "ingest",
            "--json",
            d.to_str().unwrap(),
            "--override",
            "SQ010_SH999_plate_v001=SQ010/SH999",
        ],
    );
    assert_eq!(code, Some(1), "an unregistered version is a problem: {r:#}");
    assert_eq!(r["versions_created"].as_array().unwrap().len(), 2);
    assert!(r["versions_created"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["registered"] == false));
    assert!(r["plan"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["code"] == "registration" && i["message"].as_str().unwrap().contains("SH999")));
    // A delivery for known shots only registers in one transaction, with the media values.
    let d2 = tmp.path().join("delivery2");
    exr_seq(&d2, "SQ010_SH020_plate_v004.", 1001..=1003, 8);
    let out = sh(&["ingest", "--json", d2.to_str().unwrap()]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["versions_created"][0]["registered"], true, "{r:#}");
    let out = sh(&["versions", "ls", "--json"]);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let v = lines
        .iter()
        .find(|v| v["item"]["code"] == "SH020")
        .expect("registered version");
    assert_eq!(v["source"], "ingest");
    assert_eq!(v["files"]["pattern"], "SQ010_SH020_PLATE_v002.####.exr");
    // The database numbers the version like its folder (v001 is on disk but unregistered).
    assert_eq!(r["versions_created"][0]["version"], 2, "{r:#}");
    assert_eq!(v["number"], 2, "{v:#}");
    assert!(r["versions_created"][0]["warnings"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(v["files"]["frame_range"], "1001-1003");
    assert_eq!(v["files"]["width"], 64);
    assert!(v["files"]["checksum"]
        .as_str()
        .unwrap()
        .starts_with("xxh128:"));
    // A publish takes v003 in the database (its folder is elsewhere); the next ingest takes its
    // number from the same allocator, so it gets v004, never a second v003.
    let pat = d2.join("SQ010_SH020_plate_v004.%04d.exr");
    sh(&[
        "publish",
        "--shot",
        "SH020",
        "--step",
        "PLATE",
        "--force",
        pat.to_str().unwrap(),
    ]);
    let d3 = tmp.path().join("delivery3");
    exr_seq(&d3, "SQ010_SH020_plate_v005.", 1001..=1003, 9);
    let (code, r) = json(&project, &["ingest", "--json", d3.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["versions_created"][0]["version"], 4, "{r:#}");
    assert_eq!(r["versions_created"][0]["registered"], true, "{r:#}");
    assert!(r["versions_created"][0]["dir"]
        .as_str()
        .unwrap()
        .ends_with("v004"));
    // Registration consumed the reservations of v002 and v004; v001 (copied, never
    // registered) keeps its own until a re-run registers it.
    let out = sh(&["db", "check", "--json"]);
    let check: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reserved: Vec<&str> = check["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["version"].as_str())
        .collect();
    assert_eq!(reserved, ["SH020 PLATE v001"], "{check:#}");
    let numbers: Vec<(i64, String)> = json_lines(&sh(&["versions", "ls", "--json"]))
        .into_iter()
        .filter(|v| v["item"]["code"] == "SH020")
        .map(|v| {
            (
                v["number"].as_i64().unwrap(),
                v["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        numbers,
        [
            (2, "ingest".into()),
            (3, "publish".into()),
            (4, "ingest".into())
        ]
    );
}

#[test]
fn every_hash_algorithm_writes_an_mhl_the_reference_tool_verifies() {
    for algo in ["xxh64", "xxh3", "sha1", "c4"] {
        let e = env("");
        let d = e.root.join("delivery");
        dpx_seq(&d, "SQ010_SH020_plate_v001.", 1..=3);
        let (code, r, err) = ingest(
            &e,
            &[],
            &[d.to_str().unwrap(), "--hash", algo, "--verify", "cache"],
        );
        assert_eq!(code, 0, "{algo}: {err}");
        assert_eq!(r["verify"], "cache");
        let dir = PathBuf::from(r["versions_created"][0]["dir"].as_str().unwrap());
        let mhl =
            std::fs::read_to_string(r["versions_created"][0]["mhl"].as_str().unwrap()).unwrap();
        assert!(
            mhl.contains(&format!("<{algo} action=\"original\"")),
            "{algo}"
        );
        assert_mhl_ok(&dir);
    }
}

/// A registration that failed (unknown step) is not a dead end: once the cause is fixed, a re-run
/// registers the existing folder under its own number, copies nothing and takes no new version;
/// until then every re-run says the version is not registered (exit 1), never "already ingested".
#[test]
fn rerun_registers_a_version_whose_registration_failed() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("p");
    let run = |args: &[&str]| run(&project, args);
    let sh = |args: &[&str]| ok(&project, args);
    let sh010_versions = || -> Vec<Value> {
        json_lines(&sh(&["versions", "ls", "--json"]))
            .into_iter()
            .filter(|v| v["item"]["code"] == "SH010")
            .collect()
    };
    std::fs::create_dir_all(&project).unwrap();
    sh(&["init", "--code", "DEMO", "--width", "64", "--height", "48"]);
    sh(&["shot", "add", "SH010", "--in", "1001", "--out", "1024"]);
    let d = tmp.path().join("deliv");
    exr_seq(&d, "SQ010_SH010_plate_v003.", 1001..=1003, 11);
    let key = "SQ010_SH010_plate_v003.####.exr";
    let ds = d.to_str().unwrap();
    let parent = project.join("shots/SQ010/SH010/PLATE");
    let v001 = parent.join("v001");

    // No step PLATE yet: copied and verified, but not registered (exit 1).
    let out = run(&["ingest", "--json", ds]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["versions_created"][0]["registered"], false, "{r:#}");
    assert!(r["plan"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["code"] == "registration"));
    assert!(sh010_versions().is_empty());
    let files = files_in(&v001);
    let stamp = |fs: &[PathBuf]| -> Vec<(u64, std::time::SystemTime)> {
        fs.iter()
            .map(|p| {
                let m = std::fs::metadata(p).unwrap();
                (m.ino(), m.modified().unwrap())
            })
            .collect()
    };
    let before = stamp(&files);

    // Re-run before the cause is fixed: still a problem, with the reason, never "done".
    let out = run(&["ingest", "--json", ds]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = clip(&r, key);
    assert_eq!(c["status"], "already_ingested", "{c:#}");
    assert_eq!(c["ingested_as"]["version"], 1, "{c:#}");
    assert_eq!(c["ingested_as"]["registered"], false, "{c:#}");
    assert!(
        c["issues"].as_array().unwrap().iter().any(
            |i| i["code"] == "registration" && i["message"].as_str().unwrap().contains("PLATE")
        ),
        "{c:#}"
    );
    assert!(sh010_versions().is_empty());

    // The wrangler adds the step; the re-run registers v001 as version 1.
    sh(&["step", "add", "PLATE", "--kind", "shot"]);
    let out = run(&["ingest", "--json", ds]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = clip(&r, key);
    assert_eq!(c["status"], "registered", "{c:#}");
    assert_eq!(c["ingested_as"]["version"], 1, "{c:#}");
    assert!(
        c["ingested_as"]["dir"]
            .as_str()
            .unwrap()
            .ends_with("shots/SQ010/SH010/PLATE/v001"),
        "{c:#}"
    );
    assert_eq!(r["totals"]["registered"], 1);
    assert_eq!(r["totals"]["files_copied"], 0);
    assert!(r["versions_created"].as_array().unwrap().is_empty());
    assert_eq!(r["plan"]["versions"][0]["version"], 1, "{r:#}");
    let vs = sh010_versions();
    assert_eq!(vs.len(), 1, "{vs:#?}");
    let v = &vs[0];
    assert_eq!(v["number"], 1, "{v:#}");
    assert_eq!(v["source"], "ingest");
    assert!(v["files"]["dir"]
        .as_str()
        .unwrap()
        .ends_with("shots/SQ010/SH010/PLATE/v001"));
    assert_eq!(v["files"]["pattern"], "SQ010_SH010_PLATE_v001.####.exr");
    assert_eq!(v["files"]["frame_range"], "1001-1003");
    assert_eq!(v["files"]["file_count"], 3);
    assert_eq!(v["files"]["width"], 64);
    assert!(v["files"]["checksum"]
        .as_str()
        .unwrap()
        .starts_with("xxh128:"));
    let folders: Vec<_> = std::fs::read_dir(&parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(folders, ["v001"], "no new version folder");
    assert_eq!(files_in(&v001), files);
    assert_eq!(stamp(&files), before, "nothing re-copied");

    // Registered now: already ingested, exit 0, the table shows v001, nothing registered twice.
    let out = run(&["ingest", ds]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("already ingested"), "{table}");
    assert!(
        table.contains("001") && !table.contains("002"),
        "the existing version, not the next free one: {table}"
    );
    assert_eq!(sh010_versions().len(), 1);
}

#[test]
fn a_config_value_cannot_make_ingest_write_outside_the_project() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("a/b/c/project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("shotline.yaml"),
        "project:\n  code: \"x/../../../../tmp/evil\"\ningest:\n  reserve_mib: 0\n  template: custom\n  dir_template: \"{project}/{shot}/v{version}\"\n  file_template: \"{shot}_v{version}.{frame}.{ext}\"\n",
    )
    .unwrap();
    let d = tmp.path().join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1002, 1);
    let out = shotline(&project)
        .args(["ingest", "--json"])
        .arg(&d)
        .output()
        .unwrap();
    // The config loader refuses the value itself (file, line, column), before anything runs;
    // ingest checks every path value again wherever it comes from (store, names, overrides).
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("shotline.yaml") && err.contains("line 2") && err.contains("path separator"),
        "{err}"
    );
    // Nothing but the project's own state was written, inside or outside the project.
    assert!(all_files(&tmp.path().join("a"))
        .iter()
        .all(|p| p.starts_with(&project)));
    assert!(!tmp.path().join("tmp").exists() && !tmp.path().join("a/tmp").exists());
    assert!(all_files(&project)
        .iter()
        .all(|p| p.starts_with(project.join(".shotline")) || p.ends_with("shotline.yaml")));
}

#[test]
fn thread_counts_are_bounded() {
    let e = env("");
    let d = e.root.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1001, 1);
    let (code, _, err) = ingest(&e, &[], &["--threads", "100000000", d.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("256"), "{err}");
    let e = env("  threads: 100000000\n");
    let (code, _, err) = ingest(&e, &[], &[d.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("threads") && err.contains("256"), "{err}");
}

#[test]
fn a_huge_frame_gap_plans_and_ingests_as_runs() {
    let e = env("");
    let d = e.root.join("delivery");
    std::fs::create_dir_all(&d).unwrap();
    for f in [1001, 100_000_000] {
        write_dpx(
            &d.join(format!("SQ010_SH020_plate_v001.{f:04}.dpx")),
            &DpxSpec::rgb10(32, 24, true),
        )
        .unwrap();
    }
    for args in [vec!["--dry-run"], vec![]] {
        let mut a = args.clone();
        a.push(d.to_str().unwrap());
        let (code, r, err) = ingest(&e, &[], &a);
        assert_eq!(code, 0, "{err}\n{r:#}");
        let c = clip(&r, "SQ010_SH020_plate_v001.####.dpx");
        let missing = c["issues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "missing_frames")
            .unwrap_or_else(|| panic!("{c:#}"));
        assert!(
            missing["message"]
                .as_str()
                .unwrap()
                .contains("1002-99999999"),
            "{missing}"
        );
    }
    assert!(e
        .project
        .join("shots/SQ010/SH020/PLATE/v001/SQ010_SH020_PLATE_v001.100000000.dpx")
        .is_file());
}

#[test]
fn a_file_name_that_is_not_utf8_is_ingested_and_reported() {
    use std::os::unix::ffi::OsStrExt;
    let e = env("");
    let d = e.root.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1002, 1);
    let odd = d.join(std::ffi::OsStr::from_bytes(b"notes\xff.txt"));
    std::fs::write(&odd, b"vendor notes").unwrap();
    let args = [
        "--override",
        "notes\\xFF.txt=SQ010/SH030",
        d.to_str().unwrap(),
    ];
    let (code, r, err) = ingest(&e, &[], &args);
    assert_eq!(code, 0, "{err}\n{r:#}");
    assert_eq!(clip(&r, "notes\\xFF.txt")["status"], "ingested");
    let dir = e.project.join("shots/SQ010/SH030/PLATE/v001");
    assert_eq!(
        std::fs::read(dir.join("SQ010_SH030_PLATE_v001.txt")).unwrap(),
        b"vendor notes"
    );
    assert_mhl_ok(&dir);
    // The report was saved, and the job finished (a rerun finds everything ingested).
    let reports = e.project.join(".shotline/ingest/reports");
    assert_eq!(
        std::fs::read_dir(&reports).unwrap().count(),
        2,
        "json and html"
    );
    for j in std::fs::read_dir(e.project.join(".shotline/ingest/jobs")).unwrap() {
        assert!(
            !j.unwrap().path().join("state.json").exists(),
            "job not finished"
        );
    }
    let (code, r, err) = ingest(&e, &[], &args);
    assert_eq!(code, 0, "{err}\n{r:#}");
    assert_eq!(clip(&r, "notes\\xFF.txt")["status"], "already_ingested");
}

#[test]
fn a_linked_hold_frame_is_copied_and_a_link_leaving_the_delivery_is_refused() {
    let e = env("");
    let d = e.root.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1002, 1);
    std::os::unix::fs::symlink(
        "SQ010_SH020_plate_v001.1002.exr",
        d.join("SQ010_SH020_plate_v001.1003.exr"),
    )
    .unwrap();
    let (code, r, err) = ingest(&e, &[], &[d.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}\n{r:#}");
    let dir = e.project.join("shots/SQ010/SH020/PLATE/v001");
    assert_eq!(
        std::fs::read(dir.join("SQ010_SH020_PLATE_v001.1003.exr")).unwrap(),
        std::fs::read(d.join("SQ010_SH020_plate_v001.1002.exr")).unwrap()
    );
    assert!(!dir.join("SQ010_SH020_PLATE_v001.1003.exr").is_symlink());
    assert!(r["plan"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["kind"] == "linked"));
    assert_mhl_ok(&dir);

    let outside = e.root.join("elsewhere.exr");
    std::fs::write(&outside, b"not part of the delivery").unwrap();
    let d2 = e.root.join("delivery2");
    exr_seq(&d2, "SQ010_SH030_plate_v001.", 1001..=1001, 2);
    std::os::unix::fs::symlink(&outside, d2.join("SQ010_SH030_plate_v001.1002.exr")).unwrap();
    let (code, r, err) = ingest(&e, &[], &[d2.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}\n{r:#}");
    let note = r["plan"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "refused")
        .unwrap_or_else(|| panic!("{r:#}"));
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("outside the delivery"),
        "{note}"
    );
    assert!(!all_files(&e.project)
        .iter()
        .any(|p| std::fs::read(p).is_ok_and(|b| b == b"not part of the delivery")));
}

#[test]
fn already_ingested_content_whose_folder_is_gone_is_ingested_again() {
    let e = env("");
    let d = e.root.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1002, 1);
    let (code, _, err) = ingest(&e, &[], &[d.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let dir = e.project.join("shots/SQ010/SH020/PLATE/v001");
    std::fs::remove_dir_all(&dir).unwrap();
    let (code, r, err) = ingest(&e, &[], &[d.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}\n{r:#}");
    let c = clip(&r, "SQ010_SH020_plate_v001.####.exr");
    assert_eq!(c["status"], "ingested", "{c:#}");
    assert!(c["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["code"] == "ingested_folder_gone"));
    assert_eq!(exr_count(&dir), 2);
    assert_mhl_ok(&dir);
}

#[test]
fn the_dry_run_refuses_what_the_database_would_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("p");
    std::fs::create_dir_all(&project).unwrap();
    let sh = |args: &[&str]| ok(&project, args);
    sh(&["init", "--code", "DEMO"]);
    sh(&["shot", "add", "SH020", "--sequence", "SQ010"]);
    // No step PLATE: the real run would copy and then fail to register.
    let d = tmp.path().join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1001, 1);
    let (code, r) = json(
        &project,
        &["ingest", "--json", "--dry-run", d.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{r:#}");
    let c = clip(&r, "SQ010_SH020_plate_v001.####.exr");
    assert_eq!(c["status"], "blocked");
    assert!(
        c["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["code"] == "registration"
                && i["message"].as_str().unwrap().contains("step PLATE")),
        "{c:#}"
    );
    assert!(!project.join("shots").exists());

    // An EXR clip and a one-frame DPX of the same vendor version: each is a version registered
    // with its own pattern, range and file count.
    sh(&["step", "add", "PLATE", "--kind", "shot"]);
    let d2 = tmp.path().join("delivery2");
    exr_seq(&d2, "SQ010_SH020_plate_v002.", 1001..=1003, 2);
    dpx_seq(&d2, "SQ010_SH020_plate_v002.", 1001..=1001);
    let (code, r) = json(&project, &["ingest", "--json", d2.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{r:#}");
    let listed = json_lines(&sh(&["versions", "ls", "--json"]));
    assert_eq!(listed.len(), 2, "{listed:#?}");
    for v in &listed {
        let pattern = v["files"]["pattern"].as_str().unwrap();
        let count = v["files"]["file_count"].as_u64().unwrap();
        if pattern.ends_with(".exr") {
            assert_eq!(count, 3, "{v:#}");
            assert_eq!(v["files"]["frame_range"], "1001-1003", "{v:#}");
        } else {
            assert!(pattern.ends_with(".dpx"), "{v:#}");
            assert_eq!(count, 1, "{v:#}");
            assert_eq!(v["files"]["frame_range"], "1001", "{v:#}"); // the store keeps the normalised FrameSet spelling
        }
    }
}

/// Destinations are the layout's templates in the one template language: a field regex
/// (`{shot:SH\d+}`, `{version:\d{3}}`) is honoured when existing version folders are read back,
/// and a sequence with negative frames keeps its signed frame numbers in the file names.
#[test]
fn layout_field_regexes_and_negative_frames() {
    let e = env(concat!(
        "layout:\n  templates:\n",
        "    shot_version: \"plates/{shot:SH\\\\d+}/{step}/v{version:\\\\d{3}}\"\n",
        "    shot_file: \"{shot}_{step}_v{version}[.{frame}].{ext}\"\n",
    ));
    let parent = e.project.join("plates/SH020/PLATE");
    // v002 is a version; v0007 is not (three digits), nor is a folder of another shot.
    for dir in ["v002", "v0007"] {
        std::fs::create_dir_all(parent.join(dir)).unwrap();
    }
    std::fs::create_dir_all(e.project.join("plates/SH030/PLATE/v009")).unwrap();
    let d = e.root.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", -1..=1, 4);
    let (code, r, err) = ingest(&e, &[], &[d.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}\n{r:#}");
    let c = clip(&r, "SQ010_SH020_plate_v001.####.exr");
    assert_eq!(c["frame_range"], serde_json::json!([-1, 1]), "{c:#}");
    let dir = parent.join("v003");
    assert_eq!(
        r["versions_created"][0]["dir"],
        dir.to_str().unwrap(),
        "{r:#}"
    );
    let names: Vec<String> = files_in(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".exr"))
        .collect();
    assert_eq!(
        names,
        [
            "SH020_PLATE_v003.-001.exr",
            "SH020_PLATE_v003.0000.exr",
            "SH020_PLATE_v003.0001.exr"
        ]
    );
    assert_mhl_ok(&dir);
}

#[test]
fn an_empty_delivery_is_reported_and_exits_1() {
    let e = env("");
    let d = e.root.join("empty delivery");
    // Only what the scan ignores: a checksum folder and a Finder file.
    std::fs::create_dir_all(d.join("ascmhl")).unwrap();
    std::fs::write(d.join(".DS_Store"), b"x").unwrap();
    for dry in [true, false] {
        let mut args = vec![d.to_str().unwrap()];
        if dry {
            args.push("--dry-run");
        }
        let (code, r, err) = ingest(&e, &[], &args);
        assert_eq!(code, 1, "dry run {dry}: {r:#} {err}");
        let notes = r["plan"]["notes"].as_array().unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n["kind"] == "empty"
                    && n["path"].as_str().unwrap().ends_with("empty delivery")),
            "{notes:?}"
        );
        assert!(err.contains("nothing to ingest"), "{err}");
    }
    // Human output says it too, and nothing was written.
    let out = run(&e.project, &["ingest", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to ingest"));
    assert!(!e.project.join("shots").exists());
    // A delivery with a file beside an empty one: only the empty one is noted.
    let full = e.root.join("full");
    exr_seq(&full, "SQ010_SH020_plate_v001.", 1..=2, 1);
    let (code, r, _) = ingest(
        &e,
        &[],
        &[full.to_str().unwrap(), d.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, 1);
    let empty: Vec<&Value> = r["plan"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "empty")
        .collect();
    assert_eq!(empty.len(), 1, "{empty:?}");
}
