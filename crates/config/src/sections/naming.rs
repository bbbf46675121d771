//! `naming:` section.

use std::collections::BTreeMap;

/// Naming rules: a regex per kind of file, plus which names are junk or noise.
///
/// Rules are keyed by kind: `sequence` (every frame of an image sequence), `movie`
/// (mov/mp4/mxf/…), `file` (any other single file), or a file extension such as `exr` or `nk`,
/// which wins over the generic kinds. A rule may use the layout's fields (`{show}`, `{shot}`,
/// `{step}`…); they are replaced by the values parsed from the file's directory.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamingConfig {
    /// Kind → regex matched against the whole file name.
    pub rules: BTreeMap<String, String>,
    /// Extensions expected in render trees (lowercase, no dot). Empty: any extension.
    pub extensions: Vec<String>,
    /// File names never reported (simple globs: `*` and `?`), e.g. sidecars.
    pub ignore: Vec<String>,
    /// File names always reported as unexpected (temp files, editor backups, NFS leftovers).
    pub unexpected: Vec<String>,
}

impl Default for NamingConfig {
    fn default() -> Self {
        Self {
            rules: BTreeMap::new(),
            extensions: Vec::new(),
            ignore: ["_ramses_data.json", ".DS_Store", "Thumbs.db", "desktop.ini"]
                .map(String::from)
                .to_vec(),
            unexpected: ["*.tmp", "*.part", "*~", ".nfs*", "*.swp", "._*"]
                .map(String::from)
                .to_vec(),
        }
    }
}
