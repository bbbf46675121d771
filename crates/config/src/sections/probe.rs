//! `probe:` section.

use std::path::PathBuf;

/// Media probing settings. Images are read natively; only movies need an external tool, and
/// studios often pin a specific ffprobe build, so its location is configurable.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeConfig {
    /// The ffprobe executable: a bare name looked up on `PATH`, or a path (relative paths are
    /// resolved against the project root by the caller).
    pub ffprobe: PathBuf,
    /// Seconds to wait for one ffprobe run before giving up on that file, so a hung network
    /// mount cannot stall a whole probe.
    pub ffprobe_timeout_secs: u64,
    /// Files probed in parallel per batch; bounds memory on very long sequences.
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
