//! `shotline render …` (the local render queue) and `shotline sysinfo`. Argument parsing and
//! printing only; the queue, scheduling and processes live in `shotline-render`. JSON schemas
//! are documented in `docs/render.md`.

mod export;
mod farm;
mod manage;
mod report;
mod submit;
mod sysinfo;
mod verify;
mod worker;

use anyhow::Result;
use shotline_render::Queue;

use crate::context::Ctx;
use crate::output::Exit;

pub use sysinfo::SysinfoArgs;

const EXAMPLES: &str = "\
Examples:
  shotline render submit job.yaml --wait        queue a job and render it to the end
  shotline render submit --preset blender --scene sh010.blend --frames 1001-1100 \\
      --chunk 10 --output 'renders/sh010.%04d.exr'
  shotline render worker                        run the queue here (Ctrl-C: finish, twice: requeue)
  shotline render ls                            jobs and their progress
  shotline render status 12 --json              one job, every task and attempt
  shotline render logs 12/3 -f                  follow a task's log
  shotline render cancel 12                     stop a job (the whole process tree)
  shotline render retry 12                      requeue failed and cancelled tasks
  shotline render export 12 --format openjd -o farm/   a job description for another farm

The queue lives in the project's database (store.path); job folders (logs, temporary files) under
render.dir. Job spec schema, config keys and JSON schemas: docs/render.md.";

/// `shotline render` subcommands.
#[derive(Debug, clap::Subcommand)]
#[command(after_help = EXAMPLES)]
pub enum RenderCmd {
    /// Queue a job from a spec file (YAML or JSON) or from flags; --wait renders it now.
    Submit(Box<submit::SubmitArgs>),
    /// Run the queue on this machine in the foreground.
    Worker(worker::WorkerArgs),
    /// List jobs.
    Ls(report::LsArgs),
    /// One job: its tasks, their state, attempts and progress.
    Status(report::JobArg),
    /// Print (or follow) task logs.
    Logs(report::LogsArgs),
    /// Cancel a job: queued tasks are dropped, running ones stopped (SIGTERM, then SIGKILL).
    Cancel(manage::CancelArgs),
    /// Requeue a job's failed and cancelled tasks with a fresh retry budget.
    Retry(manage::ManageArg),
    /// Pause a job: running tasks finish, no new ones start.
    Pause(manage::ManageArg),
    /// Resume a paused job.
    Resume(manage::ManageArg),
    /// Remove the folders of finished jobs older than render.keep_days.
    Clean(manage::CleanArgs),
    /// Write a job as an Open Job Description template, Deadline job files or a Tractor script.
    Export(export::ExportArgs),
    /// Check every frame of a job on disk (exists, not empty, probes ok).
    Verify(verify::VerifyArgs),
}

/// Runs a render subcommand.
pub fn run(cmd: &RenderCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        RenderCmd::Submit(a) => submit::run(a, ctx),
        RenderCmd::Worker(a) => worker::run(a, ctx),
        RenderCmd::Ls(a) => report::ls(a, ctx),
        RenderCmd::Status(a) => report::status(a, ctx),
        RenderCmd::Logs(a) => report::logs(a, ctx),
        RenderCmd::Cancel(a) => manage::cancel(a, ctx),
        RenderCmd::Retry(a) => manage::retry(a, ctx),
        RenderCmd::Pause(a) => manage::pause(a, ctx, true),
        RenderCmd::Resume(a) => manage::pause(a, ctx, false),
        RenderCmd::Clean(a) => manage::clean(a, ctx),
        RenderCmd::Export(a) => export::run(a, ctx),
        RenderCmd::Verify(a) => verify::run(a, ctx),
    }
}

/// Runs `shotline sysinfo`.
pub fn sysinfo(args: &SysinfoArgs, ctx: &Ctx) -> Result<Exit> {
    sysinfo::run(args, ctx)
}

/// Opens the queue in the project's database.
fn open_queue(ctx: &Ctx) -> Result<Queue> {
    let cfg = &ctx.config.config;
    let root = ctx.project_root();
    let db = shotline_store::default_db_path(&root, &cfg.store);
    let dir = shotline_render::default_render_dir(&root, &db, &cfg.render);
    Ok(Queue::open(&db, &dir, cfg.store.busy_timeout_ms)?)
}

/// Opens the queue for listing only (`None`: no job was ever submitted).
fn open_queue_read_only(ctx: &Ctx) -> Result<Option<Queue>> {
    let cfg = &ctx.config.config;
    let root = ctx.project_root();
    let db = shotline_store::default_db_path(&root, &cfg.store);
    let dir = shotline_render::default_render_dir(&root, &db, &cfg.render);
    Ok(Queue::open_read_only(&db, &dir)?)
}

/// `JOB` or `JOB/TASK`.
fn split_job_task(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once('/') {
        Some((j, t)) if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) => (j, Some(t)),
        _ => (s, None),
    }
}

/// A percentage for humans.
fn pct(p: f64) -> String {
    format!("{:.0}%", (p * 100.0).floor())
}
