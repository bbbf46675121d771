//! End to end with the real renderer: the test builds a tiny Cycles scene with Blender itself,
//! renders it through the queue as a chunked job with two tasks at once, and checks the EXR
//! frames with the probe. Needs `blender` on PATH: fails with a clear message when `CI` is set,
//! skips with a note otherwise.

mod render_support;

use render_support::*;

fn blender_available() -> bool {
    std::process::Command::new("blender")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn blender_renders_a_chunked_job_with_two_concurrent_tasks() {
    if shotline_testkit::require_tool("blender").is_none() || !blender_available() {
        assert!(
            !shotline_testkit::under_ci(),
            "blender is on PATH but does not run"
        );
        return;
    }
    let p = Project::new();
    p.blender_scene("scene.blend");
    p.write(
        "job.yaml",
        "name: sh010_light\npreset: blender\nscene: scene.blend\nrenderer: CYCLES\nframes: 1-4\nchunk: 2\n\
         resources: {threads: 1}\nretries: 1\ntimeout: 5m\noutput: renders/sh010.%04d.exr\n",
    );
    let out = p
        .cmd()
        .args([
            "render",
            "submit",
            "job.yaml",
            "--wait",
            "--json",
            "--max-concurrent",
            "2",
        ])
        .timeout(std::time::Duration::from_secs(170))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "render failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Two tasks ran side by side: the second started before the first finished.
    let pos = |kind: &str, nth: usize| {
        events
            .iter()
            .enumerate()
            .filter(|(_, e)| e["event"] == kind)
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap()
    };
    assert!(
        pos("task_started", 1) < pos("task_finished", 0),
        "tasks did not overlap: {stdout}"
    );
    // Blender's "Saved:" lines advanced the frame counts live.
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "task_progress" && e["frames_done"] == 1),
        "{stdout}"
    );
    let summary = events.last().unwrap();
    assert_eq!(summary["state"], "done");
    assert_eq!(summary["tasks"]["done"], 2);
    assert_eq!(summary["frames_done"], 4);
    // Every frame is a real, complete EXR of the scene's size.
    let probe = p
        .cmd()
        .args(["probe", "--json", "renders/sh010.%04d.exr"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&probe.stdout);
    let files: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "file")
        .collect();
    assert_eq!(files.len(), 4, "{text}");
    for f in files {
        assert_eq!(f["status"], "ok", "{f}");
        assert_eq!(f["format"], "exr", "{f}");
        assert_eq!(f["width"], 32, "{f}");
        assert_eq!(f["height"], 18, "{f}");
    }
}
