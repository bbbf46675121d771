//! `shotline review`: a review movie of a published version (slate, burn-ins, display colour),
//! encoded by ffmpeg and registered as the version's `review` resource. The library
//! (`shotline-review`) does the work; this parses, calls it and prints. See `docs/review.md`.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{ArgGroup, Args};
use shotline_review::{Inputs, Report, Selector};

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
    let shot = match source.item.kind {
        shotline_store::ItemKind::Shot => Some(store.shot(&source.item.code)?),
        shotline_store::ItemKind::Asset => None,
    };
    let root = ctx.project_root();
    let inputs = Inputs {
        version: &source,
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
