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
    /// The log file could not be written; output is still read for progress.
    LogFailed {
        /// Attempt.
        attempt: i64,
        /// Why.
        message: String,
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
        let shown: Vec<String> = std::iter::once(launch.program.clone())
            .chain(launch.args.iter().cloned())
            .collect();
        let header = format!("# shotline: {}\n", shown.join(" "));
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
        let child = cmd.spawn().map_err(|e| {
            if let Ok(mut log) = open_log(&launch.log) {
                let _ = writeln!(
                    log,
                    "{header}# shotline: cannot start {}: {e}",
                    launch.program
                );
            }
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
        let parser = launch.parser;
        let log_path = launch.log;
        // One thread per attempt watches both the output pipe and the process (through a
        // pidfd), so a start costs one thread; without pidfd support (Linux < 5.3) a second
        // thread waits for the process. The log is created there too, off the worker's
        // scheduling path; the pipe holds the first output meanwhile.
        let pidfd = pidfd_open(pid);
        std::thread::spawn(move || {
            let log = match open_log(&log_path) {
                Ok(mut f) => {
                    let _ = f.write_all(header.as_bytes());
                    Some(f)
                }
                Err(e) => {
                    let _ = events.send(ExecEvent::LogFailed {
                        attempt,
                        message: format!("cannot write log {}: {e}", log_path.display()),
                    });
                    None
                }
            };
            let pump = Pump {
                reader,
                log,
                parser,
                line: Vec::new(),
                buf: vec![0u8; 16 * 1024],
                attempt,
                tx: events.clone(),
            };
            match pidfd {
                Some(pidfd) => watch(pump, child, pidfd, id, attempt, &events),
                None => {
                    let tx = events.clone();
                    std::thread::spawn(move || reap(child, attempt, &tx));
                    pump.run();
                }
            }
        });
        Ok(Box::new(LocalExecution {
            pid,
            id,
            exited: false,
        }))
    }
}

/// Opens (creating folder and file) an attempt's log for appending.
fn open_log(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
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

/// Reads a task's output: copies it to the log and feeds complete lines (split at `\n` or
/// `\r`) to the progress parser.
struct Pump {
    reader: std::fs::File,
    log: Option<std::fs::File>,
    parser: ProgressParser,
    line: Vec<u8>,
    buf: Vec<u8>,
    attempt: i64,
    tx: Sender<ExecEvent>,
}

impl Pump {
    /// Reads once; false at end of output (then `OutputClosed` has been sent).
    fn read_once(&mut self) -> bool {
        let n = loop {
            match self.reader.read(&mut self.buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(n) => break n,
                Err(_) => break 0,
            }
        };
        if n == 0 {
            self.finish();
            return false;
        }
        if let Some(log) = self.log.as_mut() {
            let _ = log.write_all(&self.buf[..n]);
        }
        let mut moved = false;
        for &b in &self.buf[..n] {
            if b == b'\n' || b == b'\r' {
                moved |= self.parser.feed(&String::from_utf8_lossy(&self.line));
                self.line.clear();
            } else if self.line.len() < 64 * 1024 {
                self.line.push(b);
            }
        }
        if moved {
            self.progress();
        }
        true
    }

    fn progress(&self) {
        let _ = self.tx.send(ExecEvent::Progress {
            attempt: self.attempt,
            frames_done: self.parser.frames_done(),
            fraction: self.parser.fraction(),
        });
    }

    fn finish(&mut self) {
        if !self.line.is_empty() && self.parser.feed(&String::from_utf8_lossy(&self.line)) {
            self.progress();
        }
        self.line.clear();
        if let Some(log) = self.log.as_mut() {
            let _ = log.flush();
        }
        let _ = self.tx.send(ExecEvent::OutputClosed {
            attempt: self.attempt,
        });
    }

    /// Reads to the end.
    fn run(mut self) {
        while self.read_once() {}
    }
}

/// Waits for the process and reports its exit.
fn reap(mut child: std::process::Child, attempt: i64, tx: &Sender<ExecEvent>) {
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
    let _ = tx.send(ExecEvent::Exited { attempt, status });
}

/// Watches output and process exit from one thread with poll(2). When the leader exits, what
/// it left in its group is killed at once, and the exit is reported together with the end of
/// output (or after 2 s if something outside the group still holds the pipe), so the worker
/// wakes once per finished task.
fn watch(
    mut pump: Pump,
    child: std::process::Child,
    pidfd: std::os::fd::OwnedFd,
    id: Option<ProcId>,
    attempt: i64,
    tx: &Sender<ExecEvent>,
) {
    use std::os::fd::AsRawFd;
    let mut child = Some(child);
    let mut open = true;
    let mut pending: Option<(ExitInfo, std::time::Instant)> = None;
    let send_exit = |status: ExitInfo| {
        let _ = tx.send(ExecEvent::Exited { attempt, status });
    };
    while open || child.is_some() {
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(2);
        if open {
            fds.push(libc::pollfd {
                fd: pump.reader.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        if child.is_some() {
            fds.push(libc::pollfd {
                fd: pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let timeout = match pending {
            Some((_, at)) => 2000u128.saturating_sub(at.elapsed().as_millis()) as libc::c_int,
            None => -1,
        };
        // SAFETY: `fds` is a valid, initialised array of `fds.len()` pollfd structs.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if rc < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // poll itself failed: fall back to blocking calls, which cannot miss anything.
            if let Some((status, _)) = pending.take() {
                send_exit(status);
            }
            if let Some(c) = child.take() {
                let tx = tx.clone();
                std::thread::spawn(move || reap(c, attempt, &tx));
            }
            if open {
                pump.run();
            }
            return;
        }
        if rc == 0 {
            // Output still open 2 s after the exit: report the exit now.
            if let Some((status, _)) = pending.take() {
                send_exit(status);
            }
            continue;
        }
        for p in &fds {
            if p.revents == 0 {
                continue;
            }
            if p.fd == pidfd.as_raw_fd() {
                if let Some(mut c) = child.take() {
                    let status = match c.wait() {
                        Ok(s) => ExitInfo {
                            code: s.code(),
                            signal: s.signal(),
                        },
                        Err(_) => ExitInfo {
                            code: None,
                            signal: None,
                        },
                    };
                    if let Some(id) = id {
                        procs::kill_leftovers(id);
                    }
                    pending = Some((status, std::time::Instant::now()));
                }
            } else if !pump.read_once() {
                open = false;
            }
        }
        if !open {
            if let Some((status, _)) = pending.take() {
                send_exit(status);
            }
        }
    }
    if let Some((status, _)) = pending.take() {
        send_exit(status);
    }
}

/// A pidfd for `pid`, readable once the process exits; `None` where the kernel lacks it.
fn pidfd_open(pid: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the syscall returned a fresh descriptor that nothing else owns.
    Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
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
