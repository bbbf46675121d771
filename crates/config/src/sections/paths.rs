//! `paths:` section.

use std::collections::BTreeMap;

/// How paths written on other machines are read here. Scenes saved on Windows name
/// `P:/demo/…` or `\\nas\projects\…`; `map` turns such prefixes into this machine's mount
/// points before anything is looked up on disk:
///
/// ```yaml
/// paths:
///   map:
///     "P:/": /mnt/projects/
///     "//nas/projects/": /mnt/projects/
/// ```
///
/// The longest matching prefix wins; `\` and `/` are the same and letters compare
/// case-insensitively (drive letters).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathsConfig {
    /// Prefix → replacement.
    #[serde(deserialize_with = "map_checked")]
    pub map: BTreeMap<String, String>,
}

fn map_checked<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let m = <BTreeMap<String, String> as serde::Deserialize>::deserialize(d)?;
    for (k, v) in &m {
        if k.trim().is_empty() || v.trim().is_empty() {
            return Err(serde::de::Error::custom(format!(
                "invalid paths.map entry {k:?}: {v:?}: expected a non-empty prefix and replacement, e.g. \"P:/\": /mnt/projects/"
            )));
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    #[test]
    fn map_parses_and_empty_entries_are_refused() {
        let c = crate::parse_str("paths:\n  map:\n    \"P:/\": /mnt/projects/\n").unwrap();
        assert_eq!(
            c.paths.map.get("P:/").map(String::as_str),
            Some("/mnt/projects/")
        );
        let e = crate::parse_str("paths:\n  map:\n    \"P:/\": \"\"\n").unwrap_err();
        assert!(e.contains("paths.map") && e.contains("line 3"), "{e}");
        let e = crate::parse_str("paths:\n  mapp: {}\n").unwrap_err();
        assert!(e.contains("mapp"), "{e}");
    }
}
