//! JPEG: marker walk up to the first scan (frame header for size/precision/components, JFIF
//! density, Exif via the TIFF IFD reader, ICC and Adobe markers), and the integrity check: the
//! file ends with EOI (`FF D9`).
//!
//! Trailing zero bytes after EOI are accepted (some cameras and writers pad to a block size),
//! with a note in `reason`; zeros *without* an EOI before them are a truncated file (the tell-tale
//! of a preallocated file whose writer died).

use crate::info::{Channel, MediaInfo};
use crate::source::{clip, Fail, PResult, Source};
use crate::tiff;

/// How far back from the end EOI is searched for behind zero padding.
const TAIL: usize = 4096;

fn sof_name(m: u8) -> Option<&'static str> {
    Some(match m {
        0xC0 => "baseline",
        0xC1 => "extended",
        0xC2 => "progressive",
        0xC3 => "lossless",
        0xC5 => "differential-sequential",
        0xC6 => "differential-progressive",
        0xC7 => "differential-lossless",
        0xC9 => "extended-arithmetic",
        0xCA => "progressive-arithmetic",
        0xCB => "lossless-arithmetic",
        0xCD..=0xCF => "differential-arithmetic",
        _ => return None,
    })
}

/// Walks the markers to the first SOS, then checks the tail for EOI.
pub(crate) fn probe(src: &mut Source, info: &mut MediaInfo) -> PResult<()> {
    let size = src.size();
    let mut b2 = [0u8; 2];
    if size < 2 {
        return Err(Fail::Truncated(format!("file is only {size} bytes")));
    }
    src.read_at(0, &mut b2)?;
    if b2 != [0xFF, 0xD8] {
        return Err(Fail::Corrupt(format!(
            "bad magic {b2:02x?}: expected the JPEG start-of-image marker ff d8"
        )));
    }
    let mut pos = 2u64;
    let mut found_sof = false;
    let mut found_sos = false;
    for _ in 0..4096 {
        let mut m = [0u8; 2];
        if src.read_at(pos, &mut m).is_err() {
            break;
        }
        if m[0] != 0xFF {
            return Err(Fail::Corrupt(format!(
                "expected a marker at offset {pos}, found byte {:#04x}",
                m[0]
            )));
        }
        if m[1] == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        let marker = m[1];
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            pos += 2;
            continue;
        }
        if marker == 0xD9 {
            return Err(Fail::Corrupt(format!(
                "end-of-image marker at offset {pos} before any image data"
            )));
        }
        let mut l = [0u8; 2];
        if src.read_at(pos + 2, &mut l).is_err() {
            break;
        }
        let len = u64::from(u16::from_be_bytes(l));
        if len < 2 {
            return Err(Fail::Corrupt(format!(
                "marker {marker:#04x} at offset {pos} has length {len}"
            )));
        }
        if marker == 0xDA {
            found_sos = true;
            break;
        }
        let wanted =
            sof_name(marker).is_some() || matches!(marker, 0xE0 | 0xE1 | 0xE2 | 0xEE | 0xFE);
        if wanted {
            let data = match src.read_vec(pos + 4, (len - 2) as usize) {
                Ok(d) => d,
                Err(Fail::Truncated(_)) => break,
                Err(e) => return Err(e),
            };
            segment(marker, &data, info);
            if sof_name(marker).is_some() {
                found_sof = true;
            }
        }
        pos += 2 + len;
    }
    if !found_sof {
        return Err(if found_sos {
            Fail::Corrupt("no frame header (SOF) before the first scan".into())
        } else {
            Fail::Truncated(format!(
                "file ends inside the JPEG header ({size} bytes, no frame header found)"
            ))
        });
    }
    if !found_sos {
        return Err(Fail::Truncated(
            "file ends before the first scan (SOS)".into(),
        ));
    }
    let tail = src.tail(TAIL)?;
    let body = tail.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    let padding = tail.len() - body;
    if body >= 2 && tail[body - 2..body] == [0xFF, 0xD9] {
        if padding > 0 {
            info.reason = Some(format!(
                "{padding} bytes of zero padding after end-of-image"
            ));
        }
        Ok(())
    } else if padding > 0 {
        Err(Fail::Truncated(format!(
            "no end-of-image marker (ff d9); the file ends with {padding} zero bytes"
        )))
    } else {
        Err(Fail::Truncated(
            "no end-of-image marker (ff d9) at the end of the file".into(),
        ))
    }
}

fn segment(marker: u8, data: &[u8], info: &mut MediaInfo) {
    if let Some(name) = sof_name(marker) {
        if data.len() >= 6 {
            let precision = data[0];
            let height = u16::from_be_bytes([data[1], data[2]]);
            let width = u16::from_be_bytes([data[3], data[4]]);
            let comps = data[5];
            info.width = Some(u64::from(width));
            info.height = Some(u64::from(height));
            info.bit_depth = Some(u32::from(precision));
            info.compression = Some(name.into());
            info.tiled = Some(false);
            let names: &[&str] = match comps {
                1 => &["Y"],
                3 => &["Y", "Cb", "Cr"],
                4 => &["C", "M", "Y", "K"],
                _ => &[],
            };
            info.channels = (0..usize::from(comps))
                .map(|i| Channel {
                    name: names.get(i).map_or(format!("c{i}"), |n| (*n).to_string()),
                    sample_type: format!("uint{precision}"),
                    part: None,
                })
                .collect();
        }
        return;
    }
    match marker {
        0xE0 if data.starts_with(b"JFIF\0") && data.len() >= 12 => {
            let units = data[7];
            let x = u16::from_be_bytes([data[8], data[9]]);
            let y = u16::from_be_bytes([data[10], data[11]]);
            if x > 0 && y > 0 && x != y {
                info.pixel_aspect = Some(f64::from(y) / f64::from(x));
            }
            if units != 0 {
                info.metadata.insert(
                    "density".into(),
                    format!("{x}x{y} {}", if units == 1 { "dpi" } else { "dpcm" }),
                );
            }
        }
        0xE1 if data.starts_with(b"Exif\0\0") => {
            let mut s = tiff::Slice(&data[6..]);
            if let Ok((l, ifd0)) = tiff::header(&mut s) {
                if let Ok((entries, _)) = tiff::read_ifd(&mut s, l, ifd0) {
                    tiff::descriptive(&mut s, l, &entries, info);
                }
            }
        }
        0xE2 if data.starts_with(b"ICC_PROFILE\0") => {
            info.colour.insert("icc_profile".into(), "embedded".into());
        }
        0xEE if data.starts_with(b"Adobe") && data.len() >= 12 => {
            let t = match data[11] {
                0 => "rgb/cmyk",
                1 => "ycbcr",
                2 => "ycck",
                _ => "unknown",
            };
            info.colour.insert("adobe_transform".into(), t.into());
        }
        0xFE => {
            info.metadata
                .insert("comment".into(), clip(&String::from_utf8_lossy(data)));
        }
        _ => {}
    }
}
