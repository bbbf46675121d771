//! Radiance RGBE (`.hdr`): the text header (format, exposure, software, pixel aspect) and the
//! resolution line. Pixels are run-length coded per scanline, so integrity is limited to a
//! complete header and at least the minimum bytes the scanlines need.

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
    Ok(())
}
