//! shotline-render: the local render queue.
//!
//! Jobs ([`JobSpec`], YAML/JSON or built from flags) resolve to a command template and stepped
//! chunks ([`ResolvedJob`]), are stored in the project's database ([`Queue`]: the SQLite file, or
//! PostgreSQL shared by workers on several hosts) and run by a [`Worker`] within this machine's CPU/GPU/memory budget ([`MachineInfo`] minus the configured
//! reserve). Each task runs in its own process group through an [`Executor`] (the
//! [`LocalExecutor`] here; a farm backend later), with live progress parsing, capped
//! per-attempt logs, timeouts, cancel of the whole process tree (children that call `setsid`
//! included), retries and output verification.
//!
//! Modules follow the worker's steps: `schedule` (budget, fit), `launch` (templates,
//! environment), `supervise` (process groups, pidfd, trees, logs), `finalize` (verify, retry);
//! `worker` only dispatches between them.
//!
//! The library never prints and never exits: callers get [`Event`]s and typed errors.

#![warn(missing_docs)]

mod chunk;
mod cleanup;
mod clock;
mod control;
mod dispatch;
mod error;
mod event;
mod executor;
mod export;
mod farm;
mod finalize;
mod job;
mod launch;
mod logcap;
mod machine;
mod model;
mod pattern;
mod procs;
mod progress;
mod queue;
mod schedule;
mod spec;
mod supervise;
mod template;
mod verify;
mod worker;

pub use chunk::{plan, Chunk, Stepping, MAX_FRAMES};
pub use cleanup::{clean, Removed};
pub use control::{install_signal_handlers, SignalHandlerKind, Stop};
pub use error::{RenderError, Result};
pub use event::Event;
pub use executor::{ExecEvent, Execution, Executor, ExitInfo, Launch};
pub use export::{export, export_chain, ExportFormat, Exportable, Exported, Metadata};
pub use farm::{FarmSubmission, Slurm, SyncReport, SLURM};
pub use job::{default_output, ResolvedJob, SHOT_RENDER, SHOT_RENDER_FILE};
pub use launch::shell_line;
pub use machine::{GpuInfo, MachineInfo};
pub use model::*;
pub use pattern::OutputPattern;
pub use procs::{render_host, ProcId, TaskTree, RENDER_HOST_ENV};
pub use progress::{ProgressParser, ProgressRules};
pub use queue::Queue;
pub use schedule::{Budget, Need};
pub use spec::{
    check_env_key, Command, Duration, JobRef, JobSpec, Preset, ProgressSpec, Resources, MAX_RETRIES,
};
pub use supervise::LocalExecutor;
pub use template::PLACEHOLDERS;
pub use verify::{verify_chunk, verify_job, BadChunk};
pub use worker::{Worker, WorkerOptions};

use std::path::{Path, PathBuf};

/// Where job folders live: `render.dir` from the config (relative to the project root), else a
/// `render` folder beside the database (`.shotline/render` in the project when the database is
/// on a PostgreSQL server).
pub fn default_render_dir(
    project_root: &Path,
    db_path: &Path,
    cfg: &shotline_config::RenderConfig,
) -> PathBuf {
    match &cfg.dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => project_root.join(d),
        // A server database has no folder: job folders go in the project, which every host
        // sharing the queue sees.
        None if shotline_store::target::is_postgres_url(db_path) => {
            project_root.join(".shotline").join("render")
        }
        None => db_path.parent().unwrap_or(project_root).join("render"),
    }
}

/// Submits a job and returns its id: the library entry point for DCCs and web pages.
pub fn submit(
    queue: &mut Queue,
    spec: &JobSpec,
    base: &Path,
    cfg: &shotline_config::RenderConfig,
) -> Result<JobId> {
    let job = ResolvedJob::resolve(spec, base, cfg)?;
    queue.submit(&job)
}

/// Polls a job until it is finished (or `stop` is raised), calling `on_change` with each new
/// summary: watching from another process than the worker's.
pub fn watch_job(
    queue: &Queue,
    job: JobId,
    interval: std::time::Duration,
    stop: &Stop,
    on_change: &mut dyn FnMut(&JobSummary),
) -> Result<JobSummary> {
    let mut last: Option<(JobState, u64, u64)> = None;
    loop {
        let s = queue.summary(job)?;
        let key = (s.state, s.frames_done, (s.progress * 1000.0) as u64);
        if last != Some(key) {
            on_change(&s);
            last = Some(key);
        }
        if s.state.is_final() || stop.level() > 0 {
            return Ok(s);
        }
        std::thread::sleep(interval);
    }
}
