//! OpenEXR headers and offset tables, parsed by hand from bounded reads.
//!
//! Layout (see the `exr` crate's `meta` module and the OpenEXR file-layout document): magic
//! `76 2f 31 01`, a version word with flags (tiled, long names, deep, multi-part), one header per
//! part (attributes `name\0type\0size value`, ended by a NUL; the header list of a multi-part file
//! ends with an extra NUL), then one offset table per part (`u64` per chunk), then the chunks.
//! The integrity check reads only the offset tables and the chunk header of the last chunk.

use std::collections::BTreeMap;

use crate::info::{Channel, MediaInfo, Part, Rational, Window};
use crate::source::{clip, Cursor, Endian, Fail, PResult, Source, MAX_HEAD};
use crate::timecode::Timecode;

/// The four magic bytes every OpenEXR file starts with.
pub(crate) const MAGIC: [u8; 4] = [0x76, 0x2f, 0x31, 0x01];

const FLAG_TILED: u32 = 0x200;
const FLAG_LONG_NAMES: u32 = 0x400;
const FLAG_DEEP: u32 = 0x800;
const FLAG_MULTIPART: u32 = 0x1000;
const KNOWN_BITS: u32 = 0xFF | FLAG_TILED | FLAG_LONG_NAMES | FLAG_DEEP | FLAG_MULTIPART;
/// Attribute and channel counts above these are treated as corrupt, not allocated.
const MAX_ATTRIBUTES: usize = 4096;
const MAX_CHANNELS: usize = 4096;
const MAX_PARTS: usize = 4096;
const MAX_METADATA: usize = 128;

/// One part's header, reduced to what the prober reports.
#[derive(Debug, Default)]
struct Header {
    name: Option<String>,
    part_type: Option<String>,
    channels: Vec<(String, i32)>,
    compression: Option<u8>,
    data_window: Option<Window>,
    display_window: Option<Window>,
    pixel_aspect: Option<f32>,
    tiles: Option<(u32, u32, u8)>,
    chunk_count: Option<i32>,
    fps: Option<(i32, u32)>,
    timecode: Option<u32>,
    colour: BTreeMap<String, String>,
    metadata: BTreeMap<String, String>,
}

/// Why header parsing stopped.
enum HeaderErr {
    /// The head buffer ended first: read more (or the file is truncated).
    Short,
    /// Impossible content.
    Corrupt(String),
}

type HResult<T> = Result<T, HeaderErr>;

fn short<T>(v: Option<T>) -> HResult<T> {
    v.ok_or(HeaderErr::Short)
}

fn corrupt<T>(msg: impl Into<String>) -> HResult<T> {
    Err(HeaderErr::Corrupt(msg.into()))
}

/// Compression name and scanlines per chunk, by the code stored in the file.
fn compression(code: u8) -> Option<(&'static str, u64)> {
    Some(match code {
        0 => ("none", 1),
        1 => ("rle", 1),
        2 => ("zips", 1),
        3 => ("zip", 16),
        4 => ("piz", 32),
        5 => ("pxr24", 16),
        6 => ("b44", 32),
        7 => ("b44a", 32),
        8 => ("dwaa", 32),
        9 => ("dwab", 256),
        10 => ("htj2k256", 256),
        11 => ("htj2k32", 32),
        _ => return None,
    })
}

fn pixel_type(t: i32) -> String {
    match t {
        0 => "uint32".into(),
        1 => "half".into(),
        2 => "float".into(),
        other => format!("unknown({other})"),
    }
}

/// Reads the headers, fills `info`, then checks the offset tables and the last chunk.
pub(crate) fn probe(src: &mut Source, info: &mut MediaInfo) -> PResult<()> {
    let (flags, headers, table_start) = loop {
        match parse_all(src.head()) {
            Ok(v) => break v,
            Err(HeaderErr::Corrupt(m)) => return Err(Fail::Corrupt(m)),
            Err(HeaderErr::Short) => {
                if src.head_is_whole_file() {
                    return Err(Fail::Truncated(format!(
                        "file ends inside the EXR header ({} bytes)",
                        src.size()
                    )));
                }
                let want = src.head().len().saturating_mul(4);
                if src.head().len() >= MAX_HEAD || !src.ensure_head(want)? {
                    return Err(Fail::Corrupt(format!(
                        "EXR header is larger than the {MAX_HEAD}-byte limit"
                    )));
                }
            }
        }
    };
    let multipart = flags & FLAG_MULTIPART != 0;
    let mut kinds = Vec::with_capacity(headers.len());
    let mut counts = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let kind = part_kind(h, flags);
        let n = chunk_count(h, kind, multipart).map_err(|m| {
            Fail::Corrupt(if headers.len() > 1 {
                format!("part {i}: {m}")
            } else {
                m
            })
        })?;
        kinds.push(kind);
        counts.push(n);
    }
    fill(info, &headers, &kinds, &counts);
    check_chunks(src, &kinds, &counts, table_start, multipart)
}

/// `scanlineimage`, `tiledimage`, `deepscanline` or `deeptile`.
fn part_kind(h: &Header, flags: u32) -> &'static str {
    match h.part_type.as_deref() {
        Some("tiledimage") => "tiledimage",
        Some("deepscanline") => "deepscanline",
        Some("deeptile") => "deeptile",
        Some(_) => "scanlineimage",
        None if flags & FLAG_TILED != 0 => "tiledimage",
        None => "scanlineimage",
    }
}

fn parse_all(head: &[u8]) -> HResult<(u32, Vec<Header>, usize)> {
    let mut c = Cursor::new(head, 0, Endian::Little);
    let magic = short(c.bytes(4))?;
    if magic != MAGIC {
        return corrupt(format!(
            "bad magic {magic:02x?}: expected OpenEXR magic {MAGIC:02x?}"
        ));
    }
    let flags = short(c.u32())?;
    if flags & 0xFF != 2 {
        return corrupt(format!(
            "unsupported OpenEXR version {} (expected 2)",
            flags & 0xFF
        ));
    }
    if flags & !KNOWN_BITS != 0 {
        return corrupt(format!("unknown OpenEXR version flags {flags:#x}"));
    }
    let max_name = if flags & FLAG_LONG_NAMES != 0 {
        255
    } else {
        31
    };
    let multipart = flags & FLAG_MULTIPART != 0;
    let mut headers = Vec::new();
    loop {
        if multipart && head.get(c.pos()) == Some(&0) {
            c.u8();
            break;
        }
        if headers.len() >= MAX_PARTS {
            return corrupt(format!("more than {MAX_PARTS} parts"));
        }
        headers.push(parse_header(&mut c, max_name)?);
        if !multipart {
            break;
        }
    }
    if headers.is_empty() {
        return corrupt("multi-part file with no parts");
    }
    Ok((flags, headers, c.pos()))
}

fn parse_header(c: &mut Cursor<'_>, max_name: usize) -> HResult<Header> {
    let mut h = Header::default();
    for _ in 0..MAX_ATTRIBUTES {
        let name = match short(c.cstr(max_name))? {
            Ok("") => return Ok(h),
            Ok(n) => n,
            Err(()) => return corrupt(format!("attribute name longer than {max_name} bytes")),
        };
        let ty = match short(c.cstr(max_name))? {
            Ok(t) => t,
            Err(()) => return corrupt(format!("type of attribute {name:?} is not a name")),
        };
        let size = short(c.i32())?;
        let size = usize::try_from(size)
            .map_err(|_| HeaderErr::Corrupt(format!("attribute {name:?} has size {size}")))?;
        if size > MAX_HEAD {
            return corrupt(format!("attribute {name:?} claims {size} bytes"));
        }
        let value = short(c.bytes(size))?;
        attribute(&mut h, name, ty, value)?;
    }
    corrupt(format!(
        "more than {MAX_ATTRIBUTES} attributes in one header"
    ))
}

fn window(v: &[u8]) -> Option<Window> {
    let mut c = Cursor::new(v, 0, Endian::Little);
    Some(Window {
        x_min: c.i32()?,
        y_min: c.i32()?,
        x_max: c.i32()?,
        y_max: c.i32()?,
    })
}

fn bad_value<T>(name: &str, ty: &str) -> HResult<T> {
    corrupt(format!("attribute {name:?} is too short for type {ty}"))
}

fn attribute(h: &mut Header, name: &str, ty: &str, v: &[u8]) -> HResult<()> {
    let mut c = Cursor::new(v, 0, Endian::Little);
    match (name, ty) {
        ("channels", "chlist") => {
            loop {
                let cname = match c.cstr(255) {
                    Some(Ok("")) => break,
                    Some(Ok(n)) => n.to_string(),
                    _ => return corrupt("malformed channel list"),
                };
                let pt = match c.i32() {
                    Some(p) => p,
                    None => return bad_value(name, ty),
                };
                if c.bytes(12).is_none() {
                    return bad_value(name, ty);
                }
                if !(0..=2).contains(&pt) {
                    return corrupt(format!("channel {cname:?} has unknown pixel type {pt}"));
                }
                if h.channels.len() >= MAX_CHANNELS {
                    return corrupt(format!("more than {MAX_CHANNELS} channels"));
                }
                h.channels.push((cname, pt));
            }
            return Ok(());
        }
        ("compression", "compression") => {
            let code = match c.u8() {
                Some(x) => x,
                None => return bad_value(name, ty),
            };
            if compression(code).is_none() {
                return corrupt(format!("unknown compression method {code}"));
            }
            h.compression = Some(code);
            return Ok(());
        }
        ("dataWindow", "box2i") => {
            h.data_window = Some(window(v).ok_or(()).or_else(|_| bad_value(name, ty))?);
            return Ok(());
        }
        ("displayWindow", "box2i") => {
            h.display_window = Some(window(v).ok_or(()).or_else(|_| bad_value(name, ty))?);
            return Ok(());
        }
        ("pixelAspectRatio", "float") => {
            h.pixel_aspect = c.f32();
            return Ok(());
        }
        ("tiles", "tiledesc") => {
            match (c.u32(), c.u32(), c.u8()) {
                (Some(x), Some(y), Some(m)) => h.tiles = Some((x, y, m)),
                _ => return bad_value(name, ty),
            }
            return Ok(());
        }
        ("chunkCount", "int") => {
            h.chunk_count = c.i32();
            return Ok(());
        }
        ("name", "string") => {
            h.name = Some(String::from_utf8_lossy(v).into_owned());
            return Ok(());
        }
        ("type", "string") => {
            h.part_type = Some(String::from_utf8_lossy(v).into_owned());
            return Ok(());
        }
        ("framesPerSecond", "rational") => {
            if let (Some(n), Some(d)) = (c.i32(), c.u32()) {
                h.fps = Some((n, d));
            }
            return Ok(());
        }
        ("timeCode", "timecode") => {
            h.timecode = c.u32();
            return Ok(());
        }
        ("chromaticities", "chromaticities") => {
            let mut f = [0f32; 8];
            for x in &mut f {
                *x = match c.f32() {
                    Some(x) => x,
                    None => return bad_value(name, ty),
                };
            }
            h.colour.insert(
                "chromaticities".into(),
                format!(
                    "R {} {} G {} {} B {} {} W {} {}",
                    f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]
                ),
            );
            return Ok(());
        }
        ("screenWindowCenter", _) | ("screenWindowWidth", _) | ("version", _) => return Ok(()),
        _ => {}
    }
    let text = match ty {
        "string" => Some(String::from_utf8_lossy(v).into_owned()),
        "int" => c.i32().map(|x| x.to_string()),
        "float" => c.f32().map(|x| x.to_string()),
        "double" => c.f64().map(|x| x.to_string()),
        "rational" => match (c.i32(), c.u32()) {
            (Some(n), Some(d)) => Some(format!("{n}/{d}")),
            _ => None,
        },
        "v2i" => match (c.i32(), c.i32()) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            _ => None,
        },
        "v2f" => match (c.f32(), c.f32()) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            _ => None,
        },
        "v3f" => match (c.f32(), c.f32(), c.f32()) {
            (Some(a), Some(b), Some(d)) => Some(format!("{a} {b} {d}")),
            _ => None,
        },
        "box2i" => window(v).map(|w| w.to_string()),
        "lineOrder" => c.u8().map(|x| {
            match x {
                0 => "increasing_y",
                1 => "decreasing_y",
                2 => "random_y",
                _ => "unknown",
            }
            .to_string()
        }),
        "timecode" => c
            .u32()
            .and_then(Timecode::from_smpte_packed)
            .map(|t| t.to_string()),
        "stringvector" | "stringVector" => {
            let mut items = Vec::new();
            while let Some(len) = c.i32() {
                match usize::try_from(len).ok().and_then(|l| c.bytes(l)) {
                    Some(b) => items.push(String::from_utf8_lossy(b).into_owned()),
                    None => break,
                }
            }
            Some(items.join(", "))
        }
        _ => None,
    };
    if let Some(text) = text {
        let lower = name.to_ascii_lowercase();
        let colour = [
            "colorspace",
            "colourspace",
            "color_space",
            "ocio",
            "transform",
        ]
        .iter()
        .any(|k| lower.contains(k))
            || matches!(name, "whiteLuminance" | "adoptedNeutral");
        let map = if colour {
            &mut h.colour
        } else {
            &mut h.metadata
        };
        if map.len() < MAX_METADATA {
            map.insert(name.to_string(), clip(&text));
        }
    }
    Ok(())
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

fn levels(size: u64, round_up: bool) -> u64 {
    // floor(log2(size)) + 1, or ceil(log2(size)) + 1 when rounding up.
    let floor = 63 - u64::from(size.max(1).leading_zeros());
    let exact = size.is_power_of_two();
    if round_up && !exact {
        floor + 2
    } else {
        floor + 1
    }
}

fn level_size(full: u64, level: u64, round_up: bool) -> u64 {
    if level >= 64 {
        return 1;
    }
    let s = if round_up {
        (full + (1u64 << level) - 1) >> level
    } else {
        full >> level
    };
    s.max(1)
}

fn chunk_count(h: &Header, kind: &str, multipart: bool) -> Result<u64, String> {
    let need = |what: &str| format!("required attribute {what:?} is missing");
    if h.channels.is_empty() && h.part_type.is_none() {
        return Err(need("channels"));
    }
    let code = h.compression.ok_or_else(|| need("compression"))?;
    let dw = h.data_window.ok_or_else(|| need("dataWindow"))?;
    if h.display_window.is_none() {
        return Err(need("displayWindow"));
    }
    let (w, ht) = (dw.width(), dw.height());
    if w == 0 || ht == 0 {
        return Err(format!("data window {dw} is empty or inverted"));
    }
    if let Some(n) = h.chunk_count {
        return u64::try_from(n).map_err(|_| format!("chunkCount is {n}"));
    }
    if multipart {
        return Err(need("chunkCount"));
    }
    match kind {
        "tiledimage" | "deeptile" => {
            let (tx, ty, mode) = h.tiles.ok_or_else(|| need("tiles"))?;
            if tx == 0 || ty == 0 {
                return Err(format!("tile size {tx}x{ty}"));
            }
            let (tx, ty) = (u64::from(tx), u64::from(ty));
            let round_up = (mode >> 4) & 0xF == 1;
            let tiles = |lw: u64, lh: u64| ceil_div(lw, tx).saturating_mul(ceil_div(lh, ty));
            let mut total: u64 = 0;
            match mode & 0xF {
                0 => total = tiles(w, ht),
                1 => {
                    for l in 0..levels(w.max(ht), round_up) {
                        total = total.saturating_add(tiles(
                            level_size(w, l, round_up),
                            level_size(ht, l, round_up),
                        ));
                    }
                }
                2 => {
                    for lx in 0..levels(w, round_up) {
                        for ly in 0..levels(ht, round_up) {
                            total = total.saturating_add(tiles(
                                level_size(w, lx, round_up),
                                level_size(ht, ly, round_up),
                            ));
                        }
                    }
                }
                m => return Err(format!("unknown tile level mode {m}")),
            }
            Ok(total)
        }
        _ => {
            let lines = compression(code).map(|c| c.1).unwrap_or(1);
            Ok(ceil_div(ht, lines))
        }
    }
}

fn fill(info: &mut MediaInfo, headers: &[Header], kinds: &[&str], counts: &[u64]) {
    let multi = headers.len() > 1;
    let first = &headers[0];
    info.parts = Some(headers.len() as u32);
    info.data_window = first.data_window;
    info.display_window = first.display_window;
    if let Some(d) = first.display_window {
        info.width = Some(d.width());
        info.height = Some(d.height());
    }
    info.pixel_aspect = first.pixel_aspect.map(f64::from);
    info.compression = first
        .compression
        .and_then(compression)
        .map(|c| c.0.to_string());
    info.tiled = Some(kinds[0].ends_with("tile") || kinds[0] == "tiledimage");
    info.deep = Some(kinds.iter().any(|k| k.starts_with("deep")));
    if let Some((tx, ty, mode)) = first.tiles {
        let levels = match mode & 0xF {
            0 => "one level",
            1 => "mipmap",
            2 => "ripmap",
            _ => "unknown levels",
        };
        let rounding = if (mode >> 4) & 0xF == 1 { "up" } else { "down" };
        info.metadata.insert(
            "tiles".into(),
            format!("{tx}x{ty} {levels}, rounding {rounding}"),
        );
    }
    for (i, h) in headers.iter().enumerate() {
        for (name, pt) in &h.channels {
            info.channels.push(Channel {
                name: name.clone(),
                sample_type: pixel_type(*pt),
                part: if multi {
                    Some(h.name.clone().unwrap_or_else(|| format!("part{i}")))
                } else {
                    None
                },
            });
        }
        if info.fps.is_none() {
            if let Some((n, d)) = h.fps.filter(|(n, d)| *d != 0 && *n > 0) {
                info.fps_rational = Some(Rational {
                    num: i64::from(n),
                    den: i64::from(d),
                });
                info.fps = Some(f64::from(n) / f64::from(d));
            }
        }
        if info.timecode.is_none() {
            info.timecode = h
                .timecode
                .and_then(Timecode::from_smpte_packed)
                .map(|t| t.to_string());
        }
        for (k, v) in &h.colour {
            info.colour.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &h.metadata {
            info.metadata.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if multi {
            info.part_list.push(Part {
                name: h.name.clone(),
                part_type: kinds[i].to_string(),
                data_window: h.data_window.unwrap_or(Window {
                    x_min: 0,
                    y_min: 0,
                    x_max: -1,
                    y_max: -1,
                }),
                compression: h
                    .compression
                    .and_then(compression)
                    .map(|c| c.0)
                    .unwrap_or("unknown")
                    .to_string(),
                chunks: counts[i],
            });
        }
    }
}

/// Every offset inside the file and past the tables; the last chunk complete.
fn check_chunks(
    src: &mut Source,
    kinds: &[&str],
    counts: &[u64],
    table_start: usize,
    multipart: bool,
) -> PResult<()> {
    let size = src.size();
    let total: u64 = counts.iter().fold(0u64, |a, &b| a.saturating_add(b));
    let table_end = (table_start as u64).saturating_add(total.saturating_mul(8));
    if table_end > size {
        return Err(Fail::Truncated(format!(
            "offset table of {total} chunks ends at byte {table_end}, but the file has {size} bytes"
        )));
    }
    let (mut zeros, mut inside, mut beyond) = (0u64, 0u64, 0u64);
    let mut first_beyond: Option<(u64, u64)> = None;
    let mut first_inside: Option<u64> = None;
    let mut max_off = 0u64;
    let mut buf = vec![0u8; (total.min(8192) * 8) as usize];
    let mut done = 0u64;
    while done < total {
        let n = (total - done).min(8192);
        let chunk = &mut buf[..(n * 8) as usize];
        src.read_at(table_start as u64 + done * 8, chunk)?;
        for (i, b) in chunk.chunks_exact(8).enumerate() {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            let off = u64::from_le_bytes(a);
            if off == 0 {
                zeros += 1;
            } else if off < table_end {
                inside += 1;
                first_inside.get_or_insert(off);
            } else if off >= size {
                beyond += 1;
                first_beyond.get_or_insert((done + i as u64, off));
            } else {
                max_off = max_off.max(off);
            }
        }
        done += n;
    }
    if let Some((idx, off)) = first_beyond {
        return Err(Fail::Truncated(format!(
            "{beyond} of {total} chunk offsets point past the end of the file ({size} bytes), \
             first chunk {idx} at offset {off}"
        )));
    }
    if zeros > 0 {
        return Err(Fail::Truncated(format!(
            "{zeros} of {total} offset-table entries are unwritten (0): the writer stopped early"
        )));
    }
    if let Some(off) = first_inside {
        return Err(Fail::Corrupt(format!(
            "{inside} chunk offsets point into the header/offset table (first {off}, table ends at {table_end})"
        )));
    }
    if total == 0 {
        return Ok(());
    }
    // The chunk that starts last must end inside the file.
    let mut hdr = [0u8; 44];
    let avail = (size - max_off).min(hdr.len() as u64) as usize;
    src.read_at(max_off, &mut hdr[..avail])?;
    let mut c = Cursor::new(&hdr[..avail], 0, Endian::Little);
    let cut = || {
        Fail::Truncated(format!(
            "the last chunk (offset {max_off}) is cut inside its chunk header; file has {size} bytes"
        ))
    };
    let kind = if multipart {
        let p = c.i32().ok_or_else(cut)?;
        match usize::try_from(p).ok().and_then(|p| kinds.get(p)) {
            Some(k) => *k,
            None => {
                return Err(Fail::Corrupt(format!(
                    "chunk at offset {max_off} names part {p}, but the file has {} parts",
                    kinds.len()
                )))
            }
        }
    } else {
        kinds[0]
    };
    let coords = if kind.ends_with("tile") || kind == "tiledimage" {
        16
    } else {
        4
    };
    c.bytes(coords).ok_or_else(cut)?;
    let data: u64 = if kind.starts_with("deep") {
        let table = c.u64().ok_or_else(cut)?;
        let packed = c.u64().ok_or_else(cut)?;
        c.u64().ok_or_else(cut)?;
        table.checked_add(packed).ok_or_else(|| {
            Fail::Corrupt(format!(
                "deep chunk at offset {max_off} has impossible sizes"
            ))
        })?
    } else {
        let s = c.i32().ok_or_else(cut)?;
        u64::try_from(s).map_err(|_| {
            Fail::Corrupt(format!("chunk at offset {max_off} has negative size {s}"))
        })?
    };
    let end = max_off
        .checked_add(c.pos() as u64)
        .and_then(|x| x.checked_add(data))
        .ok_or_else(|| Fail::Corrupt(format!("chunk at offset {max_off} overflows")))?;
    if end > size {
        return Err(Fail::Truncated(format!(
            "the last chunk (offset {max_off}) needs {data} data bytes and ends at byte {end}, \
             but the file has {size} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_counts() {
        assert_eq!(levels(1, false), 1);
        assert_eq!(levels(8, false), 4);
        assert_eq!(levels(9, false), 4);
        assert_eq!(levels(9, true), 5);
        assert_eq!(level_size(9, 1, false), 4);
        assert_eq!(level_size(9, 1, true), 5);
        assert_eq!(level_size(9, 10, true), 1);
    }

    #[test]
    fn scanline_chunks_follow_compression() {
        let h = Header {
            channels: vec![("R".into(), 1)],
            compression: Some(4),
            data_window: Some(Window {
                x_min: 0,
                y_min: 0,
                x_max: 9,
                y_max: 99,
            }),
            display_window: Some(Window {
                x_min: 0,
                y_min: 0,
                x_max: 9,
                y_max: 99,
            }),
            ..Header::default()
        };
        assert_eq!(chunk_count(&h, "scanlineimage", false), Ok(4)); // 100 lines / 32
    }

    #[test]
    fn hostile_header_is_corrupt_not_panic() {
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(b"channels\0chlist\0");
        v.extend_from_slice(&(-5i32).to_le_bytes());
        assert!(matches!(parse_all(&v), Err(HeaderErr::Corrupt(_))));
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&2u32.to_le_bytes());
        v.extend_from_slice(&[b'a'; 40]);
        assert!(matches!(parse_all(&v), Err(HeaderErr::Corrupt(_))));
    }
}
