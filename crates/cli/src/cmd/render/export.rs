//! `shotline render export JOB|SPEC --format openjd|deadline|tractor -o DIR`: one job written as
//! a job description another farm accepts. Metadata (project, shot, step, user, job id) comes
//! from the config, the project layout (the scene's path) and flags.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use shotline_layout::Field;
use shotline_render::{ExportFormat, Exportable, JobId, JobSpec, Metadata, ResolvedJob};

use super::open_queue_read_only;
use crate::context::Ctx;
use crate::output::Exit;

const EXAMPLES: &str = "\
Examples:
  shotline render export 12 --format openjd -o farm/        a queued job as an OpenJD template
  shotline render export job.yaml --format deadline -o farm/ --pool gpu --department lighting
  shotline render export sh010_lighting --format tractor -o farm/

Writes (atomically, replacing an earlier export):
  openjd    <stem>.openjd.json           check with `openjd check`, run with `openjd run`
  deadline  <stem>.job_info.job, <stem>.plugin_info.job
                                         submit with `deadlinecommand JOBINFO PLUGININFO`
  tractor   <stem>.alf                   submit with `tractor-spool <stem>.alf`
<stem> is `job-<id>-<name>` for a queued job, the job name for a spec.
A job with `after` is exported with the queued jobs it waits for: tractor, one script whose
tasks wait for theirs; deadline, each job's files and <stem>.submit.sh, which submits them in
order and sets JobDependencies; openjd, this job's template only, with a warning.
Shot and step come from the scene's path through the project layout unless --shot/--step say.
--json: {\"format\", \"files\", \"tasks\", \"frame_count\", \"metadata\"}. Details: docs/farm.md.";

/// The formats, for clap.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// Open Job Description job template (2023-09).
    Openjd,
    /// Deadline job info + plugin info (CommandLine plugin).
    Deadline,
    /// Tractor job script (.alf).
    Tractor,
}

impl From<FormatArg> for ExportFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Openjd => ExportFormat::Openjd,
            FormatArg::Deadline => ExportFormat::Deadline,
            FormatArg::Tractor => ExportFormat::Tractor,
        }
    }
}

/// Arguments of `render export`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct ExportArgs {
    /// A queued job (id or name) or a job spec file.
    #[arg(value_name = "JOB|SPEC")]
    pub job: String,
    /// The farm's format.
    #[arg(long, value_enum)]
    pub format: FormatArg,
    /// Folder to write into (created if missing).
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub dir: PathBuf,
    /// Shot (default: from the scene's path through the project layout).
    #[arg(long)]
    pub shot: Option<String>,
    /// Pipeline step (default: from the scene's path through the project layout).
    #[arg(long)]
    pub step: Option<String>,
    /// Submitting user (default: who queued the job, else $SHOTLINE_USER or the login).
    #[arg(long)]
    pub user: Option<String>,
    /// Deadline department.
    #[arg(long)]
    pub department: Option<String>,
    /// Deadline pool / Tractor service key.
    #[arg(long)]
    pub pool: Option<String>,
    /// Deadline group.
    #[arg(long)]
    pub group: Option<String>,
}

/// Runs `render export`.
pub fn run(a: &ExportArgs, ctx: &Ctx) -> Result<Exit> {
    let chain = load(a, ctx)?;
    let last = chain.len().saturating_sub(1);
    let chain: Vec<Exportable> = chain
        .into_iter()
        .enumerate()
        .map(|(i, (job, meta))| describe(a, ctx, job, meta, i == last))
        .collect();
    let dir = ctx.cwd.join(&a.dir);
    let done = shotline_render::export_chain(&chain, a.format.into(), &dir)?;
    let Some(Exportable { job, meta }) = chain.last() else {
        anyhow::bail!("nothing to export");
    };
    for note in &done.notes {
        ctx.out.warn(note.clone());
    }
    if ctx.out.json() {
        let mut v = serde_json::to_value(&done)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("metadata".into(), serde_json::to_value(meta)?);
        }
        ctx.out.json_doc(&v)?;
    } else {
        ctx.out.line(format!(
            "exported {} ({} task(s), {} frame(s)) as {}:",
            job.name,
            done.tasks,
            done.frame_count,
            done.format.name()
        ))?;
        for f in &done.files {
            ctx.out.line(format!("  {}", f.display()))?;
        }
    }
    Ok(Exit::Clean)
}

/// The metadata every format writes: the project, the shot and step (flags for the job asked
/// for, else the job's own, else from its scene's path through the layout), and who submits
/// (the flag, else who queued the job, else the tracking store's user).
fn describe(
    a: &ExportArgs,
    ctx: &Ctx,
    job: ResolvedJob,
    mut meta: Metadata,
    asked: bool,
) -> Exportable {
    meta.project = Some(project_name(ctx)).filter(|p| !p.is_empty());
    let (shot, step) = layout_fields(ctx, job.scene.as_deref());
    let flag = |f: &Option<String>| f.clone().filter(|_| asked);
    meta.shot = flag(&a.shot).or(job.shot.clone()).or(shot);
    meta.step = flag(&a.step).or(job.step.clone()).or(step);
    meta.user = a
        .user
        .clone()
        .or(job.submitted_by.clone())
        .or_else(|| Some(shotline_store::Actor::from_env().user));
    meta.department = a.department.clone();
    meta.pool = a.pool.clone();
    meta.group = a.group.clone();
    Exportable { job, meta }
}

/// The job, after the queued jobs it waits for (each once, every job after those it waits
/// for): a spec file resolved against its folder, or a queued job with its id and folder.
fn load(a: &ExportArgs, ctx: &Ctx) -> Result<Vec<(ResolvedJob, Metadata)>> {
    let path = ctx.cwd.join(&a.job);
    let queue = open_queue_read_only(ctx)?;
    if path.is_file() {
        let spec = JobSpec::from_file(&path)?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ctx.cwd.clone());
        let job = ResolvedJob::resolve(&spec, &base, &ctx.config.config.render)?;
        let mut chain = Vec::new();
        let mut after = Vec::new();
        for r in &spec.after {
            let queue = queue.as_ref().with_context(|| {
                format!(
                    "`after: {r}` in {}: the render queue is empty",
                    path.display()
                )
            })?;
            let id = queue
                .find(&r.to_string())
                .with_context(|| format!("`after` in {}", path.display()))?;
            after.push(id);
            with_deps(queue, id, &mut chain)?;
        }
        let meta = Metadata {
            after,
            ..Default::default()
        };
        chain.push((job, meta));
        return Ok(chain);
    }
    let queue = queue.with_context(|| {
        format!(
            "{:?} is neither a job spec file nor a queued job (the queue is empty)",
            a.job
        )
    })?;
    let id = queue
        .find(&a.job)
        .with_context(|| format!("{:?} is neither a job spec file nor a queued job", a.job))?;
    let mut chain = Vec::new();
    with_deps(&queue, id, &mut chain)?;
    Ok(chain)
}

/// Appends queued job `id` to `chain` after the jobs it waits for, each job once.
fn with_deps(
    queue: &shotline_render::Queue,
    id: JobId,
    chain: &mut Vec<(ResolvedJob, Metadata)>,
) -> Result<()> {
    if chain.iter().any(|(_, m)| m.job == Some(id)) {
        return Ok(());
    }
    let after = queue.summary(id)?.after;
    for &dep in &after {
        // A job can only wait for jobs queued before it, so this ends.
        if dep < id {
            with_deps(queue, dep, chain)?;
        }
    }
    let meta = Metadata {
        job: Some(id),
        tmp: Some(queue.job_dir(id).join("tmp")),
        after,
        ..Default::default()
    };
    chain.push((queue.job_spec(id)?, meta));
    Ok(())
}

/// `project.code`, else `project.name`.
fn project_name(ctx: &Ctx) -> String {
    let p = &ctx.config.config.project;
    if p.code.is_empty() {
        p.name.clone()
    } else {
        p.code.clone()
    }
}

/// Shot and step of the scene's path through the project's layout (none when the scene lies
/// outside it or the layout cannot be loaded).
fn layout_fields(ctx: &Ctx, scene: Option<&Path>) -> (Option<String>, Option<String>) {
    let Some(scene) = scene else {
        return (None, None);
    };
    let Ok(layout) = crate::cmd::validate::load_layout(ctx) else {
        return (None, None);
    };
    let scene = scene.canonicalize().unwrap_or_else(|_| scene.to_path_buf());
    match layout.model.resolve(&scene) {
        Some(r) => (r.fields.get(Field::Shot), r.fields.get(Field::Step)),
        None => (None, None),
    }
}
