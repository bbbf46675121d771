//! Tracking end to end: init, catalogue, publish, versions, status, roles, log, db care. The
//! real binary on a project in a temp dir, with real EXR frames.

mod support;
mod track_support;

use std::fs;

use support::publish_sh010;
use track_support::{db_bytes, Project};

#[test]
fn init_creates_config_and_database_and_never_clobbers() {
    let p = Project::new();
    let yaml = fs::read_to_string(p.root().join("shotline.yaml")).unwrap();
    assert!(yaml.contains("code: \"DEMO\""), "{yaml}");
    assert!(p.db().is_file());
    let err = p.fails("boss", &["init", "--code", "OTHER"], 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        fs::read_to_string(p.root().join("shotline.yaml")).unwrap(),
        yaml
    );
    // A fresh folder whose database already holds a project is refused too.
    let other = p.root().join("other");
    fs::create_dir(&other).unwrap();
    let err = p
        .cmd("boss")
        .current_dir(&other)
        .env("SHOTLINE_DB", p.db())
        .args(["init", "--code", "X"])
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("already exists"));
    assert!(!other.join("shotline.yaml").exists());
    // --json report.
    let fresh = tempfile::tempdir().unwrap();
    let out = p
        .cmd("eve")
        .current_dir(fresh.path())
        .args(["init", "--code", "F", "--fps", "25", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["project"]["fps"], 25.0);
    assert_eq!(v["admin"], "eve");
}

#[test]
fn publish_records_numbered_versions_with_manifests() {
    for p in Project::on_both() {
        publish_records_numbered_versions_with_manifests_on(&p);
    }
}

fn publish_records_numbered_versions_with_manifests_on(p: &Project) {
    let dir = p.frames("comp", 1001..=1005);
    let pat = dir.join("comp.%04d.exr");
    let pat = pat.to_str().unwrap();
    let v1 = p.json("ana", &publish_sh010(pat, &["-m", "first"]));
    assert_eq!(v1["published"], true);
    assert_eq!(v1["version"]["number"], 1);
    assert_eq!(v1["version"]["files"]["frame_range"], "1001-1005");
    assert_eq!(v1["version"]["files"]["file_count"], 5);
    assert_eq!(v1["version"]["files"]["width"], 8);
    assert_eq!(v1["version"]["author"], "ana");
    // The folder form finds the one sequence.
    let v2 = p.json("ana", &publish_sh010(dir.to_str().unwrap(), &[]));
    assert_eq!(v2["version"]["number"], 2);
    let manifest = dir.join("SH010_COMP_v002.publish.json");
    let m: serde_json::Value = serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(m["version"]["number"], 2);
    assert_eq!(m["project"], "DEMO");
    assert!(dir.join("SH010_COMP_v001.publish.json").is_file());
    // A resource numbers on its own.
    let bg = p.json(
        "ana",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "COMP",
            "--resource",
            "BG",
            pat,
        ],
    );
    assert_eq!(bg["version"]["number"], 1);

    let all = p.lines("ana", &["versions", "ls"]);
    assert_eq!(all.len(), 3);
    let latest = p.lines("ana", &["versions", "ls", "--latest", "--shot", "SH010"]);
    let nums: Vec<(String, i64)> = latest
        .iter()
        .map(|v| {
            (
                v["resource"].as_str().unwrap().to_string(),
                v["number"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(nums, [("".to_string(), 2), ("BG".to_string(), 1)]);
    let id = v2["version"]["id"].to_string();
    let shown = p.json("ana", &["versions", "show", &id]);
    assert_eq!(shown["comment"], "");
    assert_eq!(shown["used_by"], serde_json::json!([]));
    let human = p.ok("ana", &["versions", "ls"]);
    assert!(human.lines().next().unwrap().starts_with("ID"), "{human}");
    assert!(human.contains("v002"), "{human}");
    // The audit trail has the publishes, by ana.
    let ev = p.lines("x", &["log", "--action", "version.publish"]);
    assert_eq!(ev.len(), 3);
    assert!(ev.iter().all(|e| e["user"] == "ana"));
    assert_eq!(ev[0]["entity"], "SH010 COMP v001");
}

/// `--range` is a frame set: a stepped one expects only its own frames (the ones in between
/// are not missing), and a frame of the set that is absent still refuses the publish.
#[test]
fn publish_with_a_stepped_range_expects_only_its_frames() {
    for p in Project::on_both() {
        publish_with_a_stepped_range_expects_only_its_frames_on(&p);
    }
}

fn publish_with_a_stepped_range_expects_only_its_frames_on(p: &Project) {
    let dir = p.frames("step", 1001..=1005);
    for f in [1002, 1004] {
        fs::remove_file(dir.join(format!("step.{f}.exr"))).unwrap();
    }
    let pat = dir.join("step.####.exr");
    let pat = pat.to_str().unwrap();
    let args = |range: &'static str| {
        vec![
            "publish", "--shot", "SH010", "--step", "COMP", pat, "--range", range,
        ]
    };
    let err = p.fails("ana", &args("1001-1007x2"), 1);
    assert!(
        err.contains("missing-frames") && err.contains("1007") && !err.contains("1002"),
        "{err}"
    );
    let v = p.json("ana", &args("1001-1005x2"));
    assert_eq!(v["published"], true, "{v}");
    assert_eq!(v["verification"]["range"], "1001-1005x2", "{v}");
}

#[test]
fn publish_refuses_bad_frames_unless_forced() {
    for p in Project::on_both() {
        publish_refuses_bad_frames_unless_forced_on(&p);
    }
}

fn publish_refuses_bad_frames_unless_forced_on(p: &Project) {
    let dir = p.frames("gap", 1001..=1005);
    fs::remove_file(dir.join("gap.1003.exr")).unwrap();
    let pat = dir.join("gap.####.exr");
    let pat = pat.to_str().unwrap();
    let err = p.fails("ana", &publish_sh010(pat, &[]), 1);
    assert!(
        err.contains("missing-frames") && err.contains("1003"),
        "{err}"
    );
    assert!(p.lines("ana", &["versions", "ls"]).is_empty());
    let v = p.json("ana", &publish_sh010(pat, &["--force"]));
    assert_eq!(v["version"]["files"]["missing_frames"], "1003");
    // Unknown shot / step: clear input errors, nothing recorded.
    let err = p.fails(
        "ana",
        &[
            "publish", "--shot", "SH999", "--step", "COMP", pat, "--force",
        ],
        2,
    );
    assert!(err.contains("SH999"), "{err}");
    let err = p.fails(
        "ana",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "NOPE",
            pat,
            "--force",
            "--range",
            "1001-1005",
        ],
        2,
    );
    assert!(err.contains("NOPE"), "{err}");
    let err = p.fails("ana", &publish_sh010(pat, &["--state", "DONE"]), 2);
    assert!(err.contains("TODO, WIP"), "{err}");
    assert_eq!(p.lines("ana", &["versions", "ls"]).len(), 1);
}

#[test]
fn roles_gate_structure_and_approvals() {
    for p in Project::on_both() {
        roles_gate_structure_and_approvals_on(&p);
    }
}

fn roles_gate_structure_and_approvals_on(p: &Project) {
    let err = p.fails("ana", &["shot", "add", "SH020"], 2);
    assert!(
        err.contains("ana is standard") && err.contains("needs lead"),
        "{err}"
    );
    p.ok(
        "ana",
        &["status", "set", "SH010", "COMP", "--state", "REVIEW"],
    );
    let err = p.fails(
        "ana",
        &["status", "set", "SH010", "COMP", "--state", "APPROVED"],
        2,
    );
    assert!(err.contains("needs lead"), "{err}");
    // Only project_admin+ manage roles.
    p.fails("ana", &["db", "user", "set", "ana", "--role", "lead"], 2);
    p.ok("boss", &["db", "user", "set", "lea", "--role", "lead"]);
    let s = p.json(
        "lea",
        &[
            "status", "set", "SH010", "COMP", "--state", "APPROVED", "-m", "nice",
        ],
    );
    assert_eq!(s["state"], "APPROVED");
    assert_eq!(s["updated_by"], "lea");
    // FINAL only after APPROVED; an artist cannot undo an approval.
    p.fails(
        "ana",
        &["status", "set", "SH010", "COMP", "--state", "WIP"],
        2,
    );
    p.ok(
        "lea",
        &["status", "set", "SH010", "COMP", "--state", "FINAL"],
    );
    let users = p.lines("boss", &["db", "user", "ls"]);
    let roles: Vec<(String, String)> = users
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().into(),
                u["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(roles.contains(&("boss".into(), "admin".into())));
    assert!(roles.contains(&("lea".into(), "lead".into())));
    let ev = p.lines(
        "x",
        &["log", "--entity", "SH010 COMP", "--action", "status."],
    );
    assert_eq!(ev.len(), 3);
    assert_eq!(
        ev[1]["details"]["state"],
        serde_json::json!(["REVIEW", "APPROVED"])
    );
}

#[test]
fn status_if_state_refuses_a_stale_change_with_exit_1() {
    for p in Project::on_both() {
        status_if_state_refuses_a_stale_change_with_exit_1_on(&p);
    }
}

fn status_if_state_refuses_a_stale_change_with_exit_1_on(p: &Project) {
    p.ok("boss", &["db", "user", "set", "lea", "--role", "lead"]);
    // Both looked at the task while it was TODO; lea decides first.
    let s = p.json(
        "lea",
        &[
            "status",
            "set",
            "SH010",
            "COMP",
            "--state",
            "WIP",
            "--if-state",
            "TODO",
        ],
    );
    assert_eq!(s["state"], "WIP");
    let err = p.fails(
        "boss",
        &[
            "status",
            "set",
            "SH010",
            "COMP",
            "--state",
            "OMIT",
            "--if-state",
            "TODO",
        ],
        1,
    );
    assert!(
        err.contains("SH010 COMP is WIP (set by lea at") && err.contains("not TODO"),
        "{err}"
    );
    let now = p.lines("x", &["status", "ls", "SH010"]);
    let comp = now.iter().find(|s| s["step"] == "COMP").unwrap();
    assert_eq!(comp["state"], "WIP");
    // A misspelt state is bad input (2), not a conflict.
    p.fails(
        "boss",
        &[
            "status",
            "set",
            "SH010",
            "COMP",
            "--state",
            "OMIT",
            "--if-state",
            "DONE",
        ],
        2,
    );
    p.ok(
        "boss",
        &[
            "status",
            "set",
            "SH010",
            "COMP",
            "--state",
            "OMIT",
            "--if-state",
            "WIP",
        ],
    );
}

#[test]
fn shot_import_is_all_or_nothing_with_line_and_column() {
    for p in Project::on_both() {
        shot_import_is_all_or_nothing_with_line_and_column_on(&p);
    }
}

fn shot_import_is_all_or_nothing_with_line_and_column_on(p: &Project) {
    let csv = p.root().join("shots.csv");
    fs::write(
        &csv,
        "code,sequence,in,out,handles\nSH020,SQ01,1001,1050,8\nSH010,SQ01,1001,1010,\n",
    )
    .unwrap();
    let r = p.json("boss", &["shot", "import", csv.to_str().unwrap()]);
    assert_eq!(r["created"], serde_json::json!(["SH020"]));
    assert_eq!(r["updated"], serde_json::json!(["SH010"]));
    let shots = p.lines("x", &["shot", "ls", "--sequence", "SQ01"]);
    assert_eq!(shots.len(), 2);
    assert_eq!(shots[0]["frame_out"], 1010);
    fs::write(&csv, "code,in,out\nSH030,1001,1100\nSH040,10O1,1100\n").unwrap();
    let err = p.fails("boss", &["shot", "import", csv.to_str().unwrap()], 2);
    assert!(
        err.contains("shots.csv:3:2:") && err.contains("10O1"),
        "{err}"
    );
    assert_eq!(
        p.lines("x", &["shot", "ls"]).len(),
        2,
        "nothing of the bad file written"
    );
    // Dry run writes nothing.
    fs::write(&csv, "code\nSH050\n").unwrap();
    let before = p.snapshot();
    let r = p.json(
        "boss",
        &["shot", "import", csv.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(r["created"], serde_json::json!(["SH050"]));
    assert_eq!(p.snapshot(), before);
    // shot set, and an inverted range refused.
    p.ok("boss", &["shot", "set", "SH020", "--out", "1060"]);
    let err = p.fails("boss", &["shot", "set", "SH020", "--in", "2000"], 2);
    assert!(err.contains("frame out at or after frame in"), "{err}");
}

#[test]
fn assets_and_steps() {
    for p in Project::on_both() {
        assets_and_steps_on(&p);
    }
}

fn assets_and_steps_on(p: &Project) {
    p.ok(
        "boss",
        &[
            "step", "add", "MOD", "--kind", "asset", "--name", "Modeling",
        ],
    );
    p.ok("boss", &["asset", "add", "robot", "--group", "chars"]);
    let err = p.fails("boss", &["asset", "add", "robot"], 2);
    assert!(err.contains("already exists"), "{err}");
    let assets = p.lines("x", &["asset", "ls", "--group", "chars"]);
    assert_eq!(assets[0]["code"], "robot");
    let steps = p.lines("x", &["step", "ls", "--kind", "asset"]);
    assert_eq!(steps.len(), 1);
    let dir = p.frames("robot", 1..=2);
    let v = p.json(
        "boss",
        &[
            "publish",
            "--asset",
            "robot",
            "--step",
            "MOD",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(
        v["version"]["item"],
        serde_json::json!({"kind": "asset", "code": "robot"})
    );
    // A shot step cannot take an asset.
    p.fails(
        "boss",
        &[
            "publish",
            "--asset",
            "robot",
            "--step",
            "COMP",
            dir.to_str().unwrap(),
        ],
        2,
    );
}

#[test]
fn read_only_commands_write_nothing() {
    let p = Project::new();
    let dir = p.frames("comp", 1001..=1005);
    p.ok("ana", &publish_sh010(dir.to_str().unwrap(), &[]));
    let before = db_bytes(&p.db());
    for args in [
        &["versions", "ls"][..],
        &["versions", "show", "1"],
        &["log", "--since", "1h"],
        &["shot", "ls"],
        &["step", "ls"],
        &["asset", "ls"],
        &["status", "ls"],
        &["db", "check"],
        &["db", "user", "ls"],
        &["db", "locks"],
    ] {
        p.ok("newcomer", args);
    }
    assert_eq!(db_bytes(&p.db()), before);
    // A read by an unknown user did not register them either.
    let users = p.lines("boss", &["db", "user", "ls"]);
    assert!(users.iter().all(|u| u["name"] != "newcomer"));
}

#[test]
fn backup_restore_check() {
    let p = Project::new();
    let dir = p.frames("comp", 1001..=1005);
    let d = dir.to_str().unwrap();
    p.ok("ana", &publish_sh010(d, &[]));
    let bak = p.root().join("bak.db");
    p.ok("ana", &["db", "backup", bak.to_str().unwrap()]);
    p.fails("ana", &["db", "backup", bak.to_str().unwrap()], 2);
    p.ok("ana", &publish_sh010(d, &[]));
    assert_eq!(p.lines("x", &["versions", "ls"]).len(), 2);
    // Junk is refused and the live DB untouched.
    let junk = p.root().join("junk.db");
    fs::write(&junk, vec![7u8; 4096]).unwrap();
    p.fails("boss", &["db", "restore", junk.to_str().unwrap()], 2);
    p.fails("ana", &["db", "restore", bak.to_str().unwrap()], 2);
    assert_eq!(p.lines("x", &["versions", "ls"]).len(), 2);
    let r = p.json("boss", &["db", "restore", bak.to_str().unwrap()]);
    assert!(std::path::Path::new(r["previous"].as_str().unwrap()).is_file());
    assert_eq!(p.lines("x", &["versions", "ls"]).len(), 1);
    let c = p.json("x", &["db", "check"]);
    assert_eq!(c["integrity"], serde_json::json!(["ok"]));
    assert_eq!(c["orphans"], serde_json::json!([]));
    // v002's manifest is still on disk from before the restore: the next publish does not issue
    // a second, different v002 (nor overwrite that manifest); it takes v003.
    let v = p.json("ana", &publish_sh010(d, &[]));
    assert_eq!(v["version"]["number"], 3);
    // A manifest that no longer matches its version is reported by db check.
    fs::write(dir.join("SH010_COMP_v001.publish.json"), "{}").unwrap();
    let err = p.fails("x", &["db", "check"], 1);
    assert!(err.contains("has no version id"), "{err}");
}

#[test]
fn newer_schema_and_missing_database_are_clear_errors() {
    let p = Project::new();
    {
        let c = shotline_store::connect(&p.db()).unwrap();
        c.execute(
            "INSERT INTO store_migrations VALUES (99, 'future', 'x')",
            [],
        )
        .unwrap();
    }
    let err = p.fails("x", &["versions", "ls"], 2);
    assert!(
        err.contains("schema version 99") && err.contains("upgrade shotline"),
        "{err}"
    );
    p.fails("boss", &["shot", "add", "SH020"], 2);
    let empty = tempfile::tempdir().unwrap();
    let out = p
        .cmd("x")
        .current_dir(empty.path())
        .args(["versions", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shotline init"));
    assert!(
        !empty.path().join(".shotline").exists(),
        "a read must not create a database"
    );
}

#[test]
fn help_has_examples() {
    let p = Project::new();
    for cmd in [
        &["init"][..],
        &["shot"],
        &["shot", "import"],
        &["asset"],
        &["step"],
        &["publish"],
        &["versions"],
        &["status"],
        &["log"],
        &["db"],
    ] {
        let mut a = cmd.to_vec();
        a.push("--help");
        let out = p.ok("x", &a);
        assert!(out.contains("Examples:"), "{cmd:?}: {out}");
    }
}

#[test]
fn identical_frames_warn_and_skip_identical_refuses() {
    for p in Project::on_both() {
        identical_frames_warn_and_skip_identical_refuses_on(&p);
    }
}

fn identical_frames_warn_and_skip_identical_refuses_on(p: &Project) {
    let dir = p.frames("same", 1001..=1005);
    let dir = dir.to_str().unwrap();
    p.ok("ana", &publish_sh010(dir, &[]));
    let out = p.cmd("ana").args(publish_sh010(dir, &[])).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already records these frames"), "{err}");
    let err = p.fails("ana", &publish_sh010(dir, &["--skip-identical"]), 1);
    assert!(err.contains("--skip-identical"), "{err}");
    assert_eq!(p.lines("x", &["versions", "ls"]).len(), 2);
}

#[test]
fn unsafe_codes_and_huge_frames_are_refused() {
    for p in Project::on_both() {
        unsafe_codes_and_huge_frames_are_refused_on(&p);
    }
}

fn unsafe_codes_and_huge_frames_are_refused_on(p: &Project) {
    for code in [".", "..", ".SH", "-SH"] {
        let err = p.fails("boss", &["shot", "add", "--", code], 2);
        assert!(err.contains("not starting with"), "{code}: {err}");
    }
    let err = p.fails(
        "boss",
        &[
            "shot",
            "add",
            "SH999",
            "--in=-9223372036854775808",
            "--out=9223372036854775807",
        ],
        2,
    );
    assert!(err.contains("frame"), "{err}");
}

#[test]
fn db_check_repair_rewrites_a_missing_manifest_only() {
    let p = Project::new();
    let dir = p.frames("rep", 1001..=1005);
    p.ok("ana", &publish_sh010(dir.to_str().unwrap(), &[]));
    let manifest = dir.join("SH010_COMP_v001.publish.json");
    fs::remove_file(&manifest).unwrap();
    fs::write(dir.join(".shotline-tmp-old"), "x").unwrap();
    let err = p.fails("x", &["db", "check"], 1);
    assert!(err.contains("is missing"), "{err}");
    assert!(err.contains(".shotline-tmp-old"), "{err}");
    p.ok("x", &["db", "check", "--repair"]);
    assert!(manifest.is_file());
    // The temp file is younger than --temp-age: a write may still be running, so it stays.
    assert!(dir.join(".shotline-tmp-old").is_file());
}

#[test]
fn render_queue_refuses_a_newer_tracking_schema() {
    let p = Project::new();
    let conn = shotline_store::connect(&p.db()).unwrap();
    conn.execute(
        "INSERT INTO store_migrations (version, name, applied_at) VALUES (999, 'future', 'x')",
        [],
    )
    .unwrap();
    drop(conn);
    let err = p.fails("x", &["render", "ls"], 2);
    assert!(err.contains("newer than this shotline"), "{err}");
}

/// `db migrate-to`: every table of a SQLite project (tracking, audit trail, another crate's
/// table) lands in an empty PostgreSQL database, verified; the SQLite file is untouched, the
/// PostgreSQL project then works with the same commands and numbering continues; a non-empty
/// target and a URL with a password are refused. The PostgreSQL backup/restore refusal names
/// the server's tools.
#[test]
fn migrate_to_postgres_copies_everything_and_leaves_sqlite_untouched() {
    let p = Project::new();
    let dir = p.frames("comp", 1001..=1005);
    let d = dir.to_str().unwrap();
    p.ok("ana", &publish_sh010(d, &["-m", "first"]));
    p.ok("ana", &publish_sh010(d, &[]));
    p.ok(
        "boss",
        &["shot", "add", "SH020", "--in", "1", "--out", "10"],
    );
    // Another crate's table with a foreign key into the tracking schema (as render_* have).
    {
        let c = shotline_store::connect(&p.db()).unwrap();
        c.execute_batch(
            "CREATE TABLE zz_history (id INTEGER PRIMARY KEY, version_id INTEGER REFERENCES versions(id), note TEXT, score REAL);
             INSERT INTO zz_history (version_id, note, score) VALUES (1, 'it''s \"quoted\"', 0.5), (2, NULL, NULL);",
        )
        .unwrap();
    }
    let Some(url) = track_support::fresh_pg_database() else {
        return;
    };
    let before = db_bytes(&p.db());
    let sqlite_versions = p.lines("x", &["versions", "ls"]);
    let sqlite_log = p.lines("x", &["log"]);
    let r = p.json("boss", &["db", "migrate-to", &url]);
    assert_eq!(
        db_bytes(&p.db()),
        before,
        "the SQLite file is never written"
    );
    let tables: Vec<&str> = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    for t in [
        "projects",
        "users",
        "items",
        "versions",
        "events",
        "store_migrations",
        "zz_history",
    ] {
        assert!(tables.contains(&t), "{t} copied: {tables:?}");
    }
    let pos = |t: &str| tables.iter().position(|x| *x == t).unwrap();
    assert!(
        pos("versions") < pos("zz_history"),
        "parents first: {tables:?}"
    );
    let hist = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "zz_history")
        .unwrap();
    assert_eq!(hist["rows"], 2);
    // The same commands on the PostgreSQL copy report the same project.
    let on_pg = |user: &str, args: &[&str]| {
        let out = p
            .cmd(user)
            .env("SHOTLINE_DB", &url)
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let pg_versions: Vec<serde_json::Value> = on_pg("x", &["versions", "ls"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pg_versions, sqlite_versions);
    let pg_log: Vec<serde_json::Value> = on_pg("x", &["log"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pg_log, sqlite_log, "the audit trail is copied as it was");
    // Ids and numbers continue after the copied ones.
    let v: serde_json::Value = serde_json::from_str(&on_pg("ana", &publish_sh010(d, &[]))).unwrap();
    assert_eq!(v["version"]["number"], 3);
    assert_eq!(v["version"]["id"], 3);
    // A second copy into the now non-empty database is refused.
    let err = p.fails("boss", &["db", "migrate-to", &url], 2);
    assert!(err.contains("empty database"), "{err}");
    // A password on the command line is refused and never printed.
    let with_pw = url.replacen("shotline@", "shotline:s3cret@", 1);
    let err = p.fails("boss", &["db", "migrate-to", &with_pw], 2);
    assert!(
        err.contains("PGPASSWORD") && !err.contains("s3cret"),
        "{err}"
    );
    // Backup on PostgreSQL: pg_dump's custom format, never over an existing file.
    let dump = p.root().join("show.dump");
    let b: serde_json::Value =
        serde_json::from_str(&on_pg("boss", &["db", "backup", dump.to_str().unwrap()])).unwrap();
    assert!(b["bytes"].as_i64().unwrap() > 0, "{b}");
    assert_eq!(&fs::read(&dump).unwrap()[..5], b"PGDMP");
    let again = p
        .cmd("boss")
        .env("SHOTLINE_DB", &url)
        .args(["db", "backup", dump.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    // Restore on PostgreSQL: a change made after the backup is gone, the database as it was is
    // kept as a dump, and the restore itself is in the audit trail.
    let pg_fails = |user: &str, args: &[&str]| {
        let out = p
            .cmd(user)
            .env("SHOTLINE_DB", &url)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let at_backup = on_pg("x", &["versions", "ls"]);
    on_pg("ana", &publish_sh010(d, &[]));
    assert_ne!(on_pg("x", &["versions", "ls"]), at_backup);
    // Only a project admin restores; a refused restore changes nothing.
    let err = pg_fails("ana", &["db", "restore", dump.to_str().unwrap()]);
    assert!(err.contains("admin"), "{err}");
    // Something that is not a dump is refused, naming the file; nothing changes.
    let junk = p.root().join("junk.dump");
    fs::write(&junk, b"not a dump").unwrap();
    let err = pg_fails("boss", &["db", "restore", junk.to_str().unwrap()]);
    assert!(err.contains("junk.dump"), "{err}");
    assert_eq!(on_pg("x", &["versions", "ls"]).lines().count(), 4);
    // A dump that is not there is named.
    let missing = p.root().join("no-such.dump");
    let err = pg_fails("boss", &["db", "restore", missing.to_str().unwrap()]);
    assert!(err.contains("no-such.dump"), "{err}");
    // A dump written by a newer shotline is refused before anything changes: the dump is
    // loaded into a scratch database, a schema version from the future recorded, dumped again.
    if let Some(scratch) = track_support::fresh_pg_database() {
        let newer = p.root().join("newer.dump");
        let tool = |name: &str, args: &[&str]| {
            let out = std::process::Command::new(shotline_store::target::pg_tool(name))
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        tool(
            "pg_restore",
            &["--no-owner", "-d", &scratch, dump.to_str().unwrap()],
        );
        tool(
            "psql",
            &[
                &scratch,
                "-c",
                "INSERT INTO store_migrations (version, name, applied_at) VALUES (999, 'future', '2099-01-01T00:00:00Z')",
            ],
        );
        tool("pg_dump", &["-Fc", "-f", newer.to_str().unwrap(), &scratch]);
        let err = pg_fails("boss", &["db", "restore", newer.to_str().unwrap()]);
        assert!(err.contains("schema version 999"), "{err}");
        assert_eq!(on_pg("x", &["versions", "ls"]).lines().count(), 4);
    }
    let restored: serde_json::Value =
        serde_json::from_str(&on_pg("boss", &["db", "restore", dump.to_str().unwrap()])).unwrap();
    assert_eq!(on_pg("x", &["versions", "ls"]), at_backup);
    let previous = std::path::PathBuf::from(restored["previous"].as_str().unwrap());
    assert_eq!(previous.parent(), Some(p.root()));
    assert_eq!(&fs::read(&previous).unwrap()[..5], b"PGDMP");
    assert!(on_pg("x", &["log"]).contains("db.restore"));
    // Publishing goes on, never over v004: the restore forgot it, but its folder is on disk.
    let v: serde_json::Value = serde_json::from_str(&on_pg("ana", &publish_sh010(d, &[]))).unwrap();
    assert_eq!(v["version"]["number"], 5);
    // db check works on PostgreSQL.
    let c: serde_json::Value = serde_json::from_str(&on_pg("x", &["db", "check"])).unwrap();
    assert_eq!(c["schema_version"], r["schema_version"]);
    assert_eq!(c["integrity"], serde_json::json!(["ok"]));
}

/// `init --db postgres://…` creates the project on PostgreSQL and records `store.url`, so the
/// commands that follow need no SHOTLINE_DB.
#[test]
fn init_on_postgres_records_store_url() {
    let Some(url) = track_support::fresh_pg_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("shotline")
            .unwrap()
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("SHOTLINE_USER", "boss")
            .env_remove("SHOTLINE_CONFIG")
            .env_remove("SHOTLINE_DB")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["init", "--code", "PG", "--db", &url]);
    let yaml = fs::read_to_string(dir.path().join("shotline.yaml")).unwrap();
    assert!(yaml.contains("url: ") && yaml.contains(&url), "{yaml}");
    assert!(
        !dir.path().join(".shotline").exists(),
        "no SQLite file beside it"
    );
    run(&["step", "add", "COMP", "--kind", "shot"]);
    run(&["shot", "add", "SH010", "--in", "1", "--out", "5"]);
    let shots = run(&["shot", "ls", "--json"]);
    assert!(shots.contains("SH010"), "{shots}");
}
