//! `shotline review` end to end: real frames published into a real project, the real binary,
//! ffmpeg/ffprobe to check the movie (fails when a tool is missing under `CI`).

mod support;
mod track_support;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use serde_json::Value;
use support::{assert_success, publish_sh010, tool};
use track_support::Project;

/// 64×36 RGBA PNG frames 1001-1008 (1004 missing) of a moving test pattern, published as
/// SH010 COMP v001.
fn project_with_frames(p: &Project, alpha: bool) -> PathBuf {
    let dir = p.root().join("renders/SH010/comp/v001");
    std::fs::create_dir_all(&dir).unwrap();
    let src = if alpha {
        "testsrc2=s=64x36:r=24,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(X,32),255,0)'"
    } else {
        "testsrc2=s=64x36:r=24"
    };
    let st = Std::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", src, "-frames:v", "8"])
        .args(["-start_number", "1001"])
        .arg(dir.join("comp.%04d.png"))
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::remove_file(dir.join("comp.1004.png")).unwrap();
    p.ok(
        "boss",
        &["shot", "set", "SH010", "--timecode-in", "01:00:00:00"],
    );
    let pat = dir.join("comp.%04d.png");
    p.ok(
        "ana",
        &publish_sh010(pat.to_str().unwrap(), &["--force", "-m", "first"]),
    );
    dir
}

/// A 64×36, 24 fps project with step COMP and shot SH010.
fn tiny_project() -> Project {
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    p.ok(
        "boss",
        &[
            "init", "--code", "DEMO", "--width", "64", "--height", "36", "--fps", "24",
        ],
    );
    p.ok("boss", &["step", "add", "COMP", "--kind", "shot"]);
    p.ok(
        "boss",
        &["shot", "add", "SH010", "--in", "1001", "--out", "1008"],
    );
    p
}

/// The arguments of a review movie of version 1 with `preset`, written to `out`.
fn review_v1<'a>(preset: &'a str, out: &'a str) -> [&'a str; 7] {
    ["review", "--version", "1", "--preset", preset, "-o", out]
}

fn ffprobe(movie: &Path) -> Value {
    let out = Std::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-count_frames",
        ])
        .arg(movie)
        .output()
        .unwrap();
    assert_success(&out, &["ffprobe"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .cloned()
        .unwrap()
}

/// Frame `n` of a movie (or an image) as raw RGBA bytes.
fn rgba(path: &Path, n: u32) -> Vec<u8> {
    let out = Std::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-vf", &format!("select=eq(n\\,{n})"), "-frames:v", "1"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Mean absolute difference of the RGB of a rectangle (64×36 frames).
fn region_diff(a: &[u8], b: &[u8], x0: usize, y0: usize, w: usize, h: usize) -> f64 {
    let mut sum = 0u64;
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            for c in 0..3 {
                let i = (y * 64 + x) * 4 + c;
                sum += u64::from(a[i].abs_diff(b[i]));
            }
        }
    }
    sum as f64 / (w * h * 3) as f64
}

#[test]
fn h264_movie_has_slate_burnins_timecode_and_held_frames() {
    if !tool("ffmpeg") || !tool("ffprobe") {
        return;
    }
    let p = tiny_project();
    let dir = project_with_frames(&p, false);
    std::fs::write(
        p.root().join("shotline.yaml"),
        format!(
            "{}\nreview:\n  default_preset: h264\n",
            std::fs::read_to_string(p.root().join("shotline.yaml")).unwrap()
        ),
    )
    .unwrap();
    let r = p.json(
        "ana",
        &["review", "--shot", "SH010", "--step", "COMP", "--latest"],
    );
    let movie = PathBuf::from(r["output"].as_str().unwrap());
    assert!(
        movie.starts_with(p.root().join("renders/SH010/comp/review")),
        "{r}"
    );
    assert_eq!(r["missing"], "1004");
    assert_eq!(r["frames"], "1001-1008");
    assert_eq!(r["movie_frames"], 9);
    assert_eq!(r["slate"], true);
    assert_eq!(r["timecode"], "01:00:00:00");
    assert_eq!(r["version"]["resource"], "review");

    let s = ffprobe(&movie);
    assert_eq!(s["codec_name"], "h264");
    assert_eq!(s["pix_fmt"], "yuv420p");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(64), Some(36))
    );
    assert_eq!(s["nb_read_frames"], "9");
    assert_eq!(s["r_frame_rate"], "24/1");
    // The slate sits one frame before the first picture frame's timecode.
    let tc = s["tags"]["timecode"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(tc, "00:59:59:23", "{s}");
    assert!(movie.with_extension("jpg").is_file());

    // The slate is not a source frame; the burn-in corners differ from the source; the middle
    // of the picture is the source.
    let src = {
        let scaled = p.root().join("src1001.png");
        let st = Std::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(dir.join("comp.1001.png"))
            .args(["-vf", "scale=64:36"])
            .arg(&scaled)
            .status()
            .unwrap();
        assert!(st.success());
        rgba(&scaled, 0)
    };
    let slate = rgba(&movie, 0);
    let first = rgba(&movie, 1);
    assert!(
        region_diff(&slate, &src, 0, 0, 64, 36) > 20.0,
        "slate looks like a source frame"
    );
    assert!(
        region_diff(&first, &src, 0, 0, 20, 9) > 10.0,
        "top-left burn-in missing"
    );
    assert!(
        region_diff(&first, &src, 44, 27, 20, 9) > 10.0,
        "bottom-right burn-in missing"
    );
    assert!(
        region_diff(&first, &src, 24, 12, 16, 10) < 12.0,
        "picture is not the source frame"
    );

    // Published versions are never overwritten: the same output again is refused.
    let out = movie.to_str().unwrap();
    p.fails("ana", &["review", "--version", "1", "-o", out], 2);
}

/// Mean of channel `c` over a rectangle of a 64×36 RGBA frame.
fn mean(px: &[u8], c: usize, x0: usize, y0: usize, w: usize, h: usize) -> f64 {
    let mut sum = 0u64;
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            sum += u64::from(px[(y * 64 + x) * 4 + c]);
        }
    }
    sum as f64 / (w * h) as f64
}

fn append_config(p: &Project, yaml: &str) {
    let path = p.root().join("shotline.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n{yaml}")).unwrap();
}

#[test]
fn prores4444_keeps_alpha() {
    if !tool("ffmpeg") || !tool("ffprobe") {
        return;
    }
    let p = tiny_project();
    project_with_frames(&p, true);
    let out = p.root().join("alpha.mov");
    let r = p.json("ana", &review_v1("prores4444", out.to_str().unwrap()));
    assert_eq!(r["pix_fmt"], "yuva444p10le");
    let s = ffprobe(&out);
    assert_eq!(s["codec_name"], "prores");
    assert_eq!(s["profile"], "4444");
    assert!(s["pix_fmt"].as_str().unwrap().starts_with("yuva444"), "{s}");
    assert_eq!(s["nb_read_frames"], "9");
    let px = rgba(&out, 1);
    assert!(
        mean(&px, 3, 4, 12, 24, 10) > 200.0,
        "opaque half lost its alpha"
    );
    assert!(
        mean(&px, 3, 36, 12, 24, 10) < 50.0,
        "transparent half became opaque"
    );
}

#[test]
fn ocio_transform_is_baked_and_applied() {
    if !tool("ffmpeg") || !tool("ociobakelut") {
        return;
    }
    let p = tiny_project();
    let dir = project_with_frames(&p, false);
    let ocio = [
        "ocio_profile_version: 1",
        "search_path: \"\"",
        "strictparsing: true",
        "roles:",
        "  default: raw",
        "  scene_linear: raw",
        "displays:",
        "  sRGB:",
        "    - !<View> {name: Dim, colorspace: dim}",
        "active_displays: [sRGB]",
        "active_views: [Dim]",
        "colorspaces:",
        "  - !<ColorSpace>",
        "    name: raw",
        "    family: raw",
        "    bitdepth: 32f",
        "    isdata: false",
        "    allocation: uniform",
        "  - !<ColorSpace>",
        "    name: dim",
        "    family: display",
        "    bitdepth: 32f",
        "    isdata: false",
        "    allocation: uniform",
        "    from_reference: !<MatrixTransform> {matrix: [0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1]}",
    ];
    std::fs::write(p.root().join("config.ocio"), ocio.join("\n") + "\n").unwrap();
    append_config(
        &p,
        "review:\n  ocio: {config: config.ocio, input: raw, display: sRGB, view: Dim}\n  presets:\n    plain:\n      codec: prores4444\n      pix_fmt: yuv444p10le\n      slate: false\n      burnins: {}\n",
    );
    let out = p.root().join("dim.mov");
    let r = p.json("ana", &review_v1("plain", out.to_str().unwrap()));
    assert_eq!(r["slate"], false);
    assert!(r["colour"].as_str().unwrap().starts_with("ocio"), "{r}");
    let src = rgba(&dir.join("comp.1001.png"), 0);
    let got = rgba(&out, 0);
    for c in 0..3 {
        let (a, b) = (mean(&src, c, 0, 0, 64, 36), mean(&got, c, 0, 0, 64, 36));
        assert!(
            (b - a / 2.0).abs() < 6.0,
            "channel {c}: source {a}, movie {b} (expected half)"
        );
    }

    // A view that does not exist is an error, not an untransformed movie.
    append_config(&p, "");
    let cfg = std::fs::read_to_string(p.root().join("shotline.yaml")).unwrap();
    std::fs::write(
        p.root().join("shotline.yaml"),
        cfg.replace("view: Dim", "view: Nope"),
    )
    .unwrap();
    let err = p.fails("ana", &review_v1("plain", "x.mov"), 2);
    assert!(err.contains("Nope"), "{err}");
    assert!(!p.root().join("x.mov").exists());
}

#[test]
fn config_and_selection_errors_are_clear() {
    let p = tiny_project();
    append_config(
        &p,
        "review:\n  presets:\n    bad:\n      codec: h264\n      burnins: {top_left: \"{shto}\"}\n",
    );
    let err = p.fails("ana", &["review", "--version", "1"], 2);
    assert!(err.contains("shto"), "{err}");
    let p = tiny_project();
    let err = p.fails("ana", &["review", "--shot", "SH010", "--step", "COMP"], 2);
    assert!(err.contains("none found"), "{err}");
    let err = p.fails("ana", &["review", "--version", "1", "--preset", "nope"], 2);
    assert!(err.contains("prores422hq"), "{err}");
}

#[test]
fn linear_exr_gets_the_display_transfer_and_its_header_timecode() {
    if !tool("ffmpeg") || !tool("ffprobe") {
        return;
    }
    use shotline_media::testdata::{write_exr_sequence, ExrSpec};
    let p = tiny_project();
    let dir = p.root().join("renders/SH010/comp/v001");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = ExrSpec::rgb(32, 18)
        .fps(24, 1)
        .timecode(shotline_media::Timecode::parse("02:00:00:00").unwrap());
    write_exr_sequence(&dir, "comp.", 4, 1001..=1004, &spec).unwrap();
    let pat = dir.join("comp.%04d.exr");
    p.ok("ana", &publish_sh010(pat.to_str().unwrap(), &["--force"]));
    append_config(&p, "review:\n  display: rec709\n");
    let out = p.root().join("exr.mov");
    let r = p.json(
        "ana",
        &[
            "review",
            pat.to_str().unwrap(),
            "--preset",
            "prores422hq",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(r["colour"], "linear -> bt709", "{r}");
    assert_eq!(r["timecode"], "02:00:00:00");
    let s = ffprobe(&out);
    assert_eq!(s["codec_name"], "prores");
    assert_eq!(s["profile"], "HQ");
    assert_eq!(s["pix_fmt"], "yuv422p10le");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(64), Some(36))
    );
    assert_eq!(s["nb_read_frames"], "5");
    assert_eq!(s["tags"]["timecode"], "01:59:59:23");
}

#[test]
fn log_dpx_without_ocio_is_refused() {
    use shotline_media::testdata::{write_dpx, DpxSpec};
    let p = tiny_project();
    let dir = p.root().join("renders/SH010/comp/v001");
    std::fs::create_dir_all(&dir).unwrap();
    let mut spec = DpxSpec::rgb10(16, 9, true);
    spec.transfer = 3;
    for f in 1001..=1002 {
        write_dpx(&dir.join(format!("comp.{f}.dpx")), &spec).unwrap();
    }
    let pat = dir.join("comp.%04d.dpx");
    p.ok("ana", &publish_sh010(pat.to_str().unwrap(), &["--force"]));
    let err = p.fails("ana", &["review", "--version", "1", "-o", "log.mp4"], 2);
    assert!(
        err.contains("logarithmic") && err.contains("review.ocio"),
        "{err}"
    );
    assert!(!p.root().join("log.mp4").exists());
}

/// A project of `w`×`h` at 24 fps with step COMP and shot SH010.
fn project_sized(w: u32, h: u32) -> Project {
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    let (w, h) = (w.to_string(), h.to_string());
    p.ok(
        "boss",
        &[
            "init", "--code", "DEMO", "--width", &w, "--height", &h, "--fps", "24",
        ],
    );
    p.ok("boss", &["step", "add", "COMP", "--kind", "shot"]);
    p.ok(
        "boss",
        &["shot", "add", "SH010", "--in", "1001", "--out", "1008"],
    );
    p
}

/// A render job that writes its chunk's frames with ffmpeg into `{output}` (making the folder
/// first, as renderers do), as `job.yaml` in the project.
fn frame_writing_job(p: &Project, extra: &str) {
    let job = format!(
        "name: frames\nframes: 1001-1008\nchunk: 4\n{extra}command: [sh, -c, 'mkdir -p \"$(dirname \"$1\")\" && exec ffmpeg -v error -y -f lavfi -i testsrc2=s=64x36:r=24 -frames:v \"$2\" -start_number \"$3\" \"$1\"', sh, '{{output}}', '{{count}}', '{{start}}']\n"
    );
    std::fs::write(p.root().join("job.yaml"), job).unwrap();
}

/// The `review_*` events of a worker's JSON stream.
fn review_events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            v["event"]
                .as_str()
                .is_some_and(|e| e.starts_with("review_"))
        })
        .collect()
}

#[test]
fn a_render_job_with_review_gets_a_movie_of_its_unpublished_frames() {
    if !tool("ffmpeg") || !tool("ffprobe") {
        return;
    }
    let p = tiny_project();
    // No `output`: the frames go where the layout says for SH010 COMP.
    frame_writing_job(&p, "shot: SH010\nstep: COMP\nreview: h264\n");
    let out = p.ok("ana", &["render", "submit", "job.yaml", "--wait", "--json"]);
    let frames = p.root().join("renders/SH010/COMP");
    for f in 1001..=1008 {
        assert!(
            frames.join(format!("SH010_COMP.{f}.exr")).is_file(),
            "{out}"
        );
    }
    let ev = review_events(&out);
    assert_eq!(ev.len(), 1, "{out}");
    let r = &ev[0];
    assert_eq!(r["event"], "review_finished", "{r:#}");
    assert_eq!(r["job"], 1);
    assert_eq!(r["source_version"], Value::Null, "encoded only: {r:#}");
    assert_eq!(r["version"], Value::Null);
    assert_eq!(r["movie_frames"], 9);
    assert_eq!(r["colour"], "linear -> iec61966_2_1");
    let movie = PathBuf::from(r["output"].as_str().unwrap());
    assert_eq!(
        movie,
        p.root()
            .join("renders/SH010/review/SH010_COMP_job1_h264.mp4")
    );
    let s = ffprobe(&movie);
    assert_eq!(s["codec_name"], "h264");
    assert_eq!(s["nb_read_frames"], "9");
    assert!(movie.with_extension("jpg").is_file());
    // Nothing was registered: the frames are no version.
    let versions = p.lines("ana", &["versions", "ls"]);
    assert!(
        versions.iter().all(|v| v["resource"] != "review"),
        "{versions:?}"
    );
}

#[test]
fn a_render_job_over_published_frames_registers_its_review_movie() {
    if !tool("ffmpeg") || !tool("ffprobe") {
        return;
    }
    let p = tiny_project();
    project_with_frames(&p, false);
    // The job "re-renders" frames that are published already (1001-1003 exist): the movie is
    // registered against that version, as `shotline review PATTERN` would.
    std::fs::write(
        p.root().join("job.yaml"),
        "name: check\nframes: 1001-1003\nshot: SH010\nstep: COMP\noutput: renders/SH010/comp/v001/comp.%04d.png\nreview: prores422hq\ncommand: [true]\n",
    )
    .unwrap();
    let out = p.ok("ana", &["render", "submit", "job.yaml", "--wait", "--json"]);
    let ev = review_events(&out);
    assert_eq!(ev.len(), 1, "{out}");
    let r = &ev[0];
    assert_eq!(r["event"], "review_finished", "{r:#}");
    assert_eq!(r["source_version"], 1);
    assert_eq!(r["version"]["resource"], "review");
    assert_eq!(r["version"]["label"], "v001");
    let s = ffprobe(Path::new(r["output"].as_str().unwrap()));
    assert_eq!(s["codec_name"], "prores");
}

#[test]
fn a_review_that_cannot_be_made_fails_the_submit_with_the_reason() {
    if !tool("ffmpeg") {
        return;
    }
    let p = tiny_project();
    // An unknown preset is refused at submit, before anything renders.
    frame_writing_job(&p, "shot: SH010\nstep: COMP\nreview: nope\n");
    let err = p.fails("ana", &["render", "submit", "job.yaml", "--wait"], 2);
    assert!(err.contains("nope") && err.contains("h264"), "{err}");
    // DNxHR cannot encode the 64x36 project: the job is done, the review fails, exit 1.
    frame_writing_job(&p, "shot: SH010\nstep: COMP\nreview: dnxhr_hq\n");
    let out = p
        .cmd("ana")
        .args(["render", "submit", "job.yaml", "--wait", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ev = review_events(&stdout);
    assert_eq!(ev.len(), 1, "{stdout}");
    assert_eq!(ev[0]["event"], "review_failed");
    let e = ev[0]["error"].as_str().unwrap();
    assert!(e.contains("256x120") && e.contains("dnxhr_hq"), "{e}");
    assert!(!p.root().join("renders/SH010/review").exists());
}

#[test]
fn dnxhr_hq_preset_encodes_dnxhr_hq() {
    if !tool("ffmpeg") || !tool("ffprobe") {
        return;
    }
    let p = project_sized(256, 144);
    project_with_frames(&p, false);
    let r = p.json("ana", &["review", "--version", "1", "--preset", "dnxhr_hq"]);
    let movie = PathBuf::from(r["output"].as_str().unwrap());
    assert!(movie.to_string_lossy().ends_with("_dnxhr_hq.mov"), "{r:#}");
    let s = ffprobe(&movie);
    assert_eq!(s["codec_name"], "dnxhd");
    assert_eq!(s["profile"], "DNXHR HQ");
    assert_eq!(s["pix_fmt"], "yuv422p");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(256), Some(144))
    );
    assert_eq!(s["nb_read_frames"], "9");
    // Too small for DNxHR: refused before ffmpeg runs, nothing created.
    let p = tiny_project();
    project_with_frames(&p, false);
    let err = p.fails(
        "ana",
        &[
            "review",
            "--version",
            "1",
            "--preset",
            "dnxhr_hq",
            "-o",
            "new/d.mov",
        ],
        2,
    );
    assert!(err.contains("256x120"), "{err}");
    assert!(!p.root().join("new").exists());
}

#[test]
fn missing_ffmpeg_is_a_clear_error_and_leaves_no_folder() {
    if !tool("ffmpeg") {
        return;
    }
    let p = tiny_project();
    project_with_frames(&p, false);
    // A PATH without ffmpeg (fonts are still found at their usual paths).
    let empty = tempfile::tempdir().unwrap();
    let out = p
        .cmd("ana")
        .env("PATH", empty.path())
        .args(["review", "--version", "1", "-o", "out/new/x.mp4"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot run ffmpeg") && err.contains("review.ffmpeg"),
        "{err}"
    );
    assert!(
        !p.root().join("out").exists(),
        "the output folder was left behind"
    );
    // The default output folder is not left behind either.
    assert!(!p.root().join("renders/SH010/comp/review").exists());
}

#[test]
fn a_hung_encoder_is_stopped_at_the_timeout_and_leaves_nothing() {
    if !tool("ffmpeg") {
        return;
    }
    let p = tiny_project();
    project_with_frames(&p, false);
    // A stand-in for an encoder that hangs (the real one cannot be made to hang on demand).
    let hang = p.root().join("hang.sh");
    std::fs::write(&hang, "#!/bin/sh\nexec sleep 60\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hang, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    append_config(&p, "review:\n  ffmpeg: ./hang.sh\n  timeout_secs: 1\n");
    let err = p.fails("ana", &["review", "--version", "1", "-o", "out/x.mp4"], 2);
    assert!(
        err.contains("did not finish within 1 s") && err.contains("review.timeout_secs"),
        "{err}"
    );
    assert!(!p.root().join("out").exists());
    let versions = p.lines("ana", &["versions", "ls"]);
    assert!(versions.iter().all(|v| v["resource"] != "review"));
}
