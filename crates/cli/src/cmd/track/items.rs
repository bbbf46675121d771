//! `shot`, `asset` and `step`: the catalogue of what a project makes.

use anyhow::{Context as _, Result};
use serde::Serialize;
use shotline_store::{ImportSummary, NewShot, ShotFields, ShotWrite};

use super::common::{actor, open_ro, open_rw};
use super::{AssetCmd, ShotCmd, ShotFieldArgs, StepCmd};
use crate::context::Ctx;
use crate::output::Exit;

fn fields(a: &ShotFieldArgs) -> ShotFields {
    ShotFields {
        name: a.name.clone(),
        sequence: a.sequence.clone(),
        frame_in: a.frame_in,
        frame_out: a.frame_out,
        handles: a.handles,
        fps: a.fps,
        source: a.source.clone(),
        timecode_in: a.timecode_in.clone(),
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "-".into())
}

/// Runs `shot ...`.
pub fn shot(cmd: &ShotCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        ShotCmd::Add { code, fields: f } => {
            let mut store = open_rw(ctx)?;
            let rows = [NewShot {
                code: code.clone(),
                fields: fields(f),
            }];
            store.write_shots(&actor(), &rows, ShotWrite::Create)?;
            print_shot(ctx, &store.shot(code)?, "Added")
        }
        ShotCmd::Set { code, fields: f } => {
            let f = fields(f);
            if f.is_empty() {
                anyhow::bail!("nothing to change: give at least one of --name --sequence --in --out --handles --fps --source --timecode-in");
            }
            let mut store = open_rw(ctx)?;
            let rows = [NewShot {
                code: code.clone(),
                fields: f,
            }];
            let sum = store.write_shots(&actor(), &rows, ShotWrite::Update)?;
            let verb = if sum.updated.is_empty() {
                "Unchanged"
            } else {
                "Updated"
            };
            print_shot(ctx, &store.shot(code)?, verb)
        }
        ShotCmd::Ls { sequence } => {
            let store = open_ro(ctx)?;
            let shots = store.shots(sequence.as_deref())?;
            ctx.out.records(
                &shots,
                &[
                    "SHOT", "SEQ", "IN", "OUT", "FRAMES", "HANDLES", "FPS", "TC IN", "NAME",
                ],
                |s| {
                    vec![
                        s.code.clone(),
                        opt(&s.sequence),
                        s.frame_in.to_string(),
                        s.frame_out.to_string(),
                        s.frame_count().to_string(),
                        s.handles.to_string(),
                        opt(&s.fps),
                        opt(&s.timecode_in),
                        s.name.clone(),
                    ]
                },
            )?;
            ctx.out.note(format!("{} shots", shots.len()));
            Ok(Exit::Clean)
        }
        ShotCmd::Import { file, dry_run } => import(ctx, file, *dry_run),
    }
}

#[derive(Serialize)]
struct ImportReport<'a> {
    file: String,
    dry_run: bool,
    rows: usize,
    #[serde(flatten)]
    summary: &'a ImportSummary,
}

fn import(ctx: &Ctx, file: &std::path::Path, dry_run: bool) -> Result<Exit> {
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = String::from_utf8(text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (byte {}); save the CSV as UTF-8",
            file.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let rows = shotline_store::parse_shots_csv(file, &text)?;
    let summary = if dry_run {
        let store = open_ro(ctx)?;
        let existing: std::collections::HashMap<String, shotline_store::Shot> = store
            .shots(None)?
            .into_iter()
            .map(|s| (s.code.clone(), s))
            .collect();
        let mut sum = ImportSummary::default();
        for r in &rows {
            match existing.get(&r.code) {
                None => sum.created.push(r.code.clone()),
                Some(s) if would_change(s, &r.fields) => sum.updated.push(r.code.clone()),
                Some(_) => sum.unchanged.push(r.code.clone()),
            }
        }
        sum
    } else {
        open_rw(ctx)?.write_shots(&actor(), &rows, ShotWrite::Upsert)?
    };
    let report = ImportReport {
        file: file.to_string_lossy().into_owned(),
        dry_run,
        rows: rows.len(),
        summary: &summary,
    };
    if ctx.out.json() {
        ctx.out.json_doc(&report)?;
    } else {
        let verb = if dry_run { "would be" } else { "" };
        ctx.out.line(
            format!(
                "{}: {} rows; {} created {verb}, {} updated {verb}, {} unchanged",
                report.file,
                rows.len(),
                summary.created.len(),
                summary.updated.len(),
                summary.unchanged.len()
            )
            .replace("  ", " "),
        )?;
    }
    Ok(Exit::Clean)
}

/// Whether applying `f` would change `s` (for --dry-run).
fn would_change(s: &shotline_store::Shot, f: &ShotFields) -> bool {
    let diff = |a: &Option<String>, b: &Option<String>| {
        a.as_ref()
            .is_some_and(|x| Some(x) != b.as_ref() && !(x.is_empty() && b.is_none()))
    };
    f.name.as_ref().is_some_and(|n| *n != s.name)
        || diff(&f.sequence, &s.sequence)
        || f.frame_in.is_some_and(|v| v != s.frame_in)
        || f.frame_out.is_some_and(|v| v != s.frame_out)
        || f.handles.is_some_and(|v| v != s.handles)
        || f.fps.is_some_and(|v| Some(v) != s.fps)
        || diff(&f.source, &s.source)
        || diff(&f.timecode_in, &s.timecode_in)
}

fn print_shot(ctx: &Ctx, s: &shotline_store::Shot, verb: &str) -> Result<Exit> {
    if ctx.out.json() {
        ctx.out.json_doc(s)?;
    } else {
        ctx.out.line(format!(
            "{verb} shot {} {}-{} ({} frames, handles {}){}",
            s.code,
            s.frame_in,
            s.frame_out,
            s.frame_count(),
            s.handles,
            s.sequence
                .as_ref()
                .map(|q| format!(" in {q}"))
                .unwrap_or_default()
        ))?;
    }
    Ok(Exit::Clean)
}

/// Runs `asset ...`.
pub fn asset(cmd: &AssetCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        AssetCmd::Add { code, name, group } => {
            let a = open_rw(ctx)?.add_asset(&actor(), code, name, group.as_deref())?;
            if ctx.out.json() {
                ctx.out.json_doc(&a)?;
            } else {
                ctx.out.line(format!(
                    "Added asset {}{}",
                    a.code,
                    a.group
                        .as_ref()
                        .map(|g| format!(" in {g}"))
                        .unwrap_or_default()
                ))?;
            }
        }
        AssetCmd::Ls { group } => {
            let list = open_ro(ctx)?.assets(group.as_deref())?;
            ctx.out.records(&list, &["ASSET", "GROUP", "NAME"], |a| {
                vec![a.code.clone(), opt(&a.group), a.name.clone()]
            })?;
            ctx.out.note(format!("{} assets", list.len()));
        }
    }
    Ok(Exit::Clean)
}

/// Runs `step ...`.
pub fn step(cmd: &StepCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        StepCmd::Add { code, kind, name } => {
            let s = open_rw(ctx)?.add_step(&actor(), code, (*kind).into(), name)?;
            if ctx.out.json() {
                ctx.out.json_doc(&s)?;
            } else {
                ctx.out.line(format!("Added {} step {}", s.kind, s.code))?;
            }
        }
        StepCmd::Ls { kind } => {
            let list = open_ro(ctx)?.steps(kind.map(Into::into))?;
            ctx.out.records(&list, &["STEP", "KIND", "NAME"], |s| {
                vec![s.code.clone(), s.kind.to_string(), s.name.clone()]
            })?;
        }
    }
    Ok(Exit::Clean)
}
