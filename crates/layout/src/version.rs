//! Version numbers: parsed from and formatted to `v001` in one place.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

/// A version number: 1 or more. Formats as `v` and at least three digits (`v001`, `v1234`),
/// the spelling every tree, manifest and message uses; [`VersionNumber::digits`] gives the bare
/// digits for layouts that spell versions without the `v` (Ramses `_published/003/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionNumber(NonZeroU32);

/// The largest version number accepted: folder names stay short and arithmetic on numbers
/// read from disk or a database can never overflow.
pub const MAX_VERSION: u32 = 999_999;

impl VersionNumber {
    /// The first version.
    pub const FIRST: VersionNumber = VersionNumber(NonZeroU32::MIN);

    /// `n` as a version number, when it is in `1..=MAX_VERSION`.
    pub fn new(n: u32) -> Option<VersionNumber> {
        if n > MAX_VERSION {
            return None;
        }
        NonZeroU32::new(n).map(VersionNumber)
    }

    /// `n` from a database integer column, when it is in range.
    pub fn from_i64(n: i64) -> Option<VersionNumber> {
        u32::try_from(n).ok().and_then(VersionNumber::new)
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The next number, or `None` past [`MAX_VERSION`].
    pub fn next(self) -> Option<VersionNumber> {
        VersionNumber::new(self.get().checked_add(1)?)
    }

    /// The previous number, or `None` below 1.
    pub fn prev(self) -> Option<VersionNumber> {
        VersionNumber::new(self.get().checked_sub(1)?)
    }

    /// Zero-padded digits without the `v`: `001`.
    pub fn digits(self) -> String {
        version_digits(self.get())
    }
}

impl fmt::Display for VersionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.digits())
    }
}

/// `n` as a version's bare digits (`001`), for records that keep the number as a plain
/// integer (ledgers, reports); the one place the padding is decided.
pub fn version_digits(n: u32) -> String {
    format!("{n:03}")
}

/// `n` spelled as a version (`v001`), for records that keep the number as a plain integer.
pub fn version_label(n: u32) -> String {
    format!("v{}", version_digits(n))
}

/// A string that is not a version number; names the value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a version number: expected v001, 001 or 1 (1 to {MAX_VERSION})")]
pub struct ParseVersionError {
    /// The text that was given.
    pub value: String,
}

impl FromStr for VersionNumber {
    type Err = ParseVersionError;

    /// Accepts `v001`, `V001`, `001` and `1`.
    fn from_str(s: &str) -> Result<VersionNumber, ParseVersionError> {
        let err = || ParseVersionError { value: s.into() };
        let digits = s.strip_prefix(['v', 'V']).unwrap_or(s);
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        digits
            .parse::<u32>()
            .ok()
            .and_then(VersionNumber::new)
            .ok_or_else(err)
    }
}

impl serde::Serialize for VersionNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.get())
    }
}

impl<'de> serde::Deserialize<'de> for VersionNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(d)?;
        VersionNumber::new(n).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "version number {n} is out of range (1 to {MAX_VERSION})"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_three_digits_or_more() {
        assert_eq!(VersionNumber::new(1).unwrap().to_string(), "v001");
        assert_eq!(VersionNumber::new(1234).unwrap().to_string(), "v1234");
        assert_eq!(VersionNumber::new(7).unwrap().digits(), "007");
    }

    #[test]
    fn parses_common_spellings() {
        for s in ["v001", "V001", "001", "1", "v1"] {
            assert_eq!(s.parse::<VersionNumber>().unwrap().get(), 1, "{s}");
        }
    }

    #[test]
    fn refuses_zero_signs_and_overflow() {
        for s in [
            "",
            "v",
            "v0",
            "0",
            "-1",
            "+1",
            "v1.5",
            "99999999999",
            "v1000000",
            "vv1",
        ] {
            assert!(s.parse::<VersionNumber>().is_err(), "{s}");
        }
        assert!(VersionNumber::new(MAX_VERSION).unwrap().next().is_none());
        assert!(VersionNumber::FIRST.prev().is_none());
        assert!(VersionNumber::from_i64(-1).is_none());
        assert!(VersionNumber::from_i64(i64::MAX).is_none());
    }
}
