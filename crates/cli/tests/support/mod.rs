//! Shared helpers for the integration tests that run the real `shotline` binary on files they
//! create: one way to run it (in a folder, as user `tester`, nothing leaking in from the
//! caller's environment), a project with a shot in the tracking database, real EXR/DPX frames,
//! and the checks the ingest tests share (a delivery never modified, MHL verified by the
//! reference tool). Used with `mod support;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use shotline_media::testdata::{write_dpx, write_exr_sequence, DpxSpec, ExrSpec};

/// The user the commands run as.
pub const USER: &str = "tester";

/// The real binary, run in `dir` as [`USER`], without colour, with no config, database or
/// test hook chosen by the caller's environment.
pub fn shotline(dir: &Path) -> Command {
    Command::from_std(shotline_std(dir))
}

/// [`shotline`] as a `std::process::Command`, for tests that spawn it and wait (or kill it).
pub fn shotline_std(dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("shotline"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("SHOTLINE_USER", USER)
        .env_remove("SHOTLINE_CONFIG")
        .env_remove("SHOTLINE_DB")
        .env_remove("SHOTLINE_RENDER_HOST")
        .env_remove("SHOTLINE_TEST_PAUSE_AT")
        .env_remove("SHOTLINE_INGEST_TEST_THROTTLE_MS")
        .env_remove("SHOTLINE_INGEST_TEST_KILL_AT");
    c
}

/// Runs `shotline args` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    shotline(dir).args(args).output().unwrap()
}

/// Runs `shotline args` in `dir` and asserts it succeeded.
pub fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = run(dir, args);
    assert_success(&out, args);
    out
}

/// Asserts that a finished command exited 0, showing what it said otherwise.
pub fn assert_success(out: &Output, what: &[&str]) {
    assert!(
        out.status.success(),
        "{what:?} exited {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `shotline args` in `dir`; its exit code and stdout as one JSON document.
pub fn json(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = run(dir, args);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

/// Stdout as JSON Lines.
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Writes `bytes` bytes at `root/rel`, making its folders.
pub fn touch(root: &Path, rel: &str, bytes: usize) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, vec![b'x'; bytes]).unwrap();
    p
}

/// Makes `p` and its parents; returns it.
pub fn mkdir(p: &Path) -> PathBuf {
    std::fs::create_dir_all(p).unwrap();
    p.to_path_buf()
}

/// True when the external tool `name` runs; under `CI` a missing tool fails the test instead.
pub fn tool(name: &str) -> bool {
    shotline_testkit::require_tool(name).is_some()
}

/// The arguments publishing `path` as a version of SH010 COMP, then `extra`.
pub fn publish_sh010<'a>(path: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["publish", "--shot", "SH010", "--step", "COMP", path];
    args.extend_from_slice(extra);
    args
}

/// A project at `root` (created) with a tracking database: shot SQ010/SH020 (cut 1001-1010)
/// and step PLATE, 64×48.
pub fn project_with_shot(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    ok(
        root,
        &["init", "--code", "DEMO", "--width", "64", "--height", "48"],
    );
    ok(
        root,
        &[
            "shot",
            "add",
            "SH020",
            "--sequence",
            "SQ010",
            "--in",
            "1001",
            "--out",
            "1010",
        ],
    );
    ok(root, &["step", "add", "PLATE", "--kind", "shot"]);
}

/// Real 64×48 RGBA EXR frames `<head><frame:04>.exr` in `dir` (created); `seed` varies the
/// pixels.
pub fn exr_seq(dir: &Path, head: &str, frames: std::ops::RangeInclusive<i64>, seed: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let mut spec = ExrSpec::rgba(64, 48);
    spec.seed = seed;
    write_exr_sequence(dir, head, 4, frames, &spec).unwrap();
}

/// Real 32×24 10-bit DPX frames `<head><frame:04>.dpx` in `dir` (created).
pub fn dpx_seq(dir: &Path, head: &str, frames: std::ops::RangeInclusive<i64>) {
    std::fs::create_dir_all(dir).unwrap();
    for f in frames {
        write_dpx(
            &dir.join(format!("{head}{f:04}.dpx")),
            &DpxSpec::rgb10(32, 24, true),
        )
        .unwrap();
    }
}

/// A temp folder holding a project without a database (`project/shotline.yaml`: project code
/// DEMO, no free-space reserve, then `config` lines of the `ingest:` section) and room for
/// deliveries beside it.
pub struct Env {
    _tmp: tempfile::TempDir,
    /// The temp folder.
    pub root: PathBuf,
    /// The project in it.
    pub project: PathBuf,
}

/// See [`Env`].
pub fn env(config: &str) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let project = root.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("shotline.yaml"),
        format!("project:\n  code: DEMO\ningest:\n  reserve_mib: 0\n{config}"),
    )
    .unwrap();
    Env {
        _tmp: tmp,
        root,
        project,
    }
}

/// `shotline ingest --json args` in the project, with `envs` set: exit code, the report (or
/// `null`) and stderr.
pub fn ingest(e: &Env, envs: &[(&str, &str)], args: &[&str]) -> (i32, Value, String) {
    let out = shotline(&e.project)
        .envs(envs.iter().copied())
        .arg("ingest")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, v, stderr)
}

/// The clip `key` of an ingest report.
pub fn clip<'a>(r: &'a Value, key: &str) -> &'a Value {
    r["plan"]["clips"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("no clip {key} in {r:#}"))
}

/// Every file below `dir` → (content, mtime), to prove a delivery is never modified.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    all_files(dir)
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).unwrap();
            let seen = (std::fs::read(&p).unwrap(), m.modified().unwrap());
            (p, seen)
        })
        .collect()
}

/// The files directly in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// How many `.exr` files are directly in `dir`.
pub fn exr_count(dir: &Path) -> usize {
    files_in(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "exr"))
        .count()
}

/// Every file below `dir`, recursively (none when it does not exist).
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The reference tool's verdict on a version folder's ASC MHL history; `None` when the tool is
/// not installed.
pub fn ascmhl_verify(dir: &Path) -> Option<bool> {
    let out = std::process::Command::new("ascmhl-debug")
        .arg("verify")
        .arg(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "ascmhl: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(out.status.success())
}

/// Asserts that the reference tool verifies `dir`'s MHL history.
pub fn assert_mhl_ok(dir: &Path) {
    match ascmhl_verify(dir) {
        Some(ok) => assert!(ok, "ascmhl verify failed for {}", dir.display()),
        // CI installs it (scripts/setup.sh): there a missing reference tool is a failure.
        None if shotline_testkit::under_ci() => {
            panic!("ascmhl-debug not installed (scripts/setup.sh --tests installs it)")
        }
        None => eprintln!("ascmhl-debug not installed: reference check skipped"),
    }
}
