//! SMPTE timecode: decoding the packed forms EXR and DPX store, formatting as `HH:MM:SS:FF`,
//! and frame arithmetic (drop-frame aware) for continuity checks across a sequence.

use serde::Serialize;

/// A SMPTE 12M timecode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Timecode {
    /// Hours 0–23.
    pub hours: u8,
    /// Minutes 0–59.
    pub minutes: u8,
    /// Seconds 0–59.
    pub seconds: u8,
    /// Frames within the second.
    pub frames: u8,
    /// Drop-frame counting (29.97/59.94 NTSC).
    pub drop_frame: bool,
}

fn bcd(value: u32, tens_bits: u32) -> Option<u8> {
    let units = value & 0xF;
    let tens = (value >> 4) & ((1 << tens_bits) - 1);
    (units <= 9 && tens <= 9).then_some((tens * 10 + units) as u8)
}

impl Timecode {
    /// Decodes the SMPTE 12M "TV60" packing OpenEXR uses for its `timeCode` attribute.
    /// `None` when a digit is not decimal or a field is out of range.
    pub fn from_smpte_packed(v: u32) -> Option<Timecode> {
        let tc = Timecode {
            frames: bcd(v & 0x3F, 2)?,
            drop_frame: v & (1 << 6) != 0,
            seconds: bcd((v >> 8) & 0x7F, 3)?,
            minutes: bcd((v >> 16) & 0x7F, 3)?,
            hours: bcd((v >> 24) & 0x3F, 2)?,
        };
        tc.valid().then_some(tc)
    }

    /// Decodes DPX's BCD `HHMMSSFF` word. `None` for the undefined value `0xFFFFFFFF` or a
    /// non-decimal digit.
    pub fn from_bcd(v: u32) -> Option<Timecode> {
        if v == u32::MAX {
            return None;
        }
        let tc = Timecode {
            hours: bcd((v >> 24) & 0xFF, 4)?,
            minutes: bcd((v >> 16) & 0xFF, 4)?,
            seconds: bcd((v >> 8) & 0xFF, 4)?,
            frames: bcd(v & 0xFF, 4)?,
            drop_frame: false,
        };
        tc.valid().then_some(tc)
    }

    /// Parses `HH:MM:SS:FF` (or `;`/`.` before the frames for drop-frame), as ffprobe prints.
    pub fn parse(s: &str) -> Option<Timecode> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 11 {
            return None;
        }
        let drop_frame = matches!(b[8], b';' | b'.' | b',');
        let num = |i: usize| -> Option<u8> {
            let t = (b[i] as char).to_digit(10)?;
            let u = (b[i + 1] as char).to_digit(10)?;
            Some((t * 10 + u) as u8)
        };
        let tc = Timecode {
            hours: num(0)?,
            minutes: num(3)?,
            seconds: num(6)?,
            frames: num(9)?,
            drop_frame,
        };
        (b[2] == b':' && b[5] == b':' && (b[8] == b':' || drop_frame) && tc.valid()).then_some(tc)
    }

    fn valid(&self) -> bool {
        self.hours < 24 && self.minutes < 60 && self.seconds < 60
    }

    /// Frames since 00:00:00:00 at the nominal (integer) rate, honouring drop-frame.
    pub fn to_frames(&self, nominal_fps: u32) -> i64 {
        let fps = i64::from(nominal_fps.max(1));
        let total_minutes = i64::from(self.hours) * 60 + i64::from(self.minutes);
        let mut n = (total_minutes * 60 + i64::from(self.seconds)) * fps + i64::from(self.frames);
        if self.drop_frame {
            let drop = drop_per_minute(nominal_fps);
            n -= drop * (total_minutes - total_minutes / 10);
        }
        n
    }

    /// The timecode `count` frames after midnight at the nominal rate (wrapping at 24 hours).
    pub fn from_frames(count: i64, nominal_fps: u32, drop_frame: bool) -> Timecode {
        let fps = i64::from(nominal_fps.max(1));
        let drop = if drop_frame {
            drop_per_minute(nominal_fps)
        } else {
            0
        };
        let per_day = if drop > 0 {
            // 24h of drop-frame: 1440 minutes minus drops in 1296 of them.
            24 * 60 * 60 * fps - drop * (24 * 60 - 24 * 6)
        } else {
            24 * 60 * 60 * fps
        };
        let mut n = count.rem_euclid(per_day);
        if drop > 0 {
            let per_10min = 10 * 60 * fps - 9 * drop;
            let per_min = 60 * fps - drop;
            let d = n / per_10min;
            let m = n % per_10min;
            n += 9 * drop * d;
            if m > drop {
                n += drop * ((m - drop) / per_min);
            }
        }
        let frames = n % fps;
        let secs = n / fps;
        Timecode {
            hours: ((secs / 3600) % 24) as u8,
            minutes: ((secs / 60) % 60) as u8,
            seconds: (secs % 60) as u8,
            frames: frames as u8,
            drop_frame: drop > 0,
        }
    }
}

fn drop_per_minute(nominal_fps: u32) -> i64 {
    // 2 frames per minute at 30, 4 at 60 (0 for rates where drop-frame is undefined).
    match nominal_fps {
        30 => 2,
        60 => 4,
        _ => 0,
    }
}

/// The integer counting rate timecode uses for a frame rate (23.976 counts at 24).
pub fn nominal_rate(fps: f64) -> u32 {
    if fps.is_finite() && fps > 0.0 && fps < 1000.0 {
        (fps.round() as u32).max(1)
    } else {
        24
    }
}

impl std::fmt::Display for Timecode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.drop_frame { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smpte_packed_round_trip() {
        // 01:02:03:04 packed as OpenEXR's TV60 layout.
        let v = 0x0102_0304;
        let tc = Timecode::from_smpte_packed(v).unwrap();
        assert_eq!(tc.to_string(), "01:02:03:04");
        assert!(
            Timecode::from_smpte_packed(0x0000_000A).is_none(),
            "frame digit 10"
        );
    }

    #[test]
    fn dpx_bcd() {
        assert_eq!(
            Timecode::from_bcd(0x1059_5923).unwrap().to_string(),
            "10:59:59:23"
        );
        assert!(Timecode::from_bcd(u32::MAX).is_none());
    }

    #[test]
    fn parse_and_frames() {
        let tc = Timecode::parse("01:00:00:00").unwrap();
        assert_eq!(tc.to_frames(24), 86400);
        assert_eq!(
            Timecode::from_frames(86401, 24, false).to_string(),
            "01:00:00:01"
        );
        assert!(Timecode::parse("1:00:00:00").is_none());
    }

    #[test]
    fn drop_frame_skips_frames_0_and_1() {
        let tc = Timecode::parse("00:00:59;29").unwrap();
        let next = Timecode::from_frames(tc.to_frames(30) + 1, 30, true);
        assert_eq!(next.to_string(), "00:01:00;02");
        let tenth = Timecode::parse("00:09:59;29").unwrap();
        let next = Timecode::from_frames(tenth.to_frames(30) + 1, 30, true);
        assert_eq!(next.to_string(), "00:10:00;00");
        for n in [0i64, 1799, 1800, 17982, 17983, 100_000] {
            let tc = Timecode::from_frames(n, 30, true);
            assert_eq!(tc.to_frames(30), n, "{tc}");
        }
    }
}
