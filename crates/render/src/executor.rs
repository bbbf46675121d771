//! Executors start task processes and report back. The worker only talks to the [`Executor`]
//! trait, so a farm backend (Slurm, Deadline, OpenCue) can replace [`LocalExecutor`]: submit the
//! task there, stream its log lines, report its exit and cancel it.

use std::path::PathBuf;
use std::sync::mpsc::Sender;

use crate::error::Result;
use crate::procs::ProcId;
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
    /// Most bytes the log keeps (head and tail; 0: no cap).
    pub log_max_bytes: u64,
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
    /// Asks the task to stop (SIGTERM to its whole process tree).
    fn terminate(&mut self);
    /// Stops the task now (SIGKILL to its whole process tree).
    fn kill(&mut self);
    /// Called once the leader exited: removes whatever it left running in its tree.
    fn cleanup(&mut self);
}

/// Starts attempts somewhere.
pub trait Executor {
    /// Recorded with each attempt (`local`).
    fn name(&self) -> &'static str;
    /// Starts an attempt; progress and the exit come later through `events`.
    fn launch(&mut self, launch: Launch, events: Sender<ExecEvent>) -> Result<Box<dyn Execution>>;
}
