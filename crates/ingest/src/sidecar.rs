//! The `_ramses_data.json` sidecar written into each version folder.
//!
//! Ramses keeps per-file metadata (comment, version, date, state) in a JSON object keyed by file
//! name next to the files; writing the same shape lets Ramses clients show ingested versions, and
//! the extra keys (source, checksum) keep the provenance with the frames. The file is merged
//! through `shotline_ramses::metadata`, its one reader and writer: entries and keys written by
//! Ramses clients or other tools survive a resumed ingest.

use std::path::Path;

use serde_json::{json, Map, Value};

/// The sidecar file name Ramses reads.
pub const SIDECAR_FILE: &str = shotline_ramses::metadata::FILE_NAME;

/// Metadata for one file of a version.
#[derive(Debug, Clone)]
pub struct SidecarFile {
    /// File name inside the version folder.
    pub name: String,
    /// Where it came from.
    pub source: String,
    /// Checksum and algorithm.
    pub hash: String,
}

/// Merges this version's files into the sidecar of a version folder (creating it when absent).
#[allow(clippy::too_many_arguments)]
pub fn write_sidecar(
    dir: &Path,
    version: u32,
    state: &str,
    comment: &str,
    date: &str,
    algo: &str,
    files: &[SidecarFile],
) -> Result<(), shotline_ramses::RamsesError> {
    let entries: Vec<(&str, Map<String, Value>)> = files
        .iter()
        .map(|f| {
            let mut keys = Map::new();
            keys.insert("comment".into(), json!(comment));
            keys.insert("version".into(), json!(version));
            keys.insert("date".into(), json!(date));
            keys.insert("state".into(), json!(state));
            keys.insert("published".into(), json!(true));
            keys.insert("source".into(), json!(f.source));
            keys.insert("checksum".into(), json!({ algo: f.hash }));
            (f.name.as_str(), keys)
        })
        .collect();
    shotline_ramses::metadata::merge(dir, entries.iter().map(|(name, keys)| (*name, keys)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_by_file_name() {
        let d = tempfile::tempdir().unwrap();
        let f = SidecarFile {
            name: "P_S_SH010_PLATE.1001.exr".into(),
            source: "/d/x.1001.exr".into(),
            hash: "ab".into(),
        };
        write_sidecar(
            d.path(),
            3,
            "WIP",
            "ingest",
            "2026-01-01T00:00:00Z",
            "xxh128",
            &[f],
        )
        .unwrap();
        let v: Value =
            serde_json::from_slice(&std::fs::read(d.path().join(SIDECAR_FILE)).unwrap()).unwrap();
        assert_eq!(v["P_S_SH010_PLATE.1001.exr"]["version"], 3);
        assert_eq!(v["P_S_SH010_PLATE.1001.exr"]["checksum"]["xxh128"], "ab");
    }

    #[test]
    fn a_resumed_ingest_keeps_what_others_wrote() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join(SIDECAR_FILE),
            r#"{"other.exr": {"comment": "theirs"},
                "P_S_SH010_PLATE.1001.exr": {"x-tool": 1}}"#,
        )
        .unwrap();
        let f = SidecarFile {
            name: "P_S_SH010_PLATE.1001.exr".into(),
            source: "/d/x.1001.exr".into(),
            hash: "ab".into(),
        };
        write_sidecar(
            d.path(),
            3,
            "WIP",
            "ingest",
            "2026-01-01T00:00:00Z",
            "xxh128",
            &[f],
        )
        .unwrap();
        let v: Value =
            serde_json::from_slice(&std::fs::read(d.path().join(SIDECAR_FILE)).unwrap()).unwrap();
        assert_eq!(v["other.exr"]["comment"], "theirs");
        assert_eq!(v["P_S_SH010_PLATE.1001.exr"]["x-tool"], 1);
        assert_eq!(v["P_S_SH010_PLATE.1001.exr"]["version"], 3);
    }
}
