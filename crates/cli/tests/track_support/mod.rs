//! Shared set-up for the tracking integration tests: a project in a temp dir, the real binary
//! run as a chosen user, and real EXR frames to publish.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use std::process::{Child, Stdio};

/// A project created with `shotline init` by user `boss` (its admin).
pub struct Project {
    pub dir: tempfile::TempDir,
}

/// The file in a test project naming its PostgreSQL database (`SHOTLINE_DB` for every command);
/// a file rather than a field so the tests that build `Project { dir }` stay as they are.
const PG_MARKER: &str = ".shotline-test-pg";

/// A fresh database on the test server `SHOTLINE_TEST_PG` (`scripts/pg.sh start`), or `None`
/// with a message when there is none; under CI a missing server fails the test. The store's
/// own helper, under the name these tests have always used.
pub fn fresh_pg_database() -> Option<String> {
    shotline_store::testdb::fresh_pg_url()
}

impl Project {
    /// `init` + a COMP shot step + shot SH010 (1001-1005).
    pub fn new() -> Project {
        Project::init(Project {
            dir: tempfile::tempdir().unwrap(),
        })
    }

    /// [`Project::new`] with the tracking database on PostgreSQL; `None` when skipped.
    pub fn new_on_postgres() -> Option<Project> {
        let pg = fresh_pg_database()?;
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(p.root().join(PG_MARKER), pg).unwrap();
        Some(Project::init(p))
    }

    /// The PostgreSQL database of this project, if it is on PostgreSQL.
    pub fn pg(&self) -> Option<String> {
        std::fs::read_to_string(self.root().join(PG_MARKER)).ok()
    }

    /// Both: the SQLite project, and the PostgreSQL one when a test server is given.
    pub fn on_both() -> Vec<Project> {
        std::iter::once(Project::new())
            .chain(Project::new_on_postgres())
            .collect()
    }

    fn init(p: Project) -> Project {
        p.ok("boss", &["init", "--code", "DEMO", "--name", "Demo"]);
        p.ok("boss", &["step", "add", "COMP", "--kind", "shot"]);
        p.ok(
            "boss",
            &["shot", "add", "SH010", "--in", "1001", "--out", "1005"],
        );
        p
    }

    /// What the database holds, to prove a command wrote nothing: the SQLite file's bytes, or on
    /// PostgreSQL the audit trail and the shot list as the binary reports them.
    pub fn snapshot(&self) -> Vec<u8> {
        if self.pg().is_none() {
            return db_bytes(&self.db());
        }
        let mut all = self.ok("x", &["log", "--json"]).into_bytes();
        all.extend(self.ok("x", &["shot", "ls", "--json"]).into_bytes());
        all
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.root().join(".shotline/shotline.db")
    }

    /// The binary, in the project, as `user`.
    pub fn cmd(&self, user: &str) -> Command {
        let mut c = Command::cargo_bin("shotline").unwrap();
        c.current_dir(self.root())
            .env("NO_COLOR", "1")
            .env("SHOTLINE_USER", user)
            .env_remove("SHOTLINE_CONFIG")
            .env_remove("SHOTLINE_DB")
            .env_remove("SHOTLINE_TEST_PAUSE_AT");
        if let Some(url) = self.pg() {
            c.env("SHOTLINE_DB", url);
        }
        c
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok(&self, user: &str, args: &[&str]) -> String {
        let out = self.cmd(user).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and asserts the exit code; returns stderr.
    pub fn fails(&self, user: &str, args: &[&str], code: i32) -> String {
        let out = self.cmd(user).args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// `--json` output parsed as one document.
    pub fn json(&self, user: &str, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(user, &a)).unwrap()
    }

    /// `--json` output parsed as JSON Lines.
    pub fn lines(&self, user: &str, args: &[&str]) -> Vec<Value> {
        let mut a = args.to_vec();
        a.push("--json");
        self.ok(user, &a)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Writes real 8×8 EXR frames `renders/<name>.NNNN.exr` and returns the folder.
    pub fn frames(&self, name: &str, frames: std::ops::RangeInclusive<i64>) -> PathBuf {
        let dir = self.root().join("renders").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let spec = shotline_media::testdata::ExrSpec::rgb(8, 8);
        shotline_media::testdata::write_exr_sequence(&dir, &format!("{name}."), 4, frames, &spec)
            .unwrap();
        dir
    }
}

/// Bytes of the database and its WAL, to prove a command wrote nothing.
pub fn db_bytes(db: &Path) -> Vec<u8> {
    let mut all = std::fs::read(db).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(w) = std::fs::read(PathBuf::from(wal)) {
        all.extend(w);
    }
    all
}

pub fn publish_process(p: &Project, user: &str, dir: &Path, env: &[(&str, &Path)]) -> Child {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("shotline"));
    c.current_dir(p.root())
        .env("NO_COLOR", "1")
        .env("SHOTLINE_USER", user)
        .env_remove("SHOTLINE_CONFIG")
        .env_remove("SHOTLINE_DB")
        .env_remove("SHOTLINE_TEST_PAUSE_AT")
        .args(["publish", "--shot", "SH010", "--step", "COMP", "--json"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = p.pg() {
        c.env("SHOTLINE_DB", url);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Every manifest in `dir` parses completely and names a version the database has; returns
/// the manifest numbers.
pub fn check_consistent(p: &Project, dir: &Path) -> Vec<i64> {
    let check = db_check(p);
    assert_eq!(check["integrity"], serde_json::json!(["ok"]), "{check}");
    assert_eq!(check["foreign_keys"], serde_json::json!([]), "{check}");
    let versions = p.lines("x", &["versions", "ls"]);
    let mut numbers: Vec<i64> = versions
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=numbers.len() as i64).collect::<Vec<_>>(),
        "numbers are dense"
    );
    let mut manifests = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".publish.json") {
            let m: Value = serde_json::from_slice(&std::fs::read(dir.join(&name)).unwrap())
                .unwrap_or_else(|e| panic!("{name} is not complete JSON: {e}"));
            let n = m["version"]["number"].as_i64().unwrap();
            assert!(numbers.contains(&n), "{name} names a version the DB lacks");
            manifests.push(n);
        }
    }
    manifests.sort();
    manifests
}

pub fn db_check(p: &Project) -> Value {
    let out = p.cmd("x").args(["db", "check", "--json"]).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
