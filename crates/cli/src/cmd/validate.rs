//! `shotline validate`: frame QC per show and shot. Exit 1 on errors (`--strict`: on warnings
//! too). The `--json` schema is documented in `docs/validate.md`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use shotline_frames::FrameSet;
use shotline_qc::naming::Naming;
use shotline_qc::{
    Finding, Layout, Progress, Severity, ValidateOptions, ValidateReport, VerifyOptions,
};

use crate::context::Ctx;
use crate::output::{human_bytes, Exit, Printer, Style};

const EXAMPLES: &str = "\
Examples:
  shotline validate                          every show/shot under the layout root
  shotline validate shots/SH010              one shot (fields parsed from the path)
  shotline validate --range 1001-1100x2 renders/   every other frame expected
  shotline validate --strict --json | jq .summary.by_code   findings per code
  shotline validate --no-headers /shows      names and sizes only, no header reads

Checks: missing-frames, out-of-range, no-frames, zero-byte, truncated, corrupt, unreadable,
size-outlier, resolution-change, channel-change, compression-change, fps-mismatch,
padding-mismatch, duplicate-frame, bad-name, unexpected-file, unreadable-dir.
Config: layout (templates/preset/root/frame_ranges), naming, thresholds (docs/config.md).
Exit codes: 0 clean, 1 errors found (or warnings with --strict), 2 usage/config error.";

/// Arguments of `shotline validate`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct ValidateArgs {
    /// Directory to check: the layout root, a show, a shot or any folder (default: the layout
    /// root from shotline.yaml, else the project root).
    pub root: Option<PathBuf>,
    /// Expected frames for every sequence (any frame-range syntax: 1001-1100, 1001-1100x2),
    /// instead of layout.frame_ranges, the shot's cut in the tracking database, or each
    /// sequence's own first..last.
    #[arg(long, value_name = "FRAMES", allow_hyphen_values = true, value_parser = parse_frames)]
    pub range: Option<FrameSet>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Skip reading headers (no truncation/corruption/resolution checks): names and sizes only.
    #[arg(long)]
    pub no_headers: bool,
    /// Do not take shot ranges (cut plus handles) from the tracking database.
    #[arg(long)]
    pub no_store: bool,
}

/// The JSON document: a schema tag and verdict around the library report.
#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    ok: bool,
    strict: bool,
    #[serde(flatten)]
    report: &'a ValidateReport,
}

/// Runs the command.
pub fn run(args: &ValidateArgs, ctx: &Ctx) -> Result<Exit> {
    let cfg = &ctx.config.config;
    let cfg_name = config_name(ctx);
    let mut layout = load_layout(ctx)?;
    if !args.no_store && args.range.is_none() {
        store_ranges(ctx, &mut layout);
    }
    let naming = Naming::from_config(&cfg.naming).with_context(|| format!("in {cfg_name}"))?;
    let levels = layout.levels();
    for (kind, field) in naming.fields_used() {
        if !levels.contains(&field) {
            ctx.out.warn(format!(
                "naming rule {kind:?} in {cfg_name} uses {{{field}}}, which no layout template has ({}): names will not match",
                levels.join(", ")
            ));
        }
    }
    let t = &cfg.thresholds;
    if !(t.size_outlier_ratio > 0.0 && t.size_outlier_ratio <= 1.0) {
        bail!(
            "invalid thresholds.size_outlier_ratio {} in {cfg_name}: expected a fraction in (0, 1], e.g. 0.5",
            t.size_outlier_ratio
        );
    }
    let range = args.range.clone();
    let probe = shotline_media::ProbeOptions::from_config(&cfg.probe, &ctx.project_root());
    let opts = ValidateOptions {
        verify: VerifyOptions {
            expected_fps: Some(cfg.project.fps).filter(|f| *f > 0.0),
            outlier_ratio: t.size_outlier_ratio,
            outlier_window: t.size_outlier_window,
            check_headers: !args.no_headers,
            probe,
        },
        range,
    };
    let start = start_dir(ctx, args.root.as_deref(), &layout)?;
    tracing::info!(
        start = %start.display(),
        layout_root = %layout.root().display(),
        templates = layout.model.templates().len(),
        "validating"
    );
    let bar = OnceLock::new();
    let progress = |p: Progress| match p {
        Progress::Frames(n) => {
            let _ = bar.set(ctx.out.progress(n, "checking frames"));
        }
        Progress::Checked(n) => {
            if let Some(b) = bar.get() {
                b.inc(n);
            }
        }
    };
    let report = shotline_qc::validate(&layout, &naming, &start, &opts, &progress)?;
    if let Some(b) = bar.get() {
        b.finish_and_clear();
    }
    let s = &report.summary;
    tracing::info!(
        units = s.units,
        sequences = s.sequences,
        frames = s.frames,
        "validated"
    );
    let failed = s.errors > 0 || (args.strict && s.warnings > 0);
    if ctx.out.json() {
        ctx.out.json_doc(&JsonReport {
            schema: "shotline.validate/1",
            ok: !failed,
            strict: args.strict,
            report: &report,
        })?;
    } else {
        print_human(&ctx.out, &report, args.strict)?;
    }
    Ok(Exit::problems_if(failed))
}

/// Adds each tracked shot's range (cut plus handles) under its code, below the ranges the
/// config sets. The database is opened read-only; a missing one is normal (no tracking yet), an
/// unusable one is a warning, never a reason to skip QC.
fn store_ranges(ctx: &Ctx, layout: &mut Layout) {
    let store_cfg = &ctx.config.config.store;
    let path = shotline_store::default_db_path(&ctx.project_root(), store_cfg);
    if !path.is_file() {
        return;
    }
    let shots = shotline_store::Store::open_read_only(&path, store_cfg.busy_timeout_ms)
        .and_then(|s| s.shots(None));
    match shots {
        Ok(shots) => {
            tracing::info!(db = %path.display(), shots = shots.len(), "shot ranges from the tracking database");
            for s in shots {
                let first = s.frame_in.saturating_sub(s.handles);
                let last = s.frame_out.saturating_add(s.handles);
                let set = shotline_frames::Run::new(first, last, 1)
                    .ok()
                    .filter(|_| first <= last)
                    .and_then(|r| FrameSet::from_runs([r]).ok());
                if let Some(set) = set {
                    layout.frame_ranges.entry(s.code).or_insert(set);
                }
            }
        }
        Err(e) => ctx.out.warn(format!(
            "shot ranges not taken from the tracking database {}: {e}",
            path.display()
        )),
    }
}

/// `--range`: any frame-range syntax, refused when it names no frames.
fn parse_frames(text: &str) -> Result<FrameSet, String> {
    let set = FrameSet::parse(text)
        .map_err(|e| format!("{e}; expected e.g. 1001-1100 or 1001-1100x2"))?;
    if set.is_empty() {
        return Err("names no frames".into());
    }
    Ok(set)
}

/// The config file's name for messages (or "the built-in defaults").
pub(crate) fn config_name(ctx: &Ctx) -> String {
    match &ctx.config.path {
        Some(p) => p.display().to_string(),
        None => "the built-in defaults".into(),
    }
}

/// The layout from config, its root made absolute and canonical so paths can be parsed back.
pub(crate) fn load_layout(ctx: &Ctx) -> Result<Layout> {
    let cfg = &ctx.config.config;
    let mut layout = Layout::from_config(&cfg.layout, &cfg.project.code, &ctx.project_root())
        .with_context(|| format!("in {}", config_name(ctx)))?;
    if let Ok(c) = layout.root().canonicalize() {
        layout.model.set_root(c);
    }
    Ok(layout)
}

/// ROOT (against the current directory) or the layout root, which must be a directory.
pub(crate) fn start_dir(ctx: &Ctx, root: Option<&Path>, layout: &Layout) -> Result<PathBuf> {
    let p = match root {
        Some(r) if r.is_absolute() => r.to_path_buf(),
        Some(r) => ctx.cwd.join(r),
        None => layout.root().to_path_buf(),
    };
    let c = p.canonicalize().with_context(|| {
        format!(
            "cannot open {}: expected an existing directory",
            p.display()
        )
    })?;
    if !c.is_dir() {
        bail!(
            "{} is not a directory: expected a show tree or a folder of frames",
            p.display()
        );
    }
    Ok(c)
}

fn print_human(out: &Printer, report: &ValidateReport, strict: bool) -> Result<()> {
    for f in &report.findings {
        finding_line(out, Path::new(&report.root), f, None)?;
    }
    let mut last_group: Option<(&str, &str)> = None;
    for u in &report.units {
        let g = (u.show.as_str(), u.item.as_str());
        if last_group != Some(g) {
            let title = if g == ("-", "-") {
                u.dir.clone()
            } else {
                format!("{} / {}", u.show, u.item)
            };
            out.line(out.paint(title, Style::Bold))?;
            last_group = Some(g);
        }
        let base = Path::new(&u.dir);
        let extra: Vec<String> = u
            .fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "show" | "project" | "shot" | "asset"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut head = format!("  {}", u.dir);
        if !extra.is_empty() {
            head.push_str(&format!("  ({})", extra.join(", ")));
        }
        if u.sequences.is_empty() {
            head.push_str("  no sequences");
        }
        out.line(out.paint(head, Style::Dim))?;
        for f in &u.findings {
            finding_line(out, base, f, None)?;
        }
        for s in &u.sequences {
            let mark = if s.errors() > 0 {
                out.paint("✗", Style::Red)
            } else if s.warnings() > 0 {
                out.paint("!", Style::Yellow)
            } else {
                out.paint("✓", Style::Green)
            };
            let mut info = format!("{} frames, {}", s.count, human_bytes(s.bytes));
            if let Some(r) = &s.resolution {
                info.push_str(&format!(", {r}"));
            }
            out.line(format!(
                "  {mark} {}  {}  ({info})",
                out.paint(rel(base, &s.pattern), Style::Cyan),
                s.frames
            ))?;
            for f in &s.findings {
                finding_line(out, base, f, Some(&s.pattern))?;
            }
        }
    }
    let s = &report.summary;
    let verdict = if s.errors > 0 || (strict && s.warnings > 0) {
        out.paint("FAIL", Style::Red)
    } else {
        out.paint("OK", Style::Green)
    };
    out.line(format!(
        "{verdict}: {} shows, {} shots/assets, {} sequences, {} frames ({}): {} errors, {} warnings",
        s.shows,
        s.items,
        s.sequences,
        s.frames,
        human_bytes(s.bytes),
        s.errors,
        s.warnings
    ))?;
    Ok(())
}

/// One finding, indented under its sequence; the path is shown unless it is the sequence's.
fn finding_line(out: &Printer, base: &Path, f: &Finding, seq: Option<&str>) -> Result<()> {
    let sev = match f.severity {
        Severity::Error => out.paint("error  ", Style::Red),
        Severity::Warning => out.paint("warning", Style::Yellow),
    };
    let frames = f
        .frames
        .as_deref()
        .map(|r| format!(" [{r}]"))
        .unwrap_or_default();
    let path = if seq == Some(f.path.as_str()) {
        String::new()
    } else {
        format!("  {}", out.paint(rel(base, &f.path), Style::Dim))
    };
    out.line(format!(
        "      {sev} {}: {}{frames}{path}",
        f.code, f.detail
    ))?;
    Ok(())
}

/// `path` relative to `base` when below it.
fn rel(base: &Path, path: &str) -> String {
    Path::new(path)
        .strip_prefix(base)
        .map(|p| p.display().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| path.to_string())
}
