//! `shotline disk` end to end on trees generated here: per show/shot/step usage, thresholds,
//! hard links counted once, symlinks not followed, sorting, JSON.

use std::path::Path;

use serde_json::Value;
use support::{shotline, touch as write};

mod support;

/// The config `tree` writes at the root (measured with the rest: one file of this length).
const CONFIG: &str = "layout:\n  preset: show-renders\n";

/// show `demo`: sh010 3 frames x 1000 B in comp, sh020 2 frames x 100 B; show `zed`: 1 file.
/// The tree is the `show-renders` layout (one render folder per show and shot).
fn tree(root: &Path) {
    std::fs::write(root.join("shotline.yaml"), CONFIG).unwrap();
    for f in 1..=3 {
        write(
            root,
            &format!("demo/shots/sh010/renders/comp/c.{f:04}.exr"),
            1000,
        );
    }
    for f in 1..=2 {
        write(
            root,
            &format!("demo/shots/sh020/renders/lgt/l.{f:04}.exr"),
            100,
        );
    }
    write(root, "zed/shots/a001/renders/x.txt", 10);
}

fn disk_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = shotline(dir)
        .arg("disk")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

#[test]
fn usage_per_show_and_shot() {
    let tmp = tempfile::tempdir().unwrap();
    tree(tmp.path());
    let (code, doc) = disk_json(tmp.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["schema"], "shotline.disk/1");
    assert_eq!(doc["total"]["bytes"], 3210 + CONFIG.len());
    assert_eq!(doc["total"]["files"], 7);
    assert_eq!(doc["total"]["sequences"], 2);
    assert_eq!(doc["levels"], serde_json::json!(["show", "shot"]));
    let demo = &doc["entries"][0];
    assert_eq!(
        (demo["level"].as_str(), demo["name"].as_str()),
        (Some("show"), Some("demo"))
    );
    assert_eq!(demo["usage"]["bytes"], 3200);
    assert_eq!(demo["children"][0]["name"], "sh010");
    assert_eq!(demo["children"][0]["usage"]["bytes"], 3000);
    assert_eq!(demo["children"][0]["usage"]["files"], 3);
    assert_eq!(demo["children"][1]["name"], "sh020");
    assert_eq!(doc["biggest_sequences"][0]["count"], 3);
    assert!(doc["biggest_sequences"][0]["pattern"]
        .as_str()
        .unwrap()
        .ends_with("c.%04d.exr"));
    // Human output: binary units, indented shots, total line.
    let out = shotline(tmp.path()).arg("disk").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  sh010") && text.contains("2.9 KiB"),
        "{text}"
    );
    assert!(text.contains("Biggest sequences"), "{text}");
}

#[test]
fn sort_by_name_and_deeper_levels() {
    let tmp = tempfile::tempdir().unwrap();
    tree(tmp.path());
    std::fs::write(
        tmp.path().join("shotline.yaml"),
        "layout:\n  templates:\n    renders: \"{show}/shots/{shot}/renders/{step}\"\n",
    )
    .unwrap();
    let (_, doc) = disk_json(tmp.path(), &["--sort", "name"]);
    let names: Vec<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["demo", "zed"]);
    let (_, doc) = disk_json(tmp.path(), &["--depth", "3"]);
    let step = &doc["entries"][0]["children"][0]["children"][0];
    assert_eq!(step["level"], "step");
    assert_eq!(step["name"], "comp");
    assert_eq!(step["usage"]["bytes"], 3000);
    let (_, doc) = disk_json(tmp.path(), &["--depth", "1"]);
    assert!(doc["entries"][0]["children"].as_array().unwrap().is_empty());
}

#[test]
fn thresholds_flag_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    tree(tmp.path());
    std::fs::write(
        tmp.path().join("shotline.yaml"),
        "layout:\n  preset: show-renders\nthresholds:\n  disk_warning:\n    shot: 2 KiB\n    show: 1 GiB\n",
    )
    .unwrap();
    let (code, doc) = disk_json(tmp.path(), &[]);
    assert_eq!(code, 1);
    let sh010 = &doc["entries"][0]["children"][0];
    assert_eq!(sh010["over_threshold"], true);
    assert_eq!(sh010["threshold"], 2048);
    assert_eq!(doc["entries"][0]["over_threshold"], false);
    assert_eq!(doc["over_threshold"].as_array().unwrap().len(), 1);
    let out = shotline(tmp.path()).arg("disk").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("WARN > 2.0 KiB"));
}

#[test]
fn hard_links_once_symlinks_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    tree(tmp.path());
    let r = tmp.path();
    std::fs::hard_link(
        r.join("demo/shots/sh010/renders/comp/c.0001.exr"),
        r.join("demo/shots/sh020/renders/lgt/linked.exr"),
    )
    .unwrap();
    std::os::unix::fs::symlink(r.join("demo"), r.join("zed/shots/a001/renders/loop")).unwrap();
    let (code, doc) = disk_json(r, &[]);
    assert_eq!(code, 0);
    let link_len = std::fs::symlink_metadata(r.join("zed/shots/a001/renders/loop"))
        .unwrap()
        .len();
    let config_len = CONFIG.len() as u64;
    assert_eq!(
        doc["total"]["bytes"].as_u64().unwrap(),
        3210 + link_len + config_len
    );
    assert_eq!(doc["hardlinks_deduplicated"], 1);
    assert_eq!(doc["total"]["files"], 9);
}

#[test]
fn bad_config_and_input_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    tree(tmp.path());
    let cfg = tmp.path().join("shotline.yaml");
    std::fs::write(&cfg, "thresholds:\n  disk_warning:\n    shot: lots\n").unwrap();
    let out = shotline(tmp.path()).arg("disk").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lots") && err.contains("shotline.yaml"),
        "{err}"
    );
    std::fs::write(&cfg, "thresholds:\n  disk_warning:\n    episode: 1 GiB\n").unwrap();
    let out = shotline(tmp.path()).arg("disk").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("episode"));
    std::fs::remove_file(&cfg).unwrap();
    let out = shotline(tmp.path())
        .args(["disk", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = shotline(tmp.path())
        .args(["disk", "--sort", "colour"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn plain_folders_without_layout_match() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "a/x.0001.exr", 5);
    write(tmp.path(), "b/y.txt", 7);
    // The layout expects a `projects/` folder that is not there: plain directories are reported.
    std::fs::write(
        tmp.path().join("shotline.yaml"),
        "layout:\n  templates:\n    r: \"projects/{show}\"\n",
    )
    .unwrap();
    let (code, doc) = disk_json(tmp.path(), &["--sort", "name"]);
    assert_eq!(code, 0);
    assert_eq!(doc["levels"], serde_json::json!(["dir"]));
    assert_eq!(doc["entries"][0]["name"], "a");
    assert_eq!(doc["entries"][1]["usage"]["bytes"], 7);
}

#[test]
fn folders_with_names_that_are_not_utf8_are_measured() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    tree(tmp.path());
    // A Latin-1 folder name from an old share: read through its bytes, never a lossy copy of it.
    let odd = tmp
        .path()
        .join("zed/shots/a001/renders")
        .join(std::ffi::OsStr::from_bytes(b"pr\xe9comp"));
    std::fs::create_dir(&odd).unwrap();
    for f in 1..=4 {
        std::fs::write(odd.join(format!("p.{f:04}.exr")), vec![1u8; 50]).unwrap();
    }
    let (code, doc) = disk_json(tmp.path(), &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["unreadable"], serde_json::json!([]));
    assert_eq!(doc["total"]["files"], 11);
    assert_eq!(
        doc["total"]["bytes"].as_u64().unwrap(),
        3210 + 200 + CONFIG.len() as u64
    );
    assert_eq!(doc["total"]["sequences"], 3);
}
