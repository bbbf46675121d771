//! shotline-review: review movies from published frames.
//!
//! ffmpeg is the encoder; this crate decides what it is asked to do. The flow reads as its
//! steps: [`select`] the version, [`prepare`] the work folder (frame links with missing frames
//! held, slate and burn-in texts, font, baked LUT, filter graph, arguments), [`encode`] (ffmpeg
//! with progress and a timeout, into temp names beside the output, then fsync and a
//! no-replace rename), and [`register`] the movie as a version with resource `review` that
//! `uses` the frames it was made from.
//!
//! Frames that are not published (a render job's output, see [`Source::Frames`]) take the
//! encode-only path: the same movie, with the slate facts given by the caller, and nothing
//! registered ([`Encoded::report`] is the result).

#![warn(missing_docs)]

mod colour;
mod error;
mod font;
mod graph;
mod preset;
mod run;
mod select;
mod text;
mod timecode;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use shotline_config::{FpsSource, ReviewCodec, ReviewConfig};
use shotline_frames::{FrameSet, Run};
use shotline_layout::VersionNumber;
use shotline_store::{Actor, Files, NewVersion, Project, Shot, State, Store, Version};

pub use colour::{view_colourspace, ColourStep, SourceEncoding};
pub use error::{Result, ReviewError};
pub use graph::{Rate, Size, Slot};
pub use preset::{
    codec_name, default_burnins, pix_fmt_name, resolve as resolve_preset, Preset, BUILTIN,
};
pub use select::{published_at, select, Selector};
pub use text::Fields;
pub use timecode::Timecode;

/// The resource review movies are registered under.
pub const RESOURCE: &str = "review";

/// Most frames one movie may hold: a bound on the links and the work, whatever the store says.
pub const MAX_FRAMES: u64 = 1_000_000;

/// Where the frames come from, and who vouches for the slate's facts.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A published version: slate facts from the store, the movie registered after the encode.
    Version(&'a Version),
    /// Frames that are not published (a render job's output): slate facts from the caller,
    /// the movie encoded only (never registered: there is no version for it to use).
    Frames(&'a Unpublished),
}

/// Frames on disk that no version holds, and what their slate says.
#[derive(Debug, Clone, PartialEq)]
pub struct Unpublished {
    /// The frames: a pattern path (`/proj/renders/SH010/comp/SH010_comp.%04d.exr`).
    pub pattern: PathBuf,
    /// Shot (or asset) code; a render job's name when it names no shot.
    pub item: String,
    /// Step code (may be empty).
    pub step: String,
    /// What stands for the version on the slate and in the default name (`job12`).
    pub label: String,
    /// Who made them (the render job's submitter).
    pub artist: String,
    /// When (`YYYY-MM-DD`).
    pub date: String,
    /// A comment for the slate.
    pub comment: String,
}

impl Source<'_> {
    /// The frames' pattern path.
    fn pattern_path(&self) -> PathBuf {
        match self {
            Source::Version(v) => Path::new(&v.files.dir).join(&v.files.pattern),
            Source::Frames(u) => u.pattern.clone(),
        }
    }

    /// The published version, if any.
    fn version(&self) -> Option<&Version> {
        match self {
            Source::Version(v) => Some(v),
            Source::Frames(_) => None,
        }
    }
}

/// What to make a movie of, and how.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The frames shown.
    pub source: Source<'a>,
    /// Its shot, when it is a shot (rate, timecode in).
    pub shot: Option<&'a Shot>,
    /// The project (resolution, rate, code).
    pub project: &'a Project,
    /// The preset.
    pub preset: Preset,
    /// `review:` settings.
    pub config: &'a ReviewConfig,
    /// Where relative paths in the config are resolved from (the project root).
    pub base_dir: &'a Path,
    /// The movie to write; `None` for `<frames folder>/../review/<name>`.
    pub output: Option<PathBuf>,
}

impl Inputs<'_> {
    /// The version shown, when the frames are published.
    pub fn version(&self) -> Option<&Version> {
        self.source.version()
    }
}

/// A movie ready to encode: the work folder with everything ffmpeg reads, and the facts the
/// report and the registration need.
#[derive(Debug)]
pub struct Prepared {
    work: tempfile::TempDir,
    ffmpeg: PathBuf,
    args: Vec<String>,
    timeout: Duration,
    movie_tmp: tempfile::TempPath,
    thumb_tmp: tempfile::TempPath,
    /// The report as it will be once written.
    pub report: Report,
    source: Option<Version>,
    rate: Rate,
    /// Last, so the temp files above are gone before it removes the folders it made.
    created: CreatedDirs,
}

/// Folders made for the output, removed again (when empty) if the movie never lands in them:
/// a failed encode leaves nothing behind.
#[derive(Debug)]
struct CreatedDirs {
    /// Deepest first.
    dirs: Vec<PathBuf>,
}

impl CreatedDirs {
    /// Creates `dir` and the missing folders above it, remembering which were missing.
    fn create(dir: &Path) -> Result<CreatedDirs> {
        let mut dirs = Vec::new();
        let mut d = Some(dir);
        while let Some(p) = d.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
            dirs.push(p.to_path_buf());
            d = p.parent();
        }
        std::fs::create_dir_all(dir).map_err(error::io("create folder", dir))?;
        Ok(CreatedDirs { dirs })
    }

    /// The movie is in place: the folders stay.
    fn keep(mut self) {
        self.dirs.clear();
    }
}

impl Drop for CreatedDirs {
    fn drop(&mut self) {
        for d in &self.dirs {
            // Only empty folders go; anything someone else put there stays.
            if std::fs::remove_dir(d).is_err() {
                break;
            }
        }
    }
}

/// The `--json` report (documented in `docs/review.md`; fields are only ever added).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The movie.
    pub output: PathBuf,
    /// The thumbnail (middle frame, JPEG) beside it.
    pub thumbnail: PathBuf,
    /// Preset name.
    pub preset: String,
    /// Codec and profile.
    pub codec: &'static str,
    /// Pixel format.
    pub pix_fmt: &'static str,
    /// Movie width.
    pub width: u32,
    /// Movie height.
    pub height: u32,
    /// Frames per second (as a fraction, `24000/1001`).
    pub fps: String,
    /// Frames shown, first to last (FrameSet spelling).
    pub frames: String,
    /// Frames in the movie (shown frames, plus one for the slate).
    pub movie_frames: u64,
    /// Whether the first frame is a slate.
    pub slate: bool,
    /// Frames missing on disk, held from the previous frame (FrameSet spelling; empty when none).
    pub missing: String,
    /// Timecode of the first picture frame (the slate sits one frame before it).
    pub timecode: String,
    /// How the frames were turned into display colour.
    pub colour: String,
    /// Id of the version the movie was made from; `null` for unpublished frames (a render
    /// job's review, encoded only).
    pub source_version: Option<i64>,
    /// The frames the movie was made from (pattern path).
    pub source_frames: PathBuf,
    /// The movie's own version, once registered.
    pub version: Option<Registered>,
}

/// The registered review version.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    /// Version id.
    pub id: i64,
    /// `v001`.
    pub label: String,
    /// Always `review`.
    pub resource: String,
}

/// The frames of a version on disk: what is there, what is missing, how to name each.
struct Frames {
    pattern: shotline_sequences::SequencePattern,
    present: FrameSet,
    missing: FrameSet,
    first: i64,
    last: i64,
}

fn find_frames(full: &Path) -> Result<Frames> {
    let shown = full.display().to_string();
    let pattern =
        shotline_sequences::parse_pattern_path(full).map_err(|e| ReviewError::Invalid {
            what: "frames pattern",
            value: shown.clone(),
            expected: e.to_string(),
        })?;
    let seq = shotline_sequences::find_on_disk(&pattern).map_err(|e| ReviewError::Io {
        action: "list",
        path: pattern.dir.clone(),
        error: std::io::Error::other(e.to_string()),
    })?;
    let (Some(first), Some(last)) = (seq.frames.min(), seq.frames.max()) else {
        return Err(ReviewError::NoFrames { pattern: shown });
    };
    let span = u64::try_from(i128::from(last) - i128::from(first) + 1).unwrap_or(u64::MAX);
    if span > MAX_FRAMES {
        return Err(ReviewError::Invalid {
            what: "frame range",
            value: Run::span(first, last).to_string(),
            expected: format!("at most {MAX_FRAMES} frames in one review movie"),
        });
    }
    Ok(Frames {
        pattern,
        present: seq.frames,
        missing: seq.missing,
        first,
        last,
    })
}

/// Links frame `i` of the movie to its file (a missing frame to the previous present one), so
/// ffmpeg reads one gap-free numbered sequence and every path it sees is a fixed name.
fn link_frames(frames: &Frames, work: &Path, ext: &str) -> Result<()> {
    let mut held = frames.pattern.frame_path(frames.first);
    for (i, f) in (frames.first..=frames.last).enumerate() {
        if frames.present.contains(f) {
            held = frames.pattern.frame_path(f);
        }
        let link = work.join(format!("f{i:08}.{ext}"));
        symlink(&held, &link)?;
    }
    Ok(())
}

fn symlink(target: &Path, link: &Path) -> Result<()> {
    #[cfg(unix)]
    let r = std::os::unix::fs::symlink(target, link);
    #[cfg(not(unix))]
    let r = std::fs::copy(target, link).map(|_| ());
    r.map_err(error::io("link", link))
}

fn middle_frame(frames: &Frames) -> i64 {
    frames
        .present
        .iter()
        .nth((frames.present.len() / 2) as usize)
        .unwrap_or(frames.first)
}

fn movie_rate(inputs: &Inputs<'_>) -> Result<Rate> {
    let fps = match (inputs.preset.fps, inputs.shot.and_then(|s| s.fps)) {
        (FpsSource::Shot, Some(f)) => f,
        _ => inputs.project.fps,
    };
    Rate::from_fps(fps).ok_or_else(|| ReviewError::Invalid {
        what: "frame rate",
        value: fps.to_string(),
        expected: "1-1000 frames per second".into(),
    })
}

/// The first picture frame's timecode: the frames' own header, else the shot's timecode in
/// moved to the first frame, else midnight.
fn start_timecode(
    inputs: &Inputs<'_>,
    header: Option<&str>,
    first: i64,
    rate: u32,
) -> Result<Timecode> {
    let recorded = match inputs.version() {
        Some(v) => v.files.timecode.as_deref(),
        None => header,
    };
    if let Some(tc) = recorded.filter(|t| !t.is_empty()) {
        return Timecode::parse(tc, rate);
    }
    if let Some(shot) = inputs.shot {
        if let Some(tc) = shot.timecode_in.as_deref().filter(|t| !t.is_empty()) {
            let delta = first.saturating_sub(shot.frame_in);
            return Ok(Timecode::parse(tc, rate)?.offset(delta));
        }
    }
    Ok(Timecode::zero(rate))
}

fn target_size(inputs: &Inputs<'_>) -> Result<Size> {
    let p = inputs.project;
    let chroma_even = !matches!(
        inputs.preset.pix_fmt,
        shotline_config::PixFmt::Yuv444p10le | shotline_config::PixFmt::Yuva444p10le
    );
    if p.width == 0 || p.height == 0 || (chroma_even && (p.width % 2 == 1 || p.height % 2 == 1)) {
        return Err(ReviewError::Invalid {
            what: "project resolution",
            value: format!("{}x{}", p.width, p.height),
            expected: format!(
                "even, non-zero sizes for {}",
                pix_fmt_name(inputs.preset.pix_fmt)
            ),
        });
    }
    Ok(Size {
        w: p.width,
        h: p.height,
    })
}

fn source_size(
    first: &Path,
    info: &shotline_media::MediaInfo,
    v: Option<&Version>,
) -> Result<Size> {
    let w = info
        .width
        .and_then(|w| u32::try_from(w).ok())
        .or(v.and_then(|v| v.files.width));
    let h = info
        .height
        .and_then(|h| u32::try_from(h).ok())
        .or(v.and_then(|v| v.files.height));
    match (w, h) {
        (Some(w), Some(h)) if w > 0 && h > 0 => Ok(Size { w, h }),
        _ => Err(ReviewError::Invalid {
            what: "frame size",
            value: first.display().to_string(),
            expected: "a readable image header with a width and height".into(),
        }),
    }
}

/// First to last frame: missing frames are shown (held), so they are part of the movie's range.
fn shown_range(frames: &Frames) -> Result<FrameSet> {
    let span = Run::span(frames.first, frames.last);
    FrameSet::from_runs([span]).map_err(|e| ReviewError::Invalid {
        what: "frame range",
        value: span.to_string(),
        expected: e.to_string(),
    })
}

fn fields(inputs: &Inputs<'_>, frames: &Frames) -> Result<Fields> {
    let v = match inputs.source {
        Source::Version(v) => v,
        Source::Frames(u) => {
            return Ok(Fields {
                project: inputs.project.code.clone(),
                shot: u.item.clone(),
                step: u.step.clone(),
                version: u.label.clone(),
                artist: u.artist.clone(),
                date: u.date.clone(),
                range: shown_range(frames)?,
                comment: u.comment.clone(),
            })
        }
    };
    let version = VersionNumber::from_i64(v.number)
        .map(|n| n.to_string())
        .ok_or_else(|| ReviewError::Invalid {
            what: "version number",
            value: v.number.to_string(),
            expected: "a number from 1".into(),
        })?;
    let step = if v.resource.is_empty() {
        v.step.clone()
    } else {
        format!("{}/{}", v.step, v.resource)
    };
    Ok(Fields {
        project: inputs.project.code.clone(),
        shot: v.item.code.clone(),
        step,
        version,
        artist: v.author.clone(),
        date: v.created_at.chars().take(10).collect(),
        range: shown_range(frames)?,
        comment: v.comment.clone(),
    })
}

/// `<frames folder>/../review/<ITEM>_<STEP>[_<RES>]_<vNNN>_<preset>.<ext>` (unpublished
/// frames: `<ITEM>[_<STEP>]_<label>_<preset>.<ext>`), every part checked.
fn default_output(inputs: &Inputs<'_>, fields: &Fields) -> Result<PathBuf> {
    let pattern = inputs.source.pattern_path();
    let frames_dir = pattern.parent().unwrap_or(Path::new("."));
    let parent = frames_dir.parent().unwrap_or(frames_dir);
    let mut name = fields.shot.clone();
    for part in match inputs.source {
        Source::Version(v) => [v.step.as_str(), v.resource.as_str()],
        Source::Frames(u) => [u.step.as_str(), ""],
    } {
        if !part.is_empty() {
            name = format!("{name}_{part}");
        }
    }
    let name = format!(
        "{name}_{}_{}.{}",
        fields.version,
        inputs.preset.name,
        inputs.preset.extension()
    );
    shotline_layout::check_component("review movie name", &name)?;
    let out = parent.join(RESOURCE).join(name);
    shotline_layout::check_inside(parent, &out)?;
    Ok(out)
}

/// Smallest picture DNxHR encodes (ffmpeg's `dnxhd` refuses smaller ones).
const DNXHR_MIN: Size = Size { w: 256, h: 120 };

/// Sizes the encoder refuses, caught before ffmpeg starts, naming the preset and the limit.
fn check_encoder_size(preset: &Preset, size: Size) -> Result<()> {
    if preset.codec == ReviewCodec::DnxhrHq && (size.w < DNXHR_MIN.w || size.h < DNXHR_MIN.h) {
        return Err(ReviewError::BadPreset {
            preset: preset.name.clone(),
            problem: format!(
                "DNxHR encodes pictures of at least {}x{}; the movie would be {}x{} (raise the project resolution or choose another preset)",
                DNXHR_MIN.w, DNXHR_MIN.h, size.w, size.h
            ),
        });
    }
    Ok(())
}

fn check_output(out: &Path, preset: &Preset) -> Result<()> {
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ok = match preset.codec {
        ReviewCodec::H264 => ext == "mp4" || ext == "mov",
        _ => ext == "mov",
    };
    if !ok {
        return Err(ReviewError::Invalid {
            what: "output",
            value: out.display().to_string(),
            expected: format!(
                "a .{} file for {}",
                preset.extension(),
                codec_name(preset.codec)
            ),
        });
    }
    for p in [out.to_path_buf(), out.with_extension("jpg")] {
        if p.exists() {
            return Err(ReviewError::Exists(p));
        }
    }
    Ok(())
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(error::io("write", path))
}

fn resolve_path(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Everything before the encode: frames found and linked, texts, font and LUT in the work
/// folder, the graph and the arguments built, the output checked and temp names taken.
pub fn prepare(inputs: &Inputs<'_>) -> Result<Prepared> {
    let frames = find_frames(&inputs.source.pattern_path())?;
    let first_path = frames.pattern.frame_path(frames.first);
    let ext = first_path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    shotline_layout::check_component("frame extension", &ext)?;
    let rate = movie_rate(inputs)?;
    let header = shotline_media::probe(&first_path);
    let start = start_timecode(
        inputs,
        header.timecode.as_deref(),
        frames.first,
        rate.nominal(),
    )?;
    let target = target_size(inputs)?;
    let source = source_size(&first_path, &header, inputs.version())?;
    let fields = fields(inputs, &frames)?;
    let output = match &inputs.output {
        Some(o) => o.clone(),
        None => default_output(inputs, &fields)?,
    };
    check_output(&output, &inputs.preset)?;
    let out_dir = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));

    let work = tempfile::Builder::new()
        .prefix("shotline-review-")
        .tempdir()
        .map_err(error::io("create a work folder in", &std::env::temp_dir()))?;
    let wd = work.path();
    let input = frame_input(&frames, wd, &ext)?;
    symlink(
        &frames.pattern.frame_path(middle_frame(&frames)),
        &wd.join(format!("still.{ext}")),
    )?;
    let font = font::find(
        inputs
            .config
            .font
            .as_ref()
            .map(|f| resolve_path(inputs.base_dir, f))
            .as_deref(),
    )?;
    symlink(&font, &wd.join("font.ttf"))?;

    let baked = match &inputs.config.ocio {
        Some(o) => Some(colour::bake(
            &resolve_tool(inputs.base_dir, &inputs.config.ociobakelut),
            o,
            &resolve_path(inputs.base_dir, &o.config),
            wd,
        )?),
        None => None,
    };
    let encoding = colour::source_encoding(&first_path);
    let colour = colour::plan(&encoding, inputs.config.display, baked.as_ref())?;

    let counter = text::Counter {
        first_frame: frames.first,
        start,
    };
    let shown = u64::try_from(frames.last - frames.first + 1).unwrap_or(MAX_FRAMES);
    let movie_frames = shown + u64::from(inputs.preset.slate);
    let burnins = write_burnins(&inputs.preset, &fields, counter, wd)?;
    if inputs.preset.slate {
        write_text(
            &wd.join("slate.txt"),
            &text::slate_text(&fields, counter, shown, rate.as_f64()),
        )?;
    }
    let spec = graph::GraphSpec {
        source,
        target,
        size: inputs.preset.size,
        colour: colour.clone(),
        rate,
        slate: inputs.preset.slate,
        burnins,
        pix_fmt: pix_fmt_name(inputs.preset.pix_fmt),
    };
    write_text(&wd.join("graph.txt"), &graph::filter_graph(&spec))?;
    let out_size = graph::output_size(&spec);
    check_encoder_size(&inputs.preset, out_size)?;

    let created = CreatedDirs::create(out_dir)?;
    let movie_tmp = temp_in(out_dir, &format!(".{}", inputs.preset.extension()))?;
    let thumb_tmp = temp_in(out_dir, ".jpg")?;
    let movie_tc = if inputs.preset.slate {
        start.offset(-1)
    } else {
        start
    };
    let args = ffmpeg_args(
        &input,
        &ext,
        rate,
        &colour,
        &inputs.preset,
        movie_frames,
        movie_tc,
        &movie_tmp,
        &thumb_tmp,
    );
    let report = Report {
        thumbnail: output.with_extension("jpg"),
        output,
        preset: inputs.preset.name.clone(),
        codec: codec_name(inputs.preset.codec),
        pix_fmt: pix_fmt_name(inputs.preset.pix_fmt),
        width: out_size.w,
        height: out_size.h,
        fps: rate.to_string(),
        frames: fields.range.to_string(),
        movie_frames,
        slate: inputs.preset.slate,
        missing: frames.missing.to_string(),
        timecode: start.to_string(),
        colour: colour_label(&colour, inputs.config),
        source_version: inputs.version().map(|v| v.id),
        source_frames: inputs.source.pattern_path(),
        version: None,
    };
    Ok(Prepared {
        work,
        ffmpeg: resolve_tool(inputs.base_dir, &inputs.config.ffmpeg),
        args,
        timeout: Duration::from_secs(inputs.config.timeout_secs.max(1)),
        movie_tmp,
        thumb_tmp,
        report,
        source: inputs.version().cloned(),
        rate,
        created,
    })
}

/// A bare tool name stays a name (looked up on `PATH`); a path is resolved like other paths.
fn resolve_tool(base: &Path, tool: &Path) -> PathBuf {
    if tool.components().count() == 1 {
        tool.to_path_buf()
    } else {
        resolve_path(base, tool)
    }
}

fn colour_label(step: &ColourStep, cfg: &ReviewConfig) -> String {
    match (step, &cfg.ocio) {
        (ColourStep::Lut(_), Some(o)) => format!("ocio {} -> {}/{}", o.input, o.display, o.view),
        (ColourStep::DecoderTrc(t), _) => format!("linear -> {t}"),
        (ColourStep::Curve(_), _) => format!("linear -> {:?}", cfg.display).to_lowercase(),
        _ => "none (display-referred frames)".into(),
    }
}

fn temp_in(dir: &Path, suffix: &str) -> Result<tempfile::TempPath> {
    shotline_fsio::temp_builder(".shotline-review-")
        .suffix(suffix)
        .tempfile_in(dir)
        .map(tempfile::NamedTempFile::into_temp_path)
        .map_err(error::io("create a temp file in", dir))
}

fn write_burnins(
    preset: &Preset,
    f: &Fields,
    c: text::Counter,
    wd: &Path,
) -> Result<Vec<(Slot, String)>> {
    let b = &preset.burnins;
    let slots = [
        (Slot::TopLeft, &b.top_left),
        (Slot::TopCentre, &b.top_centre),
        (Slot::TopRight, &b.top_right),
        (Slot::BottomLeft, &b.bottom_left),
        (Slot::BottomCentre, &b.bottom_centre),
        (Slot::BottomRight, &b.bottom_right),
    ];
    let mut out = Vec::new();
    for (i, (slot, template)) in slots.into_iter().enumerate() {
        let Some(t) = template else { continue };
        if t.as_str().is_empty() {
            continue;
        }
        let text = text::burnin_text(t, f, c);
        // drawtext refuses an empty text (an empty `{comment}`): the slot is simply left out.
        if text.trim().is_empty() {
            continue;
        }
        let name = format!("slot{i}.txt");
        write_text(&wd.join(&name), &text)?;
        out.push((slot, name));
    }
    Ok(out)
}

/// The picture frames as ffmpeg's image2 demuxer reads them.
#[derive(Debug, Clone, PartialEq)]
struct FrameInput {
    /// `-start_number`.
    start_number: i64,
    /// The printf-style pattern (`%` of the path itself doubled).
    pattern: String,
}

/// Frames with no gap (non-negative numbers, an absolute folder) are read in place, straight from their own
/// pattern: no work per frame at all, so shotline's own time stays negligible next to the
/// encode (linking and later unlinking 500 names cost seconds on a busy disk). Otherwise each
/// movie frame is linked in the work folder, a missing frame to the one before it.
fn frame_input(frames: &Frames, work: &Path, ext: &str) -> Result<FrameInput> {
    let p = &frames.pattern;
    let direct = match (p.head.to_str(), p.tail.to_str(), p.dir.to_str()) {
        (Some(head), Some(tail), Some(dir))
            if frames.missing.is_empty() && frames.first >= 0 && p.dir.is_absolute() =>
        {
            let token = if p.padding > 1 {
                format!("%0{}d", p.padding)
            } else {
                "%d".to_string()
            };
            let esc = |t: &str| t.replace('%', "%%");
            Some(FrameInput {
                start_number: frames.first,
                pattern: Path::new(&esc(dir))
                    .join(format!("{}{token}{}", esc(head), esc(tail)))
                    .display()
                    .to_string(),
            })
        }
        _ => None,
    };
    if let Some(d) = direct {
        return Ok(d);
    }
    link_frames(frames, work, ext)?;
    Ok(FrameInput {
        start_number: 0,
        pattern: format!("f%08d.{ext}"),
    })
}

#[allow(clippy::too_many_arguments)]
fn ffmpeg_args(
    input: &FrameInput,
    ext: &str,
    rate: Rate,
    colour: &ColourStep,
    preset: &Preset,
    movie_frames: u64,
    movie_tc: Timecode,
    movie: &Path,
    thumb: &Path,
) -> Vec<String> {
    let mut a: Vec<String> = vec!["-y".into()];
    let trc: Vec<String> = match colour {
        ColourStep::DecoderTrc(t) => vec!["-apply_trc".into(), (*t).into()],
        _ => Vec::new(),
    };
    a.extend([
        "-framerate".into(),
        rate.to_string(),
        "-start_number".into(),
        input.start_number.to_string(),
    ]);
    a.extend(trc.iter().cloned());
    a.extend(["-i".into(), input.pattern.clone()]);
    a.extend(trc);
    a.extend(["-i".into(), format!("still.{ext}")]);
    a.extend(["-filter_complex_script".into(), "graph.txt".into()]);
    a.extend([
        "-map".into(),
        "[movie]".into(),
        "-frames:v".into(),
        movie_frames.to_string(),
    ]);
    a.extend(preset.encoder_args());
    a.extend(["-timecode".into(), movie_tc.to_string()]);
    a.extend([
        "-f".into(),
        if preset.extension() == "mp4" {
            "mp4"
        } else {
            "mov"
        }
        .into(),
    ]);
    a.push(movie.display().to_string());
    a.extend([
        "-map".into(),
        "[thumb]".into(),
        "-frames:v".into(),
        "1".into(),
        "-update".into(),
        "1".into(),
    ]);
    a.extend(["-c:v".into(), "mjpeg".into(), "-f".into(), "image2".into()]);
    a.push(thumb.display().to_string());
    a
}

/// The encoded movie and thumbnail, in place.
#[derive(Debug)]
pub struct Encoded {
    /// The report (without the registration yet).
    pub report: Report,
    source: Option<Version>,
    bytes: u64,
    rate: Rate,
}

/// Runs the encode, then moves the movie and thumbnail into place atomically (fsync, a rename
/// that never replaces, fsync of the folder). Nothing is left at the output on failure.
pub fn encode(p: Prepared, on_frame: impl FnMut(u64)) -> Result<Encoded> {
    run::ffmpeg(&p.ffmpeg, &p.args, p.work.path(), p.timeout, on_frame)?;
    let out = &p.report.output;
    publish_file(p.movie_tmp, out)?;
    p.created.keep();
    publish_file(p.thumb_tmp, &p.report.thumbnail)?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    drop(p.work);
    Ok(Encoded {
        report: p.report,
        source: p.source,
        bytes,
        rate: p.rate,
    })
}

fn publish_file(tmp: tempfile::TempPath, to: &Path) -> Result<()> {
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(error::io("fsync", &tmp))?;
    match shotline_fsio::rename_noreplace(&tmp, to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(ReviewError::Exists(to.to_path_buf()))
        }
        Err(e) => return Err(error::io("rename into", to)(e)),
    }
    // Renamed: nothing left to delete.
    let _ = tmp.keep();
    let dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    shotline_fsio::sync_dir(dir)?;
    Ok(())
}

/// Registers the movie as the next `review` version of the same item and step, using the
/// source version, with its manifest beside the movie. A movie of unpublished frames has no
/// version to use and is refused (take [`Encoded::report`] instead).
pub fn register(store: &mut Store, actor: &Actor, e: Encoded) -> Result<Report> {
    let Some(source) = e.source.clone() else {
        return Err(ReviewError::Invalid {
            what: "frames",
            value: e.report.source_frames.display().to_string(),
            expected: "frames published as a version to register a review movie of".into(),
        });
    };
    let out = &e.report.output;
    let dir = out.parent().unwrap_or(Path::new("."));
    let dir = dir.canonicalize().map_err(error::io("resolve", dir))?;
    let range = FrameSet::parse(&e.report.frames).unwrap_or_default();
    let files = Files {
        dir: dir.to_string_lossy().into_owned(),
        pattern: out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        first_frame: range.min(),
        last_frame: range.max(),
        frame_range: e.report.frames.clone(),
        missing_frames: e.report.missing.clone(),
        width: Some(e.report.width),
        height: Some(e.report.height),
        fps: Some(e.rate.as_f64()),
        timecode: Some(e.report.timecode.clone()),
        bytes: i64::try_from(e.bytes).unwrap_or(i64::MAX),
        file_count: 1,
        checksum: None,
    };
    let v = store.publish(
        actor,
        NewVersion {
            item: source.item.clone(),
            step: source.step.clone(),
            resource: RESOURCE.into(),
            number: None,
            state: State::Review,
            files,
            comment: format!(
                "review movie ({}) of {} id {}",
                e.report.preset,
                VersionNumber::from_i64(source.number)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                source.id
            ),
            source: RESOURCE.into(),
            uses: vec![source.id],
            tags: vec![e.report.preset.clone()],
        },
    )?;
    let mut report = e.report;
    report.version = Some(Registered {
        id: v.id,
        label: VersionNumber::from_i64(v.number)
            .map(|n| n.to_string())
            .unwrap_or_default(),
        resource: v.resource,
    });
    Ok(report)
}
