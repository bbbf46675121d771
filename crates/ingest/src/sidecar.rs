//! The `_ramses_data.json` sidecar written into each version folder.
//!
//! Ramses keeps per-file metadata (comment, version, date, state) in a JSON object keyed by file
//! name next to the files; writing the same shape lets Ramses clients show ingested versions, and
//! the extra keys (source, checksum) keep the provenance with the frames.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use shotline_fsio::{write_atomic, Overwrite};

/// The sidecar file name Ramses reads.
pub const SIDECAR_FILE: &str = "_ramses_data.json";

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

/// Writes (or replaces, when resuming) the sidecar for a version folder.
#[allow(clippy::too_many_arguments)]
pub fn write_sidecar(
    dir: &Path,
    version: u32,
    state: &str,
    comment: &str,
    date: &str,
    algo: &str,
    files: &[SidecarFile],
) -> std::io::Result<()> {
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for f in files {
        map.insert(
            f.name.clone(),
            json!({
                "comment": comment,
                "version": version,
                "date": date,
                "state": state,
                "published": true,
                "source": f.source,
                "checksum": { algo: f.hash },
            }),
        );
    }
    let text = serde_json::to_string_pretty(&map).map_err(std::io::Error::other)?;
    Ok(write_atomic(
        &dir.join(SIDECAR_FILE),
        text.as_bytes(),
        Overwrite::Replace,
    )?)
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
}
