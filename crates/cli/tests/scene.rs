//! `shotline scene ls|audit|update` on scene files the tests write (Nuke, Fusion, Maya ASCII),
//! against a real project: a tracking database with published plate versions, real EXR frames
//! in the layout's folders, and a `paths.map` for the Windows paths the scenes name.

#[path = "track_support/mod.rs"]
mod track_support;

use std::path::PathBuf;

use serde_json::Value;
use track_support::Project;

/// A project with shot SH010 (1001-1005), step `plate`, and three published plate versions:
/// v001 and v002 hold 1001-1005, v003 holds 1001-1008. `P:/demo/` maps to the project root.
fn project() -> Project {
    let p = Project::new();
    p.ok("boss", &["step", "add", "plate", "--kind", "shot"]);
    for (v, last) in [(1, 1005), (2, 1005), (3, 1008)] {
        let dir = plate_dir(&p, v);
        std::fs::create_dir_all(&dir).unwrap();
        let spec = shotline_media::testdata::ExrSpec::rgb(8, 8);
        shotline_media::testdata::write_exr_sequence(
            &dir,
            &format!("SH010_plate_v{v:03}."),
            4,
            1001..=last,
            &spec,
        )
        .unwrap();
        p.ok(
            "boss",
            &[
                "publish",
                "--shot",
                "SH010",
                "--step",
                "plate",
                "--force",
                dir.to_str().unwrap(),
            ],
        );
    }
    let cfg = p.root().join("shotline.yaml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "paths:\n  map:\n    \"P:/demo/\": \"{}/\"\n",
        p.root().canonicalize().unwrap().display()
    ));
    std::fs::write(&cfg, text).unwrap();
    std::fs::create_dir_all(p.root().join("shots/SH010/comp/work")).unwrap();
    p
}

fn plate_dir(p: &Project, v: u32) -> PathBuf {
    p.root().join(format!("shots/SH010/plate/v{v:03}"))
}

fn write(p: &Project, name: &str, text: &str) -> PathBuf {
    let path = p.root().join("shots/SH010/comp/work").join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const NK: &str = r#"#! /usr/local/Nuke14.0v5/libnuke-14.0.5.so -nx
version 14.0 v5
Root {
 inputs 0
 name "P:/demo/shots/SH010/comp/work/SH010_comp.nk"
 first_frame 1001
 last_frame 1005
 fps 24
 format "1920 1080 0 0 1920 1080 1 HD_1080"
}
Read {
 inputs 0
 file_type exr
 file "P:\\demo\\shots\\SH010\\plate\\v001\\SH010_plate_v001.####.exr"
 first 1001
 last 1004
 origfirst 1001
 origlast 1005
 origset true
 name Plate
 label "keep {braces} and \"quotes\" and [value tricky]"
}
Group {
 name Précomp
}
 Read {
  inputs 0
  file {[value root.name]/../elements/smoke.%04d.exr}
  first 1
  last 10
  name Smoke
 }
 Read { inputs 0  file "/nowhere/ünïcode plate/x.%04d.exr"  first 1  last 3  name Gone }
end_group
push 0
Write {
 file P:/demo/shots/SH010/comp/render/SH010_comp.####.exr
 disable true
 name WriteMain
}
"#;

fn run_json(p: &Project, args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.push("--json");
    let out = p.cmd("boss").args(&a).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn nuke_ls_audit_and_update_touch_only_paths() {
    let p = project();
    let nk = write(&p, "SH010_comp.nk", NK);
    let nodes = p.lines("boss", &["scene", "ls", nk.to_str().unwrap()]);
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["Plate", "Précomp.Smoke", "Précomp.Gone", "WriteMain"]
    );
    let plate = &nodes[0];
    assert_eq!(plate["status"], "outdated", "{plate}");
    assert_eq!(plate["version"]["version"], "v001");
    assert_eq!(plate["latest"]["version"], "v003");
    assert_eq!(plate["on_disk"], "1001-1005");
    assert_eq!(nodes[1]["status"], "unresolved");
    assert_eq!(nodes[2]["status"], "missing");
    assert_eq!(nodes[3]["status"], "output");
    assert_eq!(nodes[3]["flags"]["has_input"], false);

    let (code, report) = run_json(&p, &["scene", "audit", nk.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["schema"], "shotline.scene.audit/1");
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for c in [
        "outdated",
        "unresolved-expression",
        "missing-media",
        "passthrough",
    ] {
        assert!(codes.contains(&c), "{c} not in {codes:?}");
    }
    assert_eq!(report["summary"]["errors"], 1, "{report}");

    // Dry run: a diff, nothing written.
    let out = p.ok(
        "boss",
        &[
            "scene",
            "update",
            nk.to_str().unwrap(),
            "--all",
            "--dry-run",
        ],
    );
    assert!(
        out.contains(
            "- file \"P:\\\\demo\\\\shots\\\\SH010\\\\plate\\\\v001\\\\SH010_plate_v001.####.exr\""
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "+ file \"P:\\\\demo\\\\shots\\\\SH010\\\\plate\\\\v003\\\\SH010_plate_v003.####.exr\""
        ),
        "{out}"
    );
    assert!(
        out.contains("+ origlast 1008") && out.contains("+ last 1007"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&nk).unwrap(), NK);

    // Up one version: only the path changes (v002 holds the same frames).
    p.ok(
        "boss",
        &[
            "scene",
            "update",
            nk.to_str().unwrap(),
            "--node",
            "Plate",
            "--to",
            "up",
        ],
    );
    let after = std::fs::read_to_string(&nk).unwrap();
    assert_eq!(
        after,
        NK.replace("v001\\\\SH010_plate_v001", "v002\\\\SH010_plate_v002")
    );
    let backups: Vec<_> = std::fs::read_dir(nk.parent().unwrap().join(".shotline-backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), NK);

    // To latest: the range follows v003 with the tail trim kept.
    p.ok(
        "boss",
        &["scene", "update", nk.to_str().unwrap(), "--node", "Plate"],
    );
    let latest = std::fs::read_to_string(&nk).unwrap();
    let expected = NK
        .replace("v001\\\\SH010_plate_v001", "v003\\\\SH010_plate_v003")
        .replace(" last 1004\n", " last 1007\n")
        .replace(" origlast 1005\n", " origlast 1008\n");
    assert_eq!(latest, expected);
    let nodes = p.lines("boss", &["scene", "ls", nk.to_str().unwrap()]);
    assert_eq!(nodes[0]["status"], "latest");

    // Back down to an explicit version, and a version that does not exist.
    p.ok(
        "boss",
        &[
            "scene",
            "update",
            nk.to_str().unwrap(),
            "--node",
            "Plate",
            "--to",
            "v001",
        ],
    );
    assert_eq!(std::fs::read_to_string(&nk).unwrap(), NK);
    let e = p.fails(
        "boss",
        &[
            "scene",
            "update",
            nk.to_str().unwrap(),
            "--node",
            "Plate",
            "--to",
            "v009",
        ],
        2,
    );
    assert!(
        e.contains("no v009") && e.contains("v001, v002, v003"),
        "{e}"
    );
    let e = p.fails(
        "boss",
        &["scene", "update", nk.to_str().unwrap(), "--node", "Nope"],
        2,
    );
    assert!(e.contains("Nope") && e.contains("Plate"), "{e}");
}

#[test]
fn update_is_refused_while_another_user_holds_the_lock() {
    let p = project();
    let nk = write(&p, "SH010_comp.nk", NK);
    let mut store = shotline_store::Store::open(&p.db(), 5000).unwrap();
    let other = shotline_store::Actor::named("artist");
    store.acquire_lock(&other, "shot/SH010/comp", 600).unwrap();
    let e = p.fails(
        "boss",
        &["scene", "update", nk.to_str().unwrap(), "--all"],
        1,
    );
    assert!(e.contains("locked by artist@"), "{e}");
    assert_eq!(std::fs::read_to_string(&nk).unwrap(), NK);
    assert!(!nk.parent().unwrap().join(".shotline-backup").exists());
    // A dry run reads only: allowed while locked.
    p.ok(
        "boss",
        &[
            "scene",
            "update",
            nk.to_str().unwrap(),
            "--all",
            "--dry-run",
        ],
    );
    assert!(store.release_lock(&other, "shot/SH010/comp").unwrap());
    p.ok("boss", &["scene", "update", nk.to_str().unwrap(), "--all"]);
    assert!(std::fs::read_to_string(&nk)
        .unwrap()
        .contains("SH010_plate_v003"));
}

const COMP: &str = r#"Composition {
	CurrentTime = 1001,
	RenderRange = { 1001, 1005 },
	GlobalRange = { 1001, 1005 },
	Version = "Fusion Studio 18.6.4 build 6",
	Tools = ordered() {
		Plate = Loader {
			Clips = {
				Clip {
					ID = "Clip1",
					Filename = "P:\\demo\\shots\\SH010\\plate\\v001\\SH010_plate_v001.1001.exr",
					FormatID = "OpenEXRFormat",
					StartFrame = 1001,
					Length = 5,
					LengthSetManually = true,
					TrimIn = 0,
					TrimOut = 4,
					ExtendFirst = 0,
					ExtendLast = 0,
					Loop = 0,
					AspectMode = 0,
					Depth = 0,
					TimeCode = 0,
					GlobalStart = 1001,
					GlobalEnd = 1005
				}
			},
			Inputs = {
				GlobalIn = Input { Value = 1001, },
				GlobalOut = Input { Value = 1005, },
			},
			ViewInfo = OperatorInfo { Pos = { 110, 49.5 } },
		},
		Out = Saver {
			Inputs = {
				Clip = Input {
					Value = Clipname {
						Filename = "/nonexistent-root/renders/out.0000.exr",
						FormatID = "OpenEXRFormat",
					},
				},
			},
		}
	},
	Prefs = { Comp = { FrameFormat = { Name = "HDTV 1080", Width = 1920, Height = 1080, Rate = 25, }, }, },
}
"#;

#[test]
fn fusion_loader_updates_path_and_clip_range() {
    let p = project();
    let comp = write(&p, "SH010_comp.comp", COMP);
    let nodes = p.lines("boss", &["scene", "ls", comp.to_str().unwrap()]);
    assert_eq!(nodes[0]["status"], "outdated", "{}", nodes[0]);
    let (code, report) = run_json(&p, &["scene", "audit", comp.to_str().unwrap()]);
    assert_eq!(code, 1);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"fps-mismatch"), "{codes:?}");
    assert!(codes.contains(&"output-without-input"), "{codes:?}");
    p.ok(
        "boss",
        &["scene", "update", comp.to_str().unwrap(), "--all"],
    );
    let after = std::fs::read_to_string(&comp).unwrap();
    let expected = COMP
        .replace(
            "v001\\\\SH010_plate_v001.1001",
            "v003\\\\SH010_plate_v003.1001",
        )
        .replace("Length = 5,", "Length = 8,")
        .replace("TrimOut = 4,", "TrimOut = 7,")
        .replace("GlobalEnd = 1005", "GlobalEnd = 1008")
        .replace(
            "GlobalOut = Input { Value = 1005, }",
            "GlobalOut = Input { Value = 1008, }",
        );
    assert_eq!(after, expected);
}

const MA: &str = "//Maya ASCII 2024 scene\n//Name: SH010_light.ma\n//Codeset: UTF-8\n\
file -rdi 1 -ns \"plate\" -rfn \"plateRN\" -op \"v=0;\" -typ \"mayaAscii\" \"P:/demo/shots/SH010/plate/v002/SH010_plate_v002.1001.exr\";\n\
file -r -ns \"plate\" -dr 1 -rfn \"plateRN\" -op \"v=0;\" -typ \"mayaAscii\" \"P:/demo/shots/SH010/plate/v002/SH010_plate_v002.1001.exr\";\n\
requires maya \"2024\";\ncurrentUnit -l centimeter -a degree -t film;\n\
createNode imagePlane -n \"imagePlaneShape1\" -p \"imagePlane1\";\n\
\tsetAttr \".imn\" -type \"string\" \"P:/demo/shots/SH010/plate/v001/SH010_plate_v001.1001.exr\";\n\
\tsetAttr \".ufe\" yes;\n\
createNode mesh -n \"shape\";\n\tsetAttr -s 4 \".vt[0:3]\" 0 0 0 1 0 0\n\t\t 1 1 0 0 1 0;\n\
createNode renderLayer -n \"defaultRenderLayer\";\n\tsetAttr \".rndr\" no;\n\
createNode renderLayer -n \"rs_beauty\";\ncreateNode renderLayer -n \"rs_shadow\";\n\
select -ne :defaultRenderGlobals;\n\tsetAttr \".fs\" 1001;\n\tsetAttr \".ef\" 1005;\n";

#[test]
fn maya_image_plane_and_reference_update_together() {
    let p = project();
    let ma = write(&p, "SH010_light.ma", MA);
    let nodes = p.lines("boss", &["scene", "ls", ma.to_str().unwrap()]);
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["plateRN", "imagePlaneShape1"]);
    assert_eq!(nodes[1]["status"], "outdated");
    p.ok(
        "boss",
        &[
            "scene",
            "update",
            ma.to_str().unwrap(),
            "--all",
            "--to",
            "v003",
        ],
    );
    let after = std::fs::read_to_string(&ma).unwrap();
    assert_eq!(
        after,
        MA.replace("v002/SH010_plate_v002", "v003/SH010_plate_v003")
            .replace("v001/SH010_plate_v001", "v003/SH010_plate_v003")
    );
}

#[test]
fn bad_scenes_are_errors_naming_line_and_column() {
    let p = project();
    let nk = write(&p, "broken.nk", "Root {\n}\nRead {\n file \"x\n");
    let e = p.fails("boss", &["scene", "audit", nk.to_str().unwrap()], 2);
    assert!(
        e.contains("broken.nk:4:") || e.contains("broken.nk:3:"),
        "{e}"
    );
    let other = write(&p, "notes.txt", "hello");
    let e = p.fails("boss", &["scene", "ls", other.to_str().unwrap()], 2);
    assert!(e.contains("not a scene file"), "{e}");
}

#[test]
fn publishing_a_scene_records_what_it_uses_both_ways() {
    let p = project();
    let nk = write(&p, "SH010_comp.nk", NK);
    let out = p.json(
        "boss",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "COMP",
            nk.to_str().unwrap(),
        ],
    );
    assert_eq!(out["published"], true, "{out}");
    let plates = p.lines("boss", &["versions", "ls", "--step", "plate"]);
    let v001 = plates.iter().find(|v| v["number"] == 1).unwrap()["id"]
        .as_i64()
        .unwrap();
    let comp_id = out["version"]["id"].as_i64().unwrap();
    assert_eq!(out["version"]["uses"], serde_json::json!([v001]));
    assert_eq!(out["version"]["files"]["pattern"], "SH010_comp.nk");
    let shown = p.json("boss", &["versions", "show", &v001.to_string()]);
    assert_eq!(shown["used_by"], serde_json::json!([comp_id]));
    assert_eq!(shown["used_by_names"][0]["name"], "SH010 COMP v001");
    let text = p.ok("boss", &["versions", "show", &comp_id.to_string()]);
    assert!(text.contains("SH010 plate v001"), "{text}");
    // A scene that cannot be read is not published.
    let bad = write(&p, "bad.nk", "Read {\n file \"x\n");
    p.fails(
        "boss",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "COMP",
            bad.to_str().unwrap(),
        ],
        2,
    );
}

#[test]
fn render_submit_audits_first_and_splits_maya_layers() {
    let p = project();
    let nk = write(&p, "SH010_comp.nk", NK);
    let e = p.fails(
        "boss",
        &[
            "render",
            "submit",
            "--preset",
            "nuke",
            "--scene",
            nk.to_str().unwrap(),
            "--frames",
            "1001-1005",
        ],
        1,
    );
    assert!(
        e.contains("missing-media") && e.contains("not submitted"),
        "{e}"
    );
    let out = p.json(
        "boss",
        &[
            "render",
            "submit",
            "--preset",
            "nuke",
            "--scene",
            nk.to_str().unwrap(),
            "--frames",
            "1001-1005",
            "--force",
        ],
    );
    assert_eq!(out["event"], "submitted", "{out}");

    let ma = write(&p, "SH010_light.ma", MA);
    let out = p.json(
        "boss",
        &[
            "render",
            "submit",
            "--preset",
            "maya",
            "--scene",
            ma.to_str().unwrap(),
            "--frames",
            "1001-1005",
            "--layer",
            "all",
        ],
    );
    let layers: Vec<&str> = out["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["layer"].as_str().unwrap())
        .collect();
    assert_eq!(layers, ["rs_beauty", "rs_shadow"], "{out}");
    assert_eq!(out["jobs"][0]["name"], "SH010_light_rs_beauty");
    let e = p.fails(
        "boss",
        &[
            "render",
            "submit",
            "--preset",
            "nuke",
            "--scene",
            nk.to_str().unwrap(),
            "--frames",
            "1",
            "--layer",
            "all",
            "--force",
        ],
        2,
    );
    assert!(e.contains("--layer all"), "{e}");
}

#[test]
fn concurrent_updates_never_corrupt_the_scene() {
    let p = project();
    let nk = write(&p, "SH010_comp.nk", NK);
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("shotline"))
                .current_dir(p.root())
                .env("NO_COLOR", "1")
                .env("SHOTLINE_USER", "boss")
                .env_remove("SHOTLINE_CONFIG")
                .env_remove("SHOTLINE_DB")
                .args([
                    "scene",
                    "update",
                    nk.to_str().unwrap(),
                    "--node",
                    "Plate",
                    "--to",
                    "up",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut done = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => done += 1,
            // Refused while another update held the lock, or the file changed under it.
            Some(1) => assert!(err.contains("locked by"), "{err}"),
            Some(2) => assert!(err.contains("changed") || err.contains("newest"), "{err}"),
            c => panic!("exit {c:?}: {err}"),
        }
    }
    // Each update that went through moved the scene one version up from what it read.
    let text = std::fs::read_to_string(&nk).unwrap();
    let v2 = NK.replace("v001\\\\SH010_plate_v001", "v002\\\\SH010_plate_v002");
    let v3 = NK
        .replace("v001\\\\SH010_plate_v001", "v003\\\\SH010_plate_v003")
        .replace(" last 1004\n", " last 1007\n")
        .replace(" origlast 1005\n", " origlast 1008\n");
    match done {
        1 => assert_eq!(text, v2),
        2 => assert_eq!(text, v3),
        n => panic!("{n} updates went through"),
    }
    let backups = std::fs::read_dir(nk.parent().unwrap().join(".shotline-backup"))
        .unwrap()
        .count();
    assert_eq!(backups, done);
}

#[test]
fn update_is_refused_when_the_scene_is_not_writable() {
    // Marked read-only: refused for every user, root included (CI runs as root).
    let p = project();
    let nk = write(&p, "SH010_comp.nk", NK);
    let mut perm = std::fs::metadata(&nk).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&nk, perm).unwrap();
    let e = p.fails(
        "boss",
        &["scene", "update", nk.to_str().unwrap(), "--all"],
        1,
    );
    assert!(e.contains("read-only"), "{e}");
    assert_eq!(std::fs::read_to_string(&nk).unwrap(), NK);
}

#[test]
fn without_a_database_the_version_folders_on_disk_are_the_versions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("shotline.yaml"), "project:\n  code: DEMO\n").unwrap();
    for v in 1..=2 {
        let d = root.join(format!("shots/SH020/bg/v{v:03}"));
        std::fs::create_dir_all(&d).unwrap();
        for f in 1..=3 {
            std::fs::write(d.join(format!("SH020_bg_v{v:03}.{f}.jpg")), b"x").unwrap();
        }
    }
    std::fs::create_dir_all(root.join("shots/SH020/bg/notes")).unwrap();
    let nk = root.join("shots/SH020/comp.nk");
    let text = format!(
        "Read {{\n file {}/shots/SH020/bg/v001/SH020_bg_v001.#.jpg\n first 1\n last 3\n name BG\n}}\n",
        root.display()
    );
    std::fs::write(&nk, &text).unwrap();
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("shotline")
            .unwrap()
            .current_dir(&root)
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
    let ls: Value =
        serde_json::from_str(run(&["scene", "ls", "shots/SH020/comp.nk", "--json"]).trim())
            .unwrap();
    assert_eq!(ls["status"], "outdated", "{ls}");
    assert_eq!(ls["latest"]["version"], "v002");
    assert_eq!(ls["latest"]["id"], Value::Null);
    assert_eq!(ls["on_disk"], "1-3");
    run(&["scene", "update", nk.to_str().unwrap(), "--all"]);
    assert_eq!(
        std::fs::read_to_string(&nk).unwrap(),
        text.replace("v001/SH020_bg_v001", "v002/SH020_bg_v002")
    );
}

#[test]
fn relative_paths_follow_the_maya_workspace_and_nuke_project_directory() {
    let p = project();
    std::fs::write(
        p.root().join("shots/SH010/workspace.mel"),
        "workspace -fr \"images\" \"images\";\n",
    )
    .unwrap();
    let ma = write(
        &p,
        "rel.ma",
        "//Maya ASCII 2024 scene\ncreateNode imagePlane -n \"ip\";\n\tsetAttr \".imn\" -type \"string\" \"plate/v001/SH010_plate_v001.1001.exr\";\n\tsetAttr \".ufe\" yes;\n",
    );
    let nodes = p.lines("boss", &["scene", "ls", ma.to_str().unwrap()]);
    assert_eq!(nodes[0]["status"], "outdated", "{}", nodes[0]);
    assert_eq!(nodes[0]["on_disk"], "1001-1005");
    let nk = write(
        &p,
        "rel.nk",
        &format!(
            "Root {{\n project_directory \"{}/shots/SH010\"\n}}\nRead {{\n file plate/v003/SH010_plate_v003.####.exr\n name R\n}}\n",
            p.root().display()
        ),
    );
    let nodes = p.lines("boss", &["scene", "ls", nk.to_str().unwrap()]);
    assert_eq!(nodes[0]["status"], "latest", "{}", nodes[0]);
}

/// Writes `versions` version folders of `shots/SH010/<step>/` on disk (not registered), each
/// holding `SH010_<step>_vNNN.<ext>`.
fn disk_versions(p: &Project, step: &str, ext: &str, versions: u32) {
    for v in 1..=versions {
        let d = p.root().join(format!("shots/SH010/{step}/v{v:03}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("SH010_{step}_v{v:03}.{ext}")), b"x").unwrap();
    }
}

const MA_CACHES: &str = "//Maya ASCII 2024 scene\n//Codeset: UTF-8\n\
file -rdi 1 -ns \"lay1\" -rfn \"layRN1\" -op \"v=0;\" -typ \"mayaAscii\" \"P:/demo/shots/SH010/layout/v001/SH010_layout_v001.ma{1}\";\n\
file -r -ns \"lay1\" -dr 1 -rfn \"layRN1\" -op \"v=0;\" -typ \"mayaAscii\" \"P:/demo/shots/SH010/layout/v001/SH010_layout_v001.ma{1}\";\n\
requires maya \"2024\";\ncurrentUnit -l centimeter -a degree -t film;\n\
createNode AlembicNode -n \"anim_AlembicNode\";\n\
\tsetAttr \".fn\" -type \"string\" \"P:/demo/shots/SH010/anim/v001/SH010_anim_v001.abc\";\n\
\tsetAttr \".fns\" -type \"stringArray\" 1 \"P:/demo/shots/SH010/anim/v001/SH010_anim_v001.abc\"  ;\n\
createNode gpuCache -n \"setGpuShape\";\n\
\tsetAttr \".cfn\" -type \"string\" \"P:/demo/shots/SH010/anim/v001/SH010_anim_v001.abc\";\n\
createNode aiStandIn -n \"crowdStandIn\";\n\
\tsetAttr \".dso\" -type \"string\" \"P:\\\\demo\\\\shots\\\\SH010\\\\anim\\\\v001\\\\SH010_anim_v001.abc\";\n\
createNode cacheFile -n \"clothCache1\";\n\
\tsetAttr \".cn\" -type \"string\" \"SH010_fx_v001\";\n\
\tsetAttr \".cp\" -type \"string\" \"P:/demo/shots/SH010/fx/v001/\";\n\
\tsetAttr \".os\" 1001;\n\tsetAttr \".oe\" 1005;\n\
createNode file -n \"plateTex\";\n\
\tsetAttr \".ftn\" -type \"string\" \"P:/demo/shots/SH010/plate/v001/SH010_plate_v001.1001.exr\";\n\
\tsetAttr \".ufe\" yes;\n\
\tsetAttr \".cs\" -type \"string\" \"ACEScg\";\n\
createNode imagePlane -n \"imagePlaneShape1\" -p \"imagePlane1\";\n\
\tsetAttr \".imn\" -type \"string\" \"P:/demo/shots/SH010/plate/v002/SH010_plate_v002.1001.exr\";\n\
\tsetAttr \".ufe\" yes;\n\tsetAttr \".fin\" 1001;\n\tsetAttr \".fot\" 1005;\n\tsetAttr \".fo\" 0;\n\
select -ne :defaultRenderGlobals;\n\tsetAttr \".fs\" 1001;\n\tsetAttr \".ef\" 1005;\n";

/// Caches, Alembic layers, a second reference to one scene (`{1}`) and plate sequences move to
/// their newest versions together; the plate's newest version is renumbered from frame 1, so
/// the frame in the path, the offsets (written after `.ufe` where Maya left the default) and the
/// image plane's in/out follow it. Every other byte stays.
#[test]
fn maya_caches_references_and_frame_offsets_update_together() {
    let p = project();
    let v4 = plate_dir(&p, 4);
    std::fs::create_dir_all(&v4).unwrap();
    let spec = shotline_media::testdata::ExrSpec::rgb(8, 8);
    shotline_media::testdata::write_exr_sequence(&v4, "SH010_plate_v004.", 4, 1..=8, &spec)
        .unwrap();
    p.ok(
        "boss",
        &[
            "publish",
            "--shot",
            "SH010",
            "--step",
            "plate",
            "--force",
            v4.to_str().unwrap(),
        ],
    );
    disk_versions(&p, "anim", "abc", 2);
    disk_versions(&p, "fx", "xml", 2);
    disk_versions(&p, "layout", "ma", 2);
    let ma = write(&p, "SH010_caches.ma", MA_CACHES);
    let nodes = p.lines("boss", &["scene", "ls", ma.to_str().unwrap()]);
    let got: Vec<(&str, &str, &str)> = nodes
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap(),
                n["kind"].as_str().unwrap(),
                n["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("layRN1", "reference", "outdated"),
            ("anim_AlembicNode", "geometry", "outdated"),
            ("setGpuShape", "geometry", "outdated"),
            ("crowdStandIn", "geometry", "outdated"),
            ("clothCache1", "geometry", "outdated"),
            ("plateTex", "texture", "outdated"),
            ("imagePlaneShape1", "image-plane", "outdated"),
        ],
        "{nodes:?}"
    );
    assert_eq!(nodes[4]["cache_name"]["text"], "SH010_fx_v001");
    let before = std::fs::read(&ma).unwrap();
    let dry = p.ok(
        "boss",
        &[
            "scene",
            "update",
            ma.to_str().unwrap(),
            "--all",
            "--dry-run",
        ],
    );
    assert!(
        dry.contains("+\tsetAttr \".ufe\" yes; setAttr \".fo\" -1000;"),
        "{dry}"
    );
    assert_eq!(
        std::fs::read(&ma).unwrap(),
        before,
        "a dry run writes nothing"
    );
    p.ok("boss", &["scene", "update", ma.to_str().unwrap(), "--all"]);
    let after = std::fs::read_to_string(&ma).unwrap();
    let want = MA_CACHES
        .replace(
            "layout/v001/SH010_layout_v001.ma{1}",
            "layout/v002/SH010_layout_v002.ma{1}",
        )
        .replace(
            "anim/v001/SH010_anim_v001.abc",
            "anim/v002/SH010_anim_v002.abc",
        )
        .replace(
            "anim\\\\v001\\\\SH010_anim_v001.abc",
            "anim\\\\v002\\\\SH010_anim_v002.abc",
        )
        .replace("\"SH010_fx_v001\"", "\"SH010_fx_v002\"")
        .replace("fx/v001/\"", "fx/v002/\"")
        .replace(
            "plate/v001/SH010_plate_v001.1001.exr\";\n\tsetAttr \".ufe\" yes;",
            "plate/v004/SH010_plate_v004.0001.exr\";\n\tsetAttr \".ufe\" yes; setAttr \".fo\" -1000;",
        )
        .replace(
            "plate/v002/SH010_plate_v002.1001.exr",
            "plate/v004/SH010_plate_v004.0001.exr",
        )
        .replace("\".fin\" 1001;", "\".fin\" 1;")
        .replace("\".fot\" 1005;", "\".fot\" 8;")
        .replace("\".fo\" 0;", "\".fo\" -1000;");
    assert_eq!(after, want);
    let nodes = p.lines("boss", &["scene", "ls", ma.to_str().unwrap()]);
    for n in &nodes {
        assert_eq!(n["status"], "latest", "{n}");
    }
}

const COMP_TOOLS: &str = r#"Composition {
	RenderRange = { 1001, 1005 },
	Tools = ordered() {
		Car = SurfaceFBXMesh {
			Inputs = {
				ImportFile = Input { Value = "P:\\demo\\shots\\SH010\\anim\\v001\\SH010_anim_v001.fbx", },
				ObjName = Input { Value = "", },
			},
		},
		Cam = SurfaceAlembicMesh { Inputs = { Filename = Input { Value = 'P:/demo/shots/SH010/cam/v002/SH010_cam_v002.abc', }, }, },
		Grade = FileLUT { Inputs = { LUTFile = Input { Value = "/nowhere/show.cube", }, }, },
	},
}
"#;

/// FBX and Alembic meshes and LUTs are media nodes: statuses, audit findings, and a version
/// update that rewrites the one path asked for.
#[test]
fn fusion_meshes_and_luts_are_audited_and_updated() {
    let p = project();
    disk_versions(&p, "anim", "fbx", 2);
    disk_versions(&p, "cam", "abc", 2);
    let comp = write(&p, "SH010_tools.comp", COMP_TOOLS);
    let nodes = p.lines("boss", &["scene", "ls", comp.to_str().unwrap()]);
    let got: Vec<(&str, &str, &str)> = nodes
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap(),
                n["class"].as_str().unwrap(),
                n["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("Car", "SurfaceFBXMesh", "outdated"),
            ("Cam", "SurfaceAlembicMesh", "latest"),
            ("Grade", "FileLUT", "missing"),
        ]
    );
    let (code, report) = run_json(&p, &["scene", "audit", comp.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    let found: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["node"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(found.contains(&("outdated", "Car")), "{found:?}");
    assert!(found.contains(&("missing-media", "Grade")), "{found:?}");
    p.ok(
        "boss",
        &["scene", "update", comp.to_str().unwrap(), "--node", "Car"],
    );
    assert_eq!(
        std::fs::read_to_string(&comp).unwrap(),
        COMP_TOOLS.replace(
            "anim\\\\v001\\\\SH010_anim_v001.fbx",
            "anim\\\\v002\\\\SH010_anim_v002.fbx"
        )
    );
}
