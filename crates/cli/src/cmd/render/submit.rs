//! `shotline render submit`: a job from a spec file and/or flags; `--wait` renders it now.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use shotline_render::{JobRef, JobSpec, Preset, ResolvedJob, Stop};

use super::open_queue;
use crate::context::Ctx;
use crate::output::Exit;

const EXAMPLES: &str = "\
Examples:
  shotline render submit job.yaml
  shotline render submit job.yaml --wait --priority 80
  shotline render submit --preset blender --scene sh010.blend --frames 1001-1100x2 --chunk 10 \\
      --output 'renders/sh010.%04d.exr' --threads 4 --retries 2 --timeout 2h
  shotline render submit --frames 1-100 --chunk 25 --name sim -- ./sim.sh {start} {end}
  shotline render submit comp.yaml --after sh010_lighting
  shotline render submit --preset blender --scene sh010.blend --frames 1001-1100 \
      --shot SH010 --step lighting --review h264   renders to the layout's path, then a movie
  shotline render submit job.yaml --farm slurm      one Slurm job array, one array task per chunk

Flags override the spec file. Placeholders: {start} {end} {step} {count} {frames} {output}
{scene} {layer} {threads} {gpu} {job} {task} {tmp}. Schema: docs/render.md.
With --farm slurm (or render.executor: slurm) the job is one `sbatch` array; `render ls|status|
logs|cancel|retry` then read Slurm's state (docs/farm.md). --max-concurrent is the array's %N.
Exit codes (--wait): 0 job done, 1 job failed or cancelled, 2 bad spec or flags.";

/// Arguments of `render submit`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct SubmitArgs {
    /// Job spec (YAML, or JSON when it ends in .json).
    #[arg(value_name = "SPEC")]
    pub spec: Option<PathBuf>,
    /// Renderer preset: blender, maya, nuke, houdini, fusion or generic.
    #[arg(long)]
    pub preset: Option<String>,
    /// Scene file.
    #[arg(long)]
    pub scene: Option<PathBuf>,
    /// Frame range (`1001-1100`, `1-100x5`, `1,5,9`).
    #[arg(long)]
    pub frames: Option<String>,
    /// Frames per task (1 or more).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub chunk: Option<u32>,
    /// Also render the end frame of stepped ranges.
    #[arg(long)]
    pub include_last: bool,
    /// Expected output pattern, verified after each task (`renders/a.%04d.exr`).
    #[arg(long)]
    pub output: Option<String>,
    /// Job name.
    #[arg(long)]
    pub name: Option<String>,
    /// Render layer / write node / ROP; `all` with a Maya scene: one job per render layer.
    #[arg(long)]
    pub layer: Option<String>,
    /// The shot the frames belong to: with --step and no --output, the job renders where the
    /// project layout puts the shot's renders; it also names the review movie's slate.
    #[arg(long)]
    pub shot: Option<String>,
    /// The pipeline step (`comp`, `lighting`) the frames belong to, as --shot.
    #[arg(long)]
    pub step: Option<String>,
    /// Review preset (`h264`, `prores422hq`, review.presets): once the job is done and its
    /// frames verified, the worker makes a review movie of them.
    #[arg(long, value_name = "PRESET")]
    pub review: Option<String>,
    /// Submit even when the scene audit finds errors.
    #[arg(long)]
    pub force: bool,
    /// Maya renderer or Blender engine.
    #[arg(long)]
    pub renderer: Option<String>,
    /// Higher runs first.
    #[arg(long, allow_hyphen_values = true)]
    pub priority: Option<i64>,
    /// Extra attempts after a failure (at most 100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=i64::from(shotline_render::MAX_RETRIES)))]
    pub retries: Option<u32>,
    /// Per-task time limit (`90s`, `15m`, `2h`; at most 366 days).
    #[arg(long, value_parser = shotline_render::Duration::parse)]
    pub timeout: Option<shotline_render::Duration>,
    /// CPU threads per task (at most 4096).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=i64::from(shotline_config::MAX_THREADS)))]
    pub threads: Option<u32>,
    /// GPUs per task (at most 64).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=i64::from(shotline_config::MAX_GPUS)))]
    pub gpus: Option<u32>,
    /// Memory per task (`8GiB`).
    #[arg(long)]
    pub memory: Option<String>,
    /// Wait for these jobs (ids or names) to be done first.
    #[arg(long, value_name = "JOB")]
    pub after: Vec<String>,
    /// Extra environment for the renderer.
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Render the job now (and whatever else is queued) until it is finished.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: most tasks at once (default render.max_concurrent; at most 1024).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=i64::from(shotline_config::MAX_CONCURRENT)))]
    pub max_concurrent: Option<u32>,
    /// Where the job renders: the local queue or a Slurm cluster (default render.executor).
    #[arg(long, value_enum)]
    pub farm: Option<FarmArg>,
    /// The command template, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `--farm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FarmArg {
    /// This machine's queue (`render worker`).
    Local,
    /// A Slurm cluster: one job array per job (render.slurm in shotline.yaml).
    Slurm,
}

/// Builds the spec from file and flags.
fn build_spec(a: &SubmitArgs, ctx: &Ctx) -> Result<(JobSpec, PathBuf)> {
    let (mut spec, base) = match &a.spec {
        Some(p) => {
            let path = ctx.cwd.join(p);
            let spec = JobSpec::from_file(&path)?;
            let base = path
                .parent()
                .map(PathBuf::from)
                .unwrap_or_else(|| ctx.cwd.clone());
            (spec, base)
        }
        None => (JobSpec::default(), ctx.cwd.clone()),
    };
    if let Some(p) = &a.preset {
        spec.preset = Preset::from_name(p)?;
    }
    macro_rules! set {
        ($field:ident, $val:expr) => {
            if let Some(v) = $val {
                spec.$field = v;
            }
        };
    }
    set!(frames, a.frames.clone());
    set!(chunk, a.chunk);
    set!(priority, a.priority);
    set!(retries, a.retries);
    if a.scene.is_some() {
        spec.scene = a.scene.as_ref().map(|s| ctx.cwd.join(s));
    }
    if let Some(o) = &a.output {
        spec.output = Some(ctx.cwd.join(o).to_string_lossy().into_owned());
    }
    spec.name = a.name.clone().or(spec.name);
    spec.layer = a.layer.clone().or(spec.layer);
    spec.renderer = a.renderer.clone().or(spec.renderer);
    spec.include_last |= a.include_last;
    if let Some(shot) = &a.shot {
        shotline_layout::check_component("shot", shot).context("--shot")?;
        spec.shot = Some(shot.clone());
    }
    if let Some(step) = &a.step {
        shotline_layout::check_component("step", step).context("--step")?;
        spec.step = Some(step.clone());
    }
    spec.review = a.review.clone().or(spec.review);
    if let Some(t) = a.timeout {
        spec.timeout = Some(t);
    }
    if let Some(t) = a.threads {
        spec.resources.threads = t;
    }
    if let Some(g) = a.gpus {
        spec.resources.gpus = g;
    }
    if let Some(m) = &a.memory {
        spec.resources.memory = shotline_config::ByteSize::parse(m)
            .map_err(anyhow::Error::msg)
            .context("--memory")?;
    }
    for r in &a.after {
        spec.after.push(match r.parse::<i64>() {
            Ok(i) => JobRef::Id(i),
            Err(_) => JobRef::Name(r.clone()),
        });
    }
    for kv in &a.env {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--env {kv:?}: expected KEY=VALUE");
        };
        spec.env.insert(k.to_string(), v.to_string());
    }
    if !a.command.is_empty() {
        spec.command = Some(shotline_render::Command::Args(a.command.clone()));
    }
    if spec.frames.trim().is_empty() {
        bail!("no frames: give a job spec file or --frames (e.g. --frames 1001-1100)");
    }
    Ok((spec, base))
}

/// The job as the queue stores it: resolved against the project layout, and recording who
/// submits it (the tracking store's user), which listings show and a review slate names.
fn resolve(
    ctx: &Ctx,
    spec: &JobSpec,
    base: &std::path::Path,
    layout: &shotline_layout::Layout,
) -> Result<ResolvedJob> {
    let mut job = ResolvedJob::resolve_with(spec, base, &ctx.config.config.render, Some(layout))?;
    job.submitted_by = Some(shotline_store::Actor::from_env().user);
    Ok(job)
}

/// One job per render layer, all resolved before any is queued, each sent where a single job
/// would go (the local queue, or one Slurm array per layer).
fn submit_layers(
    a: &SubmitArgs,
    ctx: &Ctx,
    specs: &[JobSpec],
    base: &std::path::Path,
    layout: &shotline_layout::Layout,
    farm: FarmArg,
) -> Result<Exit> {
    let jobs = specs
        .iter()
        .map(|s| resolve(ctx, s, base, layout))
        .collect::<Result<Vec<_>>>()?;
    let mut queue = open_queue(ctx)?;
    let mut out = Vec::new();
    for (spec, job) in specs.iter().zip(&jobs) {
        let (id, farm_job) = match farm {
            FarmArg::Slurm => {
                if let Some(preset) = &job.review {
                    bail!(
                        "`review: {preset}` is made by the local queue's worker; for Slurm jobs, \
                         run `shotline review` on the frames once the job is done"
                    );
                }
                let (id, sent) =
                    super::farm::slurm(ctx, a.max_concurrent).submit(&mut queue, job)?;
                (id, Some(sent.farm_job))
            }
            FarmArg::Local => (queue.submit(job)?, None),
        };
        ctx.out.note(format!(
            "submitted job {id} ({}, layer {}): {} task(s){}",
            job.name,
            spec.layer.as_deref().unwrap_or("-"),
            job.chunks.len(),
            farm_job
                .as_ref()
                .map(|f| format!(" as Slurm array {f}"))
                .unwrap_or_default()
        ));
        out.push(
            serde_json::json!({"job": id, "name": job.name, "layer": spec.layer,
            "tasks": job.chunks.len(), "farm_job": farm_job}),
        );
    }
    if ctx.out.json() {
        ctx.out
            .json_doc(&serde_json::json!({"event": "submitted", "jobs": out}))?;
    } else {
        ctx.out.line(format!(
            "submitted {} job(s), one per render layer",
            out.len()
        ))?;
    }
    Ok(Exit::Clean)
}

/// Runs `render submit`.
pub fn run(a: &SubmitArgs, ctx: &Ctx) -> Result<Exit> {
    let (spec, base) = build_spec(a, ctx)?;
    // A scene shotline reads is audited first; `--layer all` is one job per Maya render layer.
    let mut specs = match crate::cmd::scene::before_submit(ctx, spec, a.force, a.wait)? {
        Ok(specs) => specs,
        Err(exit) => return Ok(exit),
    };
    let cfg = &ctx.config.config;
    for spec in &specs {
        if let Some(name) = &spec.review {
            shotline_review::resolve_preset(name, &cfg.review)
                .context("`review` in the job spec")?;
        }
    }
    let layout = shotline_qc::layout::Layout::from_config(
        &cfg.layout,
        &cfg.project.code,
        &ctx.project_root(),
    )?;
    let farm = match a.farm {
        Some(f) => f,
        None if ctx.config.config.render.executor == shotline_config::RenderExecutor::Slurm => {
            FarmArg::Slurm
        }
        None => FarmArg::Local,
    };
    if specs.len() > 1 {
        return submit_layers(a, ctx, &specs, &base, &layout.model, farm);
    }
    let spec = specs.pop().context("no job to submit")?;
    let job = resolve(ctx, &spec, &base, &layout.model)?;
    let mut queue = open_queue(ctx)?;
    if farm == FarmArg::Slurm {
        return submit_slurm(a, ctx, &mut queue, &job);
    }
    let id = queue.submit(&job)?;
    let submitted = serde_json::json!({
        "event": "submitted", "job": id, "name": job.name, "tasks": job.chunks.len(),
        "frame_count": job.chunks.iter().map(|c| c.count).sum::<u64>(),
        "dir": queue.job_dir(id),
    });
    if !a.wait {
        if ctx.out.json() {
            ctx.out.json_doc(&submitted)?;
        } else {
            ctx.out.line(format!(
                "submitted job {id} ({}): {} task(s)",
                job.name,
                job.chunks.len()
            ))?;
        }
        return Ok(Exit::Clean);
    }
    if ctx.out.json() {
        ctx.out.json_line(&submitted)?;
    } else {
        ctx.out.note(format!(
            "submitted job {id} ({}): {} task(s)",
            job.name,
            job.chunks.len()
        ));
    }
    let stop = Stop::new();
    shotline_render::install_signal_handlers(shotline_render::SignalHandlerKind::Standard, &stop)?;
    let mut opts = shotline_render::WorkerOptions::from_config(&ctx.config.config.render);
    opts.until_job = Some(id);
    if let Some(m) = a.max_concurrent {
        opts.max_concurrent = m;
    }
    let ran = super::worker::drive(ctx, &mut queue, opts, &stop)?;
    // A review movie the job asked for and could not get is a problem too.
    let failed_reviews = ran.unwrap_or(0);
    if ran.is_none() {
        // Another worker owns this host's queue: watch the job through the database instead.
        ctx.out
            .note("another worker is running this queue here; watching the job");
        let pb = ctx.out.progress(
            job.chunks.iter().map(|c| c.count).sum(),
            &format!("job {id}"),
        );
        shotline_render::watch_job(
            &queue,
            id,
            std::time::Duration::from_millis(500),
            &stop,
            &mut |s| {
                pb.set_position(s.frames_done);
            },
        )?;
        pb.finish_and_clear();
    }
    report_end(ctx, &queue, id, failed_reviews)
}

/// Sends the job to Slurm as one array; with `--wait`, follows it until it is finished.
fn submit_slurm(
    a: &SubmitArgs,
    ctx: &Ctx,
    queue: &mut shotline_render::Queue,
    job: &ResolvedJob,
) -> Result<Exit> {
    if let Some(preset) = &job.review {
        // The review encode runs in the worker that finishes the job; Slurm jobs have none.
        bail!(
            "`review: {preset}` is made by the local queue's worker; for a Slurm job, run \
             `shotline review` on the frames once the job is done (or add it as a dependent job)"
        );
    }
    let slurm = super::farm::slurm(ctx, a.max_concurrent);
    let (id, sent) = slurm.submit(queue, job)?;
    let submitted = serde_json::json!({
        "event": "submitted", "job": id, "name": job.name, "tasks": job.chunks.len(),
        "frame_count": job.chunks.iter().map(|c| c.count).sum::<u64>(),
        "dir": queue.job_dir(id), "farm": "slurm", "farm_job": sent.farm_job,
    });
    let text = format!(
        "submitted job {id} ({}) to Slurm: array {} with {} task(s)",
        job.name, sent.farm_job, sent.tasks
    );
    if !a.wait {
        if ctx.out.json() {
            ctx.out.json_doc(&submitted)?;
        } else {
            ctx.out.line(text)?;
        }
        return Ok(Exit::Clean);
    }
    if ctx.out.json() {
        ctx.out.json_line(&submitted)?;
    } else {
        ctx.out.note(text);
    }
    let stop = Stop::new();
    shotline_render::install_signal_handlers(shotline_render::SignalHandlerKind::Standard, &stop)?;
    let pb = ctx.out.progress(
        job.chunks.iter().map(|c| c.count).sum(),
        &format!("job {id} on Slurm"),
    );
    loop {
        slurm.sync(queue, Some(id))?;
        let s = queue.summary(id)?;
        pb.set_position(s.frames_done);
        // Ctrl-C stops watching; the job keeps running on the cluster.
        if s.state.is_final() || stop.level() > 0 {
            break;
        }
        std::thread::sleep(super::farm::POLL);
    }
    pb.finish_and_clear();
    report_end(ctx, queue, id, 0)
}

/// The `job_summary` line (or sentence) at the end of `--wait`, and the exit code: problems
/// when the job did not finish done or a review movie it asked for failed.
fn report_end(
    ctx: &Ctx,
    queue: &shotline_render::Queue,
    id: i64,
    failed_reviews: u64,
) -> Result<Exit> {
    let s = queue.summary(id)?;
    if ctx.out.json() {
        let mut v = serde_json::to_value(&s)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("event".into(), "job_summary".into());
        }
        ctx.out.json_line(&v)?;
    } else {
        ctx.out.line(format!(
            "job {id} ({}) {}: {}/{} tasks done, {} failed, {} cancelled",
            s.name,
            s.state.as_str(),
            s.tasks.done,
            s.tasks.total,
            s.tasks.failed,
            s.tasks.cancelled
        ))?;
    }
    if !s.state.is_final() {
        // Stopped with Ctrl-C before the job finished.
        return Ok(Exit::Problems);
    }
    Ok(Exit::problems_if(
        s.state != shotline_render::JobState::Done || failed_reviews > 0,
    ))
}
