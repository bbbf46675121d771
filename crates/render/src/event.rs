//! Events a worker reports while it runs the queue: the library's watch API (a DCC or a web page
//! subscribes with a callback) and the `--json` stream of `render worker` (one object per line).

use serde::Serialize;

use crate::model::JobId;

/// Something happened in the queue. Serialized with an `event` tag (`task_started`, …).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The worker is up, with the budget it schedules within.
    WorkerStarted {
        /// Worker id in the queue.
        worker: i64,
        /// Host name.
        host: String,
        /// CPU threads available to tasks (after the reserve).
        threads: u32,
        /// GPU indices available to tasks.
        gpus: Vec<u32>,
        /// Memory available to tasks, bytes (0: not counted).
        memory: u64,
        /// Most tasks at once (0: no limit).
        max_concurrent: u32,
    },
    /// A task found running under a dead worker was put back in the queue.
    Requeued {
        /// Job.
        job: JobId,
        /// Task index.
        task: i64,
        /// What happened to it.
        reason: String,
    },
    /// A task's process started.
    TaskStarted {
        /// Job.
        job: JobId,
        /// Job name.
        name: String,
        /// Task index.
        task: i64,
        /// Attempt number.
        attempt: i64,
        /// Frames of the task.
        frames: String,
        /// Frames in the task.
        frame_count: u64,
        /// Process id (and group id).
        pid: Option<i32>,
        /// Threads given.
        threads: u32,
        /// GPUs given.
        gpus: Vec<u32>,
        /// Log file.
        log: String,
    },
    /// Progress parsed from a task's output.
    TaskProgress {
        /// Job.
        job: JobId,
        /// Task index.
        task: i64,
        /// Frames written.
        frames_done: u64,
        /// Frames in the task.
        frame_count: u64,
        /// 0..1 (below 1 until verified).
        progress: f64,
    },
    /// An attempt ended.
    TaskFinished {
        /// Job.
        job: JobId,
        /// Task index.
        task: i64,
        /// Attempt number.
        attempt: i64,
        /// `ok`, `failed`, `timeout`, `verify_failed`, `cancelled`, `interrupted`.
        outcome: String,
        /// The task's state now (`done`, `queued` for a retry, `failed`, `cancelled`).
        state: String,
        /// Why.
        message: Option<String>,
        /// Log file.
        log: String,
    },
    /// A task failed without running (needs more than the machine has, broken dependency).
    TaskRejected {
        /// Job.
        job: JobId,
        /// Task index, when one task.
        task: Option<i64>,
        /// Why.
        reason: String,
    },
    /// A job has nothing left to run.
    JobFinished {
        /// Job.
        job: JobId,
        /// Name.
        name: String,
        /// `done`, `failed` or `cancelled`.
        state: String,
    },
    /// The worker was asked to stop.
    Stopping {
        /// Tasks still running.
        running: usize,
        /// True: running tasks are being stopped and requeued; false: they finish first.
        requeue: bool,
    },
    /// The worker stopped.
    WorkerStopped {
        /// Attempts started.
        started: u64,
        /// Tasks done.
        done: u64,
        /// Tasks failed for good.
        failed: u64,
    },
}
