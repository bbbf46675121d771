//! The render queue through the real binary, driven by fake renderer scripts: crash → retry →
//! fail, hang → timeout, bad output → verification failure, cancel → no process left, worker
//! killed → tasks requeued, Ctrl-C semantics, and input errors.

mod render_support;

use predicates::prelude::*;
use render_support::*;

#[test]
fn crash_is_retried_then_fails_with_the_reason() {
    let p = Project::new();
    p.script(
        "crash.sh",
        "echo \"rendering $1\"; echo 'segfault (core dumped)' >&2; exit 3",
    );
    p.write(
        "job.yaml",
        "name: crashy\nframes: 1-2\nchunk: 2\nretries: 2\ncommand: ./crash.sh {start}\n",
    );
    p.cmd()
        .args(["render", "submit", "job.yaml", "--wait"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("failed"));
    let s = p.status("crashy");
    assert_eq!(s["state"], "failed");
    let t = task0(&s);
    assert_eq!(t["state"], "failed");
    assert_eq!(t["attempts"], 3, "1 try + 2 retries: {t:#}");
    let msg = t["message"].as_str().unwrap();
    assert!(
        msg.contains("exited with code 3") && msg.contains("after 3 attempts"),
        "{msg}"
    );
    // One log per attempt, holding the renderer's stdout and stderr.
    for n in 1..=3 {
        let log = p.path().join(format!(
            ".shotline/render/jobs/1/logs/task-0000.attempt-{n}.log"
        ));
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("rendering 1") && text.contains("segfault"),
            "{text}"
        );
    }
    // `render status` exits 1 for a failed job; logs prints the last attempt.
    p.cmd()
        .args(["render", "status", "crashy"])
        .assert()
        .code(1);
    p.cmd()
        .args(["render", "logs", "crashy/0"])
        .assert()
        .success()
        .stdout(predicate::str::contains("segfault"));
}

#[test]
fn hang_times_out_and_the_whole_tree_is_killed() {
    let p = Project::new();
    // Ignores SIGTERM (inherited by its child), so only the SIGKILL escalation stops it.
    p.script(
        "hang.sh",
        "trap '' TERM\nsleep 600 &\necho $! > child.pid\nwait\nwait",
    );
    p.write(
        "job.yaml",
        "name: hang\nframes: 1\ntimeout: 1s\ncommand: [./hang.sh]\n",
    );
    p.cmd()
        .args(["render", "submit", "job.yaml", "--wait"])
        .assert()
        .code(1);
    let s = p.status("hang");
    let t = task0(&s);
    assert_eq!(t["state"], "failed");
    assert_eq!(t["attempt"]["outcome"], "timeout");
    assert!(
        t["message"].as_str().unwrap().contains("timeout of 1s"),
        "{t:#}"
    );
    let child: i64 = p.wait_file("child.pid").parse().unwrap();
    assert!(pid_gone(child), "grandchild {child} survived the timeout");
    assert!(pid_gone(t["attempt"]["pid"].as_i64().unwrap()));
}

#[test]
fn bad_output_fails_verification_after_retry() {
    let p = Project::new();
    // Frame 1 is garbage, frame 2 is never written; exit code 0 all the same.
    p.script(
        "bad.sh",
        "mkdir -p out\necho 'not an exr' > out/f.0001.exr\necho 'Saved: out/f.0001.exr'\nexit 0",
    );
    p.write(
        "job.yaml",
        "name: bad\nframes: 1-2\nchunk: 2\nretries: 1\noutput: out/f.%04d.exr\ncommand: [./bad.sh, '{start}', '{end}']\n",
    );
    p.cmd()
        .args(["render", "submit", "job.yaml", "--wait"])
        .assert()
        .code(1);
    let s = p.status("bad");
    let t = task0(&s);
    assert_eq!(t["attempts"], 2);
    assert_eq!(t["attempt"]["outcome"], "verify_failed");
    let msg = t["message"].as_str().unwrap();
    assert!(
        msg.contains("output verification failed for 2 of 2"),
        "{msg}"
    );
    assert!(msg.contains("f.0002.exr missing"), "{msg}");
    assert!(msg.contains("f.0001.exr"), "{msg}");
}

#[test]
fn cancel_kills_the_process_tree() {
    let p = Project::new();
    p.script(
        "long.sh",
        "sleep 600 &\necho $! > child.pid\necho 10%\nwait",
    );
    p.write(
        "job.yaml",
        "name: long\nframes: 1-3\nchunk: 1\ncommand: ./long.sh {start}\n",
    );
    p.cmd()
        .args(["render", "submit", "job.yaml"])
        .assert()
        .success();
    let worker = p.spawn(&["render", "worker"]);
    let s = p.wait_for("long", "a running task", |s| {
        s["tasks"]["running"].as_u64() >= Some(1)
    });
    let child: i64 = p.wait_file("child.pid").parse().unwrap();
    let pids: Vec<i64> = s["task_list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["attempt"]["pid"].as_i64())
        .collect();
    assert!(!pids.is_empty());
    p.cmd()
        .args(["render", "cancel", "long", "--wait", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"cancelled\""));
    assert!(pid_gone(child), "sleep {child} survived the cancel");
    for pid in pids {
        assert!(
            pid_reaped(pid),
            "task process {pid} survived the cancel or was left a zombie"
        );
    }
    let s = p.status("long");
    assert_eq!(s["state"], "cancelled");
    for t in s["task_list"].as_array().unwrap() {
        assert_eq!(t["state"], "cancelled", "{t:#}");
    }
    // Ctrl-C on an idle worker stops it cleanly.
    signal(&worker, "INT");
    let (status, _, err) = finish(worker);
    assert!(status.success(), "{err}");
}

#[test]
fn killed_worker_tasks_are_requeued_by_the_next_worker() {
    let p = Project::new();
    p.script(
        "once.sh",
        "if [ -e started ]; then echo second run; exit 0; fi\ntouch started\nsleep 600 &\necho $! > child.pid\nwait",
    );
    p.write("job.yaml", "name: lost\nframes: 1\ncommand: [./once.sh]\n");
    p.cmd()
        .args(["render", "submit", "job.yaml"])
        .assert()
        .success();
    let worker = p.spawn(&["render", "worker"]);
    p.wait_for("lost", "a running task", |s| s["tasks"]["running"] == 1);
    let child: i64 = p.wait_file("child.pid").parse().unwrap();
    signal(&worker, "KILL");
    let _ = finish(worker);
    // The queue still says running: nobody has told it otherwise.
    assert_eq!(task0(&p.status("lost"))["state"], "running");
    p.cmd()
        .args(["render", "worker", "--until-idle"])
        .assert()
        .success()
        .stderr(predicate::str::contains("requeued"));
    assert!(
        pid_gone(child),
        "the dead worker's grandchild {child} is still running"
    );
    let s = p.status("lost");
    assert_eq!(s["state"], "done");
    let t = task0(&s);
    assert_eq!(t["attempts"], 2);
    let task_id = t["id"].as_i64().unwrap();
    assert!(task_id > 0);
    let logs = p
        .cmd()
        .args(["render", "logs", "lost/0", "--attempt", "2"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&logs.stdout).contains("second run"));
}

#[test]
fn sigterm_requeues_running_tasks_and_sigint_drains() {
    let p = Project::new();
    p.script("slow.sh", "echo $$ > pid.$SHOTLINE_TASK\nsleep 600");
    p.write("job.yaml", "name: slow\nframes: 1\ncommand: [./slow.sh]\n");
    p.cmd()
        .args(["render", "submit", "job.yaml"])
        .assert()
        .success();
    let worker = p.spawn(&["render", "worker", "--json"]);
    p.wait_for("slow", "a running task", |s| s["tasks"]["running"] == 1);
    let pid: i64 = p.wait_file("pid.0").parse().unwrap();
    signal(&worker, "TERM");
    let (status, out, err) = finish(worker);
    assert!(status.success(), "{err}");
    assert!(out.contains("\"event\":\"stopping\""), "{out}");
    assert!(pid_gone(pid), "task {pid} orphaned by a stopped worker");
    let t = task0(&p.status("slow")).clone();
    assert_eq!(t["state"], "queued");
    assert_eq!(t["attempt"]["outcome"], "interrupted");
    assert_eq!(t["failures"], 0);

    // Ctrl-C once: the running task finishes, then the worker exits.
    p.script(
        "quick.sh",
        "touch go.$SHOTLINE_TASK\nwhile [ ! -e release ]; do sleep 0.05; done\necho finished",
    );
    p.cmd()
        .args(["render", "cancel", "slow"])
        .assert()
        .success();
    p.write(
        "job2.yaml",
        "name: drain\nframes: 1\ncommand: [./quick.sh]\n",
    );
    p.cmd()
        .args(["render", "submit", "job2.yaml"])
        .assert()
        .success();
    let worker = p.spawn(&["render", "worker"]);
    p.wait_file_exists("go.0");
    signal(&worker, "INT");
    // The worker has taken the Ctrl-C (it says it drains) before the task may finish.
    worker.wait_stderr("waiting for 1 running task");
    p.write("release", "");
    let (status, _, err) = finish(worker);
    assert!(status.success(), "{err}");
    assert!(err.contains("waiting for 1 running task"), "{err}");
    assert_eq!(p.status("drain")["state"], "done");
}

#[test]
fn progress_env_placeholders_and_logs() {
    let p = Project::new();
    p.script(
        "frames.sh",
        "echo \"range $1-$2 step $3 threads $4 gpu=[$CUDA_VISIBLE_DEVICES] shot=$SHOT\"\nfor f in $(seq $1 $3 $2); do echo \"Rendered frame $f\"; echo 'Finished'; done",
    );
    p.write(
        "job.yaml",
        "name: stepped\nframes: 1-9x2\nchunk: 3\ninclude_last: false\nenv: {SHOT: sh010}\nresources: {threads: 1}\n\
         progress: {frame_done: '^Rendered frame'}\ncommand: [./frames.sh, '{start}', '{end}', '{step}', '{threads}']\n",
    );
    let out = p
        .cmd()
        .args(["render", "submit", "job.yaml", "--wait", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["event"], "submitted");
    assert_eq!(events.last().unwrap()["event"], "job_summary");
    assert_eq!(events.last().unwrap()["state"], "done");
    let started: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "task_started")
        .map(|e| e["frames"].as_str().unwrap())
        .collect();
    assert_eq!(
        started,
        vec!["1-5x2", "7-9x2"],
        "stepped range renders as stepped chunks"
    );
    // Progress never reaches 1 from parsing alone, and the unmatched "Finished" lines move nothing.
    for e in events.iter().filter(|e| e["event"] == "task_progress") {
        assert!(e["progress"].as_f64().unwrap() < 1.0, "{e}");
    }
    let log = p
        .cmd()
        .args(["render", "logs", "stepped/0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&log.stdout);
    assert!(
        text.contains("range 1-5 step 2 threads 1 gpu=[] shot=sh010"),
        "{text}"
    );
    // Following a finished job prints every task's log, prefixed, and returns.
    let follow = p
        .cmd()
        .args(["render", "logs", "stepped", "-f"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&follow.stdout);
    assert!(
        text.contains("[0] range 1-5") && text.contains("[1] range 7-9"),
        "{text}"
    );
    let s = p.status("stepped");
    assert_eq!(s["frames_done"], 5);
    assert_eq!(s["progress"], 1.0);
}

#[test]
fn dependencies_pause_resume_and_retry() {
    let p = Project::new();
    p.write(
        "a.yaml",
        "name: a\nframes: 1\ncommand: [sh, -c, 'test -e ok']\n",
    );
    p.write(
        "b.yaml",
        "name: b\nframes: 1\nafter: [a]\ncommand: [echo, b]\n",
    );
    p.cmd()
        .args(["render", "submit", "a.yaml"])
        .assert()
        .success();
    p.cmd()
        .args(["render", "submit", "b.yaml"])
        .assert()
        .success();
    assert_eq!(p.status("b")["state"], "blocked");
    p.cmd()
        .args(["render", "worker", "--until-idle"])
        .assert()
        .code(1);
    assert_eq!(p.status("a")["state"], "failed");
    let b = p.status("b");
    assert_eq!(b["state"], "failed");
    assert!(
        task0(&b)["message"]
            .as_str()
            .unwrap()
            .contains("dependency job 1 (a)"),
        "{b:#}"
    );
    // Fix the cause and retry both; b runs after a.
    p.write("ok", "");
    p.cmd().args(["render", "retry", "a"]).assert().success();
    p.cmd()
        .args(["render", "retry", "b", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"changed\": 1"));
    p.cmd().args(["render", "pause", "b"]).assert().success();
    p.cmd()
        .args(["render", "worker", "--until-idle"])
        .assert()
        .success();
    assert_eq!(p.status("a")["state"], "done");
    assert_eq!(p.status("b")["state"], "paused");
    p.cmd().args(["render", "resume", "b"]).assert().success();
    p.cmd()
        .args(["render", "worker", "--until-idle"])
        .assert()
        .success();
    assert_eq!(p.status("b")["state"], "done");
    let ls = p.cmd().args(["render", "ls", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 2);
    // Retention: with keep_days 0 both finished folders go.
    p.cmd()
        .args(["render", "clean", "--keep-days", "0", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"job\": 2"));
    assert!(!p.path().join(".shotline/render/jobs/2").exists());
}

#[test]
fn bad_input_is_a_clear_error() {
    let p = Project::new();
    p.write("typo.yaml", "frames: 1-10\nchunck: 5\ncommand: [echo]\n");
    p.cmd()
        .args(["render", "submit", "typo.yaml"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("typo.yaml")
                .and(predicate::str::contains("chunck"))
                .and(predicate::str::contains("line 2")),
        );
    p.write("ph.yaml", "frames: 1\ncommand: echo {strat}\n");
    p.cmd()
        .args(["render", "submit", "ph.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("{strat}"));
    p.cmd()
        .args(["render", "submit", "--frames", "1-", "--", "echo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("1-"));
    p.cmd()
        .args(["render", "submit", "--preset", "nuke", "--frames", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("scene"));
    p.cmd()
        .args(["render", "status", "999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no render job"));
    // A job that needs a GPU this machine cannot give fails with the reason, not a hang.
    p.write(
        "gpu.yaml",
        "name: gpu\nframes: 1\nresources: {gpus: 64}\ncommand: [echo]\n",
    );
    p.cmd()
        .args(["render", "submit", "gpu.yaml", "--wait"])
        .assert()
        .code(1);
    assert!(task0(&p.status("gpu"))["message"]
        .as_str()
        .unwrap()
        .contains("needs 64 GPU"));
}

#[test]
fn sysinfo_reports_and_degrades_without_gpu() {
    let p = Project::new();
    let out = p
        .cmd()
        .args(["sysinfo", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["threads"].as_u64().unwrap() >= 1);
    assert!(v["memory_total"].as_u64().unwrap() > 0);
    assert!(v["gpus"].is_array());
    if v["gpus"].as_array().unwrap().is_empty() {
        assert!(v["gpu_note"].is_string());
    }
    assert!(v["available"]["threads"].as_u64().unwrap() >= 1);
    p.cmd()
        .args(["sysinfo"])
        .assert()
        .success()
        .stdout(predicate::str::contains("gpu"));
}

#[test]
fn help_has_examples() {
    let p = Project::new();
    for args in [
        vec!["render", "--help"],
        vec!["render", "submit", "--help"],
        vec!["render", "worker", "--help"],
        vec!["render", "logs", "--help"],
        vec!["render", "cancel", "--help"],
        vec!["sysinfo", "--help"],
    ] {
        p.cmd()
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:"));
    }
}

#[test]
fn ls_reads_a_read_only_database_that_never_held_jobs() {
    let p = Project::new();
    // An empty file is an empty SQLite database: no render tables, never written by ls.
    let db_dir = p.path().join(".shotline");
    std::fs::create_dir_all(&db_dir).unwrap();
    let db = db_dir.join("shotline.db");
    std::fs::write(&db, "").unwrap();
    let read_only = |mode| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    read_only(0o444);
    p.cmd()
        .args(["render", "ls"])
        .assert()
        .success()
        .stderr(predicate::str::contains("no render jobs"));
    p.cmd()
        .args(["render", "ls", "--json"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("\"jobs\":[]").or(predicate::str::contains("\"jobs\": []")),
        );
    read_only(0o644);
    assert_eq!(
        std::fs::metadata(&db).unwrap().len(),
        0,
        "ls wrote to the database"
    );
}

#[test]
fn values_that_would_overflow_or_mislead_are_refused_at_the_edge() {
    let p = Project::new();
    for (args, says) in [
        (vec!["--timeout", "99999999999999"], "too long"),
        (vec!["--chunk", "0"], "--chunk"),
        (vec!["--threads", "100000"], "--threads"),
        (vec!["--env", "=x"], "not a variable name"),
        (
            vec!["--max-concurrent", "99999", "--wait"],
            "--max-concurrent",
        ),
    ] {
        let mut cmd = p.cmd();
        cmd.args(["render", "submit", "--frames", "1"])
            .args(&args)
            .args(["--", "true"]);
        cmd.assert().code(2).stderr(predicate::str::contains(says));
    }
    for (yaml, field) in [
        ("frames: 1\nchunk: 0\ncommand: [true]\n", "chunk"),
        ("frames: 1\nenv: {'A=B': x}\ncommand: [true]\n", "A=B"),
        ("frames: 1\ncwd: missing/folder\ncommand: [true]\n", "cwd"),
    ] {
        p.write("bad.yaml", yaml);
        p.cmd()
            .args(["render", "submit", "bad.yaml"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(field).and(predicate::str::contains("<input>").not()));
    }
    p.write(
        "shotline.yaml",
        "render:\n  kill_grace_secs: 99999999999999\n",
    );
    p.cmd().args(["render", "ls"]).assert().code(2).stderr(
        predicate::str::contains("kill_grace_secs").and(predicate::str::contains("line 2")),
    );
}

#[test]
fn submit_records_who_submitted_and_takes_shot_step_and_review_flags() {
    let p = Project::with_config(
        "project: {code: DEMO}\nrender:\n  max_concurrent: 2\n  kill_grace_secs: 2\n  poll_ms: 50\n",
    );
    p.cmd()
        .env("SHOTLINE_USER", "ana")
        .args([
            "render", "submit", "--frames", "1-2", "--name", "lit", "--shot", "SH010", "--step",
            "lighting", "--review", "h264", "--", "true",
        ])
        .assert()
        .success();
    let s = p.status("lit");
    assert_eq!(s["submitted_by"], "ana", "{s:#}");
    let output = s["output"].as_str().unwrap();
    assert!(
        output.contains("SH010/lighting/SH010_lighting."),
        "{output}"
    );
    // Listings show the user, in JSON and in the table.
    let out = p.cmd().args(["render", "ls", "--json"]).output().unwrap();
    let ls: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ls["jobs"][0]["submitted_by"], "ana", "{ls:#}");
    p.cmd()
        .args(["render", "ls"])
        .assert()
        .success()
        .stdout(predicate::str::contains("BY").and(predicate::str::contains("ana")));
    p.cmd()
        .args(["render", "status", "lit"])
        .assert()
        .success()
        .stdout(predicate::str::contains("by      ana"));
    // Flags override the spec file's keys.
    p.write(
        "comp.yaml",
        "name: comp\nframes: 1\nshot: SH020\nstep: comp\ncommand: [true]\n",
    );
    p.cmd()
        .env("SHOTLINE_USER", "bob")
        .args(["render", "submit", "comp.yaml", "--shot", "SH030"])
        .assert()
        .success();
    let s = p.status("comp");
    assert_eq!(s["submitted_by"], "bob");
    assert!(
        s["output"]
            .as_str()
            .unwrap()
            .contains("SH030/comp/SH030_comp."),
        "{s:#}"
    );
    // Unsafe or unknown values are usage errors naming the flag or value.
    for (args, says) in [
        (vec!["--shot", "../up"], "--shot"),
        (vec!["--step", "a/b"], "--step"),
        (vec!["--review", "nosuchpreset"], "nosuchpreset"),
    ] {
        p.cmd()
            .args(["render", "submit", "comp.yaml"])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
}
