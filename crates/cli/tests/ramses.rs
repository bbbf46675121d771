//! Ramses interop, end to end with the real binary: `ramses serve` answering every daemon query
//! from a raw socket (as Ramses-Py does: one write, no half-close), the client against it, the
//! mirror with the daemon down (outbox) and back (sync), and two processes syncing at once.

mod track_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use shotline_ramses::{Client, ClientOptions, ObjectType, StepFilter};
use track_support::Project;

/// A running `shotline ramses serve` on a free port, killed on drop.
struct Serve {
    child: Child,
    port: u16,
}

impl Serve {
    fn start(p: &Project, user: &str) -> Serve {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("shotline"))
            .current_dir(p.root())
            .env("SHOTLINE_USER", user)
            .env("NO_COLOR", "1")
            .env_remove("SHOTLINE_CONFIG")
            .env_remove("SHOTLINE_DB")
            .args(["ramses", "serve", "--port", "0", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let addr = v["serving"].as_str().unwrap();
        assert!(
            addr.starts_with("127.0.0.1:"),
            "localhost by default: {addr}"
        );
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        Serve { child, port }
    }

    fn client(&self) -> Client {
        Client::new(ClientOptions {
            host: "localhost".into(),
            port: self.port,
            cache_ttl: Duration::ZERO,
            ..ClientOptions::default()
        })
    }

    /// One query as Ramses-Py sends it: one write, no half-close, read until the peer closes
    /// or a whole JSON value has arrived.
    fn raw(&self, query: &str) -> Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(query.as_bytes()).unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        serde_json::from_slice(&buf)
            .unwrap_or_else(|e| panic!("{query}: {e}: {}", String::from_utf8_lossy(&buf)))
    }

    fn ok(&self, query: &str) -> Value {
        let r = self.raw(query);
        assert_eq!(r["accepted"], true, "{query}: {r}");
        assert_eq!(r["success"], true, "{query}: {r}");
        r["content"].clone()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// DEMO with shots SH010 (SQ01), SH020, steps COMP (shot) and MOD (asset), asset robot.
fn project() -> Project {
    let p = Project::new();
    p.ok("boss", &["shot", "set", "SH010", "--sequence", "SQ01"]);
    p.ok(
        "boss",
        &["shot", "add", "SH020", "--in", "1001", "--out", "1024"],
    );
    p.ok("boss", &["step", "add", "MOD", "--kind", "asset"]);
    p.ok("boss", &["asset", "add", "robot", "--group", "chars"]);
    p
}

/// An entry's data: a JSON string in listings (as the Ramses daemon sends it), an object from
/// `getData` (Ramses-Py uses it without parsing).
fn data(entry: &Value) -> Value {
    match &entry["data"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    }
}

fn append_config(p: &Project, text: &str) {
    let path = p.root().join("shotline.yaml");
    let mut cfg = std::fs::read_to_string(&path).unwrap();
    cfg.push_str(text);
    std::fs::write(&path, cfg).unwrap();
}

#[test]
fn every_serve_query_from_a_raw_socket() {
    let p = project();
    let s = Serve::start(&p, "boss");
    let ping = s.ok("ping");
    assert_eq!(ping["ramses"], "Ramses");
    let user = ping["userUuid"].as_str().unwrap().to_string();
    assert_eq!(user.len(), 36);
    s.ok("raise");
    let folder = s.ok("getRamsesFolder")["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        s.ok("getRamsesFolderPath")["path"],
        folder.as_str(),
        "older name"
    );
    let projects = s.ok("getProjects")["projects"].as_array().unwrap().clone();
    assert_eq!(projects.len(), 1);
    let proj = projects[0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(data(&projects[0])["shortName"], "DEMO");
    let cur = s.ok("getCurrentProject");
    assert_eq!(cur["uuid"], proj.as_str());
    assert_eq!(data(&cur)["framerate"], 24.0);
    s.ok(&format!("setCurrentProject&uuid={proj}"));
    s.ok("setCurrentProject&shortName=DEMO");
    let r = s.raw("setCurrentProject&uuid=nope");
    assert_eq!(
        (r["accepted"].clone(), r["success"].clone()),
        (json!(true), json!(false))
    );

    // Listings, newer (projectUuid) and older (no project, filter) forms.
    let shots = s.ok(&format!("getShots&projectUuid={proj}&sequenceUuid="))["shots"].clone();
    assert_eq!(shots.as_array().unwrap().len(), 2);
    assert_eq!(s.ok("getShots")["shots"], shots);
    assert_eq!(
        s.ok("getShots&filter=020")["shots"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let seqs = s.ok(&format!("getSequences&projectUuid={proj}"))["sequences"].clone();
    let sq01 = seqs[0].as_str().unwrap().to_string();
    let in_seq = s.ok(&format!("getShots&projectUuid={proj}&sequenceUuid={sq01}"))["shots"].clone();
    assert_eq!(in_seq.as_array().unwrap().len(), 1);
    let groups = s.ok(&format!("getAssetGroups&projectUuid={proj}"))["assetGroups"].clone();
    let chars = groups[0].as_str().unwrap().to_string();
    let assets = s.ok(&format!("getAssets&projectUuid={proj}&groupUuid={chars}"))["assets"].clone();
    assert_eq!(assets.as_array().unwrap().len(), 1);
    assert_eq!(
        s.ok(&format!("getPipes&projectUuid={proj}"))["pipes"],
        json!([])
    );
    let all_steps = s.ok(&format!("getSteps&projectUuid={proj}&type=ALL"))["steps"].clone();
    assert_eq!(all_steps.as_array().unwrap().len(), 2);
    let shot_steps =
        s.ok(&format!("getSteps&projectUuid={proj}&type=SHOT_PRODUCTION"))["steps"].clone();
    let comp = shot_steps[0].as_str().unwrap().to_string();
    assert_eq!(shot_steps.as_array().unwrap().len(), 1);
    let r = s.raw("getShots&projectUuid=someone-else");
    assert_eq!(r["success"], false);

    // Objects and data.
    let objs = s.ok("getObjects&type=RamShot")["objects"]
        .as_array()
        .unwrap()
        .clone();
    let sh010 = objs
        .iter()
        .find(|o| data(o)["shortName"] == "SH010")
        .unwrap();
    let sh010_uuid = sh010["uuid"].as_str().unwrap().to_string();
    assert_eq!(data(sh010)["sequence"], sq01.as_str());
    assert!((data(sh010)["duration"].as_f64().unwrap() - 5.0 / 24.0).abs() < 1e-9);
    let states = s.ok("getObjects&type=RamState")["objects"]
        .as_array()
        .unwrap()
        .clone();
    let wip = states
        .iter()
        .find(|o| data(o)["shortName"] == "WIP")
        .unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        s.ok("getObjects&type=RamUser")["objects"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let got = s.ok(&format!("getData&uuid={sh010_uuid}"));
    assert_eq!(
        got["data"]["shortName"], "SH010",
        "getData sends an object: {got}"
    );
    assert_eq!(s.raw("getData&uuid=0-0-0-0-0")["success"], false);
    let path = s.ok(&format!("getPath&uuid={sh010_uuid}"))["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(path.ends_with("05-SHOTS/DEMO_S_SH010"), "{path}");
    let file = format!("{path}/DEMO_S_SH010_COMP/DEMO_S_SH010_COMP_WIP003.blend");
    assert_eq!(
        s.ok(&format!("uuidFromPath&path={file}&type=RamShot"))["uuid"],
        sh010_uuid.as_str()
    );
    assert_eq!(
        s.ok(&format!("uuidFromPath&path={file}&type=RamStep"))["uuid"],
        comp.as_str()
    );
    assert_eq!(
        s.ok("uuidFromPath&path=/elsewhere/x.blend&type=RamShot")["uuid"],
        ""
    );

    // Status: read, write (role-checked, audited), read back.
    let st = s.ok(&format!("getStatus&itemUuid={sh010_uuid}&stepUuid={comp}"));
    let status_uuid = st["uuid"].as_str().unwrap().to_string();
    assert_eq!(data(&st)["completionRatio"], 0);
    let new =
        json!({"state": wip, "completionRatio": 40, "comment": "blocking", "x-addon": {"k": 1}});
    s.ok(&format!("setData&uuid={status_uuid}&data={new}"));
    let back = data(&s.ok(&format!("getData&uuid={status_uuid}")));
    assert_eq!(
        (
            back["state"].clone(),
            back["completionRatio"].clone(),
            back["comment"].clone(),
            back["x-addon"].clone()
        ),
        (json!(wip), json!(40), json!("blocking"), json!({"k": 1}))
    );
    assert_eq!(back["user"], user.as_str());
    let ls = p.lines("boss", &["status", "ls"]);
    assert_eq!(
        (ls[0]["state"].clone(), ls[0]["completion"].clone()),
        (json!("WIP"), json!(40))
    );
    let log = p.lines("boss", &["log", "--action", "status.set"]);
    assert_eq!(log.len(), 1);
    // Managed fields are refused, not silently dropped.
    let r = s.raw(&format!(
        "setData&uuid={comp}&data={}",
        json!({"shortName": "CMP"})
    ));
    assert_eq!(
        (r["accepted"].clone(), r["success"].clone()),
        (json!(true), json!(false)),
        "{r}"
    );
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("managed by shotline"),
        "{r}"
    );
    let r = s.raw(&format!("setData&uuid={status_uuid}&data=not json"));
    assert_eq!(r["success"], false);

    // Create: a shot with the client's own uuid.
    let mine = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    let shot = json!({"shortName": "SH030", "name": "new one", "duration": 2.0});
    s.ok(&format!("create&uuid={mine}&data={shot}&type=RamShot"));
    assert_eq!(
        data(&s.ok(&format!("getData&uuid={mine}")))["shortName"],
        "SH030"
    );
    assert!(p.ok("boss", &["shot", "ls"]).contains("SH030"));
    let again = s.raw(&format!("create&uuid={mine}&data={shot}&type=RamShot"));
    assert_eq!(again["success"], false);
    assert_eq!(
        s.raw(&format!("create&uuid={mine}x&data={{}}&type=RamState"))["success"],
        false,
        "states are shotline's own"
    );

    // Old-style lookups by short name.
    assert_eq!(data(&s.ok("getShot&shortName=SH020"))["shortName"], "SH020");
    assert_eq!(s.ok("getStates")["states"].as_array().unwrap().len(), 7);
    assert_eq!(data(&s.ok("getCurrentUser"))["role"], "admin");

    // Unknown queries are answered as the Ramses daemon does.
    let r = s.raw("makeCoffee&sugar=2");
    assert_eq!(
        (
            r["query"].clone(),
            r["accepted"].clone(),
            r["success"].clone(),
            r["content"].clone()
        ),
        (json!("makeCoffee"), json!(false), json!(false), Value::Null)
    );
}

#[test]
fn writes_through_serve_follow_the_role_rules() {
    let p = project();
    // An artist serving: may move a task to WIP, may not approve.
    let s = Serve::start(&p, "artist");
    let c = s.client();
    let proj = c.current_project().unwrap().unwrap().uuid;
    let shot = c
        .objects_of_project(ObjectType::Shot, &proj)
        .unwrap()
        .into_iter()
        .find(|o| o.short_name() == "SH010")
        .unwrap();
    let comp = c.steps(&proj, StepFilter::ShotProduction).unwrap()[0].clone();
    let approved = c
        .objects(ObjectType::State)
        .unwrap()
        .into_iter()
        .find(|o| o.short_name() == "APPROVED")
        .unwrap();
    let status = c.status(&shot.uuid, &comp).unwrap().unwrap();
    let mut ch = serde_json::Map::new();
    ch.insert("state".into(), json!(approved.uuid));
    let e = c.update_data(&status.uuid, &ch).unwrap_err().to_string();
    assert!(
        e.contains("artist is standard") && e.contains("lead"),
        "{e}"
    );
    assert!(
        p.lines("boss", &["status", "ls"]).is_empty(),
        "nothing written"
    );
    // A shot create needs lead too.
    let e = c
        .create(
            "2b4e28ba-2fa1-11d2-883f-0016d3cca427",
            ObjectType::Shot,
            json!({"shortName": "SH090"}).as_object().unwrap(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("lead"), "{e}");
}

#[test]
fn client_and_cli_against_serve() {
    let p = project();
    let s = Serve::start(&p, "boss");
    append_config(&p, &format!("ramses:\n  port: {}\n", s.port));
    let c = s.client();
    let ping = c.ping().unwrap();
    assert_eq!(ping.ramses, "Ramses");
    let proj = c.projects().unwrap().remove(0);
    assert_eq!(proj.short_name(), "DEMO");
    let batched = c.objects_of_project(ObjectType::Shot, &proj.uuid).unwrap();
    let sent = c.queries_sent();
    let one_by_one = c.objects_one_by_one(ObjectType::Shot, &proj.uuid).unwrap();
    assert_eq!(
        c.queries_sent() - sent,
        1 + 2,
        "a list then one getData per shot"
    );
    assert_eq!(batched, one_by_one, "both paths see the same data");
    assert_eq!(c.sequences(&proj.uuid).unwrap().len(), 1);
    assert_eq!(c.asset_groups(&proj.uuid).unwrap().len(), 1);
    assert_eq!(c.assets(&proj.uuid, None).unwrap().len(), 1);
    assert!(c.pipes(&proj.uuid).unwrap().is_empty());
    let robot = &c.objects_of_project(ObjectType::Asset, &proj.uuid).unwrap()[0];
    assert!(c
        .path(&robot.uuid)
        .unwrap()
        .ends_with("04-ASSETS/chars/DEMO_A_robot"));

    let out = p.ok("boss", &["ramses", "ping"]);
    assert!(out.contains("Ramses answers"), "{out}");
    let shots = p.lines("boss", &["ramses", "shots"]);
    assert_eq!(shots.len(), 2);
    assert_eq!(shots[0]["short_name"], "SH010");
    assert_eq!(shots[0]["data"]["frameIn"], 1001);
    let per = p.lines("boss", &["ramses", "shots", "--per-object"]);
    assert_eq!(per, shots);
    assert_eq!(
        p.lines("boss", &["ramses", "assets"])[0]["short_name"],
        "robot"
    );
    assert_eq!(p.lines("boss", &["ramses", "steps"]).len(), 2);
    assert_eq!(
        p.lines("boss", &["ramses", "projects"])[0]["short_name"],
        "DEMO"
    );
    p.ok(
        "boss",
        &["status", "set", "SH010", "COMP", "--state", "WIP"],
    );
    let st = p.lines("boss", &["ramses", "status", "--item", "SH010"]);
    assert_eq!(
        (st[0]["state"].clone(), st[0]["step"].clone()),
        (json!("WIP"), json!("COMP"))
    );
    let e = p.fails("boss", &["ramses", "shots", "--project", "NOPE"], 2);
    assert!(e.contains("no project \"NOPE\""), "{e}");
}

#[test]
fn daemon_not_running_is_a_clear_error() {
    let p = project();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    append_config(&p, &format!("ramses:\n  port: {port}\n  timeout_ms: 500\n"));
    let e = p.fails("boss", &["ramses", "ping"], 2);
    assert!(
        e.contains(&format!("not running on localhost:{port}")),
        "{e}"
    );
}

/// Studio project A mirrors into a Ramses daemon; project B's `ramses serve` plays Ramses.
fn mirrored() -> (Project, Project) {
    let a = project();
    let b = project();
    (a, b)
}

#[test]
fn daemon_down_then_outbox_then_replay() {
    let (a, b) = mirrored();
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    append_config(
        &a,
        &format!("ramses:\n  port: {down}\n  timeout_ms: 1000\n  sync: true\n"),
    );
    // The local operations succeed with the daemon down; the changes wait in the outbox.
    let err = {
        let out = a
            .cmd("boss")
            .args([
                "status",
                "set",
                "SH010",
                "COMP",
                "--state",
                "WIP",
                "--completion",
                "20",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(
        err.contains("kept in the outbox") && err.contains("not running"),
        "{err}"
    );
    let frames = a.frames("comp", 1001..=1005);
    let v = a.json(
        "boss",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "COMP",
            frames.to_str().unwrap(),
            "-m",
            "first comp",
        ],
    );
    assert_eq!(v["published"], true);
    let report = {
        let out = a
            .cmd("boss")
            .args(["ramses", "sync", "--json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert_eq!(report["pending"], 2, "{report}");
    assert_eq!(report["kept"].as_array().unwrap().len(), 2);

    // The daemon comes up: replay pushes both, in order, once.
    let s = Serve::start(&b, "boss");
    let cfg = std::fs::read_to_string(a.root().join("shotline.yaml")).unwrap();
    std::fs::write(
        a.root().join("shotline.yaml"),
        cfg.replace(&format!("port: {down}"), &format!("port: {}", s.port)),
    )
    .unwrap();
    let report = a.json("boss", &["ramses", "sync"]);
    assert_eq!(report["pushed"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["pending"], 0);
    let st = b.lines("boss", &["status", "ls"]);
    assert_eq!(
        (st[0]["state"].clone(), st[0]["completion"].clone()),
        (json!("WIP"), json!(20))
    );
    let status = s.ok("getObjects&type=RamStatus")["objects"][0].clone();
    let d = data(&status);
    assert_eq!(
        (
            d["version"].clone(),
            d["published"].clone(),
            d["comment"].clone()
        ),
        (json!(0), json!(false), json!("first comp")),
        "{d}"
    );
    // The published frames are where Ramses expects them, listed in its sidecar.
    let published = b
        .root()
        .join("05-SHOTS/DEMO_S_SH010/DEMO_S_SH010_COMP/_published/001_WIP");
    // Named as Ramses names them, not as shotline's renders were.
    for f in 1001..=1005 {
        assert!(
            published
                .join(format!("DEMO_S_SH010_COMP.{f}.exr"))
                .is_file(),
            "{}",
            published.display()
        );
        assert!(!published.join(format!("comp.{f}.exr")).exists());
        // Same filesystem: a hard link to the published frame, no copy.
        let meta = std::fs::metadata(published.join(format!("DEMO_S_SH010_COMP.{f}.exr"))).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::nlink(&meta), 2);
    }
    let side: Value = serde_json::from_str(
        &std::fs::read_to_string(published.join("_ramses_data.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            side["DEMO_S_SH010_COMP.1003.exr"]["version"].clone(),
            side["DEMO_S_SH010_COMP.1003.exr"]["comment"].clone(),
            side["DEMO_S_SH010_COMP.1003.exr"]["published"].clone()
        ),
        (json!(1), json!("first comp"), json!(true)),
        "{side}"
    );
    // Idempotent: nothing left, nothing pushed twice.
    let again = a.json("boss", &["ramses", "sync"]);
    assert_eq!(again["pushed"], json!([]));
    // With the daemon up, the next change goes straight through.
    let out = a
        .cmd("boss")
        .args(["status", "set", "SH010", "COMP", "--state", "REVIEW"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Ramses updated"));
    assert_eq!(b.lines("boss", &["status", "ls"])[0]["state"], "REVIEW");
    // Ramses refusing (a shot it does not have) is reported once and not retried.
    a.ok("boss", &["shot", "add", "SH099", "--in", "1", "--out", "2"]);
    let out = a
        .cmd("boss")
        .args(["status", "set", "SH099", "COMP", "--state", "WIP"])
        .output()
        .unwrap();
    assert!(out.status.success(), "the local change never fails");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 refused"));
    let after = a.json("boss", &["ramses", "sync"]);
    assert_eq!(
        (after["pending"].clone(), after["pruned"].clone()),
        (json!(0), json!(0))
    );

    // Retention: pushed rows are pruned after ramses.outbox_keep_days (30 by default);
    // refused rows stay until someone resolves them.
    let cfg = std::fs::read_to_string(a.root().join("shotline.yaml")).unwrap();
    std::fs::write(
        a.root().join("shotline.yaml"),
        cfg.replace("  sync: true\n", "  sync: true\n  outbox_keep_days: 0\n"),
    )
    .unwrap();
    assert_eq!(a.json("boss", &["ramses", "sync"])["pruned"], 3);
    let out = a.cmd("boss").args(["ramses", "sync"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("old pushed rows pruned 0"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let left: Vec<(String, Option<shotline_store::OutboxOutcome>)> =
        shotline_store::Store::open(&a.db(), 5_000)
            .unwrap()
            .outbox_all()
            .unwrap()
            .into_iter()
            .map(|e| (e.entity, e.outcome))
            .collect();
    assert_eq!(
        left,
        vec![(
            "SH099 COMP".to_string(),
            Some(shotline_store::OutboxOutcome::Refused)
        )]
    );
}

#[test]
fn two_processes_syncing_at_once_push_each_change_once() {
    let (a, b) = mirrored();
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    append_config(
        &a,
        &format!("ramses:\n  port: {down}\n  timeout_ms: 1000\n  sync: true\n"),
    );
    for i in 0..12 {
        a.ok(
            "boss",
            &[
                "status",
                "set",
                "SH010",
                "COMP",
                "--completion",
                &(i * 5).to_string(),
            ],
        );
    }
    let s = Serve::start(&b, "boss");
    let cfg = std::fs::read_to_string(a.root().join("shotline.yaml")).unwrap();
    std::fs::write(
        a.root().join("shotline.yaml"),
        cfg.replace(&format!("port: {down}"), &format!("port: {}", s.port)),
    )
    .unwrap();
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("shotline"))
            .current_dir(a.root())
            .env("SHOTLINE_USER", "boss")
            .env_remove("SHOTLINE_CONFIG")
            .env_remove("SHOTLINE_DB")
            .args(["ramses", "sync", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (one, two) = (spawn(), spawn());
    let mut pushed = Vec::new();
    for child in [one, two] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        pushed.extend(
            r["pushed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap()),
        );
    }
    pushed.sort();
    assert_eq!(
        pushed,
        (1..=12).collect::<Vec<_>>(),
        "each change pushed exactly once"
    );
    assert_eq!(b.lines("boss", &["status", "ls"])[0]["completion"], 55);
}

#[test]
fn ingest_registration_is_mirrored() {
    let (a, b) = mirrored();
    for p in [&a, &b] {
        p.ok("boss", &["step", "add", "PLATE", "--kind", "shot"]);
    }
    let s = Serve::start(&b, "boss");
    append_config(
        &a,
        &format!(
            "ingest:\n  reserve_mib: 0\nramses:\n  port: {}\n  sync: true\n",
            s.port
        ),
    );
    let d = a.root().join("delivery");
    std::fs::create_dir_all(&d).unwrap();
    let spec = shotline_media::testdata::ExrSpec::rgb(8, 8);
    shotline_media::testdata::write_exr_sequence(
        &d,
        "SQ010_SH010_plate_v001.",
        4,
        1001..=1003,
        &spec,
    )
    .unwrap();
    let r = a.json("boss", &["ingest", d.to_str().unwrap()]);
    assert_eq!(r["versions_created"][0]["registered"], true, "{r:#}");
    let st = b.lines("boss", &["status", "ls"]);
    assert_eq!(
        (st[0]["item"]["code"].clone(), st[0]["step"].clone()),
        (json!("SH010"), json!("PLATE")),
        "{st:?}"
    );
    assert_eq!(a.json("boss", &["ramses", "sync"])["pending"], 0);
}

#[test]
fn a_hung_daemon_never_fails_the_local_change() {
    let p = project();
    // Accepts connections and never answers, like a Ramses client stuck on a modal dialog.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hung.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in hung.incoming() {
            held.push(c);
        }
    });
    append_config(
        &p,
        &format!("ramses:\n  port: {port}\n  timeout_ms: 300\n  sync: true\n"),
    );
    let out = p
        .cmd("boss")
        .args(["status", "set", "SH010", "COMP", "--state", "WIP"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did not answer") && err.contains("kept in the outbox"),
        "{err}"
    );
    assert_eq!(p.lines("boss", &["status", "ls"])[0]["state"], "WIP");
    let out = p
        .cmd("boss")
        .args(["ramses", "sync", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["pending"], 1, "{r}");
}

#[test]
fn serve_answers_many_clients_at_once() {
    let p = project();
    let s = Serve::start(&p, "boss");
    let shots = s.ok("getShots")["shots"].clone();
    let uuid = shots[0].as_str().unwrap().to_string();
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| {
                for _ in 0..20 {
                    let r = s.ok(&format!("getData&uuid={uuid}"));
                    assert_eq!(r["uuid"], uuid.as_str());
                }
            });
        }
    });
}

/// Creates an object as the Ramses client does (`create&uuid=&type=&data=`).
fn create(s: &Serve, uuid: &str, t: &str, data: &Value) -> Value {
    s.raw(&format!("create&uuid={uuid}&type={t}&data={data}"))
}

#[test]
fn pipes_file_types_and_empty_containers_through_serve() {
    let p = project();
    let s = Serve::start(&p, "boss");
    let proj = s.ok("getCurrentProject")["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    // The media registry's file types are there without anyone defining them.
    let types = s.ok("getObjects&type=RamFileType")["objects"]
        .as_array()
        .unwrap()
        .clone();
    let exr = types
        .iter()
        .find(|o| data(o)["shortName"] == "exr")
        .unwrap();
    assert_eq!(data(exr)["extensions"], json!(["exr", "sxr"]));
    assert!(types.iter().any(|o| data(o)["shortName"] == "mov"));
    let exr_uuid = exr["uuid"].as_str().unwrap().to_string();
    let r = s.raw(&format!(
        "setData&uuid={exr_uuid}&data={}",
        json!({"shortName": "exr", "name": "EXR image", "extensions": ["exr", "png"]})
    ));
    assert!(
        r["success"] == false
            && r["message"]
                .as_str()
                .unwrap()
                .contains("file-kind registry"),
        "{r}"
    );

    // A lead defines a file type, a pipe file and a pipe, as the Ramses client does.
    let blend = "3b4e28ba-2fa1-11d2-883f-0016d3cca401";
    let r = create(
        &s,
        blend,
        "RamFileType",
        &json!({"shortName": "blend", "name": "Blender scene", "extensions": ["blend"]}),
    );
    assert_eq!(r["success"], true, "{r}");
    let geo = "3b4e28ba-2fa1-11d2-883f-0016d3cca402";
    let r = create(
        &s,
        geo,
        "RamPipeFile",
        &json!({"shortName": "geo", "fileType": blend, "customSettings": ""}),
    );
    assert_eq!(r["success"], true, "{r}");
    let steps = s.ok(&format!("getSteps&projectUuid={proj}&type=ALL"))["steps"].clone();
    let (a, b) = (steps[0].as_str().unwrap(), steps[1].as_str().unwrap());
    let pipe = "3b4e28ba-2fa1-11d2-883f-0016d3cca403";
    let r = create(
        &s,
        pipe,
        "RamPipe",
        &json!({"outputStep": a, "inputStep": b, "pipeFiles": [geo]}),
    );
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(
        s.ok(&format!("getPipes&projectUuid={proj}"))["pipes"],
        json!([pipe])
    );
    // What Ramses-Py reads: the pipe's steps and files, the file's type and its extensions.
    let d = s.ok(&format!("getData&uuid={pipe}"))["data"].clone();
    assert_eq!(
        (
            d["outputStep"].clone(),
            d["inputStep"].clone(),
            d["pipeFiles"].clone()
        ),
        (json!(a), json!(b), json!([geo]))
    );
    let f = s.ok(&format!("getData&uuid={geo}"))["data"].clone();
    assert_eq!(
        (f["shortName"].clone(), f["fileType"].clone()),
        (json!("geo"), json!(blend))
    );
    let t = s.ok(&format!("getData&uuid={blend}"))["data"].clone();
    assert_eq!(t["extensions"], json!(["blend"]));
    assert_eq!(
        s.ok("getObjects&type=RamPipeFile")["objects"][0]["uuid"],
        geo
    );
    // References are checked: a pipe into a step that is not there is refused.
    let r = create(
        &s,
        "3b4e28ba-2fa1-11d2-883f-0016d3cca404",
        "RamPipe",
        &json!({"outputStep": a, "inputStep": geo}),
    );
    assert!(
        r["success"] == false && r["message"].as_str().unwrap().contains("inputStep"),
        "{r}"
    );
    let r = create(
        &s,
        "3b4e28ba-2fa1-11d2-883f-0016d3cca405",
        "RamFileType",
        &json!({"shortName": "exr"}),
    );
    assert!(
        r["message"].as_str().unwrap().contains("already exists"),
        "{r}"
    );

    // Empty sequences and asset groups, as Ramses creates them before their shots.
    let sq = "3b4e28ba-2fa1-11d2-883f-0016d3cca406";
    let r = create(
        &s,
        sq,
        "RamSequence",
        &json!({"shortName": "SQ02", "name": "Second", "color": "#ff0000"}),
    );
    assert_eq!(r["success"], true, "{r}");
    let seqs = s.ok(&format!("getSequences&projectUuid={proj}"))["sequences"].clone();
    assert_eq!(seqs.as_array().unwrap().len(), 2, "{seqs}");
    assert!(seqs.as_array().unwrap().contains(&json!(sq)));
    assert_eq!(
        s.ok(&format!("getShots&projectUuid={proj}&sequenceUuid={sq}"))["shots"],
        json!([])
    );
    let d = s.ok(&format!("getData&uuid={sq}"))["data"].clone();
    assert_eq!(
        (d["name"].clone(), d["color"].clone()),
        (json!("Second"), json!("#ff0000"))
    );
    // Updated: the name is the client's; the code names folders and is not renamed.
    let r = s.raw(&format!(
        "setData&uuid={sq}&data={}",
        json!({"shortName": "SQ02", "name": "Second act"})
    ));
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(
        s.ok(&format!("getData&uuid={sq}"))["data"]["name"],
        "Second act"
    );
    let r = s.raw(&format!(
        "setData&uuid={sq}&data={}",
        json!({"shortName": "SQ03"})
    ));
    assert_eq!(r["success"], false, "{r}");
    // A shot put in it later lands in the same sequence, same uuid.
    p.ok("boss", &["shot", "set", "SH020", "--sequence", "SQ02"]);
    assert_eq!(
        s.ok(&format!("getShots&projectUuid={proj}&sequenceUuid={sq}"))["shots"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let grp = "3b4e28ba-2fa1-11d2-883f-0016d3cca407";
    let r = create(&s, grp, "RamAssetGroup", &json!({"shortName": "props"}));
    assert_eq!(r["success"], true, "{r}");
    assert!(
        s.ok(&format!("getAssetGroups&projectUuid={proj}"))["assetGroups"]
            .as_array()
            .unwrap()
            .contains(&json!(grp))
    );
    // Audited, with the user who made them.
    let log = p.lines("boss", &["log", "--action", "sequence.create"]);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["user"], "boss");
    let recorded = p.lines("boss", &["log", "--action", "ramses.object"]);
    assert!(recorded.len() >= 5, "{recorded:?}");

    // Everything survives a restart (it is in the store, not in the daemon's memory).
    drop(s);
    let s = Serve::start(&p, "artist");
    assert_eq!(
        s.ok(&format!("getPipes&projectUuid={proj}"))["pipes"],
        json!([pipe])
    );
    // A standard user may read the pipeline but not define it.
    for (uuid, t, d) in [
        (
            "3b4e28ba-2fa1-11d2-883f-0016d3cca408",
            "RamSequence",
            json!({"shortName": "SQ09"}),
        ),
        (
            "3b4e28ba-2fa1-11d2-883f-0016d3cca409",
            "RamAssetGroup",
            json!({"shortName": "fx"}),
        ),
        (
            "3b4e28ba-2fa1-11d2-883f-0016d3cca40a",
            "RamFileType",
            json!({"shortName": "abc"}),
        ),
        (
            "3b4e28ba-2fa1-11d2-883f-0016d3cca40b",
            "RamPipe",
            json!({"outputStep": a}),
        ),
    ] {
        let r = create(&s, uuid, t, &d);
        assert!(
            r["success"] == false && r["message"].as_str().unwrap().contains("lead"),
            "{t}: {r}"
        );
    }
    let r = s.raw(&format!(
        "setData&uuid={pipe}&data={}",
        json!({"outputStep": b})
    ));
    assert!(
        r["success"] == false && r["message"].as_str().unwrap().contains("lead"),
        "{r}"
    );
}

/// The device a path is on.
fn device(path: &std::path::Path) -> u64 {
    std::os::unix::fs::MetadataExt::dev(&std::fs::metadata(path).unwrap())
}

#[test]
fn published_files_are_copied_into_a_ramses_tree_on_another_filesystem() {
    let a = project();
    // A real second filesystem: /dev/shm is a tmpfs on Linux, the temp dir usually not.
    let shm = std::path::Path::new("/dev/shm");
    if !shm.is_dir() || device(shm) == device(a.root()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs /dev/shm on another filesystem than the temp dir for this test"
        );
        eprintln!("skipped: /dev/shm is not another filesystem here");
        return;
    }
    let b = Project {
        dir: tempfile::tempdir_in(shm).unwrap(),
    };
    b.ok("boss", &["init", "--code", "DEMO", "--name", "Demo"]);
    b.ok("boss", &["step", "add", "COMP", "--kind", "shot"]);
    b.ok(
        "boss",
        &["shot", "add", "SH010", "--in", "1001", "--out", "1005"],
    );
    let s = Serve::start(&b, "boss");
    append_config(
        &a,
        &format!(
            "ramses:\n  port: {}\n  timeout_ms: 10000\n  sync: true\n",
            s.port
        ),
    );
    let frames = a.frames("comp", 1001..=1005);
    let out = a
        .cmd("boss")
        .args([
            "publish",
            "--shot",
            "SH010",
            "--step",
            "COMP",
            frames.to_str().unwrap(),
            "-m",
            "over there",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Ramses updated")
            && err.contains("copied 5 file(s)")
            && err.contains("another filesystem"),
        "the user is told the files were copied: {err}"
    );
    let published = b
        .root()
        .join("05-SHOTS/DEMO_S_SH010/DEMO_S_SH010_COMP/_published/001_WIP");
    let mut names: Vec<String> = std::fs::read_dir(&published)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = (1001..=1005)
        .map(|f| format!("DEMO_S_SH010_COMP.{f}.exr"))
        .collect();
    want.push("_ramses_data.json".into());
    assert_eq!(
        names, want,
        "Ramses names, the sidecar, no temporary files left"
    );
    for f in 1001..=1005 {
        let copy = published.join(format!("DEMO_S_SH010_COMP.{f}.exr"));
        let src = frames.join(format!("comp.{f}.exr"));
        assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&src).unwrap());
        let meta = std::fs::metadata(&copy).unwrap();
        assert_eq!(
            std::os::unix::fs::MetadataExt::nlink(&meta),
            1,
            "a copy, not a link"
        );
    }
    let side: Value = serde_json::from_str(
        &std::fs::read_to_string(published.join("_ramses_data.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(side["DEMO_S_SH010_COMP.1001.exr"]["comment"], "over there");
    // The next version goes to its own folder; the first one is never touched again.
    let before = std::fs::read(published.join("DEMO_S_SH010_COMP.1001.exr")).unwrap();
    let v2 = a.json(
        "boss",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "COMP",
            frames.to_str().unwrap(),
            "--state",
            "REVIEW",
        ],
    );
    assert_eq!(v2["published"], true);
    let second = b
        .root()
        .join("05-SHOTS/DEMO_S_SH010/DEMO_S_SH010_COMP/_published/002_REVIEW");
    assert!(
        second.join("DEMO_S_SH010_COMP.1005.exr").is_file(),
        "{}",
        second.display()
    );
    assert_eq!(
        std::fs::read(published.join("DEMO_S_SH010_COMP.1001.exr")).unwrap(),
        before
    );
}
