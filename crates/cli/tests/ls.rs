//! `shotline ls` end to end: the real binary on trees built in a temp dir.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod support;

use support::touch;

fn ls(dir: &Path) -> Command {
    let mut c = support::shotline(dir);
    c.arg("ls");
    c
}

/// Runs `ls --json ARGS` in `dir` and parses every line.
fn json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let out = ls(dir).arg("--json").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    support::json_lines(&out)
}

fn kind<'a>(lines: &'a [Value], k: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["kind"] == k).collect()
}

/// `pattern frames missing` of every sequence line.
fn seqs(lines: &[Value]) -> Vec<String> {
    kind(lines, "sequence")
        .iter()
        .map(|v| {
            format!(
                "{} {} {}",
                v["pattern"].as_str().unwrap(),
                v["frames"].as_str().unwrap(),
                v["missing"].as_str().unwrap()
            )
        })
        .collect()
}

fn plate_tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for f in 1001..=1100 {
        if f != 1050 {
            touch(t.path(), &format!("plate.{f}.exr"), 10);
        }
    }
    touch(t.path(), "notes.txt", 3);
    t
}

#[test]
fn default_listing_shows_pattern_count_and_gaps() {
    let t = plate_tree();
    ls(t.path())
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"(?m)^plate\.1001-1100#\.exr\s+99 frames\s+missing 1050$")
                .unwrap(),
        )
        .stdout(predicate::str::contains("notes.txt"))
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn json_schema_fields() {
    let t = plate_tree();
    let lines = json(t.path(), &[]);
    let s = kind(&lines, "sequence")[0];
    assert_eq!(s["dir"], ".");
    assert_eq!(s["pattern"], "plate.%04d.exr");
    assert_eq!(s["head"], "plate.");
    assert_eq!(s["tail"], ".exr");
    assert_eq!(s["padding"], 4);
    assert_eq!(s["frames"], "1001-1049,1051-1100");
    assert_eq!(s["first"], 1001);
    assert_eq!(s["last"], 1100);
    assert_eq!(s["count"], 99);
    assert_eq!(s["missing"], "1050");
    assert_eq!(s["missing_count"], 1);
    assert!(s.get("bytes").is_none() && s.get("mtime").is_none());
    let f = kind(&lines, "file")[0];
    assert_eq!(
        (f["dir"].as_str(), f["name"].as_str()),
        (Some("."), Some("notes.txt"))
    );
    assert!(f.get("bytes").is_none());
}

#[test]
fn every_grouping_rule_on_disk() {
    let t = tempfile::tempdir().unwrap();
    let forty = format!("scan.{}.exr", "7".repeat(40));
    for f in [
        "shot_v002.1001.exr",
        "shot_v002.1002.exr",
        "foo_0001_extra.exr",
        "file4-4.exr",
        "434-0000.exr",
        "neg.-001.exr",
        "neg.0000.exr",
        "neg.0001.exr",
        "c.1001.exr",
        "c.01001.exr",
        "b.9998.exr",
        "b.9999.exr",
        "b.10000.exr",
        "b.10001.exr",
        "a.1.exr",
        "a.01.exr",
        "one.0042.exr",
        "gettyimages-1364769281-2048x2048.jpg",
        forty.as_str(),
        "Case.0001.exr",
        "case.0002.exr",
    ] {
        touch(t.path(), f, 0);
    }
    let lines = json(t.path(), &[]);
    let got = seqs(&lines);
    for want in [
        "shot_v002.%04d.exr 1001-1002 ",
        "file4-%d.exr 4 ",
        "434-%04d.exr 0 ",
        "neg.%04d.exr -1-1 ",
        "c.%04d.exr 1001 ",
        "c.%05d.exr 1001 ",
        "b.%04d.exr 9998-10001 ",
        "a.%d.exr 1 ",
        "a.%02d.exr 1 ",
        "one.%04d.exr 42 ",
        "gettyimages-1364769281-2048x%04d.jpg 2048 ",
        "Case.%04d.exr 1 ",
        "case.%04d.exr 2 ",
    ] {
        assert!(
            got.iter().any(|g| g == want),
            "missing {want:?} in {got:#?}"
        );
    }
    assert_eq!(got.len(), 13, "{got:#?}");
    let files: Vec<&str> = kind(&lines, "file")
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(files, vec!["foo_0001_extra.exr", forty.as_str()]);
    let warnings = kind(&lines, "warning");
    let dup: Vec<String> = warnings
        .iter()
        .map(|w| {
            format!(
                "{} {} {}",
                w["warning"],
                w["head"].as_str().unwrap(),
                w["paddings"]
            )
        })
        .collect();
    assert_eq!(
        dup,
        vec![
            r#""duplicate_padding" a. [1,2]"#,
            r#""duplicate_padding" c. [4,5]"#
        ]
    );
    // Humans get the warning on stderr.
    ls(t.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("a.%d.exr and a.%02d.exr"));
}

#[test]
fn never_groups_across_directories_and_lists_subdirs() {
    let t = tempfile::tempdir().unwrap();
    touch(t.path(), "s1/plate.1001.exr", 0);
    touch(t.path(), "s2/plate.1002.exr", 0);
    let lines = json(t.path(), &["-R"]);
    let s = kind(&lines, "sequence");
    assert_eq!(s.len(), 2);
    assert_eq!(
        (s[0]["dir"].as_str(), s[0]["frames"].as_str()),
        (Some("./s1"), Some("1001"))
    );
    assert_eq!(
        (s[1]["dir"].as_str(), s[1]["frames"].as_str()),
        (Some("./s2"), Some("1002"))
    );
    let dirs: Vec<&str> = kind(&lines, "dir")
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(dirs, vec!["s1", "s2"]);
}

#[test]
fn recursive_lists_each_directory_under_a_header_in_order() {
    let t = tempfile::tempdir().unwrap();
    touch(t.path(), "b/p.0001.exr", 0);
    touch(t.path(), "a/deep/q.0001.exr", 0);
    touch(t.path(), "a/q.0001.exr", 0);
    let out = ls(t.path()).arg("-R").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let headers: Vec<&str> = text.lines().filter(|l| l.ends_with(':')).collect();
    assert_eq!(headers, vec![".:", "./a:", "./a/deep:", "./b:"]);
    assert!(text.contains("q.1#.exr"), "{text}");
    // Without -R only the top level.
    ls(t.path()).assert().success().stdout("a/\nb/\n");
}

#[test]
fn hidden_entries_need_all() {
    let t = tempfile::tempdir().unwrap();
    touch(t.path(), ".secret.txt", 0);
    touch(t.path(), ".cache/x.0001.exr", 0);
    touch(t.path(), "v.txt", 0);
    ls(t.path())
        .arg("-R")
        .assert()
        .success()
        .stdout(predicate::str::contains("secret").not())
        .stdout(predicate::str::contains(".cache").not());
    ls(t.path())
        .args(["-R", "-a"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".secret.txt"))
        .stdout(predicate::str::contains("./.cache:"));
}

#[test]
fn long_adds_total_bytes_and_newest_mtime() {
    let t = tempfile::tempdir().unwrap();
    touch(t.path(), "p.0001.exr", 100);
    touch(t.path(), "p.0002.exr", 23);
    touch(t.path(), "n.txt", 7);
    let lines = json(t.path(), &["-l"]);
    let s = kind(&lines, "sequence")[0];
    assert_eq!(s["bytes"], 123);
    let mtime = s["mtime"].as_str().unwrap();
    assert!(
        mtime.len() >= 20 && mtime.ends_with('Z') && mtime.contains('T'),
        "{mtime}"
    );
    assert_eq!(kind(&lines, "file")[0]["bytes"], 7);
    ls(t.path()).arg("-l").assert().success().stdout(
        predicate::str::is_match(
            r"(?m)^\s+123 B\s+\d{4}-\d\d-\d\dT\S+Z\s+p\.1-2#\.exr\s+2 frames$",
        )
        .unwrap(),
    );
}

#[test]
fn every_format_style() {
    let t = tempfile::tempdir().unwrap();
    for f in 1001..=1003 {
        touch(t.path(), &format!("plate.{f}.exr"), 0);
    }
    for (style, want) in [
        ("hash", "plate.1001-1003#.exr"),
        ("nuke", "plate.####.exr 1001-1003"),
        ("printf", "plate.%04d.exr 1001-1003"),
        ("houdini", "plate.$F4.exr 1001-1003"),
        ("rv", "plate.1001-1003@@@@.exr"),
    ] {
        ls(t.path())
            .args(["--format", style])
            .assert()
            .success()
            .stdout(predicate::str::starts_with(format!("{want}  3 frames")));
    }
    let lines = json(t.path(), &["--format", "houdini"]);
    assert_eq!(kind(&lines, "sequence")[0]["pattern"], "plate.$F4.exr");
    ls(t.path())
        .args(["--format", "maya"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("maya"));
}

#[cfg(unix)]
#[test]
fn symlinked_dirs_and_cycles() {
    let t = tempfile::tempdir().unwrap();
    touch(t.path(), "shots/sh010/p.0001.exr", 0);
    std::os::unix::fs::symlink("..", t.path().join("shots/sh010/up")).unwrap();
    std::os::unix::fs::symlink("shots/sh010", t.path().join("alias")).unwrap();
    // Without -L: a symlinked directory is a directory entry, never a file, and not descended.
    let lines = json(t.path(), &["-R"]);
    assert!(kind(&lines, "file").is_empty(), "{lines:?}");
    let links: Vec<&str> = kind(&lines, "dir")
        .iter()
        .filter(|v| v["link"] == true)
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(links, vec!["alias", "up"]);
    assert_eq!(kind(&lines, "sequence").len(), 1);
    // With -L: followed, and the cycle is reported instead of looping.
    let out = ls(t.path())
        .args(["-R", "-L"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cycle"), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("./alias:"), "{text}");
    let lines = json(t.path(), &["-R", "-L"]);
    assert!(kind(&lines, "warning")
        .iter()
        .any(|w| w["warning"] == "symlink_cycle"));
    assert_eq!(kind(&lines, "sequence").len(), 2);
}

#[cfg(unix)]
#[test]
fn unreadable_directory_is_reported_and_exits_1() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
    touch(t.path(), "locked/p.0001.exr", 0);
    touch(t.path(), "open/q.0001.exr", 0);
    let locked = t.path().join("locked");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let out = if fs::read_dir(&locked).is_err() {
        ls(t.path()).arg("-R").output().unwrap()
    } else {
        // Root ignores directory permissions: run the binary as `nobody` when we can.
        let bin = assert_cmd::cargo::cargo_bin("shotline");
        let as_nobody = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(["ls", "-R"])
            .arg(t.path())
            .env("NO_COLOR", "1")
            .output();
        match as_nobody {
            Ok(o) if !String::from_utf8_lossy(&o.stderr).contains("setpriv:") => o,
            _ => {
                fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
                eprintln!("skipped: privileged and cannot drop privileges to test permissions");
                return;
            }
        }
    };
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("locked") && stderr.contains("ermission"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("q.1#.exr"));
}

#[test]
fn missing_path_exits_2_and_names_it() {
    let t = tempfile::tempdir().unwrap();
    ls(t.path())
        .arg("no_such_dir")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no_such_dir"));
}

#[test]
fn file_arguments_are_grouped_per_directory() {
    let t = plate_tree();
    touch(t.path(), "other/plate.1001.exr", 0);
    let out = ls(t.path())
        .args([
            "plate.1001.exr",
            "plate.1002.exr",
            "plate.1004.exr",
            "other/plate.1001.exr",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("plate.1001-1004#.exr  3 frames  missing 1003"),
        "{text}"
    );
    assert!(text.contains("plate.1001#.exr  1 frame"), "{text}");
}

#[cfg(unix)]
#[test]
fn non_utf8_names_do_not_panic() {
    use std::os::unix::ffi::OsStrExt;
    let t = tempfile::tempdir().unwrap();
    for n in [&b"caf\xe9.0001.exr"[..], b"caf\xe9.0002.exr", b"\xff.txt"] {
        if fs::write(t.path().join(std::ffi::OsStr::from_bytes(n)), b"").is_err() {
            return; // the filesystem refuses such names (e.g. some macOS volumes)
        }
    }
    let lines = json(t.path(), &[]);
    assert_eq!(kind(&lines, "sequence")[0]["frames"], "1-2");
    assert_eq!(kind(&lines, "file").len(), 1);
    ls(t.path()).assert().success();
}

#[test]
fn help_has_examples() {
    Command::cargo_bin("shotline")
        .unwrap()
        .args(["ls", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("--recursive"));
}

#[test]
fn warnings_go_to_the_stream_in_json_and_quiet_hides_them() {
    let t = tempfile::tempdir().unwrap();
    touch(t.path(), "a.1.exr", 0);
    touch(t.path(), "a.01.exr", 0);
    let out = ls(t.path()).arg("--json").output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(r#""warning":"duplicate_padding""#));
    ls(t.path())
        .arg("-q")
        .assert()
        .success()
        .stderr("")
        .stdout(predicate::str::contains("a.1@@.exr"));
}

#[test]
fn numbered_movies_are_files_not_sequences() {
    let t = tempfile::tempdir().unwrap();
    touch(t.path(), "review/SH030_review_v001.mov", 5);
    touch(t.path(), "review/SH030_review_v002.MOV", 6);
    touch(t.path(), "review/plate.1001.exr", 1);
    touch(t.path(), "review/plate.1002.exr", 1);
    for args in [
        &["-l", "review"][..],
        &[
            "-l",
            "review/SH030_review_v001.mov",
            "review/SH030_review_v002.MOV",
        ],
    ] {
        let lines = json(t.path(), args);
        assert!(
            seqs(&lines)
                .iter()
                .all(|s| !s.contains(".mov") && !s.contains(".MOV")),
            "{args:?}: {lines:?}"
        );
        let files: Vec<(&str, i64)> = kind(&lines, "file")
            .iter()
            .map(|v| (v["name"].as_str().unwrap(), v["bytes"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            files,
            [("SH030_review_v001.mov", 5), ("SH030_review_v002.MOV", 6)],
            "{args:?}"
        );
    }
    let lines = json(t.path(), &["review"]);
    assert_eq!(seqs(&lines), ["plate.%04d.exr 1001-1002 "]);
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_reported_as_a_loop() {
    let t = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("b", t.path().join("a")).unwrap();
    std::os::unix::fs::symlink("a", t.path().join("b")).unwrap();
    ls(t.path())
        .arg("a/")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("symlink loop"))
        .stderr(predicate::str::contains("no such file").not());
}
