//! The farm side of the render commands: which jobs run on Slurm, and bringing Slurm's view
//! into the queue before a command reads it.

use std::time::Duration;

use anyhow::Result;
use shotline_render::{JobId, Queue, Slurm, SLURM};

use crate::context::Ctx;

/// How often commands that follow a farm job (`submit --wait`, `logs -f`) ask the farm.
pub const POLL: Duration = Duration::from_secs(1);

/// The Slurm cluster of the config.
pub fn slurm(ctx: &Ctx, max_concurrent: Option<u32>) -> Slurm {
    Slurm::new(&ctx.config.config.render, max_concurrent)
}

/// The Slurm cluster when job `id` runs there.
pub fn slurm_of(ctx: &Ctx, queue: &Queue, id: JobId) -> Result<Option<Slurm>> {
    Ok((queue.executor_of(id)? == SLURM).then(|| slurm(ctx, None)))
}

/// Brings farm jobs' states into the queue (one `squeue` call) when any are open; a farm that
/// cannot be asked is a warning, not a failure. True when there were farm jobs.
pub fn sync(ctx: &Ctx, queue: &mut Queue) -> Result<bool> {
    if !queue.has_farm_work()? {
        return Ok(false);
    }
    // Slurm unreachable: the queue still shows what it last knew, and says so.
    if let Err(e) = slurm(ctx, None).sync(queue, None) {
        ctx.out.warn(format!(
            "cannot read Slurm's state ({e}); showing what the queue last knew"
        ));
    }
    Ok(true)
}
