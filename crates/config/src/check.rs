//! Value checks run while deserialising, so a bad value is reported with the file, line and
//! column of the key, like a syntax error, instead of surfacing later as a wrong result.

use serde::{Deserialize, Deserializer};

/// A frame rate: finite, above 0 and at most 1000 fps. `0`, `-24` and `.nan` are refused here
/// because every duration and timecode computed from them would be meaningless.
pub fn fps<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v > 0.0 && v <= 1000.0 {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "frame rate {v} is out of range: expected a number above 0 and at most 1000 (24, 23.976, 25)"
        )))
    }
}

/// A positive, finite ratio such as a pixel aspect (at most 100).
pub fn ratio<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v > 0.0 && v <= 100.0 {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "ratio {v} is out of range: expected a number above 0 and at most 100 (1.0, 2.0)"
        )))
    }
}

/// An image dimension in pixels: 1 to 65536.
pub fn pixels<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if (1..=65_536).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "{v} pixels is out of range: expected 1 to 65536"
        )))
    }
}

/// A code that becomes a path component (project, show): empty (unset) or one safe component.
pub fn code<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = String::deserialize(d)?;
    if !v.is_empty() {
        shotline_layout::check_component("code", &v).map_err(serde::de::Error::custom)?;
    }
    Ok(v)
}

/// A frame number inside the range every command accepts (±1,000,000,000), so arithmetic on
/// it never overflows.
pub fn frame<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = i64::deserialize(d)?;
    if (-MAX_FRAME..=MAX_FRAME).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "frame {v} is out of range: expected -{MAX_FRAME} to {MAX_FRAME}"
        )))
    }
}

/// The largest frame number a config value may hold.
pub const MAX_FRAME: i64 = 1_000_000_000;
