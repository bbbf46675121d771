//! `shotline render worker`: runs the queue in the foreground and prints what happens.

use std::collections::HashMap;
use std::thread::{Scope, ScopedJoinHandle};
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::ProgressBar;
use shotline_render::{
    Event, JobId, LocalExecutor, Queue, RenderError, Stop, Worker, WorkerOptions,
};

use super::open_queue;
use crate::context::Ctx;
use crate::output::{Exit, Style};

const EXAMPLES: &str = "\
Examples:
  shotline render worker                      run until Ctrl-C
  shotline render worker --until-idle         run what is queued, then exit
  shotline render worker --max-concurrent 1 --json | jq -c 'select(.event==\"task_finished\")'

Ctrl-C once: running tasks finish, nothing new starts. Twice (or SIGTERM): running tasks are
stopped (process group SIGTERM, SIGKILL after render.kill_grace_secs) and put back in the queue.
At start, tasks left running by a worker that died are killed and requeued.
--json prints one event object per line (schema: docs/render.md).
Exit codes: 0 no task failed, 1 a task failed for good, 2 another worker runs here or bad config.";

/// Arguments of `render worker`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct WorkerArgs {
    /// Exit once nothing runs and nothing can start.
    #[arg(long)]
    pub until_idle: bool,
    /// Most tasks at once (default render.max_concurrent; at most 1024).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=i64::from(shotline_config::MAX_CONCURRENT)))]
    pub max_concurrent: Option<u32>,
}

/// Runs `render worker`.
pub fn run(a: &WorkerArgs, ctx: &Ctx) -> Result<Exit> {
    let mut queue = open_queue(ctx)?;
    let mut opts = WorkerOptions::from_config(&ctx.config.config.render);
    opts.exit_when_idle = a.until_idle;
    if let Some(m) = a.max_concurrent {
        opts.max_concurrent = m;
    }
    // Retention runs with every worker start, so job folders never pile up unattended.
    let cfg = &ctx.config.config.render;
    match shotline_render::clean(&queue, cfg.keep_days, cfg.keep_failed, false) {
        Ok(r) if !r.is_empty() => ctx.out.note(format!(
            "removed {} job folder(s) older than {} days",
            r.len(),
            cfg.keep_days
        )),
        Ok(_) => {}
        Err(e) => ctx.out.warn(format!("cleanup of old job folders: {e}")),
    }
    let stop = Stop::new();
    shotline_render::install_signal_handlers(shotline_render::SignalHandlerKind::Standard, &stop)?;
    let failed = drive_inner(ctx, &mut queue, opts, &stop)?;
    Ok(Exit::problems_if(failed > 0))
}

/// Runs a worker with printing: the tasks that failed for good plus the review movies that
/// could not be made; `None` when another worker already runs this queue here.
pub fn drive(
    ctx: &Ctx,
    queue: &mut Queue,
    opts: WorkerOptions,
    stop: &Stop,
) -> Result<Option<u64>> {
    match drive_inner(ctx, queue, opts, stop) {
        Ok(failed) => Ok(Some(failed)),
        Err(e)
            if e.downcast_ref::<RenderError>()
                .is_some_and(|e| matches!(e, RenderError::Busy(_))) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Review movies of finished jobs (`review: PRESET`), each made in its own thread so the
/// worker keeps supervising and starting tasks during the encode; all are waited for before
/// the worker returns.
struct Reviews<'scope> {
    running: Vec<ScopedJoinHandle<'scope, bool>>,
    /// Reviews that could not start (the job could not be read back).
    failed_to_start: u64,
}

impl<'scope> Reviews<'scope> {
    /// Starts the review of `job` when it asks for one.
    fn start<'env: 'scope>(
        &mut self,
        scope: &'scope Scope<'scope, 'env>,
        ctx: &'env Ctx,
        pb: &ProgressBar,
        job: JobId,
    ) {
        let wanted = (|| -> Result<Option<(shotline_render::ResolvedJob, String)>> {
            let Some(queue) = super::open_queue_read_only(ctx)? else {
                return Ok(None);
            };
            let spec = queue.job_spec(job)?;
            if spec.review.is_none() {
                return Ok(None);
            }
            Ok(Some((spec, queue.summary(job)?.submitted_at)))
        })();
        match wanted {
            Ok(None) => {}
            Ok(Some((spec, submitted_at))) => {
                let pb = pb.clone();
                self.running.push(scope.spawn(move || {
                    let r = crate::cmd::review::for_render_job(ctx, job, &spec, &submitted_at);
                    report_review(ctx, &pb, job, r)
                }));
            }
            Err(e) => {
                report_review(ctx, pb, job, Err(e));
                self.failed_to_start += 1;
            }
        }
    }

    /// Waits for every review; the number that failed.
    fn finish(self) -> u64 {
        let failed = self
            .running
            .into_iter()
            .map(|h| h.join().unwrap_or(false))
            .filter(|ok| !ok)
            .count();
        self.failed_to_start + u64::try_from(failed).unwrap_or(u64::MAX)
    }
}

/// Prints a job's review outcome (`review_finished` / `review_failed` with `--json`); true when
/// the movie was made.
fn report_review(
    ctx: &Ctx,
    pb: &ProgressBar,
    job: JobId,
    r: Result<shotline_review::Report>,
) -> bool {
    let out = &ctx.out;
    let ok = r.is_ok();
    if out.json() {
        let line = match &r {
            Ok(report) => {
                let mut v = serde_json::to_value(report).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("event".into(), "review_finished".into());
                    o.insert("job".into(), job.into());
                }
                v
            }
            Err(e) => serde_json::json!({
                "event": "review_failed", "job": job, "error": crate::output::error_text(e),
            }),
        };
        let _ = out.json_line(&line);
        out.flush();
        return ok;
    }
    pb.suspend(|| match &r {
        Ok(report) => {
            out.note(format!("review movie of job {job}:"));
            let _ = crate::cmd::review::print_report(report, ctx);
            out.flush();
        }
        Err(e) => out.error(format!(
            "review movie of job {job} failed: {}",
            crate::output::error_text(e)
        )),
    });
    ok
}

fn drive_inner(ctx: &Ctx, queue: &mut Queue, opts: WorkerOptions, stop: &Stop) -> Result<u64> {
    std::thread::scope(|scope| drive_scoped(ctx, queue, opts, stop, scope))
}

fn drive_scoped<'scope, 'env: 'scope>(
    ctx: &'env Ctx,
    queue: &mut Queue,
    opts: WorkerOptions,
    stop: &Stop,
    scope: &'scope Scope<'scope, 'env>,
) -> Result<u64> {
    let mut worker = Worker::new(queue, Box::new(LocalExecutor::new()), opts)?;
    let out = &ctx.out;
    let pb = out.progress(1, "frames");
    let mut reviews = Reviews {
        running: Vec::new(),
        failed_to_start: 0,
    };
    pb.set_length(0);
    // (frames in the task, frames shown done) per running task.
    let mut frames: HashMap<(i64, i64), (u64, u64)> = HashMap::new();
    let mut shown: HashMap<(i64, i64), (Instant, u64)> = HashMap::new();
    let mut failed = 0u64;
    let mut io_err: Option<std::io::Error> = None;
    let mut on_event = |ev: &Event| {
        if let Event::JobFinished { job, state, .. } = ev {
            if state == "done" {
                reviews.start(scope, ctx, &pb, *job);
            }
        }
        if out.json() {
            if let Event::TaskProgress {
                job,
                task,
                frames_done,
                ..
            } = ev
            {
                // In-frame progress is throttled to 4 lines a second per task; a written
                // frame is always reported.
                let (t, done) = shown
                    .entry((*job, *task))
                    .or_insert_with(|| (Instant::now() - Duration::from_secs(1), 0));
                if t.elapsed() < Duration::from_millis(250) && *done == *frames_done {
                    return;
                }
                *t = Instant::now();
                *done = *frames_done;
            }
            // A stream: each event is flushed as it happens, for whoever reads the pipe.
            if let Err(e) = out.json_line(ev) {
                io_err.get_or_insert(e);
            }
            out.flush();
            if let Event::TaskFinished { state, .. } = ev {
                failed += u64::from(state == "failed");
            }
            return;
        }
        match ev {
            Event::WorkerStarted {
                host,
                threads,
                gpus,
                max_concurrent,
                ..
            } => {
                let gpus = if gpus.is_empty() {
                    "no GPUs".into()
                } else {
                    format!("GPUs {gpus:?}")
                };
                let max = if *max_concurrent == 0 {
                    "no limit".into()
                } else {
                    max_concurrent.to_string()
                };
                pb.suspend(|| {
                    out.note(format!(
                        "worker on {host}: {threads} threads, {gpus}, at most {max} tasks at once"
                    ))
                });
            }
            Event::Requeued { job, task, reason } => {
                pb.suspend(|| out.warn(format!("job {job} task {task} requeued: {reason}")));
            }
            Event::TaskStarted {
                job,
                name,
                task,
                attempt,
                frames: f,
                frame_count,
                pid,
                threads,
                gpus,
                ..
            } => {
                pb.inc_length(*frame_count);
                frames.insert((*job, *task), (*frame_count, 0));
                let pid = pid.map(|p| format!(" pid {p}")).unwrap_or_default();
                let gpu = if gpus.is_empty() {
                    String::new()
                } else {
                    format!(" gpus {gpus:?}")
                };
                pb.suspend(|| {
                    out.note(format!("start  {name} (job {job}) task {task} frames {f} attempt {attempt}{pid}, {threads} threads{gpu}"))
                });
            }
            Event::TaskProgress {
                job,
                task,
                frames_done,
                ..
            } => {
                if let Some((_, shown_done)) = frames.get_mut(&(*job, *task)) {
                    pb.inc(frames_done.saturating_sub(*shown_done));
                    *shown_done = (*shown_done).max(*frames_done);
                }
            }
            Event::TaskFinished {
                job,
                task,
                attempt,
                outcome,
                state,
                message,
                log,
            } => {
                let (count, shown_done) = frames.remove(&(*job, *task)).unwrap_or((0, 0));
                if state == "done" {
                    pb.inc(count.saturating_sub(shown_done));
                } else {
                    // Not done: its frames leave the bar (a retry adds them again).
                    pb.set_position(pb.position().saturating_sub(shown_done));
                    pb.set_length(pb.length().unwrap_or(0).saturating_sub(count));
                }
                failed += u64::from(state == "failed");
                let why = message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                let label = match state.as_str() {
                    "done" => out.paint("done  ", Style::Green),
                    "queued" => out.paint("retry ", Style::Yellow),
                    "cancelled" => out.paint("cancel", Style::Yellow),
                    _ => out.paint("FAILED", Style::Red),
                };
                pb.suspend(|| out.note(format!("{label} job {job} task {task} attempt {attempt} ({outcome}){why}  log: {log}")));
            }
            Event::TaskRejected { job, task, reason } => {
                let t = task.map(|t| format!(" task {t}")).unwrap_or_default();
                pb.suspend(|| out.error(format!("job {job}{t} cannot run: {reason}")));
            }
            Event::JobFinished { job, name, state } => {
                pb.suspend(|| out.note(format!("job {job} ({name}) {state}")));
            }
            Event::Stopping { running, requeue } => {
                let msg = if *running == 0 {
                    "stopping".to_string()
                } else if *requeue {
                    format!("stopping: {running} running task(s) are being stopped and requeued")
                } else {
                    format!("stopping: waiting for {running} running task(s) to finish; Ctrl-C again to requeue them")
                };
                pb.suspend(|| out.warn(msg));
            }
            Event::WorkerStopped {
                started,
                done,
                failed,
            } => {
                pb.finish_and_clear();
                out.note(format!("worker stopped: {started} attempt(s) started, {done} task(s) done, {failed} failed"));
            }
        }
    };
    let result = worker.run(stop, &mut on_event);
    let review_failures = reviews.finish();
    pb.finish_and_clear();
    result?;
    if let Some(e) = io_err {
        return Err(e.into());
    }
    Ok(failed.saturating_add(review_failures))
}
