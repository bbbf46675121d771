//! Executors start task processes and report back. The worker only talks to the [`Executor`]
//! trait, so a farm backend (Slurm, Deadline, OpenCue) can replace [`LocalExecutor`]: submit the
//! task there, stream its log lines, report its exit and cancel it.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::Sender;

use crate::error::{RenderError, Result};
use crate::procs::{self, ProcId};
use crate::progress::ProgressParser;

/// Everything needed to start one attempt.
#[derive(Debug)]
pub struct Launch {
    /// Attempt id: the key of every event about this attempt.
    pub attempt: i64,
    /// Program (looked up on `PATH`).
    pub program: String,
    /// Arguments, placeholders expanded.
    pub args: Vec<String>,
    /// Environment added to the worker's.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Where stdout and stderr go.
    pub log: PathBuf,
    /// Reads progress from the output.
    pub parser: ProgressParser,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal, when killed.
    pub signal: Option<i32>,
}

impl ExitInfo {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// `exited with code 3` / `killed by signal 9`.
    pub fn describe(&self) -> String {
        match (self.code, self.signal) {
            (Some(c), _) => format!("exited with code {c}"),
            (_, Some(s)) => format!("killed by signal {s}"),
            _ => "ended".into(),
        }
    }
}

/// What executors report to the worker, keyed by attempt id.
#[derive(Debug)]
pub enum ExecEvent {
    /// Progress moved.
    Progress {
        /// Attempt.
        attempt: i64,
        /// Frames written.
        frames_done: u64,
        /// 0..1 (below 1).
        fraction: f64,
    },
    /// The process (the group leader) ended.
    Exited {
        /// Attempt.
        attempt: i64,
        /// How.
        status: ExitInfo,
    },
    /// All output was read (every writer of the output pipe is gone).
    OutputClosed {
        /// Attempt.
        attempt: i64,
    },
}

/// A started attempt.
pub trait Execution: Send {
    /// Process identity to record, so another worker can recognise it later.
    fn proc_id(&self) -> Option<ProcId>;
    /// Asks the task to stop (SIGTERM to the whole process group).
    fn terminate(&mut self);
    /// Stops the task now (SIGKILL to the whole process group).
    fn kill(&mut self);
    /// Called once the leader exited: removes whatever it left running in its group.
    fn cleanup(&mut self);
}

/// Starts attempts somewhere.
pub trait Executor {
    /// Recorded with each attempt (`local`).
    fn name(&self) -> &'static str;
    /// Starts an attempt; progress and the exit come later through `events`.
    fn launch(&mut self, launch: Launch, events: Sender<ExecEvent>) -> Result<Box<dyn Execution>>;
}

/// Runs tasks as child processes on this machine, each leading its own process group, with
/// stdout and stderr merged into the attempt's log file.
#[derive(Debug, Default)]
pub struct LocalExecutor;

impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    fn launch(&mut self, launch: Launch, events: Sender<ExecEvent>) -> Result<Box<dyn Execution>> {
        let attempt = launch.attempt;
        if let Some(dir) = launch.log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                RenderError::io(format!("cannot create log folder {}", dir.display()), e)
            })?;
        }
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.log)
            .map_err(|e| RenderError::io(format!("cannot open log {}", launch.log.display()), e))?;
        let shown: Vec<String> = std::iter::once(launch.program.clone())
            .chain(launch.args.iter().cloned())
            .collect();
        let _ = writeln!(log, "# shotline: {}", shown.join(" "));
        let (reader, writer) = pipe().map_err(|e| RenderError::io("cannot create a pipe", e))?;
        let writer2 = writer
            .try_clone()
            .map_err(|e| RenderError::io("cannot create a pipe", e))?;
        let mut cmd = Command::new(&launch.program);
        cmd.args(&launch.args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&launch.cwd)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(writer2)
            .process_group(0);
        // No `pre_exec` hook (e.g. PR_SET_PDEATHSIG): it would force fork+exec instead of
        // posix_spawn and make every start much slower. A worker that dies without stopping
        // its tasks is covered instead by the pid + start time recorded for every attempt:
        // the next worker start (or `render cancel`) kills what is left and requeues it.
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent. With
        // PDEATHSIG the task dies with the worker thread that started it, so even a SIGKILLed
        // worker leaves no renderer holding licences and GPUs; the next worker requeues it.
        let mut child = cmd.spawn().map_err(|e| {
            let _ = writeln!(log, "# shotline: cannot start {}: {e}", launch.program);
            RenderError::io(
                format!(
                    "cannot start {:?} in {}",
                    launch.program,
                    launch.cwd.display()
                ),
                e,
            )
        })?;
        drop(cmd); // closes our copies of the pipe's write end
        let pid = child.id() as i32;
        let id = procs::start_time(pid).map(|start| ProcId { pid, start });
        let tx = events.clone();
        let mut parser = launch.parser;
        std::thread::spawn(move || pump(reader, log, &mut parser, attempt, &tx));
        std::thread::spawn(move || {
            let status = match child.wait() {
                Ok(s) => ExitInfo {
                    code: s.code(),
                    signal: s.signal(),
                },
                Err(_) => ExitInfo {
                    code: None,
                    signal: None,
                },
            };
            let _ = events.send(ExecEvent::Exited { attempt, status });
        });
        Ok(Box::new(LocalExecution {
            pid,
            id,
            exited: false,
        }))
    }
}

/// A close-on-exec pipe: (read end, write end). The write end goes to the child as stdout and
/// stderr; our copies are closed right after the spawn so the reader sees EOF when the task's
/// whole process tree is done with it.
fn pipe() -> std::io::Result<(std::fs::File, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    unsafe {
        Ok((
            std::fs::File::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        ))
    }
}

/// Copies output to the log and feeds complete lines (split at `\n` or `\r`) to the parser.
fn pump(
    mut reader: std::fs::File,
    mut log: std::fs::File,
    parser: &mut ProgressParser,
    attempt: i64,
    tx: &Sender<ExecEvent>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let _ = log.write_all(&buf[..n]);
        let mut moved = false;
        for &b in &buf[..n] {
            if b == b'\n' || b == b'\r' {
                moved |= parser.feed(&String::from_utf8_lossy(&line));
                line.clear();
            } else if line.len() < 64 * 1024 {
                line.push(b);
            }
        }
        if moved {
            let _ = tx.send(ExecEvent::Progress {
                attempt,
                frames_done: parser.frames_done(),
                fraction: parser.fraction(),
            });
        }
    }
    if !line.is_empty() && parser.feed(&String::from_utf8_lossy(&line)) {
        let _ = tx.send(ExecEvent::Progress {
            attempt,
            frames_done: parser.frames_done(),
            fraction: parser.fraction(),
        });
    }
    let _ = log.flush();
    let _ = tx.send(ExecEvent::OutputClosed { attempt });
}

struct LocalExecution {
    pid: i32,
    id: Option<ProcId>,
    exited: bool,
}

impl Execution for LocalExecution {
    fn proc_id(&self) -> Option<ProcId> {
        self.id
    }

    fn terminate(&mut self) {
        procs::signal_group(self.pid, libc::SIGTERM);
    }

    fn kill(&mut self) {
        procs::signal_group(self.pid, libc::SIGKILL);
    }

    fn cleanup(&mut self) {
        if !self.exited {
            self.exited = true;
            // The leader is reaped; only members started after it can carry its group id.
            match self.id {
                Some(id) => {
                    procs::kill_leftovers(id);
                }
                None => procs::signal_group(self.pid, libc::SIGKILL),
            }
        }
    }
}
