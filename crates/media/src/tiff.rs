//! TIFF and BigTIFF: the first IFD's tags, the page count, and the strip/tile check (every strip or
//! tile lies inside the file). The IFD reader also serves the Exif block inside JPEGs.

use std::io;

use crate::info::{Channel, MediaInfo};
use crate::source::{clip, Endian, Fail, PResult, Source};

/// Positioned reads over a file or a buffer (an Exif block), so one IFD reader serves both.
pub(crate) trait ByteSource {
    /// Total length.
    fn len(&self) -> u64;
    /// Exactly `buf.len()` bytes at `off`.
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl ByteSource for Source {
    fn len(&self) -> u64 {
        self.size()
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        Source::read_at(self, off, buf)
    }
}

/// A TIFF structure held in memory (the Exif APP1 segment of a JPEG).
pub(crate) struct Slice<'a>(pub(crate) &'a [u8]);

impl ByteSource for Slice<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(off).map_err(|_| eof())?;
        let end = start.checked_add(buf.len()).ok_or_else(eof)?;
        buf.copy_from_slice(self.0.get(start..end).ok_or_else(eof)?);
        Ok(())
    }
}

fn eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "read past end")
}

/// Most entries one IFD may have before it is called corrupt.
const MAX_ENTRIES: u64 = 4096;
/// Most pages counted.
const MAX_PAGES: u32 = 1024;

/// One IFD entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    tag: u16,
    typ: u16,
    count: u64,
    /// Inline value bytes, or the offset of the values.
    raw: [u8; 8],
}

/// The byte order and classic/Big layout of a TIFF structure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    endian: Endian,
    big: bool,
}

fn type_size(t: u16) -> u64 {
    match t {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => 1,
    }
}

impl Layout {
    fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        match self.endian {
            Endian::Big => u16::from_be_bytes(a),
            Endian::Little => u16::from_le_bytes(a),
        }
    }
    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self.endian {
            Endian::Big => u32::from_be_bytes(a),
            Endian::Little => u32::from_le_bytes(a),
        }
    }
    fn u64(&self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        match self.endian {
            Endian::Big => u64::from_be_bytes(a),
            Endian::Little => u64::from_le_bytes(a),
        }
    }
    fn inline_len(&self) -> u64 {
        if self.big {
            8
        } else {
            4
        }
    }
    /// Where an entry's values live: inline (None) or at an offset.
    fn value_offset(&self, e: &Entry) -> Option<u64> {
        let bytes = e.count.saturating_mul(type_size(e.typ));
        if bytes <= self.inline_len() {
            None
        } else if self.big {
            Some(self.u64(&e.raw))
        } else {
            Some(u64::from(self.u32(&e.raw)))
        }
    }
}

/// Reads the 8/16-byte TIFF header: layout and first IFD offset.
pub(crate) fn header(src: &mut dyn ByteSource) -> PResult<(Layout, u64)> {
    let mut h = [0u8; 16];
    let n = src.len().min(16) as usize;
    src.read_at(0, &mut h[..n])?;
    if n < 8 {
        return Err(Fail::Truncated(format!("file is only {n} bytes")));
    }
    let endian = match &h[0..2] {
        b"II" => Endian::Little,
        b"MM" => Endian::Big,
        m => {
            return Err(Fail::Corrupt(format!(
                "bad magic {m:02x?}: expected \"II\" or \"MM\""
            )))
        }
    };
    let mut l = Layout { endian, big: false };
    match l.u16(&h[2..4]) {
        42 => Ok((l, u64::from(l.u32(&h[4..8])))),
        43 => {
            if n < 16 {
                return Err(Fail::Truncated("BigTIFF header is cut".into()));
            }
            l.big = true;
            Ok((l, l.u64(&h[8..16])))
        }
        v => Err(Fail::Corrupt(format!(
            "TIFF version {v}: expected 42 (TIFF) or 43 (BigTIFF)"
        ))),
    }
}

/// Reads one IFD: its entries and the offset of the next IFD (0 at the end).
pub(crate) fn read_ifd(
    src: &mut dyn ByteSource,
    l: Layout,
    off: u64,
) -> PResult<(Vec<Entry>, u64)> {
    let len = src.len();
    if off < 8 || off >= len {
        return Err(if off >= len {
            Fail::Truncated(format!(
                "IFD at offset {off} lies past the end of the file ({len} bytes)"
            ))
        } else {
            Fail::Corrupt(format!("IFD offset {off} points into the TIFF header"))
        });
    }
    let (count_len, entry_len, next_len) = if l.big { (8, 20, 8) } else { (2, 12, 4) };
    let mut cb = [0u8; 8];
    src.read_at(off, &mut cb[..count_len])?;
    let count = if l.big {
        l.u64(&cb)
    } else {
        u64::from(l.u16(&cb))
    };
    if count == 0 || count > MAX_ENTRIES {
        return Err(Fail::Corrupt(format!(
            "IFD at offset {off} has {count} entries (expected 1 to {MAX_ENTRIES})"
        )));
    }
    let body_len = (count * entry_len + next_len) as usize;
    let mut body = vec![0u8; body_len];
    src.read_at(off + count_len as u64, &mut body)?;
    let mut entries = Vec::with_capacity(count as usize);
    for e in body[..(count * entry_len) as usize].chunks_exact(entry_len as usize) {
        let mut raw = [0u8; 8];
        let (cnt, val) = if l.big {
            (l.u64(&e[4..12]), &e[12..20])
        } else {
            (u64::from(l.u32(&e[4..8])), &e[8..12])
        };
        raw[..val.len()].copy_from_slice(val);
        entries.push(Entry {
            tag: l.u16(&e[0..2]),
            typ: l.u16(&e[2..4]),
            count: cnt,
            raw,
        });
    }
    let nb = &body[(count * entry_len) as usize..];
    let next = if l.big {
        l.u64(nb)
    } else {
        u64::from(l.u32(nb))
    };
    Ok((entries, next))
}

fn find(entries: &[Entry], tag: u16) -> Option<&Entry> {
    entries.iter().find(|e| e.tag == tag)
}

/// Calls `f(index, value)` for each integer value of `e`, reading in bounded blocks.
fn for_each_uint(
    src: &mut dyn ByteSource,
    l: Layout,
    e: &Entry,
    mut f: impl FnMut(u64, u64) -> bool,
) -> PResult<()> {
    let size = type_size(e.typ);
    if !matches!(e.typ, 1 | 3 | 4 | 16 | 13 | 18) {
        return Err(Fail::Corrupt(format!(
            "tag {} has type {} where an integer type was expected",
            e.tag, e.typ
        )));
    }
    let total = e.count.saturating_mul(size);
    let read_one = |b: &[u8]| -> u64 {
        match size {
            1 => u64::from(b[0]),
            2 => u64::from(l.u16(b)),
            4 => u64::from(l.u32(b)),
            _ => l.u64(b),
        }
    };
    match l.value_offset(e) {
        None => {
            for i in 0..e.count {
                let s = (i * size) as usize;
                if !f(i, read_one(&e.raw[s..s + size as usize])) {
                    break;
                }
            }
        }
        Some(off) => {
            if off.saturating_add(total) > src.len() {
                return Err(Fail::Truncated(format!(
                    "values of tag {} ({} bytes at offset {off}) lie past the end of the file",
                    e.tag, total
                )));
            }
            const BLOCK: u64 = 64 * 1024;
            let mut buf = vec![0u8; total.min(BLOCK) as usize];
            let mut done = 0u64;
            let mut idx = 0u64;
            while done < total {
                let n = (total - done).min(BLOCK);
                let b = &mut buf[..n as usize];
                src.read_at(off + done, b)?;
                for v in b.chunks_exact(size as usize) {
                    if !f(idx, read_one(v)) {
                        return Ok(());
                    }
                    idx += 1;
                }
                done += n;
            }
        }
    }
    Ok(())
}

fn first_uint(src: &mut dyn ByteSource, l: Layout, e: Option<&Entry>) -> PResult<Option<u64>> {
    let Some(e) = e else { return Ok(None) };
    let mut out = None;
    for_each_uint(src, l, e, |_, v| {
        out = Some(v);
        false
    })?;
    Ok(out)
}

fn uints(src: &mut dyn ByteSource, l: Layout, e: Option<&Entry>, max: u64) -> PResult<Vec<u64>> {
    let mut out = Vec::new();
    if let Some(e) = e {
        for_each_uint(src, l, e, |i, v| {
            out.push(v);
            i + 1 < max
        })?;
    }
    Ok(out)
}

/// An ASCII tag's text (at most 4 KiB), or `None` when absent or unreadable.
pub(crate) fn ascii(src: &mut dyn ByteSource, l: Layout, e: Option<&Entry>) -> Option<String> {
    let e = e?;
    if e.typ != 2 && e.typ != 7 && e.typ != 1 {
        return None;
    }
    let n = e.count.min(4096) as usize;
    let bytes = match l.value_offset(e) {
        None => e.raw[..n.min(8)].to_vec(),
        Some(off) => {
            let mut v = vec![0u8; n];
            src.read_at(off, &mut v).ok()?;
            v
        }
    };
    crate::source::fixed_str(&bytes).map(|s| clip(&s))
}

fn rational(src: &mut dyn ByteSource, l: Layout, e: Option<&Entry>) -> Option<f64> {
    let e = e?;
    if e.typ != 5 {
        return None;
    }
    let off = l.value_offset(e).unwrap_or(0);
    let mut b = [0u8; 8];
    if l.value_offset(e).is_none() {
        b.copy_from_slice(&e.raw);
    } else {
        src.read_at(off, &mut b).ok()?;
    }
    let (n, d) = (l.u32(&b[0..4]), l.u32(&b[4..8]));
    (d != 0).then(|| f64::from(n) / f64::from(d))
}

/// Descriptive tags shared by TIFF files and Exif blocks.
pub(crate) fn descriptive(
    src: &mut dyn ByteSource,
    l: Layout,
    entries: &[Entry],
    info: &mut MediaInfo,
) {
    for (tag, key) in [
        (270u16, "description"),
        (271, "make"),
        (272, "model"),
        (305, "software"),
        (306, "datetime"),
        (315, "artist"),
        (316, "host_computer"),
        (33432, "copyright"),
    ] {
        if let Some(v) = ascii(src, l, find(entries, tag)) {
            info.metadata.insert(key.into(), v);
        }
    }
    // Exif sub-IFD: capture date.
    if let Ok(Some(exif)) = first_uint(src, l, find(entries, 34665)) {
        if let Ok((sub, _)) = read_ifd(src, l, exif) {
            for (tag, key) in [(36867u16, "capture_date"), (36868, "digitized_date")] {
                if let Some(v) = ascii(src, l, find(&sub, tag)) {
                    info.metadata.insert(key.into(), v);
                }
            }
        }
    }
}

fn compression_name(c: u64) -> String {
    match c {
        1 => "none",
        2 => "ccitt-rle",
        3 => "ccitt-g3",
        4 => "ccitt-g4",
        5 => "lzw",
        6 => "ojpeg",
        7 => "jpeg",
        8 | 32946 => "deflate",
        32773 => "packbits",
        34887 => "lerc",
        34925 => "lzma",
        50000 => "zstd",
        50001 => "webp",
        other => return format!("unknown({other})"),
    }
    .to_string()
}

/// Parses a TIFF file: first IFD, page count, and the strip/tile bounds check.
pub(crate) fn probe(src: &mut Source, info: &mut MediaInfo) -> PResult<()> {
    let (l, ifd0) = header(src)?;
    let (entries, mut next) = read_ifd(src, l, ifd0)?;
    let width = first_uint(src, l, find(&entries, 256))?;
    let height = first_uint(src, l, find(&entries, 257))?;
    let (Some(width), Some(height)) = (width, height) else {
        return Err(Fail::Corrupt(
            "first IFD has no ImageWidth/ImageLength tag".into(),
        ));
    };
    info.width = Some(width);
    info.height = Some(height);
    let spp = first_uint(src, l, find(&entries, 277))?
        .unwrap_or(1)
        .clamp(1, 64);
    let bits = uints(src, l, find(&entries, 258), 64)?;
    let bit_depth = bits.first().copied().unwrap_or(1);
    info.bit_depth = Some(bit_depth as u32);
    let sample_format = first_uint(src, l, find(&entries, 339))?.unwrap_or(1);
    let photometric = first_uint(src, l, find(&entries, 262))?;
    let extra = uints(src, l, find(&entries, 338), 64)?;
    let base: &[&str] = match photometric {
        Some(0) | Some(1) => &["Y"],
        Some(2) => &["R", "G", "B"],
        Some(3) => &["P"],
        Some(4) => &["mask"],
        Some(5) => &["C", "M", "Y", "K"],
        Some(6) => &["Y", "Cb", "Cr"],
        Some(8) | Some(9) | Some(10) => &["L", "a", "b"],
        _ => &[],
    };
    for i in 0..spp as usize {
        let name = match base.get(i) {
            Some(n) => (*n).to_string(),
            None if !extra.is_empty() && i >= spp as usize - extra.len() => "A".to_string(),
            None => format!("extra{i}"),
        };
        let b = bits.get(i).copied().unwrap_or(bit_depth);
        let kind = match (sample_format, b) {
            (3, 16) => "half".to_string(),
            (3, 32) => "float".to_string(),
            (3, 64) => "double".to_string(),
            (2, b) => format!("int{b}"),
            (_, b) => format!("uint{b}"),
        };
        info.channels.push(Channel {
            name,
            sample_type: kind,
            part: None,
        });
    }
    if let Some(p) = photometric {
        let name = match p {
            0 => "min-is-white",
            1 => "min-is-black",
            2 => "rgb",
            3 => "palette",
            5 => "separated (cmyk)",
            6 => "ycbcr",
            8 => "cielab",
            32844 | 32845 => "logluv",
            _ => "other",
        };
        info.colour.insert("photometric".into(), name.into());
    }
    if let Some(icc) = find(&entries, 34675) {
        info.colour.insert(
            "icc_profile".into(),
            format!("embedded ({} bytes)", icc.count),
        );
    }
    info.compression = Some(compression_name(
        first_uint(src, l, find(&entries, 259))?.unwrap_or(1),
    ));
    let xres = rational(src, l, find(&entries, 282));
    let yres = rational(src, l, find(&entries, 283));
    if let (Some(x), Some(y)) = (xres, yres) {
        if x > 0.0 && y > 0.0 {
            info.pixel_aspect = Some(y / x);
        }
    }
    descriptive(src, l, &entries, info);
    // Pages: follow the IFD chain (bounded, loop-safe).
    let mut pages = 1u32;
    let mut seen = vec![ifd0];
    while next != 0 && pages < MAX_PAGES && !seen.contains(&next) {
        seen.push(next);
        match read_ifd(src, l, next) {
            Ok((_, n)) => {
                pages += 1;
                next = n;
            }
            Err(Fail::Io(e)) => return Err(Fail::Io(e)),
            Err(_) => {
                return Err(Fail::Truncated(format!(
                    "IFD of page {} at offset {next} is missing or cut",
                    pages + 1
                )))
            }
        }
    }
    info.parts = Some(pages);
    // Strips or tiles must lie inside the file.
    let tiled = find(&entries, 322).is_some() || find(&entries, 324).is_some();
    info.tiled = Some(tiled);
    let (off_tag, count_tag, what) = if tiled {
        (324, 325, "tile")
    } else {
        (273, 279, "strip")
    };
    let (Some(offs), Some(counts)) = (
        find(&entries, off_tag).cloned(),
        find(&entries, count_tag).cloned(),
    ) else {
        return Err(Fail::Corrupt(format!(
            "first IFD has no {what} offsets/byte counts"
        )));
    };
    if offs.count != counts.count {
        return Err(Fail::Corrupt(format!(
            "{} {what} offsets but {} byte counts",
            offs.count, counts.count
        )));
    }
    let size = src.len();
    if offs.count > size {
        return Err(Fail::Corrupt(format!(
            "{} {what}s cannot fit in a {size}-byte file",
            offs.count
        )));
    }
    // Sizes first (kept only up to a million strips, beyond that only offsets are checked),
    // then offsets, both read in bounded blocks.
    let n = offs.count;
    let mut sizes: Vec<u64> = Vec::new();
    let keep = n <= 1 << 20;
    if keep {
        for_each_uint(src, l, &counts, |_, v| {
            sizes.push(v);
            true
        })?;
    }
    let mut bad: Option<(u64, u64, u64)> = None;
    for_each_uint(src, l, &offs, |i, off| {
        let len = if keep {
            sizes.get(i as usize).copied().unwrap_or(0)
        } else {
            0
        };
        if off.saturating_add(len) > size {
            bad = Some((i, off, len));
            return false;
        }
        true
    })?;
    if let Some((i, off, len)) = bad {
        return Err(Fail::Truncated(format!(
            "{what} {i} of {n} ({len} bytes at offset {off}) lies past the end of the file ({size} bytes)"
        )));
    }
    Ok(())
}
