//! PNG: signature, IHDR, the ancillary chunks before the first IDAT (text, gamma, sRGB, ICC,
//! chromaticities, physical pixel size), and the integrity check: the file ends with IEND.

use crate::info::{Channel, MediaInfo};
use crate::source::{clip, Cursor, Endian, Fail, PResult, Source};

/// The eight signature bytes.
pub(crate) const MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// The complete IEND chunk (length 0, type, CRC) every PNG ends with.
const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// Parses the header chunks in the head buffer, then checks the tail for IEND.
pub(crate) fn probe(src: &mut Source, info: &mut MediaInfo) -> PResult<()> {
    let size = src.size();
    let h = src.head();
    if h.len() < 8 {
        return Err(Fail::Truncated(format!("file is only {size} bytes")));
    }
    if h[..8] != MAGIC {
        return Err(Fail::Corrupt(format!(
            "bad signature {:02x?}: expected the PNG signature {MAGIC:02x?}",
            &h[..8]
        )));
    }
    let mut c = Cursor::new(h, 8, Endian::Big);
    let mut first = true;
    let mut saw_idat = false;
    while let (Some(len), Some(kind)) = (c.u32(), c.bytes(4)) {
        if len > 0x7FFF_FFFF {
            return Err(Fail::Corrupt(format!(
                "chunk {:?} has length {len} (PNG allows at most 2^31-1)",
                String::from_utf8_lossy(kind)
            )));
        }
        let kind: [u8; 4] = [kind[0], kind[1], kind[2], kind[3]];
        if first && &kind != b"IHDR" {
            return Err(Fail::Corrupt("first chunk is not IHDR".into()));
        }
        first = false;
        if &kind == b"IDAT" {
            saw_idat = true;
            break;
        }
        let Some(data) = c.bytes(len as usize) else {
            break;
        };
        c.u32(); // CRC
        let mut d = Cursor::new(data, 0, Endian::Big);
        match &kind {
            b"IHDR" => {
                let (Some(w), Some(ht), Some(depth), Some(ct)) = (d.u32(), d.u32(), d.u8(), d.u8())
                else {
                    return Err(Fail::Corrupt("IHDR chunk is too short".into()));
                };
                let _ = d.u8();
                let _ = d.u8();
                let interlace = d.u8().unwrap_or(0);
                if w == 0 || ht == 0 {
                    return Err(Fail::Corrupt(format!("IHDR size {w}x{ht} is not valid")));
                }
                info.width = Some(u64::from(w));
                info.height = Some(u64::from(ht));
                info.bit_depth = Some(u32::from(depth));
                let names: &[&str] = match ct {
                    0 => &["Y"],
                    2 => &["R", "G", "B"],
                    3 => &["P"],
                    4 => &["Y", "A"],
                    6 => &["R", "G", "B", "A"],
                    _ => return Err(Fail::Corrupt(format!("unknown PNG colour type {ct}"))),
                };
                for n in names {
                    info.channels.push(Channel {
                        name: (*n).into(),
                        sample_type: format!("uint{depth}"),
                        part: None,
                    });
                }
                info.compression = Some("deflate".into());
                info.tiled = Some(false);
                if interlace == 1 {
                    info.metadata.insert("interlace".into(), "adam7".into());
                }
            }
            b"gAMA" => {
                if let Some(g) = d.u32() {
                    info.colour
                        .insert("gamma".into(), format!("{}", f64::from(g) / 100000.0));
                }
            }
            b"sRGB" => {
                info.colour.insert("srgb".into(), "true".into());
            }
            b"iCCP" => {
                let name = data.split(|&b| b == 0).next().unwrap_or_default();
                info.colour
                    .insert("icc_profile".into(), clip(&String::from_utf8_lossy(name)));
            }
            b"cHRM" => {
                let v: Vec<f64> = (0..8)
                    .filter_map(|_| d.u32().map(|x| f64::from(x) / 100000.0))
                    .collect();
                if v.len() == 8 {
                    info.colour.insert(
                        "chromaticities".into(),
                        format!(
                            "R {} {} G {} {} B {} {} W {} {}",
                            v[2], v[3], v[4], v[5], v[6], v[7], v[0], v[1]
                        ),
                    );
                }
            }
            b"pHYs" => {
                if let (Some(x), Some(y)) = (d.u32(), d.u32()) {
                    if x > 0 && y > 0 && x != y {
                        info.pixel_aspect = Some(f64::from(y) / f64::from(x));
                    }
                }
            }
            b"tEXt" | b"iTXt" => {
                let mut parts = data.splitn(2, |&b| b == 0);
                let key = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
                let mut value = parts.next().unwrap_or_default();
                if &kind == b"iTXt" {
                    // compression flag, method, language\0, translated keyword\0, text
                    if value.first() == Some(&1) {
                        continue;
                    }
                    value = value.get(2..).unwrap_or_default();
                    let mut rest = value.splitn(3, |&b| b == 0);
                    rest.next();
                    rest.next();
                    value = rest.next().unwrap_or_default();
                }
                if !key.is_empty() && info.metadata.len() < 128 {
                    info.metadata
                        .insert(key, clip(&String::from_utf8_lossy(value)));
                }
            }
            _ => {}
        }
    }
    if info.width.is_none() {
        return Err(if src.head_is_whole_file() {
            Fail::Truncated(format!("file ends before the IHDR chunk ({size} bytes)"))
        } else {
            Fail::Corrupt("no IHDR chunk".into())
        });
    }
    if !saw_idat && src.head_is_whole_file() {
        return Err(Fail::Truncated(
            "file ends before any image data (IDAT)".into(),
        ));
    }
    let tail = src.tail(IEND.len())?;
    if tail != IEND {
        return Err(Fail::Truncated(
            "the file does not end with the IEND chunk".into(),
        ));
    }
    Ok(())
}
