//! `shotline frames`: human and JSON output, listing, inversion, padding, negative
//! expressions as arguments, and exit codes, all through the real binary.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};

mod support;

fn shotline() -> Command {
    support::shotline(&std::env::temp_dir())
}

/// Runs `shotline --json frames ARGS…`, expecting success, and parses the document.
fn json(args: &[&str]) -> Value {
    let out = shotline()
        .arg("--json")
        .arg("frames")
        .args(args)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn stdout(args: &[&str]) -> String {
    let out = shotline()
        .arg("frames")
        .args(args)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn human_output_has_range_first_last_count() {
    let out = stdout(&["1,2,3,5,7,9,10"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        ["range  1-3,5-9x2,10", "first  1", "last   10", "count  7"]
    );
}

#[test]
fn json_object_follows_the_documented_schema() {
    assert_eq!(
        json(&["20-1x5"]),
        json!({"range": "20-5x5", "first": 20, "last": 5, "count": 4})
    );
    assert_eq!(
        json(&["--list", "1-10:2"]),
        json!({"range": "1-10:2", "first": 1, "last": 10, "count": 10,
               "frames": [1, 3, 5, 7, 9, 2, 4, 6, 8, 10]})
    );
}

#[test]
fn huge_ranges_answer_without_listing() {
    assert_eq!(
        json(&["1-1000000000"]),
        json!({"range": "1-1000000000", "first": 1, "last": 1000000000, "count": 1000000000u64})
    );
    assert_eq!(
        json(&["--invert", "1-1000000000x2"]),
        json!({"range": "2-999999998x2", "first": 2, "last": 999999998, "count": 499999999})
    );
}

#[test]
fn list_prints_every_frame_in_set_order() {
    assert_eq!(stdout(&["--list", "3-1,7"]), "3\n2\n1\n7\n");
}

#[test]
fn list_refuses_more_than_max_with_a_clear_error() {
    shotline()
        .args(["frames", "--list", "1-1000000000"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("1000000000 frames"))
        .stderr(predicate::str::contains("--max"));
    assert_eq!(stdout(&["--list", "--max", "3", "1-3"]), "1\n2\n3\n");
    shotline()
        .args(["frames", "--list", "--max", "2", "1-3"])
        .assert()
        .code(2);
}

#[test]
fn invert_describes_the_missing_frames() {
    let out = stdout(&["--invert", "1-10x2,20"]);
    assert!(out.starts_with("missing  2-10x2,11-19\n"), "{out}");
    assert!(out.contains("count    14"), "{out}");
    assert_eq!(
        json(&["--invert", "--list", "1001-1049,1051-1100"]),
        json!({"range": "1050", "first": 1050, "last": 1050, "count": 1, "frames": [1050]})
    );
}

#[test]
fn invert_of_a_complete_range_is_empty() {
    assert_eq!(
        json(&["--invert", "1-10"]),
        json!({"range": "", "first": null, "last": null, "count": 0})
    );
    let out = stdout(&["--invert", "1-10"]);
    assert!(
        out.contains("(none)") && out.contains("count    0"),
        "{out}"
    );
}

#[test]
fn pad_zero_pads_listed_frames_and_first_last() {
    assert_eq!(
        stdout(&["--list", "--pad", "4", "-2-1"]),
        "-002\n-001\n0000\n0001\n"
    );
    let out = stdout(&["--pad", "4", "1001-1003,7"]);
    assert!(
        out.contains("first  1001\n") && out.contains("last   0007\n"),
        "{out}"
    );
}

#[test]
fn negative_expression_works_as_plain_argument_and_after_dashes() {
    let want = json!({"range": "-5--1", "first": -5, "last": -1, "count": 5});
    assert_eq!(json(&["-5--1"]), want);
    assert_eq!(json(&["--", "-5--1"]), want);
    assert_eq!(
        json(&["-3"]),
        json!({"range": "-3", "first": -3, "last": -3, "count": 1})
    );
    assert_eq!(stdout(&["--list", "--", "-1-1"]), "-1\n0\n1\n");
    assert_eq!(stdout(&["-5--3", "--list"]), "-5\n-4\n-3\n");
    assert_eq!(stdout(&["-l", "-5--3"]), "-5\n-4\n-3\n");
}

#[test]
fn malformed_expression_exits_2_with_a_caret() {
    shotline()
        .args(["frames", "1-20X5"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("\"1-20X5\" at character 5"))
        .stderr(predicate::str::contains("    1-20X5\n        ^\n"));
    for bad in [
        "1x5",
        "1:5",
        "1-",
        "1-20x0",
        "1-20x-5",
        "a-z",
        "99999999999999999999",
    ] {
        shotline()
            .args(["frames", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("invalid frame range"));
    }
    shotline()
        .args(["frames", ""])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("empty expression"));
}

#[test]
fn a_set_without_a_short_spelling_is_refused() {
    shotline()
        .args(["frames", "--invert", "1-1000000000x2,1-1000000000x3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no short spelling"));
}

#[test]
fn help_has_examples() {
    shotline()
        .args(["frames", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("shotline frames -5--1"));
}

#[test]
fn staggers_answer_at_once_and_print_as_staggers() {
    assert_eq!(
        json(&["1-10000:20"]),
        json!({"range": "1-10000:20", "first": 1, "last": 9992, "count": 10000})
    );
    let big = json(&["1-100000:50"]);
    assert_eq!(big["range"], "1-100000:50");
    assert_eq!(big["count"], 100000);
    let listed = json(&["--list", "1-100000:50"]);
    assert_eq!(listed["frames"].as_array().unwrap().len(), 100000);
    assert_eq!(
        json(&["--list", "20-1:-2"])["frames"],
        json!([20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1])
    );
    assert_eq!(json(&["--invert", "1-1000000000:3"])["count"], 0);
}

#[test]
fn interleaved_sparse_runs_invert_at_once_and_max_bounds_the_work() {
    let inv = json(&["--invert", "1-10000000000x65537,2-10000000000x65539"]);
    // 1 and 2 are frames; 3 is the first hole.
    assert_eq!(inv["first"], 3);
    assert_eq!(inv["count"], 9_999_657_981u64);
    shotline()
        .args([
            "frames",
            "--invert",
            "--max",
            "1000",
            "1-10000000000x65537,2-10000000000x65539",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("1000"));
}

#[test]
fn pad_beyond_32_is_a_usage_error_not_a_panic() {
    for bad in ["65536", "33", "-1", "99999999999999999999999"] {
        shotline()
            .args(["frames", "--pad", bad, "1"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--pad"));
    }
    let out = stdout(&["--list", "--pad", "32", "7"]);
    assert_eq!(out, format!("{:0>32}\n", 7));
    shotline()
        .args(["frames", "--max", "-1", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--max"));
}

#[test]
fn publish_range_takes_frame_range_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let pat = dir.path().join("comp.%04d.exr");
    let pat = pat.to_str().unwrap();
    let publish = |range: &str| {
        let mut c = shotline();
        c.env("SHOTLINE_DB", dir.path().join("db.sqlite"))
            .args(["publish", "--shot", "SH010", "--step", "COMP", pat])
            .args(["--range", range]);
        c
    };
    // A stepped set is accepted (only its frames are expected); here the command goes on to
    // the missing database, which proves the range itself parsed.
    publish("1001-1100x2")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no tracking database"));
    publish("1001-1100X2")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--range"))
        .stderr(predicate::str::contains("character 10"));
}
