//! The append-only ingest ledger: one JSON line per version created.
//!
//! The ledger answers "was this clip already ingested?" (by fingerprint, then content checksum)
//! without a database, and is an audit trail that survives database restores. Lines are written
//! with one `write` on an `O_APPEND` file and fsynced, so concurrent ingests never interleave.

use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One clip inside a ledger line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerClip {
    /// Clip key in its delivery.
    pub clip: String,
    /// Hash of the clip's file names and sizes: cheap to compute before copying.
    pub fingerprint: String,
    /// Hash of the clip's file names and content checksums.
    pub content: String,
}

/// One version created by an ingest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// RFC 3339 time of recording.
    pub time: String,
    /// The ingest job.
    pub job: String,
    /// Shot, as `SEQ/SHOT` or `SHOT`.
    pub shot: String,
    /// Step.
    pub step: String,
    /// Resource, if any.
    pub resource: Option<String>,
    /// Version number taken.
    pub version: u32,
    /// The version folder.
    pub dir: String,
    /// Files in the version (excluding sidecar, thumbnail, MHL).
    pub files: usize,
    /// Bytes copied.
    pub bytes: u64,
    /// Checksum algorithm.
    pub algo: String,
    /// The clips in this version.
    pub clips: Vec<LedgerClip>,
    /// Whether the version is registered in the tracking database. `Some(false)` (registration
    /// failed, or no database) lets a later run of the same content register the folder instead
    /// of skipping it as already ingested; a later line `Some(true)` for the same `dir` records
    /// that it was. `None` on lines written before this was recorded: assumed registered, so a
    /// version is never registered twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<bool>,
}

/// Version folders (`dir`) that no ledger line records as registered: every line for them says
/// `registered: false`. The ledger is append-only, so a registration made later is a new line.
pub fn unregistered_dirs(entries: &[LedgerEntry]) -> std::collections::HashSet<&str> {
    let mut out = std::collections::HashSet::new();
    for e in entries.iter().filter(|e| e.registered == Some(false)) {
        out.insert(e.dir.as_str());
    }
    for e in entries.iter().filter(|e| e.registered != Some(false)) {
        out.remove(e.dir.as_str());
    }
    out
}

/// Reads every entry; malformed lines are returned as errors naming the line.
pub fn read(path: &Path) -> Result<Vec<LedgerEntry>, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read ledger {}: {e}", path.display())),
    };
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read ledger {}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: LedgerEntry = serde_json::from_str(&line).map_err(|e| {
            format!(
                "ledger {} line {}: not a ledger entry: {e}",
                path.display(),
                i + 1
            )
        })?;
        out.push(e);
    }
    Ok(out)
}

/// Appends one entry as a single line and fsyncs.
pub fn append(path: &Path, entry: &LedgerEntry) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&line)?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l/ledger.jsonl");
        let e = LedgerEntry {
            time: "t".into(),
            job: "j".into(),
            shot: "SH1".into(),
            step: "PLATE".into(),
            resource: None,
            version: 1,
            dir: "/x".into(),
            files: 2,
            bytes: 3,
            algo: "xxh128".into(),
            clips: vec![],
            registered: Some(false),
        };
        append(&p, &e).unwrap();
        let read_back = read(&p).unwrap();
        assert!(unregistered_dirs(&read_back).contains("/x"));
        append(
            &p,
            &LedgerEntry {
                registered: Some(true),
                ..e.clone()
            },
        )
        .unwrap();
        let read_back = read(&p).unwrap();
        assert_eq!(read_back.len(), 2);
        assert!(unregistered_dirs(&read_back).is_empty(), "registered later");
        std::fs::write(&p, "{\"time\":\"t\",\"job\":\"j\",\"shot\":\"S\",\"step\":\"P\",\"resource\":null,\"version\":1,\"dir\":\"/y\",\"files\":1,\"bytes\":1,\"algo\":\"md5\",\"clips\":[]}\n").unwrap();
        let legacy = read(&p).unwrap();
        assert_eq!(legacy[0].registered, None);
        assert!(
            unregistered_dirs(&legacy).is_empty(),
            "old lines count as registered"
        );
        std::fs::write(&p, "{bad\n").unwrap();
        assert!(read(&p).unwrap_err().contains("line 1"));
    }
}
