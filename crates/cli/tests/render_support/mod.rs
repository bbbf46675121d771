//! Shared helpers for the render integration tests: a project in a tempdir with a fast-polling
//! queue config, the real binary, and process checks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// The one way to run the binary (environment cleaned the same for every test file).
#[path = "../support/mod.rs"]
mod support;

/// A project folder with its own queue.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("shotline.yaml"),
            "render:\n  max_concurrent: 2\n  kill_grace_secs: 2\n  poll_ms: 50\n",
        )
        .unwrap();
        Project { dir }
    }

    /// A project whose `shotline.yaml` is `yaml`.
    pub fn with_config(yaml: &str) -> Project {
        let p = Project::new();
        p.write("shotline.yaml", yaml);
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary, run in the project with a clean environment for shotline's variables.
    pub fn cmd(&self) -> Command {
        let mut c = support::shotline(self.path());
        c.timeout(Duration::from_secs(120));
        c
    }

    /// The binary as a background process (a worker), stdout captured; killed if the test
    /// fails before it is waited for.
    pub fn spawn(&self, args: &[&str]) -> Bg {
        self.spawn_env(args, &[])
    }

    /// [`Project::spawn`] with extra environment variables (a worker playing another host).
    pub fn spawn_env(&self, args: &[&str], env: &[(&str, &str)]) -> Bg {
        let mut child = support::shotline_std(self.path())
            .envs(env.iter().copied())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Stderr is read line by line as it comes, so a test can wait for a message.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            let mut all = String::new();
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                all.push_str(&line);
                all.push('\n');
                let _ = tx.send(line);
            }
            all
        });
        Bg {
            child: Some(child),
            lines: rx,
            reader: Some(reader),
        }
    }

    /// Writes a file into the project.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Makes `name`, a tiny Cycles scene (32x18 px, 2 samples, no denoiser: Debian's build has
    /// no OpenImageDenoise), with Blender itself.
    pub fn blender_scene(&self, name: &str) -> PathBuf {
        let scene = self.path().join(name);
        let make = format!(
            "import bpy\ns = bpy.context.scene\ns.render.engine = 'CYCLES'\ns.cycles.samples = 2\n\
             s.cycles.use_denoising = False\ns.render.resolution_x = 32\ns.render.resolution_y = 18\n\
             s.render.resolution_percentage = 100\nbpy.ops.wm.save_as_mainfile(filepath={:?})\n",
            scene.to_str().unwrap()
        );
        let made = std::process::Command::new("blender")
            .args([
                "-b",
                "--factory-startup",
                "-noaudio",
                "--python-expr",
                &make,
            ])
            .output()
            .unwrap();
        assert!(
            scene.is_file(),
            "blender did not write the scene: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        scene
    }

    /// Writes an executable shell script (a fake renderer).
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.write(name, &format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    /// `render status JOB --json`.
    pub fn status(&self, job: &str) -> Value {
        let out = self
            .cmd()
            .args(["render", "status", job, "--json"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "status json: {e}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// Polls until `pred(status)` holds; panics after a generous hang guard.
    pub fn wait_for(&self, job: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let s = self.status(job);
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}: {s:#}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for a file to appear (hang guard only).
    pub fn wait_file(&self, name: &str) -> String {
        let p = self.path().join(name);
        let start = Instant::now();
        loop {
            if let Ok(s) = std::fs::read_to_string(&p) {
                if s.ends_with('\n') {
                    return s.trim().to_string();
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {}",
                p.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// True when a process with this pid exists and is not a zombie.
pub fn pid_alive(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s
                .rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next())
                .unwrap_or("");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// Waits (hang guard) for a pid to be gone; true when it is.
pub fn pid_gone(pid: i64) -> bool {
    let start = Instant::now();
    while pid_alive(pid) {
        if start.elapsed() > Duration::from_secs(20) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Waits (hang guard) until no process entry is left at all, zombie included: proves the
/// worker reaped its own child.
pub fn pid_reaped(pid: i64) -> bool {
    let start = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        if start.elapsed() > Duration::from_secs(20) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// A background shotline that is killed when dropped unwaited (a failing test must not leave a
/// worker running).
pub struct Bg {
    child: Option<Child>,
    /// Stderr lines as they are printed.
    lines: std::sync::mpsc::Receiver<String>,
    /// Collects the whole stderr for [`finish`].
    reader: Option<std::thread::JoinHandle<String>>,
}

impl Bg {
    /// Its pid.
    pub fn id(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Waits until stderr prints a line containing `text` (hang guard only) and returns it.
    pub fn wait_stderr(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(e) => panic!("no stderr line containing {text:?}: {e}"),
            }
        }
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM first: the worker stops and kills its tasks; SIGKILL if it hangs.
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let start = Instant::now();
            while c.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits for a child (hang guard) and returns its exit status, stdout and stderr.
pub fn finish(mut bg: Bg) -> (std::process::ExitStatus, String, String) {
    let mut child = bg.child.take().unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            let err = bg.reader.take().unwrap().join().unwrap();
            return (
                out.status,
                String::from_utf8_lossy(&out.stdout).into_owned(),
                err,
            );
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("background shotline did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends a signal to a background shotline.
pub fn signal(child: &Bg, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// The first task of a status document.
pub fn task0(s: &Value) -> &Value {
    &s["task_list"][0]
}

impl Project {
    /// Waits for a file to exist (hang guard only).
    pub fn wait_file_exists(&self, name: &str) {
        let p = self.path().join(name);
        let start = Instant::now();
        while !p.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {}",
                p.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
