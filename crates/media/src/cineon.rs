//! Kodak Cineon headers (the 1990s film-scan format DPX grew from). Big-endian normally,
//! little-endian files exist; the magic tells which.

use crate::info::{Channel, MediaInfo};
use crate::source::{fixed_str, Cursor, Endian, Fail, PResult, Source};

/// Big-endian magic.
pub(crate) const MAGIC_BE: [u8; 4] = [0x80, 0x2A, 0x5F, 0xD7];
/// Little-endian magic.
pub(crate) const MAGIC_LE: [u8; 4] = [0xD7, 0x5F, 0x2A, 0x80];

/// Parses the file and image information headers and checks the recorded file size.
pub(crate) fn probe(src: &mut Source, info: &mut MediaInfo) -> PResult<()> {
    let size = src.size();
    let h = src.head();
    let endian = match h.get(0..4) {
        Some(m) if m == MAGIC_BE => Endian::Big,
        Some(m) if m == MAGIC_LE => Endian::Little,
        Some(m) => {
            return Err(Fail::Corrupt(format!(
                "bad magic {m:02x?}: expected Cineon magic 80 2a 5f d7"
            )))
        }
        None => return Err(Fail::Truncated(format!("file is only {size} bytes"))),
    };
    if h.len() < 224 {
        return Err(Fail::Truncated(format!(
            "file is {size} bytes, shorter than the Cineon image header"
        )));
    }
    let u32_at = |off: usize| Cursor::new(h, off, endian).u32();
    let image_offset = u32_at(4).unwrap_or(0);
    let file_size = u32_at(20).unwrap_or(0);
    if let Some(v) = h.get(24..32).and_then(fixed_str) {
        info.metadata.insert("version".into(), v);
    }
    if let Some(v) = h.get(32..132).and_then(fixed_str) {
        info.metadata.insert("filename".into(), v);
    }
    let date = h.get(132..144).and_then(fixed_str);
    let time = h.get(144..156).and_then(fixed_str);
    if let Some(d) = date {
        info.metadata.insert(
            "creation_time".into(),
            match time {
                Some(t) => format!("{d} {t}"),
                None => d,
            },
        );
    }
    let channels = h[193];
    if channels == 0 || channels > 8 {
        return Err(Fail::Corrupt(format!(
            "Cineon header says {channels} channels (expected 1 to 8)"
        )));
    }
    let bits = h[198];
    let width = u32_at(200).unwrap_or(0);
    let height = u32_at(204).unwrap_or(0);
    if width == 0 || height == 0 || width == u32::MAX || height == u32::MAX {
        return Err(Fail::Corrupt(format!(
            "Cineon image size {width}x{height} is not valid"
        )));
    }
    info.width = Some(u64::from(width));
    info.height = Some(u64::from(height));
    info.bit_depth = Some(u32::from(bits));
    let names: &[&str] = if channels == 3 {
        &["R", "G", "B"]
    } else {
        &["Y"]
    };
    for i in 0..usize::from(channels) {
        info.channels.push(Channel {
            name: names.get(i).copied().unwrap_or("?").to_string(),
            sample_type: format!("uint{bits}"),
            part: None,
        });
    }
    info.compression = Some("none".into());
    info.colour
        .insert("transfer".into(), "printing density (log)".into());
    if u64::from(image_offset) > size {
        return Err(Fail::Truncated(format!(
            "image data starts at byte {image_offset}, but the file has {size} bytes"
        )));
    }
    if file_size != 0 && file_size != u32::MAX && u64::from(file_size) != size {
        let status = if u64::from(file_size) > size {
            Fail::Truncated
        } else {
            Fail::Corrupt
        };
        return Err(status(format!(
            "Cineon header says the file is {file_size} bytes, but it has {size}"
        )));
    }
    Ok(())
}
