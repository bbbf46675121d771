//! DPX (SMPTE 268M) headers, both byte orders, parsed by hand from the fixed 2048-byte header:
//! file information (0), image information (768), orientation (1408), film (1664) and television
//! (1920) headers. Undefined fields are all-ones (`0xFFFFFFFF`) and are reported as absent.

use crate::info::{Channel, MediaInfo};
use crate::source::{fixed_str, Cursor, Endian, Fail, PResult, Source};
use crate::timecode::Timecode;

/// Size of the generic + industry headers this parser reads.
const HEADER: usize = 2048;

fn descriptor_channels(d: u8) -> &'static [&'static str] {
    match d {
        1 => &["R"],
        2 => &["G"],
        3 => &["B"],
        4 => &["A"],
        6 => &["Y"],
        7 => &["CbCr"],
        8 => &["Z"],
        9 => &["composite"],
        50 => &["R", "G", "B"],
        51 => &["R", "G", "B", "A"],
        52 => &["A", "B", "G", "R"],
        100 => &["Cb", "Y", "Cr", "Y"],
        101 => &["Cb", "Y", "A", "Cr", "Y", "A"],
        102 => &["Cb", "Y", "Cr"],
        103 => &["Cb", "Y", "Cr", "A"],
        _ => &["?"],
    }
}

/// Transfer characteristic / colorimetric specification names (SMPTE 268M table 5A/5B).
fn transfer_name(t: u8) -> String {
    match t {
        0 => "user-defined",
        1 => "printing density",
        2 => "linear",
        3 => "logarithmic",
        4 => "unspecified video",
        5 => "SMPTE 274M",
        6 => "ITU-R 709-4",
        7 => "ITU-R 601-5 B/G",
        8 => "ITU-R 601-5 M",
        9 => "NTSC composite",
        10 => "PAL composite",
        11 => "Z linear",
        12 => "Z homogeneous",
        13 => "SMPTE ADX",
        14 => "ITU-R 2020 NCL",
        15 => "ITU-R 2020 CL",
        16 => "IEC 61966-2-4 xvYCC",
        17 => "ITU-R 2100 NCL/PQ",
        18 => "ITU-R 2100 ICtCp/PQ",
        19 => "ITU-R 2100 NCL/HLG",
        20 => "ITU-R 2100 ICtCp/HLG",
        21 => "RP 431-2:2011 gamma 2.6",
        22 => "IEC 61966-2-1 sRGB",
        other => return format!("unknown({other})"),
    }
    .to_string()
}

fn defined_u32(v: u32) -> Option<u32> {
    (v != u32::MAX).then_some(v)
}

fn defined_f32(v: f32) -> Option<f32> {
    (v.is_finite() && v > 0.0).then_some(v)
}

/// A frame rate only when it is one: writers leave garbage here (ffmpeg 5 writes a denormal),
/// and reporting `0.000 fps` would turn every such file into an fps mismatch.
fn plausible_fps(v: f32) -> Option<f32> {
    (v.is_normal() && (1.0..=1000.0).contains(&v)).then_some(v)
}

/// Parses the header, fills `info`, then compares the header's file size with the real one.
pub(crate) fn probe(src: &mut Source, info: &mut MediaInfo) -> PResult<()> {
    let size = src.size();
    let head = src.head();
    let endian = match head.get(0..4) {
        Some(b"SDPX") => Endian::Big,
        Some(b"XPDS") => Endian::Little,
        Some(m) if head.len() >= 4 => {
            return Err(Fail::Corrupt(format!(
                "bad magic {m:02x?}: expected \"SDPX\" (big-endian) or \"XPDS\" (little-endian)"
            )))
        }
        _ => return Err(Fail::Truncated(format!("file is only {size} bytes"))),
    };
    // The generic header ends at 1664; the industry headers (film, TV) fill up to 2048.
    if head.len() < 1664 {
        return Err(Fail::Truncated(format!(
            "file is {size} bytes, shorter than the 1664-byte DPX generic header"
        )));
    }
    let h = &head[..head.len().min(HEADER)];
    let at = |off: usize| Cursor::new(h, off, endian);
    let u32_at = |off: usize| at(off).u32();
    let u16_at = |off: usize| at(off).u16();
    let f32_at = |off: usize| at(off).f32();
    let str_at = |off: usize, len: usize| h.get(off..off + len).and_then(fixed_str);

    let image_offset = u32_at(4).unwrap_or(0);
    let header_size = u32_at(16).and_then(defined_u32);
    if let Some(v) = str_at(8, 8) {
        info.metadata.insert("version".into(), v);
    }
    for (key, off, len) in [
        ("filename", 36, 100),
        ("creation_time", 136, 24),
        ("creator", 160, 100),
        ("project", 260, 200),
        ("copyright", 460, 200),
        ("input_device", 1556, 32),
        ("input_serial", 1588, 32),
    ] {
        if let Some(v) = str_at(off, len) {
            info.metadata.insert(key.into(), v);
        }
    }
    let elements = u16_at(770).unwrap_or(0);
    let width = u32_at(772).and_then(defined_u32);
    let height = u32_at(776).and_then(defined_u32);
    if elements == 0 || elements > 8 {
        return Err(Fail::Corrupt(format!(
            "DPX header says {elements} image elements (expected 1 to 8)"
        )));
    }
    if width.unwrap_or(0) == 0 || height.unwrap_or(0) == 0 {
        return Err(Fail::Corrupt(format!(
            "DPX image size {}x{} is not valid",
            width.map_or("undefined".into(), |w| w.to_string()),
            height.map_or("undefined".into(), |w| w.to_string())
        )));
    }
    info.width = width.map(u64::from);
    info.height = height.map(u64::from);
    // Element 0 describes the picture; more elements (stereo, alpha planes) are listed too.
    for e in 0..usize::from(elements) {
        let base = 780 + e * 72;
        let descriptor = h.get(base + 20).copied().unwrap_or(0);
        let transfer = h.get(base + 21).copied().unwrap_or(0);
        let colorimetric = h.get(base + 22).copied().unwrap_or(0);
        let bits = h.get(base + 23).copied().unwrap_or(0);
        let packing = u16_at(base + 24).unwrap_or(0);
        let encoding = u16_at(base + 26).unwrap_or(0);
        let sample = match bits {
            32 => "float".to_string(),
            64 => "double".to_string(),
            b => format!("uint{b}"),
        };
        for name in descriptor_channels(descriptor) {
            info.channels.push(Channel {
                name: (*name).to_string(),
                sample_type: sample.clone(),
                part: None,
            });
        }
        if e == 0 {
            info.bit_depth = Some(u32::from(bits));
            info.compression = Some(if encoding == 1 { "rle" } else { "none" }.into());
            info.metadata.insert(
                "packing".into(),
                match packing {
                    0 => "packed".to_string(),
                    1 => "filled (method A)".to_string(),
                    2 => "filled (method B)".to_string(),
                    p => format!("unknown({p})"),
                },
            );
            info.colour
                .insert("transfer".into(), transfer_name(transfer));
            info.colour
                .insert("colorimetric".into(), transfer_name(colorimetric));
            if let Some(d) = str_at(base + 40, 32) {
                info.metadata.insert("description".into(), d);
            }
        }
    }
    info.tiled = Some(false);
    // Orientation header: pixel aspect as a ratio of two integers.
    if let (Some(a), Some(b)) = (
        u32_at(1628).and_then(defined_u32),
        u32_at(1632).and_then(defined_u32),
    ) {
        if a > 0 && b > 0 {
            info.pixel_aspect = Some(f64::from(a) / f64::from(b));
        }
    }
    // Industry headers (present in practically every file; tolerate their absence).
    if h.len() >= HEADER {
        if let Some(v) = str_at(1680, 32) {
            info.metadata.insert("film_format".into(), v);
        }
        if let Some(v) = str_at(1732, 32) {
            info.metadata.insert("frame_id".into(), v);
        }
        if let Some(v) = str_at(1764, 100) {
            info.metadata.insert("slate".into(), v);
        }
        let film_rate = f32_at(1724).and_then(plausible_fps);
        let tv_rate = f32_at(1940).and_then(plausible_fps);
        info.fps = film_rate.or(tv_rate).map(f64::from);
        info.timecode = u32_at(1920)
            .and_then(Timecode::from_bcd)
            .map(|t| t.to_string());
        if let Some(g) = f32_at(1948).and_then(defined_f32) {
            info.colour.insert("gamma".into(), g.to_string());
        }
    }
    // Integrity: the header's total file size against the real one.
    if u64::from(image_offset) > size {
        return Err(Fail::Truncated(format!(
            "image data starts at byte {image_offset}, but the file has {size} bytes"
        )));
    }
    match header_size {
        Some(expected) if u64::from(expected) > size => Err(Fail::Truncated(format!(
            "DPX header says the file is {expected} bytes, but it has {size}"
        ))),
        Some(expected) if u64::from(expected) < size => Err(Fail::Corrupt(format!(
            "DPX header says the file is {expected} bytes, but it has {size} (extra data or a bad header)"
        ))),
        Some(_) => Ok(()),
        None => {
            info.reason = Some("DPX header does not record the file size; not checked".into());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plausible_fps;

    #[test]
    fn garbage_frame_rates_are_unknown_not_zero() {
        assert_eq!(plausible_fps(24.0), Some(24.0));
        assert_eq!(plausible_fps(23.976), Some(23.976));
        // What ffmpeg 5's DPX encoder leaves in the film header's frame-rate field.
        assert_eq!(
            plausible_fps(f32::from_be_bytes([0x00, 0xf0, 0x3f, 0x00])),
            None
        );
        assert_eq!(plausible_fps(0.0), None);
        assert_eq!(plausible_fps(f32::NAN), None);
        assert_eq!(plausible_fps(-24.0), None);
    }
}
