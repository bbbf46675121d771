//! Global behaviour shared by every command: config discovery and errors, exit codes, logging
//! destinations, help.

use assert_cmd::Command;
use predicates::prelude::*;

mod support;

/// The binary (each test chooses its folder).
fn shotline() -> Command {
    support::shotline(&std::env::temp_dir())
}

#[test]
fn bad_config_is_exit_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shotline.yaml"),
        "project:\n  code: DEMO\n  fsp: 24\n",
    )
    .unwrap();
    let sub = dir.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    shotline()
        .current_dir(&sub)
        .args(["frames", "1-3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("shotline.yaml"))
        .stderr(predicate::str::contains("line 3 column 3"))
        .stderr(predicate::str::contains("fsp"));
}

#[test]
fn wrong_type_in_config_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("custom.yaml");
    std::fs::write(&cfg, "project:\n  fps: fast\n").unwrap();
    shotline()
        .current_dir(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["frames", "1-3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("custom.yaml"))
        .stderr(predicate::str::contains("line 2 column 8"));
}

#[test]
fn config_from_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("env.yaml");
    std::fs::write(&cfg, "nonsense_section: 1\n").unwrap();
    shotline()
        .current_dir(dir.path())
        .env("SHOTLINE_CONFIG", &cfg)
        .args(["frames", "1-3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("env.yaml"));
}

#[test]
fn missing_explicit_config_is_an_error_not_defaults() {
    let dir = tempfile::tempdir().unwrap();
    shotline()
        .current_dir(dir.path())
        .args(["--config", "nope.yaml", "frames", "1-3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.yaml"));
}

#[test]
fn no_config_runs_on_defaults() {
    let dir = tempfile::tempdir().unwrap();
    shotline()
        .current_dir(dir.path())
        .args(["frames", "1-3", "--json"])
        .assert()
        .success();
}

#[test]
fn logs_go_to_log_file_never_stdout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shotline.yaml"), "project:\n  code: X\n").unwrap();
    let log = dir.path().join("run.log");
    let out = shotline()
        .current_dir(dir.path())
        .args(["-vv", "--json", "frames", "1-3", "--log-file"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("stdout is pure JSON");
    assert_eq!(v["count"], 3);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("loaded config"), "log file: {logged}");
}

#[test]
fn usage_error_is_exit_2() {
    shotline().arg("no-such-command").assert().code(2);
}

#[test]
fn help_lists_exit_codes() {
    shotline()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes"));
}
