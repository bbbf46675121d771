//! `shotline render verify JOB`: every frame of a job checked on disk, as the queue checks each
//! task's frames after it ends; the final step of a farm job (submitted with `--after`).

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::open_queue_read_only;
use crate::context::Ctx;
use crate::output::Exit;

const EXAMPLES: &str = "\
Examples:
  shotline render verify 12                          every frame of job 12 exists and reads
  shotline render submit --farm slurm --after sh010_light --name sh010_verify \\
      -- shotline render verify sh010_light        the same, as a final step on the farm
Each expected frame must exist, not be empty and probe ok. Exit 1 when some do not.
--json: {\"job\", \"name\", \"output\", \"tasks\", \"frame_count\", \"bad\": [{\"task\", \"frames\", \"message\"}]}.";

/// Arguments of `render verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct VerifyArgs {
    /// Job id or name.
    #[arg(value_name = "JOB")]
    pub job: String,
}

#[derive(Serialize)]
struct Report<'a> {
    job: i64,
    name: &'a str,
    output: Option<&'a str>,
    tasks: usize,
    frame_count: u64,
    bad: &'a [shotline_render::BadChunk],
}

/// Runs `render verify`.
pub fn run(a: &VerifyArgs, ctx: &Ctx) -> Result<Exit> {
    let queue = open_queue_read_only(ctx)?
        .with_context(|| format!("no render job {:?}: the queue is empty", a.job))?;
    let id = queue.find(&a.job)?;
    let job = queue.job_spec(id)?;
    let bad = shotline_render::verify_job(&job)?;
    let frame_count = job.chunks.iter().map(|c| c.count).sum();
    if ctx.out.json() {
        ctx.out.json_doc(&Report {
            job: id,
            name: &job.name,
            output: job.output.as_deref(),
            tasks: job.chunks.len(),
            frame_count,
            bad: &bad,
        })?;
    } else if bad.is_empty() {
        ctx.out.line(format!(
            "job {id} ({}): {frame_count} frame(s) in {} task(s) verified",
            job.name,
            job.chunks.len()
        ))?;
    } else {
        for b in &bad {
            ctx.out.line(format!(
                "task {} (frames {}): {}",
                b.task, b.frames, b.message
            ))?;
        }
    }
    Ok(Exit::problems_if(!bad.is_empty()))
}
