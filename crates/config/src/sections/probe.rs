//! `probe:` section.

use std::path::PathBuf;

/// Longest ffprobe timeout accepted: one day. Anything longer is a typo, and an unbounded value
/// would overflow the deadline arithmetic.
pub const MAX_FFPROBE_TIMEOUT_SECS: u64 = 86_400;
/// Most files probed in parallel per batch.
pub const MAX_BATCH_SIZE: usize = 65_536;

/// Media probing settings. Images are read natively; only movies need an external tool, and
/// studios often pin a specific ffprobe build, so its location is configurable.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeConfig {
    /// The ffprobe executable: a bare name looked up on `PATH`, or a path (relative paths are
    /// resolved against the project root by the caller).
    pub ffprobe: PathBuf,
    /// Seconds to wait for one ffprobe run before giving up on that file, so a hung network
    /// mount cannot stall a whole probe. 1 to [`MAX_FFPROBE_TIMEOUT_SECS`].
    #[serde(deserialize_with = "timeout_secs")]
    pub ffprobe_timeout_secs: u64,
    /// Files probed in parallel per batch; bounds memory on very long sequences.
    /// 1 to [`MAX_BATCH_SIZE`].
    #[serde(deserialize_with = "batch_size")]
    pub batch_size: usize,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            ffprobe: PathBuf::from("ffprobe"),
            ffprobe_timeout_secs: 60,
            batch_size: 512,
        }
    }
}

fn timeout_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = <u64 as serde::Deserialize>::deserialize(d)?;
    if (1..=MAX_FFPROBE_TIMEOUT_SECS).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "probe.ffprobe_timeout_secs is {v}: expected 1 to {MAX_FFPROBE_TIMEOUT_SECS} seconds"
        )))
    }
}

fn batch_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let v = <usize as serde::Deserialize>::deserialize(d)?;
    if (1..=MAX_BATCH_SIZE).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "probe.batch_size is {v}: expected 1 to {MAX_BATCH_SIZE} files"
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timeout_and_batch_are_bounded_with_a_location() {
        let e =
            crate::parse_str("probe:\n  ffprobe_timeout_secs: 18446744073709551615\n").unwrap_err();
        assert!(
            e.contains("ffprobe_timeout_secs") && e.contains("86400"),
            "{e}"
        );
        assert!(e.contains('2'), "line named: {e}");
        let e = crate::parse_str("probe:\n  ffprobe_timeout_secs: 0\n").unwrap_err();
        assert!(e.contains("expected 1 to"), "{e}");
        let e = crate::parse_str("probe:\n  batch_size: 0\n").unwrap_err();
        assert!(e.contains("batch_size"), "{e}");
        let ok = crate::parse_str("probe:\n  ffprobe_timeout_secs: 5\n  batch_size: 8\n").unwrap();
        assert_eq!(ok.probe.ffprobe_timeout_secs, 5);
        assert_eq!(ok.probe.batch_size, 8);
    }
}
