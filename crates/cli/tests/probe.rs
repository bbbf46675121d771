//! `shotline probe` end to end: the real binary on real files written into a tempdir.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;
use serde_json::Value;
use shotline_media::testdata::*;
use shotline_media::Timecode;

mod support;

use support::{json_lines, shotline, tool};

/// Runs `shotline --json probe ARGS` and returns (exit code, JSON lines).
fn probe_json(dir: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let out = shotline(dir)
        .arg("--json")
        .arg("probe")
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json_lines(&out))
}

fn files(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|l| l["kind"] == "file").collect()
}

fn summaries(lines: &[Value]) -> Vec<&Value> {
    lines
        .iter()
        .filter(|l| l["kind"] == "sequence_summary")
        .collect()
}

/// Collapses runs of whitespace (iinfo aligns its columns).
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cut(path: &Path, keep: u64) {
    truncate_file(path, keep).unwrap();
}

#[test]
fn exr_file_json_fields_and_exrheader_cross_check() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("beauty.exr");
    let spec = ExrSpec::rgba(64, 36)
        .compression(ExrCompression::Piz)
        .timecode(Timecode::parse("01:00:10:05").unwrap())
        .fps(25, 1)
        .software("shotline-test");
    write_exr(&p, &spec).unwrap();
    let (code, lines) = probe_json(d.path(), &["beauty.exr"]);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 1);
    let f = &lines[0];
    assert_eq!(f["kind"], "file");
    assert_eq!(f["format"], "exr");
    assert_eq!(f["status"], "ok");
    assert!(f.get("reason").is_none());
    assert_eq!(f["width"], 64);
    assert_eq!(f["height"], 36);
    assert_eq!(f["compression"], "piz");
    assert_eq!(f["tiled"], false);
    assert_eq!(f["parts"], 1);
    assert_eq!(f["fps"], 25.0);
    assert_eq!(f["fps_rational"]["num"], 25);
    assert_eq!(f["timecode"], "01:00:10:05");
    assert_eq!(f["data_window"]["x_max"], 63);
    assert_eq!(f["channels"][0]["name"], "A");
    assert_eq!(f["channels"][0]["type"], "half");
    assert_eq!(f["metadata"]["software"], "shotline-test");
    if tool("exrheader") {
        let out = Std::new("exrheader").arg(&p).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("piz"), "{text}");
        assert!(text.contains("(0 0) - (63 35)"), "{text}");
        assert!(text.contains("01:00:10:05"), "{text}");
    }
}

#[test]
fn sequence_summary_reports_gaps_changes_truncation_and_timecode_jumps() {
    let d = tempfile::tempdir().unwrap();
    let spec = ExrSpec::rgb(32, 16)
        .timecode(Timecode::parse("01:00:00:00").unwrap())
        .fps(24, 1);
    write_exr_sequence(d.path(), "plate.", 4, 1001..=1010, &spec).unwrap();
    // A gap, a cut frame, a resolution change and a timecode jump.
    std::fs::remove_file(d.path().join("plate.1004.exr")).unwrap();
    let p7 = d.path().join("plate.1007.exr");
    cut(&p7, std::fs::metadata(&p7).unwrap().len() - 10);
    let mut big = ExrSpec::rgb(48, 16).fps(24, 1);
    big.timecode = Timecode::parse("01:00:00:08");
    write_exr(&d.path().join("plate.1009.exr"), &big).unwrap();
    big.timecode = Timecode::parse("02:00:00:00");
    write_exr(&d.path().join("plate.1010.exr"), &big).unwrap();

    let (code, lines) = probe_json(d.path(), &["plate.####.exr"]);
    assert_eq!(code, 1, "problems found");
    let fs = files(&lines);
    assert_eq!(fs.len(), 9);
    assert_eq!(fs[0]["frame"], 1001);
    let bad: Vec<&&Value> = fs.iter().filter(|f| f["status"] != "ok").collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["frame"], 1007);
    assert_eq!(bad[0]["status"], "truncated");
    let s = summaries(&lines);
    assert_eq!(s.len(), 1);
    let s = s[0];
    assert_eq!(s["first"], 1001);
    assert_eq!(s["last"], 1010);
    assert_eq!(s["missing"], "1004");
    assert_eq!(s["missing_count"], 1);
    assert_eq!(s["truncated"], 1);
    let res = s["resolution"].as_array().unwrap();
    assert_eq!(res.len(), 2, "{res:?}");
    assert_eq!(res[1]["first"], 1009);
    assert_eq!(res[1]["value"], "48x16");
    assert_eq!(s["fps_consistent"], true);
    assert_eq!(s["timecode_start"], "01:00:00:00");
    assert_eq!(s["timecode_jump_count"], 1);
    assert_eq!(s["timecode_jumps"][0]["frame"], 1010);
    assert_eq!(s["timecode_jumps"][0]["expected"], "01:00:00:09");
    assert_eq!(s["timecode_jumps"][0]["found"], "02:00:00:00");
    assert!(!s["problems"].as_array().unwrap().is_empty());
}

#[test]
fn clean_sequence_in_every_pattern_style_exits_zero() {
    let d = tempfile::tempdir().unwrap();
    let spec = ExrSpec::rgb(16, 16)
        .timecode(Timecode::parse("00:59:59:23").unwrap())
        .fps(24, 1);
    write_exr_sequence(d.path(), "shot.", 4, 1001..=1005, &spec).unwrap();
    for pat in [
        "shot.####.exr",
        "shot.%04d.exr",
        "shot.1001-1005#.exr",
        "shot.%04d.exr 1001-1005",
    ] {
        let (code, lines) = probe_json(d.path(), &[pat]);
        assert_eq!(code, 0, "{pat}: {lines:?}");
        let s = summaries(&lines)[0];
        assert_eq!(s["frames"], 5);
        assert_eq!(s["missing_count"], 0);
        assert_eq!(s["timecode_jump_count"], 0, "rolls over the hour cleanly");
        assert_eq!(s["timecode_end"], "01:00:00:03");
        assert_eq!(s["problems"].as_array().unwrap().len(), 0);
    }
    // An explicit range reaching past the files on disk reports the absent frames as missing.
    let (code, lines) = probe_json(d.path(), &["shot.1001-1007#.exr"]);
    assert_eq!(code, 1);
    assert_eq!(summaries(&lines)[0]["missing"], "1006-1007");
}

#[test]
fn dpx_both_byte_orders_and_cut_files() {
    let d = tempfile::tempdir().unwrap();
    for (name, be) in [("be.dpx", true), ("le.dpx", false)] {
        let mut spec = DpxSpec::rgb10(40, 20, be);
        spec.fps = Some(24.0);
        spec.timecode = Timecode::parse("00:00:01:02");
        write_dpx(&d.path().join(name), &spec).unwrap();
    }
    let (code, lines) = probe_json(d.path(), &["be.dpx", "le.dpx"]);
    assert_eq!(code, 0, "{lines:?}");
    for f in &lines {
        assert_eq!(f["format"], "dpx");
        assert_eq!(f["width"], 40);
        assert_eq!(f["bit_depth"], 10);
        assert_eq!(f["timecode"], "00:00:01:02");
        assert_eq!(f["fps"], 24.0);
        assert_eq!(f["channels"][0]["type"], "uint10");
    }
    if tool("iinfo") {
        let out = Std::new("iinfo")
            .arg(d.path().join("le.dpx"))
            .output()
            .unwrap();
        let text = squeeze(&String::from_utf8_lossy(&out.stdout));
        assert!(text.contains("40 x 20"), "{text}");
    }
    for keep in [10u64, 1500, 2100] {
        let p = d.path().join(format!("cut{keep}.dpx"));
        std::fs::copy(d.path().join("be.dpx"), &p).unwrap();
        cut(&p, keep);
    }
    let (code, lines) = probe_json(d.path(), &["cut10.dpx", "cut1500.dpx", "cut2100.dpx"]);
    assert_eq!(code, 1);
    assert!(
        lines.iter().all(|f| f["status"] == "truncated"),
        "{lines:?}"
    );
}

#[test]
fn png_jpeg_tiff_with_iinfo_cross_check_and_damage() {
    let d = tempfile::tempdir().unwrap();
    for ext in ["png", "jpg", "tif"] {
        write_image(&d.path().join(format!("a.{ext}")), 33, 21).unwrap();
    }
    let (code, lines) = probe_json(d.path(), &["a.png", "a.jpg", "a.tif"]);
    assert_eq!(code, 0, "{lines:?}");
    let formats: Vec<&str> = lines
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["png", "jpeg", "tiff"]);
    if tool("iinfo") {
        for ext in ["png", "jpg", "tif"] {
            let out = Std::new("iinfo")
                .arg(d.path().join(format!("a.{ext}")))
                .output()
                .unwrap();
            let text = squeeze(&String::from_utf8_lossy(&out.stdout));
            assert!(text.contains("33 x 21"), "{text}");
        }
    }
    for ext in ["png", "jpg", "tif"] {
        let p = d.path().join(format!("a.{ext}"));
        let n = std::fs::metadata(&p).unwrap().len();
        cut(&p, n * 2 / 3);
    }
    clobber_magic(&d.path().join("a.png"), b"\x00\x00\x00\x00").unwrap();
    let (code, lines) = probe_json(d.path(), &["a.png", "a.jpg", "a.tif"]);
    assert_eq!(code, 1);
    let st: Vec<&str> = lines
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(st, ["corrupt", "truncated", "truncated"]);
    assert!(lines.iter().all(|f| f["reason"].is_string()));
}

#[test]
fn directories_direct_entries_and_recursive() {
    let d = tempfile::tempdir().unwrap();
    let sub = d.path().join("renders/sh010");
    std::fs::create_dir_all(&sub).unwrap();
    write_exr(&d.path().join("renders/still.exr"), &ExrSpec::rgb(8, 8)).unwrap();
    std::fs::write(d.path().join("renders/notes.txt"), "not media").unwrap();
    write_exr_sequence(&sub, "beauty.", 4, 1..=3, &ExrSpec::rgb(8, 8)).unwrap();
    let (code, lines) = probe_json(d.path(), &["renders"]);
    assert_eq!(code, 0);
    assert_eq!(
        files(&lines).len(),
        1,
        "without -R only direct entries: {lines:?}"
    );
    let (code, lines) = probe_json(d.path(), &["-R", "renders"]);
    assert_eq!(code, 0);
    assert_eq!(files(&lines).len(), 4);
    assert_eq!(summaries(&lines).len(), 1);
    assert!(summaries(&lines)[0]["pattern"]
        .as_str()
        .unwrap()
        .ends_with("beauty.%04d.exr"));
}

fn have_ffmpeg() -> bool {
    tool("ffmpeg") && tool("ffprobe")
}

fn make_movie(path: &Path) {
    let ok = Std::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=24000/1001",
        ])
        .args([
            "-frames:v",
            "12",
            "-c:v",
            "mjpeg",
            "-timecode",
            "01:00:00:00",
        ])
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn movies_through_ffprobe_and_ffprobe_missing() {
    if !have_ffmpeg() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let mov = d.path().join("clip.mov");
    make_movie(&mov);
    let (code, lines) = probe_json(d.path(), &["clip.mov"]);
    assert_eq!(code, 0, "{lines:?}");
    let f = &lines[0];
    assert_eq!(f["format"], "movie");
    assert_eq!(f["codec"], "mjpeg");
    assert_eq!(f["width"], 64);
    assert_eq!(f["fps_rational"]["num"], 24000);
    assert_eq!(f["fps_rational"]["den"], 1001);
    assert_eq!(f["frame_count"], 12);
    assert_eq!(f["timecode"], "01:00:00:00");
    // Cross-check the frame count with ffprobe itself.
    let out = Std::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_frames",
        ])
        .args(["-of", "csv=p=0"])
        .arg(&mov)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "12");
    // A movie cut in half has lost its index: not ok.
    let cut_mov = d.path().join("cut.mov");
    std::fs::copy(&mov, &cut_mov).unwrap();
    let n = std::fs::metadata(&cut_mov).unwrap().len();
    cut(&cut_mov, n / 2);
    let (code, lines) = probe_json(d.path(), &["cut.mov"]);
    assert_eq!(code, 1);
    assert_ne!(lines[0]["status"], "ok");
    // ffprobe missing: one warning, movie unreadable, images still probed.
    write_exr(&d.path().join("still.exr"), &ExrSpec::rgb(8, 8)).unwrap();
    std::fs::write(
        d.path().join("shotline.yaml"),
        "probe:\n  ffprobe: /nonexistent/ffprobe\n",
    )
    .unwrap();
    let out = shotline(d.path())
        .args(["--json", "probe", "clip.mov", "cut.mov", "still.exr"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("ffprobe not found").count(), 1, "{stderr}");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["status"], "unreadable");
    assert!(lines[0]["reason"].as_str().unwrap().contains("ffprobe"));
    assert_eq!(lines[2]["status"], "ok");
}

#[test]
fn missing_path_is_usage_error_and_table_output_is_readable() {
    let d = tempfile::tempdir().unwrap();
    let out = shotline(d.path())
        .args(["probe", "nope.exr"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.exr"));
    let out = shotline(d.path())
        .args(["probe", "none.####.exr"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    write_exr(&d.path().join("a.exr"), &ExrSpec::rgb(20, 10)).unwrap();
    std::fs::write(d.path().join("empty.exr"), b"").unwrap();
    let before: Vec<PathBuf> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let out = shotline(d.path())
        .args(["probe", "a.exr", "empty.exr"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("STATUS"), "{text}");
    assert!(text.contains("20x10"), "{text}");
    assert!(text.contains("truncated"), "{text}");
    assert!(text.contains("empty"), "{text}");
    let after: Vec<PathBuf> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before.len(), after.len(), "probe is read-only");
    // --problems hides the good file.
    let out = shotline(d.path())
        .args(["probe", "--problems", "a.exr", "empty.exr"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("a.exr"), "{text}");
}

#[test]
fn help_has_examples() {
    let out = Command::cargo_bin("shotline")
        .unwrap()
        .args(["probe", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Examples:"));
    assert!(text.contains("plate.####.exr"));
}

#[test]
fn multipart_json_and_long_listing() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("layers.exr");
    write_exr_parts(
        &p,
        &[
            ExrSpec::rgba(24, 12).named("beauty").tiled(8, 8),
            ExrSpec::rgb(24, 12)
                .named("diffuse")
                .compression(ExrCompression::Piz),
        ],
    )
    .unwrap();
    let (code, lines) = probe_json(d.path(), &["layers.exr"]);
    assert_eq!(code, 0, "{lines:?}");
    let f = &lines[0];
    assert_eq!(f["parts"], 2);
    assert_eq!(f["tiled"], true);
    assert_eq!(f["part_list"][0]["type"], "tiledimage");
    assert_eq!(f["part_list"][1]["name"], "diffuse");
    assert_eq!(f["part_list"][1]["compression"], "piz");
    assert_eq!(f["channels"][0]["part"], "beauty");
    assert_eq!(f["channels"].as_array().unwrap().len(), 7);
    // One file on the command line: the human output lists the details.
    let out = shotline(d.path())
        .args(["probe", "layers.exr"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("part: diffuse scanlineimage"), "{text}");
    assert!(text.contains("tiles: 8x8 one level"), "{text}");
}

/// Fails under CI when a tool a test needs is missing (skips only on a developer's machine).
fn need(found: bool, what: &str) -> bool {
    assert!(
        found || !shotline_testkit::under_ci(),
        "{what} is required under CI"
    );
    found
}

#[test]
fn numbered_movie_is_one_file_and_cut_movies_are_truncated() {
    if !need(have_ffmpeg(), "ffmpeg/ffprobe") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    make_movie(&d.path().join("SH030_review_v001.mov"));
    let (code, lines) = probe_json(d.path(), &["."]);
    assert_eq!(code, 0, "{lines:?}");
    assert!(
        summaries(&lines).is_empty(),
        "a movie is no sequence: {lines:?}"
    );
    assert_eq!(files(&lines).len(), 1);

    // Cut to 80%: index at the end (ffmpeg's default) and index first (faststart).
    for faststart in [false, true] {
        let src = d.path().join(format!("src{faststart}.mov"));
        let ok = Std::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=64x48:rate=24",
            ])
            .args(["-t", "2", "-c:v", "mpeg4"])
            .args(if faststart {
                &["-movflags", "+faststart"][..]
            } else {
                &[][..]
            })
            .arg(&src)
            .status()
            .unwrap();
        assert!(ok.success());
        let size = std::fs::metadata(&src).unwrap().len();
        cut(&src, size * 8 / 10);
        let (code, lines) = probe_json(d.path(), &[src.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert_eq!(
            lines[0]["status"], "truncated",
            "faststart {faststart}: {lines:?}"
        );
    }
}

#[test]
fn misconfigured_ffprobe_is_unreadable_naming_the_path() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("clip.mov"), b"\0\0\0\x14ftypqt  ").unwrap();
    std::fs::write(d.path().join("notexec"), b"#!/bin/sh\nexit 1\n").unwrap();
    for bad in ["/nonexistent/bin/ffprobe", "notexec"] {
        let cfg = d.path().join("shotline.yaml");
        let path = if bad.starts_with('/') {
            bad.to_string()
        } else {
            d.path().join(bad).display().to_string()
        };
        std::fs::write(&cfg, format!("probe:\n  ffprobe: {path}\n")).unwrap();
        let (code, lines) = probe_json(d.path(), &["clip.mov"]);
        assert_eq!(code, 1);
        assert_eq!(lines[0]["status"], "unreadable", "{lines:?}");
        assert!(
            lines[0]["reason"].as_str().unwrap().contains(&path),
            "{lines:?}"
        );
    }
    std::fs::write(
        d.path().join("shotline.yaml"),
        "probe:\n  ffprobe_timeout_secs: 18446744073709551615\n",
    )
    .unwrap();
    let out = shotline(d.path())
        .args(["probe", "clip.mov"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ffprobe_timeout_secs") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn huge_stepped_range_walks_only_frames_on_disk() {
    let d = tempfile::tempdir().unwrap();
    for f in [1, 3, 5] {
        write_exr(&d.path().join(format!("a.{f:04}.exr")), &ExrSpec::rgb(8, 4)).unwrap();
    }
    let (code, lines) = probe_json(d.path(), &["a.%04d.exr 1-100000000x2"]);
    assert_eq!(code, 1, "missing frames are a problem");
    assert_eq!(files(&lines).len(), 3);
    let s = summaries(&lines)[0];
    assert_eq!(s["missing"], "7-99999999x2");
    assert_eq!(s["missing_count"], 49_999_997);
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_reported_as_a_loop() {
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("b.exr", d.path().join("a.exr")).unwrap();
    std::os::unix::fs::symlink("a.exr", d.path().join("b.exr")).unwrap();
    let out = shotline(d.path())
        .args(["probe", "a.exr/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("symlink loop") && !err.contains("no such file"),
        "{err}"
    );
    // Inside a directory probe the loop is an unreadable file with that reason.
    let (code, lines) = probe_json(d.path(), &["."]);
    assert_eq!(code, 1);
    assert!(
        files(&lines).iter().all(|f| f["status"] == "unreadable"
            && f["reason"].as_str().unwrap().contains("symlink loop")),
        "{lines:?}"
    );
}
