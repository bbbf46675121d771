//! `shotline probe`: media headers and integrity for files, directories and sequences.
//!
//! Images are read natively (headers only, in parallel); movies go through ffprobe. Every file
//! gets a status (`ok`, `truncated`, `corrupt`, `unreadable`); sequences also get a summary
//! (missing frames, changes of resolution/channels/compression, fps, timecode continuity).
//! Exit 1 when any file is not ok or any sequence has a problem; 2 when a PATH does not exist.
//! The JSON Lines schema is documented in `docs/probe.md`.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use shotline_media::sequence::{probe_sequence, SequenceSummary};
use shotline_media::{
    probe_batch, walk_media, DirMedia, Format, MediaEvent, MediaInfo, ProbeOptions, ProbeTarget,
    Status, StatusCounts,
};
use shotline_sequences::{PadStyle, RangeIn, Sequence};

use crate::context::Ctx;
use crate::output::{Exit, Printer, Style};

const EXAMPLES: &str = "\
Examples:
  shotline probe plate.1001.exr                 one frame: header, channels, integrity
  shotline probe renders/sh010/plate.####.exr   a sequence: every frame plus a summary
  shotline probe 'plate.1001-1100#.exr'         a range: frames absent from disk are missing
  shotline probe 'plate.%04d.exr 1001-1100'     the same in printf style
  shotline probe -R /show/deliveries            every image and movie below, sequences summarised
  shotline probe --problems -R renders/         only what is broken
  shotline probe --json plate.####.exr | jq -c 'select(.status != \"ok\")'

Formats: OpenEXR (scanline, tiled, multi-part, deep), DPX, Cineon, TIFF, PNG, JPEG, TGA, HDR
natively; .mov .mp4 .mxf .mkv .avi … through ffprobe (probe.ffprobe in shotline.yaml).
Status: ok | truncated | corrupt | unreadable, with a reason. JSON Lines (--json): one object per
file (\"kind\":\"file\") and per sequence (\"kind\":\"sequence_summary\"); schema in docs/probe.md.
Exit codes: 0 all ok, 1 a file is not ok or a sequence has problems, 2 a PATH does not exist.";

/// Arguments of `shotline probe`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct ProbeArgs {
    /// Files, directories or sequence patterns (`plate.####.exr`, `plate.%04d.exr`,
    /// `plate.1001-1100#.exr`, `'plate.%04d.exr 1001-1100'`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Descend into subdirectories of directory PATHs.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Include hidden files and directories (names starting with `.`) in directory probes.
    #[arg(short = 'a', long)]
    pub hidden: bool,
    /// Print only files that are not ok (and sequence summaries); exit codes are unchanged.
    #[arg(long)]
    pub problems: bool,
    /// For sequences print only the summary (and frames that are not ok), not every frame.
    #[arg(long)]
    pub summary: bool,
    /// Under each file, list windows, parts, colour hints and metadata (automatic when the only
    /// PATH is one file).
    #[arg(short = 'l', long)]
    pub long: bool,
}

/// Runs the command.
pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Result<Exit> {
    let targets = args
        .paths
        .iter()
        .map(|p| ProbeTarget::resolve(p))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = ProbeOptions::from_config(&ctx.config.config.probe, &ctx.project_root());
    let long = args.long || matches!(targets.as_slice(), [ProbeTarget::File(_)]);
    let mut run = Run {
        long,
        out: &ctx.out,
        opts: &opts,
        args,
        default_fps: ctx.config.config.project.fps,
        header_done: false,
        ffprobe_warned: false,
        counts: StatusCounts::default(),
        bad_sequences: 0,
        skipped: 0,
        started: Instant::now(),
    };
    let mut pending: Vec<PathBuf> = Vec::new();
    for t in targets {
        match t {
            ProbeTarget::File(p) => pending.push(p),
            other => {
                run.files(std::mem::take(&mut pending))?;
                match other {
                    ProbeTarget::Dir(d) => run.dir(&d)?,
                    ProbeTarget::Sequence(s) => run.sequence(&s)?,
                    ProbeTarget::File(_) => {}
                }
            }
        }
    }
    run.files(pending)?;
    run.finish()
}

struct Run<'a> {
    long: bool,
    out: &'a Printer,
    opts: &'a ProbeOptions,
    args: &'a ProbeArgs,
    default_fps: f64,
    header_done: bool,
    ffprobe_warned: bool,
    counts: StatusCounts,
    bad_sequences: u64,
    skipped: u64,
    started: Instant,
}

impl Run<'_> {
    fn files(&mut self, paths: Vec<PathBuf>) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        probe_batch(paths, self.opts, |info| self.emit(&info, false))?;
        Ok(())
    }

    fn sequence(&mut self, seq: &Sequence) -> Result<()> {
        let label = seq.format(PadStyle::Printf, RangeIn::None);
        let pb = self.out.progress(seq.len(), &format!("probing {label}"));
        let summary = probe_sequence(seq, self.opts, self.default_fps, |info| {
            pb.inc(1);
            self.emit(&info, true)
        });
        pb.finish_and_clear();
        let summary = summary?;
        self.summary(&summary)
    }

    fn dir(&mut self, dir: &Path) -> Result<()> {
        let mut result: Result<()> = Ok(());
        walk_media(dir, self.args.recursive, self.args.hidden, |ev| {
            let r = match ev {
                MediaEvent::Dir(media) => self.dir_media(media),
                MediaEvent::Error(e) => {
                    self.out.error(&e);
                    self.counts.add(Status::Unreadable);
                    Ok(())
                }
                MediaEvent::Cycle { link, target } => {
                    self.out.warn(format!(
                        "{}: symlink loop back to {}; not followed",
                        link.display(),
                        target.display()
                    ));
                    Ok(())
                }
            };
            match r {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    result = Err(e);
                    ControlFlow::Break(())
                }
            }
        });
        result
    }

    /// One directory of a directory probe: its files, then its sequences.
    fn dir_media(&mut self, media: DirMedia) -> Result<()> {
        self.skipped += media.skipped;
        self.files(media.files)?;
        for s in &media.sequences {
            self.sequence(s)?;
        }
        Ok(())
    }

    fn emit(&mut self, info: &MediaInfo, in_sequence: bool) -> std::io::Result<()> {
        self.counts.add(info.status);
        if info.format == Format::Movie && self.opts.ffprobe.is_none() && !self.ffprobe_warned {
            self.ffprobe_warned = true;
            self.out.warn(format!(
                "{}; movies are reported as unreadable, images are probed natively",
                self.opts.ffprobe_missing().unwrap_or_default()
            ));
        }
        let quiet_ok =
            info.status.is_ok() && (self.args.problems || (in_sequence && self.args.summary));
        if quiet_ok {
            return Ok(());
        }
        if self.out.json() {
            return self.out.json_line(info);
        }
        if !self.header_done {
            self.header_done = true;
            self.out.line(self.out.paint(
                format!(
                    "{:<10}  {:<6}  {:<11}  {:<18}  {:<11}  {:<7}  {:<11}  PATH",
                    "STATUS", "FORMAT", "RESOLUTION", "CHANNELS", "COMPRESSION", "FPS", "TIMECODE"
                ),
                Style::Bold,
            ))?;
        }
        let status = format!("{:<10}", info.status.as_str());
        let status = self.out.paint(
            status,
            if info.status.is_ok() {
                Style::Green
            } else {
                Style::Red
            },
        );
        let dash = || "-".to_string();
        self.out.line(format!(
            "{status}  {:<6}  {:<11}  {:<18}  {:<11}  {:<7}  {:<11}  {}",
            info.format.as_str(),
            info.resolution().unwrap_or_else(dash),
            channels_text(info),
            info.compression.clone().unwrap_or_else(dash),
            info.fps.map_or_else(dash, fps_text),
            info.timecode.clone().unwrap_or_else(dash),
            self.out.paint(info.path.display(), Style::Cyan)
        ))?;
        if let Some(r) = &info.reason {
            let style = if info.status.is_ok() {
                Style::Dim
            } else {
                Style::Red
            };
            self.out.line(format!(
                "{:10}  {}",
                "",
                self.out.paint(format!("└ {r}"), style)
            ))?;
        }
        if self.long {
            for (k, v) in details(info) {
                self.out.line(format!(
                    "{:10}  {} {v}",
                    "",
                    self.out.paint(format!("{k}:"), Style::Dim)
                ))?;
            }
        }
        Ok(())
    }

    fn summary(&mut self, s: &SequenceSummary) -> Result<()> {
        if !s.problems.is_empty() {
            self.bad_sequences += 1;
        }
        if self.out.json() {
            self.out.json_line(s)?;
            return Ok(());
        }
        let o = self.out;
        let range = match (s.first, s.last) {
            (Some(a), Some(b)) => shotline_frames::Run::span(a, b).to_string(),
            _ => "-".into(),
        };
        o.line(format!(
            "{} {}  {}  ({} frames{})",
            o.paint("sequence", Style::Bold),
            o.paint(&s.pattern, Style::Cyan),
            range,
            s.frames,
            if s.missing_count > 0 {
                format!(", {} missing: {}", s.missing_count, s.missing)
            } else {
                String::new()
            }
        ))?;
        o.line(format!(
            "  status       {} ok, {} truncated, {} corrupt, {} unreadable",
            s.ok, s.truncated, s.corrupt, s.unreadable
        ))?;
        for (name, segs) in [
            ("resolution", &s.resolution),
            ("channels", &s.channels),
            ("compression", &s.compression),
            ("fps", &s.fps),
        ] {
            if segs.is_empty() {
                continue;
            }
            let text = if segs.len() == 1 {
                segs[0].value.clone()
            } else {
                segs.iter()
                    .take(10)
                    .map(|g| {
                        format!(
                            "{} {}",
                            shotline_frames::Run::span(g.first, g.last),
                            g.value
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            o.line(format!("  {name:<12} {text}"))?;
        }
        if let (Some(a), Some(b)) = (&s.timecode_start, &s.timecode_end) {
            o.line(format!(
                "  timecode     {a} → {b}{}",
                if s.timecode_jump_count > 0 {
                    format!(", {} jump(s)", s.timecode_jump_count)
                } else {
                    String::new()
                }
            ))?;
        }
        if s.problems.is_empty() {
            o.line(format!("  {}", o.paint("no problems", Style::Green)))?;
        }
        for p in &s.problems {
            o.line(format!("  {} {p}", o.paint("problem:", Style::Red)))?;
        }
        Ok(())
    }

    fn finish(&self) -> Result<Exit> {
        let StatusCounts {
            ok,
            truncated,
            corrupt,
            unreadable,
        } = self.counts;
        let total = self.counts.total();
        if self.skipped > 0 {
            self.out.note(format!(
                "skipped {} file(s) that are not images or movies",
                self.skipped
            ));
        }
        self.out.note(format!(
            "{total} file(s): {ok} ok, {truncated} truncated, {corrupt} corrupt, {unreadable} unreadable ({:.2} s)",
            self.started.elapsed().as_secs_f64()
        ));
        Ok(Exit::problems_if(ok != total || self.bad_sequences > 0))
    }
}

/// The kind of a sequence's frames, from its tail (`.exr`, `_v1.dpx`).
fn fps_text(fps: f64) -> String {
    let r = (fps * 1000.0).round() / 1000.0;
    format!("{r}")
}

/// `RGBA half`, `R,G,B,A uint10`, or `12 ch mixed` for wide layouts.
fn channels_text(info: &MediaInfo) -> String {
    let ch = &info.channels;
    if ch.is_empty() {
        return "-".into();
    }
    let uniform = ch.iter().all(|c| c.sample_type == ch[0].sample_type);
    let ty = if uniform {
        ch[0].sample_type.as_str()
    } else {
        "mixed"
    };
    let names: Vec<&str> = ch.iter().map(|c| c.name.as_str()).collect();
    let joined = if names.iter().all(|n| n.len() == 1) {
        names.concat()
    } else {
        names.join(",")
    };
    let text = format!("{joined} {ty}");
    if text.chars().count() <= 18 {
        text
    } else {
        format!("{} ch {ty}", ch.len())
    }
}

/// The `--long` lines under a file: everything the table row leaves out.
fn details(info: &MediaInfo) -> Vec<(String, String)> {
    let mut d: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| d.push((k.to_string(), v));
    put("size", crate::output::human_bytes(info.size));
    if let Some(w) = info.data_window {
        put("data window", w.to_string());
    }
    if let Some(w) = info.display_window {
        put("display window", w.to_string());
    }
    if let Some(p) = info.pixel_aspect {
        put("pixel aspect", format!("{p}"));
    }
    if let Some(b) = info.bit_depth {
        put("bit depth", b.to_string());
    }
    if let Some(t) = info.tiled {
        put("storage", if t { "tiled" } else { "scanline" }.to_string());
    }
    if info.deep == Some(true) {
        put("deep", "yes".into());
    }
    if let Some(n) = info.parts {
        put("parts", n.to_string());
    }
    for p in &info.part_list {
        put(
            "part",
            format!(
                "{} {} {} {} ({} chunks)",
                p.name.as_deref().unwrap_or("-"),
                p.part_type,
                p.data_window,
                p.compression,
                p.chunks
            ),
        );
    }
    if info.channels.len() > 1 {
        let list: Vec<String> = info
            .channels
            .iter()
            .map(|c| format!("{}:{}", c.name, c.sample_type))
            .collect();
        put("channels", list.join(" "));
    }
    if let Some(r) = info.fps_rational {
        put("fps", r.to_string());
    }
    if let Some(n) = info.frame_count {
        put("frames", n.to_string());
    }
    if let Some(s) = info.duration {
        put("duration", format!("{s:.3} s"));
    }
    for (k, v) in &info.colour {
        put(&format!("colour {k}"), v.clone());
    }
    for (k, v) in &info.metadata {
        put(k, v.clone());
    }
    d
}
