//! `shotline review`: a review movie of a published version (slate, burn-ins, display colour),
//! encoded by ffmpeg and registered as the version's `review` resource. The library
//! (`shotline-review`) does the work; this parses, calls it and prints. See `docs/review.md`.

use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};
use clap::{ArgGroup, Args};
use shotline_render::{JobId, ResolvedJob};
use shotline_review::{Inputs, Report, Selector, Source, Unpublished};
use shotline_store::{Shot, Store, StoreError, Version};

use super::track::common::{actor, open_rw};
use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline review`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
#[command(group(ArgGroup::new("what").required(true).args(["pattern", "version", "shot"])))]
#[command(after_help = "\
Examples:
  shotline review --shot SH010 --step COMP --latest            the latest comp, default preset
  shotline review --version 42 --preset prores422hq -o /tmp/SH010.mov
  shotline review renders/SH010/comp/v003/SH010.%04d.exr       the version published from these frames

Presets: prores422hq, prores4444, h264, dnxhr_hq, and those in review.presets.
The movie is registered as a new version of the same shot and step with resource `review`.")]
pub struct ReviewArgs {
    /// Frames of a published version (pattern such as comp.%04d.exr, or its folder).
    pub pattern: Option<PathBuf>,
    /// Version id.
    #[arg(long, value_name = "ID")]
    pub version: Option<i64>,
    /// Shot code (with --step).
    #[arg(long, requires = "step")]
    pub shot: Option<String>,
    /// Step code (with --shot).
    #[arg(long, requires = "shot")]
    pub step: Option<String>,
    /// With --shot/--step: take the highest version when there are several.
    #[arg(long, requires = "shot")]
    pub latest: bool,
    /// Preset name (default: review.default_preset).
    #[arg(long)]
    pub preset: Option<String>,
    /// Movie to write (default: <frames folder>/../review/<SHOT>_<STEP>_<vNNN>_<preset>.<ext>).
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

fn selector(a: &ReviewArgs, ctx: &Ctx) -> Selector {
    match (&a.pattern, a.version, &a.shot, &a.step) {
        (_, Some(id), _, _) => Selector::Version(id),
        (_, None, Some(shot), Some(step)) => Selector::Shot {
            shot: shot.clone(),
            step: step.clone(),
            latest: a.latest,
        },
        (Some(p), _, _, _) => Selector::Pattern(ctx.cwd.join(p)),
        // clap's group makes one of them required; --shot requires --step.
        _ => Selector::Version(0),
    }
}

/// Runs `review`.
pub fn run(a: &ReviewArgs, ctx: &Ctx) -> Result<Exit> {
    let cfg = &ctx.config.config.review;
    let preset_name = a.preset.as_deref().unwrap_or(&cfg.default_preset);
    let preset = shotline_review::resolve_preset(preset_name, cfg)?;
    let mut store = open_rw(ctx)?;
    let source = shotline_review::select(&store, &selector(a, ctx))?;
    let shot = version_shot(&store, &source)?;
    let root = ctx.project_root();
    let inputs = Inputs {
        source: shotline_review::Source::Version(&source),
        shot: shot.as_ref(),
        project: store.project(),
        preset,
        config: cfg,
        base_dir: &root,
        output: a.output.as_ref().map(|o| ctx.cwd.join(o)),
    };
    let prepared = shotline_review::prepare(&inputs)?;
    let pb = ctx.out.progress(prepared.report.movie_frames, "encoding");
    let encoded = shotline_review::encode(prepared, |n| pb.set_position(n)).with_context(|| {
        format!(
            "review movie of {} {} id {}",
            source.item.code, source.step, source.id
        )
    })?;
    pb.finish_and_clear();
    let report = shotline_review::register(&mut store, &actor(), encoded)?;
    print(&report, ctx)?;
    Ok(Exit::Clean)
}

/// The review movie a render job asked for (`review: PRESET`), once the job is done and its
/// frames verified. Frames published as a version get the movie registered as that version's
/// `review` resource (as `shotline review PATTERN`); frames no version holds (the usual case:
/// the render just wrote them) are encoded only, with the slate naming the job.
/// `submitted_at` (RFC 3339) dates the slate of unpublished frames.
pub fn for_render_job(
    ctx: &Ctx,
    job: JobId,
    spec: &ResolvedJob,
    submitted_at: &str,
) -> Result<Report> {
    let cfg = &ctx.config.config.review;
    let preset_name = spec.review.as_deref().unwrap_or(&cfg.default_preset);
    let preset = shotline_review::resolve_preset(preset_name, cfg)?;
    let pattern = spec
        .output
        .as_deref()
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("render job {job} names no output to make a review movie of"))?;
    let mut store = open_rw(ctx)?;
    let published = shotline_review::published_at(&store, &pattern)?;
    let unpublished = Unpublished {
        pattern: pattern.clone(),
        item: spec.shot.clone().unwrap_or_else(|| spec.name.clone()),
        step: spec.step.clone().unwrap_or_default(),
        label: format!("job{job}"),
        // The artist is who submitted the job, not whoever runs the worker.
        artist: spec.submitted_by.clone().unwrap_or_else(|| actor().user),
        date: submitted_at.chars().take(10).collect(),
        comment: format!("render job {job} ({})", spec.name),
    };
    let (source, shot) = match &published {
        Some(v) => (Source::Version(v), version_shot(&store, v)?),
        None => (
            Source::Frames(&unpublished),
            known_shot(&store, spec.shot.as_deref())?,
        ),
    };
    let root = ctx.project_root();
    let inputs = Inputs {
        source,
        shot: shot.as_ref(),
        project: store.project(),
        preset,
        config: cfg,
        base_dir: &root,
        output: None,
    };
    let prepared = shotline_review::prepare(&inputs)?;
    let encoded = shotline_review::encode(prepared, |_| {})
        .with_context(|| format!("review movie of render job {job}"))?;
    match published {
        Some(_) => Ok(shotline_review::register(&mut store, &actor(), encoded)?),
        None => Ok(encoded.report),
    }
}

/// The shot of a published version (none for an asset).
fn version_shot(store: &Store, v: &Version) -> Result<Option<Shot>> {
    Ok(match v.item.kind {
        shotline_store::ItemKind::Shot => Some(store.shot(&v.item.code)?),
        shotline_store::ItemKind::Asset => None,
    })
}

/// The shot a render job names, when the store knows it (its rate and timecode); a shot the
/// store does not track only names the slate.
fn known_shot(store: &Store, code: Option<&str>) -> Result<Option<Shot>> {
    let Some(code) = code else { return Ok(None) };
    match store.shot(code) {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Prints a review report (a render job's review in the worker's output).
pub fn print_report(r: &Report, ctx: &Ctx) -> Result<()> {
    print(r, ctx)
}

fn print(r: &Report, ctx: &Ctx) -> Result<()> {
    if ctx.out.json() {
        ctx.out.json_doc(r)?;
        return Ok(());
    }
    ctx.out.line(format!(
        "{}: {} {} {}x{} @ {} fps, {} frames{} ({}), timecode {}",
        r.output.display(),
        r.preset,
        r.codec,
        r.width,
        r.height,
        r.fps,
        r.movie_frames,
        if r.slate { " incl. slate" } else { "" },
        r.frames,
        r.timecode
    ))?;
    if !r.missing.is_empty() {
        ctx.out.warn(format!("missing frames held: {}", r.missing));
    }
    if let Some(v) = &r.version {
        ctx.out.note(format!(
            "registered as {} {} (id {})",
            v.resource, v.label, v.id
        ));
    }
    Ok(())
}
