//! `thresholds:` section.

/// Limits that turn measurements into findings.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThresholdsConfig {}
