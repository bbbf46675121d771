//! `thresholds:` section.

use std::collections::BTreeMap;

/// Limits that turn measurements into findings.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThresholdsConfig {
    /// Disk usage above which `shotline disk` flags an entry, per level: `show`, `shot`, or any
    /// other layout field (`step`, `version`). Sizes are human (`"500 GiB"`, `"2T"`) or bytes.
    pub disk_warning: BTreeMap<String, DiskSize>,
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

/// A disk size written the way storage people write it (named apart from the render section's
/// `ByteSize`, which reads `GB` as binary; storage vendors and quotas mean 10^9). Accepts an integer (bytes) or a string:
/// binary units `KiB MiB GiB TiB PiB` and the bare letters `K M G T P` (as `du` and `df` use
/// them) are powers of 1024; `kB KB MB GB TB PB` are powers of 1000. Fractions are allowed
/// (`"1.5 TiB"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DiskSize(pub u64);

impl DiskSize {
    /// Parses a human size; the error says what was expected.
    pub fn parse(text: &str) -> Result<DiskSize, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let expected = || {
            format!(
                "invalid size {text:?}: expected a number and a unit such as \"500 GiB\", \"2T\" or \"750 GB\""
            )
        };
        let value: f64 = num.parse().map_err(|_| expected())?;
        let mult: f64 = match unit.trim() {
            "" | "B" | "b" => 1.0,
            "K" | "k" | "KiB" | "kiB" => 1024.0,
            "M" | "MiB" => 1024f64.powi(2),
            "G" | "GiB" => 1024f64.powi(3),
            "T" | "TiB" => 1024f64.powi(4),
            "P" | "PiB" => 1024f64.powi(5),
            "kB" | "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            "PB" => 1e15,
            _ => return Err(expected()),
        };
        let bytes = value * mult;
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(format!("size {text:?} is too large"));
        }
        Ok(DiskSize(bytes.round() as u64))
    }
}

impl serde::Serialize for DiskSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for DiskSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DiskSize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size in bytes or a string such as \"500 GiB\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DiskSize, E> {
                Ok(DiskSize(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DiskSize, E> {
                u64::try_from(v)
                    .map(DiskSize)
                    .map_err(|_| E::custom(format!("size {v} is negative")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DiskSize, E> {
                DiskSize::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        assert_eq!(DiskSize::parse("500 GiB").unwrap().0, 500 << 30);
        assert_eq!(DiskSize::parse("2T").unwrap().0, 2 << 40);
        assert_eq!(DiskSize::parse("1.5 KiB").unwrap().0, 1536);
        assert_eq!(DiskSize::parse("750 GB").unwrap().0, 750_000_000_000);
        assert_eq!(DiskSize::parse("12").unwrap().0, 12);
        assert!(DiskSize::parse("lots").is_err());
        assert!(DiskSize::parse("5 XB").is_err());
    }

    #[test]
    fn thresholds_from_yaml_with_position_on_error() {
        let c = crate::parse_str(
            "thresholds:\n  disk_warning:\n    shot: 500 GiB\n    show: 1099511627776\n",
        )
        .unwrap();
        assert_eq!(c.thresholds.disk_warning["shot"], DiskSize(500 << 30));
        assert_eq!(c.thresholds.disk_warning["show"], DiskSize(1 << 40));
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
