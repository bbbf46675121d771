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
        s.raw(&format!("create&uuid={mine}x&data={{}}&type=RamPipe"))["success"],
        false
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
    for f in 1001..=1005 {
        assert!(
            published.join(format!("comp.{f}.exr")).is_file(),
            "{}",
            published.display()
        );
    }
    let side: Value = serde_json::from_str(
        &std::fs::read_to_string(published.join("_ramses_data.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            side["comp.1003.exr"]["version"].clone(),
            side["comp.1003.exr"]["comment"].clone(),
            side["comp.1003.exr"]["published"].clone()
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
    assert_eq!(a.json("boss", &["ramses", "sync"])["pending"], 0);
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
