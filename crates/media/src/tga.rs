//! Truevision TGA: the 18-byte header (TGA has no magic, so the extension decides), the TGA 2.0
//! footer, and for uncompressed images the check that all pixel bytes are present.

use crate::info::{Channel, MediaInfo};
use crate::source::{Cursor, Endian, Fail, PResult, Source};

const FOOTER: &[u8; 18] = b"TRUEVISION-XFILE.\0";

/// Parses the header and checks the length of uncompressed pixel data.
pub(crate) fn probe(src: &mut Source, info: &mut MediaInfo) -> PResult<()> {
    let size = src.size();
    let h = src.head();
    if h.len() < 18 {
        return Err(Fail::Truncated(format!(
            "file is {size} bytes, shorter than the 18-byte TGA header"
        )));
    }
    let mut c = Cursor::new(h, 0, Endian::Little);
    let id_len = u64::from(c.u8().unwrap_or(0));
    let cmap_type = c.u8().unwrap_or(0);
    let image_type = c.u8().unwrap_or(0);
    let _cmap_first = c.u16();
    let cmap_len = u64::from(c.u16().unwrap_or(0));
    let cmap_bits = u64::from(c.u8().unwrap_or(0));
    let _x = c.u16();
    let _y = c.u16();
    let width = c.u16().unwrap_or(0);
    let height = c.u16().unwrap_or(0);
    let depth = c.u8().unwrap_or(0);
    let descriptor = c.u8().unwrap_or(0);
    if !matches!(image_type, 1 | 2 | 3 | 9 | 10 | 11) || cmap_type > 1 {
        return Err(Fail::Corrupt(format!(
            "not a TGA header: image type {image_type}, colour-map type {cmap_type}"
        )));
    }
    if !matches!(depth, 8 | 15 | 16 | 24 | 32) || width == 0 || height == 0 {
        return Err(Fail::Corrupt(format!(
            "TGA header says {width}x{height} at {depth} bits per pixel"
        )));
    }
    info.width = Some(u64::from(width));
    info.height = Some(u64::from(height));
    let alpha_bits = descriptor & 0x0F;
    let names: &[&str] = match (image_type, depth) {
        (1 | 9, _) => &["P"],
        (3 | 11, 16) => &["Y", "A"],
        (3 | 11, _) => &["Y"],
        (_, 32) => &["R", "G", "B", "A"],
        (_, 16 | 15) if alpha_bits > 0 => &["R", "G", "B", "A"],
        _ => &["R", "G", "B"],
    };
    let per = if depth >= 24 {
        8
    } else {
        u32::from(depth) / names.len().max(1) as u32
    };
    info.bit_depth = Some(per.max(1));
    for n in names {
        info.channels.push(Channel {
            name: (*n).into(),
            sample_type: format!("uint{}", per.max(1)),
            part: None,
        });
    }
    let rle = image_type >= 9;
    info.compression = Some(if rle { "rle" } else { "none" }.into());
    info.tiled = Some(false);
    let tail = src.tail(26)?;
    if tail.len() == 26 && &tail[8..] == FOOTER {
        info.metadata.insert("tga_version".into(), "2.0".into());
    }
    let header = 18 + id_len + cmap_len * cmap_bits.div_ceil(8);
    if rle {
        if size <= header {
            return Err(Fail::Truncated(format!(
                "no pixel data after the {header}-byte header"
            )));
        }
        return Ok(());
    }
    let pixels = u64::from(width) * u64::from(height) * u64::from(depth).div_ceil(8);
    let need = header + pixels;
    if size < need {
        return Err(Fail::Truncated(format!(
            "uncompressed TGA needs {need} bytes, the file has {size}"
        )));
    }
    Ok(())
}
