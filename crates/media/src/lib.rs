//! Media probing for shotline: read image headers natively (OpenEXR, DPX, Cineon, TIFF, PNG, JPEG,
//! TGA, Radiance HDR) and movies through ffprobe, and judge each file's integrity — `ok`,
//! `truncated`, `corrupt` or `unreadable` — without decoding a single pixel.
//!
//! Why: studio tools spawn ffprobe per frame (seconds per thousand frames) and still cannot tell a
//! half-written EXR from a good one. Here a frame costs one open and one bounded read of its first
//! 64 KiB, plus a positioned read of the offset table/last chunk when they lie beyond it.
//!
//! - [`probe`] / [`probe_with`]: one file in, one [`MediaInfo`] out. Never panics, never reads
//!   unbounded amounts, never fails: problems become the `status` and `reason`.
//! - [`probe_batch`]: many files in parallel (rayon), results delivered in input order, memory
//!   bounded by the batch size.
//! - [`sequence::probe_sequence`]: every frame of a [`shotline_sequences::Sequence`] plus a
//!   [`sequence::SequenceSummary`] (missing frames, changes of resolution/channels/compression,
//!   fps consistency, timecode continuity).
//!
//! ```no_run
//! let info = shotline_media::probe("plate.1001.exr");
//! if !info.status.is_ok() {
//!     eprintln!("{}: {} ({})", info.path.display(), info.status, info.reason.unwrap_or_default());
//! }
//! ```

#![warn(missing_docs)]

mod cineon;
mod dpx;
mod exr;
#[cfg(test)]
mod fuzz;
mod hdr;
mod info;
mod jpeg;
pub mod kinds;
mod movie;
mod png;
pub mod sequence;
mod source;
mod targets;
#[cfg(any(test, feature = "testdata"))]
pub mod testdata;
#[cfg(test)]
mod tests;
mod tga;
mod tiff;
mod timecode;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;

pub use info::{Channel, Format, MediaInfo, Part, Rational, Status, StatusCounts, Window};
pub use kinds::{FileKind, ImageFormat, IMAGE_EXTENSIONS, MOVIE_EXTENSIONS};
pub use movie::resolve_executable;
pub use targets::{walk_media, DirMedia, MediaEvent, ProbeTarget, TargetError};
pub use timecode::{nominal_rate, Timecode};

use source::{Fail, Source};

/// How probing behaves; built from the `probe:` config section.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The ffprobe executable resolved on `PATH` (or as configured); `None` when not found, in
    /// which case movies come back `unreadable` with [`ProbeOptions::ffprobe_missing`] as reason.
    pub ffprobe: Option<PathBuf>,
    /// The ffprobe setting as configured, for messages.
    pub ffprobe_configured: PathBuf,
    /// Longest one ffprobe run may take.
    pub ffprobe_timeout: Duration,
    /// Files probed in parallel per batch (memory bound of [`probe_batch`]).
    pub batch_size: usize,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        ProbeOptions::from_config(&shotline_config::ProbeConfig::default(), &cwd)
    }
}

impl ProbeOptions {
    /// Options from the `probe:` config section; a relative ffprobe path with a directory part is
    /// resolved against `base_dir` (the project root), a bare name is looked up on `PATH`.
    pub fn from_config(cfg: &shotline_config::ProbeConfig, base_dir: &Path) -> ProbeOptions {
        let configured = cfg.ffprobe.clone();
        let candidate = if configured.is_relative() && configured.components().count() > 1 {
            base_dir.join(&configured)
        } else {
            configured.clone()
        };
        ProbeOptions {
            ffprobe: resolve_executable(&candidate),
            ffprobe_configured: configured,
            ffprobe_timeout: Duration::from_secs(
                cfg.ffprobe_timeout_secs
                    .clamp(1, shotline_config::MAX_FFPROBE_TIMEOUT_SECS),
            ),
            batch_size: cfg.batch_size.clamp(1, shotline_config::MAX_BATCH_SIZE),
        }
    }

    /// The reason given to movies when ffprobe is missing (`None` when it was found).
    pub fn ffprobe_missing(&self) -> Option<String> {
        self.ffprobe.is_none().then(|| {
            format!(
                "ffprobe not found or not executable (probe.ffprobe is {:?}); install ffmpeg or set probe.ffprobe in shotline.yaml",
                self.ffprobe_configured
            )
        })
    }
}

/// The format a file name suggests, from its extension (case-insensitive; see [`kinds`]).
pub fn format_from_extension(path: &Path) -> Option<Format> {
    FileKind::of_path(path).format()
}

/// True when the extension is one the prober handles (images or movies): what directory probes
/// look at.
pub fn is_media_path(path: &Path) -> bool {
    FileKind::of_path(path).is_media()
}

/// The format the first bytes announce, if any.
fn format_from_magic(head: &[u8]) -> Option<Format> {
    let starts = |m: &[u8]| head.starts_with(m);
    Some(if starts(&exr::MAGIC) {
        Format::Exr
    } else if starts(b"SDPX") || starts(b"XPDS") {
        Format::Dpx
    } else if starts(&cineon::MAGIC_BE) || starts(&cineon::MAGIC_LE) {
        Format::Cineon
    } else if starts(&png::MAGIC) {
        Format::Png
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Format::Jpeg
    } else if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        Format::Tiff
    } else if starts(b"#?RADIANCE") || starts(b"#?RGBE") {
        Format::Hdr
    } else {
        return None;
    })
}

/// Probes one file with default options (ffprobe from `PATH`, resolved once per process).
/// See [`probe_with`].
pub fn probe(path: impl AsRef<Path>) -> MediaInfo {
    static DEFAULT: std::sync::OnceLock<ProbeOptions> = std::sync::OnceLock::new();
    probe_with(path.as_ref(), DEFAULT.get_or_init(ProbeOptions::default))
}

/// Probes one file: detects the format from its magic bytes (the extension only decides for TGA
/// and movies, and names the expected format when the magic is wrong), reads the header, and
/// checks integrity. Never fails: every problem becomes `status` + `reason`.
pub fn probe_with(path: &Path, opts: &ProbeOptions) -> MediaInfo {
    let by_ext = format_from_extension(path);
    let mut src = match Source::open(path) {
        Ok(s) => s,
        Err(e) => {
            let mut info = MediaInfo::new(path.to_path_buf(), by_ext.unwrap_or(Format::Unknown), 0);
            let what = if path.is_dir() {
                "is a directory, not a file".to_string()
            } else if shotline_sequences::is_symlink_loop(&e) {
                format!("a symlink loop (a link that leads back to itself): {e}")
            } else if e.kind() == std::io::ErrorKind::InvalidInput {
                "not a regular file (FIFO, socket or device)".to_string()
            } else {
                format!("cannot read: {e}")
            };
            info.fail(Status::Unreadable, what);
            return info;
        }
    };
    let size = src.size();
    let format = format_from_magic(src.head())
        .or(by_ext)
        .unwrap_or(Format::Unknown);
    let mut info = MediaInfo::new(path.to_path_buf(), format, size);
    if size == 0 {
        info.fail(Status::Truncated, "file is empty (0 bytes)");
        return info;
    }
    let result = match format {
        Format::Exr => exr::probe(&mut src, &mut info),
        Format::Dpx => dpx::probe(&mut src, &mut info),
        Format::Cineon => cineon::probe(&mut src, &mut info),
        Format::Tiff => tiff::probe(&mut src, &mut info),
        Format::Png => png::probe(&mut src, &mut info),
        Format::Jpeg => jpeg::probe(&mut src, &mut info),
        Format::Tga => tga::probe(&mut src, &mut info),
        Format::Hdr => hdr::probe(&mut src, &mut info),
        Format::Movie => {
            drop(src);
            match &opts.ffprobe {
                Some(ff) => movie::probe(ff, opts.ffprobe_timeout, path, &mut info),
                None => info.fail(
                    Status::Unreadable,
                    opts.ffprobe_missing().unwrap_or_default(),
                ),
            }
            Ok(())
        }
        Format::Unknown => {
            info.fail(
                Status::Unreadable,
                "not a recognised image or movie format (unknown magic bytes and extension)",
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => {}
        Err(Fail::Truncated(r)) => info.fail(Status::Truncated, r),
        Err(Fail::Corrupt(r)) => info.fail(Status::Corrupt, r),
        Err(Fail::Io(e)) => info.fail(Status::Unreadable, format!("read error: {e}")),
    }
    info
}

/// Probes `paths` in parallel, `opts.batch_size` at a time, and hands each result to `sink` in
/// input order. Memory stays bounded by the batch size however many paths come in. The first
/// error from `sink` (e.g. a closed stdout) stops the run and is returned.
pub fn probe_batch<I, F, E>(paths: I, opts: &ProbeOptions, mut sink: F) -> Result<(), E>
where
    I: IntoIterator<Item = PathBuf>,
    F: FnMut(MediaInfo) -> Result<(), E>,
{
    let mut batch: Vec<PathBuf> = Vec::with_capacity(opts.batch_size);
    let mut iter = paths.into_iter();
    loop {
        batch.clear();
        batch.extend(iter.by_ref().take(opts.batch_size.max(1)));
        if batch.is_empty() {
            return Ok(());
        }
        let results: Vec<MediaInfo> = batch.par_iter().map(|p| probe_with(p, opts)).collect();
        for r in results {
            sink(r)?;
        }
    }
}
