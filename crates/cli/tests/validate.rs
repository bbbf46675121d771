//! `shotline validate` end to end: the real binary on show trees generated here, with real EXR
//! frames (written by the `exr` crate through shotline-media's test writers).

use std::path::{Path, PathBuf};

use serde_json::Value;
use shotline_media::testdata::{
    clobber_magic, truncate_file, write_exr, write_exr_sequence, ExrCompression, ExrSpec,
};

mod support;

use support::{mkdir, shotline};

/// Runs `validate --json` and returns (exit code, document).
fn validate_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = shotline(dir)
        .arg("validate")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, doc)
}

/// Every finding of the report as (code, severity, frames, path).
fn findings(doc: &Value) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for u in doc["units"].as_array().unwrap() {
        let seq_findings = u["sequences"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["findings"].as_array().unwrap().iter());
        for f in u["findings"].as_array().unwrap().iter().chain(seq_findings) {
            out.push((
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["frames"].as_str().unwrap_or("").to_string(),
                f["path"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

fn has(f: &[(String, String, String, String)], code: &str, frames: &str) -> bool {
    f.iter()
        .any(|x| x.0 == code && (frames.is_empty() || x.2 == frames))
}

fn listing(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            v.push((e.path(), m.len()));
        }
    }
    v.sort();
    v
}

#[test]
fn clean_default_tree_passes_with_grouped_output() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("shotline.yaml"), "project:\n  code: demo\n").unwrap();
    for shot in ["sh010", "sh020"] {
        let d = mkdir(&root.join(format!("shots/{shot}/comp/v001")));
        write_exr_sequence(
            &d,
            &format!("{shot}_comp_v001."),
            4,
            1001..=1005,
            &ExrSpec::rgb(32, 16),
        )
        .unwrap();
    }
    let (code, doc) = validate_json(root, &[]);
    assert_eq!(code, 0, "{doc:#}");
    // The same tree one level down, checked from above: `store/` is a root of its own.
    let store = mkdir(&root.join("store"));
    std::fs::rename(root.join("shots"), store.join("shots")).unwrap();
    let (code, doc) = validate_json(root, &["store"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["schema"], "shotline.validate/1");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["summary"]["shows"], 1);
    assert_eq!(doc["summary"]["items"], 2);
    assert_eq!(doc["summary"]["frames"], 10);
    assert_eq!(doc["units"][0]["fields"]["shot"], "sh010");
    assert_eq!(doc["units"][0]["fields"]["step"], "comp");
    assert_eq!(doc["units"][0]["fields"]["version"], "001");
    assert_eq!(doc["units"][0]["show"], "demo");
    assert_eq!(doc["units"][0]["sequences"][0]["resolution"], "32x16");
    let out = shotline(root).args(["validate", "store"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("demo / sh010") && text.contains("demo / sh020"),
        "{text}"
    );
    assert!(
        text.contains("OK: 1 shows, 2 shots/assets, 2 sequences, 10 frames"),
        "{text}"
    );
}

#[test]
fn every_frame_problem_is_found_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("shotline.yaml"), "project:\n  code: demo\n").unwrap();
    let d = mkdir(&root.join("shots/sh010/comp/v001"));
    let spec = ExrSpec::rgb(32, 16).compression(ExrCompression::None);
    let p = write_exr_sequence(&d, "sh010_comp_v001.", 4, 1001..=1012, &spec).unwrap();
    std::fs::remove_file(&p[2]).unwrap(); // 1003 missing
    std::fs::remove_file(&p[3]).unwrap(); // 1004 missing
    std::fs::write(&p[4], b"").unwrap(); // 1005 zero bytes
    let len = std::fs::metadata(&p[5]).unwrap().len();
    truncate_file(&p[5], len - 200).unwrap(); // 1006 truncated
    clobber_magic(&p[6], b"JUNKJUNK").unwrap(); // 1007 corrupt
    write_exr(
        &p[7],
        &ExrSpec::rgb(64, 16).compression(ExrCompression::None),
    )
    .unwrap(); // 1008
    write_exr(
        &p[8],
        &ExrSpec::rgba(32, 16).compression(ExrCompression::None),
    )
    .unwrap(); // 1009
    write_exr(
        &p[9],
        &ExrSpec::rgb(32, 16).compression(ExrCompression::Piz),
    )
    .unwrap(); // 1010
    write_exr(&p[10], &spec.clone().fps(25, 1)).unwrap(); // 1011 at 25 fps
    std::fs::write(d.join("sh010_comp_v001.01001.exr"), b"x").unwrap(); // padding + duplicate
    std::fs::write(d.join("render.exr.tmp"), b"x").unwrap(); // temp file
    let before = listing(root);
    let (code, doc) = validate_json(root, &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["ok"], false);
    let f = findings(&doc);
    for (code, frames) in [
        ("missing-frames", "1003-1004"),
        ("zero-byte", "1005"),
        ("truncated", "1006"),
        ("corrupt", "1007"),
        ("resolution-change", "1008"),
        ("channel-change", "1009"),
        ("compression-change", "1010"),
        ("fps-mismatch", "1011"),
        ("duplicate-frame", "1001"),
        ("padding-mismatch", ""),
        ("unexpected-file", ""),
    ] {
        assert!(has(&f, code, frames), "{code} {frames} not in {f:#?}");
    }
    let sev = |c: &str| f.iter().find(|x| x.0 == c).unwrap().1.clone();
    assert_eq!(sev("truncated"), "error");
    assert_eq!(sev("fps-mismatch"), "warning");
    // 1006, and the one-byte frame at padding 5.
    assert_eq!(doc["summary"]["by_code"]["truncated"], 2);
    assert_eq!(listing(root), before, "validate must not write");
    // Human output names the problem and the frames.
    let out = shotline(root).arg("validate").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("truncated") && text.contains("[1006]"),
        "{text}"
    );
    assert!(text.starts_with("demo / sh010"), "{text}");
    assert!(text.lines().last().unwrap().starts_with("FAIL:"), "{text}");
}

#[test]
fn expected_range_from_flag_and_config() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("shotline.yaml"), "project:\n  code: demo\n").unwrap();
    let d = mkdir(&root.join("shots/sh010/comp/v001"));
    write_exr_sequence(&d, "a.", 4, 1001..=1003, &ExrSpec::rgb(16, 8)).unwrap();
    let (code, doc) = validate_json(root, &["--range", "1001-1005"]);
    assert_eq!(code, 1);
    assert!(has(&findings(&doc), "missing-frames", "1004-1005"));
    // Any frame-range syntax: every other frame expected, 1002 is outside.
    let (code, doc) = validate_json(root, &["--range", "1001-1005x2"]);
    assert_eq!(code, 1);
    let f = findings(&doc);
    assert!(has(&f, "missing-frames", "1005"), "{f:?}");
    assert!(has(&f, "out-of-range", "1002"), "{f:?}");
    assert_eq!(doc["units"][0]["expected_range"], "1001-1005x2");
    std::fs::write(
        root.join("shotline.yaml"),
        "project:\n  code: demo\nlayout:\n  frame_ranges:\n    demo/sh010: 1000-1003\n",
    )
    .unwrap();
    let (code, doc) = validate_json(root, &[]);
    assert_eq!(code, 1);
    assert!(has(&findings(&doc), "missing-frames", "1000"), "{doc:#}");
    assert_eq!(doc["units"][0]["expected_range"], "1000-1003");
    let bad = shotline(root)
        .args(["validate", "--range", "1-"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// A project made with the real binary (`init`, `shot add` with a cut and handles), the tree
/// ingest writes in `preset` with one frame missing; `extra_yaml` is appended to the config.
fn project_with_tree(root: &Path, extra_yaml: &str, version_dir: &str, prefix: &str) {
    let ok = |args: &[&str]| {
        let out = shotline(root).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["init", "--code", "DEMO"]);
    if !extra_yaml.is_empty() {
        let cfg = root.join("shotline.yaml");
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        text.push_str(extra_yaml);
        std::fs::write(&cfg, text).unwrap();
    }
    ok(&[
        "shot",
        "add",
        "SH010",
        "--in",
        "1001",
        "--out",
        "1004",
        "--handles",
        "1",
    ]);
    let d = mkdir(&root.join(version_dir));
    let p = write_exr_sequence(&d, prefix, 4, 1000..=1005, &ExrSpec::rgb(8, 8)).unwrap();
    std::fs::remove_file(&p[3]).unwrap(); // 1003 missing
}

/// Checks validate and disk on a tree from [`project_with_tree`]: grouped by show (the project
/// code), shot, step and version, with the shot's cut plus handles from the store applied.
fn assert_grouped_with_cut(root: &Path, step: &str, disk_levels: &[&str]) {
    // The database folder is left out: SQLite creates -wal/-shm beside a WAL database even
    // for a read-only connection (the store's business, reported).
    let frames_only = |root: &Path| -> Vec<(PathBuf, u64)> {
        listing(root)
            .into_iter()
            .filter(|(p, _)| !p.to_string_lossy().contains("/.shotline"))
            .collect()
    };
    let before = frames_only(root);
    let (code, doc) = validate_json(root, &[]);
    assert_eq!(code, 1, "{doc:#}");
    let units = doc["units"].as_array().unwrap();
    assert_eq!(units.len(), 1, "{doc:#}");
    let u = &units[0];
    assert_eq!(u["show"], "DEMO");
    assert_eq!(u["item"], "SH010");
    assert_eq!(u["fields"]["step"], step);
    assert_eq!(u["fields"]["version"], "002");
    assert_eq!(u["template"], "shot_version");
    assert_eq!(u["expected_range"], "1000-1005");
    assert!(has(&findings(&doc), "missing-frames", "1003"), "{doc:#}");
    assert_eq!(
        frames_only(root),
        before,
        "validate writes nothing in the tree"
    );
    let (code, doc) = validate_json(root, &["--no-store"]);
    assert_eq!(code, 1);
    assert!(doc["units"][0]["expected_range"].is_null(), "{doc:#}");
    let out = shotline(root)
        .args(["disk", "--json", "--depth", "3"])
        .output()
        .unwrap();
    let disk: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(disk["levels"], serde_json::json!(disk_levels), "{disk:#}");
    let shot = &disk["entries"][0];
    assert_eq!(
        (&shot["level"], &shot["name"]),
        (&"shot".into(), &"SH010".into())
    );
    let stepe = &shot["children"][0];
    assert_eq!(stepe["name"], step);
    let version = &stepe["children"][0];
    assert_eq!(version["level"], "version");
    assert_eq!(version["name"], "002");
    assert_eq!(version["usage"]["files"], 5);
    assert_eq!(version["fields"]["show"], "DEMO");
}

#[test]
fn default_layout_groups_by_shot_step_version_with_the_cut_from_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    project_with_tree(root, "", "shots/SH010/plate/v002", "SH010_plate_v002.");
    assert_grouped_with_cut(root, "plate", &["shot", "step", "version"]);
}

#[test]
fn ramses_layout_groups_by_shot_step_version_with_the_cut_from_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    project_with_tree(
        root,
        "layout:\n  preset: ramses\n",
        "05-SHOTS/DEMO_S_SH010/DEMO_S_SH010_PLATE/_published/002_OK",
        "DEMO_S_SH010_PLATE.",
    );
    assert_grouped_with_cut(root, "PLATE", &["shot", "step", "version"]);
}

#[test]
fn size_outliers_without_header_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let d = mkdir(&tmp.path().join("frames"));
    for f in 1..=9 {
        let len = if f == 5 { 100 } else { 10_000 };
        std::fs::write(d.join(format!("plate.{f:04}.dpx")), vec![1u8; len]).unwrap();
    }
    let (code, doc) = validate_json(tmp.path(), &["--no-headers", "frames"]);
    assert_eq!(code, 0, "warnings alone pass: {doc:#}");
    assert!(has(&findings(&doc), "size-outlier", "5"), "{doc:#}");
    assert_eq!(doc["units"][0]["template"], "-");
    let (code, _) = validate_json(tmp.path(), &["--no-headers", "--strict", "frames"]);
    assert_eq!(code, 1, "--strict fails on warnings");
}

#[test]
fn naming_rules_use_layout_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(
        root.join("shotline.yaml"),
        "naming:\n  rules:\n    sequence: '^{shot}_[a-z]+_v\\d{3}\\.\\d{4}\\.exr$'\n    nk: '^{shot}_.*\\.nk$'\n",
    )
    .unwrap();
    let d = mkdir(&root.join("shots/sh010/comp/v001"));
    write_exr_sequence(&d, "sh010_comp_v001.", 4, 1..=2, &ExrSpec::rgb(8, 8)).unwrap();
    write_exr_sequence(&d, "SH10-comp.", 4, 1..=2, &ExrSpec::rgb(8, 8)).unwrap();
    std::fs::write(d.join("sh020_comp.nk"), b"x").unwrap();
    use std::os::unix::ffi::OsStrExt;
    let latin1 = std::ffi::OsStr::from_bytes(b"sh010_caf\xe9.nk");
    std::fs::write(d.join(latin1), b"x").unwrap();
    let (code, doc) = validate_json(root, &[]);
    assert_eq!(code, 0, "bad names are warnings: {doc:#}");
    let f = findings(&doc);
    let bad: Vec<&String> = f
        .iter()
        .filter(|x| x.0 == "bad-name")
        .map(|x| &x.3)
        .collect();
    assert_eq!(bad.len(), 3, "{f:#?}");
    assert!(
        bad.iter().any(|p| p.ends_with("SH10-comp.%04d.exr")),
        "{bad:?}"
    );
    assert!(bad.iter().any(|p| p.ends_with("sh020_comp.nk")), "{bad:?}");
    assert!(doc.to_string().contains("not valid UTF-8"), "{doc:#}");
}

#[test]
fn naming_rule_with_unknown_field_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("shotline.yaml"),
        "naming:\n  rules:\n    file: '^{episode}_.*$'\n",
    )
    .unwrap();
    let out = shotline(tmp.path()).arg("validate").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning:") && err.contains("{episode}"),
        "{err}"
    );
}

#[test]
fn ramses_tree_is_parsed_into_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("shotline.yaml"), "layout:\n  preset: ramses\n").unwrap();
    let step = mkdir(&root.join("05-SHOTS/PROJ_S_SH010/PROJ_S_SH010_COMP"));
    let publ = mkdir(&step.join("_published/bg_001_WIP"));
    write_exr_sequence(
        &publ,
        "PROJ_S_SH010_COMP_bg.",
        4,
        1..=3,
        &ExrSpec::rgb(8, 8),
    )
    .unwrap();
    std::fs::write(step.join("_ramses_data.json"), b"{}").unwrap();
    let (code, doc) = validate_json(root, &[]);
    assert_eq!(code, 0, "{doc:#}");
    let units = doc["units"].as_array().unwrap();
    assert_eq!(units.len(), 1);
    let f = &units[0]["fields"];
    assert_eq!(
        (&f["step"], &f["resource"], &f["version"], &f["state"]),
        (&"COMP".into(), &"bg".into(), &"001".into(), &"WIP".into())
    );
    assert_eq!(units[0]["show"], "PROJ");
    assert_eq!(units[0]["item"], "SH010");
    assert_eq!(units[0]["sequences"][0]["count"], 3);
}

#[test]
fn show_renders_preset_reads_the_renders_tree_and_unknown_presets_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(
        root.join("shotline.yaml"),
        "layout:\n  preset: renders-old\n",
    )
    .unwrap();
    let out = shotline(root).args(["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("renders-old") && err.contains("show-renders"),
        "{err}"
    );
    std::fs::write(
        root.join("shotline.yaml"),
        "layout:\n  preset: show-renders\n",
    )
    .unwrap();
    let d = mkdir(&root.join("demo/shots/sh010/renders"));
    write_exr_sequence(&d, "a.", 4, 1..=3, &ExrSpec::rgb(8, 8)).unwrap();
    let out = shotline(root)
        .args(["validate", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["units"][0]["show"], "demo");
    assert_eq!(doc["units"][0]["item"], "sh010");
}

#[test]
fn bad_input_and_config_exit_2_naming_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let out = shotline(root)
        .args(["validate", "missing-dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing-dir"));
    std::fs::write(
        root.join("shotline.yaml"),
        "naming:\n  rules:\n    sequence: '('\n",
    )
    .unwrap();
    let out = shotline(root).arg("validate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shotline.yaml") && err.contains("sequence"),
        "{err}"
    );
    std::fs::write(
        root.join("shotline.yaml"),
        "layout:\n  templates:\n    r: '{show}/{'\n",
    )
    .unwrap();
    let out = shotline(root).arg("validate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unclosed"));
    std::fs::write(
        root.join("shotline.yaml"),
        "layout:\n  preset: show-renders\n  tempaltes: {}\n",
    )
    .unwrap();
    let out = shotline(root).arg("validate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tempaltes") && err.contains('3'), "{err}");
}

#[test]
fn odd_folder_names_are_checked_hidden_folders_skipped_and_dangling_links_reported() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(
        root.join("shotline.yaml"),
        "layout:\n  preset: show-renders\n",
    )
    .unwrap();
    let unit = mkdir(&root.join("demo/shots/sh010/renders"));
    // A Latin-1 folder name: walked through its bytes, its frames checked like any others.
    let odd = mkdir(&unit.join(std::ffi::OsStr::from_bytes(b"pr\xe9comp")));
    write_exr_sequence(&odd, "p.", 4, 1..=3, &ExrSpec::rgb(8, 8)).unwrap();
    // Thumbnails in a hidden folder are not frames.
    let thumbs = mkdir(&unit.join(".thumbs"));
    write_exr_sequence(&thumbs, "t.", 4, 1..=2, &ExrSpec::rgb(8, 8)).unwrap();
    std::os::unix::fs::symlink(unit.join("gone.exr"), odd.join("p.0004.exr")).unwrap();
    let (code, doc) = validate_json(root, &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["summary"]["frames"], 3, "{doc:#}");
    let f = findings(&doc);
    assert!(
        f.iter()
            .any(|x| x.0 == "unreadable" && x.3.ends_with("p.0004.exr")),
        "{f:?}"
    );
    assert!(!has(&f, "unreadable-dir", ""), "{f:?}");
}
