//! Running ffmpeg: progress from `-progress pipe:1`, a timeout, and the end of its stderr as the
//! error when it fails.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::colour::tail;
use crate::error::{Result, ReviewError};

/// What the reader thread reports.
enum Progress {
    /// Frames encoded so far.
    Frame(u64),
    /// ffmpeg closed its progress output (it is exiting).
    Done,
}

/// Runs `ffmpeg ARGS` in `cwd`, calling `on_frame` as frames are encoded; stops it after
/// `timeout`.
pub fn ffmpeg(
    exe: &Path,
    args: &[String],
    cwd: &Path,
    timeout: Duration,
    mut on_frame: impl FnMut(u64),
) -> Result<()> {
    let mut child = Command::new(exe)
        .args([
            "-hide_banner",
            "-nostdin",
            "-nostats",
            "-v",
            "error",
            "-progress",
            "pipe:1",
        ])
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| ReviewError::ToolMissing {
            tool: "ffmpeg",
            path: exe.to_path_buf(),
            error,
        })?;
    let stderr = collect_stderr(&mut child);
    let progress = watch_progress(&mut child);
    let deadline = Instant::now() + timeout;
    let finished = wait_progress(&progress, deadline, &mut on_frame);
    if !finished {
        // Still running past the deadline: stop it and reap it (never signal a reaped child).
        let _ = child.kill();
        let _ = child.wait();
        return Err(ReviewError::Timeout {
            secs: timeout.as_secs(),
        });
    }
    let status = child.wait().map_err(crate::error::io("wait for", exe))?;
    let err = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(ReviewError::ToolFailed {
            tool: "ffmpeg",
            status: status.to_string(),
            stderr: tail(&err),
        })
    }
}

fn collect_stderr(child: &mut Child) -> std::thread::JoinHandle<Vec<u8>> {
    let pipe = child.stderr.take();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            // Bounded: keep reading but hold at most the last 64 KiB.
            let mut chunk = [0u8; 8192];
            while let Ok(n) = p.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > 65536 {
                    buf.drain(..buf.len() - 65536);
                }
            }
        }
        buf
    })
}

fn watch_progress(child: &mut Child) -> mpsc::Receiver<Progress> {
    let (tx, rx) = mpsc::channel();
    let pipe = child.stdout.take();
    std::thread::spawn(move || {
        if let Some(p) = pipe {
            for line in BufReader::new(p).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line
                    .strip_prefix("frame=")
                    .and_then(|v| v.trim().parse().ok())
                {
                    if tx.send(Progress::Frame(n)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Progress::Done);
    });
    rx
}

/// True when ffmpeg closed its output before the deadline.
fn wait_progress(
    rx: &mpsc::Receiver<Progress>,
    deadline: Instant,
    on_frame: &mut impl FnMut(u64),
) -> bool {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Progress::Frame(n)) => on_frame(n),
            Ok(Progress::Done) | Err(mpsc::RecvTimeoutError::Disconnected) => return true,
            Err(mpsc::RecvTimeoutError::Timeout) => return false,
        }
    }
}
