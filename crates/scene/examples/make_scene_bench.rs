//! Generates the data of `bench/scene.sh`: a project with 1,000 shots × 10 plate versions
//! (10,000 registered versions, five empty frame files each on disk), a Nuke script with 5,000
//! Read nodes and a ~20 MB Maya ASCII scene (mesh data plus 2,000 file textures and 100
//! references), all pointing into the project through a Windows drive mapped by `paths.map`.
//!
//! Usage: `make_scene_bench OUT_DIR`

use std::fmt::Write as _;
use std::path::Path;

use shotline_store::{
    Actor, Files, ItemKind, ItemRef, NewProject, NewShot, NewVersion, ShotFields, ShotWrite, State,
    Store,
};

const SHOTS: usize = 1000;
const VERSIONS: usize = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: make_scene_bench OUT_DIR")?;
    let root = Path::new(&out);
    std::fs::create_dir_all(root.join(".shotline"))?;
    let root = root.canonicalize()?;
    std::fs::write(
        root.join("shotline.yaml"),
        format!(
            "project:\n  code: BENCH\n  fps: 24\npaths:\n  map:\n    \"P:/bench/\": \"{}/\"\n",
            root.display()
        ),
    )?;
    let actor = Actor::named("bench");
    let db = root.join(".shotline/shotline.db");
    let _ = std::fs::remove_file(&db);
    let mut store = Store::create(
        &db,
        &NewProject {
            code: "BENCH".into(),
            name: "Bench".into(),
            root: root.display().to_string(),
            fps: 24.0,
            width: 1920,
            height: 1080,
            pixel_aspect: 1.0,
            start_frame: 1001,
        },
        &actor,
    )?;
    store.add_step(&actor, "plate", ItemKind::Shot, "Plate")?;
    let shots: Vec<NewShot> = (0..SHOTS)
        .map(|s| NewShot {
            code: format!("SH{s:04}"),
            fields: ShotFields {
                frame_in: Some(1001),
                frame_out: Some(1005),
                ..ShotFields::default()
            },
        })
        .collect();
    store.write_shots(&actor, &shots, ShotWrite::Create)?;
    let mut batch = Vec::with_capacity(SHOTS * VERSIONS);
    for s in 0..SHOTS {
        for v in 1..=VERSIONS {
            let shot = format!("SH{s:04}");
            let dir = root.join(format!("shots/{shot}/plate/v{v:03}"));
            std::fs::create_dir_all(&dir)?;
            for f in 1001..=1005 {
                std::fs::write(dir.join(format!("{shot}_plate_v{v:03}.{f}.exr")), b"")?;
            }
            batch.push(NewVersion {
                item: ItemRef::shot(shot.clone()),
                step: "plate".into(),
                resource: String::new(),
                number: Some(v as i64),
                state: State::Wip,
                files: Files {
                    dir: dir.display().to_string(),
                    pattern: format!("{shot}_plate_v{v:03}.%04d.exr"),
                    first_frame: Some(1001),
                    last_frame: Some(1005),
                    frame_range: "1001-1005".into(),
                    file_count: 5,
                    ..Files::default()
                },
                comment: String::new(),
                source: "bench".into(),
                uses: Vec::new(),
                tags: Vec::new(),
            });
        }
    }
    store.register_versions(&actor, &batch)?;
    std::fs::write(root.join("bench.nk"), nuke())?;
    std::fs::write(root.join("bench.ma"), maya())?;
    Ok(())
}

fn plate(i: usize, sep: char) -> String {
    let s = i % SHOTS;
    let v = i % VERSIONS + 1;
    format!("P:/bench/shots/SH{s:04}/plate/v{v:03}/SH{s:04}_plate_v{v:03}.")
        .replace('/', &sep.to_string())
}

fn nuke() -> String {
    let mut t = String::from("#! /usr/local/Nuke14.0v5/libnuke-14.0.5.so -nx\nversion 14.0 v5\nRoot {\n inputs 0\n first_frame 1001\n last_frame 1005\n fps 24\n format \"1920 1080 0 0 1920 1080 1 HD_1080\"\n}\n");
    for i in 0..5000 {
        let _ = write!(
            t,
            "Read {{\n inputs 0\n file_type exr\n file \"{}####.exr\"\n format \"1920 1080 0 0 1920 1080 1 HD_1080\"\n first 1001\n last 1005\n origfirst 1001\n origlast 1005\n origset true\n colorspace \"ACES - ACEScg\"\n raw true\n on_error black\n name Read{i}\n label \"plate {{{i}}} \\[v\\]\"\n xpos {}\n ypos -{}\n}}\nGrade {{\n white 1.02\n gamma {{{{curve x1001 1 x1005 1.1}}}}\n name Grade{i}\n}}\n",
            plate(i, '/'),
            i * 110,
            i % 7 * 40
        );
    }
    t.push_str("Write {\n file /tmp/bench_out/comp.####.exr\n name WriteMain\n}\n");
    t
}

fn maya() -> String {
    let mut t = String::from("//Maya ASCII 2024 scene\n//Name: bench.ma\n//Codeset: UTF-8\n");
    for r in 0..100 {
        let _ = writeln!(t, "file -rdi 1 -ns \"ref{r}\" -rfn \"ref{r}RN\" -op \"v=0;\" -typ \"mayaAscii\" \"{}1001.exr\";", plate(r, '/'));
    }
    for r in 0..100 {
        let _ = writeln!(t, "file -r -ns \"ref{r}\" -dr 1 -rfn \"ref{r}RN\" -op \"v=0;\" -typ \"mayaAscii\" \"{}1001.exr\";", plate(r, '/'));
    }
    t.push_str("requires maya \"2024\";\ncurrentUnit -l centimeter -a degree -t film;\n");
    let mut mesh = 0;
    let mut tex = 0;
    while t.len() < 20 * 1024 * 1024 {
        let _ = writeln!(
            t,
            "createNode mesh -n \"meshShape{mesh}\" -p \"mesh{mesh}\";"
        );
        t.push_str("\tsetAttr -k off \".v\";\n\tsetAttr -s 400 \".vt[0:399]\"");
        for k in 0..400 {
            let _ = write!(
                t,
                " {:.6} {:.6} {:.6}",
                k as f64 * 0.013,
                (k * 7 % 13) as f64 * 0.5,
                -(k as f64) * 0.25
            );
            if k % 6 == 5 {
                t.push_str("\n\t\t");
            }
        }
        t.push_str(";\n");
        mesh += 1;
        if tex < 2000 {
            for _ in 0..4 {
                let _ = writeln!(t, "createNode file -n \"tex{tex}\";\n\tsetAttr \".ftn\" -type \"string\" \"{}1001.exr\";\n\tsetAttr \".ufe\" yes;\n\tsetAttr \".cs\" -type \"string\" \"ACES - ACEScg\";", plate(tex, '\\').replace('\\', "\\\\"));
                tex += 1;
            }
        }
    }
    t.push_str("select -ne :defaultRenderGlobals;\n\tsetAttr \".fs\" 1001;\n\tsetAttr \".ef\" 1005;\nselect -ne :defaultResolution;\n\tsetAttr \".w\" 1920;\n\tsetAttr \".h\" 1080;\n");
    t
}
