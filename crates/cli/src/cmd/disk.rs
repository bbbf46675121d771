//! `shotline disk`: usage per show and shot (and deeper with `--depth`). Exit 1 when an entry
//! exceeds its `thresholds.disk_warning` or a directory could not be read. The `--json` schema is
//! documented in `docs/disk.md`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;
use shotline_qc::{disk_usage, DiskEntry, DiskOptions, DiskReport, SortBy};

use crate::cmd::validate::{config_name, load_layout, start_dir};
use crate::context::Ctx;
use crate::output::{human_bytes, Exit, Printer, Style};

const EXAMPLES: &str = "\
Examples:
  shotline disk                          shots and steps under the layout root
  shotline disk --depth 3 --sort name    down to versions, alphabetical
  shotline disk shots/SH010 --top 10     one shot, its 10 biggest sequences
  shotline disk --json | jq '.entries[] | {name, bytes: .usage.bytes}'

Sizes are binary (KiB, MiB, GiB). SIZE is the apparent size (ls -l), ON DISK what the filesystem
allocated (du). Hard links count once, symlinks are never followed.
Thresholds: thresholds.disk_warning in shotline.yaml, per level (show: \"2 TiB\", shot: \"500 GiB\").
Exit codes: 0 clean, 1 over a threshold or a directory unreadable, 2 usage/config error.";

/// Sort order for `--sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    /// Biggest first.
    Size,
    /// Alphabetical.
    Name,
}

/// Arguments of `shotline disk`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct DiskArgs {
    /// Directory to measure (default: the layout root from shotline.yaml, else the project root).
    pub root: Option<PathBuf>,
    /// Levels to break usage down by, as the layout's templates name them (default layout:
    /// 1 shots, 2 steps, 3 versions; see docs/layout.md).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub depth: u16,
    /// Order of siblings.
    #[arg(long, value_enum, default_value_t = SortArg::Size)]
    pub sort: SortArg,
    /// Biggest sequences listed (overall, and per entry in JSON).
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a DiskReport,
}

/// Runs the command.
pub fn run(args: &DiskArgs, ctx: &Ctx) -> Result<Exit> {
    let layout = load_layout(ctx)?;
    let cfg = &ctx.config.config.thresholds;
    let thresholds = cfg
        .disk_warning
        .iter()
        .map(|(k, v)| (k.clone(), v.0))
        .collect();
    let levels = layout.levels();
    for k in cfg.disk_warning.keys() {
        let known = k == "dir"
            || k == "show"
            || levels.contains(k)
            || k.parse::<shotline_layout::Field>().is_ok();
        if !known {
            bail!(
                "unknown level {k:?} in thresholds.disk_warning of {}: expected one of {} (the layout's levels), another layout field, \"show\" or \"dir\"",
                config_name(ctx),
                levels.join(", ")
            );
        }
    }
    let start = start_dir(ctx, args.root.as_deref(), &layout)?;
    let opts = DiskOptions {
        depth: usize::from(args.depth),
        top: args.top,
        sort: match args.sort {
            SortArg::Size => SortBy::Size,
            SortArg::Name => SortBy::Name,
        },
        thresholds,
    };
    tracing::info!(
        start = %start.display(),
        layout_root = %layout.root().display(),
        depth = opts.depth,
        "measuring"
    );
    let spinner = ctx.out.progress(0, "measuring");
    let report = disk_usage(&layout, &start, &opts)?;
    spinner.finish_and_clear();
    for (dir, err) in &report.unreadable {
        ctx.out.error(format!("cannot list {dir}: {err}"));
    }
    if ctx.out.json() {
        ctx.out.json_doc(&JsonReport {
            schema: "shotline.disk/1",
            report: &report,
        })?;
    } else {
        print_human(&ctx.out, &report)?;
    }
    Ok(Exit::problems_if(
        !report.over_threshold.is_empty() || !report.unreadable.is_empty(),
    ))
}

fn print_human(out: &Printer, r: &DiskReport) -> Result<()> {
    out.line(format!(
        "Disk usage under {}",
        out.paint(&r.root, Style::Bold)
    ))?;
    let mut rows = Vec::new();
    for e in &r.entries {
        rows_of(out, e, 0, &mut rows);
    }
    let t = &r.total;
    rows.push(vec![
        out.paint("total", Style::Bold),
        String::new(),
        out.paint(human_bytes(t.bytes), Style::Bold),
        human_bytes(t.disk_bytes),
        t.files.to_string(),
        t.sequences.to_string(),
        String::new(),
    ]);
    out.table(
        &["NAME", "LEVEL", "SIZE", "ON DISK", "FILES", "SEQS", ""],
        &rows,
    )?;
    if !r.biggest_sequences.is_empty() {
        out.line("")?;
        out.line(out.paint("Biggest sequences", Style::Bold))?;
        let rows: Vec<Vec<String>> = r
            .biggest_sequences
            .iter()
            .map(|s| {
                vec![
                    human_bytes(s.bytes),
                    s.count.to_string(),
                    s.frames.clone(),
                    out.paint(&s.pattern, Style::Cyan),
                ]
            })
            .collect();
        out.table(&["SIZE", "FRAMES", "RANGE", "SEQUENCE"], &rows)?;
    }
    let mut summary = format!(
        "{} in {} files, {} sequences",
        human_bytes(t.bytes),
        t.files,
        t.sequences
    );
    if r.hardlinks_deduplicated > 0 {
        summary.push_str(&format!(
            "; {} hard links counted once",
            r.hardlinks_deduplicated
        ));
    }
    if !r.over_threshold.is_empty() {
        summary.push_str(&format!(
            "; {}",
            out.paint(
                format!("{} over threshold", r.over_threshold.len()),
                Style::Yellow
            )
        ));
    }
    out.line(summary)?;
    Ok(())
}

fn rows_of(out: &Printer, e: &DiskEntry, indent: usize, rows: &mut Vec<Vec<String>>) {
    let flag = match (e.over_threshold, e.threshold) {
        (true, Some(t)) => out.paint(format!("WARN > {}", human_bytes(t)), Style::Yellow),
        _ => String::new(),
    };
    rows.push(vec![
        format!("{}{}", "  ".repeat(indent), e.name),
        e.level.clone(),
        human_bytes(e.usage.bytes),
        human_bytes(e.usage.disk_bytes),
        e.usage.files.to_string(),
        e.usage.sequences.to_string(),
        flag,
    ]);
    for c in &e.children {
        rows_of(out, c, indent + 1, rows);
    }
}
