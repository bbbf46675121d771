//! Shared set-up for the tracking integration tests: a project in a temp dir, the real binary
//! run as a chosen user, and real EXR frames to publish.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// A project created with `shotline init` by user `boss` (its admin).
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    /// `init` + a COMP shot step + shot SH010 (1001-1005).
    pub fn new() -> Project {
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        p.ok("boss", &["init", "--code", "DEMO", "--name", "Demo"]);
        p.ok("boss", &["step", "add", "COMP", "--kind", "shot"]);
        p.ok(
            "boss",
            &["shot", "add", "SH010", "--in", "1001", "--out", "1005"],
        );
        p
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
