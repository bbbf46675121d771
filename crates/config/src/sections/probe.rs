//! `probe:` section.

/// Media probing: e.g. where ffprobe lives.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeConfig {}
