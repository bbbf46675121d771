//! `shotline ls`: image sequences and plain files, like `ls` for frames.
//!
//! Listing is not validating: gaps are shown but exit 0. Only something unreadable exits 1 (it
//! is reported on stderr and the listing goes on), and a PATH that does not exist exits 2.
//! The JSON Lines schema is documented in `docs/ls.md`.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Result};
use serde::Serialize;
use shotline_media::kinds::Registry;
use shotline_sequences::{
    group_entries_with, is_symlink_loop, walk, FileStat, Grouping, PadStyle, RangeIn, Sequence,
    SubDir, WalkEvent, WalkOptions, Warning,
};

use crate::context::Ctx;
use crate::output::{human_bytes, rfc3339, Exit, Printer, Style};

const EXAMPLES: &str = "\
Examples:
  shotline ls                              sequences and files here
  shotline ls -R /show/shots               every folder below, depth first
  shotline ls -Rl --format nuke renders/   with sizes and newest mtime, Nuke patterns
  shotline ls renders/sh010/*.exr          group the files a shell glob matched
  shotline ls -R --json . | jq -c 'select(.missing_count > 0)'   sequences with gaps

Patterns (--format): hash plate.1001-1100#.exr | nuke plate.####.exr 1001-1100 |
printf plate.%04d.exr 1001-1100 | houdini plate.$F4.exr 1001-1100 | rv plate.1001-1100@@@@.exr

JSON Lines (--json): one object per sequence, file, subdirectory and warning; schema in
docs/ls.md. Exit codes: 0 listed (gaps are not errors), 1 something could not be read,
2 a PATH does not exist.";

/// Pattern styles for `--format` (see `PadStyle` for what each writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// `plate.1001-1100#.exr` (fileseq, Katana): `#` = 4 digits, `@` = 1.
    Hash,
    /// `plate.####.exr 1001-1100`: `#` per digit.
    Nuke,
    /// `plate.%04d.exr 1001-1100`.
    Printf,
    /// `plate.$F4.exr 1001-1100`.
    Houdini,
    /// `plate.1001-1100@@@@.exr`: `@` per digit.
    Rv,
}

impl From<FormatArg> for PadStyle {
    fn from(f: FormatArg) -> PadStyle {
        match f {
            FormatArg::Hash => PadStyle::Hash,
            FormatArg::Nuke => PadStyle::Nuke,
            FormatArg::Printf => PadStyle::Printf,
            FormatArg::Houdini => PadStyle::Houdini,
            FormatArg::Rv => PadStyle::Rv,
        }
    }
}

/// Arguments of `shotline ls`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct LsArgs {
    /// Directories or files to list (default: the current directory). Files named together
    /// are grouped into sequences per directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// List subdirectories recursively, in parallel, depth first in name order.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Follow symlinked directories (symlink cycles are detected and reported, not followed).
    #[arg(short = 'L', long = "dereference")]
    pub follow: bool,
    /// Include names starting with `.`.
    #[arg(short, long)]
    pub all: bool,
    /// Add total size and newest modification time per sequence (one stat per file).
    #[arg(short, long)]
    pub long: bool,
    /// How to write the frame padding: hash (default for humans), nuke, printf (default for
    /// --json), houdini, rv.
    #[arg(long, value_enum, value_name = "STYLE")]
    pub format: Option<FormatArg>,
}

/// Runs the command.
pub fn run(args: &LsArgs, ctx: &Ctx) -> Result<Exit> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for p in &paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => dirs.push(p.clone()),
            Ok(_) => files.push(p.clone()),
            // A dangling symlink named on the command line is still a name to list.
            Err(_) if std::fs::symlink_metadata(p).is_ok() => files.push(p.clone()),
            Err(e) if is_symlink_loop(&e) => bail!(
                "cannot list {}: a symlink loop (a link that leads back to itself): {e}",
                p.display()
            ),
            Err(e) => bail!("cannot list {}: {e}", p.display()),
        }
    }
    let out = &ctx.out;
    let mut view = View {
        out,
        style: args.format.map(PadStyle::from).unwrap_or(if out.json() {
            PadStyle::Printf
        } else {
            PadStyle::Hash
        }),
        long: args.long,
        headers: args.recursive || paths.len() > 1,
        sections: 0,
        errors: 0,
    };
    if !files.is_empty() {
        for g in group_file_args(&files, args.long, &mut view) {
            view.grouping(&g, &[], false)?;
        }
    }
    let opts = WalkOptions {
        recursive: args.recursive,
        follow_links: args.follow,
        hidden: args.all,
        stat: args.long,
        threads: None,
        // Movies are one file each, never frames of a sequence.
        classify: Some(&Registry),
        prune: None,
    };
    let spinner = (args.recursive && !std::io::stdout().is_terminal())
        .then(|| out.progress(0, "scanning files"));
    let mut failed: Option<std::io::Error> = None;
    let summary = walk(&dirs, &opts, |ev| {
        // Lines for stderr: take the spinner off the terminal while they are written.
        let to_stderr = match &ev {
            WalkEvent::Dir(d) => !out.json() && !d.grouping.warnings.is_empty(),
            WalkEvent::Error(_) => true,
            WalkEvent::Cycle { .. } => !out.json(),
        };
        let mut handle = |ev| match ev {
            WalkEvent::Dir(d) => {
                if let Some(pb) = &spinner {
                    pb.inc(d.grouping.files.len() as u64 + seq_files(&d.grouping));
                }
                view.grouping(&d.grouping, &d.subdirs, true)
            }
            WalkEvent::Error(e) => {
                view.errors += 1;
                out.error(&e);
                Ok(())
            }
            WalkEvent::Cycle { link, target } => view.cycle(&link, &target),
        };
        let r = match &spinner {
            Some(pb) if to_stderr => pb.suspend(|| handle(ev)),
            _ => handle(ev),
        };
        match r {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failed = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    if let Some(e) = failed {
        return Err(anyhow::Error::new(e).context("cannot write the listing"));
    }
    tracing::info!(
        dirs = summary.dirs,
        files = summary.files,
        errors = summary.errors,
        "listed"
    );
    Ok(Exit::problems_if(view.errors > 0))
}

/// Files in a grouping's sequences.
fn seq_files(g: &Grouping) -> u64 {
    g.sequences.iter().map(|s| s.frames.len()).sum()
}

/// Groups files named on the command line per parent directory, stat'ing them for `-l`.
fn group_file_args(files: &[PathBuf], long: bool, view: &mut View<'_>) -> Vec<Grouping> {
    let mut by_dir: std::collections::BTreeMap<PathBuf, Vec<(OsString, Option<FileStat>)>> =
        Default::default();
    for p in files {
        let Some(name) = p.file_name() else { continue };
        let dir = shotline_fsio::parent_dir(p).to_path_buf();
        let stat = if long {
            match std::fs::metadata(p).or_else(|_| std::fs::symlink_metadata(p)) {
                Ok(md) => Some(FileStat {
                    bytes: md.len(),
                    mtime: md.modified().ok(),
                }),
                Err(e) => {
                    view.errors += 1;
                    view.out.error(format!("cannot read {}: {e}", p.display()));
                    None
                }
            }
        } else {
            None
        };
        by_dir
            .entry(dir)
            .or_default()
            .push((name.to_os_string(), stat));
    }
    by_dir
        .into_iter()
        .map(|(d, entries)| group_entries_with(d, entries, &Registry))
        .collect()
}

/// One thing in a directory, in name order.
enum Item<'a> {
    Seq(&'a Sequence),
    File(&'a shotline_sequences::PlainFile),
    Dir(&'a SubDir),
}

/// Renders listings as human lines or JSON Lines.
struct View<'a> {
    out: &'a Printer,
    style: PadStyle,
    long: bool,
    headers: bool,
    sections: usize,
    errors: usize,
}

impl View<'_> {
    /// Prints one directory's (or the file arguments') sequences, files and subdirectories.
    fn grouping(&mut self, g: &Grouping, subdirs: &[SubDir], is_dir: bool) -> std::io::Result<()> {
        let mut items: Vec<(OsString, Item<'_>)> = Vec::new();
        for s in &g.sequences {
            let mut key = s.head.clone();
            key.push(&s.tail);
            items.push((key, Item::Seq(s)));
        }
        for f in &g.files {
            items.push((f.name.clone(), Item::File(f)));
        }
        for d in subdirs {
            items.push((d.name.clone(), Item::Dir(d)));
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let dir = g.dir.to_string_lossy();
        if self.out.json() {
            for (_, item) in &items {
                match item {
                    Item::Seq(s) => self.out.json_line(&seq_json(s, &dir, self.style))?,
                    Item::File(f) => self.out.json_line(&FileJson {
                        kind: "file",
                        dir: &dir,
                        name: f.name.to_string_lossy().into_owned(),
                        bytes: f.stat.map(|s| s.bytes),
                        mtime: f.stat.and_then(|s| s.mtime).map(rfc3339),
                    })?,
                    Item::Dir(d) => self.out.json_line(&DirJson {
                        kind: "dir",
                        dir: &dir,
                        name: d.name.to_string_lossy().into_owned(),
                        link: d.link,
                    })?,
                }
            }
            for w in &g.warnings {
                self.out.json_line(&warning_json(w))?;
            }
            return Ok(());
        }
        if self.headers && is_dir {
            if self.sections > 0 {
                self.out.line("")?;
            }
            self.out
                .line(self.out.paint(format!("{dir}:"), Style::Bold))?;
        } else if self.sections > 0 && !items.is_empty() {
            self.out.line("")?;
        }
        if is_dir || !items.is_empty() {
            self.sections += 1;
        }
        self.human_rows(&items)?;
        for w in &g.warnings {
            self.out.warn(w);
        }
        Ok(())
    }

    /// Aligned human lines: `[size  mtime  ]name  count  missing`.
    fn human_rows(&self, items: &[(OsString, Item<'_>)]) -> std::io::Result<()> {
        let names: Vec<String> = items
            .iter()
            .map(|(_, item)| match item {
                Item::Seq(s) => s.format(self.style, RangeIn::Span),
                Item::File(f) => f.name.to_string_lossy().into_owned(),
                Item::Dir(d) => format!("{}/", d.name.to_string_lossy()),
            })
            .collect();
        let name_w = items
            .iter()
            .zip(&names)
            .filter(|((_, i), _)| matches!(i, Item::Seq(_)))
            .map(|(_, n)| n.chars().count())
            .max()
            .unwrap_or(0);
        let count_w = items
            .iter()
            .filter_map(|(_, i)| match i {
                Item::Seq(s) => Some(s.len().to_string().len()),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        for ((_, item), name) in items.iter().zip(names) {
            let mut line = String::new();
            if self.long {
                let stat = match item {
                    Item::Seq(s) => s.stat,
                    Item::File(f) => f.stat,
                    Item::Dir(_) => None,
                };
                let (size, when) = match stat {
                    Some(s) => (
                        human_bytes(s.bytes),
                        s.mtime.map(whole_seconds).map(rfc3339).unwrap_or_default(),
                    ),
                    None => ("-".to_string(), "-".to_string()),
                };
                line.push_str(&format!("{size:>10}  {when:<20}  "));
            }
            match item {
                Item::Seq(s) => {
                    let pad = name_w.saturating_sub(name.chars().count());
                    line.push_str(&self.out.paint(&name, Style::Cyan));
                    line.push_str(&" ".repeat(pad));
                    let n = s.len();
                    let unit = if n == 1 { "frame" } else { "frames" };
                    line.push_str(&format!("  {n:>count_w$} {unit}"));
                    if !s.missing.is_empty() {
                        let miss = format!("missing {}", s.missing);
                        line.push_str(&format!("  {}", self.out.paint(miss, Style::Yellow)));
                    }
                }
                Item::File(_) => line.push_str(&name),
                Item::Dir(d) => {
                    line.push_str(&self.out.paint(&name, Style::Bold));
                    if d.link {
                        line.push_str(" (symlink)");
                    }
                }
            }
            self.out.line(line.trim_end())?;
        }
        Ok(())
    }

    /// A symlink that leads back to an ancestor: a warning, since nothing went unread.
    fn cycle(&mut self, link: &Path, target: &Path) -> std::io::Result<()> {
        let message = format!(
            "{} leads back to its ancestor {} through a symlink (a cycle); not followed",
            link.display(),
            target.display()
        );
        if self.out.json() {
            let dir = link.parent().map(|p| p.to_string_lossy().into_owned());
            self.out.json_line(&CycleJson {
                kind: "warning",
                warning: "symlink_cycle",
                dir: dir.unwrap_or_default(),
                path: link.to_string_lossy().into_owned(),
                target: target.to_string_lossy().into_owned(),
                message,
            })
        } else {
            self.out.warn(message);
            Ok(())
        }
    }
}

/// Drops sub-second precision for human columns.
fn whole_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_secs(d.as_secs()),
        Err(_) => t,
    }
}

/// `{"kind":"sequence",…}` (schema in docs/ls.md).
#[derive(Serialize)]
struct SeqJson<'a> {
    kind: &'static str,
    dir: &'a str,
    pattern: String,
    head: String,
    tail: String,
    padding: usize,
    frames: String,
    first: Option<i64>,
    last: Option<i64>,
    count: u64,
    missing: String,
    missing_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtime: Option<String>,
}

fn seq_json<'a>(s: &Sequence, dir: &'a str, style: PadStyle) -> SeqJson<'a> {
    SeqJson {
        kind: "sequence",
        dir,
        pattern: s.pattern(style),
        head: s.head_str().into_owned(),
        tail: s.tail_str().into_owned(),
        padding: s.padding,
        frames: s.frames.to_string(),
        first: s.frames.first(),
        last: s.frames.last(),
        count: s.len(),
        missing: s.missing.to_string(),
        missing_count: s.missing.len(),
        bytes: s.stat.map(|st| st.bytes),
        mtime: s.stat.and_then(|st| st.mtime).map(rfc3339),
    }
}

/// `{"kind":"file",…}`.
#[derive(Serialize)]
struct FileJson<'a> {
    kind: &'static str,
    dir: &'a str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtime: Option<String>,
}

/// `{"kind":"dir",…}`: a subdirectory (listed so a non-recursive `ls` shows where to go next).
#[derive(Serialize)]
struct DirJson<'a> {
    kind: &'static str,
    dir: &'a str,
    name: String,
    link: bool,
}

/// `{"kind":"warning","warning":"duplicate_padding",…}`.
#[derive(Serialize)]
struct DupJson {
    kind: &'static str,
    warning: &'static str,
    dir: String,
    head: String,
    tail: String,
    paddings: [usize; 2],
    frames: String,
    message: String,
}

fn warning_json(w: &Warning) -> DupJson {
    match w {
        Warning::DuplicatePadding {
            dir,
            head,
            tail,
            paddings,
            frames,
        } => DupJson {
            kind: "warning",
            warning: "duplicate_padding",
            dir: dir.to_string_lossy().into_owned(),
            head: head.to_string_lossy().into_owned(),
            tail: tail.to_string_lossy().into_owned(),
            paddings: [paddings.0, paddings.1],
            frames: frames.to_string(),
            message: w.to_string(),
        },
    }
}

/// `{"kind":"warning","warning":"symlink_cycle",…}`.
#[derive(Serialize)]
struct CycleJson {
    kind: &'static str,
    warning: &'static str,
    dir: String,
    path: String,
    target: String,
    message: String,
}
