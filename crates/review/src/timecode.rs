//! Non-drop-frame SMPTE timecode as a frame count at a whole nominal rate.

use crate::error::{Result, ReviewError};

/// A timecode: frames since midnight at `rate` frames per second (non-drop-frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timecode {
    /// Frames since 00:00:00:00.
    pub frames: u64,
    /// Nominal whole rate (24 for 23.976).
    pub rate: u32,
}

const DAY_SECS: u64 = 24 * 3600;

impl Timecode {
    /// Parses `HH:MM:SS:FF`. Drop-frame (`;`) is refused: burn-ins count non-drop frames and
    /// would silently drift from a drop-frame source.
    pub fn parse(text: &str, rate: u32) -> Result<Timecode> {
        let bad = |expected: &str| ReviewError::Invalid {
            what: "timecode",
            value: text.to_string(),
            expected: expected.to_string(),
        };
        if text.contains(';') {
            return Err(bad(
                "non-drop-frame HH:MM:SS:FF (drop-frame timecode is not supported)",
            ));
        }
        let parts: Vec<u64> = text
            .split(':')
            .map(|p| p.trim().parse::<u64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad("HH:MM:SS:FF"))?;
        let [h, m, s, f] = parts[..] else {
            return Err(bad("HH:MM:SS:FF"));
        };
        if h >= 24 || m >= 60 || s >= 60 || f >= u64::from(rate) {
            return Err(bad(&format!("HH<24, MM<60, SS<60, FF<{rate}")));
        }
        Ok(Timecode {
            frames: ((h * 60 + m) * 60 + s) * u64::from(rate) + f,
            rate,
        })
    }

    /// Midnight.
    pub fn zero(rate: u32) -> Timecode {
        Timecode { frames: 0, rate }
    }

    /// Moved by `delta` frames, wrapping around midnight like a timecode clock does.
    pub fn offset(self, delta: i64) -> Timecode {
        let day = DAY_SECS * u64::from(self.rate);
        let d = delta.rem_euclid(day as i64) as u64;
        Timecode {
            frames: (self.frames % day + d) % day,
            rate: self.rate,
        }
    }
}

impl std::fmt::Display for Timecode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = u64::from(self.rate.max(1));
        let secs = self.frames / r;
        write!(
            f,
            "{:02}:{:02}:{:02}:{:02}",
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
            self.frames % r
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrap() {
        let t = Timecode::parse("01:00:00:00", 24).unwrap();
        assert_eq!(t.frames, 86400);
        assert_eq!(t.offset(-1).to_string(), "00:59:59:23");
        assert_eq!(Timecode::zero(25).offset(-1).to_string(), "23:59:59:24");
        assert!(Timecode::parse("00:00:00;00", 30).is_err());
        assert!(Timecode::parse("00:00:00:24", 24).is_err());
        assert!(Timecode::parse("1:2", 24).is_err());
    }
}
