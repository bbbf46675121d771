//! `shotline publish`: verify the frames with the QC library, measure them, and record the next
//! version with its manifest through the store.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use shotline_qc::{Finding, SequenceReport, Severity, VerifyOptions};
use shotline_store::{ItemKind, ItemRef, NewVersion, Version};

use super::common::{actor, open_rw, state};
use super::PublishArgs;
use crate::context::Ctx;
use crate::output::{human_bytes, Exit};

#[derive(Serialize)]
struct Report<'a> {
    published: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a Version>,
    verification: &'a SequenceReport,
}

/// Runs `publish`.
pub fn run(a: &PublishArgs, ctx: &Ctx) -> Result<Exit> {
    let version_state = state(&a.state)?;
    let item = match (&a.shot, &a.asset) {
        (Some(s), _) => ItemRef::shot(s.as_str()),
        (None, Some(x)) => ItemRef::asset(x.as_str()),
        (None, None) => bail!("give --shot CODE or --asset CODE"),
    };
    let path = if a.path.is_absolute() {
        a.path.clone()
    } else {
        ctx.cwd.join(&a.path)
    };
    if shotline_scene::Dcc::from_path(&path).is_some() && path.is_file() {
        return crate::cmd::scene::publish_scene(a, ctx, &path, item, version_state);
    }
    let pattern = resolve_pattern(&path)?;
    let mut store = open_rw(ctx)?;
    let (expected, fps) = match (&a.range, item.kind) {
        (Some(r), _) => (Some(r.clone()), None),
        (None, ItemKind::Shot) => {
            let s = store.shot(&item.code)?;
            (
                Some(shotline_qc::frame_span(s.frame_in, s.frame_out)?),
                s.fps,
            )
        }
        (None, ItemKind::Asset) => (None, None),
    };
    let opts = VerifyOptions {
        expected_fps: Some(fps.unwrap_or(store.project().fps)),
        ..VerifyOptions::default()
    };
    tracing::info!(pattern = %pattern.display(), "verifying frames");
    let report = shotline_qc::verify_sequence_with(&pattern, expected.as_ref(), &opts)
        .with_context(|| format!("cannot verify {}", pattern.display()))?;
    for f in &report.findings {
        let text = finding_text(f);
        match f.severity {
            Severity::Error => ctx.out.error(text),
            _ => ctx.out.warn(text),
        }
    }
    if !report.is_ok() && !a.force {
        if ctx.out.json() {
            ctx.out.json_doc(&Report {
                published: false,
                version: None,
                verification: &report,
            })?;
        }
        ctx.out.note(format!(
            "not published: {} error(s) in {} (fix the frames, or --force to record them as they are)",
            report.errors(),
            report.pattern
        ));
        return Ok(Exit::Problems);
    }
    if report.count == 0 {
        bail!("no frames match {}; nothing to publish", pattern.display());
    }
    let files = shotline_qc::measure_files(&pattern, &report)?;
    let new = NewVersion {
        item,
        step: a.step.clone(),
        resource: a.resource.clone(),
        number: None,
        state: version_state,
        files,
        comment: a.comment.clone(),
        source: "publish".into(),
        uses: a.uses.clone(),
        tags: a.tags.clone(),
    };
    if let Some(same) = store.identical_latest(&new)? {
        let text = format!(
            "{} {} {} (id {}) already records these frames unchanged",
            same.item.code,
            same.step,
            same.label(),
            same.id
        );
        if a.skip_identical {
            ctx.out
                .note(format!("not published: {text} (--skip-identical)"));
            return Ok(Exit::Problems);
        }
        ctx.out.warn(format!(
            "{text}; publishing a new version anyway (--skip-identical refuses)"
        ));
    }
    let v = store.publish(&actor(), new)?;
    crate::cmd::ramses::mirror_versions(ctx, &mut store, std::slice::from_ref(&v));
    if ctx.out.json() {
        ctx.out.json_doc(&Report {
            published: true,
            version: Some(&v),
            verification: &report,
        })?;
    } else {
        ctx.out.line(format!(
            "Published {} {}{} {} (id {}): {} frames {}, {}{}",
            v.item.code,
            v.step,
            if v.resource.is_empty() {
                String::new()
            } else {
                format!("/{}", v.resource)
            },
            v.label(),
            v.id,
            v.files.file_count,
            v.files.frame_range,
            human_bytes(v.files.bytes.max(0) as u64),
            if v.files.missing_frames.is_empty() {
                String::new()
            } else {
                format!(", MISSING {}", v.files.missing_frames)
            }
        ))?;
        if let Some(m) = &v.manifest {
            ctx.out.note(format!("manifest: {m}"));
        }
    }
    Ok(Exit::Clean)
}

fn finding_text(f: &Finding) -> String {
    match &f.frames {
        Some(fr) => format!("{} {}: {} (frames {fr})", f.code, f.path, f.detail),
        None => format!("{} {}: {}", f.code, f.path, f.detail),
    }
}

/// A pattern as given, or the one image sequence inside a folder.
fn resolve_pattern(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        let dir = path.parent().unwrap_or(Path::new("."));
        if !dir.is_dir() {
            bail!("{}: no such folder", dir.display());
        }
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        let name = path.file_name().with_context(|| {
            format!(
                "{}: expected a file pattern such as comp.%04d.exr",
                path.display()
            )
        })?;
        return Ok(dir.join(name));
    }
    let dir = path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let names = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| e.file_name());
    let grouping = shotline_sequences::group(dir.clone(), names);
    match grouping.sequences.as_slice() {
        [one] => Ok(dir.join(one.pattern(shotline_sequences::PadStyle::Printf))),
        [] => bail!(
            "{}: no image sequence in this folder; give a pattern such as comp.%04d.exr",
            dir.display()
        ),
        many => bail!(
            "{}: {} image sequences in this folder ({}); give the pattern of the one to publish",
            dir.display(),
            many.len(),
            many.iter()
                .map(|s| s.pattern(shotline_sequences::PadStyle::Printf))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
