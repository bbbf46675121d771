//! The probe result: one [`MediaInfo`] per file, serialisable as the documented JSON schema
//! (`docs/probe.md`). Optional fields are left out of the JSON when unknown, so consumers can
//! tell "not recorded in the file" from "zero".

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

/// File formats the prober recognises. Serialised lowercase (`"exr"`, `"dpx"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// OpenEXR (scanline, tiled, multi-part, deep).
    Exr,
    /// SMPTE 268M DPX, big- or little-endian.
    Dpx,
    /// Kodak Cineon, DPX's ancestor still found in film scans.
    Cineon,
    /// TIFF and BigTIFF.
    Tiff,
    /// PNG.
    Png,
    /// JPEG (JFIF/Exif).
    Jpeg,
    /// Truevision TGA.
    Tga,
    /// Radiance RGBE (`.hdr`).
    Hdr,
    /// Any container ffprobe reads (`.mov .mp4 .mxf .mkv .avi …`).
    Movie,
    /// Not recognised by magic bytes or extension.
    Unknown,
}

impl Format {
    /// The lowercase name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Exr => "exr",
            Format::Dpx => "dpx",
            Format::Cineon => "cineon",
            Format::Tiff => "tiff",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Tga => "tga",
            Format::Hdr => "hdr",
            Format::Movie => "movie",
            Format::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Integrity verdict, decided from headers and file structure without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Header valid and the file is as long as its structure says.
    Ok,
    /// The file ends early: empty, cut header, chunks/strips past the end, missing end marker.
    Truncated,
    /// Bad magic, impossible header values, offsets pointing inside the header.
    Corrupt,
    /// Could not be read at all: permissions, I/O error, unknown format, ffprobe missing.
    Unreadable,
}

/// How many files ended in each [`Status`]: the tally behind every summary line, kept in one
/// place so the sequence summary and the command agree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// Files that are [`Status::Ok`].
    pub ok: u64,
    /// Files that are [`Status::Truncated`].
    pub truncated: u64,
    /// Files that are [`Status::Corrupt`].
    pub corrupt: u64,
    /// Files that are [`Status::Unreadable`].
    pub unreadable: u64,
}

impl StatusCounts {
    /// Counts one more file with `status`.
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Ok => self.ok += 1,
            Status::Truncated => self.truncated += 1,
            Status::Corrupt => self.corrupt += 1,
            Status::Unreadable => self.unreadable += 1,
        }
    }

    /// All files counted.
    pub fn total(&self) -> u64 {
        self.ok + self.truncated + self.corrupt + self.unreadable
    }
}

impl Status {
    /// The lowercase name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Truncated => "truncated",
            Status::Corrupt => "corrupt",
            Status::Unreadable => "unreadable",
        }
    }

    /// True for [`Status::Ok`].
    pub fn is_ok(self) -> bool {
        self == Status::Ok
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One channel: its name and sample type (`half`, `float`, `uint32`, `uint8`, `uint10`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Channel {
    /// Channel name as stored (`R`, `diffuse.R`, `Y`, `Cb`).
    pub name: String,
    /// Sample type: `half`, `float`, `uint32` (EXR) or `uintN`/`intN`/`floatN` for the rest.
    #[serde(rename = "type")]
    pub sample_type: String,
    /// EXR part name, only for multi-part files, so a channel can be traced to its part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
}

/// An inclusive pixel rectangle, as EXR stores data and display windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Window {
    /// Left column.
    pub x_min: i32,
    /// Top row.
    pub y_min: i32,
    /// Right column (inclusive).
    pub x_max: i32,
    /// Bottom row (inclusive).
    pub y_max: i32,
}

impl Window {
    /// Width in pixels (0 for an inverted window).
    pub fn width(&self) -> u64 {
        (i64::from(self.x_max) - i64::from(self.x_min) + 1).max(0) as u64
    }
    /// Height in pixels (0 for an inverted window).
    pub fn height(&self) -> u64 {
        (i64::from(self.y_max) - i64::from(self.y_min) + 1).max(0) as u64
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({},{})-({},{})",
            self.x_min, self.y_min, self.x_max, self.y_max
        )
    }
}

/// An exact frame rate (`24000/1001`), because 23.976 as a float loses the NTSC relationship
/// editorial depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Rational {
    /// Numerator.
    pub num: i64,
    /// Denominator (never 0 in a value the prober returns).
    pub den: i64,
}

impl Rational {
    /// The value as a float.
    pub fn as_f64(&self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl std::fmt::Display for Rational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// One part of a multi-part EXR, so per-part layers (beauty, depth, AOVs) are visible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    /// The part's `name` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `scanlineimage`, `tiledimage`, `deepscanline` or `deeptile`.
    #[serde(rename = "type")]
    pub part_type: String,
    /// The part's data window.
    pub data_window: Window,
    /// Compression method name.
    pub compression: String,
    /// Number of chunks in the part's offset table.
    pub chunks: u64,
}

/// Everything the prober learned about one file. Fields are `None`/empty when the format does not
/// record them or the file was too damaged to tell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaInfo {
    /// Always `"file"`, so JSON Lines consumers can tell files from sequence summaries.
    pub kind: &'static str,
    /// The file as given (or as found in a directory/sequence).
    pub path: PathBuf,
    /// Frame number when the file was probed as a member of a sequence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<i64>,
    /// Detected format.
    pub format: Format,
    /// Integrity verdict.
    pub status: Status,
    /// Why the status is not `ok` (or what could not be checked), naming what was expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// File size in bytes.
    pub size: u64,
    /// Image width; for EXR the display window (the delivered format, stable under auto-crop).
    pub width: Option<u64>,
    /// Image height; for EXR the display window.
    pub height: Option<u64>,
    /// EXR data window (the pixels actually stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_window: Option<Window>,
    /// EXR display window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_window: Option<Window>,
    /// Pixel aspect ratio (width of a pixel over its height) when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixel_aspect: Option<f64>,
    /// Channels with their sample types.
    pub channels: Vec<Channel>,
    /// Bits per sample for integer formats (DPX, TIFF, PNG, JPEG, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<u32>,
    /// Compression or codec of the pixel data (`zip`, `piz`, `lzw`, `none`, `baseline`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Tiled (true) or scanline/strip (false) storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiled: Option<bool>,
    /// EXR deep data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deep: Option<bool>,
    /// Number of EXR parts (1 for single-part) or TIFF pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
    /// Per-part detail for multi-part EXR files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub part_list: Vec<Part>,
    /// Frames per second as a float.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Frames per second as an exact rational when the file stores one (EXR, movies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps_rational: Option<Rational>,
    /// SMPTE timecode `HH:MM:SS:FF` (`;` before frames for drop-frame).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timecode: Option<String>,
    /// Movie codec name (ffprobe's `codec_name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
    /// Movie frame count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_count: Option<u64>,
    /// Movie duration in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Colour hints: chromaticities, transfer, colorimetric, colour space names, gamma, ICC.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub colour: BTreeMap<String, String>,
    /// Notable metadata: software, owner, capture date, renderer attributes, comments.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl MediaInfo {
    /// An empty result for `path`, status `ok` until a check says otherwise.
    pub fn new(path: PathBuf, format: Format, size: u64) -> MediaInfo {
        MediaInfo {
            kind: "file",
            path,
            frame: None,
            format,
            status: Status::Ok,
            reason: None,
            size,
            width: None,
            height: None,
            data_window: None,
            display_window: None,
            pixel_aspect: None,
            channels: Vec::new(),
            bit_depth: None,
            compression: None,
            tiled: None,
            deep: None,
            parts: None,
            part_list: Vec::new(),
            fps: None,
            fps_rational: None,
            timecode: None,
            codec: None,
            frame_count: None,
            duration: None,
            colour: BTreeMap::new(),
            metadata: BTreeMap::new(),
        }
    }

    /// Sets a non-ok status and its reason.
    pub fn fail(&mut self, status: Status, reason: impl Into<String>) {
        self.status = status;
        self.reason = Some(reason.into());
    }

    /// `WxH` when both are known, for tables and change detection.
    pub fn resolution(&self) -> Option<String> {
        Some(format!("{}x{}", self.width?, self.height?))
    }

    /// Channel names and types joined (`R:half,G:half,B:half`), for change detection.
    pub fn channel_signature(&self) -> String {
        let mut s = String::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&c.name);
            s.push(':');
            s.push_str(&c.sample_type);
        }
        s
    }
}
