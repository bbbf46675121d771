//! Radiance RGBE (`.hdr`): the text header (format, exposure, software, pixel aspect) and the
//! resolution line. Integrity: the run-length coded scanlines are walked (run headers read,
//! literal bytes skipped, nothing kept), so a file cut anywhere in its pixels is `truncated`
//! and a run that overflows its scanline is `corrupt`.

use std::io::{self, BufRead, Read};

use crate::info::{Channel, MediaInfo};
use crate::source::{clip, Fail, PResult, Source};

/// Parses the header lines and the resolution string.
pub(crate) fn probe(src: &mut Source, info: &mut MediaInfo) -> PResult<()> {
    let size = src.size();
    let h = src.head();
    if !(h.starts_with(b"#?RADIANCE") || h.starts_with(b"#?RGBE")) {
        return Err(Fail::Corrupt(
            "bad magic: expected \"#?RADIANCE\" or \"#?RGBE\"".into(),
        ));
    }
    let mut pos = 0usize;
    let mut lines = 0;
    let mut resolution = None;
    while let Some(nl) = h[pos..].iter().position(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(&h[pos..pos + nl]).into_owned();
        pos += nl + 1;
        lines += 1;
        if lines > 1000 {
            break;
        }
        if line.is_empty() {
            // The next line is the resolution string.
            if let Some(nl2) = h[pos..].iter().position(|&b| b == b'\n') {
                resolution = Some(String::from_utf8_lossy(&h[pos..pos + nl2]).into_owned());
                pos += nl2 + 1;
            }
            break;
        }
        if let Some((k, v)) = line.split_once('=') {
            match k {
                "FORMAT" => {
                    info.colour.insert("format".into(), clip(v));
                }
                "EXPOSURE" => {
                    info.colour.insert("exposure".into(), clip(v));
                }
                "GAMMA" => {
                    info.colour.insert("gamma".into(), clip(v));
                }
                "PRIMARIES" => {
                    info.colour.insert("chromaticities".into(), clip(v));
                }
                "PIXASPECT" => info.pixel_aspect = v.trim().parse().ok(),
                "SOFTWARE" => {
                    info.metadata.insert("software".into(), clip(v));
                }
                _ => {}
            }
        }
    }
    let Some(res) = resolution else {
        return Err(if src.head_is_whole_file() {
            Fail::Truncated("file ends inside the Radiance header".into())
        } else {
            Fail::Corrupt("no resolution line within the first 64 KiB".into())
        });
    };
    let parts: Vec<&str> = res.split_whitespace().collect();
    let (w, ht) = match parts.as_slice() {
        [a, y, b, x] if a.ends_with('Y') && b.ends_with('X') => (x.parse().ok(), y.parse().ok()),
        [a, x, b, y] if a.ends_with('X') && b.ends_with('Y') => (x.parse().ok(), y.parse().ok()),
        _ => (None, None),
    };
    let (Some(w), Some(ht)) = (w, ht) else {
        return Err(Fail::Corrupt(format!("bad resolution line {res:?}")));
    };
    let (w, ht): (u64, u64) = (w, ht);
    info.width = Some(w);
    info.height = Some(ht);
    for n in ["R", "G", "B"] {
        info.channels.push(Channel {
            name: n.into(),
            sample_type: "rgbe".into(),
            part: None,
        });
    }
    info.compression = Some("rle".into());
    info.tiled = Some(false);
    // Every scanline needs at least its 4-byte run header (or 4 bytes of flat pixels).
    let min = (pos as u64).saturating_add(ht.saturating_mul(4));
    if size < min {
        return Err(Fail::Truncated(format!(
            "{ht} scanlines need at least {min} bytes, the file has {size}"
        )));
    }
    check_scanlines(src, pos as u64, w, ht)
}

/// Walks every scanline's runs from `start`: `Truncated` naming the scanline when the file ends
/// first, `Corrupt` when a run overflows its scanline. Each step consumes at least one byte of
/// the file, so the walk is bounded by the file size whatever the header declares.
fn check_scanlines(src: &mut Source, start: u64, w: u64, h: u64) -> PResult<()> {
    let mut r = src.reader_at(start)?;
    // Flat / old-style RLE pixels already counted past the current scanline.
    let mut carried = 0u64;
    for y in 0..h {
        let cut = |e: io::Error| match e.kind() {
            io::ErrorKind::UnexpectedEof => Fail::Truncated(format!(
                "file ends in scanline {y} of {h} (the pixels are cut short)"
            )),
            _ => Fail::Io(e),
        };
        if carried >= w {
            carried -= w;
            continue;
        }
        let mut first = [0u8; 4];
        r.read_exact(&mut first).map_err(cut)?;
        let new_rle =
            (8..=0x7fff).contains(&w) && first[0] == 2 && first[1] == 2 && first[2] < 0x80;
        if new_rle {
            let declared = u64::from(u16::from_be_bytes([first[2], first[3]]));
            if declared != w {
                return Err(Fail::Corrupt(format!(
                    "scanline {y} declares width {declared}, the header says {w}"
                )));
            }
            for component in 0..4 {
                rle_component(&mut r, w).map_err(|e| match e {
                    RunError::Io(e) => cut(e),
                    RunError::Overflow(x) => Fail::Corrupt(format!(
                        "scanline {y} component {component}: a run reaches pixel {x} of {w}"
                    )),
                    RunError::Empty => Fail::Corrupt(format!(
                        "scanline {y} component {component}: a zero-length run"
                    )),
                })?;
            }
        } else {
            carried = flat_pixels(&mut r, first, w.saturating_sub(carried)).map_err(cut)?;
        }
    }
    Ok(())
}

/// Why one component's runs are wrong.
enum RunError {
    Io(io::Error),
    Overflow(u64),
    Empty,
}

/// One component of a new-style RLE scanline: `n > 128` repeats the next byte `n - 128` times,
/// otherwise `n` literal bytes follow (skipped unread).
fn rle_component<R: BufRead>(r: &mut R, w: u64) -> Result<(), RunError> {
    let mut x = 0u64;
    while x < w {
        let mut n = [0u8; 1];
        r.read_exact(&mut n).map_err(RunError::Io)?;
        let n = n[0];
        let (count, skip) = if n > 128 {
            (u64::from(n - 128), 1)
        } else {
            (u64::from(n), u64::from(n))
        };
        if count == 0 {
            return Err(RunError::Empty);
        }
        skip_bytes(r, skip).map_err(RunError::Io)?;
        x += count;
        if x > w {
            return Err(RunError::Overflow(x));
        }
    }
    Ok(())
}

/// Skips `n` bytes, failing with `UnexpectedEof` when the file has fewer.
fn skip_bytes<R: BufRead>(r: &mut R, n: u64) -> io::Result<()> {
    let got = io::copy(&mut r.by_ref().take(n), &mut io::sink())?;
    if got < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// Flat or old-style RLE pixels (4 bytes each; `1,1,1,n` repeats the previous pixel `n << shift`
/// times) until `need` pixels are covered. Returns how many pixels ran past them.
fn flat_pixels<R: Read>(r: &mut R, first: [u8; 4], need: u64) -> io::Result<u64> {
    let mut x = 1u64;
    let mut shift = 0u32;
    let mut p = first;
    loop {
        if x >= need {
            return Ok(x - need);
        }
        r.read_exact(&mut p)?;
        if p[0] == 1 && p[1] == 1 && p[2] == 1 {
            x = x.saturating_add(u64::from(p[3]) << shift.min(32));
            shift = (shift + 8).min(32);
        } else {
            x += 1;
            shift = 0;
        }
    }
}
