//! `render cancel|retry|pause|resume|clean`: changing the queue from any shell. The worker
//! picks changes up within `render.poll_ms`.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use super::open_queue;
use crate::context::Ctx;
use crate::output::{human_bytes, Exit};

const CANCEL_EXAMPLES: &str = "\
Examples:
  shotline render cancel 12            queued tasks dropped, running ones stopped by the worker
  shotline render cancel 12 --wait     return once no process of the job is left
Running tasks get SIGTERM on their whole process group, SIGKILL after render.kill_grace_secs.
Tasks whose worker died are killed right here. --json: {\"job\", \"state\", \"running\"}.";

/// Arguments of `render cancel`.
#[derive(Debug, clap::Args)]
#[command(after_help = CANCEL_EXAMPLES)]
pub struct CancelArgs {
    /// Job id or name.
    #[arg(value_name = "JOB")]
    pub job: String,
    /// Wait until none of the job's tasks runs any more.
    #[arg(long)]
    pub wait: bool,
}

const MANAGE_EXAMPLES: &str = "\
Examples:
  shotline render retry 12       failed and cancelled tasks back in the queue, fresh retries
  shotline render pause 12       running tasks finish; nothing new starts
  shotline render resume 12
--json: {\"job\", \"state\", \"changed\"}.";

/// A job to act on.
#[derive(Debug, clap::Args)]
#[command(after_help = MANAGE_EXAMPLES)]
pub struct ManageArg {
    /// Job id or name.
    #[arg(value_name = "JOB")]
    pub job: String,
}

const CLEAN_EXAMPLES: &str = "\
Examples:
  shotline render clean --dry-run      what would go
  shotline render clean --keep-days 0  every finished job's folder (failed ones kept unless
                                       render.keep_failed is false)
Removes job folders (temporary files, scene snapshots, logs); the queue keeps the history.";

/// Arguments of `render clean`.
#[derive(Debug, clap::Args)]
#[command(after_help = CLEAN_EXAMPLES)]
pub struct CleanArgs {
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
    /// Override render.keep_days.
    #[arg(long)]
    pub keep_days: Option<u32>,
}

#[derive(Serialize)]
struct Changed {
    job: i64,
    state: String,
    changed: u64,
}

/// `render cancel`.
pub fn cancel(a: &CancelArgs, ctx: &Ctx) -> Result<Exit> {
    let mut queue = open_queue(ctx)?;
    let id = queue.find(&a.job)?;
    let mut running = match super::farm::slurm_of(ctx, &queue, id)? {
        Some(slurm) => slurm.cancel(&mut queue, id)?,
        None => queue.cancel(id)?,
    };
    if a.wait && running > 0 {
        let grace = Duration::from_secs(ctx.config.config.render.kill_grace_secs);
        let limit = Instant::now() + grace + Duration::from_secs(30);
        while running > 0 && Instant::now() < limit {
            std::thread::sleep(Duration::from_millis(100));
            queue.reap_orphans(Some(id))?;
            running = queue.summary(id)?.tasks.running;
        }
    }
    let s = queue.summary(id)?;
    if ctx.out.json() {
        ctx.out
            .json_doc(&serde_json::json!({"job": id, "state": s.state, "running": running}))?;
    } else if running > 0 {
        ctx.out.line(format!(
            "job {id} ({}) cancelling: {running} running task(s) being stopped",
            s.name
        ))?;
    } else {
        ctx.out.line(format!("job {id} ({}) cancelled", s.name))?;
    }
    Ok(Exit::problems_if(a.wait && running > 0))
}

/// `render retry`.
pub fn retry(a: &ManageArg, ctx: &Ctx) -> Result<Exit> {
    let mut queue = open_queue(ctx)?;
    let id = queue.find(&a.job)?;
    let n = match super::farm::slurm_of(ctx, &queue, id)? {
        Some(slurm) => {
            // Bring the farm's view in first, so tasks that just failed are retried too.
            slurm.sync(&mut queue, Some(id))?;
            slurm.retry(&mut queue, id)?
        }
        None => queue.retry(id)?,
    };
    let s = queue.summary(id)?;
    if ctx.out.json() {
        ctx.out.json_doc(&Changed {
            job: id,
            state: s.state.as_str().into(),
            changed: n,
        })?;
    } else {
        ctx.out
            .line(format!("job {id} ({}): {n} task(s) requeued", s.name))?;
    }
    Ok(Exit::Clean)
}

/// `render pause` / `render resume`.
pub fn pause(a: &ManageArg, ctx: &Ctx, paused: bool) -> Result<Exit> {
    let mut queue = open_queue(ctx)?;
    let id = queue.find(&a.job)?;
    let changed = match super::farm::slurm_of(ctx, &queue, id)? {
        Some(slurm) => slurm.set_paused(&mut queue, id, paused)?,
        None => queue.set_paused(id, paused)?,
    };
    let s = queue.summary(id)?;
    if ctx.out.json() {
        ctx.out.json_doc(&Changed {
            job: id,
            state: s.state.as_str().into(),
            changed: u64::from(changed),
        })?;
    } else if changed {
        ctx.out.line(format!(
            "job {id} ({}) {}",
            s.name,
            if paused { "paused" } else { "resumed" }
        ))?;
    } else {
        ctx.out.warn(format!(
            "job {id} ({}) is cancelled; nothing to {}",
            s.name,
            if paused { "pause" } else { "resume" }
        ));
    }
    Ok(Exit::Clean)
}

#[derive(Serialize)]
struct Cleaned<'a> {
    dry_run: bool,
    removed: &'a [shotline_render::Removed],
    bytes: u64,
}

/// `render clean`.
pub fn clean(a: &CleanArgs, ctx: &Ctx) -> Result<Exit> {
    let queue = open_queue(ctx)?;
    let cfg = &ctx.config.config.render;
    let removed = shotline_render::clean(
        &queue,
        a.keep_days.unwrap_or(cfg.keep_days),
        cfg.keep_failed,
        a.dry_run,
    )?;
    let bytes = removed.iter().map(|r| r.bytes).sum();
    if ctx.out.json() {
        ctx.out.json_doc(&Cleaned {
            dry_run: a.dry_run,
            removed: &removed,
            bytes,
        })?;
        return Ok(Exit::Clean);
    }
    let verb = if a.dry_run { "would remove" } else { "removed" };
    for r in &removed {
        ctx.out.line(format!(
            "{verb} job {} ({}) {} ({})",
            r.job,
            r.state,
            r.dir.display(),
            human_bytes(r.bytes)
        ))?;
    }
    ctx.out.note(format!(
        "{verb} {} job folder(s), {}",
        removed.len(),
        human_bytes(bytes)
    ));
    Ok(Exit::Clean)
}
