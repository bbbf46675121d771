//! `thresholds:` section.

use std::collections::BTreeMap;

use crate::ByteSize;

/// Limits that turn measurements into findings.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThresholdsConfig {
    /// Disk usage above which `shotline disk` flags an entry, per level: `show`, `shot`, or any
    /// other layout field (`step`, `version`). Sizes are human (`"500 GiB"`, `"2T"`) or bytes.
    pub disk_warning: BTreeMap<String, ByteSize>,
    /// A frame smaller than this fraction of its neighbours' median size is a `size-outlier`
    /// (half-written or black frames are much smaller than their neighbours).
    pub size_outlier_ratio: f64,
    /// How many neighbours on each side form the median for the outlier check.
    pub size_outlier_window: usize,
}

impl Default for ThresholdsConfig {
    fn default() -> Self {
        Self {
            disk_warning: BTreeMap::new(),
            size_outlier_ratio: 0.5,
            size_outlier_window: 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_from_yaml_with_position_on_error() {
        let c = crate::parse_str(
            "thresholds:\n  disk_warning:\n    shot: 500 GiB\n    show: 1099511627776\n",
        )
        .unwrap();
        assert_eq!(c.thresholds.disk_warning["shot"], ByteSize(500 << 30));
        assert_eq!(c.thresholds.disk_warning["show"], ByteSize(1 << 40));
        let err = crate::parse_str("thresholds:\n  disk_warning:\n    shot: huge\n").unwrap_err();
        assert!(err.contains("huge") && err.contains('3'), "{err}");
    }

    #[test]
    fn layout_and_naming_parse() {
        let c = crate::parse_str(
            "layout:\n  preset: ramses\n  templates:\n    renders: \"{show}/r/{shot}\"\nnaming:\n  rules:\n    exr: '^x$'\n",
        )
        .unwrap();
        assert_eq!(c.layout.preset, Some(crate::LayoutPreset::Ramses));
        assert_eq!(c.layout.templates["renders"], "{show}/r/{shot}");
        assert_eq!(c.naming.rules["exr"], "^x$");
        let err = crate::parse_str("layout:\n  preset: maya\n").unwrap_err();
        assert!(err.contains("maya") || err.contains("variant"), "{err}");
        assert!(crate::parse_str("layout:\n  presets: ramses\n").is_err());
    }
}
