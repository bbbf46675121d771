//! The Slurm executor against a real single-node Slurm cluster (`scripts/slurm.sh start`, which
//! `scripts/test.sh` runs): a chunked Blender job as one job array, a failing job retried and
//! then failed, cancel of a running array, and a dependent step that waits (`afterok`) for a
//! render whose failed task was retried. Needs `sbatch` and a running cluster: fails under
//! `CI` without them, skips with a note elsewhere.

mod render_support;
#[path = "dashboard_support/webdriver.rs"]
mod webdriver;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use render_support::*;
use serde_json::Value;

/// The cluster's config: `SLURM_CONF`, else the one `scripts/slurm.sh` writes.
fn slurm_conf() -> Option<PathBuf> {
    std::env::var_os("SLURM_CONF")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/tmp/shotline-slurm/etc/slurm.conf")))
        .filter(|p| p.is_file())
}

/// `Some(SLURM_CONF)` when a cluster answers; `None` (skip) or a panic under CI otherwise.
fn cluster() -> Option<PathBuf> {
    shotline_testkit::require_tool("sbatch")?;
    let conf = slurm_conf();
    let up = conf.as_ref().is_some_and(|c| {
        std::process::Command::new("sinfo")
            .args(["-h", "-o", "%t"])
            .env("SLURM_CONF", c)
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
    });
    if !up {
        assert!(
            !shotline_testkit::under_ci(),
            "no Slurm cluster answers (start one with scripts/slurm.sh start)"
        );
        eprintln!("note: no Slurm cluster answers (scripts/slurm.sh start); skipping");
        return None;
    }
    conf
}

/// A project whose jobs go to Slurm by default (`render.executor: slurm`).
fn project() -> Project {
    Project::with_config(
        "project: {code: DEMO}\nrender:\n  executor: slurm\n  max_concurrent: 2\n  slurm: {max_concurrent: 2}\n",
    )
}

fn run(p: &Project, conf: &PathBuf, args: &[&str]) -> std::process::Output {
    p.cmd()
        .args(args)
        .env("SLURM_CONF", conf)
        .timeout(Duration::from_secs(240))
        .output()
        .unwrap()
}

fn status(p: &Project, conf: &PathBuf, job: &str) -> Value {
    let out = run(p, conf, &["render", "status", job, "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

/// Polls `render status` (which reads Slurm's state into the queue) until `done` holds.
fn wait_status(
    p: &Project,
    conf: &PathBuf,
    job: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let until = Instant::now() + Duration::from_secs(200);
    loop {
        let s = status(p, conf, job);
        if done(&s) {
            return s;
        }
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}: {s:#}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The Slurm array of an attempt's farm task (`12` of `12_3`).
fn array_of(task: &Value) -> String {
    let t = task["attempt"]["farm_task"].as_str().unwrap();
    t.split('_').next().unwrap().to_string()
}

#[test]
fn blender_renders_a_chunked_job_as_one_slurm_array() {
    let Some(conf) = cluster() else { return };
    if shotline_testkit::require_tool("blender").is_none() {
        return;
    }
    let p = project();
    p.blender_scene("scene.blend");
    p.write(
        "job.yaml",
        "name: sh010_light\npreset: blender\nscene: scene.blend\nrenderer: CYCLES\nframes: 1-4\nchunk: 2\n\
         resources: {threads: 1, memory: 1GiB}\nretries: 1\ntimeout: 5m\noutput: renders/sh010.%04d.exr\n",
    );
    let out = run(
        &p,
        &conf,
        &["render", "submit", "job.yaml", "--wait", "--json"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["farm"], "slurm");
    assert_eq!(lines.last().unwrap()["state"], "done");
    for f in 1..=4 {
        let frame = p.path().join(format!("renders/sh010.{f:04}.exr"));
        assert!(
            frame.metadata().is_ok_and(|m| m.len() > 0),
            "{}",
            frame.display()
        );
    }
    let s = status(&p, &conf, "sh010_light");
    let tasks = s["task_list"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    // One sbatch for the whole job: every task is an element of the same array.
    let array = array_of(&tasks[0]);
    for t in tasks {
        assert_eq!(t["state"], "done");
        assert_eq!(t["attempt"]["executor"], "slurm");
        assert_eq!(array_of(t), array);
        assert!(PathBuf::from(t["attempt"]["log"].as_str().unwrap()).is_file());
    }
    let logs = run(&p, &conf, &["render", "logs", "sh010_light/1"]);
    let text = String::from_utf8_lossy(&logs.stdout);
    assert!(text.starts_with("# shotline: blender -b"), "{text}");
    assert!(text.contains("Saved:"), "{text}");
}

#[test]
fn a_failing_task_is_sent_again_alone_then_fails() {
    let Some(conf) = cluster() else { return };
    let p = project();
    let out = run(
        &p,
        &conf,
        &[
            "render",
            "submit",
            "--frames",
            "1-2",
            "--chunk",
            "1",
            "--retries",
            "1",
            "--name",
            "flaky",
            "--wait",
            "--",
            "sh",
            "-c",
            "if [ {start} -eq 1 ]; then exit 0; fi; echo failing {start}; exit 3",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let s = status(&p, &conf, "flaky");
    assert_eq!(s["state"], "failed");
    let t = s["task_list"].as_array().unwrap();
    assert_eq!(
        (t[0]["state"].as_str(), t[0]["attempts"].as_u64()),
        (Some("done"), Some(1))
    );
    assert_eq!(
        (t[1]["state"].as_str(), t[1]["attempts"].as_u64()),
        (Some("failed"), Some(2))
    );
    let msg = t[1]["message"].as_str().unwrap();
    assert!(
        msg.contains("exited with code 3") && msg.contains("2 attempts"),
        "{msg}"
    );
    // The retry was a new array holding only the failed task.
    assert_ne!(array_of(&t[1]), array_of(&t[0]));
    let logs = run(&p, &conf, &["render", "logs", "flaky/1", "--attempt", "1"]);
    assert!(
        String::from_utf8_lossy(&logs.stdout).contains("failing 2"),
        "{logs:?}"
    );
    // `render retry` sends just the failed task again, with a fresh budget.
    let out = run(&p, &conf, &["render", "retry", "flaky", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["changed"], 1);
    let s = wait_status(&p, &conf, "flaky", "the retried job to fail again", |s| {
        s["state"] == "failed"
    });
    assert_eq!(s["task_list"][1]["attempts"], 4);
    assert_eq!(s["task_list"][0]["attempts"], 1);
}

#[test]
fn cancel_stops_a_running_array() {
    let Some(conf) = cluster() else { return };
    let p = project();
    let out = run(
        &p,
        &conf,
        &[
            "render", "submit", "--frames", "1-3", "--chunk", "1", "--name", "long", "--json",
            "--", "sleep", "300",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let submitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    let array = submitted["farm_job"].as_str().unwrap().to_string();
    wait_status(&p, &conf, "long", "a running task", |s| {
        s["tasks"]["running"].as_u64() > Some(0)
    });
    let out = run(&p, &conf, &["render", "cancel", "long", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "cancelled", "{v}");
    assert!(v["running"].as_u64() > Some(0), "{v}");
    let s = status(&p, &conf, "long");
    for t in s["task_list"].as_array().unwrap() {
        assert_eq!(t["state"], "cancelled", "{t}");
    }
    // Slurm ends every element of the array (none left pending or running).
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let q = std::process::Command::new("squeue")
            .args([
                "-h",
                "-r",
                "-j",
                &array,
                "-t",
                "PENDING,RUNNING,COMPLETING",
                "-o",
                "%i %T",
            ])
            .env("SLURM_CONF", &conf)
            .output()
            .unwrap();
        let left = String::from_utf8_lossy(&q.stdout).trim().to_string();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < until,
            "still in Slurm after cancel: {left}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_dependent_verify_step_waits_for_the_render_and_its_retry() {
    let Some(conf) = cluster() else { return };
    let p = project();
    shotline_media::testdata::write_exr(
        &p.path().join("pixel.exr"),
        &shotline_media::testdata::ExrSpec::rgb(8, 8),
    )
    .unwrap();
    // Frame 2 fails its first attempt; the retry (a new array) succeeds.
    let out = run(
        &p,
        &conf,
        &[
            "render", "submit", "--frames", "1-2", "--chunk", "1", "--retries", "1", "--name", "render",
            "--output", "a.%04d.exr", "--", "sh", "-c",
            "if [ {start} -eq 2 ] && [ ! -e retried ]; then touch retried; exit 1; fi; sleep 1; cp pixel.exr a.000{start}.exr",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    // The final step: shotline itself, on the farm, checks every frame of the render.
    let verify = format!(
        "{} render verify render > verified.txt",
        env!("CARGO_BIN_EXE_shotline")
    );
    let out = run(
        &p,
        &conf,
        &[
            "render", "submit", "--frames", "1", "--name", "verify", "--after", "render", "--",
            "sh", "-c", &verify,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let s = wait_status(&p, &conf, "verify", "the verify step to finish", |s| {
        s["state"] == "done" || s["state"] == "failed"
    });
    assert_eq!(s["state"], "done", "{s:#}");
    let verified = std::fs::read_to_string(p.path().join("verified.txt")).unwrap();
    assert!(
        verified.contains("2 frame(s) in 2 task(s) verified"),
        "{verified}"
    );
    let r = status(&p, &conf, "render");
    assert_eq!(r["state"], "done");
    assert_eq!(r["task_list"][1]["attempts"], 2);
}

#[test]
fn pause_holds_the_array_and_resume_releases_it() {
    let Some(conf) = cluster() else { return };
    let p = project();
    let out = run(
        &p,
        &conf,
        &[
            "render",
            "submit",
            "--frames",
            "1-4",
            "--chunk",
            "1",
            "--name",
            "held",
            "--max-concurrent",
            "1",
            "--json",
            "--",
            "sleep",
            "1",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let out = run(&p, &conf, &["render", "pause", "held", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["changed"], 1, "{v}");
    // Held: what had not started stays pending, however long we look.
    std::thread::sleep(Duration::from_secs(4));
    let s = status(&p, &conf, "held");
    assert!(s["tasks"]["queued"].as_u64() >= Some(2), "{s:#}");
    assert_eq!(s["state"], "paused", "{s:#}");
    run(&p, &conf, &["render", "resume", "held"]);
    let s = wait_status(&p, &conf, "held", "the resumed job to finish", |s| {
        s["state"] == "done"
    });
    assert_eq!(s["tasks"]["done"], 4);
}

#[test]
fn verify_names_missing_frames() {
    // Runs everywhere: a local job that was never rendered, two of its frames put in place.
    let p = Project::new();
    p.cmd()
        .args([
            "render", "submit", "--farm", "local", "--frames", "1-4", "--chunk", "2",
        ])
        .args(["--name", "v", "--output", "r/v.%04d.exr", "--", "true"])
        .assert()
        .success();
    std::fs::create_dir_all(p.path().join("r")).unwrap();
    for f in [1, 2] {
        shotline_media::testdata::write_exr(
            &p.path().join(format!("r/v.{f:04}.exr")),
            &shotline_media::testdata::ExrSpec::rgb(8, 8),
        )
        .unwrap();
    }
    let out = p
        .cmd()
        .args(["render", "verify", "v", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // `true` takes no frame arguments, so each frame is its own task.
    assert_eq!(v["bad"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(
        (v["bad"][0]["frames"].as_str(), v["bad"][1]["task"].as_i64()),
        (Some("3"), Some(3))
    );
    assert!(
        v["bad"][0]["message"].as_str().unwrap().contains("missing"),
        "{v}"
    );
}

#[test]
fn a_job_slurm_refuses_fails_with_the_reason() {
    // Runs everywhere: the Slurm commands are looked up in a folder that does not exist.
    let p = Project::new();
    std::fs::write(
        p.path().join("shotline.yaml"),
        "render:\n  slurm: {bin_dir: /nonexistent/slurm/bin}\n",
    )
    .unwrap();
    let out = p
        .cmd()
        .args([
            "render", "submit", "--farm", "slurm", "--frames", "1-2", "--name", "nowhere", "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sbatch") && err.contains("render.slurm.bin_dir"),
        "{err}"
    );
    let out = p
        .cmd()
        .args(["render", "status", "nowhere", "--json"])
        .output()
        .unwrap();
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["state"], "failed");
    assert!(s["task_list"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not submitted to Slurm"));
}

#[test]
fn shells_reading_the_state_at_once_send_a_retry_once() {
    let Some(conf) = cluster() else { return };
    let p = project();
    let out = run(
        &p,
        &conf,
        &[
            "render",
            "submit",
            "--frames",
            "1-3",
            "--chunk",
            "1",
            "--retries",
            "1",
            "--name",
            "racy",
            "--",
            "sh",
            "-c",
            "exit 4",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                wait_status(&p, &conf, "racy", "the job to fail", |s| {
                    s["state"] == "failed"
                });
            });
        }
    });
    let s = status(&p, &conf, "racy");
    for t in s["task_list"].as_array().unwrap() {
        assert_eq!(t["attempts"], 2, "{t}");
        assert_eq!(t["failures"], 2, "{t}");
    }
}

/// `--layer all` on a Slurm project sends one array per render layer, never the local queue.
#[test]
fn maya_layers_go_to_slurm_as_one_array_each() {
    let Some(conf) = cluster() else { return };
    let p = project();
    let ma = p.path().join("SH010_light.ma");
    std::fs::write(
        &ma,
        "//Maya ASCII 2024 scene\nrequires maya \"2024\";\n\
         createNode renderLayer -n \"defaultRenderLayer\";\n\tsetAttr \".rndr\" no;\n\
         createNode renderLayer -n \"rs_beauty\";\ncreateNode renderLayer -n \"rs_shadow\";\n\
         select -ne :defaultRenderGlobals;\n\tsetAttr \".fs\" 1001;\n\tsetAttr \".ef\" 1002;\n",
    )
    .unwrap();
    let out = run(
        &p,
        &conf,
        &[
            "render",
            "submit",
            "--json",
            "--preset",
            "maya",
            "--scene",
            ma.to_str().unwrap(),
            "--frames",
            "1001-1002",
            "--layer",
            "all",
            "--force",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let jobs = doc["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{doc}");
    for j in jobs {
        assert!(
            j["farm_job"].as_str().is_some_and(|f| !f.is_empty()),
            "{doc}"
        );
    }
    assert_ne!(jobs[0]["farm_job"], jobs[1]["farm_job"], "{doc}");
    for j in jobs {
        let id = j["job"].to_string();
        run(&p, &conf, &["render", "cancel", &id]);
    }
}

/// The dashboard's Cancel and Retry reach the farm: a lead's API call cancels a running Slurm
/// array (scancel, nothing left in squeue) and a retry sends the tasks again as a new array.
#[test]
fn the_servers_cancel_and_retry_act_on_the_slurm_array() {
    let Some(conf) = cluster() else { return };
    // A tracked project (the server needs its database) whose jobs go to Slurm.
    let p = project();
    let yaml = p.path().join("shotline.yaml");
    std::fs::remove_file(&yaml).unwrap();
    let init = run(&p, &conf, &["init", "--code", "DEMO"]);
    assert!(init.status.success(), "{init:?}");
    let mut config = std::fs::read_to_string(&yaml).unwrap();
    config.push_str("\nrender:\n  executor: slurm\n  slurm: {max_concurrent: 2}\n");
    std::fs::write(&yaml, config).unwrap();
    let out = run(&p, &conf, &["user", "token", "tester", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let token: Value = serde_json::from_slice(&out.stdout).unwrap();
    let auth = format!("Bearer {}", token["token"].as_str().unwrap());
    let out = run(
        &p,
        &conf,
        &[
            "render", "submit", "--frames", "1-2", "--chunk", "1", "--name", "web", "--json", "--",
            "sleep", "300",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let submitted: Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = submitted["job"].as_i64().unwrap();
    let array = submitted["farm_job"].as_str().unwrap().to_string();
    wait_status(&p, &conf, "web", "a running task", |s| {
        s["tasks"]["running"].as_u64() > Some(0)
    });
    let server = webdriver::serve_with_env(p.path(), &[("SLURM_CONF", conf.as_os_str())]);
    let call = |action: &str| {
        webdriver::http(
            &server.addr,
            "POST",
            &format!("/api/v1/render/jobs/{job}/{action}"),
            &[("Authorization", auth.as_str())],
            None,
        )
    };
    let r = call("cancel");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "cancelled", "{}", r.text());
    let until = Instant::now() + Duration::from_secs(60);
    while !squeue_left(&conf, &array).is_empty() {
        assert!(Instant::now() < until, "array {array} still in squeue");
        std::thread::sleep(Duration::from_millis(500));
    }
    let r = call("retry");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["changed"].as_u64() > Some(0), "{}", r.text());
    let old = format!("{array}_");
    let s = wait_status(&p, &conf, "web", "the retried tasks on the farm", |s| {
        s["task_list"].as_array().is_some_and(|ts| {
            ts.iter().any(|t| {
                t["attempt"]["farm_task"]
                    .as_str()
                    .is_some_and(|f| !f.starts_with(&old))
            })
        })
    });
    let again = s["task_list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["attempt"]["farm_task"].as_str())
        .find(|f| !f.starts_with(&old))
        .unwrap()
        .split('_')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(again, array);
    let r = call("cancel");
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Elements of a Slurm array still pending or running.
fn squeue_left(conf: &PathBuf, array: &str) -> String {
    let q = std::process::Command::new("squeue")
        .args([
            "-h",
            "-r",
            "-j",
            array,
            "-t",
            "PENDING,RUNNING,COMPLETING",
            "-o",
            "%i %T",
        ])
        .env("SLURM_CONF", conf)
        .output()
        .unwrap();
    String::from_utf8_lossy(&q.stdout).trim().to_string()
}
