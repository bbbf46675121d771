//! The project model end to end: the tracking database, the layout and the one version
//! allocator working together across commands and processes.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use support::{exr_seq, json, json_lines, ok, project_with_shot, shotline_std};

/// Several publishes and ingests of the same shot/step at once: every version number is taken
/// by the one allocator, so they are all distinct, and every ingested folder carries the number
/// its version is registered under (no clash, no renumbering).
#[test]
fn concurrent_publish_and_ingest_of_one_shot_step_never_share_a_number() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("p");
    project_with_shot(&project);
    let mut children = Vec::new();
    for i in 0..4u32 {
        let d = tmp.path().join(format!("delivery{i}"));
        exr_seq(&d, "SQ010_SH020_plate_v001.", 1001..=1003, 10 + i);
        let pubs = tmp.path().join(format!("pub{i}"));
        exr_seq(&pubs, "SQ010_SH020_plate_v001.", 1001..=1002, 20 + i);
        let pattern = pubs.join("SQ010_SH020_plate_v001.%04d.exr");
        let spawn = |args: Vec<String>| {
            shotline_std(&project)
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
    let versions: Vec<Value> = json_lines(&ok(&project, &["versions", "ls", "--json"]))
        .into_iter()
        .filter(|v| v["item"]["code"] == "SH020")
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
    let (_, check) = json(&project, &["db", "check", "--json"]);
    assert_eq!(check["reservations"], serde_json::json!([]), "{check:#}");
}

/// Ingests a delivery of SH020 frames 1000-1011 without 1005 and checks what `validate` says
/// about the version, wherever the layout put it; returns validate's unit for it.
fn ingest_and_check(project: &Path, tmp: &Path) -> Value {
    let d = tmp.join("delivery");
    exr_seq(&d, "SQ010_SH020_plate_v001.", 1000..=1011, 3);
    std::fs::remove_file(d.join("SQ010_SH020_plate_v001.1005.exr")).unwrap();
    let (code, r) = json(
        project,
        &["ingest", "--json", "--no-thumbnails", d.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["versions_created"][0]["registered"], true, "{r:#}");
    let (code, v) = json(project, &["validate", "--json", "."]);
    assert_eq!(code, Some(1), "a missing frame is a problem: {v:#}");
    let unit = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["fields"]["shot"] == "SH020")
        .unwrap_or_else(|| panic!("no unit for SH020: {v:#}"));
    assert_eq!(unit["fields"]["step"], "PLATE", "{unit:#}");
    assert_eq!(unit["expected_range"], "1001-1010", "{unit:#}");
    let findings = unit["sequences"][0]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "missing-frames" && f["frames"] == "1005"),
        "{unit:#}"
    );
    unit.clone()
}

/// The same with `layout: {preset: ramses}`: ingest writes the Ramses tree, validate finds it.
#[test]
fn ingest_writes_where_a_ramses_layout_says_and_validate_finds_it() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("p");
    project_with_shot(&project);
    let cfg = project.join("shotline.yaml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("layout:\n  preset: ramses\n");
    std::fs::write(&cfg, text).unwrap();
    let unit = ingest_and_check(&project, tmp.path());
    assert_eq!(unit["fields"]["version"], "001", "{unit:#}");
    assert!(
        project
            .join("05-SHOTS/DEMO_S_SH020/DEMO_S_SH020_PLATE/_published")
            .is_dir(),
        "no Ramses tree"
    );
}

/// Default settings: a delivery of real EXR frames with one frame missing and a frame before
/// and after the cut is ingested into the shot's step; `validate` and `disk` see the ingested
/// version by show/shot/step/version and apply the shot's cut from the database.
#[test]
fn an_ingested_version_is_validated_against_the_cut_and_counted_by_shot() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("p");
    project_with_shot(&project);
    let unit = ingest_and_check(&project, tmp.path());
    assert_eq!(unit["show"], "DEMO", "{unit:#}");
    assert_eq!(unit["fields"]["version"], "001", "{unit:#}");
    let findings = unit["sequences"][0]["findings"].as_array().unwrap();
    let finding = |code: &str| {
        findings
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("no {code}: {unit:#}"))
    };
    assert_eq!(finding("missing-frames")["frames"], "1005", "{unit:#}");
    assert_eq!(finding("out-of-range")["frames"], "1000,1011", "{unit:#}");
    // The database records the frames delivered and the gap, as publish does.
    let listed = json_lines(&ok(&project, &["versions", "ls", "--json"]));
    let files = &listed[0]["files"];
    assert_eq!(files["frame_range"], "1000-1004,1006-1011", "{files:#}");
    assert_eq!(files["missing_frames"], "1005", "{files:#}");
    assert_eq!(
        (files["first_frame"].as_i64(), files["last_frame"].as_i64()),
        (Some(1000), Some(1011))
    );

    let (code, u) = json(&project, &["disk", "--json", "."]);
    assert_eq!(code, Some(0), "{u:#}");
    let seq = u["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "SQ010")
        .unwrap_or_else(|| panic!("no SQ010: {u:#}"));
    let shot = &seq["children"][0];
    assert_eq!(shot["name"], "SH020", "{u:#}");
    assert_eq!(shot["fields"]["show"], "DEMO", "{u:#}");
    assert_eq!(shot["usage"]["sequences"], 1, "{u:#}");
    assert_eq!(
        shot["biggest_sequences"][0]["frames"], "1000-1004,1006-1011",
        "{u:#}"
    );
}
