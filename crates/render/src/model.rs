//! What the queue reports: jobs, tasks and attempts, with stable JSON shapes (documented in
//! `docs/render.md`; fields are only ever added).

use serde::Serialize;

/// A job's id in the queue.
pub type JobId = i64;

/// Where a job stands, derived from its tasks and controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Waiting for jobs it depends on.
    Blocked,
    /// At least one task runs.
    Running,
    /// Paused with tasks left; running tasks finish, no new ones start.
    Paused,
    /// Cancelled while tasks still run; they are being stopped.
    Cancelling,
    /// Every task done and verified.
    Done,
    /// Finished with at least one failed task.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl JobState {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Blocked => "blocked",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Cancelling => "cancelling",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// True when nothing more will happen without a retry.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

/// Task counts by state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskCounts {
    /// All tasks.
    pub total: u64,
    /// Waiting.
    pub queued: u64,
    /// Running now.
    pub running: u64,
    /// Done and verified.
    pub done: u64,
    /// Failed after all retries.
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
}

/// One line of `render ls`.
#[derive(Debug, Clone, Serialize)]
pub struct JobSummary {
    /// Job id.
    pub id: JobId,
    /// Name.
    pub name: String,
    /// Derived state.
    pub state: JobState,
    /// Preset.
    pub preset: String,
    /// Higher first.
    pub priority: i64,
    /// Frame range as given.
    pub frames: String,
    /// Tasks by state.
    pub tasks: TaskCounts,
    /// Frames in the job.
    pub frame_count: u64,
    /// Frames written (done tasks count fully; running ones as parsed).
    pub frames_done: u64,
    /// 0..1, weighted by frames.
    pub progress: f64,
    /// Jobs this one waits for.
    pub after: Vec<JobId>,
    /// Submission time (RFC 3339).
    pub submitted_at: String,
    /// Who submitted it (the tracking store's user); `null` for jobs queued before shotline
    /// recorded it.
    pub submitted_by: Option<String>,
    /// When the last task finished (RFC 3339), for finished jobs.
    pub finished_at: Option<String>,
    /// The job's folder (logs, temporary files).
    pub dir: String,
}

/// One task of a job.
#[derive(Debug, Clone, Serialize)]
pub struct TaskInfo {
    /// Task id (queue-wide).
    pub id: i64,
    /// 0-based index within the job (`JOB/INDEX` in commands).
    pub index: i64,
    /// Frame range of the task.
    pub frames: String,
    /// Number of frames.
    pub frame_count: u64,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub state: String,
    /// Attempts started.
    pub attempts: u64,
    /// Failed attempts counting toward `retries`.
    pub failures: u64,
    /// Frames written in the current or last attempt.
    pub frames_done: u64,
    /// 0..1.
    pub progress: f64,
    /// Why it failed, was cancelled or requeued.
    pub message: Option<String>,
    /// The running or last attempt.
    pub attempt: Option<AttemptInfo>,
}

/// One run of a task.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptInfo {
    /// Attempt id.
    pub id: i64,
    /// 1-based number within the task.
    pub number: i64,
    /// Executor name (`local`).
    pub executor: String,
    /// Host it ran on.
    pub host: String,
    /// Process id (and group id) while known.
    pub pid: Option<i64>,
    /// CPU threads given.
    pub threads: i64,
    /// GPU indices given (`CUDA_VISIBLE_DEVICES`).
    pub gpus: String,
    /// The attempt's log file.
    pub log: String,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339).
    pub ended_at: Option<String>,
    /// `None` while running; then `ok`, `failed`, `timeout`, `verify_failed`, `cancelled`,
    /// `interrupted` (worker stopped) or `lost` (worker died).
    pub outcome: Option<String>,
    /// Exit code.
    pub exit_code: Option<i64>,
    /// Killing signal.
    pub signal: Option<i64>,
    /// Details.
    pub message: Option<String>,
    /// The farm's task (`123_4`: Slurm array job 123, task 4); null for local attempts.
    pub farm_task: Option<String>,
}

/// `render status JOB`.
#[derive(Debug, Clone, Serialize)]
pub struct JobDetail {
    /// The summary.
    #[serde(flatten)]
    pub job: JobSummary,
    /// Expected output pattern.
    pub output: Option<String>,
    /// Command template.
    pub command: Vec<String>,
    /// Tasks in index order.
    pub task_list: Vec<TaskInfo>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Exit 0 and frames verified.
    Ok,
    /// Non-zero exit or killed by a signal.
    Failed,
    /// Ran past the job's timeout.
    Timeout,
    /// Exit 0 but the frames are missing, empty or unreadable.
    VerifyFailed,
    /// Cancelled by a user.
    Cancelled,
    /// The worker was stopped; the task goes back to the queue.
    Interrupted,
    /// The worker died; found by the next worker, the task goes back to the queue.
    Lost,
}

impl Outcome {
    /// Lowercase name stored in the queue.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
            Outcome::VerifyFailed => "verify_failed",
            Outcome::Cancelled => "cancelled",
            Outcome::Interrupted => "interrupted",
            Outcome::Lost => "lost",
        }
    }

    /// Counts toward the job's `retries`.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::Failed | Outcome::Timeout | Outcome::VerifyFailed
        )
    }
}
