//! Writers of real, small media files for tests across the workspace (feature `testdata`).
//!
//! Why: validate, ingest and the render verifier must be tested on frames a real reader accepts,
//! not on hand-made byte soup. EXRs are written by the `exr` crate (a real encoder, several
//! compressions, tiles, multiple parts, timecode and fps attributes); DPX by a small writer here
//! in either byte order, because no Rust crate writes DPX.
//!
//! ```no_run
//! use shotline_media::testdata::{write_exr, write_exr_sequence, ExrSpec, ExrCompression};
//! let dir = std::path::Path::new("/tmp/frames");
//! write_exr(&dir.join("one.exr"), &ExrSpec::rgb(64, 32).compression(ExrCompression::Piz)).unwrap();
//! let paths = write_exr_sequence(dir, "plate.", 4, 1001..=1010, &ExrSpec::rgba(32, 16)).unwrap();
//! assert_eq!(paths.len(), 10);
//! ```

use std::io;
use std::path::{Path, PathBuf};

use exr::prelude::{
    f16, AnyChannel, AnyChannels, AttributeValue, Blocks, Encoding, FlatSamples, Image,
    ImageAttributes, IntegerBounds, Layer, LayerAttributes, LineOrder, SmallVec, Text,
    WritableImage,
};

use crate::timecode::Timecode;

/// EXR compressions the test writer can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExrCompression {
    /// Uncompressed.
    None,
    /// Run-length.
    Rle,
    /// Zip, one scanline per chunk.
    Zips,
    /// Zip, 16 scanlines per chunk.
    Zip,
    /// Wavelet, 32 scanlines per chunk.
    Piz,
    /// Lossy 24-bit float, 16 scanlines per chunk.
    Pxr24,
    /// Lossy 4x4 blocks, 32 scanlines per chunk.
    B44,
}

impl ExrCompression {
    /// The name the prober reports for it.
    pub fn name(self) -> &'static str {
        match self {
            ExrCompression::None => "none",
            ExrCompression::Rle => "rle",
            ExrCompression::Zips => "zips",
            ExrCompression::Zip => "zip",
            ExrCompression::Piz => "piz",
            ExrCompression::Pxr24 => "pxr24",
            ExrCompression::B44 => "b44",
        }
    }

    fn to_exr(self) -> exr::compression::Compression {
        use exr::compression::Compression as C;
        match self {
            ExrCompression::None => C::Uncompressed,
            ExrCompression::Rle => C::RLE,
            ExrCompression::Zips => C::ZIP1,
            ExrCompression::Zip => C::ZIP16,
            ExrCompression::Piz => C::PIZ,
            ExrCompression::Pxr24 => C::PXR24,
            ExrCompression::B44 => C::B44,
        }
    }
}

/// Sample type of an EXR test channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExrSample {
    /// 16-bit float.
    Half,
    /// 32-bit float.
    Float,
    /// 32-bit unsigned integer.
    Uint,
}

/// What one EXR (or one part of a multi-part EXR) should contain.
#[derive(Debug, Clone)]
pub struct ExrSpec {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Channels (any order; EXR stores them sorted by name).
    pub channels: Vec<(String, ExrSample)>,
    /// Compression.
    pub compression: ExrCompression,
    /// Tile size for a tiled file; `None` for scanlines.
    pub tiles: Option<(usize, usize)>,
    /// `timeCode` attribute.
    pub timecode: Option<Timecode>,
    /// `framesPerSecond` attribute as numerator/denominator.
    pub fps: Option<(i32, u32)>,
    /// Layer (part) name; required for multi-part files.
    pub name: Option<String>,
    /// `software` attribute.
    pub software: Option<String>,
    /// `owner` attribute.
    pub owner: Option<String>,
    /// `capDate` attribute (`YYYY:MM:DD hh:mm:ss`).
    pub capture_date: Option<String>,
    /// Extra string attributes (e.g. Blender's `cycles.View Layer.samples`).
    pub extra: Vec<(String, String)>,
    /// Varies the pixel values so frames differ.
    pub seed: u32,
}

impl ExrSpec {
    /// Half-float R, G, B, zip-compressed scanlines.
    pub fn rgb(width: usize, height: usize) -> ExrSpec {
        ExrSpec {
            width,
            height,
            channels: ["R", "G", "B"]
                .iter()
                .map(|c| ((*c).to_string(), ExrSample::Half))
                .collect(),
            compression: ExrCompression::Zip,
            tiles: None,
            timecode: None,
            fps: None,
            name: None,
            software: None,
            owner: None,
            capture_date: None,
            extra: Vec::new(),
            seed: 0,
        }
    }

    /// Half-float R, G, B, A.
    pub fn rgba(width: usize, height: usize) -> ExrSpec {
        let mut s = ExrSpec::rgb(width, height);
        s.channels.push(("A".into(), ExrSample::Half));
        s
    }

    /// With this compression.
    pub fn compression(mut self, c: ExrCompression) -> ExrSpec {
        self.compression = c;
        self
    }

    /// Tiled with this tile size (one level).
    pub fn tiled(mut self, tile_w: usize, tile_h: usize) -> ExrSpec {
        self.tiles = Some((tile_w, tile_h));
        self
    }

    /// With a `timeCode` attribute.
    pub fn timecode(mut self, tc: Timecode) -> ExrSpec {
        self.timecode = Some(tc);
        self
    }

    /// With a `framesPerSecond` attribute.
    pub fn fps(mut self, num: i32, den: u32) -> ExrSpec {
        self.fps = Some((num, den));
        self
    }

    /// Named (the part name in a multi-part file).
    pub fn named(mut self, name: &str) -> ExrSpec {
        self.name = Some(name.into());
        self
    }

    /// With a `software` attribute.
    pub fn software(mut self, s: &str) -> ExrSpec {
        self.software = Some(s.into());
        self
    }

    /// With an extra string attribute.
    pub fn attribute(mut self, key: &str, value: &str) -> ExrSpec {
        self.extra.push((key.into(), value.into()));
        self
    }
}

fn layer(spec: &ExrSpec) -> Layer<AnyChannels<FlatSamples>> {
    let n = spec.width * spec.height;
    let value = |i: usize| {
        ((i as u32).wrapping_mul(2654435761).wrapping_add(spec.seed) % 1024) as f32 / 1024.0
    };
    let mut list: SmallVec<[AnyChannel<FlatSamples>; 4]> = SmallVec::new();
    for (ci, (name, kind)) in spec.channels.iter().enumerate() {
        let samples = match kind {
            ExrSample::Half => {
                FlatSamples::F16((0..n).map(|i| f16::from_f32(value(i + ci))).collect())
            }
            ExrSample::Float => FlatSamples::F32((0..n).map(|i| value(i + ci)).collect()),
            ExrSample::Uint => {
                FlatSamples::U32((0..n).map(|i| (value(i + ci) * 1000.0) as u32).collect())
            }
        };
        list.push(AnyChannel::new(name.as_str(), samples));
    }
    let mut attrs = match &spec.name {
        Some(n) => LayerAttributes::named(n.as_str()),
        None => LayerAttributes::default(),
    };
    attrs.frames_per_second = spec.fps;
    attrs.software_name = spec.software.as_deref().map(Text::from);
    attrs.owner = spec.owner.as_deref().map(Text::from);
    attrs.capture_date = spec.capture_date.as_deref().map(Text::from);
    for (k, v) in &spec.extra {
        attrs.other.insert(
            Text::from(k.as_str()),
            AttributeValue::Text(Text::from(v.as_str())),
        );
    }
    let encoding = Encoding {
        compression: spec.compression.to_exr(),
        blocks: match spec.tiles {
            Some((w, h)) => Blocks::Tiles(exr::math::Vec2(w, h)),
            None => Blocks::ScanLines,
        },
        line_order: LineOrder::Increasing,
    };
    Layer::new(
        (spec.width, spec.height),
        attrs,
        encoding,
        AnyChannels::sort(list),
    )
}

fn exr_timecode(tc: Timecode) -> exr::meta::attribute::TimeCode {
    exr::meta::attribute::TimeCode {
        hours: tc.hours,
        minutes: tc.minutes,
        seconds: tc.seconds,
        frame: tc.frames,
        drop_frame: tc.drop_frame,
        color_frame: false,
        field_phase: false,
        binary_group_flags: [false; 3],
        binary_groups: [0; 8],
    }
}

fn to_io(e: exr::error::Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// Writes a single-part EXR.
pub fn write_exr(path: &Path, spec: &ExrSpec) -> io::Result<()> {
    write_exr_parts(path, std::slice::from_ref(spec))
}

/// Writes an EXR with one part per spec (multi-part when more than one; give each a name).
/// Image-level attributes (display window, timecode) come from the first spec.
pub fn write_exr_parts(path: &Path, parts: &[ExrSpec]) -> io::Result<()> {
    let first = parts
        .first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no parts"))?;
    let mut attrs =
        ImageAttributes::new(IntegerBounds::from_dimensions((first.width, first.height)));
    attrs.time_code = first.timecode.map(exr_timecode);
    let layers: Vec<Layer<AnyChannels<FlatSamples>>> = parts.iter().map(layer).collect();
    let image = Image::from_layers(attrs, layers);
    image.write().to_file(path).map_err(to_io)
}

/// Writes frames `head` + zero-padded frame + `.exr` into `dir`, the timecode (if the spec has
/// one) advancing one frame per file at the spec's fps (24 when it has none). Returns the paths.
pub fn write_exr_sequence(
    dir: &Path,
    head: &str,
    padding: usize,
    frames: std::ops::RangeInclusive<i64>,
    spec: &ExrSpec,
) -> io::Result<Vec<PathBuf>> {
    let rate = spec.fps.map_or(24, |(n, d)| {
        crate::nominal_rate(f64::from(n) / f64::from(d.max(1)))
    });
    let start = *frames.start();
    let mut out = Vec::new();
    for f in frames {
        let mut s = spec.clone();
        s.seed = spec.seed.wrapping_add(f as u32);
        if let Some(tc) = spec.timecode {
            s.timecode = Some(Timecode::from_frames(
                tc.to_frames(rate) + (f - start),
                rate,
                tc.drop_frame,
            ));
        }
        let path = dir.join(format!("{head}{f:0padding$}.exr"));
        write_exr(&path, &s)?;
        out.push(path);
    }
    Ok(out)
}

/// What a test DPX should contain.
#[derive(Debug, Clone)]
pub struct DpxSpec {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Big-endian ("SDPX") or little-endian ("XPDS").
    pub big_endian: bool,
    /// 8, 10 (filled method A) or 16 bits per sample, RGB.
    pub bit_depth: u8,
    /// Frame rate written to the film and TV headers.
    pub fps: Option<f32>,
    /// Timecode written to the TV header.
    pub timecode: Option<Timecode>,
    /// Creator field.
    pub creator: String,
    /// Transfer characteristic code (2 = linear, 3 = logarithmic, 1 = printing density).
    pub transfer: u8,
}

impl DpxSpec {
    /// A 10-bit RGB DPX in the given byte order.
    pub fn rgb10(width: u32, height: u32, big_endian: bool) -> DpxSpec {
        DpxSpec {
            width,
            height,
            big_endian,
            bit_depth: 10,
            fps: None,
            timecode: None,
            creator: "shotline testdata".into(),
            transfer: 2,
        }
    }
}

/// Bytes of pixel data `spec` needs.
fn dpx_data_len(spec: &DpxSpec) -> usize {
    let px = spec.width as usize * spec.height as usize;
    match spec.bit_depth {
        8 => (spec.width as usize * 3).div_ceil(4) * 4 * spec.height as usize,
        16 => px * 6,
        _ => px * 4,
    }
}

/// Writes a DPX file (2048-byte header, then pixels).
pub fn write_dpx(path: &Path, spec: &DpxSpec) -> io::Result<()> {
    let data = dpx_data_len(spec);
    let total = 2048 + data;
    let mut h = vec![0u8; total];
    let be = spec.big_endian;
    let put32 = |h: &mut Vec<u8>, off: usize, v: u32| {
        let b = if be { v.to_be_bytes() } else { v.to_le_bytes() };
        h[off..off + 4].copy_from_slice(&b);
    };
    let put16 = |h: &mut Vec<u8>, off: usize, v: u16| {
        let b = if be { v.to_be_bytes() } else { v.to_le_bytes() };
        h[off..off + 2].copy_from_slice(&b);
    };
    let put_str = |h: &mut Vec<u8>, off: usize, len: usize, s: &str| {
        let b = s.as_bytes();
        let n = b.len().min(len - 1);
        h[off..off + n].copy_from_slice(&b[..n]);
    };
    // Undefined industry fields are all ones.
    for b in &mut h[1408..2048] {
        *b = 0xFF;
    }
    put32(&mut h, 0, 0x5344_5058); // "SDPX" in the file's byte order
    put32(&mut h, 4, 2048);
    put_str(&mut h, 8, 8, "V2.0");
    put32(&mut h, 16, total as u32);
    put32(&mut h, 20, 1);
    put32(&mut h, 24, 1664);
    put32(&mut h, 28, 384);
    put32(&mut h, 32, 0);
    put_str(
        &mut h,
        36,
        100,
        &path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    put_str(&mut h, 136, 24, "2026:11:22:04:00:00Z");
    put_str(&mut h, 160, 100, &spec.creator);
    put_str(&mut h, 260, 200, "shotline");
    put32(&mut h, 660, u32::MAX);
    put16(&mut h, 768, 0);
    put16(&mut h, 770, 1);
    put32(&mut h, 772, spec.width);
    put32(&mut h, 776, spec.height);
    // Element 0.
    put32(&mut h, 780, 0);
    put32(&mut h, 784, 0);
    put32(&mut h, 792, (1u32 << spec.bit_depth.min(31)) - 1);
    h[800] = 50; // RGB
    h[801] = spec.transfer;
    h[802] = spec.transfer;
    h[803] = spec.bit_depth;
    put16(&mut h, 804, if spec.bit_depth == 10 { 1 } else { 0 });
    put16(&mut h, 806, 0);
    put32(&mut h, 808, 2048);
    put32(&mut h, 812, 0);
    put32(&mut h, 816, 0);
    // Elements 1..8 unused: leave zero. Orientation: pixel aspect 1:1.
    put32(&mut h, 1628, 1);
    put32(&mut h, 1632, 1);
    let fps_bits = spec.fps.map_or(u32::MAX, f32::to_bits);
    put32(&mut h, 1724, fps_bits);
    put32(&mut h, 1940, fps_bits);
    let tc = spec.timecode.map_or(u32::MAX, |t| {
        let b = |v: u8| u32::from(v / 10) << 4 | u32::from(v % 10);
        b(t.hours) << 24 | b(t.minutes) << 16 | b(t.seconds) << 8 | b(t.frames)
    });
    put32(&mut h, 1920, tc);
    put32(&mut h, 1924, 0);
    // Pixels: a ramp.
    for (i, b) in h[2048..].iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    std::fs::write(path, h)
}

/// Writes `len` bytes of `path` back (keeps the first `len` bytes): a cut transfer.
pub fn truncate_file(path: &Path, len: u64) -> io::Result<()> {
    let f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.set_len(len)
}

/// Overwrites the first bytes of `path` (the magic) with `bytes`: a corrupt header.
pub fn clobber_magic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut data = std::fs::read(path)?;
    let n = bytes.len().min(data.len());
    data[..n].copy_from_slice(&bytes[..n]);
    std::fs::write(path, data)
}

/// Writes an 8-bit RGB image in the format of `path`'s extension (`png`, `jpg`, `tif`) with the
/// `image` crate: real files for PNG/JPEG/TIFF tests.
pub fn write_image(path: &Path, width: u32, height: u32) -> io::Result<()> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x + y) % 256) as u8,
        ])
    });
    img.save(path).map_err(|e| io::Error::other(e.to_string()))
}

/// Writes a Radiance HDR with new-style run-length scanlines (each component: one repeat run,
/// then literal runs), as Radiance, Photoshop and OIIO write them. `width` must be 8 to 32767.
pub fn write_hdr(path: &Path, width: u16, height: u16) -> io::Result<()> {
    let mut v =
        format!("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\nEXPOSURE=1.0\n\n-Y {height} +X {width}\n")
            .into_bytes();
    let w = usize::from(width);
    for y in 0..usize::from(height) {
        v.extend([2, 2, (width >> 8) as u8, (width & 0xff) as u8]);
        for c in 0..4usize {
            let rep = w.min(3);
            v.extend([128 + rep as u8, (y + c) as u8]);
            let mut x = rep;
            while x < w {
                let n = (w - x).min(128);
                v.push(n as u8);
                v.extend((0..n).map(|i| ((x + i + y * 3 + c) % 251) as u8));
                x += n;
            }
        }
    }
    std::fs::write(path, v)
}

/// Writes an uncompressed 24-bit TGA of `width` x `height`.
pub fn write_tga(path: &Path, width: u16, height: u16) -> io::Result<()> {
    let mut v = vec![0u8; 18];
    v[2] = 2;
    v[12..14].copy_from_slice(&width.to_le_bytes());
    v[14..16].copy_from_slice(&height.to_le_bytes());
    v[16] = 24;
    let n = usize::from(width) * usize::from(height) * 3;
    v.extend((0..n).map(|i| (i % 253) as u8));
    std::fs::write(path, v)
}

/// Writes a big-endian 10-bit RGB Cineon file (1024-byte header, packed pixels).
pub fn write_cineon(path: &Path, width: u32, height: u32) -> io::Result<()> {
    const OFFSET: u32 = 1024;
    let data = u64::from(width) * u64::from(height) * 4;
    let total = u64::from(OFFSET) + data;
    let total32 = u32::try_from(total).map_err(|_| io::Error::other("too large"))?;
    let mut v = vec![0u8; OFFSET as usize];
    v[0..4].copy_from_slice(&[0x80, 0x2A, 0x5F, 0xD7]);
    v[4..8].copy_from_slice(&OFFSET.to_be_bytes());
    v[20..24].copy_from_slice(&total32.to_be_bytes());
    v[24..28].copy_from_slice(b"V4.5");
    v[193] = 3;
    v[198] = 10;
    v[200..204].copy_from_slice(&width.to_be_bytes());
    v[204..208].copy_from_slice(&height.to_be_bytes());
    v.resize(total as usize, 0x5a);
    std::fs::write(path, v)
}
