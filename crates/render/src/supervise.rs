//! Supervision of local task processes: each task leads its own process group, its output is
//! pumped into a capped log and the progress parser, its exit is watched through a pidfd, and
//! its whole tree ([`TaskTree`]) is stopped on cancel, timeout or exit.
//!
//! One rule is enforced here for every kill path: a process group is signalled only while its
//! leader has not been reaped. The leader lives behind one lock shared by the watcher (which
//! reaps it) and the worker (which signals it); once reaped, its group id may belong to
//! someone else, so only the members found in `/proc` (checked by start time, signalled
//! through pidfds) are signalled.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::process::{Pid, PidfdFlags, Signal, WaitId, WaitIdOptions};

use crate::error::{RenderError, Result};
use crate::executor::{ExecEvent, Execution, Executor, ExitInfo, Launch};
use crate::launch::shell_line;
use crate::logcap::CappedLog;
use crate::procs::{self, ProcId, TaskTree};
use crate::progress::ProgressParser;

/// How long the exit waits for the end of output when something outside the tree still
/// holds the pipe.
const OUTPUT_WAIT: Duration = Duration::from_secs(2);

/// Runs tasks as child processes on this machine, each leading its own process group, with
/// stdout and stderr merged into the attempt's log file.
#[derive(Debug, Clone, Copy)]
pub struct LocalExecutor {
    /// The worker process, part of every task's tree marker.
    worker: ProcId,
    /// Which executor of this process: attempt ids of two queues run by one process can be
    /// equal, and a marker shared by both would let one kill the other's tasks.
    instance: u64,
}

/// Executors made by this process so far.
static INSTANCES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl LocalExecutor {
    /// An executor for tasks started by this process.
    pub fn new() -> LocalExecutor {
        LocalExecutor {
            worker: procs::me(),
            instance: INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Default for LocalExecutor {
    fn default() -> Self {
        LocalExecutor::new()
    }
}

impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    fn launch(&mut self, launch: Launch, events: Sender<ExecEvent>) -> Result<Box<dyn Execution>> {
        let attempt = launch.attempt;
        let header = format!(
            "# shotline: {}\n",
            shell_line(std::iter::once(&launch.program).chain(&launch.args))
        );
        let (reader, writer) =
            std::io::pipe().map_err(|e| RenderError::io("cannot create a pipe", e))?;
        let writer2 = writer
            .try_clone()
            .map_err(|e| RenderError::io("cannot create a pipe", e))?;
        let mut cmd = Command::new(&launch.program);
        cmd.args(&launch.args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .env(
                procs::MARKER_VAR,
                procs::marker_value(self.worker, self.instance, attempt),
            )
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
            if let Ok(f) = open_log(&launch.log) {
                let mut log = CappedLog::new(f, launch.log_max_bytes);
                log.write(header.as_bytes());
                log.write(format!("# shotline: cannot start {}: {e}\n", launch.program).as_bytes());
                let _ = log.finish();
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
        let tree = id.map(|leader| TaskTree::new(leader, self.worker, self.instance, attempt));
        let leader = Arc::new(Mutex::new(Leader {
            child,
            status: None,
        }));
        let watcher = Watcher {
            pump: Pump {
                reader,
                log: None,
                parser: launch.parser,
                line: Vec::new(),
                buf: vec![0u8; 16 * 1024],
                attempt,
                tx: events.clone(),
            },
            leader: leader.clone(),
            tree: tree.clone(),
            attempt,
            tx: events,
        };
        let log = LogTarget {
            path: launch.log,
            header,
            max_bytes: launch.log_max_bytes,
        };
        std::thread::spawn(move || watcher.run(log));
        Ok(Box::new(LocalExecution { leader, id, tree }))
    }
}

/// Where a task's log goes and what opens it.
struct LogTarget {
    path: std::path::PathBuf,
    header: String,
    max_bytes: u64,
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

/// The task's leader process and, once reaped, how it ended. Behind one lock: whoever holds
/// it may signal the group only while `status` is `None`.
struct Leader {
    child: Child,
    status: Option<ExitInfo>,
}

impl Leader {
    /// Reaps the leader if it has exited; its status from then on.
    fn try_reap(&mut self) -> Option<ExitInfo> {
        if self.status.is_none() {
            self.status = match self.child.try_wait() {
                Ok(Some(s)) => Some(exit_info(s)),
                Ok(None) => None,
                Err(_) => Some(ExitInfo {
                    code: None,
                    signal: None,
                }),
            };
        }
        self.status
    }

    /// Signals the whole group, unless the leader has been reaped ("the child exited already:
    /// don't send a signal"). True when the signal was sent.
    fn signal_group(&mut self, signal: Signal) -> bool {
        if self.try_reap().is_some() {
            return false;
        }
        procs::signal_group(self.child.id() as i32, signal);
        true
    }
}

fn exit_info(s: std::process::ExitStatus) -> ExitInfo {
    ExitInfo {
        code: s.code(),
        signal: s.signal(),
    }
}

fn lock(leader: &Mutex<Leader>) -> MutexGuard<'_, Leader> {
    leader.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads a task's output: copies it to the log and feeds complete lines (split at `\n` or
/// `\r`) to the progress parser.
struct Pump {
    reader: std::io::PipeReader,
    log: Option<CappedLog>,
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
            log.write(&self.buf[..n]);
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
        if let Some(log) = self.log.take() {
            if let Err(e) = log.finish() {
                let _ = self.tx.send(ExecEvent::LogFailed {
                    attempt: self.attempt,
                    message: format!("cannot write the log: {e}"),
                });
            }
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

/// One thread per attempt: watches the output pipe and the leader (through a pidfd) with
/// poll(2), so a start costs one thread; without pidfd support (Linux < 5.3) a second thread
/// waits for the leader. The log is created here, off the worker's scheduling path; the pipe
/// holds the first output meanwhile.
struct Watcher {
    pump: Pump,
    leader: Arc<Mutex<Leader>>,
    tree: Option<TaskTree>,
    attempt: i64,
    tx: Sender<ExecEvent>,
}

impl Watcher {
    fn run(mut self, log: LogTarget) {
        self.pump.log = match open_log(&log.path) {
            Ok(f) => {
                let mut l = CappedLog::new(f, log.max_bytes);
                l.write(log.header.as_bytes());
                Some(l)
            }
            Err(e) => {
                let _ = self.tx.send(ExecEvent::LogFailed {
                    attempt: self.attempt,
                    message: format!("cannot write log {}: {e}", log.path.display()),
                });
                None
            }
        };
        let pid = Pid::from_raw(lock(&self.leader).child.id() as i32);
        match pid.and_then(|p| rustix::process::pidfd_open(p, PidfdFlags::empty()).ok()) {
            Some(pidfd) => self.watch(pidfd),
            None => {
                let Watcher {
                    pump,
                    leader,
                    tree,
                    attempt,
                    tx,
                } = self;
                std::thread::spawn(move || wait_leader(&leader, tree.as_ref(), attempt, &tx));
                pump.run();
            }
        }
    }

    /// The poll loop. When the leader exits, what is left of its tree is killed at once, and
    /// the exit is reported together with the end of output (or after [`OUTPUT_WAIT`] if
    /// something outside the tree still holds the pipe), so the worker wakes once per task.
    fn watch(mut self, pidfd: OwnedFd) {
        let mut open = true;
        let mut leader_running = true;
        let mut pending: Option<(ExitInfo, Instant)> = None;
        while open || leader_running {
            let timeout = pending.map(|(_, at)| {
                let left = OUTPUT_WAIT.saturating_sub(at.elapsed());
                Timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: i64::from(left.subsec_nanos()),
                }
            });
            let (pipe_ready, exit_ready) = {
                let mut fds = Vec::with_capacity(2);
                if open {
                    fds.push(PollFd::new(&self.pump.reader, PollFlags::IN));
                }
                if leader_running {
                    fds.push(PollFd::from_borrowed_fd(pidfd.as_fd(), PollFlags::IN));
                }
                match rustix::event::poll(&mut fds, timeout.as_ref()) {
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(_) => {
                        // poll itself failed: fall back to blocking calls, which cannot miss
                        // anything.
                        drop(fds);
                        return self.block(pending, leader_running, open);
                    }
                    Ok(_) => {}
                }
                let ready = |i: usize| fds.get(i).is_some_and(|f| !f.revents().is_empty());
                if open {
                    (ready(0), leader_running && ready(1))
                } else {
                    (false, ready(0))
                }
            };
            if !pipe_ready && !exit_ready {
                // Output still open a while after the exit: report the exit now.
                if let Some((status, _)) = pending.take() {
                    self.send_exit(status);
                }
                continue;
            }
            if exit_ready {
                leader_running = false;
                let status = reap_and_clean(&self.leader, self.tree.as_ref());
                pending = Some((status, Instant::now()));
            }
            if pipe_ready && !self.pump.read_once() {
                open = false;
            }
            if !open {
                if let Some((status, _)) = pending.take() {
                    self.send_exit(status);
                }
            }
        }
        if let Some((status, _)) = pending.take() {
            self.send_exit(status);
        }
    }

    /// Blocking fallback after a failed poll.
    fn block(self, pending: Option<(ExitInfo, Instant)>, leader_running: bool, open: bool) {
        if let Some((status, _)) = pending {
            self.send_exit(status);
        }
        let Watcher {
            pump,
            leader,
            tree,
            attempt,
            tx,
        } = self;
        if leader_running {
            std::thread::spawn(move || wait_leader(&leader, tree.as_ref(), attempt, &tx));
        }
        if open {
            pump.run();
        }
    }

    fn send_exit(&self, status: ExitInfo) {
        let _ = self.tx.send(ExecEvent::Exited {
            attempt: self.attempt,
            status,
        });
    }
}

/// Reaps the leader (it has exited) and kills what is left of its tree.
fn reap_and_clean(leader: &Mutex<Leader>, tree: Option<&TaskTree>) -> ExitInfo {
    let status = lock(leader).try_reap().unwrap_or(ExitInfo {
        code: None,
        signal: None,
    });
    if let Some(tree) = tree {
        tree.kill_all();
    }
    status
}

/// Waits for the leader to exit without reaping it (`WNOWAIT`), so the reap itself happens
/// under the lock, then reports the exit.
fn wait_leader(
    leader: &Mutex<Leader>,
    tree: Option<&TaskTree>,
    attempt: i64,
    tx: &Sender<ExecEvent>,
) {
    if let Some(pid) = Pid::from_raw(lock(leader).child.id() as i32) {
        while let Err(rustix::io::Errno::INTR) = rustix::process::waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {}
    }
    let status = reap_and_clean(leader, tree);
    let _ = tx.send(ExecEvent::Exited { attempt, status });
}

/// A started local attempt.
struct LocalExecution {
    leader: Arc<Mutex<Leader>>,
    id: Option<ProcId>,
    tree: Option<TaskTree>,
}

impl LocalExecution {
    /// Signals the group (if the leader is not reaped) and every member that left it.
    fn signal_tree(&mut self, signal: Signal) {
        let mut leader = lock(&self.leader);
        leader.signal_group(signal);
        if let Some(tree) = &self.tree {
            tree.signal_escaped(signal);
        }
    }
}

impl Execution for LocalExecution {
    fn proc_id(&self) -> Option<ProcId> {
        self.id
    }

    fn terminate(&mut self) {
        self.signal_tree(Signal::TERM);
    }

    fn kill(&mut self) {
        self.signal_tree(Signal::KILL);
    }

    fn cleanup(&mut self) {
        // The watcher reaped the leader and killed the tree; a member that appeared since
        // (a fork racing the kill) is caught by one more scan. Never a group signal here.
        let reaped = lock(&self.leader).try_reap().is_some();
        if let (true, Some(tree)) = (reaped, &self.tree) {
            tree.kill_all();
        }
    }
}
